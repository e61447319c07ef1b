//! `--power`: which meter measures a run's energy, built from the flag, and
//! the lines the summary prints. A source that is missing is a message,
//! never a failed run.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::SystemTime;

use clap::Args;
use yardstick_pipeline::power_meters::{
    NvmlSource, PolledSource, PowerError, PowerTrace, RaplSource, Sampler, Work,
    DEFAULT_POWERCAP_ROOT, DEFAULT_SAMPLE_HZ,
};
use yardstick_pipeline::record::{PowerRecord, RunRecord};
use yardstick_pipeline::PowerHook;

#[derive(Debug, Clone, Args)]
pub struct PowerArgs {
    /// Measure energy over the run's window: auto (whatever this machine
    /// has: NVIDIA GPUs through NVML, else the CPU's RAPL), off, nvml,
    /// rapl[:ROOT] (ROOT: a powercap tree, default /sys/class/powercap),
    /// ptd://host:port (SPEC PTDaemon), director://host:port (MLPerf power
    /// director) [default: auto, silent when nothing is found].
    #[arg(long, value_name = "SOURCE")]
    pub power: Option<PowerChoice>,
    /// Power readings a second (NVML and RAPL).
    #[arg(long, value_name = "HZ", default_value_t = DEFAULT_SAMPLE_HZ)]
    pub power_hz: f64,
}

/// The parsed `--power` value.
#[derive(Debug, Clone, PartialEq)]
pub enum PowerChoice {
    Off,
    Auto,
    Nvml,
    Rapl(Option<PathBuf>),
    Ptd(String),
    Director(String),
}

impl FromStr for PowerChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Some(addr) = s.strip_prefix("ptd://") {
            return host_port(addr).map(PowerChoice::Ptd);
        }
        if let Some(addr) = s.strip_prefix("director://") {
            return host_port(addr).map(PowerChoice::Director);
        }
        if let Some(root) = s.strip_prefix("rapl:") {
            if root.is_empty() {
                return Err(
                    "rapl: needs a folder after the colon (rapl:/sys/class/powercap)".into(),
                );
            }
            return Ok(PowerChoice::Rapl(Some(PathBuf::from(root))));
        }
        match s {
            "off" | "none" => Ok(PowerChoice::Off),
            "auto" => Ok(PowerChoice::Auto),
            "nvml" => Ok(PowerChoice::Nvml),
            "rapl" => Ok(PowerChoice::Rapl(None)),
            other => Err(format!(
                "unknown power source {other:?}: expected auto, off, nvml, rapl[:ROOT], ptd://host:port or director://host:port"
            )),
        }
    }
}

fn host_port(addr: &str) -> Result<String, String> {
    match addr.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
            Ok(addr.to_string())
        }
        _ => Err(format!("{addr:?} is not host:port")),
    }
}

impl PowerArgs {
    /// The meter for this run, or `None` (off, or nothing available). Says
    /// on stderr what it took, or why there is none.
    pub fn open(&self) -> Option<PowerHook> {
        let hz = self.power_hz;
        let explicit = self.power.is_some();
        let sampled = |source: Box<dyn PolledSource>| {
            Some(PowerHook::new(Box::new(Sampler::new(source, hz)), Some(hz)))
        };
        let hook = match self.power.clone().unwrap_or(PowerChoice::Auto) {
            PowerChoice::Off => return None,
            PowerChoice::Auto => match auto_source() {
                Ok(source) => sampled(source),
                Err(why) => {
                    if explicit {
                        eprintln!("yardstick: power: not measured: {why}");
                    }
                    return None;
                }
            },
            PowerChoice::Nvml => match NvmlSource::open() {
                Ok(s) => sampled(Box::new(s)),
                Err(e) => return unavailable(&e),
            },
            PowerChoice::Rapl(root) => {
                let root = root.unwrap_or_else(|| PathBuf::from(DEFAULT_POWERCAP_ROOT));
                match RaplSource::open(root) {
                    Ok(s) => sampled(Box::new(s)),
                    Err(e) => return unavailable(&e),
                }
            }
            // PTDaemon samples once a second (power-dev's Go,1000).
            PowerChoice::Ptd(addr) => {
                match yardstick_pipeline::power_meters::ptd::open_meter(&addr) {
                    Ok(meter) => Some(PowerHook::new(meter, Some(1.0))),
                    Err(e) => return unavailable(&e),
                }
            }
            // The director runs the test twice: run_cmd's power_director.
            PowerChoice::Director(_) => return None,
        };
        if let Some(h) = &hook {
            match h.sample_hz() {
                Some(hz) => eprintln!("yardstick: power: {} at {hz} Hz", h.describe()),
                None => eprintln!("yardstick: power: {}", h.describe()),
            }
        }
        hook
    }
}

/// NVIDIA GPUs if NVML has any, else RAPL; why neither otherwise.
fn auto_source() -> Result<Box<dyn PolledSource>, String> {
    let nvml = match NvmlSource::open() {
        Ok(s) => return Ok(Box::new(s)),
        Err(e) => e,
    };
    match RaplSource::open(DEFAULT_POWERCAP_ROOT) {
        Ok(s) => Ok(Box::new(s)),
        Err(rapl) => Err(format!("no source on this machine ({nvml}; {rapl})")),
    }
}

fn unavailable(e: &PowerError) -> Option<PowerHook> {
    eprintln!("yardstick: power: not measured: {e}");
    None
}

/// Power around a load the front end drives itself (endpoint concurrency
/// and constant-rate points, training): the window is from just before the
/// load starts to just after it ends.
pub struct OwnLoadPower {
    hook: Option<PowerHook>,
    begin: SystemTime,
    ended: Option<(SystemTime, Result<PowerTrace, String>)>,
}

impl OwnLoadPower {
    /// Opens and starts the meter `args` ask for (if any).
    pub fn begin(args: &PowerArgs) -> Self {
        let hook = args.open();
        if let Some(h) = &hook {
            let _ = h.begin();
        }
        OwnLoadPower {
            hook,
            begin: SystemTime::now(),
            ended: None,
        }
    }

    /// Stops the meter: call as soon as the load ends.
    pub fn end(&mut self) {
        if let Some(h) = &self.hook {
            let end = SystemTime::now();
            self.ended = Some((end, h.end()));
        }
    }

    /// Fills `record.power` (samples and tokens done in the window), writes
    /// the trace to `trace_file` and prints the summary lines.
    pub fn finish(self, record: &mut RunRecord, samples: u64, tokens: u64, trace_file: &Path) {
        self.finish_in(record, None, samples, tokens, trace_file);
    }

    /// As [`finish`](Self::finish), with the energy counted over `window`
    /// (wall-clock begin and end) instead of the whole load: training's
    /// energy-to-train is from `run_start` to `run_stop`, as its
    /// time-to-train.
    pub fn finish_in(
        mut self,
        record: &mut RunRecord,
        window: Option<(SystemTime, SystemTime)>,
        samples: u64,
        tokens: u64,
        trace_file: &Path,
    ) {
        if self.ended.is_none() {
            self.end();
        }
        let (Some(hook), Some((end, trace))) = (self.hook, self.ended) else {
            return;
        };
        hook.record_trace(
            record,
            trace,
            Some(window.unwrap_or((self.begin, end))),
            Work::Samples(samples),
            Some(tokens).filter(|&t| t > 0),
            Some(trace_file),
        );
        if let Some(p) = &record.power {
            print_power_summary(p);
        }
    }
}

/// The summary's power lines.
pub fn print_power_summary(power: &PowerRecord) {
    println!("  power source            : {}", power.source);
    if let Some(e) = &power.error {
        println!("  power                   : not measured ({e})");
    }
    if let (Some(w), Some(j), Some(s)) = (power.mean_watts, power.joules, power.window_seconds) {
        println!(
            "  energy                  : {j:.1} J over {s:.2} s, mean {w:.1} W ({} samples)",
            power.samples_in_window
        );
    }
    if let Some(c) = power.counter_joules {
        println!("  energy (hw counter)     : {c:.1} J");
    }
    if let Some(v) = power.samples_per_joule {
        println!("  samples per joule       : {v:.3}");
    }
    if let Some(v) = power.millijoules_per_query {
        println!("  millijoules per query   : {v:.3}");
    }
    if let Some(v) = power.tokens_per_joule {
        println!("  tokens per joule        : {v:.3}");
    }
    for n in &power.notes {
        println!("  power note              : {n}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling() {
        let p = |s: &str| s.parse::<PowerChoice>();
        assert_eq!(p("off"), Ok(PowerChoice::Off));
        assert_eq!(p("auto"), Ok(PowerChoice::Auto));
        assert_eq!(p("nvml"), Ok(PowerChoice::Nvml));
        assert_eq!(p("rapl"), Ok(PowerChoice::Rapl(None)));
        assert_eq!(
            p("rapl:/tmp/fake"),
            Ok(PowerChoice::Rapl(Some(PathBuf::from("/tmp/fake"))))
        );
        assert_eq!(
            p("ptd://10.0.0.2:8888"),
            Ok(PowerChoice::Ptd("10.0.0.2:8888".into()))
        );
        assert_eq!(
            p("director://meter.lan:4950"),
            Ok(PowerChoice::Director("meter.lan:4950".into()))
        );
        assert!(p("ptd://nohost").unwrap_err().contains("host:port"));
        assert!(p("rapl:").is_err());
        assert!(p("watts").unwrap_err().contains("unknown power source"));
    }

    #[test]
    fn a_ptd_address_nobody_listens_on_is_no_meter_not_an_error() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let args = PowerArgs {
            power: Some(PowerChoice::Ptd(format!("127.0.0.1:{port}"))),
            power_hz: 10.0,
        };
        assert!(args.open().is_none());
    }

    #[test]
    fn a_missing_rapl_tree_is_no_meter_not_an_error() {
        let args = PowerArgs {
            power: Some(PowerChoice::Rapl(Some("/nonexistent/powercap".into()))),
            power_hz: 10.0,
        };
        assert!(args.open().is_none());
        let off = PowerArgs {
            power: Some(PowerChoice::Off),
            power_hz: 10.0,
        };
        assert!(off.open().is_none());
    }
}

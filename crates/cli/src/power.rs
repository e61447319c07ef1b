//! `--power`: which meter measures a run's energy, built from the flag, and
//! the lines the summary prints. A source that is missing is a message,
//! never a failed run.

use std::path::Path;
use std::time::SystemTime;

use clap::Args;
use yardstick_pipeline::power_meters::{PowerTrace, Work, DEFAULT_SAMPLE_HZ};
use yardstick_pipeline::record::{PowerRecord, RunRecord};
use yardstick_pipeline::{
    open_power, power_opened_line, power_summary_lines, PowerHook, PowerUnavailable,
};
// The parsing is shared with the Python module (YARDSTICK_POWER).
pub use yardstick_pipeline::PowerChoice;

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

impl PowerArgs {
    /// The meter for this run, or `None` (off, or nothing available). Says
    /// on stderr what it took, or why there is none.
    pub fn open(&self) -> Option<PowerHook> {
        let explicit = self.power.is_some();
        let choice = self.power.clone().unwrap_or(PowerChoice::Auto);
        match open_power(&choice, self.power_hz) {
            Ok(Some(hook)) => {
                eprintln!("yardstick: {}", power_opened_line(&hook));
                Some(hook)
            }
            Ok(None) => None,
            // `auto` is silent when nothing is found, unless asked for.
            Err(PowerUnavailable::NoneFound { .. }) if !explicit => None,
            Err(e) => {
                eprintln!("yardstick: power: not measured: {e}");
                None
            }
        }
    }
}

/// Why a load the front end drives itself takes no `director://`.
pub const DIRECTOR_NEEDS_LOADGEN: &str = "the MLPerf power protocol runs the workload twice (a ranging run, then the testing run), which yardstick does for LoadGen-driven tests only (`yardstick run`, `yardstick endpoint --load poisson|scenario`); a training job would train twice for one result. Use ptd://host:port for a direct PTDaemon connection";

/// Power around a load the front end drives itself (endpoint concurrency
/// and constant-rate points, training): the window is from just before the
/// load starts to just after it ends.
pub struct OwnLoadPower {
    hook: Option<PowerHook>,
    begin: SystemTime,
    ended: Option<(SystemTime, Result<PowerTrace, String>)>,
}

impl OwnLoadPower {
    /// Opens and starts the meter `args` ask for (if any). `director://`
    /// is refused with a message (see [`DIRECTOR_NEEDS_LOADGEN`]).
    pub fn begin(args: &PowerArgs) -> Self {
        if let Some(PowerChoice::Director(addr)) = &args.power {
            eprintln!(
                "yardstick: power: director://{addr}: not measured: {DIRECTOR_NEEDS_LOADGEN}"
            );
        }
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
    for line in power_summary_lines(power) {
        println!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

//! Which meter measures a run, for every front end: the `--power` (CLI) or
//! `YARDSTICK_POWER` (Python module) value parsed, the meter it names
//! opened, and the summary lines printed after the test. A source that is
//! missing is an error value for the front end to print, never a failed run.

use std::path::PathBuf;
use std::str::FromStr;

use yardstick_power::{
    NvmlSource, PolledSource, PowerError, RaplSource, Sampler, DEFAULT_POWERCAP_ROOT,
};
use yardstick_record::PowerRecord;

use crate::PowerHook;

/// A parsed power setting: `auto`, `off` (or `none`), `nvml`,
/// `rapl[:ROOT]`, `ptd://host:port`, `director://host:port`.
#[derive(Debug, Clone, PartialEq)]
pub enum PowerChoice {
    Off,
    Auto,
    Nvml,
    Rapl(Option<PathBuf>),
    Ptd(String),
    Director(String),
}

/// A power setting that is not one of the spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PowerChoiceError {
    #[error("unknown power source {0:?}: expected auto, off, nvml, rapl[:ROOT], ptd://host:port or director://host:port")]
    Unknown(String),
    #[error("{0:?} is not host:port")]
    NotHostPort(String),
    #[error("rapl: needs a folder after the colon (rapl:/sys/class/powercap)")]
    EmptyRaplRoot,
}

impl FromStr for PowerChoice {
    type Err = PowerChoiceError;

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
                return Err(PowerChoiceError::EmptyRaplRoot);
            }
            return Ok(PowerChoice::Rapl(Some(PathBuf::from(root))));
        }
        match s {
            "off" | "none" => Ok(PowerChoice::Off),
            "auto" => Ok(PowerChoice::Auto),
            "nvml" => Ok(PowerChoice::Nvml),
            "rapl" => Ok(PowerChoice::Rapl(None)),
            other => Err(PowerChoiceError::Unknown(other.to_string())),
        }
    }
}

fn host_port(addr: &str) -> Result<String, PowerChoiceError> {
    match addr.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
            Ok(addr.to_string())
        }
        _ => Err(PowerChoiceError::NotHostPort(addr.to_string())),
    }
}

/// Why the chosen meter could not be opened (the run goes on unmeasured).
#[derive(Debug, thiserror::Error)]
pub enum PowerUnavailable {
    #[error(transparent)]
    Source(#[from] PowerError),
    #[error("no source on this machine ({nvml}; {rapl})")]
    NoneFound {
        nvml: Box<PowerError>,
        rapl: Box<PowerError>,
    },
}

/// Opens the meter `choice` names, sampling polled sources (NVML, RAPL) at
/// `sample_hz`. `Ok(None)` for `off`, and for `director://`, which runs the
/// test twice and is the front end's to drive.
pub fn open_power(
    choice: &PowerChoice,
    sample_hz: f64,
) -> Result<Option<PowerHook>, PowerUnavailable> {
    let sampled = |source: Box<dyn PolledSource>| {
        Some(PowerHook::new(
            Box::new(Sampler::new(source, sample_hz)),
            Some(sample_hz),
        ))
    };
    Ok(match choice {
        PowerChoice::Off | PowerChoice::Director(_) => None,
        PowerChoice::Auto => sampled(auto_source()?),
        PowerChoice::Nvml => sampled(Box::new(NvmlSource::open()?)),
        PowerChoice::Rapl(root) => {
            let root = root
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_POWERCAP_ROOT));
            sampled(Box::new(RaplSource::open(root)?))
        }
        // PTDaemon samples once a second (power-dev's Go,1000).
        PowerChoice::Ptd(addr) => Some(PowerHook::new(
            yardstick_power::ptd::open_meter(addr)?,
            Some(1.0),
        )),
    })
}

/// NVIDIA GPUs if NVML has any, else RAPL; why neither otherwise.
fn auto_source() -> Result<Box<dyn PolledSource>, PowerUnavailable> {
    let nvml = match NvmlSource::open() {
        Ok(s) => return Ok(Box::new(s)),
        Err(e) => e,
    };
    match RaplSource::open(DEFAULT_POWERCAP_ROOT) {
        Ok(s) => Ok(Box::new(s)),
        Err(rapl) => Err(PowerUnavailable::NoneFound {
            nvml: Box::new(nvml),
            rapl: Box::new(rapl),
        }),
    }
}

/// The line that says which meter a run took.
pub fn power_opened_line(hook: &PowerHook) -> String {
    match hook.sample_hz() {
        Some(hz) => format!("power: {} at {hz} Hz", hook.describe()),
        None => format!("power: {}", hook.describe()),
    }
}

/// The summary's power lines, as every front end prints them.
pub fn power_summary_lines(power: &PowerRecord) -> Vec<String> {
    let mut lines = vec![format!("  power source            : {}", power.source)];
    if let Some(e) = &power.error {
        lines.push(format!("  power                   : not measured ({e})"));
    }
    if let (Some(w), Some(j), Some(s)) = (power.mean_watts, power.joules, power.window_seconds) {
        lines.push(format!(
            "  energy                  : {j:.1} J over {s:.2} s, mean {w:.1} W ({} samples)",
            power.samples_in_window
        ));
    }
    if let Some(c) = power.counter_joules {
        lines.push(format!("  energy (hw counter)     : {c:.1} J"));
    }
    if let Some(v) = power.samples_per_joule {
        lines.push(format!("  samples per joule       : {v:.3}"));
    }
    if let Some(v) = power.millijoules_per_query {
        lines.push(format!("  millijoules per query   : {v:.3}"));
    }
    if let Some(v) = power.tokens_per_joule {
        lines.push(format!("  tokens per joule        : {v:.3}"));
    }
    for n in &power.notes {
        lines.push(format!("  power note              : {n}"));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling() {
        let p = |s: &str| s.parse::<PowerChoice>();
        assert_eq!(p("off"), Ok(PowerChoice::Off));
        assert_eq!(p("none"), Ok(PowerChoice::Off));
        assert_eq!(p(" auto "), Ok(PowerChoice::Auto));
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
        assert_eq!(
            p("ptd://nohost"),
            Err(PowerChoiceError::NotHostPort("nohost".into()))
        );
        assert_eq!(p("rapl:"), Err(PowerChoiceError::EmptyRaplRoot));
        let unknown = p("watts").unwrap_err();
        assert!(unknown
            .to_string()
            .contains("unknown power source \"watts\""));
    }

    #[test]
    fn a_ptd_address_nobody_listens_on_is_unavailable() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let choice = PowerChoice::Ptd(format!("127.0.0.1:{port}"));
        assert!(matches!(
            open_power(&choice, 10.0),
            Err(PowerUnavailable::Source(_))
        ));
    }

    #[test]
    fn a_missing_rapl_tree_is_unavailable_and_off_is_no_meter() {
        let choice = PowerChoice::Rapl(Some("/nonexistent/powercap".into()));
        assert!(matches!(
            open_power(&choice, 10.0),
            Err(PowerUnavailable::Source(_))
        ));
        assert!(matches!(open_power(&PowerChoice::Off, 10.0), Ok(None)));
    }
}

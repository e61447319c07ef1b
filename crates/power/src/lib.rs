//! yardstick-power: energy beside every result.
//!
//! A leaf adapter: it knows nothing of the load generator. A front end
//! starts a meter before the test, stops it after, and cuts the trace to the
//! run's measured window (`power_begin` to `power_end`).

use std::time::SystemTime;

/// The MLPerf power protocol: power-dev's director and SPEC PTDaemon.
pub mod ptd;

/// One power reading, stamped with the wall clock (the clock LoadGen's
/// `power_begin`/`power_end` marks use, so a trace and a run line up).
#[derive(Debug, Clone, PartialEq)]
pub struct PowerSample {
    /// When the reading was taken.
    pub wall: SystemTime,
    /// Total watts over every channel the meter reads.
    pub watts: f64,
}

/// Everything one meter measured between `start` and `stop`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PowerTrace {
    /// What was measured, e.g. `nvml: 1 GPU` or `ptd://10.0.0.2:8888`.
    pub source: String,
    /// The readings, in time order.
    pub samples: Vec<PowerSample>,
    /// Energy from the hardware's own counter over start..stop (NVML's
    /// total-energy counter, RAPL's energy_uj), where the source has one.
    pub counter_joules: Option<f64>,
    /// Anything the user should know (a channel that could not be read...).
    pub notes: Vec<String>,
}

/// A source of power measurements over one run. `start` before the test,
/// `stop` after it; a meter samples off the caller's thread.
pub trait PowerMeter: Send {
    /// What this meter measures, for the run's summary and record.
    fn describe(&self) -> String;
    /// Begin measuring.
    fn start(&mut self) -> Result<(), PowerError>;
    /// Stop measuring and hand back the whole trace.
    fn stop(&mut self) -> Result<PowerTrace, PowerError>;
}

/// Why power could not be measured. A run never fails for it: the front end
/// reports the error and keeps the performance result.
#[derive(Debug, thiserror::Error)]
pub enum PowerError {
    /// The source is not on this machine (no NVML library, no powercap tree).
    #[error("{source_name} is not available here: {reason}")]
    Unavailable {
        /// `nvml`, `rapl`, ...
        source_name: String,
        /// Why, in a sentence.
        reason: String,
    },
    /// Reading a file of the source failed.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

//! yardstick-power: energy beside every result.
//!
//! A leaf adapter: it knows nothing of the load generator. A front end
//! starts a meter before the test, stops it after, and cuts the trace to the
//! run's measured window (`power_begin` to `power_end`).

use std::time::SystemTime;

/// The MLPerf power protocol: power-dev's director and SPEC PTDaemon.
pub mod ptd;

mod energy;
mod nvml;
mod rapl;
mod sampler;
mod trace_csv;

pub use energy::{efficiency, energy_over_window, Efficiency, EnergyError, EnergySummary, Work};
pub use nvml::NvmlSource;
pub use rapl::{RaplSource, DEFAULT_POWERCAP_ROOT};
pub use sampler::{PolledSource, Reading, Sampler, DEFAULT_SAMPLE_HZ};
pub use trace_csv::{read_trace_csv, write_trace_csv};

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
    /// The hardware counter's readings, cumulative joules since the first,
    /// so energy can be cut to the run's window (empty when the source has
    /// no counter).
    pub counter: Vec<CounterReading>,
    /// The names of the channels `samples` sums (one per GPU for NVML,
    /// e.g. `gpu0`), where the source reads them apart; empty otherwise.
    pub channel_names: Vec<String>,
    /// Each channel's watts, one entry per name, at the readings' times.
    pub channels: Vec<ChannelSample>,
}

/// The watts of each channel a reading summed, in
/// [`PowerTrace::channel_names`]' order.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelSample {
    /// When the reading was taken (the same time as its total's sample).
    pub wall: SystemTime,
    /// One value per channel.
    pub watts: Vec<f64>,
}

/// One reading of an energy counter: joules accumulated since the meter's
/// first reading (wrap-around already undone).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CounterReading {
    /// When the counter was read.
    pub wall: SystemTime,
    /// Joules since the first reading.
    pub joules: f64,
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
    /// A file of the source exists but may not be read (RAPL's energy_uj
    /// is root-only on most kernels since CVE-2020-8694).
    #[error("cannot read {path} ({source}): on most kernels RAPL counters are readable by root only; run as root or grant read access (chmod o+r {path})")]
    Unreadable {
        /// The file.
        path: std::path::PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A file of the source held something other than a number.
    #[error("{path} holds {content:?}, not a counter value")]
    Malformed {
        /// The file.
        path: std::path::PathBuf,
        /// What it held.
        content: String,
    },
    /// An NVML call failed.
    #[error("NVML: {0}")]
    Nvml(#[source] nvml_wrapper::error::NvmlError),
    /// `start` on a meter already measuring, or `stop` on one that is not.
    #[error("the meter is {0}")]
    WrongState(&'static str),
    /// The sampling thread panicked; its readings are lost.
    #[error("the power sampling thread panicked")]
    SamplerPanicked,
    /// The MLPerf power protocol failed (PTDaemon or power-dev's director).
    #[error(transparent)]
    Ptd(#[from] ptd::PtdError),
}

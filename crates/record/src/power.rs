//! The `power` section of a run record: the energy of the run's measured
//! window and a small power-over-time series for the report.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Power and energy over the run's measured window (`power_begin` to
/// `power_end`), computed as MLPerf's power checker does: mean of the
/// samples inside the window, times its length.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct PowerRecord {
    /// What was measured (`nvml: 1 GPU (NVIDIA H100 80GB HBM3)`,
    /// `rapl: package-0 + dram`, `ptd://host:8888`).
    pub source: String,
    /// Readings a second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_hz: Option<f64>,
    /// Why nothing (or less) was measured: the meter could not start, or
    /// no sample fell inside the window. The performance result stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The window's length, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_seconds: Option<f64>,
    /// Samples inside the window.
    #[serde(default)]
    pub samples_in_window: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_watts: Option<f64>,
    /// `mean_watts * window_seconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joules: Option<f64>,
    /// The hardware's own energy counter over the same window (NVML's
    /// total-energy counter, RAPL's energy_uj), where the source has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counter_joules: Option<f64>,
    /// Offline and Server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples_per_joule: Option<f64>,
    /// SingleStream and MultiStream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub millijoules_per_query: Option<f64>,
    /// Runs that count tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_joule: Option<f64>,
    /// The raw trace (`power_trace.csv` beside `run.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_file: Option<PathBuf>,
    /// Power over time, thinned to a few hundred points for the report:
    /// `[seconds from power_begin, watts]` (negative before the window).
    #[serde(default)]
    pub series: Vec<[f64; 2]>,
    #[serde(default)]
    pub notes: Vec<String>,
}

//! The server's own metrics (its Prometheus `/metrics`), scraped while a
//! run measured it, kept beside the client's numbers.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What the server said about itself during the run: its gauges (running
/// and waiting requests, KV-cache use) summarised, its counters (tokens
/// processed, prefix-cache hits) as deltas over the run and rates, and a
/// time series for charts. Engine-specific names are mapped to the
/// canonical names below (`running_requests` from `vllm:num_requests_running`,
/// `sglang:num_running_reqs`, ...), summed over label sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServerMetrics {
    /// The URL scraped.
    pub url: String,
    pub status: ServerMetricsStatus,
    /// Why nothing was scraped (status `skipped`): the HTTP status, the
    /// connection error, or the line that is not Prometheus text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped_reason: Option<String>,
    /// The time between scrapes.
    pub interval_seconds: f64,
    /// Engines whose metric names were recognised (`vllm`, `sglang`, `tgi`,
    /// `llamacpp`, `triton`, `yardstick-mock`).
    #[serde(default)]
    pub engines: Vec<String>,
    /// Scrapes that answered with Prometheus text.
    pub scrapes: u64,
    /// Scrapes that failed after the first one succeeded (counted, not
    /// fatal).
    #[serde(default)]
    pub failed_scrapes: u64,
    /// The first failed scrape's error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
    /// Seconds between the first and the last successful scrape: the window
    /// the counter deltas cover.
    #[serde(default)]
    pub window_seconds: f64,
    /// Gauges over every scrape of the run.
    #[serde(default)]
    pub gauges: Vec<ServerGauge>,
    /// Counters: increase over the window (resets counted as restarts from
    /// zero) and its rate.
    #[serde(default)]
    pub counters: Vec<ServerCounter>,
    /// Prefix-cache hit rate over the window, 0..1: hit tokens / queried
    /// tokens from the counter deltas (vLLM), else the mean of the
    /// engine's own hit-rate gauge (SGLang).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_cache_hit_rate: Option<f64>,
    /// Per scrape, for charts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<ServerMetricsSeries>,
    /// The raw samples (every recognised series, with its labels, per
    /// scrape), where they were written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServerMetricsStatus {
    /// At least one scrape succeeded.
    Scraped,
    /// The first scrape failed (no `/metrics`, not Prometheus text): the
    /// run went on without server metrics.
    Skipped,
}

/// One gauge over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServerGauge {
    /// Canonical name: `running_requests`, `waiting_requests`,
    /// `kv_cache_usage`, `prefix_cache_hit_rate`.
    pub name: String,
    /// The server's own metric name(s) it was read from.
    pub sources: Vec<String>,
    /// `requests`, or `1` for fractions (0..1).
    pub unit: String,
    /// Scrapes that had it.
    pub samples: u64,
    pub min: f64,
    pub mean: f64,
    pub max: f64,
}

/// One counter over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServerCounter {
    /// Canonical name: `prompt_tokens`, `generation_tokens`,
    /// `prefix_cache_queries`, `prefix_cache_hits`, `requests_finished`,
    /// `inferences`, `executions`.
    pub name: String,
    pub sources: Vec<String>,
    /// `tokens`, `requests`, `inferences`, `executions`.
    pub unit: String,
    /// Increase over the window.
    pub delta: f64,
    /// `delta` / the window's seconds (0 for a window of one scrape).
    pub per_second: f64,
}

/// Values per scrape: `t_seconds[i]` from the first scrape, and for each
/// canonical gauge its value and for each counter its rate since the
/// previous scrape (`<name>_per_second`); `None` where a scrape lacked it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServerMetricsSeries {
    pub t_seconds: Vec<f64>,
    pub values: BTreeMap<String, Vec<Option<f64>>>,
}

impl ServerMetrics {
    /// The gauge named `name`, if the server had it.
    pub fn gauge(&self, name: &str) -> Option<&ServerGauge> {
        self.gauges.iter().find(|g| g.name == name)
    }

    /// The counter named `name`, if the server had it.
    pub fn counter(&self, name: &str) -> Option<&ServerCounter> {
        self.counters.iter().find(|c| c.name == name)
    }
}

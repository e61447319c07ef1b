//! LoadGen's `TestSettingsInternal`: the settings a run actually uses, derived
//! from the requested [`TestSettings`] and the sample library's counts.

use super::TestSettings;
use crate::{Mode, Scenario};

/// The reconciled settings of a run (LoadGen's `TestSettingsInternal`).
/// Durations are kept in LoadGen's units: latencies in ns, durations in ms.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveSettings {
    pub requested: TestSettings,
    pub scenario: Scenario,
    pub mode: Mode,
    pub samples_per_query: u64,
    pub target_qps: f64,
    pub target_latency_ns: i64,
    pub target_latency_percentile: f64,
    pub max_async_queries: u64,
    pub target_duration_ms: u64,
    pub min_duration_ms: u64,
    pub max_duration_ms: u64,
    pub min_query_count: u64,
    pub max_query_count: u64,
    /// Offline only.
    pub min_sample_count: u64,
    pub qsl_rng_seed: u64,
    pub sample_index_rng_seed: u64,
    pub schedule_rng_seed: u64,
    pub accuracy_log_rng_seed: u64,
    pub accuracy_log_probability: f64,
    pub accuracy_log_sampling_target: u64,
    pub print_timestamps: bool,
    pub performance_issue_unique: bool,
    pub performance_issue_same: bool,
    pub performance_issue_same_index: u64,
    pub performance_sample_count: u64,
    pub accuracy_sample_count: u64,
    pub sample_concatenate_permutation: bool,
    pub use_token_latencies: bool,
    pub server_ttft_latency: i64,
    pub server_tpot_latency: i64,
    pub infer_token_latencies: bool,
    pub token_latency_scaling_factor: i64,
}

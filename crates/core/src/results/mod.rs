//! Turning a run's timings into LoadGen's results: percentiles, means, the
//! min-duration / min-query / latency-constraint checks and early stopping.

pub mod early_stopping;
pub mod summary;

pub use summary::PerformanceSummary;

/// Latencies are nanoseconds, as LoadGen's `QuerySampleLatency` (int64).
pub type Latency = i64;

/// The raw outcome of one performance run, LoadGen's `PerformanceResult`.
/// Produced by `run`, consumed by [`PerformanceSummary::new`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PerformanceResult {
    /// One latency per issued sample (completion - scheduled time), in
    /// sample sequence order.
    pub sample_latencies: Vec<Latency>,
    /// MultiStream only: one latency per issued query.
    pub query_latencies: Vec<Latency>,
    pub queries_issued: usize,
    /// Seconds.
    pub max_latency: f64,
    /// Seconds from the start of issuing.
    pub final_query_scheduled_time: f64,
    /// Seconds from the start of issuing.
    pub final_query_issued_time: f64,
    /// Seconds from the start of issuing.
    pub final_query_all_samples_done_time: f64,
    /// Token metrics; empty unless the test uses token latencies.
    pub token_results: TokenPerformanceResults,
}

/// LoadGen's `TokenPerformanceResults`, in sample sequence order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenPerformanceResults {
    /// Time to first token per sample (ns, from the scheduled time).
    pub first_token_latencies: Vec<Latency>,
    /// (latency - TTFT) / (n_tokens - 1) per sample, integer division as LoadGen.
    pub time_per_output_token: Vec<Latency>,
    pub tokens_per_sample: Vec<i64>,
}

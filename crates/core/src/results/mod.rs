//! Turning a run's timings into LoadGen's results: percentiles, means, the
//! min-duration / min-query / latency-constraint checks and early stopping.

pub mod early_stopping;
pub(crate) mod float_serde;
pub mod summary;
pub mod wall_time;

pub use summary::PerformanceSummary;

use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

/// Latencies are nanoseconds, as LoadGen's `QuerySampleLatency` (int64).
pub type Latency = i64;

/// The raw outcome of one performance run, LoadGen's `PerformanceResult`.
/// Produced by `run`, consumed by [`PerformanceSummary::new`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenPerformanceResults {
    /// Time to first token per sample (ns, from the scheduled time).
    pub first_token_latencies: Vec<Latency>,
    /// (latency - TTFT) / (n_tokens - 1) per sample, integer division as LoadGen.
    pub time_per_output_token: Vec<Latency>,
    pub tokens_per_sample: Vec<i64>,
}

/// A run that was stopped before it finished (a stop was requested through
/// `RunOptions::stop`, e.g. on Ctrl-C): its result is INVALID whatever its
/// numbers say, and the remaining runs of the test were skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interruption {
    /// When the stop was requested (wall clock).
    pub at: SystemTime,
    /// Queries handed to the SUT before issuing stopped.
    pub queries_issued: u64,
    /// Queries the run had generated (would have issued at most).
    pub queries_planned: u64,
    /// Issued samples that had still not answered when the bounded wait
    /// for them (`RunOptions::drain_timeout`) ended; they are left out of
    /// the statistics.
    pub samples_unanswered: u64,
}

impl Interruption {
    /// The reason printed with the INVALID verdict:
    /// `interrupted at <RFC 3339 time>, N of M queries issued`.
    pub fn reason(&self) -> String {
        format!(
            "interrupted at {}, {} of {} queries issued",
            wall_time::rfc3339_millis(self.at),
            self.queries_issued,
            self.queries_planned
        )
    }
}

impl std::fmt::Display for Interruption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason())
    }
}

/// The measured window of one run: LoadGen's `power_begin` (issuing
/// starts) to `power_end` (the SUT's last completion), as data, so a power
/// sampler or a run record can cut its own measurements to it.
///
/// Both ends come from one monotonic measurement: `end_wall` is
/// `begin_wall + active_ns`, exactly as the detail log's `power_end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunWindow {
    /// `power_begin`: the wall-clock time issuing started.
    pub begin_wall: SystemTime,
    /// `power_end`: the wall-clock time of the last completion.
    pub end_wall: SystemTime,
    /// Nanoseconds from issuing's start to the last completion, on the
    /// monotonic clock (0 when nothing completed).
    pub active_ns: u64,
    /// The monotonic instant issuing started, for in-process samplers that
    /// stamp with `Instant` (the origin of every `*_ns` of the run's
    /// timeline). Not serialized: an `Instant` means nothing in another
    /// process.
    #[serde(skip)]
    pub begin: Option<Instant>,
}

impl RunWindow {
    /// The window from `begin` (wall and monotonic) lasting `active_ns`.
    pub fn new(begin_wall: SystemTime, begin: Instant, active_ns: u64) -> Self {
        RunWindow {
            begin_wall,
            end_wall: begin_wall + Duration::from_nanos(active_ns),
            active_ns,
            begin: Some(begin),
        }
    }

    /// The monotonic instant of the last completion, where known.
    pub fn end(&self) -> Option<Instant> {
        self.begin.map(|b| b + Duration::from_nanos(self.active_ns))
    }

    /// Whether the wall-clock time `t` falls inside the window (both ends
    /// included).
    pub fn contains_wall(&self, t: SystemTime) -> bool {
        self.begin_wall <= t && t <= self.end_wall
    }
}

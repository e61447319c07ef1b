//! What the core wants logged, as structured events. The core never formats
//! a file: adapters implement [`LogSink`] (the `yardstick-logs` crate writes
//! LoadGen's `mlperf_log_*` files from these events).

pub mod event;
pub mod timeline;

pub use event::{AccuracyEntry, DetailEvent, EventType, Severity};
pub use timeline::RunTimeline;

use crate::results::{Interruption, PerformanceSummary};

/// Receives everything the core logs. Implementations must be cheap and
/// non-blocking enough to call from SUT threads (accuracy entries arrive from
/// whichever thread completes a sample).
pub trait LogSink: Send + Sync {
    /// A detail-log event.
    fn detail(&self, event: DetailEvent);
    /// A response to record in the accuracy log.
    fn accuracy(&self, entry: AccuracyEntry<'_>);
    /// The results of one performance run, once, when it has finished.
    fn summary(&self, summary: &PerformanceSummary);
    /// The per-sample timeline of one run, when the sink asked for it
    /// (`wants_timeline`): used for the Chrome trace and query records.
    fn timeline(&self, _timeline: &RunTimeline<'_>) {}
    /// The test was stopped early (see `RunOptions::stop`); called once
    /// per stopped run, after its error event and before its summary, if
    /// any. A writer that renders a result without a performance summary (a
    /// stopped accuracy run) needs it to say INVALID and why.
    fn interrupted(&self, _interruption: &Interruption) {}
    /// Error events logged so far (LoadGen's `num_errors`, written after
    /// each result); sinks that do not count report 0.
    fn error_count(&self) -> usize {
        0
    }
    /// Whether [`LogSink::timeline`] should be called (it costs 8 bytes per
    /// query during the run to keep issue times).
    fn wants_timeline(&self) -> bool {
        false
    }
}

/// A sink that drops everything; for tests and benchmarks of the core.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullSink;

impl LogSink for NullSink {
    fn detail(&self, _event: DetailEvent) {}
    fn accuracy(&self, _entry: AccuracyEntry<'_>) {}
    fn summary(&self, _summary: &PerformanceSummary) {}
}

/// An accuracy-log entry kept by [`MemorySink`]: (seq_id, qsl_idx, data, token_count).
pub type OwnedAccuracyEntry = (u64, u64, Vec<u8>, Option<i64>);

/// A sink that keeps detail events in memory; for tests.
#[derive(Debug, Default)]
pub struct MemorySink {
    pub details: std::sync::Mutex<Vec<DetailEvent>>,
    pub accuracy: std::sync::Mutex<Vec<OwnedAccuracyEntry>>,
    pub summaries: std::sync::Mutex<Vec<PerformanceSummary>>,
    pub interruptions: std::sync::Mutex<Vec<Interruption>>,
}

impl MemorySink {
    /// The value of the last detail event with this key.
    pub fn value(&self, key: &str) -> Option<serde_json::Value> {
        let details = self.details.lock().unwrap_or_else(|e| e.into_inner());
        details
            .iter()
            .rev()
            .find(|e| e.key == key)
            .map(|e| e.value.clone())
    }
}

impl LogSink for MemorySink {
    fn detail(&self, event: DetailEvent) {
        self.details
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event);
    }
    fn accuracy(&self, e: AccuracyEntry<'_>) {
        self.accuracy
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((e.seq_id, e.qsl_idx, e.data.to_vec(), e.token_count));
    }
    fn summary(&self, summary: &PerformanceSummary) {
        self.summaries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(summary.clone());
    }
    fn interrupted(&self, interruption: &Interruption) {
        self.interruptions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(interruption.clone());
    }
}

//! What the core wants logged, as structured events. The core never formats
//! a file: adapters implement [`LogSink`] (the `yardstick-logs` crate writes
//! LoadGen's `mlperf_log_*` files from these events).

use std::borrow::Cow;

/// LoadGen's event types in the detail log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    PointInTime,
    IntervalStart,
    IntervalEnd,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::PointInTime => "POINT_IN_TIME",
            EventType::IntervalStart => "INTERVAL_START",
            EventType::IntervalEnd => "INTERVAL_END",
        }
    }
}

/// How serious a detail event is: errors and warnings are counted and
/// reported at the end of the summary, as LoadGen does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// One `:::MLLOG` line of the detail log.
#[derive(Debug, Clone, PartialEq)]
pub struct DetailEvent {
    pub key: Cow<'static, str>,
    pub value: serde_json::Value,
    pub event_type: EventType,
    pub severity: Severity,
    /// Nanoseconds since the log started (the sink's clock if `None`).
    pub elapsed_ns: Option<u64>,
    /// Where in yardstick the event was raised (`file!()`, `line!()`).
    pub file: &'static str,
    pub line: u32,
}

impl DetailEvent {
    #[track_caller]
    pub fn new(key: impl Into<Cow<'static, str>>, value: impl Into<serde_json::Value>) -> Self {
        let loc = std::panic::Location::caller();
        DetailEvent {
            key: key.into(),
            value: value.into(),
            event_type: EventType::PointInTime,
            severity: Severity::Info,
            elapsed_ns: None,
            file: loc.file(),
            line: loc.line(),
        }
    }

    #[track_caller]
    pub fn warning(key: impl Into<Cow<'static, str>>, value: impl Into<serde_json::Value>) -> Self {
        DetailEvent {
            severity: Severity::Warning,
            ..DetailEvent::new(key, value)
        }
    }

    #[track_caller]
    pub fn error(key: impl Into<Cow<'static, str>>, value: impl Into<serde_json::Value>) -> Self {
        DetailEvent {
            severity: Severity::Error,
            ..DetailEvent::new(key, value)
        }
    }

    pub fn with_type(mut self, event_type: EventType) -> Self {
        self.event_type = event_type;
        self
    }
}

/// One response logged to the accuracy log.
#[derive(Debug, Clone, PartialEq)]
pub struct AccuracyEntry<'a> {
    /// The sample's sequence id within the whole test.
    pub seq_id: u64,
    /// The sample's index in the sample library.
    pub qsl_idx: u64,
    pub data: &'a [u8],
    /// Present when the test uses token latencies.
    pub token_count: Option<i64>,
    /// The first-token response, when the test uses token latencies in a
    /// scenario that reports first tokens (all but Offline).
    pub token_data: Option<&'a [u8]>,
}

/// Receives everything the core logs. Implementations must be cheap and
/// non-blocking enough to call from SUT threads (accuracy entries arrive from
/// whichever thread completes a sample).
pub trait LogSink: Send + Sync {
    /// A detail-log event.
    fn detail(&self, event: DetailEvent);
    /// A response to record in the accuracy log.
    fn accuracy(&self, entry: AccuracyEntry<'_>);
    /// The results of one performance run, once, when it has finished.
    fn summary(&self, summary: &crate::results::PerformanceSummary);
    /// The per-sample timeline of one run, when the sink asked for it
    /// (`wants_timeline`): used for the Chrome trace and query records.
    fn timeline(&self, _timeline: &crate::run::RunTimeline<'_>) {}
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
    fn summary(&self, _summary: &crate::results::PerformanceSummary) {}
}

/// An accuracy-log entry kept by [`MemorySink`]: (seq_id, qsl_idx, data, token_count).
pub type OwnedAccuracyEntry = (u64, u64, Vec<u8>, Option<i64>);

/// A sink that keeps detail events in memory; for tests.
#[derive(Debug, Default)]
pub struct MemorySink {
    pub details: std::sync::Mutex<Vec<DetailEvent>>,
    pub accuracy: std::sync::Mutex<Vec<OwnedAccuracyEntry>>,
    pub summaries: std::sync::Mutex<Vec<crate::results::PerformanceSummary>>,
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
    fn summary(&self, summary: &crate::results::PerformanceSummary) {
        self.summaries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(summary.clone());
    }
}

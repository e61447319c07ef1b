//! The events the core logs: detail-log lines and accuracy-log entries.
//!
//! A leaf module: `results` and `run` build these events, and the sinks in
//! [`crate::log`] receive them, so it depends on nothing of the crate.

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

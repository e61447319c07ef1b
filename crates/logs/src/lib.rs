//! Writers for LoadGen's log files, fed by `yardstick_core::log::LogSink`.
//!
//! The core only produces structured events ([`DetailEvent`],
//! [`AccuracyEntry`], a `PerformanceSummary`, a `RunTimeline`); this crate
//! turns them into the files the official MLPerf LoadGen 6.0.x writes, byte
//! for byte where the content allows, because the MLPerf submission checker
//! and the benchmarks' accuracy scripts parse those files:
//!
//! * `mlperf_log_detail.txt`: one `:::MLLOG {...}` JSON line per event
//!   ([`detail`]),
//! * `mlperf_log_accuracy.json`: the responses to score ([`accuracy`]),
//! * `mlperf_log_summary.txt`: the human-readable result ([`summary`]),
//! * `mlperf_log_trace.json`: an optional Chrome trace ([`trace`]).
//!
//! [`MlperfLogWriter`] ties them together as one [`LogSink`];
//! [`CompositeSink`] fans events out to several sinks and
//! [`QueryRecordWriter`] keeps a JSON-lines record of the issued queries.
//!
//! [`DetailEvent`]: yardstick_core::log::DetailEvent
//! [`AccuracyEntry`]: yardstick_core::log::AccuracyEntry
//! [`LogSink`]: yardstick_core::log::LogSink

pub mod accuracy;
pub mod detail;
pub mod json;
pub mod read;
pub mod summary;
pub mod trace;
pub mod writer;

mod error;
mod output;

pub use detail::{
    header_events, loadgen_version_string, power_time_string, test_datetime_string, TestHeader,
};
pub use error::LogError;
pub use trace::{write_query_records, QueryRecordWriter, TimelineView};
pub use writer::{flush_all_now, CompositeSink, LogOutputSettings, LogPaths, MlperfLogWriter};

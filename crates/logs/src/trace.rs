//! The Chrome trace (`mlperf_log_trace.json`) and the query records
//! (`--record-queries FILE`), both built from a run's timeline once the run
//! is over.
//!
//! LoadGen traces while it runs, from its logging thread; we rebuild the
//! per-sample events from the [`TimelineView`] the core hands over at the end
//! of each run, so the SUT's threads pay nothing for tracing. The events are
//! LoadGen's, in its `ChromeTracer` layout (load the file in
//! `chrome://tracing` or Perfetto):
//!
//! * `Sample`: an async begin (`"ph":"b"`) at the query's scheduled time and
//!   an async end (`"ph":"e"`) at the sample's completion, with the sample's
//!   and query's sequence ids, the sample index, and the issue and
//!   completion delays in ns;
//! * `Token`: the same up to the first token, when first tokens are timed;
//! * in the Server scenario, `Latency` and `Token_Latency` counters
//!   (`"ph": "C"`) stacking the issue delay and the time from issue to
//!   completion.
//!
//! LoadGen's trace also holds complete events (`"ph":"X"`) of its own
//! internals (IssueQuery, logging-thread activity); they describe LoadGen's
//! threads and have no counterpart here.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use yardstick_core::log::{AccuracyEntry, DetailEvent, LogSink};
use yardstick_core::results::PerformanceSummary;
use yardstick_core::Scenario;

use crate::detail::micros_string;
use crate::output::Output;
use crate::LogError;

/// What the trace and the query records need of a run's timeline.
///
/// All times are nanoseconds since [`TimelineView::start`]. Samples are
/// numbered by their flat position across the run: query `q`'s samples are
/// at `query_start(q)..query_start(q) + query_samples(q).len()`.
///
/// `yardstick_core::run::RunTimeline` implements it; the trait keeps the
/// formatting testable without running a test.
pub trait TimelineView {
    fn scenario(&self) -> Scenario;
    /// The run's start, origin of all the `*_ns` times.
    fn start(&self) -> Instant;
    fn query_count(&self) -> usize;
    /// The sample indices (in the sample library) of query `q`.
    fn query_samples(&self, q: usize) -> &[u32];
    fn query_seq_id(&self, q: usize) -> u64;
    /// Flat position of query `q`'s first sample.
    fn query_start(&self, q: usize) -> usize;
    fn sample_seq_id(&self, pos: usize) -> u64;
    fn scheduled_ns(&self, q: usize) -> i64;
    /// `None` for a query that was never issued (the run stopped first).
    fn issued_ns(&self, q: usize) -> Option<i64>;
    /// `None` for a sample that never completed.
    fn completed_ns(&self, pos: usize) -> Option<i64>;
    /// When the sample's first token arrived, where first tokens are timed.
    fn first_token_ns(&self, pos: usize) -> Option<i64>;
}

impl TimelineView for yardstick_core::run::RunTimeline<'_> {
    fn scenario(&self) -> Scenario {
        yardstick_core::run::RunTimeline::scenario(self)
    }
    fn start(&self) -> Instant {
        yardstick_core::run::RunTimeline::start(self)
    }
    fn query_count(&self) -> usize {
        yardstick_core::run::RunTimeline::query_count(self)
    }
    fn query_samples(&self, q: usize) -> &[u32] {
        yardstick_core::run::RunTimeline::query_samples(self, q)
    }
    fn query_seq_id(&self, q: usize) -> u64 {
        yardstick_core::run::RunTimeline::query_seq_id(self, q)
    }
    fn query_start(&self, q: usize) -> usize {
        yardstick_core::run::RunTimeline::query_start(self, q)
    }
    fn sample_seq_id(&self, pos: usize) -> u64 {
        yardstick_core::run::RunTimeline::sample_seq_id(self, pos)
    }
    fn scheduled_ns(&self, q: usize) -> i64 {
        yardstick_core::run::RunTimeline::scheduled_ns(self, q)
    }
    fn issued_ns(&self, q: usize) -> Option<i64> {
        yardstick_core::run::RunTimeline::issued_ns(self, q)
    }
    fn completed_ns(&self, pos: usize) -> Option<i64> {
        yardstick_core::run::RunTimeline::completed_ns(self, pos)
    }
    fn first_token_ns(&self, pos: usize) -> Option<i64> {
        yardstick_core::run::RunTimeline::first_token_ns(self, pos)
    }
}

/// What opens a trace file.
pub const TRACE_HEADER: &str = "{\"traceEvents\":[\n";

/// What closes a trace file: LoadGen's end marker, then the trace origin as
/// wall-clock microseconds since the Unix epoch (`origin_unix_micros`, see
/// [`crate::detail`]'s conventions: three decimals). The version string is
/// LoadGen's, which trace tools may recognise.
pub fn trace_footer(origin_unix_micros: &str) -> String {
    format!(
        "{{\"name\":\"LastTrace\"}}\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":{{\n\
         \"ts\":{origin_unix_micros},\n\"version\":\"MLPerf LoadGen v1.0\"\n}}\n}}\n"
    )
}

/// Appends the trace events of one run to `out`.
///
/// `offset_ns` is the run's start relative to the trace origin (a trace
/// spans every run of a test, like LoadGen's); `pid` is the process id
/// LoadGen stamps on every event. Samples that never completed have no
/// events, as in LoadGen, which traces a sample when it completes.
pub fn write_trace_events(out: &mut String, timeline: &dyn TimelineView, offset_ns: i64, pid: u64) {
    let server = timeline.scenario() == Scenario::Server;
    let ts = |t: i64| micros_string(i128::from(offset_ns) + i128::from(t));
    for q in 0..timeline.query_count() {
        let Some(issued) = timeline.issued_ns(q) else {
            continue;
        };
        let scheduled = timeline.scheduled_ns(q);
        let query_seq = timeline.query_seq_id(q);
        let first = timeline.query_start(q);
        for (i, &sample_idx) in timeline.query_samples(q).iter().enumerate() {
            let pos = first + i;
            let seq = timeline.sample_seq_id(pos);
            let mut sample_events = |name: &str, counter: &str, done: i64| {
                if server {
                    let _ = writeln!(
                        out,
                        "{{\"name\":\"{counter}\",\"ph\": \"C\",\"pid\":{pid},\"ts\":{},\
                         \"args\":{{ \"issue_delay\":{},\"issue_to_done\":{}}}}},",
                        ts(scheduled),
                        issued - scheduled,
                        done - issued
                    );
                }
                // LoadGen traces tokens in the Server scenario as counters only.
                if server && name == "Token" {
                    return;
                }
                let _ = writeln!(
                    out,
                    "{{\"name\":\"{name}\",\"cat\":\"default\",\"ph\":\"b\",\"pid\":{pid},\"id\":{seq},\
                     \"ts\":{},\"args\":{{\"sample_seq\":{seq},\"query_seq\":{query_seq},\
                     \"sample_idx\":{sample_idx},\"issue_start_ns\":{},\"complete_ns\":{}}}}},",
                    ts(scheduled),
                    issued - scheduled,
                    done - scheduled
                );
                let _ = writeln!(
                    out,
                    "{{\"name\":\"{name}\",\"cat\":\"default\",\"ph\":\"e\", \"pid\":{pid},\"id\":{seq},\
                     \"ts\":{}}},",
                    ts(done)
                );
            };
            if let Some(token) = timeline.first_token_ns(pos) {
                sample_events("Token", "Token_Latency", token);
            }
            if let Some(done) = timeline.completed_ns(pos) {
                sample_events("Sample", "Latency", done);
            }
        }
    }
}

/// Appends one JSON line per issued query of `timeline` to `out`:
/// `{"query":7,"scheduled_ns":..,"issued_ns":..,"samples":[..]}` with the
/// query's sequence id, its scheduled and actual issue times (ns since the
/// run's start) and its sample indices; handy to replay or audit a schedule.
pub fn write_query_lines(out: &mut String, timeline: &dyn TimelineView) {
    for q in 0..timeline.query_count() {
        let Some(issued) = timeline.issued_ns(q) else {
            continue;
        };
        let _ = write!(
            out,
            "{{\"query\":{},\"scheduled_ns\":{},\"issued_ns\":{issued},\"samples\":[",
            timeline.query_seq_id(q),
            timeline.scheduled_ns(q)
        );
        for (i, idx) in timeline.query_samples(q).iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{idx}");
        }
        out.push_str("]}\n");
    }
}

/// Writes the query records of one run to `path` (created or truncated).
pub fn write_query_records(path: &Path, timeline: &dyn TimelineView) -> Result<(), LogError> {
    let file = File::create(path).map_err(|source| LogError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut lines = String::new();
    write_query_lines(&mut lines, timeline);
    let mut file = BufWriter::new(file);
    file.write_all(lines.as_bytes())
        .and_then(|()| file.flush())
        .map_err(|source| LogError::Write {
            path: path.to_path_buf(),
            source,
        })
}

/// A [`LogSink`] that records every issued query of every run of a test as
/// JSON lines (see [`write_query_lines`]), for the CLI's `--record-queries`.
/// Everything but timelines is ignored; combine it with the log writer in a
/// [`CompositeSink`](crate::CompositeSink).
#[derive(Debug)]
pub struct QueryRecordWriter {
    path: PathBuf,
    out: Mutex<Output>,
}

impl QueryRecordWriter {
    /// Creates (truncates) `path`.
    pub fn create(path: impl Into<PathBuf>) -> Result<Self, LogError> {
        let path = path.into();
        let out = Mutex::new(Output::create(&path)?);
        Ok(QueryRecordWriter { path, out })
    }

    /// Flushes the file and reports the first write error, if any.
    pub fn finish(&self) -> Result<(), LogError> {
        self.out.lock().unwrap_or_else(|e| e.into_inner()).finish()
    }

    /// Appends the records of one run (what [`LogSink::timeline`] does).
    pub fn record(&self, timeline: &dyn TimelineView) {
        let mut lines = String::new();
        write_query_lines(&mut lines, timeline);
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        out.write(lines.as_bytes());
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl LogSink for QueryRecordWriter {
    fn detail(&self, _event: DetailEvent) {}
    fn accuracy(&self, _entry: AccuracyEntry<'_>) {}
    fn summary(&self, _summary: &PerformanceSummary) {}
    fn timeline(&self, timeline: &yardstick_core::run::RunTimeline<'_>) {
        self.record(timeline);
    }
    fn wants_timeline(&self) -> bool {
        true
    }
}

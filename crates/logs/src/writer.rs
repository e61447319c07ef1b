//! [`MlperfLogWriter`]: the [`LogSink`] that writes LoadGen's log files, and
//! [`CompositeSink`], which fans events out to several sinks.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Instant, SystemTime};

use yardstick_core::log::{AccuracyEntry, DetailEvent, LogSink, Severity};
use yardstick_core::results::{Interruption, PerformanceSummary};
use yardstick_core::run::RunTimeline;

use crate::output::Output;
use crate::trace::{self, TimelineView};
use crate::{accuracy, detail, summary, LogError};

/// Where and how to write the logs; LoadGen's `LogOutputSettings` plus its
/// `LogSettings::enable_trace`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOutputSettings {
    /// Directory of the log files; created if missing.
    pub outdir: PathBuf,
    /// Start of every file name (`mlperf_log_`).
    pub prefix: String,
    /// End of every file name, before the extension (empty by default).
    pub suffix: String,
    /// Put the test's date and time (`test_datetime`) and `_` after the
    /// prefix, so runs do not overwrite each other.
    pub prefix_with_datetime: bool,
    /// Also print every detail line on stdout.
    pub copy_detail_to_stdout: bool,
    /// Also print the summary on stdout.
    pub copy_summary_to_stdout: bool,
    /// Write the Chrome trace. Unlike LoadGen (on by default, and always
    /// creating the file) it is off by default and the file only exists
    /// when enabled: it needs the run's timeline kept in memory.
    pub enable_trace: bool,
}

impl Default for LogOutputSettings {
    fn default() -> Self {
        LogOutputSettings {
            outdir: PathBuf::from("."),
            prefix: "mlperf_log_".to_owned(),
            suffix: String::new(),
            prefix_with_datetime: false,
            copy_detail_to_stdout: false,
            copy_summary_to_stdout: false,
            enable_trace: false,
        }
    }
}

/// The paths of one test's log files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPaths {
    pub summary: PathBuf,
    pub detail: PathBuf,
    pub accuracy: PathBuf,
    /// `None` when the trace is disabled.
    pub trace: Option<PathBuf>,
}

impl LogPaths {
    /// The file names LoadGen uses: `<outdir>/<prefix>[<datetime>_]<kind><suffix>.<ext>`.
    pub fn new(settings: &LogOutputSettings, test_datetime: &str) -> Self {
        let mut stem = settings.prefix.clone();
        if settings.prefix_with_datetime {
            stem.push_str(test_datetime);
            stem.push('_');
        }
        let file = |kind: &str, ext: &str| {
            settings
                .outdir
                .join(format!("{stem}{kind}{}.{ext}", settings.suffix))
        };
        LogPaths {
            summary: file("summary", "txt"),
            detail: file("detail", "txt"),
            accuracy: file("accuracy", "json"),
            trace: settings.enable_trace.then(|| file("trace", "json")),
        }
    }
}

/// The accuracy log and whether an entry was written yet (which decides the
/// separator before the next one).
#[derive(Debug)]
struct AccuracyLog {
    out: Output,
    has_entries: bool,
}

/// Writes `mlperf_log_summary.txt`, `mlperf_log_detail.txt`,
/// `mlperf_log_accuracy.json` and, when enabled, `mlperf_log_trace.json`
/// exactly as LoadGen 6.0.x lays them out.
///
/// Share it with the core as an `Arc<dyn LogSink>` (every method takes
/// `&self` and is thread-safe) and call [`MlperfLogWriter::finish`] when the
/// test is over: the summary ends with the number of warnings and errors of
/// the whole test, so it is only written then, and `finish` is also where
/// write errors are reported. Dropping an unfinished writer finishes it and
/// prints any error on stderr.
#[derive(Debug)]
pub struct MlperfLogWriter {
    paths: LogPaths,
    /// Origin of the detail log's `time_ms` and of the trace.
    origin: Instant,
    /// Wall-clock time at `origin`, for the trace's `otherData.ts`.
    origin_wall: SystemTime,
    test_datetime: String,
    pid: u64,
    copy_detail_to_stdout: bool,
    copy_summary_to_stdout: bool,
    warnings: AtomicUsize,
    errors: AtomicUsize,
    finished: AtomicBool,
    // Shared (`Arc`) so that [`flush_all_now`] can reach them from a
    // signal thread without a handle on the writer.
    detail: Arc<Mutex<Output>>,
    accuracy: Arc<Mutex<AccuracyLog>>,
    trace: Option<Arc<Mutex<Output>>>,
    summary: Mutex<SummaryState>,
}

#[derive(Debug)]
struct SummaryState {
    out: Output,
    /// Summaries of the performance runs so far; rendered by `finish`.
    runs: Vec<PerformanceSummary>,
    /// The test was stopped early (the first stop, if several runs saw it).
    interrupted: Option<Interruption>,
}

impl MlperfLogWriter {
    /// Creates the output directory if needed and opens (truncates) the log
    /// files; the test's date and time is taken now (see
    /// [`MlperfLogWriter::test_datetime`]).
    pub fn create(settings: &LogOutputSettings) -> Result<Self, LogError> {
        let origin_wall = SystemTime::now();
        let origin = Instant::now();
        let test_datetime = detail::test_datetime_string(origin_wall);
        let paths = LogPaths::new(settings, &test_datetime);
        if !settings.outdir.as_os_str().is_empty() {
            std::fs::create_dir_all(&settings.outdir).map_err(|source| LogError::CreateDir {
                path: settings.outdir.clone(),
                source,
            })?;
        }
        let summary = Output::create(&paths.summary)?;
        let detail = Output::create(&paths.detail)?;
        let mut accuracy = Output::create(&paths.accuracy)?;
        accuracy.write(accuracy::HEADER.as_bytes());
        let trace = match &paths.trace {
            Some(path) => {
                let mut out = Output::create(path)?;
                out.write(trace::TRACE_HEADER.as_bytes());
                Some(Arc::new(Mutex::new(out)))
            }
            None => None,
        };
        let writer = MlperfLogWriter {
            paths,
            origin,
            origin_wall,
            test_datetime,
            pid: u64::from(std::process::id()),
            copy_detail_to_stdout: settings.copy_detail_to_stdout,
            copy_summary_to_stdout: settings.copy_summary_to_stdout,
            warnings: AtomicUsize::new(0),
            errors: AtomicUsize::new(0),
            finished: AtomicBool::new(false),
            detail: Arc::new(Mutex::new(detail)),
            accuracy: Arc::new(Mutex::new(AccuracyLog {
                out: accuracy,
                has_entries: false,
            })),
            trace,
            summary: Mutex::new(SummaryState {
                out: summary,
                runs: Vec::new(),
                interrupted: None,
            }),
        };
        register_live(&writer);
        Ok(writer)
    }

    /// The paths being written.
    pub fn paths(&self) -> &LogPaths {
        &self.paths
    }

    /// The test's date and time as LoadGen logs it (`test_datetime`), also
    /// used in the file names with `prefix_with_datetime`.
    pub fn test_datetime(&self) -> &str {
        &self.test_datetime
    }

    /// When the log started: the origin of `time_ms` for events without
    /// their own `elapsed_ns`.
    pub fn origin(&self) -> Instant {
        self.origin
    }

    /// Warnings logged so far.
    pub fn warnings(&self) -> usize {
        self.warnings.load(Ordering::Relaxed)
    }

    /// Errors logged so far.
    pub fn errors(&self) -> usize {
        self.errors.load(Ordering::Relaxed)
    }

    /// Writes the summary (with the final warning and error counts) and the
    /// closing bytes of the accuracy log and trace, flushes everything, and
    /// reports the first error met on any file. Events arriving later are
    /// dropped; calling it again does nothing.
    pub fn finish(&self) -> Result<(), LogError> {
        if self.finished.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let warnings = self.warnings();
        let errors = self.errors();

        let detail_result = lock(&self.detail).finish();

        let accuracy_result = {
            let mut acc = lock(&self.accuracy);
            acc.out.write(accuracy::FOOTER.as_bytes());
            acc.out.finish()
        };

        let trace_result = match &self.trace {
            Some(trace) => {
                let mut out = lock(trace);
                let footer = trace::trace_footer(&detail::unix_micros_string(self.origin_wall));
                out.write(footer.as_bytes());
                out.finish()
            }
            None => Ok(()),
        };

        let summary_result = {
            let mut state = lock(&self.summary);
            let text =
                render_summary_file(&state.runs, state.interrupted.as_ref(), warnings, errors);
            state.out.write(text.as_bytes());
            if self.copy_summary_to_stdout {
                print_stdout(&text);
            }
            state.out.finish()
        };

        summary_result
            .and(detail_result)
            .and(accuracy_result)
            .and(trace_result)
    }

    /// Pushes what has been written so far to the files without finishing
    /// them (no summary, no closing bytes): for a process about to exit at
    /// once (a second Ctrl-C). A file another thread is writing at that
    /// moment is skipped rather than waited for. [`flush_all_now`] does
    /// this for every open writer.
    pub fn flush_now(&self) {
        self.live_files().flush();
    }

    fn live_files(&self) -> LiveFiles {
        LiveFiles {
            detail: Arc::downgrade(&self.detail),
            accuracy: Arc::downgrade(&self.accuracy),
            trace: self.trace.as_ref().map(Arc::downgrade),
        }
    }

    fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    /// Adds one run's events to the trace (what [`LogSink::timeline`] does,
    /// for any [`TimelineView`]); does nothing when the trace is disabled.
    pub fn add_timeline(&self, timeline: &dyn TimelineView) {
        let Some(trace) = &self.trace else {
            return;
        };
        if self.is_finished() {
            return;
        }
        let offset = signed_ns_between(self.origin, timeline.start());
        let mut events = String::new();
        trace::write_trace_events(&mut events, timeline, offset, self.pid);
        lock(trace).write(events.as_bytes());
    }
}

impl LogSink for MlperfLogWriter {
    fn error_count(&self) -> usize {
        self.errors()
    }

    fn detail(&self, event: DetailEvent) {
        if self.is_finished() {
            return;
        }
        match event.severity {
            Severity::Info => {}
            Severity::Warning => {
                self.warnings.fetch_add(1, Ordering::Relaxed);
            }
            Severity::Error => {
                self.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        let time_ns = event.elapsed_ns.unwrap_or_else(|| {
            self.origin
                .elapsed()
                .as_nanos()
                .try_into()
                .unwrap_or(u64::MAX)
        });
        let line = detail::render_detail_line(&event, time_ns, self.pid, current_tid());
        let mut out = lock(&self.detail);
        out.write(line.as_bytes());
        // LoadGen flushes after an error so it survives a crash that may follow.
        if event.severity == Severity::Error {
            out.flush();
        }
        if self.copy_detail_to_stdout {
            print_stdout(&line);
        }
    }

    fn accuracy(&self, entry: AccuracyEntry<'_>) {
        if self.is_finished() {
            return;
        }
        // Format before taking the lock: entries come from the SUT's
        // completion threads, which should only contend for the copy.
        let text = accuracy::render_entry(&entry);
        let mut acc = lock(&self.accuracy);
        let separator = if acc.has_entries {
            accuracy::SEPARATOR
        } else {
            accuracy::FIRST_SEPARATOR
        };
        acc.has_entries = true;
        acc.out.write(separator.as_bytes());
        acc.out.write(text.as_bytes());
    }

    fn summary(&self, summary: &PerformanceSummary) {
        if self.is_finished() {
            return;
        }
        lock(&self.summary).runs.push(summary.clone());
    }

    fn timeline(&self, timeline: &RunTimeline<'_>) {
        self.add_timeline(timeline);
    }

    fn interrupted(&self, interruption: &Interruption) {
        if self.is_finished() {
            return;
        }
        lock(&self.summary)
            .interrupted
            .get_or_insert_with(|| interruption.clone());
        // The process may be asked to quit at once next (a second Ctrl-C):
        // what is written so far should be on disk.
        lock(&self.detail).flush();
    }

    fn wants_timeline(&self) -> bool {
        self.trace.is_some()
    }
}

impl Drop for MlperfLogWriter {
    fn drop(&mut self) {
        if let Err(e) = self.finish() {
            eprintln!("yardstick: {e}");
        }
    }
}

/// The whole summary file: each performance run's summary, and once, at the
/// end, the warning and error counts of the test.
///
/// `render_summary` ends every summary with those counts (its
/// `render_trailer`); LoadGen writes them once per test, so they are cut
/// from all but the last run's summary (only tests with several performance
/// runs, like FindPeakPerformance, have more than one).
///
/// A test stopped early says so in its last summary (the stopped run's, which
/// carries the interruption); one stopped before any performance result gets
/// the verdict and reason on their own.
fn render_summary_file(
    runs: &[PerformanceSummary],
    interrupted: Option<&Interruption>,
    warnings: usize,
    errors: usize,
) -> String {
    let Some((last, earlier)) = runs.split_last() else {
        return match interrupted {
            Some(interruption) => {
                summary::render_interrupted_summary(interruption, warnings, errors)
            }
            None => summary::render_accuracy_summary(warnings, errors),
        };
    };
    let footer = summary::render_trailer(warnings, errors);
    let mut text = String::new();
    for run in earlier {
        let rendered = summary::render_summary(run, warnings, errors);
        text.push_str(rendered.strip_suffix(&footer).unwrap_or(&rendered));
    }
    text.push_str(&summary::render_summary(last, warnings, errors));
    text
}

/// Locks `m`, carrying on after a panic elsewhere: a half-written log is more
/// useful than none, and the logs are what shows what went wrong.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The files of one open writer, as [`flush_all_now`] reaches them.
struct LiveFiles {
    detail: Weak<Mutex<Output>>,
    accuracy: Weak<Mutex<AccuracyLog>>,
    trace: Option<Weak<Mutex<Output>>>,
}

impl LiveFiles {
    fn is_open(&self) -> bool {
        self.detail.strong_count() > 0
    }

    fn flush(&self) {
        if let Some(detail) = self.detail.upgrade() {
            if let Some(mut out) = try_lock(&detail) {
                out.flush();
            }
        }
        if let Some(accuracy) = self.accuracy.upgrade() {
            if let Some(mut acc) = try_lock(&accuracy) {
                acc.out.flush();
            }
        }
        if let Some(trace) = self.trace.as_ref().and_then(Weak::upgrade) {
            if let Some(mut out) = try_lock(&trace) {
                out.flush();
            }
        }
    }
}

/// Every writer created in this process and not yet dropped.
static LIVE_WRITERS: Mutex<Vec<LiveFiles>> = Mutex::new(Vec::new());

fn register_live(writer: &MlperfLogWriter) {
    let mut live = lock(&LIVE_WRITERS);
    live.retain(LiveFiles::is_open);
    live.push(writer.live_files());
}

/// Pushes what every open [`MlperfLogWriter`] of the process has written
/// so far to its files, without finishing them: for a process about to
/// exit at once (a second Ctrl-C), whose writers are out of reach.
/// Never blocks: a file being written at that moment is skipped.
pub fn flush_all_now() {
    let Some(live) = try_lock(&LIVE_WRITERS) else {
        return;
    };
    for files in live.iter() {
        files.flush();
    }
}

/// Locks `m` if no one holds it (carrying on after a panic, as [`lock`]).
fn try_lock<T>(m: &Mutex<T>) -> Option<MutexGuard<'_, T>> {
    match m.try_lock() {
        Ok(guard) => Some(guard),
        Err(std::sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
        Err(std::sync::TryLockError::WouldBlock) => None,
    }
}

/// Copies log text to stdout, like LoadGen's `copy_*_to_stdout`; a closed
/// stdout must not stop the logs, so errors are ignored.
fn print_stdout(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// `to - from` in nanoseconds, negative when `to` is earlier.
fn signed_ns_between(from: Instant, to: Instant) -> i64 {
    let ns = |d: std::time::Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
    match to.checked_duration_since(from) {
        Some(d) => ns(d),
        None => -ns(from.duration_since(to)),
    }
}

/// The OS id of the calling thread, which LoadGen logs as `tid` (and which
/// `top -H`, `perf` and debuggers show); the process id elsewhere.
fn current_tid() -> u64 {
    #[cfg(target_os = "linux")]
    {
        thread_local! {
            static TID: u64 = {
                // SAFETY: gettid has no preconditions and cannot fail.
                let tid = unsafe { libc::gettid() };
                u64::try_from(tid).unwrap_or(0)
            };
        }
        TID.with(|tid| *tid)
    }
    #[cfg(not(target_os = "linux"))]
    {
        u64::from(std::process::id())
    }
}

/// A [`LogSink`] that passes every event on to several sinks, e.g. the log
/// writer and a [`QueryRecordWriter`](crate::QueryRecordWriter).
///
/// The sinks are shared (`Arc`) so the caller keeps handles to call their
/// own `finish`.
#[derive(Default, Clone)]
pub struct CompositeSink {
    sinks: Vec<Arc<dyn LogSink>>,
}

impl std::fmt::Debug for CompositeSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompositeSink")
            .field("sinks", &self.sinks.len())
            .finish()
    }
}

impl CompositeSink {
    pub fn new(sinks: Vec<Arc<dyn LogSink>>) -> Self {
        CompositeSink { sinks }
    }

    pub fn push(&mut self, sink: Arc<dyn LogSink>) {
        self.sinks.push(sink);
    }
}

impl LogSink for CompositeSink {
    fn error_count(&self) -> usize {
        self.sinks
            .iter()
            .map(|s| s.error_count())
            .max()
            .unwrap_or(0)
    }

    fn detail(&self, event: DetailEvent) {
        if let Some((last, rest)) = self.sinks.split_last() {
            for sink in rest {
                sink.detail(event.clone());
            }
            last.detail(event);
        }
    }

    fn accuracy(&self, entry: AccuracyEntry<'_>) {
        for sink in &self.sinks {
            sink.accuracy(entry.clone());
        }
    }

    fn summary(&self, summary: &PerformanceSummary) {
        for sink in &self.sinks {
            sink.summary(summary);
        }
    }

    fn timeline(&self, timeline: &RunTimeline<'_>) {
        for sink in self.sinks.iter().filter(|s| s.wants_timeline()) {
            sink.timeline(timeline);
        }
    }

    fn interrupted(&self, interruption: &Interruption) {
        for sink in &self.sinks {
            sink.interrupted(interruption);
        }
    }

    fn wants_timeline(&self) -> bool {
        self.sinks.iter().any(|s| s.wants_timeline())
    }
}

//! One run of a training job (`yardstick train -- CMD ARGS...`, or the
//! built-in trainer's `yardstick train-job`):
//! started in its own process group, its `:::MLLOG` lines read live from
//! stdout/stderr or from the file named by `YARDSTICK_MLLOG`, stopped after
//! `run_stop` (or at the time limit), and what it logged kept.
//!
//! The job may log to its streams, to the file, or to both (mllog with a
//! file handler also prints to stdout): the first source that carries a
//! `:::MLLOG` line is the log, the other's lines are not counted twice.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use yardstick_formats::mllog::{keys, LineError, LineReader, LogLine, TOKEN};
use yardstick_formats::pyjson::JsonValue;

/// The environment variable naming the file a job may write its
/// `:::MLLOG` lines to (instead of, or as well as, stdout).
pub const MLLOG_ENV: &str = "YARDSTICK_MLLOG";

/// How to run one job.
#[derive(Debug, Clone)]
pub struct JobSpec {
    pub program: OsString,
    pub args: Vec<OsString>,
    pub env: Vec<(String, String)>,
    /// Passed as `YARDSTICK_MLLOG`; read while the job runs.
    pub mllog_file: PathBuf,
    pub time_limit: Option<Duration>,
    /// How long a job may keep running after its `run_stop` before it is
    /// stopped (it may be saving a checkpoint or writing its last lines).
    pub stop_grace: Duration,
    /// Echo the job's output (stdout to stdout, stderr to stderr).
    pub echo: bool,
}

/// How the job's process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessEnd {
    Exited(i32),
    Signaled(i32),
}

impl std::fmt::Display for ProcessEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProcessEnd::Exited(code) => write!(f, "exit status {code}"),
            ProcessEnd::Signaled(sig) => write!(f, "killed by signal {sig}"),
        }
    }
}

/// Why yardstick stopped the job (when it did).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoppedBy {
    /// It was still running `stop_grace` after its `run_stop`.
    AfterRunStop,
    TimeLimit,
}

/// One `eval_accuracy` of the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Eval {
    pub time_ms: f64,
    pub epoch: Option<f64>,
    pub samples: Option<f64>,
    pub accuracy: f64,
}

/// What the log said so far: the state the progress line and the result
/// are made from.
#[derive(Debug, Clone, Default)]
pub struct RunLog {
    /// The `:::MLLOG` lines as they came (the result file's content).
    pub lines: Vec<String>,
    pub run_start_ms: Option<f64>,
    pub run_stop_ms: Option<f64>,
    /// `run_stop`'s `metadata.status` (`success`, `aborted`).
    pub status: Option<String>,
    pub evals: Vec<Eval>,
    pub epoch: Option<f64>,
    pub block: Option<f64>,
    pub benchmark: Option<String>,
    pub seed: Option<String>,
    pub parse_errors: Vec<LineError>,
    reader: LineReader,
}

fn number(v: Option<&JsonValue>) -> Option<f64> {
    v.and_then(JsonValue::as_f64)
}

impl RunLog {
    /// Takes one line of the log; returns the record when it was one.
    pub fn push(&mut self, line: &str) -> Option<LogLine> {
        let parsed = match self.reader.push(line)? {
            Ok(parsed) => parsed,
            Err(error) => {
                self.lines.push(line.to_string());
                self.parse_errors.push(error);
                return None;
            }
        };
        self.lines.push(line.to_string());
        let r = &parsed.record;
        let time = r.time_ms();
        match r.key() {
            // The first run_start and run_stop count, as the summarizer's.
            Some(keys::RUN_START) if self.run_start_ms.is_none() => self.run_start_ms = time,
            Some(keys::RUN_STOP) if self.run_stop_ms.is_none() => {
                self.run_stop_ms = time;
                self.status = r
                    .metadata("status")
                    .and_then(|s| s.as_str())
                    .map(String::from);
            }
            Some(keys::EPOCH_START) => self.epoch = number(r.metadata("epoch_num")),
            Some(keys::BLOCK_START) => {
                self.block = number(r.metadata("first_epoch_num"))
                    .or_else(|| number(r.metadata("samples_count")))
            }
            Some(keys::EVAL_ACCURACY) => {
                if let (Some(accuracy), Some(time_ms)) = (r.value().as_f64(), time) {
                    self.evals.push(Eval {
                        time_ms,
                        epoch: number(r.metadata("epoch_num")),
                        samples: number(r.metadata("samples_count")),
                        accuracy,
                    });
                }
            }
            Some(keys::SUBMISSION_BENCHMARK) => {
                self.benchmark = r.value().as_str().map(String::from)
            }
            Some(keys::SEED) => self.seed = Some(r.value().dumps()),
            _ => {}
        }
        Some(parsed)
    }

    /// `run_stop - run_start` in ms, as the rules define time-to-train.
    pub fn time_to_train_ms(&self) -> Option<f64> {
        Some(self.run_stop_ms? - self.run_start_ms?)
    }

    pub fn best_accuracy(&self) -> Option<f64> {
        self.evals.iter().map(|e| e.accuracy).reduce(f64::max)
    }
}

/// A finished job.
#[derive(Debug)]
pub struct JobOutcome {
    pub end: ProcessEnd,
    pub stopped_by: Option<StoppedBy>,
    pub wall: Duration,
    pub log: RunLog,
    /// `stream` or `file`: where the log was read from (none: no line).
    pub source: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Stdout,
    Stderr,
    File,
}

enum Event {
    Line(Source, String),
}

fn read_lines(source: Source, stream: impl Read, tx: mpsc::Sender<Event>, echo: bool) {
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf);
                let line = line.trim_end_matches(['\n', '\r']).to_string();
                if echo {
                    match source {
                        Source::Stderr => eprintln!("{line}"),
                        _ => println!("{line}"),
                    }
                }
                if tx.send(Event::Line(source, line)).is_err() {
                    return;
                }
            }
        }
    }
}

/// Follows the file as the job appends to it (polling: portable, and a
/// training log grows slowly); a last read happens after `done`.
fn tail_file(path: PathBuf, tx: mpsc::Sender<Event>, done: Arc<AtomicBool>) {
    let mut offset = 0usize;
    let mut partial = Vec::new();
    loop {
        let finished = done.load(Ordering::Acquire);
        if let Ok(bytes) = std::fs::read(&path) {
            if bytes.len() > offset {
                partial.extend_from_slice(&bytes[offset..]);
                offset = bytes.len();
                while let Some(nl) = partial.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = partial.drain(..=nl).collect();
                    let line = String::from_utf8_lossy(&line)
                        .trim_end_matches(['\n', '\r'])
                        .to_string();
                    if tx.send(Event::Line(Source::File, line)).is_err() {
                        return;
                    }
                }
            }
        }
        if finished {
            if !partial.is_empty() {
                let line = String::from_utf8_lossy(&partial).to_string();
                let _ = tx.send(Event::Line(Source::File, line));
            }
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn signal_group(pgid: u32, signal: i32) {
    if let Ok(pid) = i32::try_from(pgid) {
        // SAFETY: kill(2) with a negative pid signals the process group the
        // job was started in (its own); it touches no memory of ours.
        unsafe {
            libc::kill(-pid, signal);
        }
    }
}

/// Runs the job to its end. `on_record` sees each record of the log as it
/// arrives, with the log so far.
pub fn run_job(
    spec: &JobSpec,
    on_record: &mut dyn FnMut(&LogLine, &RunLog),
) -> std::io::Result<JobOutcome> {
    let _ = std::fs::remove_file(&spec.mllog_file);
    let started = Instant::now();
    let mut child = Command::new(&spec.program)
        .args(&spec.args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .env(MLLOG_ENV, &spec.mllog_file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: stopping the job stops its children too.
        .process_group(0)
        .spawn()?;
    let pgid = child.id();
    let (tx, rx) = mpsc::channel();
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        let tx = tx.clone();
        let echo = spec.echo;
        readers.push(std::thread::spawn(move || {
            read_lines(Source::Stdout, out, tx, echo)
        }));
    }
    if let Some(err) = child.stderr.take() {
        let tx = tx.clone();
        let echo = spec.echo;
        readers.push(std::thread::spawn(move || {
            read_lines(Source::Stderr, err, tx, echo)
        }));
    }
    let tail_done = Arc::new(AtomicBool::new(false));
    let tail = {
        let (tx, done, path) = (tx.clone(), tail_done.clone(), spec.mllog_file.clone());
        std::thread::spawn(move || tail_file(path, tx, done))
    };
    drop(tx);

    let mut log = RunLog::default();
    let mut chosen: Option<Source> = None;
    let mut take = |source: Source, line: String, log: &mut RunLog| {
        if !line.contains(TOKEN) {
            return;
        }
        let is_file = source == Source::File;
        match chosen {
            None => chosen = Some(source),
            Some(c) if (c == Source::File) != is_file => return,
            Some(_) => {}
        }
        if let Some(record) = log.push(&line) {
            on_record(&record, log);
        }
    };
    let mut stopped_by = None;
    let mut run_stop_seen_at: Option<Instant> = None;
    let mut term_sent_at: Option<Instant> = None;
    let kill_after = Duration::from_secs(5);
    let end = loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Event::Line(source, line)) => take(source, line, &mut log),
            Err(mpsc::RecvTimeoutError::Timeout | mpsc::RecvTimeoutError::Disconnected) => {}
        }
        if log.run_stop_ms.is_some() && run_stop_seen_at.is_none() {
            run_stop_seen_at = Some(Instant::now());
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        let now = Instant::now();
        if term_sent_at.is_none() {
            let after_stop = run_stop_seen_at.is_some_and(|t| now - t >= spec.stop_grace);
            let over_time = spec.time_limit.is_some_and(|l| now - started >= l);
            if after_stop || over_time {
                stopped_by = Some(if after_stop {
                    StoppedBy::AfterRunStop
                } else {
                    StoppedBy::TimeLimit
                });
                signal_group(pgid, libc::SIGTERM);
                term_sent_at = Some(now);
            }
        } else if term_sent_at.is_some_and(|t| now - t >= kill_after) {
            signal_group(pgid, libc::SIGKILL);
        }
    };
    let wall = started.elapsed();
    // The job is gone; its children may still hold the pipes: end them, then
    // drain what was written.
    signal_group(pgid, libc::SIGKILL);
    tail_done.store(true, Ordering::Release);
    let drain_until = Instant::now() + Duration::from_secs(2);
    loop {
        let left = drain_until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Event::Line(source, line)) => take(source, line, &mut log),
            Err(_) => break,
        }
    }
    let _ = tail.join();
    for r in readers {
        if r.is_finished() {
            let _ = r.join();
        }
    }
    let end = match (end.code(), end.signal()) {
        (Some(code), _) => ProcessEnd::Exited(code),
        (None, Some(sig)) => ProcessEnd::Signaled(sig),
        (None, None) => ProcessEnd::Exited(-1),
    };
    Ok(JobOutcome {
        end,
        stopped_by,
        wall,
        log,
        source: chosen.map(|c| if c == Source::File { "file" } else { "stream" }),
    })
}

/// A run's result, or why it is not one.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// run_start and run_stop logged and the job ended cleanly.
    Complete {
        time_to_train_ms: f64,
        /// `run_stop`'s status is `success`.
        success: bool,
    },
    /// Not a result: why.
    Incomplete(String),
}

/// Judges a finished job: a job that failed (nonzero exit, a signal not
/// ours), never logged run_stop, or hit the time limit is incomplete,
/// whatever its log says.
pub fn verdict(outcome: &JobOutcome) -> Verdict {
    let log = &outcome.log;
    let clean_end = matches!(
        (outcome.stopped_by, outcome.end),
        (Some(StoppedBy::AfterRunStop), _) | (None, ProcessEnd::Exited(0))
    );
    if outcome.stopped_by == Some(StoppedBy::TimeLimit) {
        return Verdict::Incomplete(format!(
            "stopped at the time limit ({:.1} s) before run_stop",
            outcome.wall.as_secs_f64()
        ));
    }
    match (log.run_start_ms, log.run_stop_ms) {
        (None, _) => Verdict::Incomplete(format!("no run_start logged ({})", outcome.end)),
        (Some(_), None) => Verdict::Incomplete(format!("no run_stop logged ({})", outcome.end)),
        (Some(start), Some(stop)) if clean_end => Verdict::Complete {
            time_to_train_ms: stop - start,
            success: log.status.as_deref() == Some(keys::SUCCESS),
        },
        (Some(_), Some(_)) => {
            Verdict::Incomplete(format!("the job failed after run_stop ({})", outcome.end))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(key: &str, time: u64, value: &str, meta: &str) -> String {
        format!(
            ":::MLLOG {{\"namespace\": \"\", \"time_ms\": {time}, \"event_type\": \"POINT_IN_TIME\", \"key\": \"{key}\", \"value\": {value}, \"metadata\": {{{meta}}}}}"
        )
    }

    #[test]
    fn run_log_tracks_the_run() {
        let mut log = RunLog::default();
        assert!(log.push("hello").is_none());
        log.push(&line("run_start", 1000, "null", ""));
        log.push(&line("epoch_start", 1100, "null", "\"epoch_num\": 1"));
        log.push(&line("eval_accuracy", 1500, "0.5", "\"epoch_num\": 1"));
        log.push(&line("eval_accuracy", 2500, "0.75", "\"epoch_num\": 2"));
        log.push(":::MLLOG {broken");
        log.push(&line("run_stop", 3250, "null", "\"status\": \"success\""));
        log.push(&line("run_stop", 9999, "null", "\"status\": \"aborted\""));
        assert_eq!(log.time_to_train_ms(), Some(2250.0));
        assert_eq!(log.status.as_deref(), Some("success"));
        assert_eq!(log.epoch, Some(1.0));
        assert_eq!(log.best_accuracy(), Some(0.75));
        assert_eq!(log.evals[1].epoch, Some(2.0));
        assert_eq!(log.parse_errors.len(), 1);
        assert_eq!(log.lines.len(), 7);
    }

    fn outcome(end: ProcessEnd, stopped_by: Option<StoppedBy>, stop: bool) -> JobOutcome {
        let mut log = RunLog::default();
        log.push(&line("run_start", 1000, "null", ""));
        if stop {
            log.push(&line("run_stop", 4000, "null", "\"status\": \"aborted\""));
        }
        JobOutcome {
            end,
            stopped_by,
            wall: Duration::from_secs(3),
            log,
            source: Some("stream"),
        }
    }

    #[test]
    fn only_clean_ends_are_results() {
        let complete = Verdict::Complete {
            time_to_train_ms: 3000.0,
            success: false,
        };
        assert_eq!(
            verdict(&outcome(ProcessEnd::Exited(0), None, true)),
            complete
        );
        assert_eq!(
            verdict(&outcome(
                ProcessEnd::Signaled(15),
                Some(StoppedBy::AfterRunStop),
                true
            )),
            complete
        );
        for (o, why) in [
            (
                outcome(ProcessEnd::Exited(137), None, false),
                "no run_stop logged (exit status 137)",
            ),
            (
                outcome(ProcessEnd::Signaled(9), None, false),
                "no run_stop logged (killed by signal 9)",
            ),
            (
                outcome(ProcessEnd::Exited(1), None, true),
                "the job failed after run_stop (exit status 1)",
            ),
            (
                outcome(ProcessEnd::Signaled(15), Some(StoppedBy::TimeLimit), false),
                "stopped at the time limit (3.0 s) before run_stop",
            ),
        ] {
            assert_eq!(verdict(&o), Verdict::Incomplete(why.into()));
        }
    }
}

//! A client for power-dev's director (`ptd_client_server/server.py`, TCP
//! 4950), doing what its `client.py` does: hello, a clock check, a new
//! session, then the workload twice, a ranging run and a testing run
//! (only the testing run is the result), then `done`, the downloads and
//! `cleanup`, leaving the power folders the submission checker expects:
//!
//! ```text
//! <out>/<session>/power/{client.json,client.log,server.json,server.log,ptd_logs.txt}
//! <out>/<session>/ranging/{mlperf_log_detail.txt,mlperf_log_summary.txt,spl.txt}
//! <out>/<session>/run_1/{mlperf_log_detail.txt,mlperf_log_summary.txt,spl.txt,ptd_out.txt}
//! ```

use super::clock::{format_ptd_time, unix_seconds};
use super::session::{hash_dir, is_valid_label, new_uuid, SessionSummary};
use super::spl::{read_spl, trace_of};
use super::wire::LineConn;
use super::PtdError;
use crate::PowerTrace;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The client's hello (protocol version 3).
pub const CLIENT_HELLO: &str = "mlcommons/power client v3";
/// The director's hello.
pub const SERVER_HELLO: &str = "mlcommons/power server v3";
/// The largest clock difference power-dev accepts
/// (`CRITICAL_DIFFERENCE_TIME_MS`).
pub const CLOCK_LIMIT_MS: u64 = 400;
/// The files the client downloads after `done` (power-dev
/// `FETCH_FILES_LIST`).
pub const FETCH_FILES: [&str; 6] = [
    "power/ptd_logs.txt",
    "ranging/spl.txt",
    "power/server.json",
    "power/server.log",
    "run_1/spl.txt",
    "run_1/ptd_out.txt",
];
/// LoadGen's logs copied into each mode's folder.
pub const LOADGEN_FILES: [&str; 2] = ["mlperf_log_detail.txt", "mlperf_log_summary.txt"];

const PEER: &str = "the power director";

/// PTDaemon's `Go` reply at power-dev's 1000 ms interval.
pub(crate) const GO_REPLY_TEXT: &str = super::meter::GO_REPLY;
/// PTDaemon's `Stop` reply while measuring.
pub(crate) const STOP_REPLY_TEXT: &str = super::meter::STOP_REPLY;

/// A workload's error, whatever its type.
pub type WorkloadError = Box<dyn std::error::Error + Send + Sync>;

/// The two runs of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The first run, with the meter auto-ranging, to find its ranges.
    Ranging,
    /// The second run, on fixed ranges: the result.
    Testing,
}

impl Mode {
    /// The protocol's name: `ranging` or `testing`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Ranging => "ranging",
            Mode::Testing => "testing",
        }
    }

    /// The folder of its logs: `ranging` or `run_1`.
    pub fn folder(self) -> &'static str {
        match self {
            Mode::Ranging => "ranging",
            Mode::Testing => "run_1",
        }
    }
}

/// The power folders of a finished session.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerFolders {
    /// `<out>/<session>`: holds power/, ranging/ and run_1/.
    pub root: PathBuf,
    /// The session name the director gave.
    pub session: String,
}

impl PowerFolders {
    /// The testing run's spl.txt.
    pub fn testing_spl(&self) -> PathBuf {
        self.root.join("run_1").join("spl.txt")
    }

    /// The testing run's samples as a trace (cut it to the run's window for
    /// energy, as the checker averages only the samples inside it).
    pub fn testing_trace(&self, source: &str) -> Result<PowerTrace, PtdError> {
        let samples = read_spl(&self.testing_spl())?;
        Ok(trace_of(
            source.to_string(),
            &samples,
            vec![format!("power folders: {}", self.root.display())],
        ))
    }
}

/// A session with the director, one step at a time: [`connect`], then
/// for each mode [`start`], the workload, [`stop`]; then [`finish`].
///
/// [`connect`]: DirectorClient::connect
/// [`start`]: DirectorClient::start
/// [`stop`]: DirectorClient::stop
/// [`finish`]: DirectorClient::finish
pub struct DirectorClient {
    conn: LineConn,
    summary: SessionSummary,
    root: PathBuf,
    log: Vec<String>,
}

impl DirectorClient {
    /// Connect to `director://host:port` or `host:port`, check the clocks
    /// and open a session labelled `label`; its folders go under `out_dir`.
    pub fn connect(addr: &str, label: &str, out_dir: &Path) -> Result<Self, PtdError> {
        if !is_valid_label(label) {
            return Err(PtdError::Rejected {
                peer: "yardstick",
                command: format!("label {label:?}"),
                reply: "a label may hold only letters, digits, '-' and '_'".into(),
            });
        }
        let addr = addr.strip_prefix("director://").unwrap_or(addr);
        let mut client = DirectorClient {
            conn: LineConn::connect(addr, PEER)?,
            summary: SessionSummary::new(),
            root: PathBuf::new(),
            log: Vec::new(),
        };
        let hello = client.command(CLIENT_HELLO)?;
        if hello != SERVER_HELLO {
            return Err(PtdError::Handshake {
                peer: PEER,
                expected: SERVER_HELLO.into(),
                got: hello,
            });
        }
        client.check_clock()?;
        let client_uuid = new_uuid();
        let new = format!("new,{label},{client_uuid}");
        let reply = client.command(&new)?;
        let parsed = reply
            .strip_prefix("OK ")
            .and_then(|rest| rest.split_once(','));
        let Some((session, server_uuid)) = parsed else {
            return Err(PtdError::Rejected {
                peer: PEER,
                command: new,
                reply,
            });
        };
        client.summary.session_name = session.to_string();
        client.summary.uuid.client = client_uuid;
        client.summary.uuid.server = server_uuid.to_string();
        client.root = out_dir.join(session);
        let power = client.root.join("power");
        std::fs::create_dir_all(&power).map_err(|source| PtdError::File {
            path: power,
            source,
        })?;
        client.note(&format!("Session id is {session:?}"));
        Ok(client)
    }

    /// The session name the director gave.
    pub fn session(&self) -> &str {
        &self.summary.session_name
    }

    /// Begin measuring `mode`; run the workload right after.
    pub fn start(&mut self, mode: Mode) -> Result<(), PtdError> {
        self.check_clock()?;
        let testing = mode == Mode::Testing;
        self.summary.phases.mark(testing, 0);
        let command = format!("session,{},start,{}", self.session(), mode.name());
        self.command_ok(&command)?;
        self.summary.phases.mark(testing, 1);
        self.check_clock()
    }

    /// End measuring `mode`, whose LoadGen logs (mlperf_log_detail.txt,
    /// mlperf_log_summary.txt) are in `loadgen_logs`.
    pub fn stop(&mut self, mode: Mode, loadgen_logs: &Path) -> Result<(), PtdError> {
        let testing = mode == Mode::Testing;
        self.check_clock()?;
        self.summary.phases.mark(testing, 2);
        let command = format!("session,{},stop,{}", self.session(), mode.name());
        self.command_ok(&command)?;
        self.summary.phases.mark(testing, 3);
        self.check_clock()?;
        let folder = self.root.join(mode.folder());
        std::fs::create_dir_all(&folder).map_err(|source| PtdError::File {
            path: folder.clone(),
            source,
        })?;
        for name in LOADGEN_FILES {
            let from = loadgen_logs.join(name);
            std::fs::copy(&from, folder.join(name))
                .map_err(|source| PtdError::File { path: from, source })?;
        }
        Ok(())
    }

    /// Write client.log and client.json, close the session and download
    /// the director's logs into the power folders.
    pub fn finish(mut self) -> Result<PowerFolders, PtdError> {
        self.note("Done runs");
        let power = self.root.join("power");
        let client_log = power.join("client.log");
        let log_text: String = self.log.iter().map(|line| format!("{line}\n")).collect();
        std::fs::write(&client_log, log_text).map_err(|source| PtdError::File {
            path: client_log,
            source,
        })?;
        self.summary.results = hash_dir(&self.root)?;
        self.summary.save(&power.join("client.json"))?;
        let session = self.session().to_string();
        self.command_ok(&format!("session,{session},done"))?;
        for name in FETCH_FILES {
            let command = format!("download,{session},{name}");
            self.conn.send(&command).map_err(|source| PtdError::Io {
                peer: PEER,
                context: format!("sending {command:?}"),
                source,
            })?;
            let content = self.conn.recv_file(&command)?;
            let path = self.root.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|source| PtdError::File {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
            std::fs::write(&path, content).map_err(|source| PtdError::File { path, source })?;
        }
        self.command_ok(&format!("cleanup,{session}"))?;
        Ok(PowerFolders {
            root: self.root,
            session,
        })
    }

    /// Send, record, return the reply.
    fn command(&mut self, command: &str) -> Result<String, PtdError> {
        self.note(&format!("Sending command to the server: {command:?}"));
        let sent = SystemTime::now();
        let reply = self.conn.command(command)?;
        self.note(&format!("Got response: {reply:?}"));
        self.summary.message(command, sent, &reply);
        Ok(reply)
    }

    fn command_ok(&mut self, command: &str) -> Result<(), PtdError> {
        let reply = self.command(command)?;
        if reply != "OK" {
            return Err(PtdError::Rejected {
                peer: PEER,
                command: command.into(),
                reply,
            });
        }
        Ok(())
    }

    /// power-dev's remote clock check: the director's `time` must fall
    /// within 400 ms of ours on both sides of the exchange.
    fn check_clock(&mut self) -> Result<(), PtdError> {
        let before = unix_seconds(SystemTime::now());
        let reply = self.command("time")?;
        let after = unix_seconds(SystemTime::now());
        let remote: f64 = reply.trim().parse().map_err(|_| PtdError::Rejected {
            peer: PEER,
            command: "time".into(),
            reply: reply.clone(),
        })?;
        let offset_ms = 1000.0 * (before - remote).abs().max((after - remote).abs());
        if offset_ms > CLOCK_LIMIT_MS as f64 {
            return Err(PtdError::ClockSkew {
                offset_ms,
                limit_ms: CLOCK_LIMIT_MS,
            });
        }
        Ok(())
    }

    fn note(&mut self, message: &str) {
        self.log.push(format!(
            "client {} [INFO] {message}",
            format_ptd_time(SystemTime::now())
        ));
    }
}

/// What one workload run hands back: where its LoadGen logs are, and its
/// own result (kept whatever happens to the power session).
pub struct WorkloadRun<T> {
    /// The folder holding mlperf_log_detail.txt and mlperf_log_summary.txt.
    pub loadgen_logs: PathBuf,
    /// The run's performance result.
    pub result: T,
}

/// A whole director session and the workload's results.
pub struct DirectorOutcome<T> {
    /// The ranging run's result (not the benchmark's result).
    pub ranging: Option<T>,
    /// The testing run's result: the benchmark's result. Present whenever
    /// the workload succeeded, even when the power session failed.
    pub testing: Option<T>,
    /// The power folders, or why the power measurement failed.
    pub power: Result<PowerFolders, PtdError>,
}

/// Run `workload` twice under the director at `addr` (ranging, then
/// testing), as power-dev's client.py does. A failure of the power session
/// never costs the performance result: if the director is lost before the
/// testing run, the testing run still runs, unmeasured.
pub fn run_director_session<T, F>(
    addr: &str,
    label: &str,
    out_dir: &Path,
    mut workload: F,
) -> DirectorOutcome<T>
where
    F: FnMut(Mode) -> Result<WorkloadRun<T>, WorkloadError>,
{
    let mut outcome = DirectorOutcome {
        ranging: None,
        testing: None,
        power: Err(PtdError::BadAddress(String::new())),
    };
    let mut client = match DirectorClient::connect(addr, label, out_dir) {
        Ok(client) => client,
        Err(error) => {
            outcome.power = Err(error);
            outcome.testing = run_unmeasured(&mut workload, &mut outcome.power);
            return outcome;
        }
    };
    for mode in [Mode::Ranging, Mode::Testing] {
        if let Err(error) = client.start(mode) {
            outcome.power = Err(error);
            if mode == Mode::Ranging || outcome.testing.is_none() {
                outcome.testing = run_unmeasured(&mut workload, &mut outcome.power);
            }
            return outcome;
        }
        let run = match workload(mode) {
            Ok(run) => run,
            Err(source) => {
                outcome.power = Err(PtdError::Workload {
                    mode: mode.name(),
                    source,
                });
                return outcome;
            }
        };
        let stopped = client.stop(mode, &run.loadgen_logs);
        match mode {
            Mode::Ranging => outcome.ranging = Some(run.result),
            Mode::Testing => outcome.testing = Some(run.result),
        }
        if let Err(error) = stopped {
            outcome.power = Err(error);
            if mode == Mode::Ranging {
                outcome.testing = run_unmeasured(&mut workload, &mut outcome.power);
            }
            return outcome;
        }
    }
    outcome.power = client.finish();
    outcome
}

/// The testing run without power, after the power session failed.
fn run_unmeasured<T, F>(workload: &mut F, power: &mut Result<PowerFolders, PtdError>) -> Option<T>
where
    F: FnMut(Mode) -> Result<WorkloadRun<T>, WorkloadError>,
{
    match workload(Mode::Testing) {
        Ok(run) => Some(run.result),
        Err(source) => {
            // The power error stays the headline; the workload's is lost
            // only if there was none.
            if power.is_ok() {
                *power = Err(PtdError::Workload {
                    mode: "testing",
                    source,
                });
            }
            None
        }
    }
}

//! A simulated power-dev director (`ptd_client_server/server.py`) in front
//! of a [`SimPtd`]: the client protocol on TCP 4950, PTDaemon driven as the
//! real director drives it, and the session folders it writes and serves
//! (power/server.json, server.log, ptd_logs.txt, ranging/spl.txt,
//! run_1/spl.txt, run_1/ptd_out.txt).

use super::super::clock::{format_ptd_time, session_name, unix_seconds};
use super::super::director::{CLIENT_HELLO, FETCH_FILES, SERVER_HELLO};
use super::super::meter::PtdLink;
use super::super::session::{hash_dir, is_uuid, is_valid_label, new_uuid, SessionSummary};
use super::super::spl::{spl_text, SplSample};
use super::super::wire::LineConn;
use super::super::PtdError;
use super::ptd::{SimPtd, SimPtdConfig};
use super::Serving;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How the simulated director behaves.
#[derive(Debug, Clone)]
pub struct SimDirectorConfig {
    /// The simulated meter behind it (one is started per session, as the
    /// director starts PTDaemon per session).
    pub ptd: SimPtdConfig,
    /// Where session folders are kept until the client's `cleanup`.
    pub out_dir: PathBuf,
    /// The pause around each measurement for the meter to settle (power-dev
    /// sleeps 10 s; tests use a few milliseconds).
    pub settle: Duration,
    /// Close the client's connection, unanswered, on the first command
    /// containing this text (e.g. `stop,testing`): a dropped connection.
    pub drop_on: Option<String>,
}

impl SimDirectorConfig {
    /// A director keeping its sessions under `out_dir`, with a 1 s settle.
    pub fn new(out_dir: PathBuf) -> Self {
        Self {
            ptd: SimPtdConfig::default(),
            out_dir,
            settle: Duration::from_secs(1),
            drop_on: None,
        }
    }
}

/// A running simulated director; dropping it stops it.
pub struct SimDirector {
    serving: Serving,
}

impl SimDirector {
    /// Listen on `bind` (e.g. `127.0.0.1:0`).
    pub fn start(bind: &str, config: SimDirectorConfig) -> io::Result<SimDirector> {
        std::fs::create_dir_all(&config.out_dir)?;
        let serving = Serving::start(bind, move |stream| serve(stream, &config))?;
        Ok(SimDirector { serving })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.serving.addr
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Initial,
    Ranging,
    RangingDone,
    Testing,
    TestingDone,
}

struct Session {
    id: String,
    dir: PathBuf,
    meter: Option<(SimPtd, PtdLink)>,
    state: State,
    max_volts: String,
    amps_range: String,
}

struct Connection<'a> {
    config: &'a SimDirectorConfig,
    summary: Option<SessionSummary>,
    session: Option<Session>,
    /// The last session's id and folder, for `download` and `cleanup`.
    last: Option<(String, PathBuf)>,
    log: Vec<String>,
}

fn serve(stream: TcpStream, config: &SimDirectorConfig) {
    let Ok(mut conn) = LineConn::from_stream(stream, "the client") else {
        return;
    };
    let mut connection = Connection {
        config,
        summary: Some(SessionSummary::new()),
        session: None,
        last: None,
        log: Vec::new(),
    };
    let Ok(Some(magic)) = conn.recv() else { return };
    if let Some(summary) = &mut connection.summary {
        summary.message(&magic, SystemTime::now(), SERVER_HELLO);
    }
    if conn.send(SERVER_HELLO).is_err() || magic != CLIENT_HELLO {
        return;
    }
    while let Ok(Some(command)) = conn.recv() {
        let received = SystemTime::now();
        connection.note(&format!("Got command from the client {command:?}"));
        if config
            .drop_on
            .as_deref()
            .is_some_and(|fault| command.contains(fault))
        {
            connection.note("Dropping the connection (simulated fault)");
            conn.shutdown();
            break;
        }
        let Some(reply) = connection.handle(&command, &mut conn) else {
            continue;
        };
        connection.note(&format!("Sending reply to client {reply:?}"));
        if let Some(summary) = &mut connection.summary {
            summary.message(&command, received, &reply);
        }
        if conn.send(&reply).is_err() {
            break;
        }
    }
    if connection.session.is_some() {
        connection.note("Client connection closed unexpectedly");
        // The session failed; its folder is kept for inspection.
        let _ = connection.drop_session();
    }
}

impl Connection<'_> {
    fn note(&mut self, message: &str) {
        self.log.push(format!(
            "server {} [INFO] {message}",
            format_ptd_time(SystemTime::now())
        ));
    }

    /// The reply, or `None` when a file was sent instead.
    fn handle(&mut self, command: &str, conn: &mut LineConn) -> Option<String> {
        let fields: Vec<&str> = command.split(',').collect();
        let reply = match fields.as_slice() {
            ["time"] => format!("{}", unix_seconds(SystemTime::now())),
            ["set_ntp"] | ["stop"] => "OK".into(),
            ["new", label, client_uuid] => self.new_session(label, client_uuid),
            ["session", id, rest @ ..] if !rest.is_empty() => {
                let known = self
                    .session
                    .as_ref()
                    .is_some_and(|session| session.id == *id || *id == "*");
                if !known {
                    return Some("Error: unknown session".into());
                }
                match rest {
                    [verb @ ("start" | "stop"), mode @ ("ranging" | "testing")] => {
                        match self.measure(verb, mode) {
                            Ok(true) => "OK".into(),
                            Ok(false) => "Error".into(),
                            Err(message) => format!("Error: {message}"),
                        }
                    }
                    ["done"] => match self.drop_session() {
                        Ok(()) => "OK".into(),
                        Err(error) => format!("Error: {error}"),
                    },
                    _ => "Error Unknown session command".into(),
                }
            }
            ["download", id, name] if self.is_last(id) && FETCH_FILES.contains(name) => {
                let path = self.last.as_ref().map(|(_, dir)| dir.join(name))?;
                return match std::fs::read(&path) {
                    Ok(content) => {
                        // A client gone mid-file ends the connection anyway.
                        let _ = conn.send_file(&content);
                        None
                    }
                    Err(error) => Some(format!("Error: {}: {error}", path.display())),
                };
            }
            ["cleanup", id] if self.is_last(id) => {
                let dir = self.last.as_ref().map(|(_, dir)| dir.clone())?;
                match std::fs::remove_dir_all(&dir) {
                    Ok(()) => "OK".into(),
                    Err(error) => format!("Error: {error}"),
                }
            }
            _ => "Error".into(),
        };
        Some(reply)
    }

    fn is_last(&self, id: &str) -> bool {
        self.last.as_ref().is_some_and(|(last, _)| last == id)
    }

    fn new_session(&mut self, label: &str, client_uuid: &str) -> String {
        if !is_valid_label(label) {
            return "Error: invalid label".into();
        }
        if !is_uuid(client_uuid) {
            return "Error: exception".into();
        }
        if self.session.is_some() {
            // A new session replaces an unfinished one.
            let _ = self.drop_session();
            self.summary = Some(SessionSummary::new());
        }
        let id = session_name(SystemTime::now(), label);
        let dir = self.config.out_dir.join(&id);
        if let Err(error) = std::fs::create_dir_all(dir.join("power")) {
            return format!("Error: {error}");
        }
        let server_uuid = new_uuid();
        if let Some(summary) = &mut self.summary {
            summary.uuid.client = client_uuid.to_string();
            summary.uuid.server = server_uuid.clone();
            summary.session_name = id.clone();
        }
        self.last = Some((id.clone(), dir.clone()));
        self.session = Some(Session {
            id: id.clone(),
            dir,
            meter: None,
            state: State::Initial,
            max_volts: String::new(),
            amps_range: String::new(),
        });
        format!("OK {id},{server_uuid}")
    }

    /// `start`/`stop` of `ranging`/`testing`: true when done (or already
    /// in that state), false in the wrong state.
    fn measure(&mut self, verb: &str, mode: &str) -> Result<bool, PtdError> {
        let settle = self.config.settle;
        let ptd_config = self.config.ptd.clone();
        let (Some(session), Some(summary)) = (self.session.as_mut(), self.summary.as_mut()) else {
            return Ok(false);
        };
        match (verb, mode, session.state) {
            ("start", "ranging", State::Ranging) | ("start", "testing", State::Testing) => Ok(true),
            ("stop", "ranging", State::RangingDone) | ("stop", "testing", State::TestingDone) => {
                Ok(true)
            }
            ("start", "ranging", State::Initial) => {
                summary.phases.mark(false, 0);
                let ptd =
                    SimPtd::start("127.0.0.1:0", ptd_config).map_err(|source| PtdError::Io {
                        peer: "PTDaemon",
                        context: "starting".into(),
                        source,
                    })?;
                let link = PtdLink::connect(&ptd.addr().to_string())?;
                let (_, link) = session.meter.insert((ptd, link));
                link.cmd("SR,V,Auto")?;
                link.cmd("SR,A,Auto")?;
                link.cmd("SR,A,Auto")?;
                std::thread::sleep(settle);
                link.cmd(&format!("Go,1000,0,{}_ranging", session.id))?;
                session.state = State::Ranging;
                summary.phases.mark(false, 1);
                Ok(true)
            }
            ("stop", "ranging", State::Ranging) => {
                summary.phases.mark(false, 2);
                std::thread::sleep(settle);
                let Some((_, link)) = session.meter.as_mut() else {
                    return Ok(false);
                };
                link.cmd("Stop")?;
                let samples = link.read_samples(&format!("{}_ranging", session.id))?;
                link.cmd("Uncertainty")?;
                link.cmd("Watts")?;
                if samples.is_empty() {
                    return Err(PtdError::Rejected {
                        peer: "PTDaemon",
                        command: "RL".into(),
                        reply: format!(
                            "the ranging measurement ended too fast (less than 1 second), no PTDaemon logs generated for {:?}",
                            session.id
                        ),
                    });
                }
                let max_volts = samples.iter().map(|s| s.volts).fold(f64::MIN, f64::max);
                let max_amps = samples.iter().map(|s| s.amps).fold(f64::MIN, f64::max);
                session.max_volts = format!("{max_volts:.6}");
                session.amps_range = format!("{}", max_amps * 1.1);
                write_file(
                    &session.dir.join("ranging").join("spl.txt"),
                    &spl_text(&samples),
                )?;
                session.state = State::RangingDone;
                summary.phases.mark(false, 3);
                Ok(true)
            }
            ("start", "testing", State::RangingDone) => {
                summary.phases.mark(true, 0);
                let Some((_, link)) = session.meter.as_mut() else {
                    return Ok(false);
                };
                for (channel, value) in [("V", &session.max_volts), ("A", &session.amps_range)] {
                    let reply = link.cmd(&format!("SR,{channel},{value}"))?;
                    if reply.contains("Error") {
                        return Err(PtdError::Rejected {
                            peer: "PTDaemon",
                            command: format!("SR,{channel},{value}"),
                            reply,
                        });
                    }
                }
                std::thread::sleep(settle);
                link.cmd(&format!("Go,1000,0,{}_testing", session.id))?;
                session.state = State::Testing;
                summary.phases.mark(true, 1);
                Ok(true)
            }
            ("stop", "testing", State::Testing) => {
                summary.phases.mark(true, 2);
                std::thread::sleep(settle);
                let Some((ptd, link)) = session.meter.as_mut() else {
                    return Ok(false);
                };
                let watts = link.cmd("Watts")?;
                let uncertainty = link.cmd("Uncertainty")?;
                link.cmd("Stop")?;
                let samples: Vec<SplSample> =
                    link.read_samples(&format!("{}_testing", session.id))?;
                link.cmd("Uncertainty")?;
                link.cmd("Watts")?;
                let run = session.dir.join("run_1");
                write_file(&run.join("spl.txt"), &spl_text(&samples))?;
                write_file(
                    &run.join("ptd_out.txt"),
                    &format!("Analyzer 1:\nPower: {watts} \nUncertainty: {uncertainty}\n"),
                )?;
                summary.phases.mark(true, 3);
                let ptd_log = format!("Analyzer 1\n{}", ptd.stdout_log());
                write_file(&session.dir.join("power").join("ptd_logs.txt"), &ptd_log)?;
                session.state = State::TestingDone;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// End the session: ranges restored, PTDaemon stopped, server.log and
    /// server.json written.
    fn drop_session(&mut self) -> Result<(), PtdError> {
        let Some(mut session) = self.session.take() else {
            return Ok(());
        };
        let mut summary = self.summary.take().unwrap_or_else(SessionSummary::new);
        let mut ptd_port = 0;
        if let Some((ptd, mut link)) = session.meter.take() {
            ptd_port = ptd.addr().port();
            // A meter already gone cannot be restored; the session ends anyway.
            let _ = link.restore_ranges();
            summary.ptd_messages = Some(link.messages.clone());
        }
        let power = session.dir.join("power");
        let log: String = self.log.iter().map(|line| format!("{line}\n")).collect();
        write_file(&power.join("server.log"), &log)?;
        summary.ptd_config = Some(vec![serde_json::json!({
            "command": ["yardstick", "power-sim", "ptd", "-p", ptd_port.to_string(), "49", "simulated"],
            "device_type": 49,
            "interface_flag": "",
            "dc_flag": null,
            "device_port": "simulated",
            "channel": null,
        })]);
        summary.results = hash_dir(&session.dir)?;
        summary.save(&power.join("server.json"))?;
        session.state = State::Initial;
        Ok(())
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), PtdError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| PtdError::File {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(path, text).map_err(|source| PtdError::File {
        path: path.to_path_buf(),
        source,
    })
}

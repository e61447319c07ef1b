//! A direct connection to SPEC PTDaemon (port 8888) for a single machine:
//! the commands power-dev's director sends, as a [`PowerMeter`].

use super::clock::format_ptd_time;
use super::session::PtdMessage;
use super::spl::{spl_text, trace_of, SplSample};
use super::wire::LineConn;
use super::PtdError;
use crate::{PowerError, PowerMeter, PowerTrace};
use std::path::PathBuf;
use std::time::SystemTime;

const PEER: &str = "PTDaemon";
/// PTDaemon's greeting.
pub(crate) const PTD_HELLO: &str = "Hello, PTDaemon here!";
/// The `Go` reply at power-dev's 1000 ms interval.
pub(crate) const GO_REPLY: &str =
    "Starting untimed measurement, maximum 500000 samples at 1000ms with 0 rampup samples";
/// The `Stop` reply while measuring.
pub(crate) const STOP_REPLY: &str = "Stopping untimed measurement";

/// A command connection to PTDaemon that records every exchange.
pub(crate) struct PtdLink {
    conn: LineConn,
    /// Every command and reply, for server.json's `ptd_messages`.
    pub(crate) messages: Vec<PtdMessage>,
    /// Identify's reply.
    pub(crate) identity: String,
    /// The current range before we changed it, to restore after
    /// (power-dev's rule: the value when auto-ranging is off, else `Auto`).
    pub(crate) initial_amps: String,
    pub(crate) initial_volts: String,
}

impl PtdLink {
    /// Connect, greet, identify and read the ranges.
    pub(crate) fn connect(addr: &str) -> Result<Self, PtdError> {
        let conn = LineConn::connect(addr, PEER)?;
        let mut link = PtdLink {
            conn,
            messages: Vec::new(),
            identity: String::new(),
            initial_amps: "Auto".into(),
            initial_volts: "Auto".into(),
        };
        let hello = link.cmd("Hello")?;
        if hello != PTD_HELLO {
            return Err(PtdError::Handshake {
                peer: PEER,
                expected: PTD_HELLO.into(),
                got: hello,
            });
        }
        link.identity = link.cmd("Identify")?;
        let ranges = link.cmd("RR")?;
        link.initial_amps = initial_range(&ranges, 1);
        link.initial_volts = initial_range(&ranges, 3);
        Ok(link)
    }

    /// Send a command, record and return its reply.
    pub(crate) fn cmd(&mut self, command: &str) -> Result<String, PtdError> {
        let reply = self.conn.command(command)?;
        self.messages.push(PtdMessage {
            cmd: command.to_string(),
            reply: reply.clone(),
        });
        Ok(reply)
    }

    /// Send a command whose reply must be `expected`.
    pub(crate) fn expect(&mut self, command: &str, expected: &str) -> Result<(), PtdError> {
        let reply = self.cmd(command)?;
        if reply != expected {
            return Err(PtdError::Rejected {
                peer: PEER,
                command: command.into(),
                reply,
            });
        }
        Ok(())
    }

    /// The samples taken since the last read, marked with `mark`: `RL,*,*`,
    /// falling back to `RL` (single-channel AC) or `DC-RL` as power-dev does.
    pub(crate) fn read_samples(&mut self, mark: &str) -> Result<Vec<SplSample>, PtdError> {
        let mut command = "RL,*,*";
        let mut header = self.cmd(command)?;
        if header.contains("Invalid number of parameters") {
            command = "RL";
            header = self.cmd(command)?;
        } else if header.contains("Unknown command") {
            command = "DC-RL";
            header = self.cmd(command)?;
        }
        let count = header
            .split(' ')
            .nth(1)
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|_| header.starts_with("Last "))
            .ok_or_else(|| PtdError::Rejected {
                peer: PEER,
                command: command.into(),
                reply: header.clone(),
            })?;
        let mut samples = Vec::with_capacity(count);
        for _ in 0..count {
            let line = self.conn.recv_reply(command)?;
            let mut sample = SplSample::parse(&line).ok_or_else(|| PtdError::Rejected {
                peer: PEER,
                command: command.into(),
                reply: line.clone(),
            })?;
            sample.mark = mark.to_string();
            samples.push(sample);
        }
        Ok(samples)
    }

    /// Put the ranges back as they were.
    pub(crate) fn restore_ranges(&mut self) -> Result<(), PtdError> {
        let volts = format!("SR,V,{}", self.initial_volts);
        let amps = format!("SR,A,{}", self.initial_amps);
        self.cmd(&volts)?;
        self.cmd(&amps)?;
        Ok(())
    }
}

/// power-dev's reading of an `RR` reply (`Ranges,<A auto>,<A range>,<V
/// auto>,<V range>`): the range at `index + 1` when auto-ranging (at
/// `index`) is off and the range is positive, else `Auto`.
pub(crate) fn initial_range(reply: &str, index: usize) -> String {
    let fields: Vec<&str> = reply.split(',').collect();
    match (fields.get(index), fields.get(index + 1)) {
        (Some(&"0"), Some(range)) if range.parse::<f64>().is_ok_and(|r| r > 0.0) => {
            range.to_string()
        }
        _ => "Auto".to_string(),
    }
}

/// `ptd://host:port` or `host:port`: a [`PtdMeter`], connected and
/// identified (so a wrong address fails now, not at the run's end).
pub fn open_meter(addr: &str) -> Result<Box<dyn PowerMeter>, PowerError> {
    Ok(Box::new(PtdMeter::connect(addr)?))
}

/// A PowerMeter over a direct PTDaemon connection: auto-ranging
/// (`SR,V,Auto`, `SR,A,Auto`), one untimed measurement at 1 s
/// (`Go,1000,0,<mark>`), the samples read back with `RL` at the end, the
/// ranges restored.
pub struct PtdMeter {
    addr: String,
    link: PtdLink,
    mark: Option<String>,
    spl_path: Option<PathBuf>,
}

impl PtdMeter {
    /// Connect to `ptd://host:port` or `host:port`.
    pub fn connect(addr: &str) -> Result<Self, PtdError> {
        let addr = addr.strip_prefix("ptd://").unwrap_or(addr).to_string();
        let link = PtdLink::connect(&addr)?;
        Ok(Self {
            addr,
            link,
            mark: None,
            spl_path: None,
        })
    }

    /// Also write the samples as spl.txt to `path` when stopped.
    pub fn with_spl_file(mut self, path: PathBuf) -> Self {
        self.spl_path = Some(path);
        self
    }

    /// PTDaemon's `Identify` reply (meter model, PTDaemon version).
    pub fn identity(&self) -> &str {
        &self.link.identity
    }

    /// Every command sent and its reply.
    pub fn messages(&self) -> &[PtdMessage] {
        &self.link.messages
    }
}

impl PowerMeter for PtdMeter {
    fn describe(&self) -> String {
        let model = self.link.identity.split(',').next().unwrap_or("");
        format!("ptd://{} ({model})", self.addr)
    }

    fn start(&mut self) -> Result<(), PowerError> {
        if self.mark.is_some() {
            return Err(PowerError::WrongState("already measuring"));
        }
        let mark = format!(
            "yardstick_{}",
            format_ptd_time(SystemTime::now()).replace([' ', ':', '.'], "-")
        );
        self.link.expect("SR,V,Auto", "Range V changed")?;
        self.link.expect("SR,A,Auto", "Range A changed")?;
        self.link.expect(&format!("Go,1000,0,{mark}"), GO_REPLY)?;
        self.mark = Some(mark);
        Ok(())
    }

    fn stop(&mut self) -> Result<PowerTrace, PowerError> {
        let mark = self
            .mark
            .take()
            .ok_or(PowerError::WrongState("not measuring"))?;
        self.link.expect("Stop", STOP_REPLY)?;
        let samples = self.link.read_samples(&mark)?;
        let uncertainty = self.link.cmd("Uncertainty")?;
        self.link.restore_ranges()?;
        if let Some(path) = &self.spl_path {
            std::fs::write(path, spl_text(&samples)).map_err(|source| PtdError::File {
                path: path.clone(),
                source,
            })?;
        }
        let notes = vec![
            format!("PTDaemon: {}", self.link.identity),
            format!("mark {mark}, {} samples, last {uncertainty}", samples.len()),
        ];
        Ok(trace_of(self.describe(), &samples, notes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_range_follows_power_dev() {
        assert_eq!(
            initial_range("Ranges,0,20.000000,0,300.000000", 1),
            "20.000000"
        );
        assert_eq!(
            initial_range("Ranges,0,20.000000,0,300.000000", 3),
            "300.000000"
        );
        assert_eq!(initial_range("Ranges,1,-1.000000,1,-1.000000", 1), "Auto");
        assert_eq!(initial_range("Ranges,0,-1.000000", 1), "Auto");
        assert_eq!(initial_range("garbage", 3), "Auto");
    }
}

//! Compliance audits (TEST01, TEST04, TEST06, TEST09): the verdicts the official
//! compliance scripts of mlcommons/inference `compliance/` write, computed
//! from the logs of the runs, and the folder layout their
//! `run_verification.py` leaves behind.
//!
//! The verifiers are pure functions over the logs' text: each returns what
//! the official script would have printed ([`ScriptOutput`]) and whether it
//! passed (the official wrapper looks for `TEST PASS` in that text; TEST06
//! for `verification complete`). Where the official scripts crash or are
//! lax, the module says so at the function; the verdict text stays the
//! official one so a submission checker reading it sees what it expects.

mod accuracy_log;
pub mod config;
pub mod layout;
pub mod test01;
pub mod test04;
pub mod test06;
pub mod test09;

pub use accuracy_log::{parse_accuracy_log, AccuracyLogEntry};
pub use config::{audit_config, AuditTest, ACCURACY_LOG_RNG_SEED};
pub use layout::{write_test01, write_test04, write_test06, write_test09, AuditPaths};
pub use test06::{AnswerEncoding, Test06Verdict};

use std::path::PathBuf;

/// Why an audit could not produce its verdict.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not an MLPerf accuracy log")]
    AccuracyLog {
        path: PathBuf,
        #[source]
        source: accuracy_log::AccuracyLogError,
    },
}

/// What an official verification script printed: its standard output and
/// its standard error, which `run_verification.py` merges into one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptOutput {
    pub stdout: String,
    /// Written as it happens (the log parser's log lines).
    pub stderr: String,
    /// How the script ended, if not normally: a `sys.exit` message or an
    /// uncaught exception's traceback.
    pub exit: String,
}

impl ScriptOutput {
    fn out(&mut self, line: impl AsRef<str>) {
        self.stdout.push_str(line.as_ref());
        self.stdout.push('\n');
    }

    fn err(&mut self, line: impl AsRef<str>) {
        self.stderr.push_str(line.as_ref());
        self.stderr.push('\n');
    }

    fn end(&mut self, line: impl AsRef<str>) {
        self.exit.push_str(line.as_ref());
        self.exit.push('\n');
    }

    /// The merged text as the verify file holds it. The script's stdout is
    /// a pipe, so Python buffers it until exit, while its log lines go to
    /// stderr at once: they come first. A `sys.exit` message or a
    /// traceback is written after Python flushes stdout: it comes last.
    /// (With PYTHONUNBUFFERED set, the official file interleaves instead.)
    pub fn merged(&self) -> String {
        format!("{}{}{}", self.stderr, self.stdout, self.exit)
    }

    /// The official wrapper's test: `"TEST PASS" in file.read()`.
    pub fn passed(&self) -> bool {
        self.merged().contains("TEST PASS")
    }
}

/// The `effective_scenario` a detail log's `:::MLLOG` lines name (TEST06
/// takes the scenario from the run, as its `--scenario` says).
pub fn detail_scenario(detail_log: &str) -> Option<String> {
    detail_log.lines().find_map(|line| {
        let json = line.trim_end().strip_prefix(":::MLLOG")?;
        let record = yardstick_formats::pyjson::loads(json).ok()?;
        (record.get("key")?.as_str()? == "effective_scenario")
            .then(|| record.get("value")?.as_str().map(str::to_string))
            .flatten()
    })
}

/// How the official scripts decode the hex `data` of an accuracy log
/// (`numpy.frombuffer` with this dtype).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    /// numpy's `byte` (int8): TEST01's default.
    Byte,
    Int16,
    /// TEST06's default.
    Int32,
    Int64,
    Float32,
}

impl Dtype {
    pub fn size(self) -> usize {
        match self {
            Dtype::Byte => 1,
            Dtype::Int16 => 2,
            Dtype::Int32 | Dtype::Float32 => 4,
            Dtype::Int64 => 8,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Dtype::Byte => "byte",
            Dtype::Int16 => "int16",
            Dtype::Int32 => "int32",
            Dtype::Int64 => "int64",
            Dtype::Float32 => "float32",
        }
    }

    pub fn parse(name: &str) -> Option<Dtype> {
        Some(match name {
            "byte" => Dtype::Byte,
            "int16" => Dtype::Int16,
            "int32" => Dtype::Int32,
            "int64" => Dtype::Int64,
            "float32" => Dtype::Float32,
            _ => return None,
        })
    }

    /// `numpy.frombuffer(bytes, dtype)`: `None` where the length is not a
    /// multiple of the element size (numpy raises a ValueError).
    pub fn decode(self, bytes: &[u8]) -> Option<Vec<Element>> {
        if !bytes.len().is_multiple_of(self.size()) {
            return None;
        }
        Some(
            bytes
                .chunks_exact(self.size())
                .map(|c| match self {
                    Dtype::Byte => Element::Int(i64::from(c[0] as i8)),
                    Dtype::Int16 => Element::Int(i64::from(i16::from_le_bytes([c[0], c[1]]))),
                    Dtype::Int32 => {
                        Element::Int(i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                    }
                    Dtype::Int64 => Element::Int(i64::from_le_bytes([
                        c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
                    ])),
                    Dtype::Float32 => Element::Float(f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
                })
                .collect(),
        )
    }
}

/// One decoded element; `==` is numpy's (NaN unequal to itself, -0.0 equal
/// to 0.0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Element {
    Int(i64),
    Float(f32),
}

impl Element {
    /// numpy's comparison of an element with a Python int (`data[i] == 2`).
    pub fn equals_int(self, value: i64) -> bool {
        match self {
            Element::Int(v) => v == value,
            Element::Float(f) => f64::from(f) == value as f64,
        }
    }
}

/// `bytes.fromhex`: pairs of hex digits, whitespace between pairs allowed.
pub(crate) fn from_hex(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut digits = text.chars().filter(|c| !c.is_ascii_whitespace());
    loop {
        let Some(hi) = digits.next() else {
            return Some(out);
        };
        let lo = digits.next()?;
        out.push((hi.to_digit(16)? * 16 + lo.to_digit(16)?) as u8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_dtypes_decode_as_numpy_does() {
        assert_eq!(from_hex("0A ff"), Some(vec![10, 255]));
        assert_eq!(from_hex("0"), None);
        assert_eq!(from_hex("zz"), None);
        assert_eq!(
            Dtype::Byte.decode(&[0xff, 1]),
            Some(vec![Element::Int(-1), Element::Int(1)])
        );
        assert_eq!(
            Dtype::Int32.decode(&[2, 0, 0, 0, 1, 1, 0, 0]),
            Some(vec![Element::Int(2), Element::Int(257)])
        );
        assert_eq!(Dtype::Int32.decode(&[1, 2, 3]), None);
        let nan = Dtype::Float32.decode(&f32::NAN.to_le_bytes()).unwrap();
        assert_ne!(nan[0], nan[0]);
        assert!(Element::Float(2.0).equals_int(2));
    }

    #[test]
    fn scenario_of_a_detail_log() {
        let log = ":::MLLOG {\"key\": \"loadgen_version\", \"value\": \"6.0\"}\n:::MLLOG {\"key\": \"effective_scenario\", \"value\": \"Server\"}\n";
        assert_eq!(detail_scenario(log).as_deref(), Some("Server"));
        assert_eq!(detail_scenario("nothing\n"), None);
    }

    #[test]
    fn log_lines_first_exit_message_last() {
        let mut o = ScriptOutput::default();
        o.out("Verifying performance.");
        o.end("TEST FAIL: Test results are invalid");
        o.err("[log] loaded");
        assert_eq!(
            o.merged(),
            "[log] loaded\nVerifying performance.\nTEST FAIL: Test results are invalid\n"
        );
        assert!(!o.passed());
    }
}

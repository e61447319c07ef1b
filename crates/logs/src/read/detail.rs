//! Reading `mlperf_log_detail.txt`: one `:::MLLOG {json}` line per event.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Why a detail log cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum DetailReadError {
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: not a valid :::MLLOG line")]
    BadLine {
        path: PathBuf,
        line: usize,
        source: serde_json::Error,
    },
}

/// One event of the detail log.
#[derive(Debug, Clone, PartialEq)]
pub struct DetailEntry {
    pub key: String,
    pub value: Value,
    pub time_ms: Option<f64>,
    pub is_error: bool,
    pub is_warning: bool,
}

/// The events of a detail log, in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DetailLog {
    pub entries: Vec<DetailEntry>,
    /// Lines that were not `:::MLLOG` lines (a harness printing into the
    /// log), skipped.
    pub skipped_lines: usize,
}

impl DetailLog {
    /// The value of the last event named `key` (LoadGen logs most keys
    /// once; for repeated ones the final value is the one that counts).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.key == key)
            .map(|e| &e.value)
    }

    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }

    pub fn get_f64(&self, key: &str) -> Option<f64> {
        self.get(key).and_then(Value::as_f64)
    }

    pub fn get_u64(&self, key: &str) -> Option<u64> {
        self.get(key).and_then(Value::as_u64)
    }

    pub fn get_bool(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(Value::as_bool)
    }

    pub fn errors(&self) -> usize {
        self.entries.iter().filter(|e| e.is_error).count()
    }

    pub fn warnings(&self) -> usize {
        self.entries.iter().filter(|e| e.is_warning).count()
    }
}

/// Reads and parses a detail log. A line that starts with `:::MLLOG ` and
/// is not valid JSON is an error, except the very last line of a log cut
/// short (a killed run), which is skipped.
pub fn read_detail(path: &Path) -> Result<DetailLog, DetailReadError> {
    let text = std::fs::read_to_string(path).map_err(|source| DetailReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_detail(&text).map_err(|(line, source)| DetailReadError::BadLine {
        path: path.to_path_buf(),
        line,
        source,
    })
}

/// Parses detail-log text; on failure, the 1-based line number and why.
pub fn parse_detail(text: &str) -> Result<DetailLog, (usize, serde_json::Error)> {
    let mut log = DetailLog::default();
    let complete = text.ends_with('\n');
    let count = text.lines().count();
    for (i, line) in text.lines().enumerate() {
        let Some(body) = line.strip_prefix(":::MLLOG ") else {
            if !line.trim().is_empty() {
                log.skipped_lines += 1;
            }
            continue;
        };
        let v: Value = match serde_json::from_str(body) {
            Ok(v) => v,
            Err(_) if !complete && i + 1 == count => {
                log.skipped_lines += 1;
                continue;
            }
            Err(e) => return Err((i + 1, e)),
        };
        let meta = v.get("metadata");
        let flag = |name: &str| {
            meta.and_then(|m| m.get(name))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        log.entries.push(DetailEntry {
            key: v
                .get("key")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            value: v.get("value").cloned().unwrap_or(Value::Null),
            time_ms: v.get("time_ms").and_then(Value::as_f64),
            is_error: flag("is_error"),
            is_warning: flag("is_warning"),
        });
    }
    Ok(log)
}

//! Reading a training log's `:::MLLOG` lines the way the official
//! compliance checker's parser (ruleset 5.1.0 / 6.x) reads them.
//!
//! The JSON is the formats crate's `json.loads` (its latin-1 reading and
//! Python's error messages); what this module keeps is the official
//! parser's exact behaviour around it, because verdicts depend on it:
//! - the file is decoded as latin-1 and split on `\n`, `\r\n` and `\r`;
//! - a line counts when it contains `:::MLLOG ` anywhere; everything up to
//!   its *last* occurrence is dropped, then surrounding whitespace;
//! - `lineno` counts the `:::MLLOG` lines (from 0), not the file's lines;
//! - the rest must be JSON (Python's `json.loads`) with `time_ms` a number
//!   or a numeric string: otherwise the line is a parse error and the run
//!   goes on;
//! - a record that is not an object, or lacks `time_ms`, `key`, `value` or
//!   `metadata`, or has a `time_ms` no `float()` takes, stops the official
//!   checker with an exception; here it is [`ParseCrash`].

use std::rc::Rc;

use super::value::{json_loads, Dict, PyObjects, Value};

use yardstick_formats::mllog;
use yardstick_formats::pyjson::{self, JsonText, RecordScan};

const TOKEN: &[u8] = mllog::TOKEN.as_bytes();

/// One parsed `:::MLLOG` record.
#[derive(Debug, Clone)]
pub struct LogLine {
    /// The line as the checker prints it (from `:::MLLOG`, stripped).
    pub full_string: String,
    /// `time_ms` as a float.
    pub timestamp: f64,
    /// The record's `key`; `None` when it is not a string (such a record
    /// matches no rule).
    pub key: Option<String>,
    /// `{'value': ..., 'metadata': ...}`: what the rules call `v`.
    pub value: Value,
    /// Index among the file's `:::MLLOG` lines, from 0.
    pub lineno: usize,
}

impl LogLine {
    /// The record's `value`.
    pub fn record_value(&self) -> Value {
        match &self.value {
            Value::Dict(d) => d.borrow().get_str("value").cloned().unwrap_or(Value::None),
            _ => Value::None,
        }
    }
}

/// A `:::MLLOG` line that could not be read (the checker reports it and
/// fails the log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The line from `:::MLLOG`, stripped.
    pub line: String,
    /// Python's message, e.g. "Expecting ',' delimiter: line 1 column 122 (char 121)".
    pub error: String,
    pub lineno: usize,
}

/// A record the official parser does not survive (it raises `KeyError` or
/// `TypeError` and the checker stops without a verdict).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("MLLOG line {lineno}: {exception} ({reason}); the official checker stops here without a verdict")]
pub struct ParseCrash {
    pub lineno: usize,
    /// The Python exception class the official parser raises.
    pub exception: &'static str,
    pub reason: String,
}

/// The parsed records and the lines that failed to parse.
#[derive(Debug, Clone, Default)]
pub struct ParsedLog {
    /// The records kept (all, or those whose key the caller asked for).
    pub lines: Vec<LogLine>,
    /// Every record that parsed, kept or not.
    pub record_count: usize,
    pub errors: Vec<ParseError>,
}

/// Latin-1 decoding: every byte is the character of the same number.
pub fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Parses a whole log file, keeping every record.
pub fn parse_log(text: &[u8]) -> Result<ParsedLog, ParseCrash> {
    parse_log_keeping(text, |_| true)
}

/// Parses a whole log file, keeping the records whose key `keep` accepts
/// (a record with a non-string key is never kept: no rule can match it).
/// Every line is still checked as the official parser checks it (parse
/// errors, crashes); the others are only validated, which is most of the
/// work saved on real logs (e.g. `tracked_stats` lines).
pub fn parse_log_keeping(
    text: &[u8],
    keep: impl Fn(&str) -> bool,
) -> Result<ParsedLog, ParseCrash> {
    let mut parsed = ParsedLog::default();
    let mllog_lines = mllog::latin1_lines(text).filter_map(mllog::latin1_mllog_text);
    for (lineno, line) in mllog_lines.enumerate() {
        match parse_record(line, lineno, &keep)? {
            Ok(Some(record)) => {
                parsed.record_count += 1;
                parsed.lines.push(record);
            }
            Ok(None) => parsed.record_count += 1,
            Err(error) => parsed.errors.push(ParseError {
                line: latin1(line),
                error,
                lineno,
            }),
        }
    }
    Ok(parsed)
}

/// One stripped line starting with the token: a record (`None` when not
/// kept), a parse error message, or a crash. The checks and their order
/// are the official parser's: JSON, an object, `time_ms` (missing: crash;
/// a string `float()` rejects: parse error; another type: crash), `key`,
/// `value`, `metadata` (missing: crash).
fn parse_record(
    line: &[u8],
    lineno: usize,
    keep: &impl Fn(&str) -> bool,
) -> Result<Result<Option<LogLine>, String>, ParseCrash> {
    let json = &line[TOKEN.len()..];
    let scan = match pyjson::scan_record(JsonText::Latin1(json), &mut PyObjects) {
        Ok(scan) => scan,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let crash = |exception: &'static str, reason: String| ParseCrash {
        lineno,
        exception,
        reason,
    };
    let (time_ms, key, has_value, has_metadata) = match scan {
        RecordScan::NotObject(value) => {
            return Err(crash(
                "TypeError",
                format!("the record is a JSON {}, not an object", value.type_name()),
            ))
        }
        RecordScan::Object {
            time_ms,
            key,
            has_value,
            has_metadata,
        } => (time_ms, key, has_value, has_metadata),
    };
    let missing = |name: &str| crash("KeyError", format!("the record has no '{name}'"));
    let time_ms = time_ms.ok_or_else(|| missing("time_ms"))?;
    let timestamp = match &time_ms {
        Value::Str(s) => match yardstick_formats::pyfloat::parse(s) {
            Some(f) => f,
            None => {
                return Ok(Err(format!(
                    "could not convert string to float: {}",
                    time_ms.py_repr()
                )))
            }
        },
        other => other.as_number().map(|n| n.to_f64()).ok_or_else(|| {
            crash(
                "TypeError",
                format!(
                    "time_ms is a {}, which float() does not take",
                    other.type_name()
                ),
            )
        })?,
    };
    let key = key.ok_or_else(|| missing("key"))?;
    if !has_value {
        return Err(missing("value"));
    }
    if !has_metadata {
        return Err(missing("metadata"));
    }
    let key = match key {
        Value::Str(s) if keep(&s) => s.to_string(),
        _ => return Ok(Ok(None)),
    };
    // A kept record: build it whole (it parsed above, so it parses again).
    let record = match json_loads(json) {
        Ok(Value::Dict(d)) => d,
        Ok(_) | Err(_) => return Ok(Err("the record changed between two reads".into())),
    };
    let record = record.borrow();
    let field = |name: &str| record.get_str(name).cloned().unwrap_or(Value::None);
    let mut value = Dict::new();
    value.insert(Value::str("value"), field("value"));
    value.insert(Value::str("metadata"), field("metadata"));
    Ok(Ok(Some(LogLine {
        full_string: latin1(line),
        timestamp,
        key: Some(key),
        value: Value::Dict(Rc::new(std::cell::RefCell::new(value))),
        lineno,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lines_as_the_official_parser() {
        let log = b"noise\r\n[rank 0] :::MLLOG {\"time_ms\": 5, \"key\": \"a\", \"value\": 1, \"metadata\": {}}  \r\
:::MLLOG {\"time_ms\": \"7.5\", \"key\": \"b\", \"value\": null, \"metadata\": null}\n\
:::MLLOG {\"time_ms\": 1, \"key\": \"c\"\n\
:::MLLOG {\"time_ms\": \"x\", \"key\": \"d\", \"value\": 1, \"metadata\": {}}\n";
        let parsed = parse_log(log).unwrap();
        assert_eq!(parsed.lines.len(), 2);
        assert_eq!(parsed.record_count, 2);
        let only_b = parse_log_keeping(log, |k| k == "b").unwrap();
        assert_eq!(only_b.lines.len(), 1);
        assert_eq!(only_b.lines[0].lineno, 1);
        assert_eq!(only_b.record_count, 2);
        assert_eq!(only_b.errors, parsed.errors);
        assert_eq!(parsed.lines[0].key.as_deref(), Some("a"));
        assert_eq!(parsed.lines[0].lineno, 0);
        assert!(parsed.lines[0].full_string.starts_with(":::MLLOG {"));
        assert!(parsed.lines[0].full_string.ends_with('}'));
        assert_eq!(parsed.lines[1].timestamp, 7.5);
        assert_eq!(parsed.lines[1].lineno, 1);
        assert_eq!(parsed.errors.len(), 2);
        assert_eq!(parsed.errors[0].lineno, 2);
        assert!(parsed.errors[0]
            .error
            .starts_with("Expecting ',' delimiter"));
        assert_eq!(
            parsed.errors[1].error,
            "could not convert string to float: 'x'"
        );
    }

    #[test]
    fn a_record_without_metadata_crashes_as_the_official_parser_does() {
        let err =
            parse_log(b":::MLLOG {\"time_ms\": 5, \"key\": \"a\", \"value\": 1}\n").unwrap_err();
        assert_eq!(err.exception, "KeyError");
        assert_eq!(err.lineno, 0);
    }
}

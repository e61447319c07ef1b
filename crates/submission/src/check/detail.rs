//! `mlperf_log_detail.txt` as the checker needs it: the first value of each
//! key with its line (the official `MLPerfLog.__getitem__` takes the first),
//! and every line LoadGen marked as an error.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use yardstick_formats::mllog::{self, LineErrorReason};
use yardstick_formats::pyjson::JsonValue;

use super::CheckError;

/// A LoadGen line with `metadata.is_error` true.
#[derive(Debug, Clone)]
pub struct LoggedError {
    pub line: usize,
    pub key: String,
    pub value: String,
}

/// A `:::MLLOG` line that is not a record (the official parser raises on it).
#[derive(Debug, Clone)]
pub struct UnreadableLine {
    pub line: usize,
    pub reason: LineErrorReason,
}

/// A key's first record, its value read when first asked for: a check
/// reads a few dozen of a log's hundreds of keys.
#[derive(Debug, Default)]
struct FirstRecord {
    line: usize,
    text: String,
    value: OnceLock<JsonValue>,
}

/// One detail log, read.
#[derive(Debug, Default)]
pub struct DetailLog {
    first: HashMap<String, FirstRecord>,
    pub errors: Vec<LoggedError>,
    /// Lines with the `:::MLLOG` token that are not a record.
    pub unreadable: Vec<UnreadableLine>,
}

/// LoadGen writes `{"key": "<key>", ...`: the key without parsing the line.
fn leading_key(body: &str) -> Option<&str> {
    let rest = body.strip_prefix("{\"key\": \"")?;
    let end = rest.find('"')?;
    let key = &rest[..end];
    (!key.contains('\\')).then_some(key)
}

impl DetailLog {
    pub fn read(path: &Path) -> Result<DetailLog, CheckError> {
        let bytes = std::fs::read(path).map_err(|source| CheckError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(DetailLog::parse(&bytes))
    }

    /// Reads every `:::MLLOG` line as the official parser would (each must
    /// be a record), keeping each key's first record and the error lines.
    pub fn parse(bytes: &[u8]) -> DetailLog {
        let mut log = DetailLog::default();
        for (index, line) in mllog::latin1_lines(bytes).enumerate() {
            let line_number = index + 1;
            let Some(text) = mllog::latin1_mllog_text(line) else {
                continue;
            };
            let text = match std::str::from_utf8(text) {
                Ok(t) => std::borrow::Cow::Borrowed(t),
                Err(_) => std::borrow::Cow::Owned(text.iter().map(|&b| char::from(b)).collect()),
            };
            let body = text.strip_prefix(mllog::TOKEN).unwrap_or(&text);
            let is_error = body.contains("\"is_error\": true");
            let fast_key = leading_key(body).filter(|_| !is_error);
            match fast_key {
                // A repeated key: only whether it is a record matters.
                Some(key) if log.first.contains_key(key) => {
                    if serde_json::from_str::<serde::de::IgnoredAny>(body).is_err() {
                        if let Err(reason) = mllog::parse_record(&text) {
                            log.unreadable.push(UnreadableLine {
                                line: line_number,
                                reason,
                            });
                        }
                    }
                }
                Some(key) if serde_json::from_str::<serde::de::IgnoredAny>(body).is_ok() => {
                    log.first.insert(
                        key.to_string(),
                        FirstRecord {
                            line: line_number,
                            text: text.to_string(),
                            value: OnceLock::new(),
                        },
                    );
                }
                // Anything else (an error line, another member order, what
                // serde_json refuses but Python reads): read it whole.
                _ => match mllog::parse_record(&text) {
                    Err(reason) => log.unreadable.push(UnreadableLine {
                        line: line_number,
                        reason,
                    }),
                    Ok(record) => {
                        let Some(key) = record.key().map(str::to_string) else {
                            continue;
                        };
                        let flagged = record
                            .metadata("is_error")
                            .is_some_and(|v| matches!(v, JsonValue::Bool(true)));
                        if flagged {
                            let value = match record.value() {
                                JsonValue::Str(s) => s.clone(),
                                other => other.dumps(),
                            };
                            log.errors.push(LoggedError {
                                line: line_number,
                                key: key.clone(),
                                value,
                            });
                        }
                        let value = OnceLock::new();
                        let _ = value.set(record.value().clone());
                        log.first.entry(key).or_insert(FirstRecord {
                            line: line_number,
                            text: String::new(),
                            value,
                        });
                    }
                },
            }
        }
        log
    }

    pub fn get(&self, key: &str) -> Option<&JsonValue> {
        let record = self.first.get(key)?;
        Some(record.value.get_or_init(|| {
            mllog::parse_record(&record.text)
                .map(|r| r.value().clone())
                .unwrap_or(JsonValue::Null)
        }))
    }

    /// The line (from 1) of a key's first record.
    pub fn line(&self, key: &str) -> Option<usize> {
        self.first.get(key).map(|r| r.line)
    }

    pub fn has(&self, key: &str) -> bool {
        self.first.contains_key(key)
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(JsonValue::as_str)
    }

    pub fn f64(&self, key: &str) -> Option<f64> {
        match self.get(key)? {
            JsonValue::Str(s) => yardstick_formats::pyfloat::parse(s),
            v => v.as_f64(),
        }
    }

    /// An integer value; seeds pass i64, so this is u64.
    pub fn u64(&self, key: &str) -> Option<u64> {
        match self.get(key)? {
            JsonValue::Int(i) => u64::try_from(*i).ok(),
            JsonValue::Float(f) if f.fract() == 0.0 && *f >= 0.0 => Some(*f as u64),
            _ => None,
        }
    }

    /// Python truthiness of a value, as `if not log[key]` reads it.
    pub fn truthy(&self, key: &str) -> Option<bool> {
        Some(match self.get(key)? {
            JsonValue::Null => false,
            JsonValue::Bool(b) => *b,
            JsonValue::Int(i) => *i != 0,
            JsonValue::Float(f) => *f != 0.0,
            JsonValue::Str(s) => !s.is_empty(),
            JsonValue::Array(a) => !a.is_empty(),
            JsonValue::Object(o) => !o.is_empty(),
        })
    }

    /// The error count as the official parser counts it: the `num_errors`
    /// record when there is one, else the lines marked `is_error`.
    pub fn official_error_count(&self) -> u64 {
        match self.get("num_errors") {
            Some(JsonValue::Int(n)) => u64::try_from(*n).unwrap_or(0),
            _ => self.errors.len() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = r#":::MLLOG {"key": "effective_scenario", "value": "Offline", "time_ms": 0.1, "namespace": "mlperf::logging", "event_type": "POINT_IN_TIME", "metadata": {"is_error": false, "is_warning": false}}
:::MLLOG {"key": "effective_qsl_rng_seed", "value": 14771362308971278857, "time_ms": 0.1, "namespace": "mlperf::logging", "event_type": "POINT_IN_TIME", "metadata": {"is_error": false, "is_warning": false}}
:::MLLOG {"key": "error_runtime", "value": "Sample was dropped", "time_ms": 0.2, "namespace": "mlperf::logging", "event_type": "POINT_IN_TIME", "metadata": {"is_error": true, "is_warning": false}}
:::MLLOG {"key": "effective_scenario", "value": "Server", "time_ms": 0.3, "namespace": "mlperf::logging", "event_type": "POINT_IN_TIME", "metadata": {"is_error": false, "is_warning": false}}
:::MLLOG {"key": "num_errors", "value": 0, "time_ms": 0.4, "namespace": "mlperf::logging", "event_type": "POINT_IN_TIME", "metadata": {"is_error": false, "is_warning": false}}
"#;

    #[test]
    fn first_value_wins_and_errors_keep_their_lines() {
        let log = DetailLog::parse(LOG.as_bytes());
        assert_eq!(log.str("effective_scenario"), Some("Offline"));
        assert_eq!(log.line("effective_scenario"), Some(1));
        assert_eq!(
            log.u64("effective_qsl_rng_seed"),
            Some(14_771_362_308_971_278_857)
        );
        assert_eq!(log.errors.len(), 1);
        assert_eq!(log.errors[0].line, 3);
        assert_eq!(log.errors[0].value, "Sample was dropped");
        // The official parser believes num_errors over the marked lines.
        assert_eq!(log.official_error_count(), 0);
    }

    #[test]
    fn a_line_that_is_no_record_is_reported_with_its_line() {
        let text = format!("{LOG}:::MLLOG {{\"key\": \"effective_scenario\", \"value\": \n");
        let log = DetailLog::parse(text.as_bytes());
        assert_eq!(log.unreadable.len(), 1);
        assert_eq!(log.unreadable[0].line, 6);
        // The records before it are still there.
        assert_eq!(log.str("effective_scenario"), Some("Offline"));
    }
}

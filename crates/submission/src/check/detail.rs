//! `mlperf_log_detail.txt` as the checker needs it: the first value of each
//! key with its line (the official `MLPerfLog.__getitem__` takes the first),
//! and every line LoadGen marked as an error.

use std::collections::HashMap;
use std::path::Path;

use yardstick_formats::mllog::{self, LineError};
use yardstick_formats::pyjson::JsonValue;

use super::CheckError;

/// A LoadGen line with `metadata.is_error` true.
#[derive(Debug, Clone)]
pub struct LoggedError {
    pub line: usize,
    pub key: String,
    pub value: String,
}

/// One detail log, read.
#[derive(Debug, Clone, Default)]
pub struct DetailLog {
    first: HashMap<String, (JsonValue, usize)>,
    pub errors: Vec<LoggedError>,
    /// Lines with the `:::MLLOG` token that are not a record.
    pub unreadable: Vec<LineError>,
}

impl DetailLog {
    pub fn read(path: &Path) -> Result<DetailLog, CheckError> {
        let bytes = std::fs::read(path).map_err(|source| CheckError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(DetailLog::parse(&bytes))
    }

    pub fn parse(bytes: &[u8]) -> DetailLog {
        let parsed = mllog::read_log(bytes);
        let mut log = DetailLog {
            unreadable: parsed.errors,
            ..DetailLog::default()
        };
        for line in parsed.lines {
            let Some(key) = line.record.key().map(str::to_string) else {
                continue;
            };
            let is_error = line
                .record
                .metadata("is_error")
                .is_some_and(|v| matches!(v, JsonValue::Bool(true)));
            if is_error {
                let value = match line.record.value() {
                    JsonValue::Str(s) => s.clone(),
                    other => other.dumps(),
                };
                log.errors.push(LoggedError {
                    line: line.line_number,
                    key: key.clone(),
                    value,
                });
            }
            log.first
                .entry(key)
                .or_insert_with(|| (line.record.value().clone(), line.line_number));
        }
        log
    }

    pub fn get(&self, key: &str) -> Option<&JsonValue> {
        self.first.get(key).map(|(v, _)| v)
    }

    /// The line (from 1) of a key's first record.
    pub fn line(&self, key: &str) -> Option<usize> {
        self.first.get(key).map(|(_, l)| *l)
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
}

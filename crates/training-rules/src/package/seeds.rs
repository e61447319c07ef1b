//! The seed checker (`package_checker/seed_checker.py`): every run logs a
//! seed through mllog, and no two runs log the same seed from the same
//! source line.

use crate::compliance::mllog::ParsedLog;
use crate::compliance::value::Value;

/// A seed as logged: `(metadata.file, metadata.lineno, int(value))`.
pub type SeedRecord = (String, String, i64);

/// Reads a run's seed records; `Err` is the message the checker reports.
pub fn seed_records(log: &ParsedLog) -> Result<Vec<SeedRecord>, String> {
    if !log.errors.is_empty() {
        let mut lines = vec!["Found parsing errors:".to_string()];
        for e in &log.errors {
            lines.push(format!("{}\n  ^^  {}", e.line, e.error));
        }
        lines.push(String::new());
        lines.push("Log lines had parsing errors.".into());
        return Err(lines.join("\n"));
    }
    let mut seeds = Vec::new();
    for line in log
        .lines
        .iter()
        .filter(|l| l.key.as_deref() == Some("seed"))
    {
        let Value::Dict(record) = &line.value else {
            return Err("'value'".into());
        };
        let record = record.borrow();
        let metadata = match record.get_str("metadata") {
            Some(Value::Dict(m)) => m.clone(),
            _ => return Err("'metadata'".into()),
        };
        let metadata = metadata.borrow();
        let file = metadata
            .get_str("file")
            .ok_or_else(|| "'file'".to_string())?
            .py_str();
        let lineno = metadata
            .get_str("lineno")
            .ok_or_else(|| "'lineno'".to_string())?
            .py_repr();
        let value = record.get_str("value").cloned().unwrap_or(Value::None);
        let seed = match &value {
            Value::Int(i) => *i,
            Value::Bool(b) => i64::from(*b),
            Value::Float(f) if f.is_finite() => f.trunc() as i64,
            Value::Str(s) => s.trim().parse::<i64>().map_err(|_| {
                format!(
                    "invalid literal for int() with base 10: {}",
                    value.py_repr()
                )
            })?,
            other => {
                return Err(format!(
                "int() argument must be a string, a bytes-like object or a real number, not '{}'",
                other.type_name()
            ))
            }
        };
        seeds.push((file, lineno, seed));
    }
    Ok(seeds)
}

/// The outcome of the seed check of a set.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SeedCheck {
    /// Errors (any fails the set).
    pub errors: Vec<String>,
    /// Runs logging more than one seed (a Python warning, not an error).
    pub warnings: Vec<String>,
}

/// Checks the seeds of a set's runs: `(result file as printed, its seeds)`.
pub fn check_seeds(runs: &[(String, Result<Vec<SeedRecord>, String>)]) -> SeedCheck {
    let mut check = SeedCheck::default();
    let mut seen: Vec<(&SeedRecord, &str)> = Vec::new();
    for (file, seeds) in runs {
        let seeds = match seeds {
            Ok(s) => s,
            Err(e) => {
                check
                    .errors
                    .push(format!("Error found when querying seeds from {file}: {e}"));
                continue;
            }
        };
        if seeds.is_empty() {
            check
                .errors
                .push(format!("Result file {file} logs no seed."));
        }
        if seeds.len() > 1 {
            let list: Vec<String> = seeds
                .iter()
                .map(|(f, l, s)| format!("('{f}', {l}, {s})"))
                .collect();
            check.warnings.push(format!(
                "Result file {file} logs more than one seeds [{}]!",
                list.join(", ")
            ));
        }
        for record in seeds {
            match seen.iter().find(|(r, _)| *r == record) {
                Some((_, first)) => check.errors.push(format!(
                    "Result file {file} logs seed {} on {}:{}. However, result file {first} already logs the same seed on the same line.",
                    record.2, record.0, record.1
                )),
                None => seen.push((record, file)),
            }
        }
    }
    check
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::mllog::parse_log;

    fn seeds(text: &str) -> Result<Vec<SeedRecord>, String> {
        seed_records(&parse_log(text.as_bytes()).expect("parses"))
    }

    #[test]
    fn distinct_seeds_pass_and_repeats_fail() {
        let a = seeds(":::MLLOG {\"key\": \"seed\", \"value\": 1, \"time_ms\": 1, \"metadata\": {\"file\": \"t.py\", \"lineno\": 9}}\n");
        let b = seeds(":::MLLOG {\"key\": \"seed\", \"value\": \"2\", \"time_ms\": 1, \"metadata\": {\"file\": \"t.py\", \"lineno\": 9}}\n");
        assert_eq!(a, Ok(vec![("t.py".into(), "9".into(), 1)]));
        let ok = check_seeds(&[("r0".into(), a.clone()), ("r1".into(), b)]);
        assert!(ok.errors.is_empty());
        let bad = check_seeds(&[("r0".into(), a.clone()), ("r1".into(), a)]);
        assert_eq!(bad.errors.len(), 1);
        assert!(bad.errors[0].contains("r1 logs seed 1 on t.py:9"));
        let none = check_seeds(&[("r0".into(), seeds(""))]);
        assert_eq!(
            none.errors,
            vec!["Result file r0 logs no seed.".to_string()]
        );
    }
}

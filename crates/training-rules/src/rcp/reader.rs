//! What the RCP checker reads from a result log: its batch size, benchmark
//! and the point at which it converged.
//!
//! The official reader is not the compliance parser: it looks at each
//! `:::MLLOG` line's JSON *text* for substrings ("global_batch_size",
//! "eval_accuracy", "run_stop", ...) and decodes only those lines, so a
//! line that merely mentions a key in its metadata counts too. Reproduced
//! here as it is, because the verdicts depend on it.

use super::data::converges_in_samples;
use super::RcpError;
use crate::compliance::value::{json_loads, Value};
use yardstick_formats::mllog;

/// Epochs (or samples) to converge of a run that did not converge.
pub const NOT_CONVERGED: f64 = 1e9;

/// One run as the RCP checker sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunConvergence {
    /// `run_stop` with status `success` was logged.
    pub converged: bool,
    /// The last eval's epoch (or samples count) before a successful
    /// `run_stop`; [`NOT_CONVERGED`] otherwise.
    pub epochs_to_converge: f64,
    /// The last `global_batch_size` logged (-1 when none, as the official
    /// reader says).
    pub batch_size: f64,
    /// `submission_benchmark`, if logged.
    pub benchmark: Option<String>,
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The JSON text of each `:::MLLOG` line (after the line's last token,
/// whitespace-stripped), splitting on Python's universal newlines.
fn records(log: &[u8]) -> impl Iterator<Item = &[u8]> {
    mllog::latin1_lines(log)
        .filter_map(mllog::latin1_mllog_text)
        .map(|text| {
            let mut rest = &text[mllog::TOKEN.len()..];
            while let [first, tail @ ..] = rest {
                if !mllog::is_latin1_space(*first) {
                    break;
                }
                rest = tail;
            }
            rest
        })
}

fn field(record: &Value, name: &str) -> Option<Value> {
    match record {
        Value::Dict(d) => d.borrow().get_str(name).cloned(),
        _ => None,
    }
}

fn number(value: &Value) -> Option<f64> {
    value.as_number().map(|n| n.to_f64())
}

/// Python's `round(x, 3)`: the exact binary value rounded to 3 decimals.
fn round3(x: f64) -> f64 {
    format!("{x:.3}").parse().unwrap_or(x)
}

/// Reads one result log (its raw bytes).
pub fn read_run(log: &[u8]) -> Result<RunConvergence, RcpError> {
    let mut run = RunConvergence {
        converged: false,
        epochs_to_converge: NOT_CONVERGED,
        batch_size: -1.0,
        benchmark: None,
    };
    let mut conv_point: Option<f64> = None;
    for text in records(log) {
        let mentions_bs = contains(text, b"global_batch_size");
        let mentions_benchmark = contains(text, b"submission_benchmark");
        let mentions_eval = contains(text, b"eval_error") || contains(text, b"eval_accuracy");
        let mentions_stop = contains(text, b"run_stop");
        if !(mentions_bs || mentions_benchmark || mentions_eval || mentions_stop) {
            continue;
        }
        let record = json_loads(text).map_err(|source| RcpError::Json {
            line: String::from_utf8_lossy(text).into_owned(),
            source,
        })?;
        let value = || field(&record, "value").unwrap_or(Value::None);
        let metadata = |name: &str| {
            field(&record, "metadata")
                .and_then(|m| field(&m, name))
                .ok_or_else(|| RcpError::MissingField {
                    field: format!("metadata.{name}"),
                    line: String::from_utf8_lossy(text).into_owned(),
                })
        };
        if mentions_bs {
            run.batch_size = number(&value()).unwrap_or(f64::NAN);
        }
        if mentions_benchmark {
            run.benchmark = Some(value().py_str());
        }
        if mentions_eval {
            match run.benchmark.as_deref() {
                Some("stable_diffusion") => {
                    return Err(RcpError::Unsupported("stable_diffusion".into()))
                }
                Some(b) if converges_in_samples(b) => {
                    conv_point = number(&metadata("samples_count")?);
                }
                _ => conv_point = number(&metadata("epoch_num")?).map(round3),
            }
        }
        if mentions_stop
            && matches!(field(&record, "key"), Some(Value::Str(k)) if &*k == "run_stop")
        {
            let status = metadata("status")?;
            if matches!(&status, Value::Str(s) if &**s == "success") {
                run.converged = true;
                run.epochs_to_converge = conv_point.ok_or(RcpError::NoEvalBeforeStop)?;
            } else {
                run.converged = false;
                run.epochs_to_converge = NOT_CONVERGED;
            }
        }
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_last_eval_before_a_successful_stop() {
        let log = br#"noise :::MLLOG {"key": "submission_benchmark", "value": "llama2_70b_lora", "time_ms": 1, "metadata": {}}
:::MLLOG {"key": "global_batch_size", "value": 8, "time_ms": 1, "metadata": {}}
:::MLLOG {"key": "eval_accuracy", "value": 0.93, "time_ms": 2, "metadata": {"samples_count": 3072}}
:::MLLOG {"key": "eval_accuracy", "value": 0.92, "time_ms": 3, "metadata": {"samples_count": 3456}}
:::MLLOG {"key": "run_stop", "value": null, "time_ms": 4, "metadata": {"status": "success"}}
"#;
        let run = read_run(log).expect("reads");
        assert!(run.converged);
        assert_eq!(run.epochs_to_converge, 3456.0);
        assert_eq!(run.batch_size, 8.0);
        assert_eq!(run.benchmark.as_deref(), Some("llama2_70b_lora"));
    }

    #[test]
    fn an_aborted_run_is_not_converged_and_epochs_round_to_3_places() {
        let log = br#":::MLLOG {"key": "submission_benchmark", "value": "dlrm_dcnv2", "time_ms": 1, "metadata": {}}
:::MLLOG {"key": "eval_accuracy", "value": 0.8, "time_ms": 2, "metadata": {"epoch_num": 0.95251}}
:::MLLOG {"key": "run_stop", "value": null, "time_ms": 4, "metadata": {"status": "aborted"}}
"#;
        let run = read_run(log).expect("reads");
        assert!(!run.converged);
        assert_eq!(run.epochs_to_converge, NOT_CONVERGED);
        assert_eq!(run.batch_size, -1.0);
        assert_eq!(round3(0.95251), 0.953);
    }
}

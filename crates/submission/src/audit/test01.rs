//! TEST01: the accuracy log sampled in a performance run must hold the
//! answers of the accuracy run (`verify_accuracy.py`), and the run's
//! performance must be within 10% of the submitted one
//! (`verify_performance.py`).

use std::collections::HashMap;

use yardstick_formats::pyfloat;
use yardstick_formats::pyjson::{self, JsonValue};

use super::{from_hex, parse_accuracy_log, Dtype, Element, ScriptOutput};

/// Appends what Python leaves on stderr when the script dies of an
/// uncaught exception (abridged: the frames are not reproduced).
pub(crate) fn crash(out: &mut ScriptOutput, exception: &str) {
    out.end("Traceback (most recent call last):");
    out.end(exception);
}

/// The counts `verify_accuracy.py` prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccuracyCounts {
    pub acc_log_entries: usize,
    pub acc_log_duplicate_keys: usize,
    pub acc_log_data_mismatch: usize,
    pub perf_log_entries: usize,
    pub perf_log_qsl_idx_match: usize,
    pub perf_log_data_mismatch: usize,
    pub missing_qsl_idxs: usize,
}

/// `verify_accuracy.py --dtype <dtype> -r <accuracy run's log> -t
/// <compliance run's log>` (its default, in-memory mode).
///
/// As the official script: a sampled answer matches when its *first
/// element* (of `dtype`) equals the accuracy run's, or both are empty; a
/// qsl_idx the accuracy run did not log is counted, not failed; a later
/// answer to the same sample is compared with the earlier performance
/// answer. PASS needs no mismatch and at least one matched qsl_idx.
pub fn verify_accuracy(
    reference_log: &str,
    test_log: &str,
    dtype: Dtype,
) -> (ScriptOutput, Option<AccuracyCounts>) {
    let mut out = ScriptOutput::default();
    out.out("Verifying accuracy. This might take a while...");
    let (acc, perf) = match (
        parse_accuracy_log(reference_log),
        parse_accuracy_log(test_log),
    ) {
        (Ok(a), Ok(p)) => (a, p),
        (Err(e), _) | (_, Err(e)) => {
            crash(&mut out, &format!("json.decoder.JSONDecodeError: {e}"));
            return (out, None);
        }
    };
    let mut counts = AccuracyCounts {
        acc_log_entries: acc.len(),
        perf_log_entries: perf.len(),
        ..AccuracyCounts::default()
    };
    let mut results: HashMap<u64, String> = HashMap::new();
    out.out("Reading accuracy mode results...");
    for sample in &acc {
        match results.get(&sample.qsl_idx) {
            Some(first) => {
                counts.acc_log_duplicate_keys += 1;
                if *first != sample.data {
                    counts.acc_log_data_mismatch += 1;
                }
            }
            None => {
                results.insert(sample.qsl_idx, sample.data.clone());
            }
        }
    }
    out.out("Reading performance mode results...");
    let decode = |hex: &str| -> Result<Vec<Element>, String> {
        let bytes =
            from_hex(hex).ok_or("ValueError: non-hexadecimal number found in fromhex() arg")?;
        dtype
            .decode(&bytes)
            .ok_or_else(|| "ValueError: buffer size must be a multiple of element size".into())
    };
    for sample in &perf {
        let data = match decode(&sample.data) {
            Ok(d) => d,
            Err(e) => {
                crash(&mut out, &e);
                return (out, None);
            }
        };
        match results.get(&sample.qsl_idx) {
            Some(reference) => {
                counts.perf_log_qsl_idx_match += 1;
                let reference = match decode(reference) {
                    Ok(d) => d,
                    Err(e) => {
                        crash(&mut out, &e);
                        return (out, None);
                    }
                };
                let mismatch = if reference.is_empty() || data.is_empty() {
                    reference.len() != data.len()
                } else {
                    data[0] != reference[0]
                };
                if mismatch {
                    counts.perf_log_data_mismatch += 1;
                }
            }
            None => counts.missing_qsl_idxs += 1,
        }
        results.insert(sample.qsl_idx, sample.data.clone());
    }
    let c = &counts;
    out.out(format!("num_acc_log_entries = {}", c.acc_log_entries));
    out.out(format!(
        "num_acc_log_duplicate_keys = {}",
        c.acc_log_duplicate_keys
    ));
    out.out(format!(
        "num_acc_log_data_mismatch = {}",
        c.acc_log_data_mismatch
    ));
    out.out(format!("num_perf_log_entries = {}", c.perf_log_entries));
    out.out(format!(
        "num_perf_log_qsl_idx_match = {}",
        c.perf_log_qsl_idx_match
    ));
    out.out(format!(
        "num_perf_log_data_mismatch = {}",
        c.perf_log_data_mismatch
    ));
    out.out(format!("num_missing_qsl_idxs = {}", c.missing_qsl_idxs));
    if c.perf_log_data_mismatch == 0 && c.perf_log_qsl_idx_match > 0 {
        out.out("TEST PASS\n");
    } else {
        out.out("TEST FAIL\n");
    }
    (out, Some(counts))
}

/// The official `log_parser.MLPerfLog` of a detail log: every `:::MLLOG`
/// line's JSON, in order.
struct MlperfLog<'a> {
    path: &'a str,
    messages: Vec<JsonValue>,
}

/// Where the official log parser's logging calls sit (the log line names
/// them: `log_parser.py:<line>`), in mlcommons/inference at b66003e.
const LOADED_LINE: u32 = 72;
const MULTIPLE_KEYS_LINE: u32 = 86;
const MARKER: &str = ":::MLLOG";

impl<'a> MlperfLog<'a> {
    /// Reads as `MLPerfLog(path)` (strict): the first line must start with
    /// the marker, every marked line must be JSON.
    fn read(
        path: &'a str,
        text: &str,
        log_time: &str,
        out: &mut ScriptOutput,
    ) -> Result<Self, String> {
        let mut messages = Vec::new();
        for (i, raw) in text.split_inclusive('\n').enumerate() {
            let line = raw.trim_end();
            if i == 0 && !line.starts_with(MARKER) {
                return Err(format!(
                    "RuntimeError: Marker not found in first line: {line}"
                ));
            }
            if let Some(json) = line.strip_prefix(MARKER) {
                let value = pyjson::loads(json)
                    .map_err(|_| format!("RuntimeError: Encountered invalid line: {line}"))?;
                if value.get("key").is_none() {
                    return Err("KeyError: 'key'".into());
                }
                messages.push(value);
            }
        }
        if text.is_empty() {
            return Err("RuntimeError: Marker not found in first line: ".into());
        }
        out.err(format!(
            "[{log_time} log_parser.py:{LOADED_LINE} INFO] Sucessfully loaded MLPerf log from {path}."
        ));
        Ok(MlperfLog { path, messages })
    }

    fn has_key(&self, key: &str) -> bool {
        self.messages
            .iter()
            .any(|m| m.get("key").and_then(JsonValue::as_str) == Some(key))
    }

    /// `log[key]`: the first message's value, with the parser's warning
    /// when there are several.
    fn value(&self, key: &str, log_time: &str, out: &mut ScriptOutput) -> Option<JsonValue> {
        let mut found = self
            .messages
            .iter()
            .filter(|m| m.get("key").and_then(JsonValue::as_str) == Some(key));
        let first = found.next()?;
        if found.next().is_some() {
            out.err(format!(
                "[{log_time} log_parser.py:{MULTIPLE_KEYS_LINE} WARNING] There are multiple messages with key {key} in the log. Emprically choosing the first one."
            ));
        }
        Some(first.get("value").cloned().unwrap_or(JsonValue::Null))
    }

    /// `has_error()`: `num_errors` when logged, else the messages marked
    /// `is_error`.
    fn has_error(&self, log_time: &str, out: &mut ScriptOutput) -> bool {
        if self.has_key("num_errors") {
            // `num_errors != 0` in Python: 0 and 0.0 both mean none.
            let none = match self.value("num_errors", log_time, out) {
                Some(JsonValue::Int(0)) => true,
                Some(JsonValue::Float(f)) => f == 0.0,
                _ => false,
            };
            return !none;
        }
        self.messages.iter().any(|m| {
            matches!(
                m.get("metadata").and_then(|md| md.get("is_error")),
                Some(JsonValue::Bool(true))
            )
        })
    }
}

/// Python's `float(value)` of a log value.
fn py_float(v: &JsonValue) -> Result<f64, String> {
    match v {
        JsonValue::Int(i) => Ok(*i as f64),
        JsonValue::Float(f) => Ok(*f),
        JsonValue::Str(s) => pyfloat::parse(s)
            .ok_or_else(|| format!("ValueError: could not convert string to float: '{s}'")),
        JsonValue::Bool(b) => Ok(f64::from(u8::from(*b))),
        _ => Err("TypeError: float() argument must be a string or a real number".into()),
    }
}

fn result_field(scenario: &str) -> Option<&'static str> {
    Some(match scenario {
        "Offline" => "result_samples_per_second",
        "SingleStream" => "early_stopping_latency_ss",
        "MultiStream" => "early_stopping_latency_ms",
        "Server" => "result_completed_samples_per_sec",
        _ => return None,
    })
}

/// What `parse_result_log` returns, or how the script ends inside it.
enum Parsed {
    Result {
        scenario: String,
        score: f64,
        target_latency: Option<JsonValue>,
    },
    /// `sys.exit(message)`.
    Exit(String),
    /// An uncaught exception.
    Crash(String),
}

fn parse_result_log(path: &str, text: &str, log_time: &str, out: &mut ScriptOutput) -> Parsed {
    let log = match MlperfLog::read(path, text, log_time, out) {
        Ok(l) => l,
        Err(e) => return Parsed::Crash(e),
    };
    let scenario = match log.value("effective_scenario", log_time, out) {
        Some(JsonValue::Str(s)) => s,
        Some(other) => return Parsed::Crash(format!("KeyError: {}", other.dumps())),
        None => return Parsed::Crash("KeyError: None".into()),
    };
    let Some(field) = result_field(&scenario) else {
        return Parsed::Crash(format!("KeyError: '{scenario}'"));
    };
    let score = match log
        .value(field, log_time, out)
        .as_ref()
        .map(py_float)
        .unwrap_or_else(|| {
            Err(
                "TypeError: float() argument must be a string or a real number, not 'NoneType'"
                    .into(),
            )
        }) {
        Ok(s) => s,
        Err(e) => return Parsed::Crash(e),
    };
    let valid = log.has_key("result_validity")
        && log.value("result_validity", log_time, out) == Some(JsonValue::Str("VALID".into()));
    if !valid {
        return Parsed::Exit(format!("TEST FAIL: Invalid results in {}", log.path));
    }
    if log.has_error(log_time, out) {
        // The official script prints its warning with a variable it never
        // set, so any logged error ends it here.
        return Parsed::Crash(
            "NameError: name 'line' is not defined. Did you mean: 'slice'?".into(),
        );
    }
    // `res = float(log[field])`: read again (a second warning if repeated).
    let _ = log.value(field, log_time, out);
    let target_latency = if scenario == "Server" {
        log.value("effective_target_latency_ns", log_time, out)
    } else {
        None
    };
    Parsed::Result {
        scenario,
        score,
        target_latency,
    }
}

/// `verify_performance.py -r <submitted run's detail log> -t <compliance
/// run's detail log>`: both VALID, same scenario (and Server target
/// latency), and the compliance score within 10% of the submitted one
/// either way (20% for SingleStream at or under 200 µs and MultiStream at
/// or under 1.6 ms). `log_time` stands for the log lines' time stamp
/// (`2026-12-06 10:00:00,123`); paths are printed as given.
pub fn verify_performance(
    reference: (&str, &str),
    test: (&str, &str),
    log_time: &str,
) -> ScriptOutput {
    let mut out = ScriptOutput::default();
    out.out("Verifying performance.");
    let mut results = Vec::new();
    for (path, text) in [reference, test] {
        match parse_result_log(path, text, log_time, &mut out) {
            Parsed::Result {
                scenario,
                score,
                target_latency,
            } => results.push((scenario, score, target_latency)),
            Parsed::Exit(message) => {
                out.end(message);
                return out;
            }
            Parsed::Crash(exception) => {
                crash(&mut out, &exception);
                return out;
            }
        }
    }
    let (ref_scenario, ref_score, ref_latency) = &results[0];
    let (test_scenario, test_score, test_latency) = &results[1];
    if test_scenario != ref_scenario {
        out.end("TEST FAIL: Test and reference scenarios do not match!");
        return out;
    }
    if ref_scenario == "Server" && test_latency != ref_latency {
        out.end("TEST FAIL: Server target latency mismatch");
        return out;
    }
    out.out(format!("Reference score = {}", pyfloat::repr(*ref_score)));
    out.out(format!("Test score = {}", pyfloat::repr(*test_score)));
    let threshold = if (ref_scenario == "SingleStream" && *ref_score <= 200000.0)
        || (ref_scenario == "MultiStream" && *ref_score <= 1600000.0)
    {
        0.20
    } else {
        0.10
    };
    if ref_score * (1.0 - threshold) <= *test_score && *test_score <= ref_score * (1.0 + threshold)
    {
        out.out("TEST PASS");
    } else {
        out.out("TEST FAIL: Test score invalid");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(entries: &[(u64, &str)]) -> String {
        let body: Vec<String> = entries
            .iter()
            .enumerate()
            .map(|(i, (q, d))| {
                format!("{{ \"seq_id\" : {i}, \"qsl_idx\" : {q}, \"data\" : \"{d}\" }}")
            })
            .collect();
        format!("[\n{}\n]\n", body.join(",\n"))
    }

    #[test]
    fn accuracy_matches_on_the_first_element_as_the_official_script() {
        let acc = log(&[(1, "0A00"), (2, "0B00"), (2, "0C00")]);
        // The first byte matches; the second differs and is not looked at.
        let perf = log(&[(1, "0AFF"), (9, "0102")]);
        let (out, counts) = verify_accuracy(&acc, &perf, Dtype::Byte);
        let c = counts.unwrap();
        assert_eq!(c.acc_log_duplicate_keys, 1);
        assert_eq!(c.acc_log_data_mismatch, 1);
        assert_eq!(c.perf_log_qsl_idx_match, 1);
        assert_eq!(c.missing_qsl_idxs, 1);
        assert!(out.passed());
        assert!(out
            .stdout
            .ends_with("num_missing_qsl_idxs = 1\nTEST PASS\n\n"));
        // With int16 the first element is both bytes: a mismatch.
        let (out, counts) = verify_accuracy(&acc, &perf, Dtype::Int16);
        assert_eq!(counts.unwrap().perf_log_data_mismatch, 1);
        assert!(!out.passed());
        assert!(out.stdout.contains("TEST FAIL\n"));
    }

    #[test]
    fn accuracy_needs_a_matched_sample_and_survives_bad_data() {
        let acc = log(&[(1, "0A")]);
        let (out, _) = verify_accuracy(&acc, &log(&[(5, "0A")]), Dtype::Byte);
        assert!(!out.passed());
        let (out, counts) = verify_accuracy(&acc, &log(&[(1, "0A0B0C")]), Dtype::Int32);
        assert!(counts.is_none());
        assert!(out.exit.contains("buffer size must be a multiple"));
        assert!(!out.passed());
    }

    fn detail(scenario: &str, key: &str, value: &str, validity: &str, errors: u32) -> String {
        [
            format!(r#":::MLLOG {{"key": "effective_scenario", "value": "{scenario}", "time_ms": 0.0, "namespace": "mlperf::logging", "event_type": "POINT_IN_TIME", "metadata": {{"is_error": false, "is_warning": false}}}}"#),
            format!(r#":::MLLOG {{"key": "{key}", "value": {value}, "time_ms": 0.0, "namespace": "mlperf::logging", "event_type": "POINT_IN_TIME", "metadata": {{"is_error": false, "is_warning": false}}}}"#),
            format!(r#":::MLLOG {{"key": "result_validity", "value": "{validity}", "time_ms": 0.0, "namespace": "mlperf::logging", "event_type": "POINT_IN_TIME", "metadata": {{"is_error": false, "is_warning": false}}}}"#),
            format!(r#":::MLLOG {{"key": "num_errors", "value": {errors}, "time_ms": 0.0, "namespace": "mlperf::logging", "event_type": "POINT_IN_TIME", "metadata": {{"is_error": false, "is_warning": false}}}}"#),
        ]
        .join("\n")
            + "\n"
    }

    #[test]
    fn performance_within_ten_percent_either_way() {
        let t = "2026-12-06 10:00:00,000";
        let r = detail("Offline", "result_samples_per_second", "1000.0", "VALID", 0);
        let ok = detail("Offline", "result_samples_per_second", "1099.5", "VALID", 0);
        let fast = detail("Offline", "result_samples_per_second", "1100.5", "VALID", 0);
        let out = verify_performance(("r", &r), ("t", &ok), t);
        assert!(out.passed(), "{}", out.merged());
        assert_eq!(
            out.merged(),
            "[2026-12-06 10:00:00,000 log_parser.py:72 INFO] Sucessfully loaded MLPerf log from r.\n\
             [2026-12-06 10:00:00,000 log_parser.py:72 INFO] Sucessfully loaded MLPerf log from t.\n\
             Verifying performance.\nReference score = 1000.0\nTest score = 1099.5\nTEST PASS\n"
        );
        let out = verify_performance(("r", &r), ("t", &fast), t);
        assert!(out.merged().ends_with("TEST FAIL: Test score invalid\n"));
        // SingleStream at 100 µs: 20%.
        let r = detail(
            "SingleStream",
            "early_stopping_latency_ss",
            "100000",
            "VALID",
            0,
        );
        let t15 = detail(
            "SingleStream",
            "early_stopping_latency_ss",
            "115000",
            "VALID",
            0,
        );
        assert!(verify_performance(("r", &r), ("t", &t15), t).passed());
    }

    #[test]
    fn performance_fails_on_invalid_errors_and_scenario() {
        let t = "x";
        let r = detail("Offline", "result_samples_per_second", "1000.0", "VALID", 0);
        let invalid = detail(
            "Offline",
            "result_samples_per_second",
            "1000.0",
            "INVALID",
            0,
        );
        let out = verify_performance(("r", &r), ("t", &invalid), t);
        assert!(!out.passed());
        assert!(out.exit.contains("TEST FAIL: Invalid results in t\n"));
        let errors = detail("Offline", "result_samples_per_second", "1000.0", "VALID", 2);
        let out = verify_performance(("r", &r), ("t", &errors), t);
        assert!(!out.passed());
        assert!(out.exit.contains("NameError"));
        let server = detail(
            "Server",
            "result_completed_samples_per_sec",
            "1000.0",
            "VALID",
            0,
        );
        let out = verify_performance(("r", &r), ("t", &server), t);
        assert!(out
            .exit
            .contains("TEST FAIL: Test and reference scenarios do not match!"));
        let out = verify_performance(("r", "not a log\n"), ("t", &r), t);
        assert!(out.exit.contains("Marker not found"));
    }
}

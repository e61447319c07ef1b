//! TEST04: the same sample issued over and over (audit.config's
//! `performance_issue_same`) must not run more than 10% faster than the
//! submitted performance run; a SUT that caches answers does.
//! `verify_performance.py` reads the two `mlperf_log_summary.txt` files.

use yardstick_formats::pyfloat;

use super::test01::crash;
use super::ScriptOutput;

/// A score as the script holds it: `0` until a line sets it, the text after
/// `: ` (Offline, Server), or `1e9 / latency` (SingleStream, MultiStream).
#[derive(Debug, Clone, PartialEq)]
enum Score {
    Unset,
    Text(String),
    Float(f64),
}

impl Score {
    /// How `print("... {}".format(score))` spells it.
    fn printed(&self) -> String {
        match self {
            Score::Unset => "0".into(),
            Score::Text(t) => t.clone(),
            Score::Float(f) => pyfloat::repr(*f),
        }
    }

    /// `float(score)`.
    fn value(&self) -> Result<f64, String> {
        match self {
            Score::Unset => Ok(0.0),
            Score::Float(f) => Ok(*f),
            Score::Text(t) => pyfloat::parse(t)
                .ok_or_else(|| format!("ValueError: could not convert string to float: '{t}'")),
        }
    }
}

/// `line.split(": ", 1)[1].strip()`.
fn after_colon(line: &str) -> Result<String, String> {
    line.split_once(": ")
        .map(|(_, v)| v.trim().to_string())
        .ok_or_else(|| "IndexError: list index out of range".into())
}

/// What reading one summary gave.
struct Summary {
    mode: String,
    score: Score,
    target_latency: Option<String>,
}

enum Stop {
    Exit(String),
    Crash(String),
}

/// Which file is read: the messages name it.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Reference,
    Test,
}

/// One pass of the script's line loop over a summary.
fn read_summary(
    text: &str,
    side: Side,
    ref_target_latency: Option<&str>,
    out: &mut ScriptOutput,
) -> Result<Summary, Stop> {
    let mut s = Summary {
        mode: String::new(),
        score: Score::Unset,
        target_latency: None,
    };
    let latency_score = |line: &str| -> Result<Score, Stop> {
        let v = after_colon(line).map_err(Stop::Crash)?;
        let latency = pyfloat::parse(&v).ok_or_else(|| {
            Stop::Crash(format!(
                "ValueError: could not convert string to float: '{v}'"
            ))
        })?;
        if latency == 0.0 {
            return Err(Stop::Crash(
                "ZeroDivisionError: float division by zero".into(),
            ));
        }
        Ok(Score::Float(1e9 / latency))
    };
    for line in text.split_inclusive('\n') {
        if line.starts_with("Scenario") {
            s.mode = after_colon(line).map_err(Stop::Crash)?;
            continue;
        }
        match s.mode.as_str() {
            "SingleStream"
                if [
                    "Early stopping 90th percentile estimate",
                    "Early stopping 90.0th percentile estimate",
                    "Early stopping 99.9th percentile estimate",
                ]
                .iter()
                .any(|p| line.contains(p)) =>
            {
                s.score = latency_score(line)?;
                continue;
            }
            "MultiStream"
                if [
                    "Early stopping 99th percentile estimate",
                    "Early stopping 99.0th percentile estimate",
                ]
                .iter()
                .any(|p| line.contains(p)) =>
            {
                s.score = latency_score(line)?;
                continue;
            }
            "Server" if line.starts_with("Completed samples per second") => {
                s.score = Score::Text(after_colon(line).map_err(Stop::Crash)?);
                continue;
            }
            // The official pattern is `target_latency (ns)`, a regex whose
            // parentheses group: it matches `target_latency ns`, which no
            // LoadGen summary holds, so the target latency is never compared.
            "Server" if line.starts_with("target_latency ns") => {
                let latency = after_colon(line).map_err(Stop::Crash)?;
                if side == Side::Test {
                    match ref_target_latency {
                        None => {
                            return Err(Stop::Crash(
                                "NameError: name 'ref_target_latency' is not defined".into(),
                            ))
                        }
                        Some(r) if r != latency => {
                            out.out("TEST FAIL: Server target latency mismatch");
                            return Err(Stop::Exit(String::new()));
                        }
                        Some(_) => {}
                    }
                }
                s.target_latency = Some(latency);
                continue;
            }
            "Offline" if line.starts_with("Samples per second") => {
                s.score = Score::Text(after_colon(line).map_err(Stop::Crash)?);
                continue;
            }
            _ => {}
        }
        if line.starts_with("Result is") {
            let valid = after_colon(line).map_err(Stop::Crash)?;
            if valid == "INVALID" {
                return Err(Stop::Exit(match side {
                    Side::Reference => "TEST FAIL: Reference results are invalid".into(),
                    Side::Test => "TEST FAIL: Test results are invalid".into(),
                }));
            }
        }
        let digits = line.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && line[digits..].starts_with(" ERROR") {
            let error = line.split(' ').next().unwrap_or_default();
            out.out(match side {
                Side::Reference => format!("WARNING: {error} ERROR reported in reference results"),
                Side::Test => format!("WARNING: {error} ERROR reported in test results"),
            });
        }
    }
    Ok(s)
}

/// `verify_performance.py -r <submitted run's summary> -t <compliance
/// run's summary>`: PASS when the test score is under the reference's
/// plus 10% (20% for SingleStream with a reference score at or under
/// 200000, i.e. a latency of 5 µs or more, and MultiStream at or under
/// 1600000). Scores are throughputs: SingleStream and MultiStream use
/// 1e9 / the early-stopping latency estimate. A slower test run passes.
pub fn verify_performance(reference_summary: &str, test_summary: &str) -> ScriptOutput {
    let mut out = ScriptOutput::default();
    out.out("Verifying performance.");
    let stop = |out: &mut ScriptOutput, s: Stop| {
        match s {
            Stop::Exit(m) if m.is_empty() => {}
            Stop::Exit(m) => out.end(m),
            Stop::Crash(e) => crash(out, &e),
        };
    };
    let reference = match read_summary(reference_summary, Side::Reference, None, &mut out) {
        Ok(r) => r,
        Err(s) => {
            stop(&mut out, s);
            return out;
        }
    };
    let test = match read_summary(
        test_summary,
        Side::Test,
        reference.target_latency.as_deref(),
        &mut out,
    ) {
        Ok(t) => t,
        Err(s) => {
            stop(&mut out, s);
            return out;
        }
    };
    if test.mode != reference.mode {
        out.end("Test and reference scenarios do not match!");
        return out;
    }
    out.out(format!("reference score = {}", reference.score.printed()));
    out.out(format!("test score = {}", test.score.printed()));
    let (ref_value, test_value) = match (reference.score.value(), test.score.value()) {
        (Ok(r), Ok(t)) => (r, t),
        (Err(e), _) | (_, Err(e)) => {
            crash(&mut out, &e);
            return out;
        }
    };
    let threshold = if (reference.mode == "SingleStream" && ref_value <= 200000.0)
        || (reference.mode == "MultiStream" && ref_value <= 1600000.0)
    {
        0.20
    } else {
        0.10
    };
    if test_value < ref_value * (1.0 + threshold) {
        out.out("TEST PASS");
    } else {
        out.out("TEST FAIL: Test score invalid");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(scenario: &str, result_line: &str, valid: &str) -> String {
        format!(
            "================================================\nMLPerf Results Summary\n================================================\nSUT name : NullSUT\nScenario : {scenario}\nMode     : PerformanceOnly\n{result_line}\nResult is : {valid}\n\n"
        )
    }

    #[test]
    fn offline_passes_unless_ten_percent_faster() {
        let r = summary("Offline", "Samples per second: 1000.00", "VALID");
        let same = summary("Offline", "Samples per second: 1099.00", "VALID");
        let out = verify_performance(&r, &same);
        assert_eq!(
            out.merged(),
            "Verifying performance.\nreference score = 1000.00\ntest score = 1099.00\nTEST PASS\n"
        );
        let slow = summary("Offline", "Samples per second: 10.5", "VALID");
        assert!(verify_performance(&r, &slow).passed());
        let cached = summary("Offline", "Samples per second: 1100.00", "VALID");
        assert!(verify_performance(&r, &cached)
            .merged()
            .ends_with("TEST FAIL: Test score invalid\n"));
    }

    #[test]
    fn single_stream_scores_are_inverse_latencies() {
        let line = |ns: u64| format!("Early stopping 90th percentile estimate : {ns}");
        let r = summary("SingleStream", &line(1_000_000), "VALID");
        // 1 ms -> score 1000 (<= 200000): 20% threshold.
        let t = summary("SingleStream", &line(850_000), "VALID");
        let out = verify_performance(&r, &t);
        assert!(out.passed(), "{}", out.merged());
        assert!(out.stdout.contains("reference score = 1000.0\n"));
        let cached = summary("SingleStream", &line(10_000), "VALID");
        assert!(!verify_performance(&r, &cached).passed());
    }

    #[test]
    fn invalid_runs_errors_and_mixed_scenarios() {
        let r = summary("Offline", "Samples per second: 1000", "VALID");
        let bad = summary("Offline", "Samples per second: 1000", "INVALID");
        let out = verify_performance(&r, &bad);
        assert_eq!(
            out.merged(),
            "Verifying performance.\nTEST FAIL: Test results are invalid\n"
        );
        let out = verify_performance(&bad, &r);
        assert!(out.exit.contains("Reference results are invalid"));
        let errors = format!("{r}2 ERRORS encountered. See detailed log.\n");
        let out = verify_performance(&r, &errors);
        assert!(out
            .stdout
            .contains("WARNING: 2 ERROR reported in test results\n"));
        assert!(out.passed());
        let server = summary("Server", "Completed samples per second    : 1000", "VALID");
        let out = verify_performance(&r, &server);
        assert_eq!(out.exit, "Test and reference scenarios do not match!\n");
        assert!(!out.passed());
    }
}

//! `compliance/<system>/<model>/<scenario>/TESTxx`: the audits a result
//! needs, their runs and their `verify_*.txt` verdicts.

use std::path::Path;

use super::logs;
use super::round::ModelRules;
use super::rules;
use super::tree::{files_diff, list_files, Walk};

/// Checks a result's compliance folder; whether it passed.
pub(crate) fn check(
    walk: &mut Walk<'_>,
    dir: &Path,
    mlperf_model: &str,
    model: &ModelRules,
    scenario: &str,
    scope: &str,
) -> bool {
    let errors_before = walk.findings.len();
    let tests = &model.compliance_tests;
    if tests.is_empty() {
        return true;
    }
    if !dir.is_dir() {
        walk.fail(
            rules::COMP_MISSING_DIR,
            dir,
            None,
            scope,
            format!("no compliance folder (needs {})", tests.join(", ")),
        );
        return false;
    }
    // As the official checker: when TEST06 is among the tests, no test's
    // performance run is looked at (TEST06 has none).
    let has_test06 = tests.iter().any(|t| t == "TEST06");
    for test in tests {
        let test_dir = dir.join(test);
        if !test_dir.is_dir() {
            walk.fail(
                rules::COMP_MISSING_TEST,
                &test_dir,
                None,
                scope,
                format!("{test} is missing"),
            );
            continue;
        }
        // Only TEST01 and TEST04 have a performance run to judge (v6.0's
        // TEST07/08/09 are read for their verdicts alone).
        if has_test06 || !matches!(test.as_str(), "TEST01" | "TEST04") {
            continue;
        }
        let run = test_dir.join("performance/run_1");
        logs::performance_run(
            walk,
            &run,
            mlperf_model,
            model,
            scenario,
            false,
            scope,
            true,
        );
        verify_performance(walk, &test_dir, scope);
    }
    for test in tests {
        let test_dir = dir.join(test);
        if !test_dir.is_dir() {
            continue;
        }
        match test.as_str() {
            "TEST01" => test01_accuracy(walk, &test_dir, model, mlperf_model, scope),
            "TEST06" => test06(walk, &test_dir, scope),
            "TEST07" => verdict_passes(walk, &test_dir, "verify_accuracy.txt", scope),
            "TEST09" => verdict_passes(walk, &test_dir, "verify_output_len.txt", scope),
            _ => {}
        }
    }
    walk.findings[errors_before..]
        .iter()
        .all(|f| f.severity != super::Severity::Error)
}

/// `verify_performance.txt` must say `TEST PASS`; the run's files are the
/// summary and detail logs.
fn verify_performance(walk: &mut Walk<'_>, test_dir: &Path, scope: &str) {
    let verify = test_dir.join("verify_performance.txt");
    match std::fs::read_to_string(&verify) {
        Err(_) => walk.fail(
            rules::COMP_VERIFY_MISSING,
            &verify,
            None,
            scope,
            "verify_performance.txt is missing".to_string(),
        ),
        Ok(text) => {
            if !text.lines().any(|l| l.contains("TEST PASS")) {
                let verdict = text
                    .lines()
                    .find(|l| l.contains("TEST FAIL"))
                    .map(|l| l.trim().to_string());
                walk.fail(
                    rules::COMP_VERIFY_PERFORMANCE,
                    &verify,
                    text.lines()
                        .position(|l| l.contains("TEST FAIL"))
                        .map(|i| i + 1),
                    scope,
                    format!(
                        "the performance audit did not pass ({})",
                        verdict.unwrap_or_else(|| "no TEST PASS line".to_string())
                    ),
                );
            }
            let run = test_dir.join("performance/run_1");
            if run.is_dir() {
                let diff = files_diff(
                    &list_files(&run),
                    &["mlperf_log_summary.txt", "mlperf_log_detail.txt"],
                    &["mlperf_log_accuracy.json"],
                );
                if !diff.is_empty() {
                    walk.fail(
                        rules::COMP_PERF_FILES,
                        &run,
                        None,
                        scope,
                        format!("file list mismatch: {}", diff.join(", ")),
                    );
                }
            }
        }
    }
}

/// TEST01: `verify_accuracy.txt` passes, or the accuracy of the sampled
/// responses is within the allowed delta of the accuracy run's.
fn test01_accuracy(
    walk: &mut Walk<'_>,
    test_dir: &Path,
    model: &ModelRules,
    mlperf_model: &str,
    scope: &str,
) {
    let verify = test_dir.join("verify_accuracy.txt");
    let Ok(text) = std::fs::read_to_string(&verify) else {
        walk.fail(
            rules::COMP_VERIFY_MISSING,
            &verify,
            None,
            scope,
            "verify_accuracy.txt is missing".to_string(),
        );
        return;
    };
    let passed = text.lines().any(|l| l.contains("TEST PASS"));
    let acc_dir = test_dir.join("accuracy");
    if !acc_dir.is_dir() {
        walk.fail(
            rules::COMP_ACC_FILES,
            &acc_dir,
            None,
            scope,
            "TEST01 has no accuracy folder".to_string(),
        );
        return;
    }
    let mut required = vec!["mlperf_log_accuracy.json", "accuracy.txt"];
    if !passed {
        required.extend(["baseline_accuracy.txt", "compliance_accuracy.txt"]);
    }
    let diff = files_diff(&list_files(&acc_dir), &required, &[]);
    if !diff.is_empty() {
        walk.fail(
            rules::COMP_ACC_FILES,
            &acc_dir,
            None,
            scope,
            format!("file list mismatch: {}", diff.join(", ")),
        );
        return;
    }
    if passed {
        return;
    }
    // The responses differ: the accuracy of each must be close enough.
    let read = |name: &str| std::fs::read_to_string(acc_dir.join(name)).unwrap_or_default();
    let (baseline, sampled) = (
        read("baseline_accuracy.txt"),
        read("compliance_accuracy.txt"),
    );
    let round = walk.round;
    for target in &model.accuracy {
        let pattern = &round.accuracy_patterns[&target.metric];
        let value = |text: &str| {
            text.lines()
                .rev()
                .find_map(|l| pattern.captures(l).and_then(|c| c[1].parse::<f64>().ok()))
                .unwrap_or(0.0)
        };
        let (b, s) = (value(&baseline), value(&sampled));
        let allowed = model
            .accuracy_delta_percent
            .get(&target.metric)
            .copied()
            .unwrap_or(if mlperf_model.contains("99.9") {
                0.1
            } else {
                1.0
            });
        if b == 0.0 || s == 0.0 {
            walk.fail(
                rules::COMP_TEST01_ACCURACY,
                &acc_dir,
                None,
                scope,
                format!(
                    "{} is missing from baseline or compliance accuracy",
                    target.metric
                ),
            );
            return;
        }
        let delta = (1.0 - b / s).abs() * 100.0;
        if delta > allowed {
            walk.fail(
                rules::COMP_TEST01_ACCURACY,
                &verify,
                None,
                scope,
                format!("{}: sampled {s} vs accuracy run {b} differ by {delta:.4}%, more than {allowed}%", target.metric),
            );
            return;
        }
    }
}

/// TEST06: first token, EOS and output length checks all pass.
fn test06(walk: &mut Walk<'_>, test_dir: &Path, scope: &str) {
    let verify = test_dir.join("verify_accuracy.txt");
    let Ok(text) = std::fs::read_to_string(&verify) else {
        walk.fail(
            rules::COMP_VERIFY_MISSING,
            &verify,
            None,
            scope,
            "verify_accuracy.txt is missing".to_string(),
        );
        return;
    };
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let first = lines.contains(&"First token check pass: True")
        || lines.contains(&"First token check pass: Skipped");
    let eos = lines.contains(&"EOS check pass: True");
    let length = lines.contains(&"Sample length check pass: True");
    if !(first && eos && length) {
        walk.fail(
            rules::COMP_TEST06,
            &verify,
            None,
            scope,
            format!("TEST06 failed: first token {first}, EOS {eos}, sample length {length}"),
        );
    }
}

/// TEST07 and TEST09 (v6.0): the verdict file is there and says `TEST PASS`.
fn verdict_passes(walk: &mut Walk<'_>, test_dir: &Path, file: &str, scope: &str) {
    let verify = test_dir.join(file);
    let Ok(text) = std::fs::read_to_string(&verify) else {
        walk.fail(
            rules::COMP_VERIFY_MISSING,
            &verify,
            None,
            scope,
            format!("{file} is missing"),
        );
        return;
    };
    if !text.contains("TEST PASS") {
        walk.fail(
            rules::COMP_VERDICT,
            &verify,
            None,
            scope,
            format!("{file} does not say TEST PASS"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Round;

    #[test]
    fn test09_and_test07_verdicts_must_say_pass() {
        let round = Round::builtin("v6.0").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut walk = Walk {
            root: dir.path(),
            round: &round,
            skip_compliance: false,
            findings: Vec::new(),
            results: Vec::new(),
        };
        let test09 = dir.path().join("TEST09");
        std::fs::create_dir_all(&test09).unwrap();
        verdict_passes(&mut walk, &test09, "verify_output_len.txt", "r");
        std::fs::write(
            test09.join("verify_output_len.txt"),
            "Min check pass: False\n\nTEST FAIL\n",
        )
        .unwrap();
        verdict_passes(&mut walk, &test09, "verify_output_len.txt", "r");
        std::fs::write(test09.join("verify_output_len.txt"), "\nTEST PASS\n").unwrap();
        verdict_passes(&mut walk, &test09, "verify_output_len.txt", "r");
        let rules: Vec<(&str, &str)> = walk
            .findings
            .iter()
            .map(|f| (f.rule, f.file.as_str()))
            .collect();
        assert_eq!(
            rules,
            [
                ("comp.verify-missing", "TEST09/verify_output_len.txt"),
                ("comp.verdict", "TEST09/verify_output_len.txt")
            ]
        );
    }
}

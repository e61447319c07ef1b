//! Differential tests of the RCP checker, the result summarizer's score and
//! the package checker against the official tools' verdicts
//! (mlperf-logging 4.1.68) on real MLPerf Training submissions: the DEV
//! corpus ../shared/training/v5.1 (expected.json) by default, any corpus of
//! the same layout with `YARDSTICK_TRAINING_CORPUS` (tests/corpus/mod.rs).

mod corpus;

use serde_json::Value as Json;
use yardstick_training_rules::compliance::RuleFiles;
use yardstick_training_rules::package::{check_submission, CheckOptions, SubmissionReport};
use yardstick_training_rules::summary::rows::{detailed_rows, Cell};

fn submitters(expected: &Json) -> Vec<String> {
    let mut names: Vec<String> = expected["submitters"]
        .as_object()
        .expect("submitters")
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

fn check(submitter: &str, ruleset: &str) -> SubmissionReport {
    let rules = RuleFiles::embedded().expect("rules");
    check_submission(
        &corpus::dir().join(submitter),
        submitter,
        &rules,
        &CheckOptions::training(ruleset),
    )
    .unwrap_or_else(|e| panic!("{submitter}: {e}"))
}

fn f(v: &Json) -> Option<f64> {
    v.as_f64()
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance
}

/// Every check of one submitter folder against expected.json; returns the
/// differences.
fn compare(submitter: &str, expected: &Json, report: &SubmissionReport) -> Vec<String> {
    let mut diffs = Vec::new();
    let mut diff = |what: String| diffs.push(format!("{submitter}: {what}"));

    // System descriptions.
    for (file, check) in &report.systems {
        let official = &expected["systems"][file.as_str()];
        let verdict = if check.valid { "pass" } else { "fail" };
        if official["verdict"].as_str() != Some(verdict) {
            diff(format!(
                "{file}: system_desc {verdict}, official {}",
                official["verdict"]
            ));
        }
    }
    let official_systems = expected["systems"]
        .as_object()
        .expect("systems")
        .keys()
        .filter(|k| k.starts_with(&format!("{submitter}/")))
        .count();
    if official_systems != report.systems.len() {
        diff(format!(
            "{} system files, official {official_systems}",
            report.systems.len()
        ));
    }

    // Sets.
    let official_sets: Vec<&String> = expected["sets"]
        .as_object()
        .expect("sets")
        .keys()
        .filter(|k| k.starts_with(&format!("{submitter}/")))
        .collect();
    if official_sets.len() != report.sets.len() {
        diff(format!(
            "{} sets, official {}",
            report.sets.len(),
            official_sets.len()
        ));
    }
    for set in &report.sets {
        let key = format!("{submitter}/{}/{}", set.system, set.benchmark);
        let official = &expected["sets"][key.as_str()];
        if official.is_null() {
            diff(format!("{key}: not in expected.json"));
            continue;
        }
        // RCP checker.
        let orcp = &official["rcp_checker"];
        match &set.rcp {
            None => diff(format!("{key}: no RCP check")),
            Some(rcp) => {
                let verdict = if rcp.passed { "pass" } else { "fail" };
                if orcp["verdict"].as_str() != Some(verdict) {
                    diff(format!(
                        "{key}: RCP {verdict}, official {}",
                        orcp["verdict"]
                    ));
                }
                if orcp["message"].as_str() != Some(rcp.message().as_str()) {
                    diff(format!(
                        "{key}: RCP message {:?}, official {}",
                        rcp.message(),
                        orcp["message"]
                    ));
                }
                let record = rcp.record.as_ref();
                for (name, ours) in [
                    ("BS", record.map(|r| r.batch_size)),
                    ("RCP Mean", record.map(|r| r.mean)),
                    ("RCP Stdev", record.map(|r| r.stdev)),
                ] {
                    if ours != f(&orcp["rcp_record"][name]) {
                        diff(format!(
                            "{key}: RCP {name} {ours:?}, official {}",
                            orcp["rcp_record"][name]
                        ));
                    }
                }
                // Found by bisection to 1e-4: a last-step difference of the
                // t distribution's tail may move it by one step.
                for (name, ours, tolerance) in [
                    ("Min Epochs", record.map(|r| r.min_epochs), 2e-4),
                    ("Max Speedup", record.map(|r| r.max_speedup), 1e-6),
                ] {
                    let theirs = f(&orcp["rcp_record"][name]);
                    let same = match (ours, theirs) {
                        (Some(a), Some(b)) => close(a, b, tolerance),
                        _ => false,
                    };
                    if !same {
                        diff(format!("{key}: RCP {name} {ours:?}, official {theirs:?}"));
                    }
                }
                // Logged with %.4f.
                let mean_ok = match (rcp.submission_mean, f(&orcp["submission_mean"])) {
                    (Some(a), Some(b)) => close(a, b, 5e-5),
                    _ => false,
                };
                if !mean_ok {
                    diff(format!(
                        "{key}: submission mean {:?}, official {}",
                        rcp.submission_mean, orcp["submission_mean"]
                    ));
                }
                let norm = f(&orcp["norm_factor"]).unwrap_or(1.0);
                if rcp.norm_factor != norm {
                    diff(format!(
                        "{key}: norm factor {}, official {norm}",
                        rcp.norm_factor
                    ));
                }
                if rcp.summary_column()
                    != official["result_summarizer"]["RCP"].as_str().unwrap_or("")
                {
                    diff(format!(
                        "{key}: RCP column {}, official {}",
                        rcp.summary_column(),
                        official["result_summarizer"]["RCP"]
                    ));
                }
            }
        }
        let warnings: Vec<&str> = orcp["warnings"]
            .as_array()
            .map(|a| a.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        if warnings
            != set
                .rcp_warnings
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
        {
            diff(format!(
                "{key}: RCP warnings {:?}, official {warnings:?}",
                set.rcp_warnings
            ));
        }

        // Score.
        let oscore = &official["score"];
        for run in &set.score.runs {
            let name = format!("{}.xz", run.file);
            let theirs = f(&oscore["per_run_minutes"][name.as_str()]);
            if run.minutes != theirs {
                diff(format!(
                    "{key}/{}: {:?} minutes, official {theirs:?}",
                    run.file, run.minutes
                ));
            }
        }
        let dropped: Vec<String> = set
            .score
            .runs
            .iter()
            .filter(|r| r.dropped.is_some())
            .map(|r| format!("{}.xz", r.file))
            .collect();
        let official_dropped: Vec<String> = oscore["runs_dropped"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        if dropped != official_dropped {
            diff(format!(
                "{key}: dropped {dropped:?}, official {official_dropped:?}"
            ));
        }
        for (name, ours, theirs) in [
            (
                "olympic mean",
                set.score.olympic_mean,
                f(&oscore["olympic_mean_unscaled"]),
            ),
            (
                "scaling factor",
                Some(set.score.scaling_factor),
                f(&oscore["scaling_factor_applied"]),
            ),
            ("score", set.score.score, f(&oscore["score_minutes"])),
        ] {
            if ours != theirs {
                diff(format!("{key}: {name} {ours:?}, official {theirs:?}"));
            }
        }
        let notes: Vec<&str> = oscore["summarizer_notes"]
            .as_array()
            .map(|a| a.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        let our_notes: Vec<String> = set
            .score
            .notes
            .iter()
            .map(|n| n.replace(".txt.xz", ".txt"))
            .collect();
        if notes != our_notes.iter().map(String::as_str).collect::<Vec<_>>() {
            diff(format!("{key}: notes {our_notes:?}, official {notes:?}"));
        }

        // The summarizer's row.
        let row = &official["result_summarizer"];
        for (name, ours) in [
            ("time_to_train", set.score.score),
            ("GBS", set.gbs),
            ("samples_to_converge", set.samples_to_converge),
            ("rcp_scaling_factor", Some(set.score.scaling_factor)),
        ] {
            if ours != f(&row[name]) {
                diff(format!(
                    "{key}: summarizer {name} {ours:?}, official {}",
                    row[name]
                ));
            }
        }

        // The package checker's section.
        let opc = &official["package_checker"];
        let strings = |v: &Json| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        if strings(&opc["warnings"]) != set.warnings {
            diff(format!(
                "{key}: package warnings {:?}, official {:?}",
                set.warnings,
                strings(&opc["warnings"])
            ));
        }
        if strings(&opc["errors"]) != set.errors {
            diff(format!(
                "{key}: package errors {:?}, official {:?}",
                set.errors,
                strings(&opc["errors"])
            ));
        }
        if opc["rcp"].as_str() != set.rcp_line.as_deref() {
            diff(format!(
                "{key}: package RCP line {:?}, official {}",
                set.rcp_line, opc["rcp"]
            ));
        }
    }

    // The summarizer's detailed rows: the system's columns.
    let (usage, ruleset) = corpus::usage_and_ruleset(expected);
    let (rows, row_errors) = detailed_rows(report, &usage, &ruleset);
    if !row_errors.is_empty() {
        diff(format!("rows not built: {row_errors:?}"));
    }
    for set in &report.sets {
        let key = format!("{submitter}/{}/{}", set.system, set.benchmark);
        let official = &expected["sets"][key.as_str()]["result_summarizer"];
        let Some(row) = rows.iter().find(|r| {
            r.get(&format!("{}:time_to_train", set.benchmark))
                == Some(&Cell::Float(set.score.score))
                && r.get("system")
                    == Some(&Cell::Str(
                        official["system_name"].as_str().unwrap_or("").into(),
                    ))
        }) else {
            diff(format!("{key}: no summarizer row"));
            continue;
        };
        for column in ["division", "availability"] {
            if row.get(column) != Some(&Cell::Str(official[column].as_str().unwrap_or("").into())) {
                diff(format!(
                    "{key}: row {column} {:?}, official {}",
                    row.get(column),
                    official[column]
                ));
            }
        }
        let accelerators = official["accelerators_count"].as_f64().map(|a| a as i64);
        if row.get("accelerators_count") != accelerators.map(Cell::Int).as_ref() {
            diff(format!(
                "{key}: row accelerators {:?}, official {accelerators:?}",
                row.get("accelerators_count")
            ));
        }
        let rcp_column = format!("{}:RCP", set.benchmark);
        if row.get(&rcp_column) != Some(&Cell::Str(official["RCP"].as_str().unwrap_or("").into())) {
            diff(format!(
                "{key}: row RCP {:?}, official {}",
                row.get(&rcp_column),
                official["RCP"]
            ));
        }
    }
    let official_rows = expected["submitters"][submitter]["result_summarizer"]["rows"].as_u64();
    if official_rows != Some(rows.len() as u64) {
        diff(format!(
            "{} summarizer rows, official {official_rows:?}",
            rows.len()
        ));
    }

    // The package verdict.
    let opc = &expected["submitters"][submitter]["package_checker"];
    let verdict = if report.passed() { "pass" } else { "fail" };
    if opc["verdict"].as_str() != Some(verdict) {
        diff(format!("package {verdict}, official {}", opc["verdict"]));
    }
    let mut ours = report.warnings.clone();
    let mut theirs: Vec<String> = opc["warnings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    // The official checker walks folders in directory order; compare as sets.
    ours.sort();
    theirs.sort();
    if ours != theirs {
        diff(format!("package warnings {ours:?}, official {theirs:?}"));
    }
    if opc["n_errors"].as_u64() != Some(report.errors.len() as u64) {
        diff(format!(
            "package errors {:?}, official {}",
            report.errors, opc["errors"]
        ));
    }
    diffs
}

#[test]
fn rcp_scores_and_package_verdicts_equal_the_official_ones() {
    let expected = corpus::expected();
    let (usage, ruleset) = corpus::usage_and_ruleset(&expected);
    assert_eq!(usage, "training");
    let names = submitters(&expected);
    // Every submitter folder of the corpus has the official verdicts.
    let mut on_disk: Vec<String> = std::fs::read_dir(corpus::dir())
        .expect("the corpus is readable")
        .filter_map(|e| {
            let e = e.ok()?;
            e.path()
                .join("results")
                .is_dir()
                .then(|| e.file_name().into_string().ok())?
        })
        .collect();
    on_disk.sort();
    assert_eq!(on_disk, names, "submitter folders vs expected.json");
    assert!(!names.is_empty(), "no submitters");
    let mut diffs = Vec::new();
    let mut sets = 0;
    for submitter in &names {
        let report = check(submitter, &ruleset);
        sets += report.sets.len();
        diffs.extend(compare(submitter, &expected, &report));
    }
    let official_sets = expected["counts"]["n_sets"]
        .as_u64()
        .expect("counts.n_sets") as usize;
    assert_eq!(
        official_sets,
        expected["sets"].as_object().expect("sets").len()
    );
    assert_eq!(sets, official_sets, "every set of the corpus is checked");
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

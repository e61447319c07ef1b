//! yardstick `check` against the official submission checker (v5.1 tag),
//! on a real published tree (tests/check/valid, see its README) and the
//! broken copies of tests/check/cases.json. The official verdicts are
//! recorded in tests/check/official_v5.1.json by gen_official.py.
//!
//! Where yardstick is deliberately stricter, the official checker passes the
//! tree and yardstick fails it with a rule marked `stricter`: the case's
//! rule, whose `stricter` text says why.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;
use yardstick_submission::check::{check_tree, rules, CheckOptions, CheckReport, Severity};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/check")
}

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(fixture().join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn expand(text: &str, vars: &serde_json::Map<String, Value>) -> String {
    let mut out = text.to_string();
    for (name, value) in vars {
        out = out.replace(&format!("{{{name}}}"), value.as_str().unwrap());
    }
    out
}

/// The operations gen_official.py applies, the same way.
fn apply(tree: &Path, op: &Value, vars: &serde_json::Map<String, Value>) {
    let path = |field: &str| tree.join(expand(op[field].as_str().unwrap(), vars));
    match op["op"].as_str().unwrap() {
        "replace" => {
            let file = path("file");
            let text = std::fs::read_to_string(&file).unwrap();
            let old = op["old"].as_str().unwrap();
            assert!(text.contains(old), "{}: {old:?} not found", file.display());
            std::fs::write(&file, text.replacen(old, op["new"].as_str().unwrap(), 1)).unwrap();
        }
        "append" => {
            let file = path("file");
            let mut text = std::fs::read_to_string(&file).unwrap();
            text.push_str(op["text"].as_str().unwrap());
            std::fs::write(&file, text).unwrap();
        }
        "pad" => {
            let file = path("file");
            let mut bytes = std::fs::read(&file).unwrap();
            let want = op["bytes"].as_u64().unwrap() as usize;
            if bytes.len() < want {
                bytes.resize(want, b' ');
            }
            std::fs::write(&file, bytes).unwrap();
        }
        "delete" => {
            let target = path("path");
            if target.is_dir() {
                std::fs::remove_dir_all(&target).unwrap();
            } else {
                std::fs::remove_file(&target).unwrap();
            }
        }
        "mkdir" => std::fs::create_dir_all(path("path")).unwrap(),
        other => panic!("unknown op {other}"),
    }
}

/// The broken copy checked in `round` (v6.0: moved into its layout after
/// the case's operations), and the folder holding it (kept while in use).
fn check_case(
    case: &Value,
    vars: &serde_json::Map<String, Value>,
    round: &str,
) -> (CheckReport, tempfile::TempDir) {
    let scratch = tempfile::tempdir().unwrap();
    let tree = scratch.path().join("tree");
    copy_tree(&fixture().join("valid"), &tree);
    for op in case["ops"].as_array().unwrap() {
        apply(&tree, op, vars);
    }
    if round == "v6.0" {
        as_v6_tree(&tree);
    }
    let options = CheckOptions {
        round: Some(round.to_string()),
        ..CheckOptions::default()
    };
    (check_tree(&tree, &options).unwrap(), scratch)
}

/// The results the official checker struck: its NoResults entries that name
/// a result (a measurements folder stands for its result), and every result
/// of a system or submitter it struck whole.
fn official_struck(verdict: &Value, all_results: &[String]) -> BTreeSet<String> {
    let mut struck = BTreeSet::new();
    for key in verdict["no_results"].as_array().unwrap() {
        let key = key
            .as_str()
            .unwrap()
            .replacen("/measurements/", "/results/", 1);
        let depth = key.split('/').count();
        match depth {
            // division/submitter/results/system/model/scenario
            6 => {
                struck.insert(key);
            }
            // A system, or the submitter: all its results.
            4 | 2 => struck.extend(
                all_results
                    .iter()
                    .filter(|r| r.starts_with(&format!("{key}/")))
                    .cloned(),
            ),
            // The submitter's results folder or a model: the tree fails, the
            // other results stand.
            _ => {}
        }
    }
    struck
}

#[test]
fn the_published_tree_passes_both_checkers_with_the_same_summary() {
    let official = load("official_v5.1.json");
    assert_eq!(official["cases"]["valid"]["rc"], 0);
    let report = check_tree(&fixture().join("valid"), &CheckOptions::default()).unwrap();
    // The round comes from the runs' seeds.
    assert_eq!(report.round, "v5.1");
    assert_eq!(report.round_from, "seeds");
    let errors: Vec<_> = report.errors().collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(report.passed);
    // The official checker warns of one unknown field; so does yardstick.
    assert!(report
        .findings
        .iter()
        .any(|f| f.rule == "sys.unknown-field" && f.reason.contains("host_processor_vcpu_count")));
    assert_eq!(report.results.len(), 3);
    assert!(report.results.iter().all(|r| r.valid));
    // The summary CSV: the same header and the same rows (the official
    // checker writes them in the file system's order, yardstick sorted).
    let ours = report.summary_csv();
    let theirs = official["valid_summary_csv"].as_str().unwrap();
    let (ours_head, theirs_head) = (ours.lines().next(), theirs.lines().next());
    assert_eq!(ours_head, theirs_head);
    let ours: BTreeSet<&str> = ours.lines().skip(1).collect();
    let theirs: BTreeSet<&str> = theirs.lines().skip(1).collect();
    assert_eq!(ours, theirs);
}

#[test]
fn every_broken_copy_fails_with_its_rule_and_agrees_with_the_official_checker() {
    let cases = load("cases.json");
    let official = load("official_v5.1.json");
    let vars = cases["vars"].as_object().unwrap();
    let valid = check_tree(&fixture().join("valid"), &CheckOptions::default()).unwrap();
    let all_results: Vec<String> = valid.results.iter().map(|r| r.path.clone()).collect();
    let list = cases["cases"].as_array().unwrap();
    assert!(list.len() >= 15, "at least 15 broken copies");
    let mut stricter_cases = Vec::new();
    for case in list {
        let id = case["id"].as_str().unwrap();
        let rule_id = case["rule"].as_str().unwrap();
        let rule = rules::by_id(rule_id).unwrap_or_else(|| panic!("{id}: no rule {rule_id}"));
        let verdict = &official["cases"][id];
        assert!(
            verdict.is_object(),
            "{id}: no official verdict recorded; run gen_official.py"
        );
        let (report, scratch) = check_case(case, vars, "v5.1");
        let tree = scratch.path().join("tree");

        // yardstick fails every broken copy, naming the case's rule.
        assert!(!report.passed, "{id}: yardstick passed a broken tree");
        let named: Vec<_> = report.errors().filter(|f| f.rule == rule_id).collect();
        assert!(
            !named.is_empty(),
            "{id}: no {rule_id} finding in {:#?}",
            report.findings
        );
        for finding in &named {
            assert!(
                !finding.file.is_empty() && !finding.reason.is_empty(),
                "{id}: {finding:?}"
            );
        }

        let official_failed = verdict["rc"] == 1;
        assert!(
            verdict["crashed"] == false,
            "{id}: the official checker crashed"
        );
        if official_failed {
            // The official checker said it in its own words...
            let says = case["official_says"].as_str().unwrap();
            let errors = verdict["errors"].as_array().unwrap();
            assert!(
                errors.iter().any(|e| e.as_str().unwrap().contains(says)),
                "{id}: official said {errors:?}"
            );
            assert!(
                rule.stricter.is_none(),
                "{id}: {rule_id} is marked stricter but the official checker fails it too"
            );
            // ...and struck the same results.
            // A result yardstick could not judge (its system description
            // is unusable) is not valid either.
            let valid: BTreeSet<&String> = report
                .results
                .iter()
                .filter(|r| r.valid)
                .map(|r| &r.path)
                .collect();
            let ours: BTreeSet<String> = all_results
                .iter()
                .filter(|r| tree.join(r).is_dir() && !valid.contains(r))
                .cloned()
                .collect();
            let theirs = official_struck(verdict, &all_results);
            assert_eq!(ours, theirs, "{id}: struck results differ");
        } else {
            // Deliberately stricter: the official checker passes the tree;
            // every error yardstick reports is a rule that says why it is
            // stricter, and the case's rule is one of them.
            stricter_cases.push(id);
            assert!(
                rule.stricter.is_some(),
                "{id}: the official checker passes it but {rule_id} is not marked stricter"
            );
            for finding in report.errors() {
                assert!(
                    finding.stricter.is_some(),
                    "{id}: {finding:?} fails a tree the official checker passes"
                );
            }
        }
    }
    // The three rules where yardstick is stricter, by name.
    assert_eq!(
        stricter_cases,
        [
            "loadgen-error-uncounted",
            "early-stopping",
            "accuracy-dataset-coverage"
        ]
    );
}

#[test]
fn findings_name_file_line_rule_and_reason() {
    let cases = load("cases.json");
    let vars = cases["vars"].as_object().unwrap();
    let case = cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "seed-qsl")
        .unwrap();
    let (report, _scratch) = check_case(case, vars, "v5.1");
    let seed = report.errors().find(|f| f.rule == "perf.seed").unwrap();
    assert_eq!(
        seed.file,
        "closed/Lenovo/results/SE100_RTX2000E_Ada_16GBx1_TRT/resnet50/Offline/performance/run_1/mlperf_log_detail.txt"
    );
    // The seed's record in the real log.
    let text = std::fs::read_to_string(fixture().join("valid").join(&seed.file)).unwrap();
    let expected_line = text
        .lines()
        .position(|l| l.contains("\"effective_qsl_rng_seed\""))
        .unwrap()
        + 1;
    assert_eq!(seed.line, Some(expected_line));
    assert!(
        seed.reason.contains("2085463073848966840") && seed.reason.contains("1780908523862526354"),
        "{}",
        seed.reason
    );
    assert_eq!(seed.severity, Severity::Error);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["passed"], false);
    assert!(json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "perf.seed" && f["line"] == expected_line));
}

#[test]
fn a_v6_tree_is_judged_by_its_own_seeds() {
    // The published v5.1 tree checked as v6.0: every performance run (and
    // compliance run) has the wrong seeds.
    let report = check_tree(
        &fixture().join("valid"),
        &CheckOptions {
            round: Some("v6.0".to_string()),
            ..CheckOptions::default()
        },
    )
    .unwrap();
    assert!(!report.passed);
    assert_eq!(report.round, "v6.0");
    assert!(report.results.iter().all(|r| !r.valid));
    assert!(report
        .errors()
        .any(|f| f.rule == "perf.seed" && f.reason.contains("2465351861681999779")));
}

/// The published tree moved into the v6.0 layout (measurements and TESTxx
/// beside the logs, src/ for code/) with v6.0's seeds in every run, as
/// gen_official.py's as_v6_tree does; what a broken copy deleted stays
/// deleted.
fn as_v6_tree(tree: &Path) {
    let org = tree.join("closed/Lenovo");
    let system = "SE100_RTX2000E_Ada_16GBx1_TRT";
    for scenario in ["SingleStream", "MultiStream", "Offline"] {
        let result = org.join(format!("results/{system}/resnet50/{scenario}"));
        for top in ["measurements", "compliance"] {
            let from = org.join(format!("{top}/{system}/resnet50/{scenario}"));
            if !from.is_dir() || !result.is_dir() {
                continue;
            }
            for entry in std::fs::read_dir(&from).unwrap() {
                let entry = entry.unwrap();
                let name = entry.file_name().into_string().unwrap();
                let target = if top == "measurements" && name.ends_with(".json") {
                    "measurements.json".to_string()
                } else {
                    name
                };
                std::fs::rename(entry.path(), result.join(target)).unwrap();
            }
        }
    }
    for top in ["measurements", "compliance"] {
        if org.join(top).is_dir() {
            std::fs::remove_dir_all(org.join(top)).unwrap();
        }
    }
    if org.join("code").is_dir() {
        std::fs::rename(org.join("code"), org.join("src")).unwrap();
    }
    let mut stack = vec![org.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().unwrap() == "mlperf_log_detail.txt" {
                let text = std::fs::read_to_string(&path)
                    .unwrap()
                    .replace("1780908523862526354", "2465351861681999779")
                    .replace("14771362308971278857", "14276810075590677512")
                    .replace("18209322760996052031", "3936089224930324775");
                std::fs::write(&path, text).unwrap();
            }
        }
    }
}

#[test]
fn a_v6_layout_tree_passes_and_its_parts_are_found_beside_the_logs() {
    let scratch = tempfile::tempdir().unwrap();
    let tree = scratch.path().join("tree");
    copy_tree(&fixture().join("valid"), &tree);
    as_v6_tree(&tree);
    let report = check_tree(&tree, &CheckOptions::default()).unwrap();
    assert_eq!(
        (report.round.as_str(), report.round_from),
        ("v6.0", "seeds")
    );
    let errors: Vec<_> = report.errors().collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(report.results.iter().filter(|r| r.valid).count(), 3);
    // The summary CSV as the official v6.0 checker wrote it for this tree:
    // its 31 columns, every value quoted, Location the performance run's
    // folder (there under the --input path, here relative to the tree).
    let official = load("official_v6.0.json");
    let theirs = official["valid_summary_csv"]
        .as_str()
        .unwrap()
        .replace("\"<tree>/", "\"");
    let ours = report.summary_csv();
    let sorted = |text: &str| {
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        lines[1..].sort();
        lines
    };
    assert_eq!(sorted(&ours), sorted(&theirs));

    // Its measurements.json is where v6.0 looks: without it the result fails.
    let offline = tree.join("closed/Lenovo/results/SE100_RTX2000E_Ada_16GBx1_TRT/resnet50/Offline");
    std::fs::remove_file(offline.join("measurements.json")).unwrap();
    std::fs::remove_dir_all(offline.join("TEST04")).unwrap();
    let report = check_tree(&tree, &CheckOptions::default()).unwrap();
    let rules: BTreeSet<&str> = report.errors().map(|f| f.rule).collect();
    assert_eq!(
        rules,
        BTreeSet::from([
            "meas.implementation-json",
            "comp.missing-test",
            "tree.required-scenarios"
        ])
    );
}

/// The results the official v6.0 checker struck: its NoResults entries name
/// each result by its performance log.
fn official_v6_struck(verdict: &Value) -> BTreeSet<String> {
    verdict["no_results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| {
            let key = key.as_str().unwrap();
            let key = key.strip_prefix("<tree>/").unwrap_or(key);
            key.strip_suffix("/performance/run_1/mlperf_log_detail.txt")
                .unwrap_or(key)
                .to_string()
        })
        .collect()
}

/// The same broken copies in the v6.0 layout, against what the official
/// v6.0 checker (the submission_checker package of mlcommons/inference
/// main, b66003e1) said of each (official_v6.0.json, gen_official.py
/// --version v6.0). Where both fail a copy they strike the same results;
/// where they differ, the case is named here with the reason.
#[test]
fn broken_copies_in_the_v6_layout_agree_with_the_official_v6_checker() {
    let cases = load("cases.json");
    let official = load("official_v6.0.json");
    assert_eq!(official["version"], "v6.0");
    let vars = cases["vars"].as_object().unwrap();
    let valid = &official["cases"]["valid"];
    assert_eq!(
        valid["rc"], 0,
        "the official v6.0 checker fails the valid tree"
    );
    let all_results: Vec<String> = ["SingleStream", "MultiStream", "Offline"]
        .iter()
        .map(|s| format!("closed/Lenovo/results/SE100_RTX2000E_Ada_16GBx1_TRT/resnet50/{s}"))
        .collect();
    let mut official_passes = Vec::new();
    let mut struck_differently = Vec::new();
    for case in cases["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let rule_id = case["rule"].as_str().unwrap();
        let verdict = &official["cases"][id];
        assert!(
            verdict.is_object(),
            "{id}: no official v6.0 verdict; run gen_official.py --version v6.0"
        );
        assert_eq!(
            verdict["crashed"], false,
            "{id}: the official checker crashed"
        );
        let (report, scratch) = check_case(case, vars, "v6.0");
        assert!(!report.passed, "{id}: yardstick passed a broken tree");
        assert!(
            report.errors().any(|f| f.rule == rule_id),
            "{id}: no {rule_id} finding in {:#?}",
            report.findings
        );
        if verdict["rc"] == 0 {
            official_passes.push(id);
            continue;
        }
        // A result yardstick could not judge (its system description is
        // unusable) is not valid either.
        let valid: BTreeSet<&String> = report
            .results
            .iter()
            .filter(|r| r.valid)
            .map(|r| &r.path)
            .collect();
        let ours: BTreeSet<String> = all_results
            .iter()
            .filter(|r| scratch.path().join("tree").join(r).is_dir() && !valid.contains(r))
            .cloned()
            .collect();
        if ours != official_v6_struck(verdict) {
            struck_differently.push(id);
        }
    }
    // The official v6.0 checker lets these through where v5.1's failed them
    // (its checks were rewritten as a package): a result whose summary says
    // INVALID, a LoadGen error in the detail log (counted or not), no
    // calibration.md, an empty folder. yardstick keeps failing them.
    assert_eq!(
        official_passes,
        [
            "result-invalid",
            "loadgen-error",
            "loadgen-error-uncounted",
            "calibration-missing",
            "empty-folder"
        ]
    );
    // A model without a required scenario: v6.0 strikes its other results
    // too; yardstick (as v5.1) fails the tree and keeps them.
    assert_eq!(struck_differently, ["required-scenario-missing"]);
}

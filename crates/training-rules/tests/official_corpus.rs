//! Differential tests against the official compliance checker's verdicts
//! (mlperf-logging 4.1.68) on real MLPerf Training logs: by default the DEV
//! corpus ../shared/training/v5.1 (expected.json) and its deliberately
//! broken copies ../shared/training/v5.1-broken (broken.json); any corpus
//! of the same layout with `YARDSTICK_TRAINING_CORPUS` /
//! `YARDSTICK_TRAINING_BROKEN_CORPUS` (tests/corpus/mod.rs).

mod corpus;

use std::io::Read;
use std::path::Path;

use corpus::read_json;
use serde_json::Value as Json;
use yardstick_training_rules::compliance::{check_log, CheckError, Report, RuleFiles};

fn unxz(path: &Path) -> Vec<u8> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    liblzma::read::XzDecoder::new(file)
        .read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    out
}

fn heads(report: &Report) -> Vec<String> {
    report
        .messages
        .iter()
        .map(|m| m.head().to_string())
        .collect()
}

fn strings(value: Option<&Json>) -> Vec<String> {
    value
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().expect("string").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Compares one log's check with the official record; returns the
/// differences.
fn compare(name: &str, official: &Json, ours: Result<Report, CheckError>) -> Vec<String> {
    let mut diffs = Vec::new();
    let verdict = official["verdict"].as_str().expect("verdict");
    match (&ours, verdict) {
        (Err(e), "crash") => {
            let text = e.to_string();
            assert!(!text.is_empty(), "{name}: a crash must say why");
        }
        (Err(e), _) => diffs.push(format!("{name}: official {verdict}, ours an error: {e}")),
        (Ok(_), "crash") => diffs.push(format!("{name}: official crash, ours a verdict")),
        (Ok(report), _) => {
            let ours_verdict = if report.passed { "pass" } else { "fail" };
            if ours_verdict != verdict {
                diffs.push(format!(
                    "{name}: verdict official {verdict}, ours {ours_verdict}: {:?}",
                    heads(report)
                ));
            }
            let official_heads = strings(official.get("message_heads"));
            if heads(report) != official_heads {
                diffs.push(format!(
                    "{name}: heads official {official_heads:?}, ours {:?}",
                    heads(report)
                ));
            }
            let official_messages = strings(official.get("messages"));
            let ours_messages: Vec<String> =
                report.messages.iter().map(|m| m.text.clone()).collect();
            if ours_messages != official_messages {
                diffs.push(format!(
                    "{name}: messages official {official_messages:?}, ours {ours_messages:?}"
                ));
            }
            let configs = strings(official.get("configs_checked"));
            if report.configs_checked != configs {
                diffs.push(format!(
                    "{name}: configs official {configs:?}, ours {:?}",
                    report.configs_checked
                ));
            }
            let official_errors: Vec<(String, String)> = official
                .get("parse_errors")
                .and_then(Json::as_array)
                .map(|a| {
                    a.iter()
                        .map(|e| {
                            (
                                e["line"].as_str().unwrap_or("").to_string(),
                                e["error"].as_str().unwrap_or("").to_string(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let ours_errors: Vec<(String, String)> = report
                .parse_errors
                .iter()
                .map(|e| (e.text.clone(), e.error.clone()))
                .collect();
            if ours_errors != official_errors {
                diffs.push(format!(
                    "{name}: parse errors official {official_errors:?}, ours {ours_errors:?}"
                ));
            }
        }
    }
    diffs
}

#[test]
fn every_corpus_log_gets_the_official_verdict_and_messages() {
    let rules = RuleFiles::embedded().expect("embedded rules");
    let dir = corpus::dir();
    let expected = corpus::expected();
    let (usage, ruleset) = corpus::usage_and_ruleset(&expected);
    let files = expected["files"].as_object().expect("files");
    // Every log on disk has an official verdict, and every verdict a log.
    let mut listed: Vec<String> = files.keys().cloned().collect();
    listed.sort();
    assert_eq!(
        corpus::result_logs_on_disk(&dir),
        listed,
        "the logs of {} and its expected.json disagree",
        dir.display()
    );
    assert!(!files.is_empty(), "{}: no logs", dir.display());
    let mut diffs = Vec::new();
    let mut verdicts = std::collections::BTreeMap::<String, usize>::new();
    for (name, official) in files {
        let log = unxz(&dir.join(name));
        let ours = check_log(&rules, &usage, &ruleset, &log);
        let our_verdict = match &ours {
            Ok(report) if report.passed => "pass",
            Ok(_) => "fail",
            Err(_) => "crash",
        };
        *verdicts.entry(our_verdict.to_string()).or_default() += 1;
        diffs.extend(compare(name, official, ours));
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    // Our tally equals the official one expected.json counts (on the DEV
    // corpus: 184 pass, 1 fail, so a checker that passes everything fails).
    for verdict in ["pass", "fail", "crash"] {
        assert_eq!(
            verdicts.get(verdict).copied().unwrap_or(0),
            corpus::count(&expected, "files", verdict),
            "{verdict}: {verdicts:?}"
        );
    }
}

#[test]
fn every_broken_log_fails_or_passes_as_the_official_checker_and_names_the_rule() {
    let rules = RuleFiles::embedded().expect("embedded rules");
    let dir = corpus::broken_dir();
    let broken = read_json(&dir.join("broken.json"));
    let (usage, ruleset) = corpus::usage_and_ruleset(&broken);
    let entries = broken["entries"].as_array().expect("entries");
    // Every broken log on disk is in the manifest.
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("the broken corpus is readable")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".txt.xz"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = entries
        .iter()
        .map(|e| e["file"].as_str().expect("file").to_string())
        .collect();
    listed.sort();
    assert_eq!(on_disk, listed, "{}", dir.display());
    assert!(!entries.is_empty(), "{}: no broken logs", dir.display());
    let mut diffs = Vec::new();
    for entry in entries {
        let name = entry["file"].as_str().expect("file");
        let official = &entry["official"];
        let log = unxz(&dir.join(name));
        let ours = check_log(&rules, &usage, &ruleset, &log);
        if let (Ok(report), Some("fail")) = (&ours, official["verdict"].as_str()) {
            // The first message that comes from a rule names the rule the
            // manifest says is broken (its key, and its file or field).
            let rule_text = entry["rule"].as_str().expect("rule");
            if let Some(rule) = report.messages.iter().find_map(|m| m.rule.as_ref()) {
                let file = rule.file.rsplit('/').next().unwrap_or("");
                let names_rule = rule_text.contains(&rule.record)
                    && (rule_text.contains(file)
                        || rule_text.contains(&format!("{} {}", rule.record, rule.field)));
                if !names_rule {
                    diffs.push(format!(
                        "{name}: manifest rule {rule_text:?}, ours {rule:?}"
                    ));
                }
            } else if !rule_text.starts_with("parser") {
                diffs.push(format!("{name}: no message names a rule"));
            }
        }
        if let (Err(e), Some("crash")) = (&ours, official["verdict"].as_str()) {
            // Ours names the rule file the official checker crashed on (the
            // last it began, before its traceback).
            let crashed_on = strings(official.get("configs_checked"))
                .last()
                .and_then(|c| c.lines().next())
                .and_then(|c| c.rsplit('/').next())
                .map(str::to_string)
                .expect("a crash names the config it was in");
            assert!(e.to_string().contains(&crashed_on), "{name}: {e}");
        }
        diffs.extend(compare(name, official, ours));
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn edge_cases_get_the_official_verdict_messages_and_crashes() {
    let rules = RuleFiles::embedded().expect("embedded rules");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mutations");
    let expected = read_json(&dir.join("expected.json"));
    let cases = expected.as_object().expect("cases");
    assert!(cases.len() >= 25, "{} cases", cases.len());
    let mut diffs = Vec::new();
    let mut verdicts = std::collections::BTreeMap::<String, usize>::new();
    for (name, official) in cases {
        let log = std::fs::read(dir.join(format!("{name}.txt"))).expect("case log");
        let ruleset = official["ruleset"].as_str().expect("ruleset");
        let want = official["verdict"].as_str().expect("verdict");
        *verdicts.entry(want.to_string()).or_default() += 1;
        match check_log(&rules, "training", ruleset, &log) {
            Err(e) => {
                if want != "crash" {
                    diffs.push(format!("{name}: official {want}, ours no verdict: {e}"));
                }
            }
            Ok(report) => {
                let ours = if report.passed { "pass" } else { "fail" };
                if ours != want {
                    diffs.push(format!(
                        "{name}: official {want}, ours {ours}: {:?}",
                        heads(&report)
                    ));
                    continue;
                }
                // Exact, including the two messages Python builds from sets
                // (their order is CPython's with PYTHONHASHSEED=0).
                let official_messages = strings(official.get("messages"));
                let ours_messages: Vec<String> =
                    report.messages.iter().map(|m| m.text.clone()).collect();
                if ours_messages != official_messages {
                    diffs.push(format!(
                        "{name}: messages official {official_messages:#?}\nours {ours_messages:#?}"
                    ));
                }
                let configs = strings(official.get("configs_checked"));
                if report.configs_checked != configs {
                    diffs.push(format!(
                        "{name}: configs official {configs:?}, ours {:?}",
                        report.configs_checked
                    ));
                }
            }
        }
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    // Every kind of outcome is exercised.
    for kind in ["pass", "fail", "crash"] {
        assert!(
            verdicts.get(kind).copied().unwrap_or(0) >= 3,
            "{verdicts:?}"
        );
    }
}

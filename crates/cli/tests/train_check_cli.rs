//! `yardstick train check DIR`: a submitter folder of the real MLPerf
//! Training v5.1 corpus (../shared/training/v5.1) checked as the package
//! checker, RCP checker and result summarizer check it; the scores and
//! verdicts are the official ones (expected.json).

mod common;

use std::path::{Path, PathBuf};

use common::{repo, stdout, yardstick};
use serde_json::Value as Json;

fn corpus() -> PathBuf {
    repo().join("../shared/training/v5.1")
}

fn expected() -> Json {
    let text = std::fs::read_to_string(corpus().join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("JSON")
}

fn check(dir: &Path, format: &str) -> std::process::Output {
    yardstick(&[
        "train",
        "check",
        dir.to_str().expect("utf-8 path"),
        "--format",
        format,
    ])
}

#[test]
fn csv_scores_equal_the_summarizers() {
    let expected = expected();
    let out = check(&corpus().join("Cisco"), "csv");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    assert_eq!(
        header[..4],
        ["division", "availability", "submitter", "system"]
    );
    let column = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let rows: Vec<Vec<String>> = lines
        .map(|l| {
            // No field of this corpus's rows holds a quoted comma except the
            // framework; split on commas outside quotes.
            let mut fields = vec![String::new()];
            let mut quoted = false;
            for c in l.chars() {
                match c {
                    '"' => quoted = !quoted,
                    ',' if !quoted => fields.push(String::new()),
                    c => fields.last_mut().expect("a field").push(c),
                }
            }
            fields
        })
        .collect();
    assert_eq!(rows.len(), 5, "one row per Cisco system");
    let mut scored = 0;
    for (key, set) in expected["sets"].as_object().expect("sets") {
        if !key.starts_with("Cisco/") {
            continue;
        }
        let official = &set["result_summarizer"];
        let benchmark = set["benchmark"].as_str().expect("benchmark");
        let system_name = official["system_name"].as_str().expect("system_name");
        // Two Cisco systems share a system_name: the URL names the folder.
        let url_end = format!("/{}.json", set["system"].as_str().expect("system"));
        let row = rows
            .iter()
            .find(|r| {
                r[column("system")] == system_name && r[column("details_url")].ends_with(&url_end)
            })
            .unwrap_or_else(|| panic!("{key}: no row"));
        let ours: f64 = row[column(&format!("{benchmark}:time_to_train"))]
            .parse()
            .expect("a number");
        assert_eq!(Some(ours), official["time_to_train"].as_f64(), "{key}");
        assert_eq!(
            row[column(&format!("{benchmark}:RCP"))],
            official["RCP"].as_str().expect("RCP"),
            "{key}"
        );
        scored += 1;
    }
    assert_eq!(scored, 10);
}

#[test]
fn table_and_json_carry_the_package_verdict() {
    let out = check(&corpus().join("ASUSTeK"), "table");
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("PACKAGE CHECKER FOUND NO ERRORS"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("ESC_NB8_E11") && l.contains("rgat") && l.contains("5.4561")),
        "{text}"
    );
    let out = check(&corpus().join("ASUSTeK"), "json");
    let report: Json = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(report["package_checker"]["passed"], Json::Bool(true));
    assert_eq!(report["sets"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        report["package_checker"]["warnings"]
            .as_array()
            .map(Vec::len),
        Some(4)
    );
}

#[test]
fn a_set_missing_a_run_fails_the_package() {
    let dir = std::env::temp_dir().join(format!("yardstick-train-check-{}", std::process::id()));
    let submitter = dir.join("ASUSTeK");
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&corpus().join("ASUSTeK"), &submitter);
    std::fs::remove_file(submitter.join("results/ESC_NB8_E11/rgat/result_3.txt.xz"))
        .expect("remove a run");
    let out = check(&submitter, "table");
    let text = stdout(&out);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "ERROR - Incorrect number of files in dir, or wrong file names in directory ASUSTeK/results/ESC_NB8_E11/rgat, found 9, expected 10"
        ),
        "{text}"
    );
    assert!(text.contains("PACKAGE CHECKER FOUND ERRORS"), "{text}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

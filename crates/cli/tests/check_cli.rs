//! `yardstick check` end to end on the published v5.1 tree of
//! crates/submission/tests/check (see its README): exit status, text, JSON
//! and the summary CSV; a broken copy exits 1 naming file, line and rule.

mod common;

use std::path::{Path, PathBuf};

use common::{repo, stdout, temp_scratch, text, yardstick};

fn published_tree() -> PathBuf {
    repo().join("crates/submission/tests/check/valid")
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

#[test]
fn the_published_tree_passes_with_json_and_csv() {
    let scratch = temp_scratch("yardstick-check", "valid");
    let csv = scratch.join("summary.csv");
    let tree = published_tree();
    let o = yardstick(&[
        "check",
        tree.to_str().unwrap(),
        "--json",
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["passed"], true);
    assert_eq!(report["round"], "v5.1");
    assert_eq!(report["results"].as_array().unwrap().len(), 3);
    let table = std::fs::read_to_string(&csv).unwrap();
    let mut lines = table.lines();
    assert!(lines.next().unwrap().starts_with("Organization,Availability,Division,SystemType,SystemName,Platform,Model,MlperfModel,Scenario,Result,Accuracy,"));
    let offline = lines.find(|l| l.contains(",Offline,")).unwrap();
    assert!(offline.contains(",6607.08,acc: 76.078,"), "{offline}");
    let _ = std::fs::remove_dir_all(scratch);
}

#[test]
fn a_broken_copy_exits_1_naming_file_line_and_rule() {
    let scratch = temp_scratch("yardstick-check", "broken");
    let tree = scratch.join("tree");
    copy_tree(&published_tree(), &tree);
    let detail = tree.join("closed/Lenovo/results/SE100_RTX2000E_Ada_16GBx1_TRT/resnet50/Offline/performance/run_1/mlperf_log_detail.txt");
    let log = std::fs::read_to_string(&detail).unwrap();
    let line = log
        .lines()
        .position(|l| l.contains("\"effective_min_duration_ms\""))
        .unwrap()
        + 1;
    std::fs::write(
        &detail,
        log.replace(
            "\"effective_min_duration_ms\", \"value\": 600000",
            "\"effective_min_duration_ms\", \"value\": 60000",
        ),
    )
    .unwrap();
    let o = yardstick(&["check", tree.to_str().unwrap(), "--round", "v5.1"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = stdout(&o);
    let expected = format!(
        "error [perf.min-duration] closed/Lenovo/results/SE100_RTX2000E_Ada_16GBx1_TRT/resnet50/Offline/performance/run_1/mlperf_log_detail.txt:{line}: min_duration is 60000 ms, v5.1 requires 600000 ms"
    );
    assert!(out.contains(&expected), "{out}");
    assert!(out.contains("FAIL"), "{out}");
    let _ = std::fs::remove_dir_all(scratch);
}

#[test]
fn an_unknown_round_is_an_error_not_a_verdict() {
    let o = yardstick(&[
        "check",
        published_tree().to_str().unwrap(),
        "--round",
        "v4.0",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        common::stderr(&o).contains("unknown round \"v4.0\""),
        "{}",
        text(&o)
    );
}

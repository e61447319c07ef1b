//! `yardstick train check-log`: the official compliance checker's verdicts
//! on real MLPerf Training v5.1 logs (../shared/training), with exit codes
//! 0 (SUCCESS), 1 (FAILED) and 2 (no verdict: the official checker crashes).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{repo, stdout, text, yardstick};

/// Decompresses a corpus `.txt.xz` with the `xz` CLI into a scratch file.
fn unxz(relative: &str) -> PathBuf {
    let source = repo().join("../shared/training").join(relative);
    let name = relative
        .replace('/', "_")
        .trim_end_matches(".xz")
        .to_string();
    let dir = std::env::temp_dir().join(format!("yardstick-check-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let out = dir.join(name);
    let decompressed = Command::new("xz")
        .args(["-dc"])
        .arg(&source)
        .output()
        .expect("the xz CLI runs");
    assert!(decompressed.status.success(), "xz -dc {}", source.display());
    std::fs::write(&out, decompressed.stdout).expect("write the log");
    out
}

fn check_log(log: &Path, rest: &[&str]) -> std::process::Output {
    let mut args = vec!["train", "check-log", log.to_str().expect("utf-8 path")];
    args.extend_from_slice(rest);
    yardstick(&args)
}

#[test]
fn a_failing_log_names_the_rule_and_exits_1() {
    let log = unxz("v5.1/Cisco/results/hpf_n8/dlrm_dcnv2/result_1.txt.xz");
    let out = check_log(&log, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let printed = stdout(&out);
    assert!(printed.contains(": FAILED"), "{printed}");
    assert!(
        printed.contains(
            "Failed checks for eval_accuracy : v['value'] >= 0.80275 and v['value'] <= 1.0"
        ),
        "{printed}"
    );
    assert!(
        printed
            .contains("rule training_5.1.0/closed_dlrm_dcnv2.yaml eval_accuracy ATLEAST_ONE_CHECK"),
        "{printed}"
    );
}

#[test]
fn a_passing_log_exits_0_and_the_benchmark_can_be_required() {
    let log = unxz("v5.1/Cisco/results/hpf_n8/dlrm_dcnv2/result_2.txt.xz");
    let out = check_log(&log, &["--ruleset", "5.1.0", "--benchmark", "dlrm_dcnv2"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(stdout(&out).contains(": SUCCESS"), "{}", text(&out));
    let wrong = check_log(&log, &["--benchmark", "rgat"]);
    assert_eq!(wrong.status.code(), Some(1), "{}", text(&wrong));
    assert!(stdout(&wrong).contains("not 'rgat'"), "{}", text(&wrong));
}

#[test]
fn a_compressed_log_is_read_as_its_txt() {
    let xz = repo().join("../shared/training/v5.1/Cisco/results/hpf_n8/dlrm_dcnv2/result_1.txt.xz");
    let out = check_log(&xz, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        stdout(&out).contains(
            "Failed checks for eval_accuracy : v['value'] >= 0.80275 and v['value'] <= 1.0"
        ),
        "{}",
        text(&out)
    );
    // Not an xz stream: the error names the file, no verdict.
    let dir = std::env::temp_dir().join(format!("yardstick-check-log-xz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let bad = dir.join("result_9.txt.xz");
    std::fs::write(&bad, b":::MLLOG not compressed").expect("write");
    let out = check_log(&bad, &[]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("result_9.txt.xz"), "{}", text(&out));
}

#[test]
fn json_report_carries_line_key_and_rule() {
    let log = unxz("v5.1-broken/d05_run_start_before_init_stop.txt.xz");
    let out = check_log(&log, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["passed"], false);
    let first = &report["messages"][0];
    assert_eq!(first["line"], 19);
    assert_eq!(first["key"], "run_start");
    assert_eq!(first["rule"]["file"], "training_5.1.0/common.yaml");
    assert_eq!(first["rule"]["field"], "CHECK");
}

#[test]
fn a_log_the_official_checker_crashes_on_gets_no_verdict() {
    let log = unxz("v5.1-broken/d06_unknown_benchmark_name.txt.xz");
    let out = check_log(&log, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        common::stderr(&out).contains("closed_resnet.yaml"),
        "{}",
        text(&out)
    );
    let unknown_round = check_log(&log, &["--ruleset", "0.0.1"]);
    assert_eq!(
        unknown_round.status.code(),
        Some(2),
        "{}",
        text(&unknown_round)
    );
}

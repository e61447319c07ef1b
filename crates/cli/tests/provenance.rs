//! `yardstick run` resolves settings in LoadGen's order (mlperf.conf,
//! user.conf, flags, audit.config) and can say where each came from.

mod common;

use std::path::Path;

use common::{mllog, read_json, start_mock, stdout, temp_scratch, text, yardstick_in, Mock};
use serde_json::Value;

/// user.conf over mlperf.conf (min_duration, min_query_count), a flag over
/// user.conf (--target-qps), audit.config over a flag (--min-query-count).
const USER_CONF: &str = "*.*.min_duration = 50\n\
                         *.*.min_query_count = 100\n\
                         *.Offline.target_qps = 100\n";
const AUDIT_CONFIG: &str = "# compliance\n*.*.min_query_count = 120\n";

fn setup(name: &str) -> std::path::PathBuf {
    let dir = temp_scratch("yardstick-provenance", name);
    std::fs::write(dir.join("user.conf"), USER_CONF).unwrap();
    // LoadGen reads ./audit.config: the child's working directory.
    std::fs::write(dir.join("audit.config"), AUDIT_CONFIG).unwrap();
    dir
}

const ARGS: &[&str] = &[
    "run",
    "--sut",
    "null",
    "--scenario",
    "Offline",
    "--model",
    "resnet50",
    "--user-conf",
    "user.conf",
    "--target-qps",
    "500",
    "--min-query-count",
    "40",
    "--total-samples",
    "2048",
    "-o",
    "out",
];

fn detail_value(path: &Path, key: &str) -> Value {
    mllog(path)
        .into_iter()
        .rev()
        .find(|v| v["key"] == key)
        .map(|v| v["value"].clone())
        .unwrap_or_else(|| panic!("no {key} in {}", path.display()))
}

#[test]
fn the_detail_log_shows_loadgen_precedence() {
    let dir = setup("run");
    let o = yardstick_in(&dir, ARGS);
    // 120 samples of the null SUT end well within min_duration, so LoadGen
    // calls the run INVALID (exit 1); the settings are what is checked.
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    let detail = dir.join("out/mlperf_log_detail.txt");
    // audit.config over the flag's 40 (and user.conf's 100).
    assert_eq!(detail_value(&detail, "requested_min_query_count"), 120);
    // Offline counts samples: one query of at least min_query_count samples.
    assert_eq!(detail_value(&detail, "effective_min_sample_count"), 120);
    // The flag over user.conf's 100.
    assert_eq!(detail_value(&detail, "effective_target_qps"), 500.0);
    // user.conf over mlperf.conf's 600000.
    assert_eq!(detail_value(&detail, "effective_min_duration_ms"), 50);
}

/// The `# source` of the `field = value` line of `--print-settings`.
fn printed<'a>(out: &'a str, field: &str) -> (&'a str, &'a str) {
    let line = out
        .lines()
        .find(|l| l.split_whitespace().next() == Some(field))
        .unwrap_or_else(|| panic!("no {field} in:\n{out}"));
    let (assignment, source) = line
        .split_once("  # ")
        .unwrap_or_else(|| panic!("no source on: {line}"));
    let value = assignment
        .split_once(" = ")
        .map(|(_, v)| v.trim())
        .unwrap_or_else(|| panic!("no value on: {line}"));
    (value, source)
}

#[test]
fn print_settings_names_each_source_and_runs_nothing() {
    let dir = setup("print");
    let o = yardstick_in(&dir, &[ARGS, &["--print-settings"]].concat());
    assert!(o.status.success(), "{}", text(&o));
    let out = stdout(&o);
    assert_eq!(
        printed(&out, "min_query_count"),
        ("120", "audit.config:2 (*.*.min_query_count)")
    );
    assert_eq!(
        printed(&out, "offline_expected_qps"),
        ("500", "flag --target-qps")
    );
    assert_eq!(
        printed(&out, "server_target_qps"),
        ("500", "flag --target-qps")
    );
    assert_eq!(
        printed(&out, "min_duration_ms"),
        ("50", "user.conf:1 (*.*.min_duration)")
    );
    assert_eq!(printed(&out, "scenario"), ("Offline", "flag --scenario"));
    assert_eq!(
        printed(&out, "mode"),
        ("PerformanceOnly", "api default of --mode")
    );
    let (seed, source) = printed(&out, "qsl_rng_seed");
    assert_eq!(seed, "2085463073848966840");
    assert!(
        source.starts_with("mlperf.conf (embedded):") && source.ends_with("(*.*.qsl_rng_seed)"),
        "{source}"
    );
    assert_eq!(printed(&out, "print_timestamps"), ("false", "default"));
    // Nothing ran.
    assert!(!dir.join("out/mlperf_log_detail.txt").exists());
}

#[test]
fn a_workload_s_settings_name_the_workload_not_the_combined_file() {
    let dir = temp_scratch("yardstick-provenance", "workload");
    let o = yardstick_in(
        &dir,
        &[
            "run",
            "--workload",
            "fashion-mnist",
            "--scenario",
            "SingleStream",
            "--print-settings",
            "-o",
            "out",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = stdout(&o);
    // fashion-mnist's [scenarios.SingleStream] min_query_count = 1024.
    assert_eq!(
        printed(&out, "min_query_count"),
        ("1024", "api workload fashion-mnist")
    );
    assert_eq!(
        printed(&out, "mode"),
        ("SubmissionRun", "api workload fashion-mnist")
    );
    let (_, source) = printed(&out, "schedule_rng_seed");
    assert!(source.starts_with("mlperf.conf (embedded):"), "{source}");
}

fn mock() -> Mock {
    start_mock("60s", &["--mode", "max-throughput"])
}

/// The LoadGen settings of a run record (`run.json`), by field.
fn record_settings(run_json: &Path) -> Vec<(String, Value)> {
    let record = read_json(run_json);
    record["settings"]
        .as_array()
        .unwrap_or_else(|| panic!("no settings in {}", run_json.display()))
        .iter()
        // The endpoint adds its own options (`endpoint.*`) after LoadGen's.
        .filter(|s| !s["key"].as_str().unwrap_or("").contains('.'))
        .map(|s| {
            let key = s["key"].as_str().unwrap_or_default().to_string();
            (key, serde_json::json!([s["value"], s["source"]]))
        })
        .collect()
}

#[test]
fn run_and_endpoint_record_the_same_provenance() {
    let dir = setup("endpoint");
    let o = yardstick_in(&dir, ARGS);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    let from_run = record_settings(&dir.join("out/run.json"));

    let m = mock();
    let o = yardstick_in(
        &dir,
        &[
            "endpoint",
            "--url",
            &m.url,
            "--load",
            "scenario",
            "--scenario",
            "Offline",
            "--model",
            "resnet50",
            "--user-conf",
            "user.conf",
            "--target-qps",
            "500",
            "--min-query-count",
            "40",
            "-o",
            "ep",
        ],
    );
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    let from_endpoint = record_settings(&dir.join("ep/offline/run.json"));

    assert_eq!(from_run.len(), 42, "{from_run:?}");
    assert_eq!(from_run, from_endpoint);
    let min_query_count = from_run
        .iter()
        .find(|(k, _)| k == "min_query_count")
        .map(|(_, v)| v.clone());
    assert_eq!(
        min_query_count,
        Some(serde_json::json!(["120", {
            "kind": "audit_conf", "file": "audit.config", "line": 2, "key": "*.*.min_query_count"
        }]))
    );
    let detail = dir.join("ep/offline/mlperf_log_detail.txt");
    assert_eq!(detail_value(&detail, "requested_min_query_count"), 120);
    assert_eq!(detail_value(&detail, "effective_target_qps"), 500.0);
}

//! End-to-end tests of the `yardstick` binary.

mod common;

use std::path::Path;
use std::process::Output;

use common::{mllog, read_json, repo, temp_scratch, text, yardstick};
use serde_json::Value;

fn detail_lines(dir: &Path) -> Vec<Value> {
    mllog(&dir.join("mlperf_log_detail.txt"))
}

/// `yardstick run --sut null --scenario <scenario> -o <out>`, then `extra`.
fn run_null(scenario: &str, out: &Path, extra: &[&str]) -> Output {
    let base = [
        "run",
        "--sut",
        "null",
        "--scenario",
        scenario,
        "-o",
        out.to_str().unwrap(),
    ];
    yardstick(&[&base[..], extra].concat())
}

fn detail_value(dir: &Path, key: &str) -> Option<Value> {
    detail_lines(dir)
        .into_iter()
        .rev()
        .find(|v| v["key"] == key)
        .map(|v| v["value"].clone())
}

#[test]
fn a_sleep_sut_run_is_valid_and_writes_the_logs() {
    let out = temp_scratch("yardstick-e2e", "sleep");
    let o = yardstick(&[
        "run",
        "--sut",
        "sleep",
        "--workers",
        "4",
        "--service-time",
        "200us",
        "--scenario",
        "SingleStream",
        "--expected-latency",
        "300us",
        "--duration",
        "300ms",
        "--min-query-count",
        "100",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let summary = std::fs::read_to_string(out.join("mlperf_log_summary.txt")).unwrap();
    assert!(summary.contains("Scenario : SingleStream"), "{summary}");
    assert!(summary.contains("Result is : VALID"), "{summary}");
    assert_eq!(
        detail_value(&out, "result_validity"),
        Some(Value::from("VALID"))
    );
    assert_eq!(
        detail_value(&out, "effective_scenario"),
        Some(Value::from("SingleStream"))
    );
    assert!(text(&o).contains("VALID"));
    // A 200 µs service time cannot give a faster 90th percentile.
    let p90 = detail_value(&out, "result_90.00_percentile_latency_ns")
        .unwrap()
        .as_i64()
        .unwrap();
    assert!(p90 >= 200_000, "p90 {p90}");
}

#[test]
fn query_records_match_the_run_and_are_deterministic() {
    let mut runs = Vec::new();
    for i in 0..2 {
        let out = temp_scratch("yardstick-e2e", &format!("records{i}"));
        let rec = out.join("queries.jsonl");
        let o = run_null(
            "Server",
            &out,
            &[
                "--target-qps",
                "20000",
                "--duration",
                "200ms",
                "--min-query-count",
                "10",
                "--record-queries",
                rec.to_str().unwrap(),
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        let rows: Vec<Value> = std::fs::read_to_string(&rec)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let count = detail_value(&out, "result_query_count")
            .unwrap()
            .as_u64()
            .unwrap();
        assert_eq!(rows.len() as u64, count);
        let sched: Vec<i64> = rows
            .iter()
            .map(|r| r["scheduled_ns"].as_i64().unwrap())
            .collect();
        assert!(
            sched.windows(2).all(|w| w[0] <= w[1]),
            "schedule must not go backwards"
        );
        for r in &rows {
            assert!(r["issued_ns"].as_i64().unwrap() >= r["scheduled_ns"].as_i64().unwrap());
        }
        runs.push(
            rows.iter()
                .map(|r| (r["scheduled_ns"].clone(), r["samples"].clone()))
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(runs[0], runs[1], "same seeds, same queries");
}

#[test]
fn a_malformed_config_line_is_named() {
    let dir = temp_scratch("yardstick-e2e", "badconf");
    let conf = dir.join("user.conf");
    std::fs::write(&conf, "# comment\n*.Server.target_qps 100\n").unwrap();
    let o = run_null("Server", &dir, &["--user-conf", conf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let msg = text(&o);
    assert!(msg.contains("user.conf:2"), "{msg}");
}

#[test]
fn an_unknown_key_is_reported_not_ignored() {
    let dir = temp_scratch("yardstick-e2e", "unknown");
    let conf = dir.join("user.conf");
    std::fs::write(&conf, "*.Offline.target_qpz = 100\n").unwrap();
    let o = run_null(
        "Offline",
        &dir,
        &[
            "--user-conf",
            conf.to_str().unwrap(),
            "--duration",
            "0s",
            "--min-query-count",
            "100",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("target_qpz"), "{}", text(&o));
    let warned = detail_lines(&dir).iter().any(|v| {
        v["metadata"]["is_warning"] == true && v["value"].to_string().contains("target_qpz")
    });
    assert!(warned, "the detail log records the warning");
}

#[test]
fn a_submission_run_logs_every_accuracy_sample() {
    let dir = temp_scratch("yardstick-e2e", "submission");
    let o = run_null(
        "Offline",
        &dir,
        &[
            "--mode",
            "submission",
            "--total-samples",
            "300",
            "--performance-samples",
            "128",
            "--duration",
            "0s",
            "--min-query-count",
            "500",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let acc = read_json(&dir.join("mlperf_log_accuracy.json"));
    let entries = acc.as_array().unwrap();
    assert_eq!(entries.len(), 300);
    let mut idx: Vec<u64> = entries
        .iter()
        .map(|e| e["qsl_idx"].as_u64().unwrap())
        .collect();
    idx.sort_unstable();
    assert_eq!(idx, (0..300).collect::<Vec<_>>());
    // The built-in SUTs answer with the index as little-endian u32.
    for e in entries {
        let i = e["qsl_idx"].as_u64().unwrap() as u32;
        let hex: String = i.to_le_bytes().iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(e["data"], Value::from(hex));
    }
    assert_eq!(
        detail_value(&dir, "result_validity"),
        Some(Value::from("VALID"))
    );
}

#[test]
fn golden_case_replays_a_reference_case() {
    let golden = repo().join("../shared/golden/loadgen-6.0.17/resnet50-server-perf");
    assert!(golden.is_dir(), "missing {}", golden.display());
    let out = temp_scratch("yardstick-e2e", "golden");
    let o = yardstick(&[
        "golden-case",
        golden.join("case.json").to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let ours = out.join("resnet50-server-perf");
    for f in ["issued.jsonl", "loaded.jsonl", "schedule_ns.txt"] {
        let a = std::fs::read_to_string(ours.join(f)).unwrap();
        let b = std::fs::read_to_string(golden.join(f)).unwrap();
        assert!(a == b, "{f} differs from the official LoadGen's");
    }
    assert_eq!(
        detail_value(&ours, "effective_target_qps"),
        Some(Value::from(2000))
    );
}

#[test]
fn find_peak_performance_finds_a_rate() {
    let dir = temp_scratch("yardstick-e2e", "findpeak");
    let o = yardstick(&[
        "run",
        "--sut",
        "sleep",
        "--workers",
        "2",
        "--service-time",
        "1ms",
        "--scenario",
        "Server",
        "--mode",
        "find-peak",
        "--target-qps",
        "200",
        "--target-latency",
        "20ms",
        "--duration",
        "300ms",
        "--min-query-count",
        "50",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert!(
        o.status.success() || o.status.code() == Some(1),
        "{}",
        text(&o)
    );
    let found = detail_lines(&dir).iter().any(|v| {
        v["value"]
            .as_str()
            .is_some_and(|s| s.starts_with("FindPeakPerformance: Found peak performance field"))
    });
    assert!(found, "{}", text(&o));
}

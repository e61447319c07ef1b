//! `yardstick endpoint --load poisson` resolves its LoadGen settings in
//! LoadGen's order, as `yardstick run` and the Python module do: with the
//! same user.conf and ./audit.config, all three record the same value and
//! the same source for each setting, and their detail logs agree.
//!
//! - audit.config over a flag: `min_query_count` (over --min-query-count
//!   and user.conf) and `server_target_qps` (over --rate / --target-qps);
//! - user.conf over mlperf.conf: `server_target_latency_percentile`
//!   (mlperf.conf's `*.Server.target_latency_percentile = 99`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{bin, mllog, read_json, repo, start_mock, stdout, temp_scratch, text, Mock};
use serde_json::{json, Value};

const USER_CONF: &str = "*.Server.target_latency_percentile = 95\n\
                         *.*.min_query_count = 100\n";
const AUDIT_CONFIG: &str = "# compliance\n\
                            *.*.min_query_count = 60\n\
                            *.Server.target_qps = 80\n";

fn mock_server() -> Mock {
    start_mock(
        "120s",
        &["--mode", "simulated", "--ttft", "5ms", "--tpot", "1ms"],
    )
}

/// `yardstick args` in `dir` (where LoadGen reads ./audit.config), its
/// runs going to `dir`'s own store.
fn ys(dir: &Path, args: &[&str]) -> Output {
    bin()
        .current_dir(dir)
        .env("YARDSTICK_STORE", dir.join("results.sqlite"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// The interpreter with the yardstick Python module, or None where it is
/// not built and this is not CI (under `CI=true` it must be there: .ci/run
/// builds it before `cargo test`).
fn python_with_module() -> Option<PathBuf> {
    let python = repo().join(".venv-py/bin/python");
    if python.exists() {
        return Some(python);
    }
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "{} is missing: .ci/setup-python-module.sh builds it",
        python.display()
    );
    None
}

/// The harness's equivalent of the flags: user.conf first, then the
/// attributes, then StartTest (which applies ./audit.config last).
const PYTHON_HARNESS: &str = r#"
import ctypes, sys
import yardstick.loadgen as lg

total, performance = 1024, 512
answers = (ctypes.c_uint32 * total)(*range(total))
base = ctypes.addressof(answers)

def issue(samples):
    lg.QuerySamplesComplete(
        [lg.QuerySampleResponse(s.id, base + 4 * s.index, 4) for s in samples])

sut = lg.ConstructSUT(issue, lambda: None)
qsl = lg.ConstructQSL(total, performance, lambda i: None, lambda i: None)
ts = lg.TestSettings()
ts.FromConfig("user.conf", "resnet50", "Server")
ts.scenario = lg.TestScenario.Server
ts.mode = lg.TestMode.PerformanceOnly
ts.server_target_qps = 200
ts.min_query_count = 40
ts.min_duration_ms = 1000
log = lg.LogSettings()
log.log_output.outdir = sys.argv[1]
log.log_output.copy_summary_to_stdout = False
log.enable_trace = False
lg.StartTestWithLogSettings(sut, qsl, ts, log)
lg.DestroyQSL(qsl)
lg.DestroySUT(sut)
"#;

/// The record's setting `key`.
fn setting<'a>(record: &'a Value, key: &str) -> &'a Value {
    record["settings"]
        .as_array()
        .expect("settings")
        .iter()
        .find(|s| s["key"] == key)
        .unwrap_or_else(|| panic!("no setting {key} in {}", record["id"]))
}

/// The last value of `key` in a detail log.
fn detail_value(path: &Path, key: &str) -> Value {
    mllog(path)
        .into_iter()
        .rev()
        .find(|v| v["key"] == key)
        .map(|v| v["value"].clone())
        .unwrap_or_else(|| panic!("no {key} in {}", path.display()))
}

/// Checks one front end's run.json and detail log; `what` names it.
fn check_precedence(what: &str, record: &Value, detail: &Path) {
    // audit.config over the flag (or attribute) and over user.conf.
    assert_eq!(
        setting(record, "min_query_count"),
        &json!({"key": "min_query_count", "value": "60", "source": {
            "kind": "audit_conf", "file": "audit.config", "line": 2,
            "key": "*.*.min_query_count"}}),
        "{what}"
    );
    assert_eq!(
        setting(record, "server_target_qps"),
        &json!({"key": "server_target_qps", "value": "80", "source": {
            "kind": "audit_conf", "file": "audit.config", "line": 3,
            "key": "*.Server.target_qps"}}),
        "{what}"
    );
    // user.conf over mlperf.conf's 99.
    let percentile = setting(record, "server_target_latency_percentile");
    assert_eq!(
        percentile["source"],
        json!({"kind": "user_conf", "file": "user.conf", "line": 1,
               "key": "*.Server.target_latency_percentile"}),
        "{what}"
    );
    let value: f64 = percentile["value"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{what}: {percentile}"));
    assert!((value - 0.95).abs() < 1e-9, "{what}: {percentile}");

    // The test ran with them.
    assert_eq!(
        detail_value(detail, "requested_min_query_count"),
        60,
        "{what}"
    );
    assert_eq!(
        detail_value(detail, "effective_min_query_count"),
        60,
        "{what}"
    );
    assert_eq!(detail_value(detail, "effective_target_qps"), 80.0, "{what}");
    assert_eq!(
        detail_value(detail, "effective_target_latency_percentile"),
        0.95,
        "{what}"
    );
    assert_eq!(
        detail_value(detail, "effective_min_duration_ms"),
        1000,
        "{what}"
    );
}

/// The settings a record's source names a config file for, as (key,
/// setting) pairs: the part every front end must share.
fn config_file_settings(record: &Value) -> Vec<Value> {
    record["settings"]
        .as_array()
        .expect("settings")
        .iter()
        .filter(|s| {
            matches!(
                s["source"]["kind"].as_str(),
                Some("user_conf" | "audit_conf")
            )
        })
        .cloned()
        .collect()
}

#[test]
fn endpoint_run_and_python_share_loadgen_precedence() {
    let dir = temp_scratch("yardstick-endpoint-provenance", "all");
    std::fs::write(dir.join("user.conf"), USER_CONF).unwrap();
    // LoadGen reads ./audit.config: the child's working directory.
    std::fs::write(dir.join("audit.config"), AUDIT_CONFIG).unwrap();

    // endpoint: --rate 200 and --min-query-count 40, both beaten by
    // audit.config; --duration 1s a flag over mlperf.conf.
    let mock = mock_server();
    let o = ys(
        &dir,
        &[
            "endpoint",
            "--url",
            &mock.url,
            "--load",
            "poisson",
            "--rate",
            "200",
            "--min-query-count",
            "40",
            "--duration",
            "1s",
            "--user-conf",
            "user.conf",
            "-o",
            "endpoint",
        ],
    );
    drop(mock);
    // About 80 queries: too few for Server early stopping, so INVALID
    // (exit 1); the settings are what is checked here.
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    let index = read_json(&dir.join("endpoint/sweep.json"));
    let point_dir = dir
        .join("endpoint")
        .join(index[0]["dir"].as_str().expect("the point's folder"));
    let summary = read_json(&point_dir.join("result_summary.json"));
    assert_eq!(summary["n_samples_failed"], 0, "{summary}");
    assert!(
        summary["n_samples_issued"]
            .as_u64()
            .is_some_and(|n| n >= 60),
        "audit.config's min_query_count: {summary}"
    );
    let endpoint = read_json(&point_dir.join("run.json"));
    assert_eq!(endpoint["kind"], "endpoint");
    // The point ran at audit.config's rate, and says so.
    assert_eq!(endpoint["load"]["rate"], 80.0, "{}", endpoint["load"]);
    check_precedence(
        "endpoint",
        &endpoint,
        &point_dir.join("mlperf_log_detail.txt"),
    );
    assert_eq!(
        setting(&endpoint, "min_duration_ms")["source"],
        json!({"kind": "flag", "name": "--duration"})
    );

    // run: the same files, the same flags under run's names.
    let o = ys(
        &dir,
        &[
            "run",
            "--sut",
            "null",
            "--scenario",
            "Server",
            "--target-qps",
            "200",
            "--min-query-count",
            "40",
            "--duration",
            "1s",
            "--user-conf",
            "user.conf",
            "-o",
            "run",
        ],
    );
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    let run = read_json(&dir.join("run/run.json"));
    assert_eq!(run["kind"], "loadgen");
    check_precedence("run", &run, &dir.join("run/mlperf_log_detail.txt"));
    assert_eq!(
        setting(&run, "min_duration_ms"),
        setting(&endpoint, "min_duration_ms")
    );
    // Every setting a config file gave: the same in both, line for line.
    let from_files = config_file_settings(&run);
    assert_eq!(from_files.len(), 3, "{from_files:?}");
    assert_eq!(config_file_settings(&endpoint), from_files);

    // The Python module: the same files, the settings as attributes.
    if let Some(python) = python_with_module() {
        let o = Command::new(python)
            .current_dir(&dir)
            .env("YARDSTICK_STORE", dir.join("results.sqlite"))
            .env("YARDSTICK_RECORD", "1")
            .args(["-c", PYTHON_HARNESS, "python"])
            .output()
            .expect("python runs");
        assert!(o.status.success(), "{}", text(&o));
        let py = read_json(&dir.join("python/run.json"));
        assert_eq!(py["kind"], "python");
        check_precedence("python", &py, &dir.join("python/mlperf_log_detail.txt"));
        assert_eq!(config_file_settings(&py), from_files);
    } else {
        eprintln!(
            "endpoint_provenance: .venv-py is not built (CI is not set): the Python module is left out"
        );
    }

    // All of them are in the store.
    let o = ys(&dir, &["runs", "list", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let rows: Vec<Value> = serde_json::from_str(&stdout(&o)).expect("runs list --json is JSON");
    for record in [&endpoint, &run] {
        assert!(
            rows.iter()
                .any(|r| r["id"] == record["id"] && r["status"] == "completed"),
            "{} not listed completed: {rows:?}",
            record["id"]
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

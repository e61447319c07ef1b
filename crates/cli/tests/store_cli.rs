//! The results store through the binary: `yardstick import` of the
//! official LoadGen's output (made here with the official wheel) and of
//! yardstick's own logs, `yardstick runs` list/show/tag/delete/export, a
//! store from a newer yardstick refused untouched, and a `yardstick run`
//! killed with SIGKILL.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{bin, stderr, stdout, target_scratch, text};
use serde_json::Value;
use yardstick_store::{RowStatus, RunFilter, Store};

/// `yardstick COMMAND --store STORE ARGS...` (the store first, so that
/// `runs tag ID -t` cannot swallow it as a tag).
fn ys(store: &Path, args: &[&str]) -> std::process::Output {
    bin()
        .arg(args[0])
        .arg("--store")
        .arg(store)
        .args(&args[1..])
        .output()
        .expect("the binary runs")
}

fn ok(o: std::process::Output) -> String {
    assert!(o.status.success(), "{}", text(&o));
    stdout(&o)
}

/// Every run in the store, as `runs list --json` gives them.
fn list(store: &Path) -> Vec<Value> {
    let out = ok(ys(store, &["runs", "list", "--json"]));
    serde_json::from_str::<Vec<Value>>(&out).expect("runs list --json is JSON")
}

fn show(store: &Path, id: &str) -> Value {
    serde_json::from_str(&ok(ys(store, &["runs", "show", id, "--json"]))).expect("JSON record")
}

/// The value of the summary line whose label (before the first `:`) is
/// `label`, read here without the importer's reader.
fn summary_field(summary: &str, label: &str) -> Option<String> {
    summary.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == label).then(|| v.trim().to_string())
    })
}

fn metric(record: &Value, name: &str) -> f64 {
    record["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no metric {name} in {}", record["metrics"]))["value"]
        .as_f64()
        .unwrap()
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s}"))
}

/// Checks an imported record against the summary text it came from: the
/// headline result, the verdict and every check, the latency table, the
/// settings echoed.
fn check_against_summary(record: &Value, summary: &str) {
    let scenario = summary_field(summary, "Scenario").unwrap();
    assert_eq!(record["workload"]["scenario"], scenario.as_str());
    assert_eq!(
        record["workload"]["mode"],
        summary_field(summary, "Mode").unwrap().as_str()
    );
    let verdict = summary_field(summary, "Result is").unwrap();
    assert_eq!(record["validity"]["verdict"], verdict.as_str());
    let checks = record["validity"]["checks"].as_array().unwrap();
    for (label, name) in [
        ("Min duration satisfied", "min_duration"),
        ("Min queries satisfied", "min_queries"),
        ("Early stopping satisfied", "early_stopping"),
        ("Performance constraints satisfied", "latency_constraint"),
    ] {
        let Some(yes) = summary_field(summary, label) else {
            continue;
        };
        let check = checks
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no check {name}"));
        assert_eq!(check["passed"], yes == "Yes", "{name}");
    }
    let primary = &record["metrics"][0];
    match scenario.as_str() {
        "Offline" => {
            assert_eq!(primary["name"], "samples_per_second");
            let text = summary_field(summary, "Samples per second").unwrap();
            assert_eq!(primary["value"].as_f64().unwrap(), num(&text));
        }
        "Server" => {
            assert_eq!(primary["name"], "completed_samples_per_second");
            let text = summary_field(summary, "Completed samples per second").unwrap();
            assert_eq!(primary["value"].as_f64().unwrap(), num(&text));
            let sched = summary_field(summary, "Scheduled samples per second").unwrap();
            assert_eq!(metric(record, "scheduled_samples_per_second"), num(&sched));
        }
        "SingleStream" => {
            assert_eq!(primary["name"], "latency.p90");
            let text = summary_field(summary, "90.0th percentile latency (ns)").unwrap();
            assert_eq!(primary["value"].as_f64().unwrap(), num(&text));
            let qps = summary_field(summary, "QPS w/o loadgen overhead").unwrap();
            assert_eq!(metric(record, "qps_without_loadgen_overhead"), num(&qps));
        }
        other => panic!("unexpected scenario {other}"),
    }
    let dist = &record["latencies"]["sample"];
    for (label, field) in [
        ("Min latency (ns)", "min"),
        ("Max latency (ns)", "max"),
        ("Mean latency (ns)", "mean"),
    ] {
        let v = num(&summary_field(summary, label).unwrap());
        assert_eq!(dist[field].as_f64().unwrap(), v, "{label}");
    }
    for (label, name, p) in [
        ("50.00 percentile latency (ns)", "latency.p50", 50.0),
        ("90.00 percentile latency (ns)", "latency.p90", 90.0),
        ("99.00 percentile latency (ns)", "latency.p99", 99.0),
        ("99.90 percentile latency (ns)", "latency.p99.9", 99.9),
    ] {
        let v = num(&summary_field(summary, label).unwrap());
        assert_eq!(metric(record, name), v, "{label}");
        let recorded = dist["percentiles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["percent"].as_f64() == Some(p))
            .unwrap_or_else(|| panic!("no p{p}"));
        assert_eq!(recorded["value"].as_f64().unwrap(), v);
    }
    // Every "Test Parameters Used" line comes back as a setting.
    let params = summary
        .split("Test Parameters Used")
        .nth(1)
        .expect("a Test Parameters section");
    let settings = record["settings"].as_array().unwrap();
    let mut seen = 0;
    for line in params.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        if k.trim().is_empty() || k.starts_with("WARNING") || k.contains("encountered") {
            continue;
        }
        let key = k.split(" (").next().unwrap().trim();
        let s = settings
            .iter()
            .find(|s| s["key"] == key)
            .unwrap_or_else(|| panic!("setting {key} missing"));
        assert_eq!(s["value"], v.trim(), "{key}");
        seen += 1;
    }
    assert!(seen >= 20, "only {seen} settings in the summary");
}

/// Whether this is a CI run (`CI` set and not "false"/"0").
fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

#[test]
fn official_loadgen_output_imports_with_the_summary_numbers() {
    let python = common::repo().join(".venv-ref/bin/python");
    if !python.exists() {
        assert!(
            !is_ci(),
            "{} is missing under CI: run .ci/setup-python.sh",
            python.display()
        );
        eprintln!(
            "skipped: {} missing (run .ci/setup-python.sh)",
            python.display()
        );
        return;
    }
    let dir = target_scratch("store-cli", "official");
    let out = dir.join("loadgen");
    let made = Command::new(&python)
        .arg(common::repo().join("tests/import/make_official_run.py"))
        .arg(&out)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made));
    let store = dir.join("runs.sqlite");
    let o = ok(ys(
        &store,
        &["import", out.to_str().unwrap(), "--tag", "official"],
    ));
    assert!(o.contains("3 run(s) imported (3 mlperf_loadgen)"), "{o}");
    let rows = list(&store);
    assert_eq!(rows.len(), 3);
    for name in ["offline", "server", "singlestream"] {
        let summary =
            std::fs::read_to_string(out.join(name).join("mlperf_log_summary.txt")).unwrap();
        let scenario = summary_field(&summary, "Scenario").unwrap();
        let row = rows
            .iter()
            .find(|r| r["scenario"] == scenario.as_str())
            .unwrap_or_else(|| panic!("no {scenario} run listed"));
        assert_eq!(row["tags"], serde_json::json!(["official"]));
        assert_eq!(row["kind"], "imported");
        assert_eq!(row["status"], "completed");
        let record = show(&store, row["id"].as_str().unwrap());
        assert_eq!(record["tool"]["name"], "mlperf_loadgen");
        assert_eq!(record["tool"]["version"], "6.0.17");
        assert_eq!(record["workload"]["sut"]["name"], "PySUT");
        check_against_summary(&record, &summary);
    }
    // Importing again replaces, never duplicates.
    ok(ys(&store, &["import", out.to_str().unwrap()]));
    assert_eq!(list(&store).len(), 3);
}

#[test]
fn yardstick_logs_read_back_as_yardstick_recorded_them() {
    let dir = target_scratch("store-cli", "own");
    let store = dir.join("runs.sqlite");
    let run_out = dir.join("run");
    let o = bin()
        .args([
            "run",
            "--sut",
            "null",
            "--scenario",
            "Offline",
            "--duration",
            "1s",
            "--no-store",
            "-o",
        ])
        .arg(&run_out)
        .output()
        .unwrap();
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", text(&o));
    let own: Value =
        serde_json::from_str(&std::fs::read_to_string(run_out.join("run.json")).unwrap()).unwrap();
    // The logs alone (no run.json), so the LoadGen readers do the work.
    let logs = dir.join("logs-only");
    std::fs::create_dir_all(&logs).unwrap();
    for f in ["mlperf_log_summary.txt", "mlperf_log_detail.txt"] {
        std::fs::copy(run_out.join(f), logs.join(f)).unwrap();
    }
    ok(ys(&store, &["import", logs.to_str().unwrap()]));
    let rows = list(&store);
    assert_eq!(rows.len(), 1);
    let record = show(&store, rows[0]["id"].as_str().unwrap());
    let summary = std::fs::read_to_string(logs.join("mlperf_log_summary.txt")).unwrap();
    check_against_summary(&record, &summary);
    // The same verdict and main metric as yardstick's own record (the
    // summary prints 6 significant digits).
    assert_eq!(record["validity"]["verdict"], own["validity"]["verdict"]);
    let theirs = own["metrics"][0]["value"].as_f64().unwrap();
    let ours = record["metrics"][0]["value"].as_f64().unwrap();
    assert_eq!(record["metrics"][0]["name"], own["metrics"][0]["name"]);
    assert!((ours / theirs - 1.0).abs() < 1e-5, "{ours} vs {theirs}");
    assert_eq!(metric(&record, "latency.p99"), metric(&own, "latency.p99"));

    // The run folder itself (with run.json) imports as yardstick's record.
    ok(ys(&store, &["import", run_out.to_str().unwrap()]));
    let again = show(&store, own["id"].as_str().unwrap());
    assert_eq!(again["metrics"], own["metrics"]);
}

#[test]
fn runs_list_show_tag_delete_export() {
    let golden = common::repo().join("../shared/golden/loadgen-6.0.17");
    assert!(golden.is_dir(), "golden logs missing: {}", golden.display());
    let dir = target_scratch("store-cli", "runs");
    let store = dir.join("runs.sqlite");
    ok(ys(&store, &["import", golden.to_str().unwrap()]));
    let table = ok(ys(&store, &["runs"]));
    assert!(table.starts_with("id "), "{table}");
    assert_eq!(table.lines().count(), 7, "{table}");
    assert!(
        table.contains("samples_per_second 341057 samples/s"),
        "{table}"
    );

    let server = ok(ys(
        &store,
        &["runs", "list", "--scenario", "server", "--json"],
    ));
    let server: Vec<Value> = serde_json::from_str(&server).unwrap();
    assert_eq!(server.len(), 2);
    let id = server[0]["id"].as_str().unwrap().to_string();
    let shown = ok(ys(&store, &["runs", "show", &id]));
    assert!(shown.contains("validity: VALID"), "{shown}");
    assert!(shown.contains("[ok] min_duration"), "{shown}");
    assert!(shown.contains("target_qps"), "{shown}");

    let tagged = ok(ys(&store, &["runs", "tag", &id, "+gpu", "nightly"]));
    assert!(tagged.contains("gpu, nightly"), "{tagged}");
    let tagged = ok(ys(&store, &["runs", "tag", &id, "-gpu"]));
    assert!(tagged.trim_end().ends_with(": nightly"), "{tagged}");
    let by_tag: Vec<Value> =
        serde_json::from_str(&ok(ys(&store, &["runs", "--tag", "nightly", "--json"]))).unwrap();
    assert_eq!(by_tag.len(), 1);
    assert_eq!(by_tag[0]["id"], id.as_str());

    let csv_path = dir.join("runs.csv");
    ok(ys(
        &store,
        &[
            "runs",
            "export",
            "--format",
            "csv",
            "-o",
            csv_path.to_str().unwrap(),
        ],
    ));
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert_eq!(csv.lines().count(), 7, "{csv}");
    assert!(csv.starts_with("id,group,kind,status,started_at"), "{csv}");
    assert!(csv.contains("metric:samples_per_second (samples/s)"));
    let json: Vec<Value> = serde_json::from_str(&ok(ys(
        &store,
        &[
            "runs",
            "export",
            "--format",
            "json",
            "--scenario",
            "Offline",
        ],
    )))
    .unwrap();
    assert_eq!(json.len(), 1);
    assert_eq!(json[0]["metrics"][0]["value"].as_f64(), Some(341057.0));

    let ambiguous = ys(&store, &["runs", "show", "2026"]);
    assert_eq!(ambiguous.status.code(), Some(2));
    assert!(
        stderr(&ambiguous).contains("matches 6 runs"),
        "{}",
        text(&ambiguous)
    );
    let deleted = ok(ys(&store, &["runs", "delete", &id]));
    assert!(deleted.contains(&id));
    assert_eq!(list(&store).len(), 5);
    let gone = ys(&store, &["runs", "show", &id]);
    assert!(stderr(&gone).contains("no run"), "{}", text(&gone));

    let nothing = ys(
        &store,
        &[
            "import",
            dir.join("runs.csv")
                .parent()
                .unwrap()
                .join("missing")
                .to_str()
                .unwrap(),
        ],
    );
    assert_eq!(nothing.status.code(), Some(2), "{}", text(&nothing));
}

#[test]
fn a_newer_store_is_refused_untouched() {
    let dir = target_scratch("store-cli", "newer");
    let store = dir.join("runs.sqlite");
    let golden = common::repo().join("../shared/golden/loadgen-6.0.17/resnet50-offline-perf");
    ok(ys(&store, &["import", golden.to_str().unwrap()]));
    // The process has exited: SQLite checkpointed the WAL into the file.
    // Bytes 60..64 of the header are PRAGMA user_version (big-endian).
    let mut bytes = std::fs::read(&store).unwrap();
    assert_eq!(&bytes[..16], b"SQLite format 3\0");
    let newer = yardstick_store::SCHEMA_VERSION + 7;
    bytes[60..64].copy_from_slice(&newer.to_be_bytes());
    std::fs::write(&store, &bytes).unwrap();
    for args in [&["runs"][..], &["import", golden.to_str().unwrap()][..]] {
        let o = ys(&store, args);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        let err = stderr(&o);
        assert!(
            err.contains(&format!("store schema {newer}"))
                && err.contains(&format!("knows up to {}", yardstick_store::SCHEMA_VERSION))
                && err.contains("newer yardstick"),
            "{err}"
        );
        assert_eq!(
            std::fs::read(&store).unwrap(),
            bytes,
            "the store was modified"
        );
    }
}

/// Waits until the store at `path` lists a run, or panics.
fn wait_for_run(path: &Path, child: &mut std::process::Child) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(store) = Store::open(path) {
            if let Ok(rows) = store.list(&RunFilter::default()) {
                if let Some(r) = rows.first() {
                    assert_eq!(r.status, RowStatus::Running);
                    return r.id.clone();
                }
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("yardstick run exited ({status}) before it began its run");
        }
        assert!(
            Instant::now() < deadline,
            "the run never appeared in the store"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_run_killed_with_sigkill_is_listed_incomplete() {
    let dir = target_scratch("store-cli", "sigkill");
    let store: PathBuf = dir.join("runs.sqlite");
    let mut child = bin()
        .args([
            "run",
            "--sut",
            "sleep",
            "--scenario",
            "Server",
            "--target-qps",
            "200",
            "--duration",
            "120s",
            "-o",
        ])
        .arg(dir.join("out"))
        .arg("--store")
        .arg(&store)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let id = wait_for_run(&store, &mut child);
    // Let the test run a moment, then kill it without warning.
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(9));

    let s = Store::open(&store).unwrap();
    assert_eq!(s.integrity_check().unwrap(), ["ok"]);
    assert_eq!(s.row(&id).unwrap().status, RowStatus::Incomplete);
    let listed: Vec<Value> = serde_json::from_str(&ok(ys(
        &store,
        &["runs", "--status", "incomplete", "--json"],
    )))
    .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["status"], "incomplete");
}

fn copy_logs(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in ["mlperf_log_summary.txt", "mlperf_log_detail.txt"] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
}

#[test]
fn submission_trees_and_endpoints_results_import() {
    let golden = common::repo().join("../shared/golden/loadgen-6.0.17");
    let dir = target_scratch("store-cli", "tree");
    let store = dir.join("runs.sqlite");
    // An MLPerf Inference submission: closed/<submitter>/results/<system>/<benchmark>/<scenario>/...
    let acme = dir.join("submission/closed/Acme");
    let results = acme.join("results/box1/resnet50");
    copy_logs(
        &golden.join("resnet50-offline-perf"),
        &results.join("Offline/performance/run_1"),
    );
    copy_logs(
        &golden.join("resnet50-server-perf"),
        &results.join("Server/performance/run_1"),
    );
    std::fs::create_dir_all(acme.join("systems")).unwrap();
    std::fs::write(
        acme.join("systems/box1.json"),
        r#"{"system_name": "Box 1", "accelerators_per_node": 8}"#,
    )
    .unwrap();
    // A folder that looks like LoadGen output but is not.
    let broken = results.join("SingleStream/performance/run_1");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("mlperf_log_summary.txt"), "not a summary\n").unwrap();

    let out = ys(
        &store,
        &["import", dir.join("submission").to_str().unwrap()],
    );
    let printed = stdout(&out);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        printed.contains("an MLPerf Inference submission tree"),
        "{printed}"
    );
    assert!(
        printed.contains("2 run(s) imported (2 mlperf_submission)"),
        "{printed}"
    );
    assert!(printed.contains("1 skipped"), "{printed}");
    assert!(
        printed.contains("SingleStream/performance/run_1/mlperf_log_summary.txt: ")
            && printed.contains("is not an MLPerf LoadGen summary"),
        "{printed}"
    );
    let rows = list(&store);
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_eq!(row["workload"], "resnet50");
        assert_eq!(row["sut"], "box1");
        let record = show(&store, row["id"].as_str().unwrap());
        assert_eq!(record["system"]["system_name"], "Box 1");
        assert_eq!(record["extra"]["import"]["division"], "closed");
        assert_eq!(record["extra"]["import"]["submitter"], "Acme");
        assert_eq!(record["extra"]["import"]["phase"], "performance/run_1");
    }
    let offline = rows.iter().find(|r| r["scenario"] == "Offline").unwrap();
    assert_eq!(offline["metric_value"].as_f64(), Some(341057.0));
    assert_eq!(offline["verdict"], "INVALID");

    // MLPerf Endpoints: <report dir>/performance/result_summary.json.
    let report = dir.join("endpoints/run-a");
    std::fs::create_dir_all(report.join("performance")).unwrap();
    let stats = |p50: f64, p90: f64| {
        serde_json::json!({"total": 1.0, "min": p50 / 2.0, "max": p90 * 2.0, "median": p50, "avg": p50,
            "std_dev": 0.0, "percentiles": {"50.0": p50, "90.0": p90, "99.0": p90, "99.9": p90},
            "histogram": {"buckets": [], "counts": []}})
    };
    let summary = serde_json::json!({
        "version": "0.4.1", "git_sha": null, "test_started_at": 0,
        "n_samples_issued": 50, "n_samples_completed": 50, "n_samples_failed": 0,
        "duration_ns": 5_000_000_000u64, "state": "complete", "complete": true,
        "ttft": stats(2e7, 4e7), "tpot": stats(1e7, 2e7), "latency": stats(5e8, 9e8),
        "output_sequence_lengths": stats(64.0, 64.0), "input_sequence_lengths": {},
        "legacy_loadgen_window_duration_ns": null, "qps": 10.0, "tps": 640.0,
        "finish_reason_counts": {}, "run_config": {"load_pattern": {"type": "concurrency", "target_concurrency": 8}}
    });
    std::fs::write(
        report.join("performance/result_summary.json"),
        serde_json::to_string_pretty(&summary).unwrap(),
    )
    .unwrap();
    std::fs::write(
        report.join("config.yaml"),
        "model_params:\n  name: Qwen/Qwen3-8B\n",
    )
    .unwrap();
    let printed = ok(ys(
        &store,
        &["import", report.to_str().unwrap(), "--tag", "ep"],
    ));
    assert!(printed.contains("an endpoint result folder"), "{printed}");
    assert!(
        printed.contains("1 run(s) imported (1 mlperf_endpoints)"),
        "{printed}"
    );
    let ep: Vec<Value> =
        serde_json::from_str(&ok(ys(&store, &["runs", "--tag", "ep", "--json"]))).unwrap();
    assert_eq!(ep.len(), 1);
    assert_eq!(ep[0]["workload"], "Qwen/Qwen3-8B");
    assert_eq!(ep[0]["metric_name"], "tokens_per_second");
    assert_eq!(ep[0]["metric_value"].as_f64(), Some(640.0));
    let record = show(&store, ep[0]["id"].as_str().unwrap());
    assert_eq!(metric(&record, "ttft.p90"), 4e7);
    assert_eq!(metric(&record, "tps_per_user"), 1e9 / 2e7);
}

#[test]
fn an_option_after_the_tags_is_not_taken_for_a_tag() {
    let dir = target_scratch("store-cli", "tag-flag");
    let store = dir.join("runs.sqlite");
    let golden = common::repo().join("../shared/golden/loadgen-6.0.17/resnet50-offline-perf");
    ok(ys(&store, &["import", golden.to_str().unwrap()]));
    let id = list(&store)[0]["id"].as_str().unwrap().to_string();
    let o = bin()
        .args(["runs", "tag", &id, "+x", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(stderr(&o).contains("put it before `tag`"), "{}", text(&o));
    assert_eq!(list(&store)[0]["tags"], serde_json::json!([]));
}

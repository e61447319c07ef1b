//! The results bar of yardstick issue 11, end to end: a `run` of the sleep
//! SUT (Server), a `run --repeat 2`, an `endpoint` sweep against the mock
//! server at two concurrencies, a `run --workload fashion-mnist`
//! submission, a `train fashion-mnist --runs 3`, an `accuracy` scoring and
//! a Python harness with `YARDSTICK_RECORD=1` all land in one results store:
//! `yardstick runs list --json` lists each, completed, with its kind and
//! group; `yardstick runs show ID --json` is the run's own run.json, system
//! description included; and run.json lies beside that run's logs.
//!
//! Everything here is kept small for a loaded 2-core machine: the workload
//! runs on the first 1,000 images of the test split (a workload file of
//! its own, named fashion-mnist), training on 128 images for one epoch.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{bin, read_json, repo, start_mock, stdout, temp_scratch, text, Mock};
use serde_json::Value;

/// Images of the workload slice: enough for a stable top-1 above the
/// workload's target, few enough to score in seconds.
const SLICE: usize = 1000;

/// `yardstick args` run in `dir`, its runs going to `store`.
fn ys(dir: &Path, store: &Path, args: &[&str]) -> Output {
    bin()
        .current_dir(dir)
        .env("YARDSTICK_STORE", store)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn mock_server() -> Mock {
    start_mock(
        "300s",
        &["--mode", "simulated", "--ttft", "5ms", "--tpot", "1ms"],
    )
}

/// The uncompressed bytes of a gzip file of the repository's data.
fn gunzip(path: &Path) -> Vec<u8> {
    let o = Command::new("gzip")
        .arg("-dc")
        .arg(path)
        .output()
        .expect("gzip runs");
    assert!(o.status.success(), "gzip -dc {}", path.display());
    o.stdout
}

/// `text` with `from` replaced by `to`, which must occur.
fn replaced(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "the workload file has no `{from}`");
    text.replacen(from, to, 1)
}

/// The first [`SLICE`] samples of the Fashion-MNIST test split as plain
/// IDX files, the built-in workload file pointing at them
/// (`fashion-mnist.toml` in `dir`), and their labels one per line
/// (`labels.txt`, ground truth for `yardstick accuracy`).
fn workload_slice(dir: &Path) -> PathBuf {
    let data = repo().join("data/fashion-mnist");
    let images = gunzip(&data.join("t10k-images-idx3-ubyte.gz"));
    let labels = gunzip(&data.join("t10k-labels-idx1-ubyte.gz"));
    let count = (SLICE as u32).to_be_bytes();
    // IDX: magic, the sample count, then (images) rows and columns.
    let mut sliced_images = images[..4].to_vec();
    sliced_images.extend_from_slice(&count);
    sliced_images.extend_from_slice(&images[8..16 + SLICE * 28 * 28]);
    let mut sliced_labels = labels[..4].to_vec();
    sliced_labels.extend_from_slice(&count);
    sliced_labels.extend_from_slice(&labels[8..8 + SLICE]);
    std::fs::write(dir.join("images.idx"), &sliced_images).unwrap();
    std::fs::write(dir.join("labels.idx"), &sliced_labels).unwrap();
    let label_lines: String = labels[8..8 + SLICE]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.join("labels.txt"), label_lines).unwrap();

    let builtin = std::fs::read_to_string(repo().join("workloads/fashion-mnist.toml")).unwrap();
    let weights = repo()
        .join("models/fashion-mnist/fashion-cnn-v1.safetensors")
        .canonicalize()
        .unwrap();
    let mut w = replaced(
        &builtin,
        "\"../data/fashion-mnist/t10k-images-idx3-ubyte.gz\"",
        "\"images.idx\"",
    );
    w = replaced(
        &w,
        "\"../data/fashion-mnist/t10k-labels-idx1-ubyte.gz\"",
        "\"labels.idx\"",
    );
    w = replaced(
        &w,
        "\nsample_count = 10000",
        &format!("\nsample_count = {SLICE}"),
    );
    w = replaced(
        &w,
        "\nperformance_sample_count = 10000",
        &format!("\nperformance_sample_count = {SLICE}"),
    );
    w = replaced(
        &w,
        "\"../models/fashion-mnist/fashion-cnn-v1.safetensors\"",
        &format!("\"{}\"", weights.display()),
    );
    let path = dir.join("fashion-mnist.toml");
    std::fs::write(&path, w).unwrap();
    path
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

/// An unchanged-looking Python harness: the null SUT of a few lines,
/// Offline, logs to argv[1]. Recording is switched on by the environment.
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
ts.scenario = lg.TestScenario.Offline
ts.mode = lg.TestMode.PerformanceOnly
ts.offline_expected_qps = 2000
ts.min_duration_ms = 100
ts.min_query_count = 100
log = lg.LogSettings()
log.log_output.outdir = sys.argv[1]
log.log_output.copy_summary_to_stdout = False
log.enable_trace = False
lg.StartTestWithLogSettings(sut, qsl, ts, log)
lg.DestroyQSL(qsl)
lg.DestroySUT(sut)
"#;

/// One run the store must list.
struct Expected {
    kind: &'static str,
    /// run.json, relative to the working directory of the run.
    run_json: String,
    /// A log of the run that run.json must lie beside.
    log: String,
    /// The group's kind, this run's index in it and the group's size.
    group: Option<(&'static str, u64, u64)>,
}

impl Expected {
    fn single(kind: &'static str, run_json: &str, log: &str) -> Self {
        Expected {
            kind,
            run_json: run_json.to_string(),
            log: log.to_string(),
            group: None,
        }
    }

    fn member(
        kind: &'static str,
        run_json: String,
        log: String,
        group: (&'static str, u64, u64),
    ) -> Self {
        Expected {
            kind,
            run_json,
            log,
            group: Some(group),
        }
    }
}

/// The `path` of the record's file of role `role`.
fn file_of_role<'a>(record: &'a Value, role: &str) -> &'a str {
    record["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["role"] == role)
        .and_then(|f| f["path"].as_str())
        .unwrap_or_else(|| panic!("no {role} file in {}", record["files"]))
}

/// Checks the run `e` against its run.json and the store; returns its
/// record.
fn check_run(dir: &Path, store: &Path, rows: &[Value], e: &Expected) -> Value {
    let run_json = dir.join(&e.run_json);
    assert!(run_json.is_file(), "no {}", run_json.display());
    let record = read_json(&run_json);
    let id = record["id"].as_str().expect("id").to_string();
    let what = format!("{} ({id}, {})", e.run_json, e.kind);
    assert_eq!(record["kind"], e.kind, "{what}");
    assert_eq!(record["status"], "completed", "{what}");

    // run.json names itself, and lies in the same folder as the logs.
    assert_eq!(file_of_role(&record, "run_json"), e.run_json, "{what}");
    let log = dir.join(&e.log);
    assert!(log.is_file(), "{what}: no {}", log.display());
    assert_eq!(
        run_json.parent().unwrap().canonicalize().unwrap(),
        log.parent().unwrap().canonicalize().unwrap(),
        "{what}"
    );

    // `runs list --json`: listed, completed, of its kind and group.
    let row = rows
        .iter()
        .find(|r| r["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{what} is not in `runs list`"));
    assert_eq!(row["kind"], e.kind, "{what}: {row}");
    assert_eq!(row["status"], "completed", "{what}: {row}");
    match e.group {
        Some((kind, index, size)) => {
            assert_eq!(record["group"]["kind"], kind, "{what}");
            assert_eq!(record["group"]["index"], index, "{what}");
            assert_eq!(record["group"]["size"], size, "{what}");
            assert_eq!(row["group_id"], record["group"]["id"], "{what}: {row}");
            assert_eq!(row["group_index"], index, "{what}: {row}");
        }
        None => {
            assert!(record.get("group").is_none(), "{what}");
            assert!(row["group_id"].is_null(), "{what}: {row}");
        }
    }

    // `runs show ID --json` is the record as written, system description
    // included.
    let o = ys(dir, store, &["runs", "show", &id, "--json"]);
    assert!(o.status.success(), "{what}: {}", text(&o));
    let stored: Value = serde_json::from_str(&stdout(&o)).expect("runs show --json is JSON");
    assert_eq!(
        stored, record,
        "{what}: the store's record differs from run.json"
    );
    let system = &stored["system"];
    let cpu_model = system["cpu"]["model_name"].as_str().unwrap_or_default();
    assert!(!cpu_model.is_empty(), "{what}: no CPU model in {system}");
    assert!(
        system["cpu"]["logical_cpus"]
            .as_u64()
            .is_some_and(|n| n >= 1),
        "{what}: {system}"
    );
    assert!(
        system["memory"]["total_bytes"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{what}: {system}"
    );
    assert!(
        system["os"]["kernel_release"]
            .as_str()
            .is_some_and(|k| !k.is_empty()),
        "{what}: {system}"
    );
    // And `runs show ID` prints it for people, as `system show` does: the
    // CPU model and the kernel among it.
    let o = ys(dir, store, &["runs", "show", &id]);
    assert!(o.status.success(), "{what}: {}", text(&o));
    let shown = stdout(&o);
    let kernel = system["os"]["kernel_release"].as_str().unwrap_or_default();
    let cpu_model = system["cpu"]["model_name"].as_str().unwrap_or_default();
    assert!(
        shown.contains("\nsystem:\n  ")
            && shown.contains(&format!("  cpu          {cpu_model}"))
            && shown.contains(kernel),
        "{what}: {shown}"
    );
    record
}

#[test]
fn every_front_end_s_runs_are_in_the_store_with_system_and_run_json() {
    // Of this test process: a concurrent `cargo test` gets its own.
    let dir = temp_scratch("yardstick-records-e2e", "all");
    let store = dir.join("results.sqlite");
    let mut expected: Vec<Expected> = Vec::new();

    // `run`, the sleep SUT in the Server scenario. 1 s is too short for
    // Server early stopping, so LoadGen calls it INVALID (exit 1): the run
    // still completed.
    let o = ys(
        &dir,
        &store,
        &[
            "run",
            "--sut",
            "sleep",
            "--scenario",
            "Server",
            "--target-qps",
            "200",
            "--duration",
            "1s",
            "--min-query-count",
            "100",
            "--tag",
            "records-e2e",
            "-o",
            "sleep-server",
        ],
    );
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    expected.push(Expected::single(
        "loadgen",
        "sleep-server/run.json",
        "sleep-server/mlperf_log_summary.txt",
    ));

    // `run --repeat 2`: a group of two, one folder each.
    let o = ys(
        &dir,
        &store,
        &[
            "run",
            "--sut",
            "null",
            "--scenario",
            "Offline",
            "--target-qps",
            "1000",
            "--duration",
            "100ms",
            "--min-query-count",
            "100",
            "--repeat",
            "2",
            "-o",
            "repeats",
        ],
    );
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    for i in 0..2 {
        expected.push(Expected::member(
            "loadgen",
            format!("repeats/repeat_{i}/run.json"),
            format!("repeats/repeat_{i}/mlperf_log_summary.txt"),
            ("repeat", i, 2),
        ));
    }

    // `endpoint`, a sweep of two concurrencies against the mock server.
    {
        let mock = mock_server();
        let o = ys(
            &dir,
            &store,
            &[
                "endpoint",
                "--url",
                &mock.url,
                "--concurrency",
                "1,4",
                "--requests",
                "16",
                "--output-tokens",
                "8",
                "-o",
                "sweep",
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    for (i, point) in ["c1", "c4"].into_iter().enumerate() {
        expected.push(Expected::member(
            "endpoint",
            format!("sweep/{point}/run.json"),
            format!("sweep/{point}/result_summary.json"),
            ("sweep", i as u64, 2),
        ));
    }

    // `run --workload fashion-mnist`, a submission: performance and
    // accuracy, with the accuracy verdict in the record.
    let workload = workload_slice(&dir);
    let o = ys(
        &dir,
        &store,
        &[
            "run",
            "--workload",
            workload.to_str().unwrap(),
            "--scenario",
            "Offline",
            "--mode",
            "submission",
            "--duration",
            "1s",
            "-o",
            "fashion-offline",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    expected.push(Expected::single(
        "loadgen",
        "fashion-offline/run.json",
        "fashion-offline/mlperf_log_summary.txt",
    ));

    // `accuracy`, scoring the workload's accuracy log again: its record goes
    // beside accuracy.txt.
    std::fs::create_dir_all(dir.join("rescored")).unwrap();
    let o = ys(
        &dir,
        &store,
        &[
            "accuracy",
            "--log",
            "fashion-offline/mlperf_log_accuracy.json",
            "--metric",
            "top1",
            "--ground-truth",
            "labels.txt",
            "--dtype",
            "int32",
            "-o",
            "rescored/accuracy.txt",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    expected.push(Expected::single(
        "accuracy",
        "rescored/accuracy.run.json",
        "rescored/accuracy.txt",
    ));

    // `train fashion-mnist --runs 3`: a training set of three seeded runs.
    let data = repo().join("data/fashion-mnist");
    let train_images = data.join("t10k-images-idx3-ubyte.gz");
    let train_labels = data.join("t10k-labels-idx1-ubyte.gz");
    let o = ys(
        &dir,
        &store,
        &[
            "train",
            "fashion-mnist",
            "--train-images",
            train_images.to_str().unwrap(),
            "--train-labels",
            train_labels.to_str().unwrap(),
            "--train-limit",
            "128",
            "--eval-limit",
            "64",
            "--max-epochs",
            "1",
            "--threads",
            "2",
            // One epoch on 128 images is far from useful; any model above
            // chance on these 64 reaches this target, so every run succeeds.
            "--target",
            "0.05",
            "--runs",
            "3",
            "--seed",
            "5",
            "--quiet",
            "-o",
            "training",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for i in 0..3 {
        expected.push(Expected::member(
            "training",
            format!("training/result_{i}.run.json"),
            format!("training/result_{i}.txt"),
            ("training", i, 3),
        ));
    }

    // A Python harness with recording switched on by the environment.
    let python = python_with_module();
    if let Some(python) = &python {
        let o = Command::new(python)
            .current_dir(&dir)
            .env("YARDSTICK_STORE", &store)
            .env("YARDSTICK_RECORD", "1")
            .args(["-c", PYTHON_HARNESS, "python-harness"])
            .output()
            .expect("python runs");
        assert!(o.status.success(), "{}", text(&o));
        expected.push(Expected::single(
            "python",
            "python-harness/run.json",
            "python-harness/mlperf_log_summary.txt",
        ));
    } else {
        eprintln!(
            "records_e2e: .venv-py is not built (CI is not set): the Python harness is left out"
        );
    }

    // The store lists exactly these runs.
    let o = ys(&dir, &store, &["runs", "list", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let rows: Vec<Value> = serde_json::from_str(&stdout(&o)).expect("runs list --json is JSON");
    let records: Vec<Value> = expected
        .iter()
        .map(|e| check_run(&dir, &store, &rows, e))
        .collect();
    let listed: BTreeSet<&str> = rows.iter().filter_map(|r| r["id"].as_str()).collect();
    let written: BTreeSet<&str> = records.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(listed, written, "the store lists other runs than were made");
    assert_eq!(written.len(), expected.len(), "run ids are not unique");

    // The members of each group share its id; the groups are distinct.
    let group_ids = |kind: &str| -> BTreeSet<&str> {
        records
            .iter()
            .filter(|r| r["group"]["kind"] == kind)
            .filter_map(|r| r["group"]["id"].as_str())
            .collect()
    };
    let groups: Vec<BTreeSet<&str>> = ["repeat", "sweep", "training"]
        .into_iter()
        .map(group_ids)
        .collect();
    for g in &groups {
        assert_eq!(g.len(), 1, "{groups:?}");
    }
    let all: BTreeSet<&str> = groups.iter().flatten().copied().collect();
    assert_eq!(all.len(), 3, "{groups:?}");

    // What the front ends measured and judged came along.
    let by_path = |p: &str| -> &Value {
        let i = expected
            .iter()
            .position(|e| e.run_json == p)
            .unwrap_or_else(|| panic!("no run {p}"));
        &records[i]
    };
    let server = by_path("sleep-server/run.json");
    assert_eq!(server["workload"]["sut"]["kind"], "sleep");
    assert_eq!(server["workload"]["scenario"], "Server");
    assert_eq!(server["tags"], serde_json::json!(["records-e2e"]));
    let workload_run = by_path("fashion-offline/run.json");
    assert_eq!(workload_run["workload"]["name"], "fashion-mnist");
    assert_eq!(workload_run["workload"]["mode"], "SubmissionRun");
    assert_eq!(workload_run["accuracy"]["metric"], "top1");
    assert_eq!(workload_run["accuracy"]["passed"], true, "{workload_run}");
    // Scored again by `yardstick accuracy`: the same top-1.
    let rescored = by_path("rescored/accuracy.run.json");
    let top1 = workload_run["accuracy"]["value"].as_f64().unwrap();
    assert!(top1 > 80.0 && top1 <= 100.0, "{top1}");
    assert_eq!(rescored["accuracy"]["value"].as_f64(), Some(top1));
    for i in 0..3 {
        let run = by_path(&format!("training/result_{i}.run.json"));
        assert_eq!(run["workload"]["name"], "fashion-mnist");
        assert_eq!(run["accuracy"]["passed"], true, "{run}");
        assert_eq!(run["group"]["label"], format!("seed {}", 5 + i));
    }
    let c4 = by_path("sweep/c4/run.json");
    assert_eq!(c4["load"]["concurrency"], 4, "{}", c4["load"]);
    if python.is_some() {
        let py = by_path("python-harness/run.json");
        assert_eq!(py["workload"]["scenario"], "Offline");
        assert_eq!(py["workload"]["sut"]["kind"], "python");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

//! End-to-end tests of `yardstick run --workload`: the reference workload
//! ends VALID with an accuracy PASS; accuracy FAIL and bad workload files,
//! data and models give a non-zero exit and errors naming the file;
//! target_qps "auto" re-sizes an Offline query that ended too short.

mod common;

use std::path::{Path, PathBuf};

use common::run_cli::{
    assert_file_contains, assert_valid_offline_submission, path_arg, run_workload,
};
use common::{bin, read_json, repo, stderr, stdout, target_scratch, text};
use serde_json::Value;

/// A one-second timed test whose logs go to `out`.
const ONE_SECOND: [&str; 4] = ["--duration", "1s", "-o", "out"];

/// The built-in workload file with its relative paths made absolute, and
/// `edit` applied: a user's workload file outside the repository.
fn user_workload(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("workloads/fashion-mnist.toml")).unwrap();
    let abs = repo().join("workloads").canonicalize().unwrap();
    let text = text.replace("\"../", &format!("\"{}/../", abs.display()));
    let p = dir.join("my-workload.toml");
    std::fs::write(&p, edit(text)).unwrap();
    p
}

#[test]
fn reference_workload_submission_is_valid_and_passes() {
    // Run from a folder outside the repository: the built-in workload finds
    // its data and model by itself.
    let d = target_scratch("workload-run", "submission");
    let offline = ["--scenario", "Offline", "--mode", "submission"];
    let o = run_workload(&d, "fashion-mnist", &[&offline[..], &ONE_SECOND].concat());
    let sut = "fashion-cnn-v1 fashion-mnist";
    let accuracy = "top-1 91.370% (9137 of 10000)";
    let t = assert_valid_offline_submission(&o, &d.join("out"), accuracy, sut);
    assert!(t.contains(": PASS"), "{t}");
    assert!(t.contains("target_qps \"auto\""), "{t}");
    let acc = assert_file_contains(&d.join("out/accuracy.txt"), &["\nhash="]);
    assert!(
        acc.starts_with("accuracy=91.370%, good=9137, total=10000\n"),
        "{acc}"
    );
    assert!(acc.trim_end().ends_with("PASS"), "{acc}");
    // The flag overrides the workload's 10 s.
    assert_file_contains(
        &d.join("out/mlperf_log_detail.txt"),
        &["\"key\": \"effective_min_duration_ms\", \"value\": 1000"],
    );
    // The workload's settings, written beside the logs.
    let conf = d.join("out/mlperf.conf");
    assert_file_contains(&conf, &["fashion-mnist.Server.target_latency = 20"]);
}

#[test]
fn accuracy_only_defaults_and_a_failing_target() {
    let d = target_scratch("workload-run", "fail");
    // A workload claiming a better reference than the model reaches: FAIL.
    let w = user_workload(&d, |t| t.replace("reference = 0.9137", "reference = 0.99"));
    let o = run_workload(&d, path_arg(&w), &["--mode", "accuracy", "-o", "out"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("Offline / AccuracyOnly"), "{t}");
    assert!(
        t.contains("target >= 98.010% (99% of 99.000%): FAIL"),
        "{t}"
    );
    let acc = std::fs::read_to_string(d.join("out/accuracy.txt")).unwrap();
    assert!(acc.trim_end().ends_with("FAIL"), "{acc}");
}

#[test]
fn performance_mode_is_not_scored() {
    let d = target_scratch("workload-run", "perf");
    let single_stream = ["--scenario", "SingleStream", "--mode", "performance"];
    let short = [
        "--duration",
        "300ms",
        "--min-query-count",
        "100",
        "-o",
        "out",
    ];
    let o = run_workload(&d, "fashion-mnist", &[&single_stream[..], &short].concat());
    let t = text(&o);
    assert!(t.contains("SingleStream / PerformanceOnly"), "{t}");
    assert!(t.contains("accuracy                : not measured"), "{t}");
    assert!(!d.join("out/accuracy.txt").exists());
}

#[test]
fn bad_workloads_are_clear_errors() {
    let d = target_scratch("workload-run", "errors");
    let run = |w: &str| {
        let o = run_workload(&d, w, &["--mode", "accuracy", "-o", "out"]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        stderr(&o)
    };
    let e = run("imagenet");
    assert!(
        e.contains("unknown workload `imagenet`") && e.contains("fashion-mnist"),
        "{e}"
    );
    let e = run("nope.toml");
    assert!(e.contains("cannot read the workload file nope.toml"), "{e}");

    // Missing data file.
    let w = user_workload(&d, |t| {
        t.replace("t10k-labels-idx1-ubyte.gz", "missing-labels.gz")
    });
    let e = run(w.to_str().unwrap());
    assert!(
        e.contains("missing-labels.gz") && e.contains("cannot read"),
        "{e}"
    );

    // Corrupt data file: a truncated gzip stream.
    let bytes = std::fs::read(repo().join("data/fashion-mnist/t10k-images-idx3-ubyte.gz")).unwrap();
    let corrupt = d.join("corrupt-images.gz");
    std::fs::write(&corrupt, &bytes[..bytes.len() / 2]).unwrap();
    let c = corrupt.display().to_string();
    let w = user_workload(&d, |t| {
        let start = t.find("images = \"").unwrap();
        let end = start + t[start..].find('\n').unwrap();
        format!("{}images = \"{c}\"{}", &t[..start], &t[end..])
    });
    let e = run(w.to_str().unwrap());
    assert!(e.contains("corrupt-images.gz") && e.contains("gzip"), "{e}");

    // Corrupt model.
    let model = d.join("model.safetensors");
    std::fs::write(&model, b"not a safetensors file").unwrap();
    let m = model.display().to_string();
    let w = user_workload(&d, |t| {
        let start = t.find("weights = \"").unwrap();
        let end = start + t[start..].find('\n').unwrap();
        format!("{}weights = \"{m}\"{}", &t[..start], &t[end..])
    });
    let e = run(w.to_str().unwrap());
    assert!(e.contains("model.safetensors"), "{e}");

    // A scenario the workload does not define.
    let w = user_workload(&d, |t| {
        let s = t.find("[scenarios.Server]").unwrap();
        let e = t.find("[scenarios.SingleStream]").unwrap();
        format!("{}{}", &t[..s], &t[e..])
    });
    let o = run_workload(&d, path_arg(&w), &["--scenario", "Server"]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("does not define the Server scenario"), "{e}");

    // A bad setting: the error names the file, the table and the key.
    let w = user_workload(&d, |t| {
        t.replace(
            "min_duration = 10000\ntarget_qps",
            "min_durations = 10000\ntarget_qps",
        )
    });
    let e = run(w.to_str().unwrap());
    assert!(
        e.contains("my-workload.toml") && e.contains("[scenarios.Offline] min_durations"),
        "{e}"
    );
}

#[test]
fn a_sut_flag_with_a_workload_is_refused() {
    let d = target_scratch("workload-run", "sut-flag");
    let o = run_workload(&d, "fashion-mnist", &["--sut", "null", "-o", "out"]);
    let t = text(&o);
    assert_ne!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains("--sut cannot be combined with --workload"),
        "{t}"
    );
    assert!(!d.join("out").exists(), "nothing is run or written");
}

#[test]
fn target_qps_auto_re_sizes_an_offline_query_that_ends_too_short() {
    // The test-only scale makes target_qps "auto" size the Offline query
    // from a fiftieth of the measured rate (and no floor of 100 samples), so
    // the first query ends long before min_duration on any machine. The run is re-sized from the rate
    // it reached and run again (at most twice), and the short runs stay in
    // the store, marked superseded.
    let d = target_scratch("workload-run", "auto-re-size");
    let store = d.join("runs.sqlite");
    let yardstick = |args: &[&str]| {
        bin()
            .current_dir(&d)
            .env("YARDSTICK_STORE", &store)
            .args(args)
            .output()
            .expect("the binary runs")
    };
    let scale = [
        "--test-only-measured-qps-scale",
        "0.02",
        "--min-query-count",
        "1",
    ];
    let offline = [
        "run",
        "--workload",
        "fashion-mnist",
        "--scenario",
        "Offline",
    ];
    let performance = ["--mode", "performance", "--duration", "1s", "-o", "out"];
    let o = yardstick(&[&offline[..], &performance, &scale].concat());
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("validity                : VALID"), "{t}");
    let reruns = t
        .matches("its query ended before min_duration; running again")
        .count();
    assert!((1..=2).contains(&reruns), "{reruns} reruns: {t}");

    let export = yardstick(&["runs", "export", "--format", "json"]);
    let mut records: Vec<Value> =
        serde_json::from_str(&stdout(&export)).expect("runs export gives JSON");
    records.sort_by(|a, b| a["started_at"].as_str().cmp(&b["started_at"].as_str()));
    assert_eq!(records.len(), reruns + 1, "{records:#?}");
    let (last, superseded) = records.split_last().unwrap();
    for short in superseded {
        let failed: Vec<&str> = short["validity"]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["passed"] == false)
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert_eq!(failed, ["min_duration"], "{short:#}");
        assert_eq!(short["validity"]["verdict"], "INVALID", "{short:#}");
        let notes = short["notes"].to_string();
        assert!(
            notes.contains("superseded: target_qps auto re-sized the Offline query"),
            "{notes}"
        );
    }
    assert_eq!(last["validity"]["verdict"], "VALID", "{last:#}");
    // The last query was sized at twice the rate the run before it reached.
    let short = superseded.last().unwrap();
    let reached = entry(&short["metrics"], "name", "samples_per_second")["value"]
        .as_f64()
        .unwrap();
    let expected_qps = entry(&last["settings"], "key", "offline_expected_qps");
    assert_eq!(
        expected_qps["source"]["name"], "target_qps auto (re-sized from the run)",
        "{expected_qps}"
    );
    let sized: f64 = expected_qps["value"].as_str().unwrap().parse().unwrap();
    assert!(
        (sized - 2.0 * reached).abs() < 1e-6 * sized,
        "{sized} {reached}"
    );
    assert!(
        !last["notes"].to_string().contains("superseded"),
        "{last:#}"
    );
    // The run folder holds the final run.
    assert_eq!(read_json(&d.join("out/run.json"))["id"], last["id"]);
}

/// The object of the JSON array `list` whose `field` is `value`.
fn entry<'a>(list: &'a Value, field: &str, value: &str) -> &'a Value {
    list.as_array()
        .and_then(|l| l.iter().find(|e| e[field] == value))
        .unwrap_or_else(|| panic!("no {field} {value:?} in {list:#}"))
}

//! End-to-end test of `yardstick scale`: a fake benchmark (a shell command
//! that writes the run record of its GPU count, no GPU needed) over counts
//! 1 and 2, 4 skipped; the table, scale.json, the rewritten records and
//! the store's group.

use std::path::{Path, PathBuf};
use std::process::Command;

use yardstick_record::{Better, Metric, RunKind, RunRecord, RunStatus, Verdict, WorkloadInfo};

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("scale_cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn offline_record(samples_per_second: f64) -> RunRecord {
    let mut r = RunRecord::new(
        RunKind::Python,
        chrono::Utc::now(),
        WorkloadInfo {
            name: "fake".into(),
            scenario: Some("Offline".into()),
            ..Default::default()
        },
    );
    r.status = RunStatus::Completed;
    r.validity.verdict = Verdict::Valid;
    r.metrics.push(Metric::new(
        "samples_per_second",
        samples_per_second,
        "samples/s",
        Better::Higher,
    ));
    r
}

#[test]
fn a_fake_benchmark_over_one_and_two_gpus() {
    let dir = scratch("one_and_two");
    for (gpus, sps) in [(1, 1000.0), (2, 1900.0)] {
        let mut r = offline_record(sps);
        // Distinct ids: both records are created within one second.
        r.id = format!("{}-{gpus}", r.id);
        yardstick_record::write_record_to(&dir.join(format!("record-{gpus}.json")), &r).unwrap();
    }
    let store = dir.join("runs.sqlite");
    let out = Command::new(env!("CARGO_BIN_EXE_yardstick"))
        .args(["scale", "--gpus", "1,2,4", "--max-gpus", "2", "--store"])
        .arg(&store)
        .arg("-o")
        .arg(dir.join("sweep"))
        .args([
            "--",
            "sh",
            "-c",
            "mkdir -p \"$1\" && cp \"$0/record-$YARDSTICK_SCALE_GPUS.json\" \"$1/run.json\"",
        ])
        .arg(&dir)
        .arg("{dir}/logs")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        stdout.contains("skipping 4 GPUs: this machine has 2 (--max-gpus)"),
        "{all}"
    );
    assert!(
        stdout.contains("| 1 | 1 | 1000.0 | 1.000 | - | - |"),
        "{all}"
    );
    assert!(
        stdout.contains("| 2 | 1 | 1900.0 | 0.950 | - | - |"),
        "{all}"
    );

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("sweep/scale.json")).unwrap())
            .unwrap();
    assert_eq!(summary["gpus_run"], serde_json::json!([1, 2]));
    assert_eq!(summary["gpus_skipped"], serde_json::json!([4]));
    assert_eq!(
        summary["counts"][1]["offline_efficiency"],
        serde_json::json!(0.95)
    );
    let group = summary["group"].as_str().expect("a group id").to_string();

    // Each point's run.json is rewritten as a member of the sweep.
    let two = yardstick_record::read_record(&dir.join("sweep/gpus-2/logs/run.json")).unwrap();
    assert_eq!(
        two.group.as_ref().map(|g| g.id.as_str()),
        Some(group.as_str())
    );
    assert_eq!(two.extra["scale"]["gpus"], serde_json::json!(2));
    assert_eq!(
        two.extra["scale"]["visible_devices"],
        serde_json::json!("0,1")
    );

    // And the store holds the group: both points.
    let runs = Command::new(env!("CARGO_BIN_EXE_yardstick"))
        .args(["runs", "--store"])
        .arg(&store)
        .args(["export", "--format", "json"])
        .output()
        .unwrap();
    let exported: serde_json::Value = serde_json::from_slice(&runs.stdout).unwrap();
    let members = exported
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["group"]["id"] == serde_json::json!(group))
        .count();
    assert_eq!(members, 2, "{}", String::from_utf8_lossy(&runs.stderr));
}

#[test]
fn no_count_fits_and_no_command_are_errors() {
    let dir = scratch("errors");
    let out = Command::new(env!("CARGO_BIN_EXE_yardstick"))
        .args([
            "scale",
            "--gpus",
            "2,4",
            "--max-gpus",
            "1",
            "--no-store",
            "-o",
        ])
        .arg(&dir)
        .args(["--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no GPU count of --gpus 2,4 fits the 1 GPUs"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_yardstick"))
        .args(["scale", "--gpus", "1", "--max-gpus", "1", "--no-store"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give a benchmark command after `--`"));
}

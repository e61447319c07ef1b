//! End-to-end tests of `yardstick train fashion-mnist`: the built-in trainer
//! runs as a training job (`yardstick train-job`, one process per run)
//! through the same wrapper as `train -- CMD`: MLPerf Training logs, the
//! printed time-to-train against the log, compliance, the score, aborted
//! and incomplete runs, the time limit, and missing files. They train on a
//! slice of the repository's test split, so they need neither the 60k
//! training split nor more than a few seconds.

mod common;

use std::path::Path;
use std::process::Output;

use common::{bin, mllog, repo, stderr, stdout, target_scratch, text, yardstick_in};
use serde_json::Value;

fn train(dir: &Path, extra: &[&str]) -> Output {
    let data = repo().join("data/fashion-mnist");
    train_on(dir, &data.join("t10k-labels-idx1-ubyte.gz"), extra)
}

fn train_on(dir: &Path, labels: &Path, extra: &[&str]) -> Output {
    let images = repo().join("data/fashion-mnist/t10k-images-idx3-ubyte.gz");
    bin()
        .current_dir(dir)
        .args(["train", "fashion-mnist", "--train-images"])
        .arg(&images)
        .arg("--train-labels")
        .arg(labels)
        .args([
            "--train-limit",
            "1024",
            "--eval-limit",
            "500",
            "--max-epochs",
            "1",
            "--threads",
            "2",
        ])
        .args(extra)
        .output()
        .unwrap()
}

fn time_ms(log: &[Value], key: &str) -> u64 {
    log.iter().find(|l| l["key"] == key).unwrap()["time_ms"]
        .as_u64()
        .unwrap()
}

/// `time-to-train S.mmm s` of each printed run line, in ms.
fn printed_ttt(stdout: &str) -> Vec<u64> {
    stdout
        .lines()
        .filter_map(|l| l.split("time-to-train ").nth(1))
        .map(|rest| {
            let secs = rest.split(' ').next().unwrap();
            let (s, ms) = secs.split_once('.').unwrap();
            s.parse::<u64>().unwrap() * 1000 + ms.parse::<u64>().unwrap()
        })
        .collect()
}

#[test]
fn three_runs_log_mllog_and_the_olympic_score() {
    let d = target_scratch("workload-train", "runs");
    let o = train(
        &d,
        &[
            "--runs",
            "3",
            "--seed",
            "5",
            "--target",
            "0.2",
            "-o",
            "logs",
            "--save",
            "m.safetensors",
        ],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    let stdout = stdout(&o);
    let ttt = printed_ttt(&stdout);
    assert_eq!(ttt.len(), 3, "{t}");
    for (i, printed) in ttt.iter().enumerate() {
        let log = mllog(&d.join(format!("logs/result_{i}.txt")));
        // The printed time-to-train is run_stop - run_start of the log.
        assert_eq!(
            *printed,
            time_ms(&log, "run_stop") - time_ms(&log, "run_start")
        );
        let stop = log.last().unwrap();
        assert_eq!(stop["key"], "run_stop");
        assert_eq!(stop["metadata"]["status"], "success");
        let seed = log.iter().find(|l| l["key"] == "seed").unwrap();
        assert_eq!(seed["value"], 5 + i as u64);
        assert!(
            stdout.contains(&format!(
                "[run {}/3 seed {}] success: time-to-train",
                i + 1,
                5 + i
            )),
            "{t}"
        );
        assert!(d.join(format!("m-run{i}.safetensors")).is_file());
        // Every log line also went to stdout.
        let first = std::fs::read_to_string(d.join(format!("logs/result_{i}.txt"))).unwrap();
        assert!(stdout.contains(first.lines().nth(1).unwrap()));
    }
    // Each log checked against the reference workloads' rules.
    assert_eq!(
        stdout
            .matches("compliance (yardstick-reference 5.1.0 rules): PASS")
            .count(),
        3,
        "{t}"
    );
    let mut sorted = ttt.clone();
    sorted.sort();
    let line = stdout
        .lines()
        .find(|l| l.starts_with("score (3 runs, olympic mean dropping the 1 fastest and slowest)"))
        .expect(&t);
    assert!(
        line.contains(&format!("{:.3} s", sorted[1] as f64 / 1000.0)),
        "{line}"
    );
}

#[test]
fn an_unreached_target_is_aborted() {
    let d = target_scratch("workload-train", "aborted");
    let o = train(&d, &["--target", "0.999", "-o", "logs", "--quiet"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("] aborted: time-to-train"), "{t}");
    assert!(
        t.contains("compliance (yardstick-reference 5.1.0 rules): PASS"),
        "{t}"
    );
    assert!(!stdout(&o).contains(":::MLLOG"), "--quiet");
    let log = mllog(&d.join("logs/result_0.txt"));
    assert_eq!(log.last().unwrap()["metadata"]["status"], "aborted");
}

#[test]
fn missing_and_corrupt_files_are_named() {
    let d = target_scratch("workload-train", "missing");
    let o = yardstick_in(
        &d,
        &["train", "fashion-mnist", "--data-dir", "/no/such/dir"],
    );
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(
        e.contains("/no/such/dir/train-images-idx3-ubyte.gz does not exist"),
        "{e}"
    );

    // A labels file whose header is corrupt: found when the run reads it,
    // after run_start; the job fails, so the run is incomplete.
    let bad = d.join("bad-labels");
    std::fs::write(&bad, [0u8, 0, 8, 1, 0, 0, 0, 5, 1, 2]).unwrap();
    let o = train_on(&d, &bad, &["-o", "logs"]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains("bad-labels") && e.contains("truncated"), "{e}");
    assert!(
        stdout(&o)
            .contains("INCOMPLETE, not a result: the job failed after run_stop (exit status 2)"),
        "{}",
        text(&o)
    );
    let log = mllog(&d.join("logs/result_0.txt"));
    assert_eq!(log.last().unwrap()["metadata"]["status"], "aborted");
}

#[test]
fn the_builtin_trainer_is_a_job_of_the_one_wrapper() {
    let d = target_scratch("workload-train", "job");
    // The wrapper's time limit stops it like any job (one epoch takes
    // longer than 200 ms): an incomplete run.
    let o = train(
        &d,
        &[
            "--time-limit",
            "200ms",
            "-o",
            "limit",
            "--quiet",
            "--no-store",
        ],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        stdout(&o).contains("[run 1/1 seed 1] INCOMPLETE, not a result: stopped at the time limit"),
        "{t}"
    );
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("limit/result_0.run.json")).unwrap())
            .unwrap();
    assert_eq!(record["status"], "failed", "{record}");
    // The record says what ran: the trainer, as this binary's train-job.
    let sut = &record["workload"]["sut"];
    assert_eq!(sut["kind"], "training", "{sut}");
    assert_eq!(sut["params"]["seed"], "1", "{sut}");
    assert!(
        sut["params"]["command"]
            .as_str()
            .unwrap()
            .starts_with("yardstick train-job fashion-mnist"),
        "{sut}"
    );
}

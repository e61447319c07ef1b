//! End-to-end tests of `yardstick train -- CMD`: a shell job (tests/data/
//! mllog_job.sh) whose log has fixed times, so time-to-train is exactly its
//! seed in minutes; runs that end well are results with a compliance PASS
//! and a score, killed or failed jobs are incomplete runs.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{bin, read_json, stdout, target_scratch, text, yardstick};

fn job() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mllog_job.sh")
}

fn train(dir: &Path, mode: &str, flags: &[&str]) -> Output {
    bin()
        .env("MODE", mode)
        .args(["train", "--quiet", "--no-store", "-o"])
        .arg(dir)
        .args(flags)
        .arg("--")
        .arg("sh")
        .arg(job())
        .output()
        .unwrap()
}

#[test]
fn three_seeded_runs_give_times_compliance_and_the_olympic_score() {
    let dir = target_scratch("train_wrap", "three_runs");
    let out = train(&dir, "stdout", &["--seeds", "3,1,2", "--target", "0.8"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let s = stdout(&out);
    for (seed, ttt) in [(3, "180.000 s"), (1, "60.000 s"), (2, "120.000 s")] {
        assert!(
            s.contains(&format!("seed {seed}] success: time-to-train {ttt} (run_stop - run_start), best eval_accuracy 0.85 after 2 evals")),
            "{all}"
        );
    }
    assert_eq!(
        s.matches("compliance (training 5.1.0 rules): PASS").count(),
        3,
        "{all}"
    );
    // Olympic mean of 1, 2, 3 minutes dropping the fastest and slowest.
    assert!(
        s.contains("score (3 runs, olympic mean dropping the 1 fastest and slowest; retinanet submissions need 5 runs): 2.0000 min (120.000 s)"),
        "{all}"
    );
    // Progress lines: each eval against the target.
    assert!(all.contains("[run 2/3 seed 1] epoch 2: eval_accuracy 0.85 (best 0.85, target 0.8), 2.0 s since run_start"), "{all}");
    // The result file is the job's :::MLLOG lines; the record has the curve.
    let log = std::fs::read_to_string(dir.join("result_1.txt")).unwrap();
    assert_eq!(log.lines().count(), 26);
    assert!(log.lines().all(|l| l.starts_with(":::MLLOG {")));
    let record = read_json(&dir.join("result_1.run.json"));
    assert_eq!(record["kind"], "training");
    assert_eq!(record["status"], "completed");
    assert_eq!(record["validity"]["verdict"], "VALID", "{record}");
    let ttt = record["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "time_to_train")
        .unwrap();
    assert_eq!(ttt["value"], 60.0);
    let evals = record["extra"]["training"]["evals"].as_array().unwrap();
    assert_eq!(evals.len(), 2);
    assert_eq!(evals[0]["accuracy"], 0.45);
    assert_eq!(evals[1]["seconds_since_run_start"], 2.0);
    assert_eq!(record["extra"]["training"]["seed"], 1);
    assert_eq!(record["group"]["size"], 3);
    // The set's score is kept with the last run of the set, only there.
    assert!(record["extra"].get("training_set").is_none(), "{record}");
    let last = read_json(&dir.join("result_2.run.json"));
    let set = &last["extra"]["training_set"];
    assert_eq!(set["score_minutes"], 2.0, "{last}");
    assert!(
        set["how"]
            .as_str()
            .unwrap()
            .starts_with("3 runs, olympic mean dropping the 1 fastest and slowest"),
        "{set}"
    );
    // The HTML report of the set: the curve against the target, the score.
    let report = dir.join("report.html");
    let runs: Vec<String> = (0..3)
        .map(|i| {
            dir.join(format!("result_{i}.run.json"))
                .display()
                .to_string()
        })
        .collect();
    let mut args = vec!["report"];
    args.extend(runs.iter().map(String::as_str));
    args.extend(["-o", report.to_str().unwrap()]);
    let out = yardstick(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("<a href=\"#training\">Training</a>"));
    assert!(
        html.contains("score 2 min (120 s): 3 runs, olympic mean"),
        "training section"
    );
}

#[test]
fn a_log_written_to_the_env_file_is_read() {
    let dir = target_scratch("train_wrap", "file");
    let out = train(&dir, "file", &["--seed", "2"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}"); // one run: no score
    assert!(
        stdout(&out).contains("success: time-to-train 120.000 s"),
        "{all}"
    );
    assert!(
        stdout(&out).contains("mean time-to-train over 1 run(s): 2.000 min"),
        "{all}"
    );
    let record = read_json(&dir.join("result_0.run.json"));
    assert_eq!(record["extra"]["training"]["log_source"], "file");
}

#[test]
fn a_job_killed_mid_run_is_an_incomplete_run_not_a_result() {
    let dir = target_scratch("train_wrap", "exit137");
    let out = train(&dir, "exit137", &["--runs", "3"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    let s = stdout(&out);
    assert_eq!(
        s.matches("INCOMPLETE, not a result: no run_stop logged (exit status 137)")
            .count(),
        3,
        "{all}"
    );
    assert!(!s.contains("time-to-train"), "{all}");
    assert!(s.contains("score: none (3 of 3 runs incomplete"), "{all}");
    let record = read_json(&dir.join("result_0.run.json"));
    assert_eq!(record["status"], "failed");
    assert_eq!(record["validity"]["verdict"], "INVALID");
    assert!(record["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["name"] != "time_to_train"));
}

#[test]
fn the_time_limit_stops_a_hanging_job() {
    let dir = target_scratch("train_wrap", "hang");
    let started = std::time::Instant::now();
    let out = train(&dir, "hang", &["--time-limit", "1s"]);
    let all = text(&out);
    assert!(started.elapsed().as_secs() < 20, "{all}");
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        stdout(&out).contains("INCOMPLETE, not a result: stopped at the time limit"),
        "{all}"
    );
}

#[test]
fn a_job_lingering_after_run_stop_is_stopped_and_counts() {
    let dir = target_scratch("train_wrap", "linger");
    let started = std::time::Instant::now();
    let out = train(&dir, "linger", &["--stop-grace", "200ms", "--seed", "1"]);
    let all = text(&out);
    assert!(started.elapsed().as_secs() < 20, "{all}");
    assert!(
        stdout(&out).contains("success: time-to-train 60.000 s"),
        "{all}"
    );
}

#[test]
fn a_job_failing_after_run_stop_is_incomplete() {
    let dir = target_scratch("train_wrap", "fail");
    let out = train(&dir, "fail", &[]);
    let all = text(&out);
    assert!(
        stdout(&out)
            .contains("INCOMPLETE, not a result: the job failed after run_stop (exit status 3)"),
        "{all}"
    );
}

#[test]
fn energy_to_train_is_over_run_start_to_run_stop() {
    let dir = target_scratch("train_wrap", "energy");
    // A fake RAPL tree; the job adds 10 J to its counter between run_start
    // and run_stop.
    let rapl = dir.join("powercap");
    let zone = rapl.join("intel-rapl:0");
    std::fs::create_dir_all(&zone).unwrap();
    std::fs::write(zone.join("name"), "package-0\n").unwrap();
    std::fs::write(zone.join("energy_uj"), "5000000\n").unwrap();
    std::fs::write(zone.join("max_energy_range_uj"), "262143328850\n").unwrap();
    let out = bin()
        .env("MODE", "realtime")
        .env("RAPL_ENERGY_FILE", zone.join("energy_uj"))
        .args(["train", "--quiet", "--no-store", "--seed", "1", "-o"])
        .arg(&dir)
        .arg("--power")
        .arg(format!("rapl:{}", rapl.display()))
        .arg("--")
        .arg("sh")
        .arg(job())
        .output()
        .unwrap();
    let all = text(&out);
    let record = read_json(&dir.join("result_0.run.json"));
    let metric = |name: &str| {
        record["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("no {name}: {record}\n{all}"))["value"]
            .as_f64()
            .unwrap()
    };
    let ttt = metric("time_to_train");
    assert!((0.7..3.0).contains(&ttt), "{ttt}");
    let power = &record["power"];
    // The window is run_start..run_stop exactly (to the log's milliseconds).
    let window = power["window_seconds"].as_f64().unwrap();
    assert!((window - ttt).abs() < 1e-6, "{window} vs {ttt}: {power}");
    // The counter's 10 J fall inside it, and energy-to-train is their sum.
    let counter = power["counter_joules"].as_f64().unwrap();
    assert!((counter - 10.0).abs() < 1e-6, "{power}");
    // Mean watts of the ~8 samples inside the ~0.8 s window times its
    // length: the one 100 W sample that holds the 10 J counts for
    // window/samples seconds, not exactly its 0.1 s (seen: 11.06 J with 8
    // samples in 0.885 s), so within a sample's share of 10 J.
    let energy = metric("energy_to_train");
    assert!((energy - 10.0).abs() < 1.5, "{energy}: {power}");
    // MLPerf Training's power layout beside the result: power/result_0/
    // node_0.txt, power_reading lines between run_start and run_stop, from
    // which the result summarizer's formula gives the same energy.
    let node = std::fs::read_to_string(dir.join("power/result_0/node_0.txt")).unwrap();
    let result = std::fs::read_to_string(dir.join("result_0.txt")).unwrap();
    let stamp = |text: &str, key: &str| -> u64 {
        let line = text
            .lines()
            .find(|l| l.contains(&format!("\"key\": \"{key}\"")))
            .unwrap_or_else(|| panic!("no {key} in {text}"));
        let json: serde_json::Value =
            serde_json::from_str(line.split_once(":::MLLOG ").unwrap().1).unwrap();
        json["time_ms"].as_u64().unwrap()
    };
    assert_eq!(
        stamp(&node, "power_measurement_start"),
        stamp(&result, "run_start")
    );
    assert_eq!(
        stamp(&node, "power_measurement_stop"),
        stamp(&result, "run_stop")
    );
    assert!(
        node.matches("\"key\": \"power_reading\"").count() >= 3,
        "{node}"
    );
    let training_power = &record["extra"]["training_power"];
    assert_eq!(training_power["measurement_type"], "DC", "{training_power}");
    let summarizer = training_power["summarizer_joules"].as_f64().unwrap();
    assert!((summarizer - 10.0).abs() < 1.5, "{summarizer}: {node}");
    assert!(
        stdout(&out).contains("energy-to-train as the MLPerf result summarizer computes it"),
        "{all}"
    );
}

//! `yardstick endpoint --load gamma|trace|ramp` and `--slo-search` end to
//! end against `yardstick mock-server` on 127.0.0.1: the schedules reach
//! the server, every point is a run record with its arrival settings, a
//! trace's malformed lines are skipped and said, and the search finds the
//! mock's slot count.

mod common;

use std::path::Path;

use common::{bin, read_json, start_mock, stderr, stdout, temp_scratch, Mock};

fn mock(extra: &[&str]) -> Mock {
    start_mock("120s", extra)
}

/// Runs `yardstick endpoint` (no results store) and returns (code, stdout,
/// stderr).
fn endpoint(url: &str, out: &Path, extra: &[&str]) -> (i32, String, String) {
    let o = bin()
        .args([
            "endpoint",
            "--url",
            url,
            "--no-store",
            "--client-threads",
            "1",
        ])
        .arg("-o")
        .arg(out)
        .args(extra)
        .output()
        .expect("run yardstick");
    (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
}

fn setting<'a>(run: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    run["settings"]
        .as_array()?
        .iter()
        .find(|s| s["key"] == key)?["value"]
        .as_str()
}

#[test]
fn a_mooncake_trace_is_replayed_with_its_lengths_and_its_bad_lines_said() {
    let m = mock(&["--mode", "simulated", "--ttft", "0s", "--tpot", "0s"]);
    let dir = temp_scratch("ys-arrivals", "trace");
    let trace = dir.join("mc.jsonl");
    let mut text = String::new();
    let mut expected_tokens = 0u64;
    for i in 0..60u64 {
        if i == 2 {
            text.push_str("{\"timestamp\": oops}\n");
        }
        if i == 30 {
            text.push_str("{\"input_length\": 3, \"output_length\": 2}\n");
        }
        let out_len = 1 + i % 3;
        expected_tokens += out_len;
        text.push_str(&format!(
            "{{\"timestamp\": {}, \"input_length\": {}, \"output_length\": {out_len}, \"hash_ids\": [{i}]}}\n",
            i * 10,
            4 + i % 5
        ));
    }
    std::fs::write(&trace, text).unwrap();
    let out = dir.join("out");
    let (code, so, se) = endpoint(
        &m.url,
        &out,
        &[
            "--load",
            "trace",
            "--trace-file",
            trace.to_str().unwrap(),
            "--time-scale",
            "0.5",
        ],
    );
    assert_eq!(code, 0, "{so}{se}");
    // Each bad line named by file and line, and the count.
    assert!(se.contains("mc.jsonl:3: skipped: not JSON"), "{se}");
    assert!(se.contains("mc.jsonl:32: skipped: no `timestamp`"), "{se}");
    assert!(
        se.contains("2 malformed line(s) skipped, 60 requests replayed"),
        "{se}"
    );
    let summary = read_json(&out.join("trace").join("result_summary.json"));
    assert_eq!(summary["n_samples_issued"], 60, "{summary}");
    assert_eq!(summary["n_samples_failed"], 0, "{summary}");
    // The trace's output lengths were the requests' max_tokens.
    assert_eq!(summary["total_output_tokens"], expected_tokens, "{summary}");
    // 60 requests 10 ms apart, time-scaled by 0.5: 200/s.
    let target = summary["open_loop"]["target_rate"].as_f64().unwrap();
    assert!((target - 200.0).abs() < 1e-6, "{target}");
    let run = read_json(&out.join("trace").join("run.json"));
    assert_eq!(setting(&run, "endpoint.trace_skipped_lines"), Some("2"));
    assert_eq!(setting(&run, "endpoint.time_scale"), Some("0.5"));
    assert_eq!(setting(&run, "endpoint.arrival"), Some("trace"));
    let notes = run["notes"].to_string();
    assert!(notes.contains("2 malformed line(s) skipped"), "{notes}");
    assert!(notes.contains("mc.jsonl:32"), "{notes}");

    // No valid line at all: an error naming the file and the first reason.
    std::fs::write(dir.join("bad.jsonl"), "nope\n\n{\"timestamp\": -1}\n").unwrap();
    let (code, so, se) = endpoint(
        &m.url,
        &dir.join("out-bad"),
        &[
            "--load",
            "trace",
            "--trace-file",
            dir.join("bad.jsonl").to_str().unwrap(),
        ],
    );
    assert_ne!(code, 0, "{so}");
    assert!(
        se.contains(
            "bad.jsonl has no valid request line (2 line(s) skipped; first: line 1: not JSON"
        ),
        "{se}"
    );
}

#[test]
fn gamma_and_ramp_points_record_their_arrivals() {
    let m = mock(&["--mode", "max-throughput"]);
    let dir = temp_scratch("ys-arrivals", "gamma");
    let (code, so, se) = endpoint(
        &m.url,
        &dir,
        &[
            "--load",
            "gamma",
            "--rate",
            "400",
            "--burstiness",
            "0.5",
            "--requests",
            "200",
            "--seed",
            "7",
        ],
    );
    assert_eq!(code, 0, "{so}{se}");
    let run = read_json(&dir.join("gamma-400-b0.5").join("run.json"));
    assert_eq!(setting(&run, "endpoint.arrival_seed"), Some("7"));
    assert_eq!(setting(&run, "endpoint.burstiness"), Some("0.5"));
    assert_eq!(setting(&run, "endpoint.arrival"), Some("gamma"));
    let summary = read_json(&dir.join("gamma-400-b0.5").join("result_summary.json"));
    assert_eq!(summary["n_samples_issued"], 200);
    assert_eq!(summary["open_loop"]["arrival"], "gamma");

    let dir = temp_scratch("ys-arrivals", "ramp");
    let (code, so, se) = endpoint(
        &m.url,
        &dir,
        &["--load", "ramp", "--ramp", "50:1s,200:500ms"],
    );
    assert_eq!(code, 0, "{so}{se}");
    let summary = read_json(&dir.join("ramp").join("result_summary.json"));
    assert_eq!(summary["n_samples_issued"], 150, "{summary}");
    let run = read_json(&dir.join("ramp").join("run.json"));
    assert_eq!(setting(&run, "endpoint.ramp"), Some("50:1s,200:500ms"));

    let (code, _, se) = endpoint(&m.url, &dir, &["--load", "ramp", "--ramp", "50:1y"]);
    assert_ne!(code, 0);
    assert!(
        se.contains("--ramp stage 1 `50:1y`: `1y`: unknown unit"),
        "{se}"
    );
}

/// Three slots of 40 ms + 2 x 10 ms: up to 3 users see a 40 ms TTFT; a
/// 4th makes a quarter of the requests wait a whole service time, past the
/// 75 ms bound. The search doubles 1, 2, 4 (fails), then bisects to 3.
#[test]
fn slo_search_finds_the_mock_slot_count() {
    let m = mock(&[
        "--mode",
        "simulated",
        "--ttft",
        "40ms",
        "--tpot",
        "10ms",
        "--output-tokens",
        "3",
        "--max-concurrency",
        "3",
    ]);
    let dir = temp_scratch("ys-arrivals", "slo");
    let (code, so, se) = endpoint(
        &m.url,
        &dir,
        &[
            "--slo-search",
            "concurrency",
            "--slo-ttft",
            "75ms",
            "--slo-attainment",
            "0.95",
            "--requests",
            "40",
            "--output-tokens",
            "3",
        ],
    );
    assert_eq!(code, 0, "{so}{se}");
    assert!(
        so.contains(
            "SLO search: 3.000 concurrent requests is the highest that met the SLOs; 4.000 did not"
        ),
        "{so}"
    );
    for (i, c, verdict) in [
        (0, 1, "PASS"),
        (1, 2, "PASS"),
        (2, 4, "FAIL"),
        (3, 3, "PASS"),
    ] {
        let line = format!("trial {i} (trial{i:02}-c{c}):");
        let found = so.lines().find(|l| l.contains(&line));
        assert!(
            found.is_some_and(|l| l.ends_with(verdict)),
            "{line} {verdict}: {so}"
        );
        let run = read_json(&dir.join(format!("trial{i:02}-c{c}")).join("run.json"));
        assert_eq!(run["group"]["kind"], "find_peak", "{}", run["group"]);
        assert_eq!(run["group"]["index"], i);
        assert_eq!(setting(&run, "endpoint.slo_search"), Some("concurrency"));
    }
}

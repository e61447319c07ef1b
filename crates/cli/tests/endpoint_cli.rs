//! `yardstick mock-server`, `probe` and `endpoint` end to end, over
//! 127.0.0.1 only, each bounded in time. Every run writes one folder per
//! point (`c4/`, `poisson-200/`, `offline/`, ...) and the index
//! (`sweep.json`, `pareto.csv`) at the top, a single point included.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{bin, read_json, start_mock, stderr, stdout, temp_scratch, Mock};

fn mock(extra: &[&str]) -> Mock {
    start_mock("60s", extra)
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run yardstick");
    (out.status.code().unwrap_or(-1), stdout(&out), stderr(&out))
}

/// `<dir>/result_summary.json`, parsed.
fn result_summary(dir: &Path) -> serde_json::Value {
    read_json(&dir.join("result_summary.json"))
}

#[test]
fn probe_reports_what_the_mock_serves() {
    let m = mock(&[]);
    let (code, out, err) = run(bin().args(["probe", "--url", &m.url, "--timeout", "5s"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("chat+stream"), "{out}");
    assert!(out.contains("role-only"), "{out}");
    assert!(out.contains("4 concurrent streams"), "{out}");
    assert!(out.contains("yardstick_mock_requests_running"), "{out}");
    assert!(!out.contains("FAIL"), "{out}");
    let (code, out, _) = run(bin().args(["probe", "--url", &m.url, "--json"]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["models"][0], "mock");
}

#[test]
fn probe_fails_a_server_that_aborts_concurrent_streams() {
    let m = mock(&["--mode", "simulated", "--ttft", "30ms", "--abort-streams"]);
    let (code, out, err) = run(bin().args(["probe", "--url", &m.url, "--timeout", "5s"]));
    assert_eq!(code, 1, "{out}{err}");
    let line = out
        .lines()
        .find(|l| l.contains("concurrent streams"))
        .unwrap_or_default();
    assert!(line.contains("[FAIL]") && line.contains("aborted"), "{out}");
    // The health routes the mock serves are fine; sequential requests too.
    assert!(out.contains("chat+stream"), "{out}");
}

#[test]
fn aborted_streams_fail_the_point_loudly() {
    let m = mock(&[
        "--mode",
        "simulated",
        "--ttft",
        "20ms",
        "--tpot",
        "2ms",
        "--abort-streams",
    ]);
    let dir = temp_scratch("ys-ep-cli", "aborted");
    let (code, out, err) = run(bin().args([
        "endpoint",
        "--url",
        &m.url,
        "--concurrency",
        "1,4",
        "--requests",
        "24",
        "--output-tokens",
        "8",
        "-o",
        dir.to_str().unwrap_or_default(),
    ]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("MOST REQUESTS FAILED"), "{err}");
    let c1 = result_summary(&dir.join("c1"));
    assert_eq!(c1["n_samples_failed"], 0, "{c1}");
    let c4 = result_summary(&dir.join("c4"));
    assert_eq!(c4["most_requests_failed"], true, "{c4}");
    assert!(
        c4["errors"]["empty_stream"]
            .as_u64()
            .is_some_and(|n| n > 12),
        "{c4}"
    );
    // Each failed request carries its reason.
    let jsonl = std::fs::read_to_string(dir.join("c4/requests.jsonl")).expect("jsonl");
    assert!(jsonl.contains("\"kind\":\"empty_stream\""), "{jsonl}");
    let index = read_json(&dir.join("sweep.json"));
    assert_eq!(index[1]["dir"], "c4");
    assert_eq!(index[1]["pareto"], false);
    assert_eq!(index[1]["excluded"], true);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn requests_bounds_every_load() {
    let m = mock(&["--mode", "max-throughput"]);
    let dir = temp_scratch("ys-ep-cli", "requests");
    let cases: [(&[&str], &str, u64); 4] = [
        (&["--load", "constant", "--rate", "200"], "constant-200", 30),
        (&["--load", "poisson", "--rate", "200"], "poisson-200", 40),
        (
            &["--load", "scenario", "--scenario", "SingleStream"],
            "singlestream",
            15,
        ),
        (
            &["--load", "scenario", "--scenario", "Offline"],
            "offline",
            25,
        ),
    ];
    for (load, label, n) in cases {
        let out_dir = dir.join(label);
        let n_text = n.to_string();
        let (code, out, err) = run(bin()
            .args(["endpoint", "--url", &m.url, "--requests", &n_text, "-o"])
            .arg(&out_dir)
            .args(load));
        assert!(code == 0 || code == 1, "{label}: {out}{err}");
        let s = result_summary(&out_dir.join(label));
        assert_eq!(s["n_samples_issued"], n, "{label}: {s}");
        assert_eq!(s["n_samples_failed"], 0, "{label}: {s}");
    }
    // With --duration, whichever comes first: here the duration.
    let out_dir = dir.join("both");
    let (code, out, err) = run(bin()
        .args([
            "endpoint", "--url", &m.url, "--load", "poisson", "--rate", "20",
        ])
        .args(["--requests", "1000", "--duration", "1s", "-o"])
        .arg(&out_dir));
    assert!(code == 0 || code == 1, "{out}{err}");
    let issued = result_summary(&out_dir.join("poisson-20"))["n_samples_issued"]
        .as_u64()
        .unwrap_or(0);
    assert!((1..200).contains(&issued), "{issued} issued in 1 s at 20/s");
    // Where it cannot apply, it is refused, not ignored.
    let (code, _, err) = run(bin()
        .args([
            "endpoint",
            "--url",
            &m.url,
            "--load",
            "scenario",
            "--scenario",
            "Offline",
            "--mode",
            "accuracy",
            "--requests",
            "5",
            "-o",
        ])
        .arg(dir.join("refused")));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--requests does not apply"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn min_tokens_and_usage_flags() {
    // The echo server answers the prompt cut to max_tokens (8 words) and
    // ignores min_tokens.
    let m = mock(&["--no-usage"]);
    let dir = temp_scratch("ys-ep-cli", "min-tokens");
    let (code, out, err) = run(bin().args([
        "endpoint",
        "--url",
        &m.url,
        "--requests",
        "6",
        "--output-tokens",
        "8",
        "--min-tokens",
        "12",
        "-o",
        dir.to_str().unwrap_or_default(),
    ]));
    assert_eq!(code, 1, "{out}{err}");
    let s = result_summary(&dir.join("c1"));
    assert_eq!(s["errors"]["too_few_tokens"], 6, "{s}");
    assert_eq!(s["usage_mode"], "prefer");
    // --usage tokenizer needs a tokenizer.
    let (code, _, err) = run(bin()
        .args([
            "endpoint",
            "--url",
            &m.url,
            "--usage",
            "tokenizer",
            "--requests",
            "1",
            "-o",
        ])
        .arg(dir.join("refused")));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("needs --tokenizer"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn concurrency_sweep_writes_points_and_pareto() {
    let m = mock(&["--mode", "simulated", "--ttft", "5ms", "--tpot", "1ms"]);
    let dir = temp_scratch("ys-ep-cli", "sweep");
    let (code, out, err) = run(bin().args([
        "endpoint",
        "--url",
        &m.url,
        "--concurrency",
        "1,4",
        "--requests",
        "16",
        "--output-tokens",
        "8",
        "-o",
        dir.to_str().unwrap_or_default(),
    ]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Pareto front"), "{out}");
    for c in ["c1", "c4"] {
        let s = result_summary(&dir.join(c));
        assert_eq!(s["n_samples_issued"], 16);
        assert_eq!(s["n_samples_failed"], 0);
        assert!(s["tps_per_user"].as_f64().is_some_and(|v| v > 0.0), "{s}");
        assert!(dir.join(c).join("requests.jsonl").exists());
        assert!(dir.join(c).join("requests.csv").exists());
    }
    assert!(dir.join("sweep.json").exists());
    assert!(dir.join("pareto.csv").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn poisson_runs_through_the_core_and_writes_mlperf_logs() {
    let m = mock(&["--mode", "max-throughput"]);
    let dir = temp_scratch("ys-ep-cli", "poisson");
    let (code, out, err) = run(bin().args([
        "endpoint",
        "--url",
        &m.url,
        "--load",
        "poisson",
        "--rate",
        "200",
        "--duration",
        "1s",
        "-o",
        dir.to_str().unwrap_or_default(),
    ]));
    // ~200 queries, every one far under the latency bounds, yet INVALID by
    // LoadGen's rules: Server early stopping at the 99th percentile with 99%
    // confidence needs at least 459 queries. INVALID exits 1.
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("open loop:"), "{out}");
    let point = dir.join("poisson-200");
    let summary = std::fs::read_to_string(point.join("mlperf_log_summary.txt")).expect("summary");
    assert!(summary.contains("Server"), "{summary}");
    assert!(summary.contains("Result is : INVALID"), "{summary}");
    assert!(summary.contains(" * Run unsuccessful."), "{summary}");
    assert!(point.join("mlperf_log_detail.txt").exists());
    assert!(dir.join("sweep.json").exists());
    let s = result_summary(&point);
    assert_eq!(s["load_pattern"], "poisson");
    assert_eq!(s["n_samples_failed"], 0);
    assert!(s["open_loop"]["delivered_rate"].as_f64().is_some());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn failures_are_counted_and_set_the_exit_code() {
    let m = mock(&["--fault", "http500", "--fault-every", "5"]);
    let dir = temp_scratch("ys-ep-cli", "faults");
    let (code, out, err) = run(bin().args([
        "endpoint",
        "--url",
        &m.url,
        "--concurrency",
        "2",
        "--requests",
        "20",
        "-o",
        dir.to_str().unwrap_or_default(),
    ]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("4 of 20 requests failed"), "{err}");
    // A single point has the layout of a sweep of one.
    let s = result_summary(&dir.join("c2"));
    assert!(dir.join("sweep.json").exists() && dir.join("pareto.csv").exists());
    assert_eq!(s["errors"]["http_500"], 4);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = Duration::from_secs(0);
}

#[test]
fn https_with_a_private_ca_and_a_clear_error_without_it() {
    let dir = temp_scratch("ys-ep-cli", "https");
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).expect("certificate");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let m = mock(&[
        "--mode",
        "simulated",
        "--ttft",
        "2ms",
        "--tpot",
        "1ms",
        "--tls-cert",
        cert,
        "--tls-key",
        key,
    ]);
    assert!(m.url.starts_with("https://"), "{}", m.url);

    let (code, out, err) = run(bin().args(["probe", "--url", &m.url, "--ca-cert", cert]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("chat+stream"), "{out}");

    let ok_dir = dir.join("trusted");
    let (code, out, err) = run(bin().args([
        "endpoint",
        "--url",
        &m.url,
        "--ca-cert",
        cert,
        "--concurrency",
        "2",
        "--requests",
        "8",
        "--output-tokens",
        "4",
        "-o",
        ok_dir.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let s = result_summary(&ok_dir.join("c2"));
    assert_eq!(s["n_samples_completed"], 8);
    assert_eq!(s["n_samples_failed"], 0);

    // Without the CA: every request is a counted failure that says why.
    let bad_dir = dir.join("untrusted");
    let (code, out, err) = run(bin().args([
        "endpoint",
        "--url",
        &m.url,
        "--served-model",
        "mock",
        "--concurrency",
        "2",
        "--requests",
        "4",
        "-o",
        bad_dir.to_str().unwrap(),
    ]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("UnknownIssuer") && err.contains("--ca-cert"),
        "{err}"
    );
    assert_eq!(result_summary(&bad_dir.join("c2"))["n_samples_failed"], 4);
    let _ = std::fs::remove_dir_all(&dir);
}

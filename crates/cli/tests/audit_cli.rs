//! `yardstick audit`: the compliance tests end to end through the binary,
//! an honest SUT passing each and a cheating one failing it.

mod common;

use std::path::Path;
use std::sync::Mutex;

use common::{start_mock, target_scratch, text, yardstick};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The audits time their runs: one at a time, so that they do not slow
/// each other down.
static TIMED: Mutex<()> = Mutex::new(());

/// `yardstick audit <test> -o <out> -- <command>`.
fn audit(test: &str, out: &Path, command: &[&str]) -> std::process::Output {
    let out_arg = out.display().to_string();
    let mut args = vec!["audit", test, "-o", &out_arg, "--"];
    args.extend_from_slice(command);
    let _one_at_a_time = TIMED.lock().unwrap_or_else(|e| e.into_inner());
    yardstick(&args)
}

/// A sleep SUT in Offline: 3200 samples over a library of 1024, so a
/// performance run repeats samples (what the faults act on). 5 ms per
/// sample on 16 workers: a run lasts about 1 s, long enough for TEST01's
/// 10% performance band to hold on a loaded machine.
const OFFLINE: &[&str] = &[
    "run",
    "--sut",
    "sleep",
    "--service-time",
    "5ms",
    "--workers",
    "16",
    "--scenario",
    "Offline",
    "--min-query-count",
    "3200",
    "--duration",
    "0s",
    "--total-samples",
    "1024",
    "--performance-samples",
    "1024",
    "--no-record",
];

/// A sleep SUT in SingleStream, 300 queries of 1 ms.
const SINGLE_STREAM: &[&str] = &[
    "run",
    "--sut",
    "sleep",
    "--service-time",
    "1ms",
    "--scenario",
    "SingleStream",
    "--min-query-count",
    "300",
    "--duration",
    "0s",
    "--total-samples",
    "1024",
    "--performance-samples",
    "1024",
    "--no-record",
];

fn with_fault<'a>(base: &[&'a str], fault: &'a str) -> Vec<&'a str> {
    let mut v = base.to_vec();
    v.extend_from_slice(&["--fault", fault]);
    v
}

#[test]
fn test01_passes_an_honest_sut_in_the_official_layout() {
    let out = target_scratch("audit", "test01_pass");
    let o = audit("TEST01", &out, OFFLINE);
    assert!(o.status.success(), "{}", text(&o));
    let dir = out.join("compliance/TEST01");
    let accuracy = read(&dir.join("verify_accuracy.txt"));
    assert!(
        accuracy.contains("num_acc_log_entries = 1024\n"),
        "{accuracy}"
    );
    // Every sample the compliance run logged (all 3200) is checked.
    assert!(
        accuracy.contains("num_perf_log_qsl_idx_match = 3200\nnum_perf_log_data_mismatch = 0\n"),
        "{accuracy}"
    );
    assert!(accuracy.ends_with("TEST PASS\n\n"), "{accuracy}");
    let performance = read(&dir.join("verify_performance.txt"));
    assert!(performance.ends_with("TEST PASS\n"), "{performance}");
    assert!(performance.contains("Reference score = "), "{performance}");
    for f in [
        "accuracy/mlperf_log_accuracy.json",
        "performance/run_1/mlperf_log_summary.txt",
        "performance/run_1/mlperf_log_detail.txt",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    // The compliance run read the official audit.config, last.
    let detail = read(&out.join("audit/TEST01/mlperf_log_detail.txt"));
    assert!(
        detail.contains(r#""key": "effective_accuracy_log_rng_seed", "value": 720381539243781796"#),
        "the audit.config was not applied"
    );
    assert!(detail.contains(r#""key": "effective_accuracy_log_sampling_target", "value": 4096"#));
    // The reference runs read none.
    let reference = read(&out.join("results/performance/run_1/mlperf_log_detail.txt"));
    assert!(reference.contains(r#""key": "effective_accuracy_log_sampling_target", "value": 0"#));
}

#[test]
fn test01_fails_a_sut_that_answers_differently_in_performance_mode() {
    let out = target_scratch("audit", "test01_wrong");
    let o = audit("TEST01", &out, &with_fault(OFFLINE, "wrong-repeat"));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let accuracy = read(&out.join("compliance/TEST01/verify_accuracy.txt"));
    assert!(accuracy.ends_with("TEST FAIL\n\n"), "{accuracy}");
    assert!(
        !accuracy.contains("num_perf_log_data_mismatch = 0\n"),
        "{accuracy}"
    );
    assert!(text(&o).contains("TEST01 accuracy            : FAIL"));
}

#[test]
fn test04_passes_an_honest_sut_and_fails_a_caching_one() {
    let out = target_scratch("audit", "test04_pass");
    let o = audit("TEST04", &out, SINGLE_STREAM);
    assert!(o.status.success(), "{}", text(&o));
    let verdict = read(&out.join("compliance/TEST04/verify_performance.txt"));
    assert!(verdict.starts_with("Verifying performance.\nreference score = "));
    assert!(verdict.ends_with("TEST PASS\n"), "{verdict}");
    assert!(out
        .join("compliance/TEST04/performance/run_1/mlperf_log_summary.txt")
        .is_file());
    // The compliance run issued one sample over and over.
    let detail = read(&out.join("audit/TEST04/mlperf_log_detail.txt"));
    assert!(detail.contains(r#""key": "effective_performance_issue_same", "value": true"#));

    let out = target_scratch("audit", "test04_cache");
    let o = audit("TEST04", &out, &with_fault(SINGLE_STREAM, "cache"));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let verdict = read(&out.join("compliance/TEST04/verify_performance.txt"));
    assert!(
        verdict.ends_with("TEST FAIL: Test score invalid\n"),
        "{verdict}"
    );
}

/// TEST06 against the mock server's token stream (text answers).
fn test06_against(out: &Path, mock_flags: &[&str]) -> (std::process::Output, String) {
    let mock = start_mock(
        "60s",
        &[
            &["--mode", "simulated", "--ttft", "1ms", "--tpot", "1ms"],
            mock_flags,
        ]
        .concat(),
    );
    let o = audit(
        "TEST06",
        out,
        &[
            "endpoint",
            "--url",
            &mock.url,
            "--load",
            "scenario",
            "--scenario",
            "Server",
            "--target-qps",
            "200",
            "--token-latencies",
            "--synthetic",
            "64",
            "--input-tokens",
            "8",
            "--output-tokens",
            "8",
            "--server-metrics",
            "off",
            "--no-record",
        ],
    );
    let verdict = std::fs::read_to_string(out.join("compliance/TEST06/verify_accuracy.txt"))
        .unwrap_or_default();
    (o, verdict)
}

#[test]
fn test06_passes_the_mock_servers_stream_and_fails_its_faults() {
    let out = target_scratch("audit", "test06_pass");
    let (o, verdict) = test06_against(&out, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        verdict,
        "First token check pass: True\nEOS check pass: True\nSample length check pass: True\nTEST06 verification complete\n"
    );
    // TEST06's audit.config: 100 queries, every answer logged.
    let log = read(&out.join("compliance/TEST06/accuracy/mlperf_log_accuracy.json"));
    assert_eq!(log.matches("\"token_data\"").count(), 100, "{log}");

    // A server that claims more tokens than it sent.
    let out = target_scratch("audit", "test06_usage");
    let (o, verdict) = test06_against(&out, &["--usage-offset", "1000"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        verdict.contains("Sample length check pass: False\n"),
        "{verdict}"
    );
    assert!(verdict.ends_with("TEST06 verification failed\n"));

    // A first token (reasoning) that is not the answer's first token.
    let out = target_scratch("audit", "test06_first");
    let (o, verdict) = test06_against(&out, &["--reasoning-tokens", "2"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        verdict.starts_with("First token check pass: False\n"),
        "{verdict}"
    );
}

#[test]
fn verify_only_and_print_config() {
    let o = yardstick(&["audit", "TEST01", "--print-config", "--model", "retinanet"]);
    assert!(o.status.success(), "{}", text(&o));
    let config = common::stdout(&o);
    assert!(
        config.contains("*.*.accuracy_log_sampling_target = 256\n"),
        "{config}"
    );
    // Verifying logs made elsewhere needs them named.
    let o = yardstick(&["audit", "TEST04"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--compliance-dir"), "{}", text(&o));
}

/// TEST09 against the null SUT, whose every answer is one 4-byte token:
/// the official gpt-oss-120b audit.config with 200 queries and bounds
/// around 1 token passes; bounds it falls short of fail (what a SUT that
/// shortens its answers gets); a benchmark without bounds is refused.
#[test]
fn test09_holds_the_mean_output_length_to_the_bounds() {
    let out = target_scratch("audit", "test09");
    let null_offline = ["run", "--sut", "null", "--scenario", "Offline"];
    let o = audit("TEST09", &out.join("no-bounds"), &null_offline);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("test09_min_output_tokens"),
        "{}",
        text(&o)
    );

    let official = yardstick(&[
        "audit",
        "TEST09",
        "--print-config",
        "--model",
        "gpt-oss-120b",
    ]);
    let official = String::from_utf8_lossy(&official.stdout).into_owned();
    assert!(
        official.contains("*.*.test09_min_output_tokens = 1150.38\n"),
        "{official}"
    );
    assert!(
        official.contains("*.*.accuracy_log_sampling_target = 10000\n"),
        "{official}"
    );
    let config = |min: &str, max: &str| {
        let path = out.join(format!("audit-{min}-{max}.config"));
        let text = official
            .replace("*.*.min_query_count = 6396", "*.*.min_query_count = 200")
            .replace("= 1150.38", &format!("= {min}"))
            .replace("= 1406.02", &format!("= {max}"));
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let run = |dir: &str, config: String| {
        let dir = out.join(dir);
        let dir_arg = dir.display().to_string();
        let mut args = vec![
            "audit",
            "TEST09",
            "--audit-config",
            &config,
            "-o",
            &dir_arg,
            "--",
        ];
        args.extend_from_slice(&null_offline);
        (yardstick(&args), dir.join("compliance/TEST09"))
    };

    let (o, dir) = run("pass", config("0.5", "1.5"));
    assert!(o.status.success(), "{}", text(&o));
    let verdict = read(&dir.join("verify_output_len.txt"));
    assert!(
        verdict.contains("Mean output tokens: 1.00\nMin output tokens: 1\nMax output tokens: 1\n"),
        "{verdict}"
    );
    assert!(
        verdict.contains("Min threshold: 0.5\nMax threshold: 1.5\n"),
        "{verdict}"
    );
    assert!(verdict.ends_with("\nTEST PASS\n"), "{verdict}");
    // Every answer of the compliance run was logged and counted.
    let samples: usize = verdict
        .lines()
        .find_map(|l| l.strip_prefix("Total samples: "))
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(samples >= 200, "{verdict}");
    for f in [
        "accuracy/mlperf_log_accuracy.json",
        "performance/run_1/mlperf_log_summary.txt",
        "performance/run_1/mlperf_log_detail.txt",
    ] {
        assert!(dir.join(f).is_file(), "{f}");
    }

    let (o, dir) = run("short", config("2", "3"));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let verdict = read(&dir.join("verify_output_len.txt"));
    assert!(
        verdict.contains("Min check pass: False\nMax check pass: True\n"),
        "{verdict}"
    );
    assert!(verdict.ends_with("\nTEST FAIL\n"), "{verdict}");
}

//! Ctrl-C and SIGTERM during `yardstick run`: the first signal stops the
//! test and still leaves a summary that says INVALID and why, a detail log
//! and a record marked interrupted, with a non-zero exit status; a second
//! signal quits at once (status 130) with the logs written so far.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// When the signal is sent, after the run has started.
const INTO_THE_RUN: Duration = Duration::from_secs(3);
/// A stopped 20 s run must end well before it would have: the bound is
/// loose for a loaded two-core machine, and still far below 20 s.
const PROMPT: Duration = Duration::from_secs(12);

fn scratch(name: &str) -> PathBuf {
    common::temp_scratch("yardstick-interrupt", name)
}

/// Starts `yardstick run` of a 20 s Server test into `out`, and returns
/// once the run has begun (its detail log exists: the signal handlers are
/// armed before the logs are opened), at least `INTO_THE_RUN` after the
/// start.
fn start_run(out: &Path, service_time: &str) -> Child {
    let started = Instant::now();
    let child = common::bin()
        .args([
            "run",
            "--sut",
            "sleep",
            "--service-time",
            service_time,
            "--scenario",
            "Server",
            "--target-qps",
            "500",
            "--duration",
            "20s",
            "--output",
        ])
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let detail = out.join("mlperf_log_detail.txt");
    while !detail.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the run never opened its logs"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    if let Some(rest) = INTO_THE_RUN.checked_sub(started.elapsed()) {
        std::thread::sleep(rest);
    }
    child
}

fn send(child: &Child, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).expect("a pid fits pid_t");
    // SAFETY: kill has no memory effects; the pid is our own live child.
    let rc = unsafe { libc::kill(pid, signal) };
    assert_eq!(rc, 0, "kill({pid}, {signal}) failed");
}

/// Waits for the child to exit, at most `limit`; kills it and fails if not.
fn wait_within(mut child: Child, limit: Duration) -> (ExitStatus, String, String) {
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            let output = child.wait_with_output().expect("output");
            return (
                status,
                String::from_utf8_lossy(&output.stdout).into_owned(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            );
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().expect("output");
            panic!(
                "still running {limit:?} after the signal\n--- stdout ---\n{}\n--- stderr ---\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// One signal: the run stops, and everything a finished run leaves is there.
fn stops_gracefully_on(signal: libc::c_int, name: &str) {
    let out = scratch(name);
    let child = start_run(&out, "1ms");
    send(&child, signal);
    let (status, stdout, stderr) = wait_within(child, PROMPT);
    let context = format!("--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}");

    // Exited by itself (not killed by the signal), with a failure status.
    let code = status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal: {status}\n{context}"));
    assert_ne!(code, 0, "{context}");
    assert!(
        stderr.contains(
            "stopping: finishing outstanding queries; press Ctrl-C again to quit at once"
        ),
        "{context}"
    );

    let summary = read(&out.join("mlperf_log_summary.txt"));
    assert!(summary.contains("Result is : INVALID\n"), "{summary}");
    let reason_line = summary
        .lines()
        .find(|l| l.starts_with(" * interrupted at "))
        .unwrap_or_else(|| panic!("no interruption reason in the summary:\n{summary}"));
    assert!(reason_line.ends_with(" queries issued"), "{reason_line}");
    // About 3 s of 500 queries per second out of a 20 s plan: N of M with
    // 0 < N < M.
    let (issued, planned) = reason_line
        .rsplit_once(", ")
        .and_then(|(_, counts)| counts.strip_suffix(" queries issued"))
        .and_then(|counts| counts.split_once(" of "))
        .map(|(n, m)| (n.parse::<u64>().unwrap(), m.parse::<u64>().unwrap()))
        .unwrap_or_else(|| panic!("unexpected reason: {reason_line}"));
    assert!(issued > 0 && issued < planned, "{reason_line}");
    assert!(planned >= 9_000, "a 20 s plan at 500 qps: {reason_line}");

    let detail = read(&out.join("mlperf_log_detail.txt"));
    assert!(detail.lines().count() > 10, "{detail}");
    let error_line = detail
        .lines()
        .find(|l| l.contains("\"error_runtime\"") && l.contains("interrupted at "))
        .unwrap_or_else(|| panic!("no error event for the interruption:\n{detail}"));
    assert!(error_line.starts_with(":::MLLOG {"), "{error_line}");
    assert!(
        detail.contains("\"key\": \"result_validity\", \"value\": \"INVALID\""),
        "{detail}"
    );

    // The run's record keeps what it measured, marked interrupted.
    let record: serde_json::Value =
        serde_json::from_str(&read(&out.join("run.json"))).expect("run.json is JSON");
    assert_eq!(record["status"], "interrupted", "{record:#}");
    let reason = record["interruption"]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.starts_with("interrupted at "), "{record:#}");
}

#[test]
fn sigint_stops_the_run_and_keeps_what_it_did() {
    stops_gracefully_on(libc::SIGINT, "sigint");
}

#[test]
fn sigterm_stops_the_run_and_keeps_what_it_did() {
    stops_gracefully_on(libc::SIGTERM, "sigterm");
}

#[test]
fn a_second_sigint_quits_at_once() {
    // Every sample takes 60 s: after the first signal the run would wait
    // its whole drain timeout (10 s) for them; the second cuts that short.
    let out = scratch("double");
    let child = start_run(&out, "60s");
    send(&child, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(500));
    let second = Instant::now();
    send(&child, libc::SIGINT);
    let (status, stdout, stderr) = wait_within(child, Duration::from_secs(8));
    let context = format!("--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}");
    assert_eq!(status.code(), Some(130), "{context}");
    assert!(
        second.elapsed() < Duration::from_secs(5),
        "took {:?} after the second signal\n{context}",
        second.elapsed()
    );
    // What was written so far is on disk: the header and settings at least.
    let detail = read(&out.join("mlperf_log_detail.txt"));
    assert!(
        detail.contains("\"key\": \"effective_scenario\""),
        "{detail}"
    );
}

#[test]
fn an_endpoint_sweep_interrupted_in_its_second_point_keeps_the_first() {
    // Three closed-loop points of 3 s each; the signal lands in the second.
    // The sweep finishes that point, stops before the third, and keeps the
    // records and files of the points it finished.
    let mock = common::start_mock(
        "60s",
        &["--mode", "simulated", "--ttft", "2ms", "--tpot", "1ms"],
    );
    let out = scratch("sweep");
    let started = Instant::now();
    let child = common::bin()
        .args([
            "endpoint",
            "--url",
            &mock.url,
            "--concurrency",
            "1,2,4",
            "--duration",
            "3s",
            "--input-tokens",
            "16",
            "--output-tokens",
            "8",
            "--output",
        ])
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    // The first point's record marks its end; the signal follows a moment
    // later, inside the second point.
    let first = out.join("c1").join("run.json");
    while !first.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the first point never finished"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    send(&child, libc::SIGINT);
    let (status, stdout, stderr) = wait_within(child, Duration::from_secs(30));
    let context = format!("--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}");
    assert_ne!(status.code(), Some(0), "{context}");
    assert!(stderr.contains("interrupted"), "{context}");
    for point in ["c1", "c2"] {
        let record: serde_json::Value =
            serde_json::from_str(&read(&out.join(point).join("run.json"))).expect("run.json");
        assert_eq!(record["status"], "completed", "{point}: {record}");
        assert!(out.join(point).join("requests.jsonl").exists(), "{point}");
    }
    assert!(
        !out.join("c4").exists(),
        "the sweep went on past the signal\n{context}"
    );
    let sweep = read(&out.join("sweep.json"));
    assert!(sweep.contains("c1") && sweep.contains("c2"), "{sweep}");
}

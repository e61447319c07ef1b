//! `yardstick power-sim director` and `yardstick run --power director://`:
//! a ranging run then the testing run under the simulated director, and
//! power folders the ported official power checker accepts.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use common::{bin, temp_scratch, text, yardstick};
use yardstick_pipeline::power_meters::ptd::check::{check_power_folders, CheckOptions};

/// Kills the simulator when the test ends, however it ends.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `yardstick power-sim director` on a free port; its address.
fn start_director(out: &std::path::Path, extra: &[&str]) -> (Served, String) {
    let out = [
        "--settle-ms",
        "20",
        "--out",
        out.to_str().expect("utf-8 path"),
    ];
    start_sim("director", &[&out[..], extra].concat())
}

/// Starts `yardstick power-sim <kind>` on a free port; its address.
fn start_sim(kind: &str, extra: &[&str]) -> (Served, String) {
    let mut child = bin()
        .args(["power-sim", kind, "--port", "0", "--sample-ms", "20"])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the simulator starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let served = Served(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the simulator prints its address");
    let addr = line
        .split(" on ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (served, addr)
}

fn run_offline(out: &std::path::Path, power: &str) -> std::process::Output {
    yardstick(&[
        "run",
        "--sut",
        "sleep",
        "--workers",
        "4",
        "--service-time",
        "200us",
        "--scenario",
        "Offline",
        "--duration",
        "300ms",
        "--power",
        power,
        "-o",
        out.to_str().expect("utf-8 path"),
    ])
}

#[test]
fn a_run_under_the_simulated_director_leaves_checked_power_folders() {
    let scratch = temp_scratch("yardstick-power", "director");
    let (_served, addr) = start_director(&scratch.join("director"), &[]);
    let out = scratch.join("run");
    let o = run_offline(&out, &format!("director://{addr}"));
    assert!(o.status.success(), "{}", text(&o));
    let all = text(&o);
    assert!(
        all.contains("power source            : director://"),
        "{all}"
    );
    assert!(all.contains("energy                  :"), "{all}");
    assert!(
        out.join("ranging_run")
            .join("mlperf_log_detail.txt")
            .is_file(),
        "{all}"
    );
    let sessions: Vec<_> = std::fs::read_dir(&out)
        .expect("output folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("power").join("server.json").is_file())
        .collect();
    assert_eq!(sessions.len(), 1, "{all}");
    let report = check_power_folders(&sessions[0], &CheckOptions::default());
    assert!(report.passed(), "{report}");
}

#[test]
fn a_director_dropping_the_connection_leaves_the_result() {
    let scratch = temp_scratch("yardstick-power", "director-drop");
    let (_served, addr) = start_director(&scratch.join("director"), &["--drop-on", "stop,testing"]);
    let out = scratch.join("run");
    let o = run_offline(&out, &format!("director://{addr}"));
    assert!(o.status.success(), "{}", text(&o));
    let all = text(&o);
    assert!(
        all.contains("the power director closed the connection during"),
        "{all}"
    );
    assert!(all.contains("the result stands without power"), "{all}");
    let summary = std::fs::read_to_string(out.join("mlperf_log_summary.txt")).expect("summary");
    assert!(summary.contains("Result is : VALID"), "{summary}");
}

#[test]
fn a_run_with_a_simulated_ptdaemon_has_its_energy() {
    let scratch = temp_scratch("yardstick-power", "ptd");
    let (_served, addr) = start_sim("ptd", &["--watts", "100"]);
    let out = scratch.join("run");
    let o = run_offline(&out, &format!("ptd://{addr}"));
    assert!(o.status.success(), "{}", text(&o));
    let all = text(&o);
    assert!(all.contains("power source            : ptd://"), "{all}");
    // 100 W ±3%: the mean over the window says so.
    let mean: f64 = all
        .split("mean ")
        .nth(1)
        .and_then(|rest| rest.split(" W").next())
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no mean watts in {all}"));
    assert!((97.0..=103.0).contains(&mean), "{mean} W\n{all}");
}

/// The one point folder of an endpoint sweep in `out`.
fn only_point(out: &std::path::Path) -> std::path::PathBuf {
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sweep.json")).expect("sweep.json"))
            .expect("sweep.json is JSON");
    out.join(index[0]["dir"].as_str().expect("the point's folder"))
}

#[test]
fn an_endpoint_point_under_the_simulated_director_leaves_checked_power_folders() {
    let scratch = temp_scratch("yardstick-power", "director-endpoint");
    let mock = common::start_mock("120s", &["--mode", "simulated", "--ttft", "2ms"]);
    let (_served, addr) = start_director(&scratch.join("director"), &[]);
    let out = scratch.join("endpoint");
    let o = yardstick(&[
        "endpoint",
        "--url",
        &mock.url,
        "--load",
        "poisson",
        "--rate",
        "200",
        "--min-query-count",
        "40",
        "--duration",
        "300ms",
        "--power",
        &format!("director://{addr}"),
        "-o",
        out.to_str().expect("utf-8 path"),
    ]);
    let all = text(&o);
    // About 60 queries: too few for Server early stopping, so INVALID
    // (exit 1); the power folders are what is checked here.
    assert!(matches!(o.status.code(), Some(0 | 1)), "{all}");
    assert!(all.contains("ranging run (logs in"), "{all}");
    assert!(
        all.contains("power source            : director://"),
        "{all}"
    );
    let point = only_point(&out);
    assert!(
        point
            .join("ranging_run")
            .join("mlperf_log_detail.txt")
            .is_file(),
        "{all}"
    );
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(point.join("run.json")).expect("run.json"))
            .expect("run.json is JSON");
    let power = &record["power"];
    assert_eq!(power["source"], format!("director://{addr}"), "{power}");
    assert!(power["joules"].as_f64().is_some_and(|j| j > 0.0), "{power}");
    let sessions: Vec<_> = std::fs::read_dir(&point)
        .expect("point folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("power").join("server.json").is_file())
        .collect();
    assert_eq!(sessions.len(), 1, "{all}");
    let report = check_power_folders(&sessions[0], &CheckOptions::default());
    assert!(report.passed(), "{report}");
}

#[test]
fn a_closed_loop_endpoint_point_refuses_the_director_with_a_reason() {
    let scratch = temp_scratch("yardstick-power", "director-closed-loop");
    let mock = common::start_mock("120s", &["--mode", "simulated", "--ttft", "2ms"]);
    let out = scratch.join("endpoint");
    // Nobody listens there: the refusal comes before any connection.
    let o = yardstick(&[
        "endpoint",
        "--url",
        &mock.url,
        "--load",
        "concurrency",
        "--concurrency",
        "2",
        "--duration",
        "200ms",
        "--power",
        "director://127.0.0.1:9",
        "-o",
        out.to_str().expect("utf-8 path"),
    ]);
    let all = text(&o);
    assert!(o.status.success(), "{all}");
    assert!(
        all.contains("director://127.0.0.1:9: not measured: the MLPerf power protocol runs the workload twice"),
        "{all}"
    );
    assert!(!only_point(&out).join("ranging_run").exists(), "{all}");
}

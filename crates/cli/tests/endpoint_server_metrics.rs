//! `yardstick endpoint --server-metrics` end to end against the mock server
//! (127.0.0.1 only): a shared-prefix run against `--prefix-cache` shows the
//! cache hits in the scraped metrics of the record; a server without
//! metrics (404, garbage, nobody listening) is told once and the run goes
//! on with the record saying skipped; `off` scrapes nothing.

mod common;

use std::path::Path;

use common::{bin, read_json, start_mock, stderr, stdout, temp_scratch};
use serde_json::Value;

/// Runs `yardstick endpoint` against `url` into `out`: (exit code, stdout,
/// stderr).
fn endpoint(url: &str, out: &Path, extra: &[&str]) -> (i32, String, String) {
    let o = bin()
        .args([
            "endpoint",
            "--url",
            url,
            "--requests",
            "60",
            "--synthetic",
            "60",
            "--input-tokens",
            "16",
            "--output-tokens",
            "16",
            "--scrape-interval",
            "100ms",
            "--no-store",
            "-o",
        ])
        .arg(out)
        .args(extra)
        .output()
        .expect("run yardstick");
    (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
}

fn server_metrics(point: &Path) -> Value {
    read_json(&point.join("run.json"))["server_metrics"].clone()
}

#[test]
fn shared_prefixes_show_prefix_cache_hits_in_the_scraped_metrics() {
    let m = start_mock(
        "120s",
        &[
            "--mode",
            "simulated",
            "--ttft",
            "20ms",
            "--tpot",
            "2ms",
            "--prefix-cache",
        ],
    );
    let dir = temp_scratch("ys-ep-server-metrics", "prefix");
    let (code, out, err) = endpoint(
        &m.url,
        &dir,
        &[
            "--concurrency",
            "4",
            "--shared-prefixes",
            "2",
            "--prefix-tokens",
            "64",
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let point = dir.join("c4");
    let sm = server_metrics(&point);
    assert_eq!(sm["status"], "scraped", "{sm}");
    assert_eq!(sm["url"], format!("{}/metrics", m.url));
    assert!(
        sm["engines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "vllm"),
        "{sm}"
    );
    assert!(sm["scrapes"].as_u64().unwrap() >= 2, "{sm}");
    let hit_rate = sm["prefix_cache_hit_rate"].as_f64().expect("a hit rate");
    assert!(hit_rate > 0.0 && hit_rate <= 1.0, "{hit_rate}");
    // The mock counts every request it finished: all 60, between the
    // baseline scrape and the last (a request settles in the mock just
    // after its last bytes go out: on a loaded machine the last scrape may
    // come first, hence the small range).
    let finished = sm["counters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "requests_finished")
        .expect("requests_finished");
    let delta = finished["delta"].as_f64().unwrap();
    assert!((58.0..=60.0).contains(&delta), "{finished}");
    let hits = sm["counters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "prefix_cache_hits")
        .expect("prefix_cache_hits");
    assert!(hits["delta"].as_f64().unwrap() > 0.0, "{hits}");
    // The raw samples are kept with the point and listed in the record.
    let run = read_json(&point.join("run.json"));
    let file = run["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["role"] == "server_metrics")
        .expect("server_metrics file listed");
    let csv = std::fs::read_to_string(file["path"].as_str().unwrap()).expect("csv");
    assert!(csv.starts_with("t_seconds,metric,labels,value\n"), "{csv}");
    assert!(csv.contains(",vllm:prefix_cache_hits_total,"), "{csv}");
    // One printed line.
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("server: "))
        .unwrap_or_else(|| panic!("no server line in {out}"));
    assert!(line.contains("running max "), "{line}");
    assert!(line.contains("prefix-cache hits "), "{line}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_server_without_metrics_is_told_once_and_the_run_goes_on() {
    for (name, mock_flags, expected) in [
        ("off", vec!["--metrics", "off"], "HTTP 404"),
        (
            "garbage",
            vec!["--metrics", "garbage"],
            "is not Prometheus text: line ",
        ),
    ] {
        let m = start_mock("120s", &mock_flags);
        let dir = temp_scratch("ys-ep-server-metrics", name);
        // Two points: one warning.
        let (code, out, err) = endpoint(&m.url, &dir, &["--concurrency", "1,2"]);
        assert_eq!(code, 0, "{name}: {out}\n{err}");
        let warnings: Vec<&str> = err
            .lines()
            .filter(|l| l.contains("server metrics:"))
            .collect();
        assert_eq!(warnings.len(), 1, "{name}: {err}");
        assert!(warnings[0].contains(&format!("{}/metrics", m.url)), "{err}");
        assert!(warnings[0].contains(expected), "{name}: {err}");
        for point in ["c1", "c2"] {
            let sm = server_metrics(&dir.join(point));
            assert_eq!(sm["status"], "skipped", "{name} {point}: {sm}");
            assert!(
                sm["skipped_reason"].as_str().unwrap().contains(expected),
                "{sm}"
            );
            let run = read_json(&dir.join(point).join("run.json"));
            assert!(run["metrics"].as_array().is_some_and(|m| !m.is_empty()));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn nobody_listening_and_off() {
    let m = start_mock("120s", &[]);
    let dir = temp_scratch("ys-ep-server-metrics", "refused");
    // A metrics URL nobody listens on (a port bound, then freed).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/metrics");
    let (code, out, err) = endpoint(
        &m.url,
        &dir.join("refused"),
        &["--concurrency", "2", "--server-metrics", &url],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        err.contains(&format!("server metrics: {url}: connect failed")),
        "{err}"
    );
    assert_eq!(server_metrics(&dir.join("refused/c2"))["status"], "skipped");

    let (code, out, err) = endpoint(
        &m.url,
        &dir.join("off"),
        &["--concurrency", "2", "--server-metrics", "off"],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!err.contains("server metrics"), "{err}");
    assert!(!out.contains("server: "), "{out}");
    assert!(server_metrics(&dir.join("off/c2")).is_null());
    assert!(!dir.join("off/c2/server_metrics.csv").exists());

    let (code, _, err) = endpoint(&m.url, &dir.join("bad"), &["--server-metrics", "sometimes"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("--server-metrics: expected auto, off or an http(s):// URL, got `sometimes`"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn open_loop_and_loadgen_points_keep_server_metrics_too() {
    let m = start_mock(
        "120s",
        &["--mode", "simulated", "--ttft", "5ms", "--tpot", "1ms"],
    );
    let dir = temp_scratch("ys-ep-server-metrics", "loads");
    for (load, folder) in [("constant", "constant-100"), ("poisson", "poisson-100")] {
        let out = dir.join(load);
        let (code, stdout, err) = endpoint(&m.url, &out, &["--load", load, "--rate", "100"]);
        // LoadGen may judge 60 Poisson queries INVALID (early stopping):
        // exit 1 then, the point recorded all the same.
        assert!(
            code == 0 || (load == "poisson" && code == 1),
            "{load}: {stdout}\n{err}"
        );
        let point = out.join(folder);
        let sm = server_metrics(&point);
        assert_eq!(sm["status"], "scraped", "{load}: {sm}");
        let finished = sm["counters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "requests_finished")
            .expect("requests_finished");
        let delta = finished["delta"].as_f64().unwrap();
        assert!((58.0..=60.0).contains(&delta), "{load}: {finished}");
        assert!(point.join("server_metrics.csv").exists(), "{load}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

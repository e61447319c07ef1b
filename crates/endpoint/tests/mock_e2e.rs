//! The client against the built-in mock server on 127.0.0.1: metrics,
//! load patterns, the core's scenarios, token cross-checks, outputs.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use yardstick_core::log::MemorySink;
use yardstick_core::run::RunOptions;
use yardstick_core::{Mode, Scenario, TestSettings};
use yardstick_endpoint::output::{pareto_table, point_dir, write_index, write_point};
use yardstick_endpoint::{
    ApiKind, Bench, MockConfig, MockFault, MockMode, MockServer, RequestRecord,
};

/// The client delivered the open-loop schedule of a run of `window`: no
/// request went out before it was due, and the sends did not fall behind
/// by 1% over the run. The latter is the delivered rate, measured robustly:
/// the median lateness (send minus due time) of the last quarter of the
/// requests against that of the first quarter. Falling 1% behind over 2 s
/// drifts 20 ms; a stall of the machine makes a few requests late, which
/// moves neither median. (The report's own rate, from the first and the
/// last send, moves with one late send: its 1% bar is the benchmark's, on
/// an idle machine.)
fn assert_sends_keep_the_schedule(records: &[RequestRecord], window: Duration) {
    let mut lateness: Vec<(std::time::Instant, Duration)> = records
        .iter()
        .map(|r| {
            let sent = r.sent.expect("every request was sent");
            assert!(
                sent >= r.scheduled,
                "request {} went out {:?} before it was due",
                r.seq,
                r.scheduled - sent
            );
            (r.scheduled, sent - r.scheduled)
        })
        .collect();
    assert!(lateness.len() >= 100, "{} requests", lateness.len());
    lateness.sort();
    let quarter = lateness.len() / 4;
    let median = |part: &[(std::time::Instant, Duration)]| {
        let mut v: Vec<Duration> = part.iter().map(|&(_, d)| d).collect();
        v.sort();
        v[v.len() / 2]
    };
    let (first, last) = (
        median(&lateness[..quarter]),
        median(&lateness[lateness.len() - quarter..]),
    );
    assert!(
        last.saturating_sub(first) < window / 100,
        "the sends fell behind the schedule: median lateness {first:?} in the first quarter, {last:?} in the last"
    );
}

fn mock(cfg: MockConfig) -> MockServer {
    MockServer::start(cfg, SocketAddr::from(([127, 0, 0, 1], 0))).expect("mock")
}

fn simulated(ttft_ms: u64, tpot_ms: u64, tokens: u32) -> MockConfig {
    MockConfig {
        mode: MockMode::Simulated,
        ttft: Duration::from_millis(ttft_ms),
        tpot: Duration::from_millis(tpot_ms),
        output_tokens: tokens,
        ..MockConfig::default()
    }
}

#[test]
fn ttft_tpot_and_mlperf_endpoints_fields() {
    let m = mock(simulated(30, 5, 10));
    let b = bench(&m.url(), true, Duration::from_secs(10), Some(tokenizer()));
    let p = b.run_concurrency(4, None, Some(24), 2).expect("run");
    let s = &p.summary.metrics;
    assert_eq!(s.n_samples_failed, 0, "{:?}", s.first_error);
    assert_eq!(s.n_samples_completed, 24);
    // Dataset prompts ask for 16 tokens; the mock honours max_tokens.
    assert_eq!(s.total_output_tokens, 24 * 16);
    // The mock holds the first token 30 ms after the request arrived, so no
    // TTFT is shorter (the role-only chunk before it is not a token, and
    // arrival stamps are never early). Above that bound, medians: a stall
    // of this loaded machine delays a request or two, not half of them.
    let ttft = s.ttft.as_ref().expect("ttft");
    assert!(ttft.min >= 30e6, "a TTFT under the mock's 30 ms: {ttft:?}");
    assert!(ttft.median < 80e6, "ttft median {} ms", ttft.median / 1e6);
    let tpot = s.tpot.as_ref().expect("tpot");
    assert!(
        (4.5e6..12e6).contains(&tpot.median),
        "tpot median {} ms (tokens every 5 ms)",
        tpot.median / 1e6
    );
    let tpot_p90 = s.tpot_p90_ms.expect("tpot p90");
    assert_eq!(s.ttft_p90_ms, ttft.p("90").map(|v| v / 1e6));
    let tpu = s.tps_per_user.expect("tps_per_user");
    assert!((1000.0 / tpot_p90 - tpu).abs() < 1e-6);
    assert!(s.system_tps > 0.0);
    assert_eq!(s.token_source.get("tokenizer"), Some(&24));
    let check = s.token_check.as_ref().expect("cross-check");
    assert_eq!(check.mismatched, 0);
    // Gaps between tokens are recorded (15 per request).
    assert_eq!(s.chunk_gap.as_ref().map(|g| g.count), Some(24 * 15));
    // The first token's arrival is compared with the mock's send stamp.
    let d = s.first_token_delay_vs_server.as_ref().expect("stamps");
    assert_eq!(d.count, 24);
    assert!(d.p("50").unwrap_or(f64::MAX) < 20e6, "{d:?}");
    // An arrival stamp (kernel receive time or socket read) is never before
    // the server sent the bytes: the clocks agree and nothing is dated back
    // too far.
    assert!(
        d.min >= 0.0,
        "first token stamped before the server sent it: {d:?}"
    );
    // result_summary.json carries the MLPerf Endpoints field names.
    let v = serde_json::to_value(&p.summary).expect("json");
    for k in [
        "n_samples_issued",
        "n_samples_completed",
        "n_samples_failed",
        "duration_ns",
        "system_tps",
        "tps_per_user",
        "ttft_p90_ms",
        "concurrency",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert!(v["ttft"]["percentiles"]["99.9"].is_number());
    assert!(v["tpot"]["percentiles"]["90"].is_number());
}

#[test]
fn usage_tokenizer_mismatch_is_flagged() {
    let m = mock(MockConfig {
        usage_offset: 3,
        ..simulated(1, 1, 8)
    });
    let b = bench(&m.url(), true, Duration::from_secs(10), Some(tokenizer()));
    let p = b.run_concurrency(2, None, Some(6), 0).expect("run");
    let c = p.summary.metrics.token_check.clone().expect("check");
    assert_eq!((c.compared, c.mismatched, c.max_abs_diff), (6, 6, 3));
    assert_eq!(c.total_usage, c.total_tokenizer + 18);
    assert!(p
        .summary
        .warnings
        .iter()
        .any(|w| w.contains("token counts disagree")));
    // The tokenizer's count is the one reported.
    assert_eq!(p.summary.metrics.total_output_tokens, 6 * 16);
}

#[test]
fn injected_faults_are_counted_exactly() {
    for fault in [
        MockFault::Http500,
        MockFault::CloseMidStream,
        MockFault::InvalidJson,
        MockFault::NoDone,
    ] {
        let m = mock(MockConfig {
            fault: Some((fault, 4)),
            ..simulated(0, 0, 8)
        });
        let b = bench(&m.url(), true, Duration::from_secs(10), None);
        let p = b.run_concurrency(3, None, Some(40), 0).expect("run");
        let s = &p.summary.metrics;
        assert_eq!(s.n_samples_issued, 40, "{fault:?}");
        assert_eq!(s.n_samples_failed, 10, "{fault:?}: {:?}", s.errors);
        assert_eq!(s.n_samples_completed, 30);
    }
}

#[test]
fn constant_rate_is_delivered() {
    let m = mock(MockConfig {
        mode: MockMode::MaxThroughput,
        ..MockConfig::default()
    });
    let mut cfg = config(&m.url(), ApiKind::Chat, true, Duration::from_secs(10));
    cfg.prewarm_connections = 8;
    let b = Bench::new(cfg, dataset(8, "x"), None, None).expect("bench");
    // 200/s over 2 s: a rate a debug build keeps on a busy 2-core machine.
    let window = Duration::from_secs(2);
    let p = b.run_constant_rate(200.0, Some(window), None).expect("run");
    let o = p.summary.open_loop.as_ref().expect("open loop report");
    assert_eq!(p.summary.metrics.n_samples_issued, 400);
    assert_eq!(p.summary.metrics.n_samples_failed, 0);
    assert!((o.scheduled_rate - 200.0).abs() < 0.5, "{o:?}");
    assert_sends_keep_the_schedule(&p.records, window);
    // Send waits are measured (whether under 1 ms at p99 depends on the
    // machine's load; the benchmark in docs/benchmarks.md checks it).
    assert!(o.send_wait.is_some());
    assert_eq!(o.requests_queued_for_connection, 0);
}

#[test]
fn saturated_server_is_reported_not_hidden() {
    // One connection, 50 ms per request, 100 requests/s: the server cannot
    // keep up; requests queue in the client and the report says so.
    let m = mock(simulated(50, 0, 1));
    let mut cfg = config(&m.url(), ApiKind::Chat, true, Duration::from_secs(10));
    cfg.max_connections = 1;
    let b = Bench::new(cfg, dataset(4, "x"), None, None).expect("bench");
    let p = b.run_constant_rate(100.0, None, Some(20)).expect("run");
    let o = p.summary.open_loop.as_ref().expect("report");
    assert!(!o.kept_up);
    assert!(o.requests_queued_for_connection > 0);
    assert!(o.verdict.contains("did not keep up"), "{}", o.verdict);
    // Latency counts from the schedule: the last request waited ~19 x 50 ms.
    let last = p.records.last().and_then(|r| r.latency_ns()).unwrap_or(0);
    assert!(last > 500_000_000, "{last}");
}

#[test]
fn server_scenario_through_the_core() {
    let m = mock(simulated(5, 1, 4));
    let b = bench(&m.url(), true, Duration::from_secs(10), None);
    let settings = TestSettings {
        scenario: Scenario::Server,
        mode: Mode::PerformanceOnly,
        server_target_qps: 200.0,
        min_duration_ms: 1000,
        min_query_count: 1,
        server_target_latency_ns: 10_000_000_000,
        use_token_latencies: true,
        server_ttft_latency: 10_000_000_000,
        server_tpot_latency: 10_000_000_000,
        ..TestSettings::default()
    };
    let sink = Arc::new(MemorySink::default());
    let (outcome, p) = b
        .run_core(&settings, sink.clone(), &RunOptions::default())
        .expect("run");
    assert!(outcome.faults.is_empty(), "{:?}", outcome.faults);
    let r = outcome.result().expect("result");
    assert!(r.sample_count > 150, "{}", r.sample_count);
    assert_eq!(r.sample_count, p.records.len() as u64);
    assert_eq!(p.summary.metrics.n_samples_failed, 0);
    let o = p.summary.open_loop.as_ref().expect("open loop");
    assert_eq!(o.arrival, "poisson");
    assert_sends_keep_the_schedule(&p.records, Duration::from_millis(settings.min_duration_ms));
    assert!(sink.summaries.lock().map(|s| s.len()).unwrap_or(0) == 1);
    assert!(p
        .summary
        .mlperf
        .as_ref()
        .is_some_and(|m| m.faults.is_empty()));
}

#[test]
fn offline_and_accuracy_through_the_core() {
    let m = mock(MockConfig::default()); // echo
    let b = bench(&m.url(), false, Duration::from_secs(10), None);
    let settings = TestSettings {
        scenario: Scenario::Offline,
        mode: Mode::AccuracyOnly,
        ..TestSettings::default()
    };
    let sink = Arc::new(MemorySink::default());
    let (outcome, p) = b
        .run_core(&settings, sink.clone(), &RunOptions::default())
        .expect("run");
    assert!(outcome.faults.is_empty(), "{:?}", outcome.faults);
    assert_eq!(outcome.accuracy_samples, 4);
    let acc = sink.accuracy.lock().map(|a| a.clone()).unwrap_or_default();
    assert_eq!(acc.len(), 4);
    // The echo server answered with the prompt: the full output is logged.
    assert!(acc.iter().all(|e| e.2 == b"hello world"));
    assert!(p.records.iter().all(|r| r.output.content == "hello world"));
}

#[test]
fn completions_and_kserve_apis() {
    let m = mock(MockConfig::default());
    for api in [ApiKind::Completions, ApiKind::Kserve] {
        let b = Bench::new(
            config(
                &m.url(),
                api,
                api == ApiKind::Completions,
                Duration::from_secs(10),
            ),
            dataset(3, "a b c"),
            None,
            None,
        )
        .expect("bench");
        let p = b.run_concurrency(1, None, Some(3), 0).expect("run");
        assert_eq!(
            p.summary.metrics.n_samples_failed, 0,
            "{api:?} {:?}",
            p.summary.metrics.first_error
        );
        assert!(
            p.records.iter().all(|r| r.output.content == "a b c"),
            "{api:?}"
        );
    }
}

#[test]
fn sweep_outputs_and_pareto_table() {
    let m = mock(simulated(2, 1, 4));
    let b = bench(&m.url(), true, Duration::from_secs(10), None);
    let dir = std::env::temp_dir().join(format!("ys-endpoint-sweep-{}", std::process::id()));
    let mut points = Vec::new();
    for c in [1, 4] {
        let p = b.run_concurrency(c, None, Some(8), 0).expect("run");
        assert_eq!(p.summary.label, format!("c{c}"));
        write_point(&point_dir(&dir, &p.summary.label), &p).expect("write");
        points.push(p);
    }
    let sums: Vec<_> = points.iter().map(|p| &p.summary).collect();
    write_index(&dir, &sums).expect("index");
    let table = pareto_table(&sums);
    assert!(table.contains("c=1") && table.contains("c=4"), "{table}");
    let jsonl = std::fs::read_to_string(dir.join("c1/requests.jsonl")).expect("jsonl");
    assert_eq!(jsonl.lines().count(), 8);
    let first: serde_json::Value =
        serde_json::from_str(jsonl.lines().next().unwrap_or("{}")).expect("line");
    assert!(first["output"]["content"].is_string());
    assert!(first["ttft_ns"].is_number());
    let csv = std::fs::read_to_string(dir.join("c4/requests.csv")).expect("csv");
    assert_eq!(csv.lines().count(), 9);
    let sweep: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("sweep.json")).expect("sweep"))
            .expect("json");
    assert_eq!(sweep.as_array().map(Vec::len), Some(2));
    assert_eq!(sweep[1]["dir"], "c4");
    assert!(std::fs::read_to_string(dir.join("pareto.csv"))
        .expect("csv")
        .contains("pareto"));
    let _ = std::fs::remove_dir_all(&dir);
}

//! Server behaviours seen in real engines, reproduced by the mock server:
//! streams aborted by the next request (llama-cpp-python), a request
//! queue (TTFT grows with load), answers without `usage`; and what the
//! client makes of them: failed requests with their reason, flagged points,
//! the guarded Pareto front, `--usage` modes, `--min-tokens`, the probe.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use yardstick_endpoint::output::{front_flags, pareto_table, record_json};
use yardstick_endpoint::probe::{probe, CheckStatus, ProbeReport};
use yardstick_endpoint::{
    ApiKind, Bench, MockConfig, MockMode, MockServer, RequestError, UsageMode,
};

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
fn aborted_streams_are_failed_requests_and_the_point_is_flagged() {
    let m = mock(MockConfig {
        abort_streams: true,
        ..simulated(20, 2, 8)
    });
    let b = bench(&m.url(), true, Duration::from_secs(10), None);

    // One at a time, nothing is aborted.
    let one = b.run_concurrency(1, None, Some(6), 0).expect("c=1");
    assert_eq!(
        one.summary.metrics.n_samples_failed, 0,
        "{:?}",
        one.summary.metrics.first_error
    );
    assert!(!one.summary.most_requests_failed);

    // Four at once: each new request aborts the stream in progress, which
    // ends with the role chunk and [DONE] only.
    let four = b.run_concurrency(4, None, Some(40), 0).expect("c=4");
    let s = &four.summary;
    let aborted = four
        .records
        .iter()
        .filter(|r| matches!(r.error, Some(RequestError::EmptyStream { .. })))
        .count() as u64;
    assert!(
        aborted > 20,
        "{aborted} of 40 aborted; {:?}",
        s.metrics.errors
    );
    assert_eq!(
        s.metrics.n_samples_failed,
        40 - s.metrics.n_samples_completed
    );
    assert!(s.metrics.n_samples_failed >= aborted);
    assert_eq!(s.metrics.errors.get("empty_stream"), Some(&aborted));
    assert!(s.most_requests_failed);
    assert!(
        s.warnings[0].starts_with("MOST REQUESTS FAILED"),
        "{:?}",
        s.warnings
    );
    // The per-request record carries the reason.
    let failed = four
        .records
        .iter()
        .find(|r| r.error.is_some())
        .expect("a failed record");
    let v = record_json(failed, four.origin);
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["kind"], "empty_stream");
    // The mock counted the aborts it made.
    assert!(m.stats().aborted.load(std::sync::atomic::Ordering::Relaxed) >= aborted);

    // Never on the Pareto front, whatever its numbers.
    let sums = [&one.summary, &four.summary];
    let flags = front_flags(&sums);
    assert!(flags[0].on_front);
    assert!(!flags[1].on_front && flags[1].excluded);
    let table = pareto_table(&sums);
    assert!(
        table.contains("more than half the requests failed"),
        "{table}"
    );
}

#[test]
fn a_queueing_server_is_marked_and_cannot_dominate() {
    // One request at a time; the rest wait, so at c=4 TTFT counts about
    // three whole answers (16 tokens, ~50 ms each) of waiting.
    let m = mock(MockConfig {
        max_concurrency: Some(1),
        ..simulated(5, 3, 16)
    });
    let b = bench(&m.url(), true, Duration::from_secs(20), None);
    let c1 = b.run_concurrency(1, None, Some(8), 0).expect("c=1");
    let c4 = b.run_concurrency(4, None, Some(16), 0).expect("c=4");
    for p in [&c1, &c4] {
        assert_eq!(
            p.summary.metrics.n_samples_failed, 0,
            "{:?}",
            p.summary.metrics.first_error
        );
    }
    let t1 = c1.summary.metrics.ttft_p90_ms.expect("ttft c1");
    let t4 = c4.summary.metrics.ttft_p90_ms.expect("ttft c4");
    assert!(t4 > 3.0 * t1, "TTFT p90 c=1 {t1} ms, c=4 {t4} ms");
    let sums = [&c1.summary, &c4.summary];
    let flags = front_flags(&sums);
    assert!(!flags[0].queues && flags[1].queues, "{flags:?}");
    // c=1 stays on the front: the queueing point may not push it off.
    assert!(flags[0].on_front, "{flags:?}");
    let table = pareto_table(&sums);
    assert!(
        table.contains("ttft_p50_ms") && table.contains("Q"),
        "{table}"
    );
}

fn usage_run(cfg: MockConfig, mode: UsageMode) -> yardstick_endpoint::PointResult {
    let m = mock(cfg);
    let mut c = config(&m.url(), ApiKind::Chat, true, Duration::from_secs(10));
    c.usage = mode;
    let b = Bench::new(c, dataset(4, "hello world"), Some(tokenizer()), None).expect("bench");
    b.run_concurrency(2, None, Some(6), 0).expect("run")
}

#[test]
fn usage_modes_choose_the_token_count() {
    // The server reports one token more than it sends (as llama-cpp-python
    // did against the tokenizer's re-count).
    let server = MockConfig {
        usage_offset: 1,
        ..simulated(1, 1, 16)
    };
    let prefer = usage_run(server.clone(), UsageMode::Prefer);
    let m = &prefer.summary.metrics;
    assert_eq!(m.total_output_tokens, 6 * 17);
    assert_eq!(m.token_source.get("usage"), Some(&6));
    assert!(m.token_check.is_none());
    // TPOT divides by the server's count less the first chunk's tokens.
    assert!(prefer
        .records
        .iter()
        .all(|r| r.tokens_after_first == Some(16)));

    let tok = usage_run(server.clone(), UsageMode::Tokenizer);
    let m = &tok.summary.metrics;
    assert_eq!(m.total_output_tokens, 6 * 16);
    assert_eq!(m.token_source.get("tokenizer"), Some(&6));
    assert!(m.token_check.is_none());

    let both = usage_run(server, UsageMode::Both);
    let m = &both.summary.metrics;
    assert_eq!(m.total_output_tokens, 6 * 16);
    assert_eq!(m.token_check.as_ref().map(|c| c.mismatched), Some(6));

    // A server without usage: prefer falls back to the tokenizer.
    let none = usage_run(
        MockConfig {
            usage: false,
            ..simulated(1, 1, 16)
        },
        UsageMode::Prefer,
    );
    let m = &none.summary.metrics;
    assert!(none.records.iter().all(|r| r.usage.is_none()));
    assert_eq!(m.total_output_tokens, 6 * 16);
    assert_eq!(m.token_source.get("tokenizer"), Some(&6));
}

#[test]
fn min_tokens_is_checked_on_the_answer() {
    // The echo server answers "hello world" (2 tokens) whatever min_tokens
    // says, like a server that ignores it.
    let m = mock(MockConfig::default());
    for (min, failed) in [(2u32, 0u64), (3, 5)] {
        let mut c = config(&m.url(), ApiKind::Chat, true, Duration::from_secs(10));
        c.request.min_tokens = Some(min);
        let b = Bench::new(c, dataset(4, "hello world"), Some(tokenizer()), None).expect("bench");
        let p = b.run_concurrency(1, None, Some(5), 0).expect("run");
        assert_eq!(p.summary.metrics.n_samples_failed, failed, "min {min}");
        if failed > 0 {
            assert!(p.records.iter().all(|r| matches!(
                r.error,
                Some(RequestError::TooFewTokens { got: 2, min: 3, .. })
            )));
            assert_eq!(p.summary.metrics.errors.get("too_few_tokens"), Some(&5));
        }
    }
}

fn probe_url(url: &str) -> ProbeReport {
    probe(
        url,
        None,
        Vec::new(),
        Duration::from_secs(5),
        &Default::default(),
    )
    .expect("probe")
}

fn check<'a>(r: &'a ProbeReport, name: &str) -> &'a yardstick_endpoint::probe::ProbeCheck {
    r.checks
        .iter()
        .find(|c| c.name.contains(name))
        .unwrap_or_else(|| panic!("no check {name}: {}", r.render()))
}

#[test]
fn probe_passes_a_good_server_and_reads_its_metrics() {
    let m = mock(simulated(2, 1, 8));
    let r = probe_url(&m.url());
    assert!(r.ok(), "{}", r.render());
    assert_eq!(check(&r, "concurrent streams").status, CheckStatus::Ok);
    let metrics = check(&r, "/metrics");
    assert_eq!(metrics.status, CheckStatus::Ok);
    // Recognised by the scraper's own table: vLLM's names the mock serves
    // and the mock's own.
    let recognised = metrics
        .detail
        .split_once("recognised: ")
        .map(|(_, names)| names)
        .unwrap_or_else(|| panic!("nothing recognised: {}", metrics.detail));
    for name in [
        "yardstick_mock_requests_waiting",
        "vllm:num_requests_running",
    ] {
        assert!(recognised.contains(name), "{name}: {}", metrics.detail);
    }
    assert!(r.render().contains("probe: OK"));
}

#[test]
fn probe_fails_a_server_that_aborts_concurrent_streams() {
    let m = mock(MockConfig {
        abort_streams: true,
        ..simulated(30, 2, 8)
    });
    let r = probe_url(&m.url());
    // Sequential requests work...
    assert!(r.apis.iter().any(|a| a == "chat+stream"), "{}", r.render());
    // ...four at once do not.
    let c = check(&r, "concurrent streams");
    assert_eq!(c.status, CheckStatus::Fail, "{}", r.render());
    assert!(c.required);
    assert!(c.detail.contains("aborted"), "{}", c.detail);
    assert!(!r.ok());
    assert!(r.render().contains("[FAIL]"));
}

#[test]
fn probe_optional_routes_absent_or_garbage_are_not_failures() {
    // Every route answers 404: health and metrics are absent (optional).
    let addr = scripted(vec![json_response("404 Not Found", "{}")]);
    let r = probe_url(&format!("http://{addr}"));
    for name in ["GET /health", "GET /v2/health/ready", "GET /metrics"] {
        let c = check(&r, name);
        assert_eq!(c.status, CheckStatus::Absent, "{name}: {}", r.render());
        assert!(!c.required && c.ok);
    }
    assert!(r.render().contains("absent (optional)"), "{}", r.render());

    // Every route answers 200 with HTML: /metrics is not Prometheus text.
    let body = "<html>garbage</html>";
    let addr = scripted(vec![w(&format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    ))]);
    let r = probe_url(&format!("http://{addr}"));
    let c = check(&r, "GET /metrics");
    assert_eq!(c.status, CheckStatus::Info, "{}", r.render());
    assert!(c.detail.contains("not Prometheus text"), "{}", c.detail);
}

const ROLE: &str =
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n";
const HI: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n";
const DONE: &str = "data: [DONE]\n\n";

#[test]
fn role_chunk_then_done_is_an_empty_stream_byte_for_byte() {
    // Exactly what llama-cpp-python sends for an interrupted request.
    let addr = scripted(vec![w(SSE_HEAD_CLOSE), w(ROLE), w(DONE)]);
    let b = bench(
        &format!("http://{addr}"),
        true,
        Duration::from_secs(5),
        None,
    );
    let p = b.run_concurrency(1, None, Some(3), 0).expect("run");
    for r in &p.records {
        assert_eq!(r.error, Some(RequestError::EmptyStream { events: 2 }));
    }
    assert_eq!(p.summary.metrics.n_samples_failed, 3);
    assert_eq!(p.summary.metrics.total_output_tokens, 0);
    assert!(p.summary.most_requests_failed);
}

#[test]
fn text_without_a_finish_reason_is_warned_about() {
    let addr = scripted(vec![w(SSE_HEAD_CLOSE), w(ROLE), w(HI), w(DONE)]);
    let b = bench(
        &format!("http://{addr}"),
        true,
        Duration::from_secs(5),
        None,
    );
    let p = b.run_concurrency(1, None, Some(3), 0).expect("run");
    assert_eq!(p.summary.metrics.n_samples_failed, 0);
    assert!(
        p.summary
            .warnings
            .iter()
            .any(|w| w.starts_with("3 stream(s) ended without a finish_reason")),
        "{:?}",
        p.summary.warnings
    );
}

#[test]
fn a_kept_alive_connection_closed_after_the_stream_is_retried_not_failed() {
    // llama-server: the answer is chunked with no `connection: close`, and
    // the server closes the connection once the stream has ended. The
    // client sends its next request on that connection at once; the close
    // comes 20 ms later, before any answer byte. That request never reached
    // the engine: it is sent again on a fresh connection, not failed.
    const FINISH: &str =
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";
    let addr = scripted(vec![
        w(SSE_HEAD_CHUNKED),
        chunk(ROLE),
        chunk(HI),
        chunk(FINISH),
        chunk(DONE),
        w("0\r\n\r\n"),
        Step::Sleep(20),
        Step::Close,
    ]);
    let b = bench(
        &format!("http://{addr}"),
        true,
        Duration::from_secs(5),
        None,
    );
    let p = b.run_concurrency(1, None, Some(6), 0).expect("run");
    let m = &p.summary.metrics;
    assert_eq!(m.n_samples_failed, 0, "{:?}", m.first_error);
    assert_eq!(m.n_samples_completed, 6);
    // Every request after the first found its connection about to close.
    assert!(m.retried_after_close >= 5, "{m:?}");
    assert!(p
        .summary
        .warnings
        .iter()
        .any(|w| w.contains("sent again on a fresh connection")));
    // The virtual user connected before the run; each later request opened
    // its own.
    assert!(p
        .records
        .iter()
        .skip(1)
        .all(|r| r.new_connection && r.retried));
}

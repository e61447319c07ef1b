//! Misbehaving servers, scripted byte by byte on 127.0.0.1: every fault is
//! a counted failure or a flagged metric, never a hang or a panic.

mod common;

use std::time::{Duration, Instant};

use common::*;
use yardstick_endpoint::{PointResult, RequestError};

fn run(script: Vec<Step>, stream: bool, timeout: Duration, requests: u64) -> PointResult {
    let addr = scripted(script);
    let b = bench(&format!("http://{addr}"), stream, timeout, None);
    let t = Instant::now();
    let p = b.run_concurrency(2, None, Some(requests), 0).expect("run");
    assert!(t.elapsed() < Duration::from_secs(20), "bounded in time");
    assert_eq!(p.summary.metrics.n_samples_issued, requests);
    assert_eq!(p.records.len() as u64, requests, "no request dropped");
    p
}

/// A streaming run with a 5 s timeout.
fn run_stream(script: Vec<Step>, requests: u64) -> PointResult {
    run(script, true, Duration::from_secs(5), requests)
}

/// Every request of `$p` failed with an error matching `$pat`.
macro_rules! assert_each_error {
    ($p:expr, $pat:pat) => {
        for r in &$p.records {
            assert!(matches!(r.error, Some($pat)), "{:?}", r.error);
        }
    };
}

fn content(s: &str) -> String {
    format!("data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{s}\"}}}}]}}\n\n")
}

const ROLE: &str =
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n";
const FINISH: &str =
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";
const DONE: &str = "data: [DONE]\n\n";

#[test]
fn sse_split_across_tcp_reads() {
    // Every event split mid-JSON and mid-terminator, each piece its own
    // TCP segment.
    let full = format!("{ROLE}{}{}{FINISH}{DONE}", content("Hi"), content(" there"));
    let mut script = vec![w(SSE_HEAD_CLOSE)];
    for piece in full.as_bytes().chunks(7) {
        script.push(Step::Write(piece.to_vec()));
        script.push(Step::Sleep(1));
    }
    let p = run_stream(script, 2);
    for r in &p.records {
        assert!(r.ok(), "{:?}", r.error);
        assert_eq!(r.output.content, "Hi there");
        assert_eq!(r.text_chunks, 2);
    }
}

#[test]
fn role_only_first_chunk_does_not_count_as_first_token() {
    let script = vec![
        w(SSE_HEAD_CLOSE),
        w(ROLE),
        Step::Sleep(120),
        w(&content("Hi")),
        w(&content(" there")),
        w(FINISH),
        w(DONE),
    ];
    let p = run_stream(script, 2);
    for r in &p.records {
        assert!(r.ok(), "{:?}", r.error);
        let ttft = r.ttft_ns().expect("ttft");
        let first_event = r
            .first_event
            .expect("event")
            .duration_since(r.scheduled)
            .as_nanos() as u64;
        assert!(
            ttft >= 120_000_000,
            "TTFT {ttft} ns stamped on the role chunk"
        );
        assert!(first_event < 100_000_000, "the role chunk arrived early");
    }
}

#[test]
fn empty_deltas_are_not_tokens() {
    let empty = "data: {\"choices\":[{\"index\":0,\"delta\":{}}]}\n\n";
    let null = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":null}}]}\n\n";
    let script = vec![
        w(SSE_HEAD_CLOSE),
        w(ROLE),
        w(empty),
        w(null),
        Step::Sleep(60),
        w(&content("a")),
        w(empty),
        w(&content(" b")),
        w(FINISH),
        w(DONE),
    ];
    let p = run_stream(script, 2);
    for r in &p.records {
        assert!(r.ok(), "{:?}", r.error);
        assert_eq!(r.text_chunks, 2);
        assert_eq!(r.gaps_ns.len(), 1);
        assert!(r.ttft_ns().unwrap_or(0) >= 60_000_000);
    }
}

#[test]
fn server_closing_mid_stream_is_a_failure() {
    // Chunked: the close breaks the message framing.
    let p = run_stream(
        vec![
            w(SSE_HEAD_CHUNKED),
            chunk(ROLE),
            chunk(&content("Hi")),
            Step::Close,
        ],
        3,
    );
    assert_eq!(p.summary.metrics.n_samples_failed, 3);
    for r in &p.records {
        assert!(
            matches!(r.error, Some(RequestError::BrokenStream { .. })),
            "{:?}",
            r.error
        );
        assert_eq!(r.output.content, "Hi", "partial output is kept");
    }
    assert_eq!(p.summary.metrics.errors.get("broken_stream"), Some(&3));
    // Close-delimited: the body ends "cleanly" but the stream never finished.
    let p = run_stream(
        vec![w(SSE_HEAD_CLOSE), w(ROLE), w(&content("Hi")), Step::Close],
        2,
    );
    assert_each_error!(p, RequestError::Incomplete { .. });
}

#[test]
fn http_500_is_a_counted_failure() {
    let body = r#"{"error":{"message":"overloaded"}}"#;
    let p = run_stream(vec![json_response("500 Internal Server Error", body)], 4);
    assert_eq!(p.summary.metrics.n_samples_failed, 4);
    assert_eq!(p.summary.metrics.errors.get("http_500"), Some(&4));
    assert!(p.summary.warnings.iter().any(|w| w.contains("failed")));
    match &p.records[0].error {
        Some(RequestError::HttpStatus { status, body }) => {
            assert_eq!(*status, 500);
            assert!(body.contains("overloaded"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn slow_headers_time_out() {
    let p = run(
        vec![Step::Sleep(3000), w(SSE_HEAD_CLOSE), w(DONE)],
        true,
        Duration::from_millis(300),
        2,
    );
    for r in &p.records {
        assert!(
            matches!(r.error, Some(RequestError::Timeout { .. })),
            "{:?}",
            r.error
        );
        let lat = r.latency_ns().unwrap_or(0);
        assert!(lat < 2_000_000_000, "timed out promptly: {lat}");
    }
}

#[test]
fn invalid_json_event_is_a_failure() {
    let p = run_stream(
        vec![
            w(SSE_HEAD_CLOSE),
            w(ROLE),
            w(&content("Hi")),
            w("data: {\"choices\":[{\"delta\":{\"content\":\"x\"\n\n"),
            w(FINISH),
            w(DONE),
        ],
        2,
    );
    assert_each_error!(p, RequestError::InvalidJson { .. });
    assert_eq!(p.summary.metrics.errors.get("invalid_json"), Some(&2));
}

#[test]
fn non_sse_body_and_invalid_full_json() {
    // A stream request answered with plain JSON: no events at all.
    let body = r#"{"choices":[]}"#;
    let p = run_stream(vec![json_response("200 OK", body)], 2);
    assert_each_error!(p, RequestError::MalformedSse { .. });
    // A non-streaming answer that is not JSON.
    let p = run(
        vec![w(
            "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 5\r\n\r\nnope!",
        )],
        false,
        Duration::from_secs(5),
        2,
    );
    assert_each_error!(p, RequestError::InvalidJson { .. });
}

#[test]
fn error_object_inside_a_200_stream() {
    let p = run_stream(
        vec![
            w(SSE_HEAD_CLOSE),
            w(ROLE),
            w("data: {\"error\":{\"message\":\"out of memory\"}}\n\n"),
            w(DONE),
        ],
        1,
    );
    assert!(matches!(
        &p.records[0].error,
        Some(RequestError::ServerError { message }) if message.contains("out of memory")
    ));
}

#[test]
fn connection_refused_is_a_failure_not_a_hang() {
    // Bind then drop: nothing listens on this port now.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port");
    let b = bench(
        &format!("http://{addr}"),
        true,
        Duration::from_secs(2),
        None,
    );
    let p = b.run_concurrency(2, None, Some(4), 0).expect("run");
    assert_eq!(p.summary.metrics.n_samples_failed, 4);
    assert!(p.summary.metrics.errors.contains_key("connect"));
}

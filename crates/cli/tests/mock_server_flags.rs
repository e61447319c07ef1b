//! `yardstick mock-server`'s engine flags end to end: served models (404
//! for others), the prefix cache, reasoning tokens, the empty-answer fault,
//! `--request-log FILE`, vLLM's metric names and the `--metrics` faults.
//! Requests go over plain HTTP/1.0 to 127.0.0.1.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{start_mock, temp_scratch, Mock};
use serde_json::{json, Value};

/// (status, body) of one request to the mock.
fn request(m: &Mock, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
    let addr = m
        .url
        .strip_prefix("http://")
        .expect("an http mock")
        .to_string();
    let payload = body.map(Value::to_string).unwrap_or_default();
    let mut s = TcpStream::connect(&addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: mock\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{payload}",
        payload.len()
    )
    .expect("write");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a response head");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status");
    (status, body.to_string())
}

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn chat(model: &str, prompt: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": prompt}]})
}

/// The value of one sample line `series value` of Prometheus text.
fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' ')))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

#[test]
fn engine_flags_shape_answers_metrics_and_the_request_log() {
    let dir = temp_scratch("yardstick-mock-flags", "log");
    let log = dir.join("requests.jsonl");
    let m = start_mock(
        "60s",
        &[
            "--mode",
            "simulated",
            "--ttft",
            "1ms",
            "--tpot",
            "1ms",
            "--output-tokens",
            "3",
            "--served-model",
            "base",
            "--served-model",
            "lora-a",
            "--prefix-cache",
            "--prefix-block-tokens",
            "4",
            "--reasoning-tokens",
            "2",
            "--fault",
            "empty-answer",
            "--fault-every",
            "3",
            "--request-log",
            log.to_str().expect("utf-8 path"),
        ],
    );
    let (status, models) = request(&m, "GET", "/v1/models", None);
    assert_eq!(status, 200);
    let ids: Vec<String> = json_of(&models)["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|d| d["id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(ids, ["base", "lora-a"]);

    // 1: a model not served.
    let bodies = [
        chat("nope", "a b c d e f g h i"),
        chat("lora-a", "a b c d e f g h i"),
        chat("lora-a", "a b c d e f g h i"),
    ];
    let (status, err) = request(&m, "POST", "/v1/chat/completions", Some(&bodies[0]));
    assert_eq!(status, 404);
    assert_eq!(
        json_of(&err),
        json!({"error": {"message": "The model `nope` does not exist.", "type": "NotFoundError", "code": 404}})
    );
    // 2: served, nothing cached yet; reasoning first.
    let (status, first) = request(&m, "POST", "/v1/chat/completions", Some(&bodies[1]));
    assert_eq!(status, 200, "{first}");
    let first = json_of(&first);
    assert_eq!(first["model"], "lora-a");
    assert_eq!(
        first["choices"][0]["message"]["reasoning_content"],
        "reason0 reason1"
    );
    assert_eq!(first["choices"][0]["message"]["content"], "tok0 tok1 tok2");
    assert_eq!(first["usage"]["completion_tokens"], 5);
    assert_eq!(first["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
    // 3: the same prompt (its two full blocks cached), and the third
    // request: the empty-answer fault.
    let (status, second) = request(&m, "POST", "/v1/chat/completions", Some(&bodies[2]));
    assert_eq!(status, 200, "{second}");
    let second = json_of(&second);
    assert_eq!(second["usage"]["prompt_tokens_details"]["cached_tokens"], 8);
    assert_eq!(second["choices"][0]["message"]["content"], "");
    assert_eq!(second["choices"][0]["finish_reason"], "stop");
    assert_eq!(second["usage"]["completion_tokens"], 0);

    let (status, metrics) = request(&m, "GET", "/metrics", None);
    assert_eq!(status, 200);
    assert_eq!(
        metric(
            &metrics,
            r#"vllm:prefix_cache_hits_total{model_name="lora-a"}"#
        ),
        8.0
    );
    assert_eq!(
        metric(
            &metrics,
            r#"vllm:prefix_cache_queries_total{model_name="lora-a"}"#
        ),
        18.0
    );
    assert_eq!(
        metric(&metrics, r#"vllm:prompt_tokens_total{model_name="base"}"#),
        0.0
    );
    assert_eq!(
        metric(
            &metrics,
            r#"vllm:request_success_total{finished_reason="stop",model_name="lora-a"}"#
        ),
        1.0
    );

    // The log file: one line per request as it finished, in order here.
    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .expect("the request log")
        .lines()
        .map(json_of)
        .collect();
    assert_eq!(lines.len(), 3);
    let answers = ["", "tok0 tok1 tok2", ""];
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["seq"], i, "{l}");
        assert_eq!(l["path"], "/v1/chat/completions");
        assert_eq!(l["body"], bodies[i]);
        assert_eq!(l["answer"], answers[i]);
        assert!(l["finished_ns"].as_u64() >= l["received_ns"].as_u64());
    }
    assert_eq!(lines[0]["model"], "nope");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn metrics_faults_serve_garbage_or_nothing() {
    let garbage = start_mock("60s", &["--metrics", "garbage"]);
    let (status, body) = request(&garbage, "GET", "/metrics", None);
    assert_eq!(status, 200);
    assert!(
        !body.contains("# TYPE") && !body.contains("vllm:"),
        "{body}"
    );
    let off = start_mock("60s", &["--metrics", "off"]);
    assert_eq!(request(&off, "GET", "/metrics", None).0, 404);
    // Without --served-model the mock answers any model name.
    let (status, body) = request(
        &off,
        "POST",
        "/v1/chat/completions",
        Some(&chat("whatever", "hi")),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(json_of(&body)["model"], "mock");
}

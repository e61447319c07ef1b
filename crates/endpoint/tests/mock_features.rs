//! The mock server's engine features: prefill cost and the prefix cache,
//! vLLM's metric names, reasoning tokens, several tokens per chunk with
//! continuous usage, served models, embeddings, the request log, the
//! empty-answer fault. Requests go over raw HTTP/1.0 (a close-delimited
//! body), each read stamped on arrival, so the tests see exactly what the
//! server sent and when.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use yardstick_endpoint::{
    MockConfig, MockFault, MockMetrics, MockMode, MockServer, PrefixCacheConfig,
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

/// One answer: status, body, and for streams each `data:` event with the
/// time since the request was sent at which its last byte arrived.
struct Reply {
    status: u16,
    body: String,
    events: Vec<(Duration, Value)>,
    done: bool,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// Events carrying text (content or reasoning).
    fn token_events(&self) -> Vec<&(Duration, Value)> {
        self.events
            .iter()
            .filter(|(_, v)| {
                let d = &v["choices"][0]["delta"];
                d.get("content")
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty())
                    || d.get("reasoning_content").is_some()
            })
            .collect()
    }

    fn joined(&self, field: &str) -> String {
        self.events
            .iter()
            .filter_map(|(_, v)| v["choices"][0]["delta"][field].as_str())
            .collect()
    }

    fn final_usage(&self) -> Value {
        self.events
            .iter()
            .rev()
            .find(|(_, v)| v["choices"].as_array().is_some_and(Vec::is_empty))
            .map(|(_, v)| v["usage"].clone())
            .expect("a usage chunk")
    }
}

fn request(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> Reply {
    let payload = body.map(Value::to_string).unwrap_or_default();
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let head = format!(
        "{method} {path} HTTP/1.0\r\nHost: mock\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        payload.len()
    );
    let sent = Instant::now();
    s.write_all(head.as_bytes()).expect("write");
    s.write_all(payload.as_bytes()).expect("write");
    let mut raw = Vec::new();
    // (bytes received so far, when)
    let mut reads: Vec<(usize, Duration)> = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        let n = s.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        reads.push((raw.len(), sent.elapsed()));
    }
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&raw[..end]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status");
    let body_start = end + 4;
    let body = String::from_utf8_lossy(&raw[body_start..]).to_string();
    let mut events = Vec::new();
    let mut done = false;
    let mut at = body_start;
    while let Some(rel) = raw[at..].windows(2).position(|w| w == b"\n\n") {
        let ev_end = at + rel + 2;
        let text = String::from_utf8_lossy(&raw[at..ev_end]).to_string();
        let arrived = reads
            .iter()
            .find(|(len, _)| *len >= ev_end)
            .map(|(_, t)| *t)
            .expect("read time");
        if let Some(data) = text.trim().strip_prefix("data: ") {
            if data == "[DONE]" {
                done = true;
            } else if let Ok(v) = serde_json::from_str(data) {
                events.push((arrived, v));
            }
        }
        at = ev_end;
    }
    Reply {
        status,
        body,
        events,
        done,
    }
}

fn post(m: &MockServer, path: &str, body: &Value) -> Reply {
    request(m.addr(), "POST", path, Some(body))
}

fn get(m: &MockServer, path: &str) -> Reply {
    request(m.addr(), "GET", path, None)
}

fn chat(prompt: &str, stream: bool) -> Value {
    json!({"model": "mock", "messages": [{"role": "user", "content": prompt}],
           "stream": stream, "stream_options": {"include_usage": true}})
}

fn words(prefix: &str, n: usize) -> String {
    (0..n)
        .map(|i| format!("{prefix}{i}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Prometheus text as (name, labels, value) samples, refusing any line
/// that is not a comment or a sample (`name{labels} value`).
fn parse_prometheus(text: &str) -> Vec<(String, String, f64)> {
    let mut samples = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix("# ") {
            let kind = comment.split_whitespace().next();
            assert!(matches!(kind, Some("HELP" | "TYPE")), "comment: {line}");
            if kind == Some("TYPE") {
                let t = comment.split_whitespace().nth(2);
                assert!(matches!(t, Some("gauge" | "counter")), "{line}");
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("name value");
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value: {line}"));
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => {
                let labels = rest.strip_suffix('}').unwrap_or_else(|| panic!("{line}"));
                for pair in labels.split(',') {
                    let (k, v) = pair.split_once('=').unwrap_or_else(|| panic!("{line}"));
                    assert!(
                        !k.is_empty() && v.starts_with('"') && v.ends_with('"'),
                        "{line}"
                    );
                }
                (n.to_string(), labels.to_string())
            }
            None => (series.to_string(), String::new()),
        };
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "name: {line}"
        );
        samples.push((name, labels, value));
    }
    samples
}

fn sample(samples: &[(String, String, f64)], name: &str, labels: &str) -> f64 {
    samples
        .iter()
        .find(|(n, l, _)| n == name && l == labels)
        .map(|(_, _, v)| *v)
        .unwrap_or_else(|| panic!("no {name}{{{labels}}} in {samples:?}"))
}

/// Time to the first token chunk of a streamed request.
fn ttft(r: &Reply) -> Duration {
    r.token_events().first().expect("a token").0
}

#[test]
fn a_repeated_prompt_hits_the_prefix_cache_and_skips_its_prefill() {
    let m = mock(MockConfig {
        prefill_per_token: Duration::from_millis(2),
        prefix_cache: Some(PrefixCacheConfig {
            block_tokens: 16,
            capacity_blocks: 100,
        }),
        ..simulated(5, 1, 2)
    });
    // 87 words: five full blocks and 7 words more.
    let prompt = words("w", 87);
    let miss = post(&m, "/v1/chat/completions", &chat(&prompt, true));
    assert_eq!(miss.status, 200, "{}", miss.body);
    assert_eq!(
        miss.final_usage()["prompt_tokens_details"]["cached_tokens"],
        0
    );
    assert_eq!(miss.final_usage()["prompt_tokens"], 87);
    let hit = post(&m, "/v1/chat/completions", &chat(&prompt, true));
    assert_eq!(
        hit.final_usage()["prompt_tokens_details"]["cached_tokens"],
        80
    );
    // The miss waits 5 ms + 87 x 2 ms; the hit 5 ms + 7 x 2 ms. Arrivals
    // are never early, so the miss's bound is firm; the hit gets 80 ms of
    // slack for a loaded machine.
    assert!(
        ttft(&miss) >= Duration::from_millis(179),
        "{:?}",
        ttft(&miss)
    );
    assert!(ttft(&hit) >= Duration::from_millis(19), "{:?}", ttft(&hit));
    assert!(
        ttft(&hit) + Duration::from_millis(80) < ttft(&miss),
        "hit {:?} vs miss {:?}",
        ttft(&hit),
        ttft(&miss)
    );
    // Sharing the first two blocks, then another text: 32 cached tokens.
    let other = format!("{} {}", words("w", 32), words("x", 55));
    let partial = post(&m, "/v1/chat/completions", &chat(&other, false));
    assert_eq!(
        partial.json()["usage"]["prompt_tokens_details"]["cached_tokens"],
        32
    );

    let metrics = get(&m, "/metrics");
    assert_eq!(metrics.status, 200);
    let s = parse_prometheus(&metrics.body);
    let label = r#"model_name="mock""#;
    assert_eq!(
        sample(&s, "vllm:prefix_cache_queries_total", label),
        3.0 * 87.0
    );
    assert_eq!(
        sample(&s, "vllm:prefix_cache_hits_total", label),
        80.0 + 32.0
    );
    assert_eq!(sample(&s, "vllm:prompt_tokens_total", label), 3.0 * 87.0);
    assert_eq!(sample(&s, "vllm:generation_tokens_total", label), 6.0);
    assert_eq!(
        sample(
            &s,
            "vllm:request_success_total",
            r#"finished_reason="stop",model_name="mock""#
        ),
        3.0
    );
    // Cached blocks: five, then three more of the other prompt's five.
    assert!((sample(&s, "vllm:kv_cache_usage_perc", label) - 0.08).abs() < 1e-9);
    assert_eq!(sample(&s, "vllm:num_requests_running", label), 0.0);
    assert_eq!(sample(&s, "vllm:num_requests_waiting", label), 0.0);
    assert_eq!(sample(&s, "yardstick_mock_requests_total", ""), 3.0);
}

#[test]
fn the_prefix_cache_evicts_least_recently_used_blocks() {
    let m = mock(MockConfig {
        prefix_cache: Some(PrefixCacheConfig {
            block_tokens: 4,
            capacity_blocks: 4,
        }),
        ..MockConfig::default()
    });
    let cached = |prompt: &str| {
        post(&m, "/v1/completions", &json!({"prompt": prompt})).json()["usage"]
            ["prompt_tokens_details"]["cached_tokens"]
            .as_u64()
            .expect("cached_tokens")
    };
    let a = words("a", 8); // two blocks
    let b = words("b", 8);
    let c = words("c", 8);
    assert_eq!(cached(&a), 0);
    assert_eq!(cached(&b), 0);
    assert_eq!(cached(&a), 8, "a is cached and now the most recent");
    // c takes b's two blocks, the least recently used.
    assert_eq!(cached(&c), 0);
    assert_eq!(cached(&a), 8);
    assert_eq!(cached(&b), 0, "b was evicted");
}

#[test]
fn without_the_prefix_cache_nothing_is_cached_but_prefill_still_costs() {
    let m = mock(MockConfig {
        prefill_per_token: Duration::from_millis(1),
        ..simulated(1, 1, 2)
    });
    let prompt = words("w", 60);
    for _ in 0..2 {
        let r = post(&m, "/v1/chat/completions", &chat(&prompt, true));
        assert!(r.final_usage().get("prompt_tokens_details").is_none());
        assert!(ttft(&r) >= Duration::from_millis(61), "{:?}", ttft(&r));
    }
}

#[test]
fn metrics_faults_serve_garbage_or_nothing() {
    let garbage = mock(MockConfig {
        metrics: MockMetrics::Garbage,
        ..MockConfig::default()
    });
    let r = get(&garbage, "/metrics");
    assert_eq!(r.status, 200);
    assert!(!r.body.is_empty());
    assert!(
        std::panic::catch_unwind(|| parse_prometheus(&r.body)).is_err(),
        "garbage parsed as Prometheus text: {}",
        r.body
    );
    let off = mock(MockConfig {
        metrics: MockMetrics::Off,
        ..MockConfig::default()
    });
    assert_eq!(get(&off, "/metrics").status, 404);
    // The default serves text this parser accepts.
    let on = mock(MockConfig::default());
    assert!(!parse_prometheus(&get(&on, "/metrics").body).is_empty());
}

#[test]
fn reasoning_words_come_before_the_content_and_usage_counts_them() {
    let m = mock(MockConfig {
        reasoning_tokens: 3,
        ..simulated(1, 1, 4)
    });
    let r = post(&m, "/v1/chat/completions", &chat("hi", true));
    assert!(r.done);
    let tokens = r.token_events();
    assert_eq!(tokens.len(), 7);
    for (i, (_, v)) in tokens.iter().enumerate() {
        let delta = &v["choices"][0]["delta"];
        let (has_reasoning, has_content) = (
            delta.get("reasoning_content").is_some(),
            delta.get("content").is_some(),
        );
        assert_eq!((has_reasoning, has_content), (i < 3, i >= 3), "{v}");
    }
    assert_eq!(r.joined("reasoning_content"), "reason0 reason1 reason2");
    assert_eq!(r.joined("content"), "tok0 tok1 tok2 tok3");
    let u = r.final_usage();
    assert_eq!(u["completion_tokens"], 7);
    assert_eq!(u["completion_tokens_details"]["reasoning_tokens"], 3);

    let full = post(&m, "/v1/chat/completions", &chat("hi", false)).json();
    let msg = &full["choices"][0]["message"];
    assert_eq!(msg["reasoning_content"], "reason0 reason1 reason2");
    assert_eq!(msg["content"], "tok0 tok1 tok2 tok3");
    assert_eq!(full["usage"]["completion_tokens"], 7);
    assert_eq!(
        full["usage"]["completion_tokens_details"]["reasoning_tokens"],
        3
    );
}

#[test]
fn chunks_of_several_tokens_are_spaced_by_that_many_tpots() {
    let m = mock(MockConfig {
        tokens_per_chunk: 4,
        ..simulated(10, 20, 12)
    });
    let mut body = chat("hi", true);
    body["stream_options"]["continuous_usage_stats"] = json!(true);
    let r = post(&m, "/v1/chat/completions", &body);
    let tokens = r.token_events();
    let texts: Vec<&str> = tokens
        .iter()
        .map(|(_, v)| v["choices"][0]["delta"]["content"].as_str().expect("text"))
        .collect();
    assert_eq!(
        texts,
        [
            "tok0 tok1 tok2 tok3",
            " tok4 tok5 tok6 tok7",
            " tok8 tok9 tok10 tok11"
        ]
    );
    // Due 10 ms, 90 ms and 170 ms after the request (4 x 20 ms apart). An
    // arrival is never earlier than its send, so these bounds are firm
    // however loaded the machine; one-token spacing (20 ms) fails them.
    for (i, (at, _)) in tokens.iter().enumerate() {
        let due = Duration::from_millis(10 + 80 * i as u64);
        assert!(*at >= due, "chunk {i} arrived at {at:?}, due at {due:?}");
    }
    // Continuous usage: every chunk, role and finish included, carries the
    // tokens so far.
    let counts: Vec<u64> = r
        .events
        .iter()
        .map(|(_, v)| v["usage"]["completion_tokens"].as_u64().expect("usage"))
        .collect();
    assert_eq!(counts, [0, 4, 8, 12, 12, 12]);
    assert!(r
        .events
        .iter()
        .all(|(_, v)| v["usage"]["prompt_tokens"] == 1));

    // Without continuous_usage_stats only the last chunk has usage.
    let plain = post(&m, "/v1/chat/completions", &chat("hi", true));
    let with_usage = plain
        .events
        .iter()
        .filter(|(_, v)| v.get("usage").is_some())
        .count();
    assert_eq!(with_usage, 1);
    assert_eq!(plain.token_events().len(), 3);
}

#[test]
fn only_served_models_are_answered_and_each_is_counted() {
    let m = mock(MockConfig {
        served_models: vec!["base".into(), "lora-a".into()],
        ..MockConfig::default()
    });
    let listed: Vec<String> = get(&m, "/v1/models").json()["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|d| d["id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(listed, ["base", "lora-a"]);
    let ok = post(
        &m,
        "/v1/chat/completions",
        &json!({"model": "lora-a", "messages": [{"role": "user", "content": "one two three"}]}),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["model"], "lora-a");
    let bad = post(
        &m,
        "/v1/chat/completions",
        &json!({"model": "x", "messages": [{"role": "user", "content": "a"}]}),
    );
    assert_eq!(bad.status, 404);
    assert_eq!(
        bad.json(),
        json!({"error": {"message": "The model `x` does not exist.", "type": "NotFoundError", "code": 404}})
    );
    let s = parse_prometheus(&get(&m, "/metrics").body);
    assert_eq!(
        sample(&s, "vllm:prompt_tokens_total", r#"model_name="lora-a""#),
        3.0
    );
    assert_eq!(
        sample(&s, "vllm:prompt_tokens_total", r#"model_name="base""#),
        0.0
    );
    assert_eq!(
        sample(
            &s,
            "vllm:request_success_total",
            r#"finished_reason="stop",model_name="lora-a""#
        ),
        1.0
    );
}

#[test]
fn embeddings_have_the_asked_shape_and_depend_only_on_the_text() {
    let m = mock(MockConfig {
        embedding_dims: 16,
        ..MockConfig::default()
    });
    let two = post(
        &m,
        "/v1/embeddings",
        &json!({"model": "mock", "input": ["a b c", "d e"]}),
    );
    assert_eq!(two.status, 200, "{}", two.body);
    let v = two.json();
    assert_eq!(v["object"], "list");
    assert_eq!(v["model"], "mock");
    assert_eq!(v["usage"], json!({"prompt_tokens": 5, "total_tokens": 5}));
    let data = v["data"].as_array().expect("data");
    assert_eq!(data.len(), 2);
    let vector = |d: &Value| -> Vec<f64> {
        d["embedding"]
            .as_array()
            .expect("embedding")
            .iter()
            .map(|x| x.as_f64().expect("number"))
            .collect()
    };
    for (i, d) in data.iter().enumerate() {
        assert_eq!(d["object"], "embedding");
        assert_eq!(d["index"], i);
        let e = vector(d);
        assert_eq!(e.len(), 16);
        let norm: f64 = e.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-3, "{norm}");
    }
    assert_ne!(vector(&data[0]), vector(&data[1]));
    // A string input: the same text gives the same vector.
    let one = post(
        &m,
        "/v1/embeddings",
        &json!({"model": "mock", "input": "a b c"}),
    )
    .json();
    assert_eq!(one["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(vector(&one["data"][0]), vector(&data[0]));
    let bad = post(&m, "/v1/embeddings", &json!({"model": "mock", "input": 7}));
    assert_eq!(bad.status, 400);
}

#[test]
fn the_request_log_keeps_bodies_and_answers_in_order() {
    let off = mock(MockConfig::default());
    post(&off, "/v1/completions", &json!({"prompt": "x"}));
    assert!(off.request_log().is_empty());

    let m = mock(MockConfig {
        request_log: true,
        ..MockConfig::default()
    });
    let bodies = [
        chat("first prompt here", true),
        json!({"model": "other", "prompt": "second one", "max_tokens": 1}),
        chat("third", false),
    ];
    let paths = [
        "/v1/chat/completions",
        "/v1/completions",
        "/v1/chat/completions",
    ];
    for (path, body) in paths.iter().zip(&bodies) {
        assert_eq!(post(&m, path, body).status, 200);
    }
    let log = m.request_log();
    assert_eq!(log.len(), 3);
    let answers = ["first prompt here", "second", "third"];
    for (i, e) in log.iter().enumerate() {
        assert_eq!(e.seq, i as u64);
        assert_eq!(e.path, paths[i]);
        assert_eq!(e.body, bodies[i]);
        assert_eq!(e.answer, answers[i]);
        let done = e.finished_ns.expect("finished");
        assert!(done >= e.received_ns);
        if i > 0 {
            assert!(e.received_ns >= log[i - 1].finished_ns.expect("finished"));
        }
    }
    assert_eq!(log[0].model.as_deref(), Some("mock"));
    assert_eq!(log[1].model.as_deref(), Some("other"));
    // It serializes both ways.
    let line = serde_json::to_string(&log[1]).expect("json");
    let back: yardstick_endpoint::LoggedRequest = serde_json::from_str(&line).expect("parse");
    assert_eq!(back, log[1]);
}

#[test]
fn the_empty_answer_fault_finishes_with_no_text() {
    let m = mock(MockConfig {
        fault: Some((MockFault::EmptyAnswer, 2)),
        ..simulated(1, 1, 5)
    });
    let normal = post(&m, "/v1/chat/completions", &chat("hi", true));
    assert_eq!(normal.joined("content"), "tok0 tok1 tok2 tok3 tok4");
    let empty = post(&m, "/v1/chat/completions", &chat("hi", true));
    assert!(empty.done);
    assert!(empty.token_events().is_empty());
    assert_eq!(empty.joined("content"), "");
    let reasons: Vec<&str> = empty
        .events
        .iter()
        .filter_map(|(_, v)| v["choices"][0]["finish_reason"].as_str())
        .collect();
    assert_eq!(reasons, ["stop"]);
    assert_eq!(empty.final_usage()["completion_tokens"], 0);
    post(&m, "/v1/chat/completions", &chat("hi", false));
    let empty_full = post(&m, "/v1/chat/completions", &chat("hi", false)).json();
    assert_eq!(empty_full["choices"][0]["message"]["content"], "");
    assert_eq!(empty_full["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        m.stats().faults.load(std::sync::atomic::Ordering::Relaxed),
        2
    );
}

#[test]
fn max_throughput_chunks_its_prebuilt_stream_too() {
    let m = mock(MockConfig {
        mode: MockMode::MaxThroughput,
        output_tokens: 8,
        tokens_per_chunk: 4,
        ..MockConfig::default()
    });
    let r = post(&m, "/v1/chat/completions", &chat("hi", true));
    assert_eq!(r.token_events().len(), 2);
    assert_eq!(
        r.joined("content"),
        "tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7"
    );
    let s = parse_prometheus(&get(&m, "/metrics").body);
    assert_eq!(
        sample(&s, "vllm:generation_tokens_total", r#"model_name="mock""#),
        8.0
    );
}

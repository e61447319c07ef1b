//! Helpers of the endpoint tests: scripted raw-TCP servers on 127.0.0.1
//! (byte-exact control over splits, delays and closes), a whitespace
//! tokenizer written as JSON, and a small bench builder. Loopback only.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use yardstick_endpoint::{
    ApiKind, Bench, BenchConfig, Dataset, Prompt, RequestOptions, Slo, Timeouts, TokenCounter,
    UsageMode,
};

/// One step of a scripted response.
#[derive(Debug, Clone)]
pub enum Step {
    Write(Vec<u8>),
    Sleep(u64),
    /// Close the connection now.
    Close,
}

pub fn w(s: &str) -> Step {
    Step::Write(s.as_bytes().to_vec())
}

/// SSE head with a close-delimited body.
pub const SSE_HEAD_CLOSE: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";

/// A chunked-encoding piece.
pub fn chunk(s: &str) -> Step {
    w(&format!("{:x}\r\n{s}\r\n", s.len()))
}

pub const SSE_HEAD_CHUNKED: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";

/// A whole `application/json` response with status `status` (e.g. "200 OK").
pub fn json_response(status: &str, body: &str) -> Step {
    w(&format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    ))
}

fn read_request(s: &mut TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    loop {
        let Ok(n) = s.read(&mut tmp) else {
            return false;
        };
        if n == 0 {
            return false;
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let Ok(n) = s.read(&mut tmp) else {
                    return false;
                };
                if n == 0 {
                    return false;
                }
                buf.extend_from_slice(&tmp[..n]);
            }
            return true;
        }
    }
}

/// Serves `script` to every request on 127.0.0.1 (a thread per
/// connection; the connection closes after the script).
pub fn scripted(script: Vec<Step>) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = l.local_addr().expect("addr");
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let script = script.clone();
            std::thread::spawn(move || {
                let _ = s.set_nodelay(true);
                if !read_request(&mut s) {
                    return;
                }
                for step in script {
                    match step {
                        Step::Write(b) => {
                            if s.write_all(&b).is_err() {
                                return;
                            }
                            let _ = s.flush();
                        }
                        Step::Sleep(ms) => std::thread::sleep(Duration::from_millis(ms)),
                        Step::Close => return,
                    }
                }
            });
        }
    });
    addr
}

/// A WordLevel tokenizer over `tok0..tok99` and some words, splitting on
/// whitespace and punctuation.
pub fn tokenizer() -> TokenCounter {
    let mut vocab = serde_json::Map::new();
    vocab.insert("[UNK]".into(), 0.into());
    let words = [
        "hello", "world", "a", "b", "c", "Hi", "there", "x", "y", "z",
    ];
    let mut id = 1u64;
    for i in 0..100 {
        vocab.insert(format!("tok{i}"), id.into());
        id += 1;
    }
    for w in words {
        vocab.insert(w.into(), id.into());
        id += 1;
    }
    let json = serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
        "normalizer": null, "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": null, "decoder": null,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"}
    });
    TokenCounter::from_json(&json.to_string()).expect("tokenizer")
}

pub fn dataset(n: usize, text: &str) -> Dataset {
    Dataset {
        name: "test".into(),
        prompts: (0..n)
            .map(|_| Prompt {
                text: text.into(),
                max_tokens: Some(16),
                ..Prompt::default()
            })
            .collect(),
    }
}

pub fn config(url: &str, api: ApiKind, stream: bool, timeout: Duration) -> BenchConfig {
    BenchConfig {
        url: url.into(),
        request: RequestOptions::new(api, "mock", stream),
        headers: Vec::new(),
        api_key: None,
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            idle: timeout,
            total: timeout,
        },
        threads: 1,
        max_connections: 64,
        prewarm_connections: 0,
        busy_poll: false,
        slo: Slo::default(),
        class_slos: Default::default(),
        // The tokenizer's count with the cross-check (most tests compare).
        usage: UsageMode::Both,
        seed: 1,
        tls_trust: Default::default(),
    }
}

pub fn bench(url: &str, stream: bool, timeout: Duration, tok: Option<TokenCounter>) -> Bench {
    Bench::new(
        config(url, ApiKind::Chat, stream, timeout),
        dataset(4, "hello world"),
        tok,
        None,
    )
    .expect("bench")
}

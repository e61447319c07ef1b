//! A built-in OpenAI-compatible (and KServe v2) server for tests and for
//! measuring the client itself: `echo` streams the prompt back word by word,
//! `max-throughput` returns pre-built answers with no work, `simulated`
//! waits a TTFT then one TPOT per token, with jitter. One token is one
//! whitespace-separated word, and `usage` counts them, so a whitespace
//! tokenizer agrees with the server unless `usage_offset` says otherwise.
//!
//! Streams open with a role-only chunk sent at once (as vLLM and SGLang do),
//! so a client that stamps TTFT on it measures nearly zero. The first
//! content chunk carries `mock_sent_ns`: CLOCK_MONOTONIC when the server
//! handed the chunk to hyper, which writes it in the same poll; a client on
//! the same host compares its arrival time with it.
//!
//! Faults for tests, on every Nth request: HTTP 500, a connection closed
//! mid-stream, an event with invalid JSON, headers sent late, a stream that
//! ends without `[DONE]`.
//!
//! Server behaviours seen in real engines: `abort_streams` (a new request
//! aborts the stream in progress, which ends with `[DONE]` and no finish
//! reason, as llama-cpp-python's `interrupt_requests` does),
//! `max_concurrency` (requests beyond N wait in a queue before their TTFT
//! clock starts, so TTFT grows with load), and `usage: false` (no `usage`
//! in answers). `GET /metrics` serves the running and waiting gauges as
//! Prometheus text.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use crate::error::EndpointError;
use crate::record::monotonic_ns;

/// How the mock server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MockMode {
    /// Streams the prompt back word by word, as fast as it can.
    Echo,
    /// A pre-built answer of `output_tokens` words for every request.
    MaxThroughput,
    /// `output_tokens` (or the request's `max_tokens`) words: the first after
    /// `ttft`, then one every `tpot`, each scaled by `1 ± jitter`.
    Simulated,
}

/// A fault injected on every `every`-th request (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MockFault {
    Http500,
    /// Close the connection after half the stream.
    CloseMidStream,
    /// One event of the stream is not JSON.
    InvalidJson,
    /// Wait this long before the response head.
    SlowHeaders(Duration),
    /// End the stream without `[DONE]` or a finish reason.
    NoDone,
}

#[derive(Debug, Clone)]
pub struct MockConfig {
    pub mode: MockMode,
    /// Server threads (each its own single-threaded runtime).
    pub threads: usize,
    pub output_tokens: u32,
    pub ttft: Duration,
    pub tpot: Duration,
    /// Relative jitter of each delay, 0..1 (uniform).
    pub jitter: f64,
    /// Added to the reported `usage.completion_tokens` (token-count
    /// mismatch tests).
    pub usage_offset: i64,
    pub model: String,
    /// Stamp the first content chunk with `mock_sent_ns`.
    pub stamp: bool,
    pub fault: Option<(MockFault, u64)>,
    /// A new streamed request aborts the stream in progress: at its next
    /// due chunk that stream sends `[DONE]` and nothing else (no text, no
    /// finish reason) — llama-cpp-python's default `interrupt_requests`.
    pub abort_streams: bool,
    /// Serve at most this many requests at once; the rest wait in a queue
    /// (their TTFT counts the wait, as on a saturated engine).
    pub max_concurrency: Option<usize>,
    /// Report `usage` in answers (off: servers that never do).
    pub usage: bool,
    /// Serve https with this configuration (certificate and key).
    pub tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            mode: MockMode::Echo,
            threads: 1,
            output_tokens: 64,
            ttft: Duration::from_millis(50),
            tpot: Duration::from_millis(10),
            jitter: 0.0,
            usage_offset: 0,
            model: "mock".into(),
            stamp: true,
            fault: None,
            abort_streams: false,
            max_concurrency: None,
            usage: true,
            tls: None,
        }
    }
}

/// Counters of the mock server.
#[derive(Debug, Default)]
pub struct MockStats {
    pub requests: AtomicU64,
    pub streams: AtomicU64,
    pub faults: AtomicU64,
    pub connections: AtomicU64,
    /// Streams cut short by a newer request (`abort_streams`).
    pub aborted: AtomicU64,
    /// Requests being served now.
    pub running: AtomicU64,
    /// Requests waiting for a slot (`max_concurrency`).
    pub waiting: AtomicU64,
}

struct Shared {
    cfg: MockConfig,
    stats: Arc<MockStats>,
    counter: AtomicU64,
    /// Id of the newest streamed request (`abort_streams`).
    newest_stream: Arc<AtomicU64>,
    /// Serving slots (`max_concurrency`).
    slots: Option<Arc<tokio::sync::Semaphore>>,
    /// Pre-built answers (max-throughput).
    canned_full: Bytes,
    canned_stream: Bytes,
}

/// A running mock server; stops when dropped.
pub struct MockServer {
    addr: SocketAddr,
    https: bool,
    stats: Arc<MockStats>,
    stops: Vec<oneshot::Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("addr", &self.addr)
            .finish()
    }
}

impl MockServer {
    /// Binds `addr` (port 0 picks one) and serves on `cfg.threads` threads.
    pub fn start(cfg: MockConfig, addr: SocketAddr) -> Result<MockServer, EndpointError> {
        let listener = std::net::TcpListener::bind(addr).map_err(|source| EndpointError::Bind {
            addr: addr.to_string(),
            source,
        })?;
        let local = listener
            .local_addr()
            .map_err(|source| EndpointError::Bind {
                addr: addr.to_string(),
                source,
            })?;
        listener
            .set_nonblocking(true)
            .map_err(EndpointError::Runtime)?;
        let stats = Arc::new(MockStats::default());
        let words: Vec<String> = (0..cfg.output_tokens)
            .map(|i| format!("tok{}", i % 100))
            .collect();
        let canned_full = Bytes::from(full_body(
            &cfg.model,
            &words,
            "chat.completion",
            8,
            cfg.usage_offset,
            cfg.usage,
        ));
        let canned_stream = Bytes::from(
            stream_events(&cfg.model, &words, cfg.usage, 8, cfg.usage_offset)
                .into_iter()
                .flatten()
                .collect::<Vec<u8>>(),
        );
        let shared = Arc::new(Shared {
            cfg: cfg.clone(),
            stats: Arc::clone(&stats),
            counter: AtomicU64::new(0),
            newest_stream: Arc::new(AtomicU64::new(0)),
            slots: cfg
                .max_concurrency
                .map(|n| Arc::new(tokio::sync::Semaphore::new(n.max(1)))),
            canned_full,
            canned_stream,
        });
        let mut handles = Vec::new();
        let mut stops = Vec::new();
        let mut threads = Vec::new();
        for i in 0..cfg.threads.max(1) {
            let (t, h, stop_tx) = crate::runtime::spawn_runtime_thread(format!("ys-mock-{i}"))?;
            handles.push(h);
            stops.push(stop_tx);
            threads.push(t);
        }
        let acceptor = handles[0].clone();
        let shared2 = Arc::clone(&shared);
        acceptor.spawn(async move {
            let listener = match tokio::net::TcpListener::from_std(listener) {
                Ok(l) => l,
                Err(_) => return,
            };
            let mut k = 0usize;
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                shared2.stats.connections.fetch_add(1, Ordering::Relaxed);
                k = (k + 1) % handles.len();
                let shared = Arc::clone(&shared2);
                if k == 0 {
                    tokio::spawn(serve(shared, stream));
                } else if let Ok(std_stream) = stream.into_std() {
                    handles[k].spawn(async move {
                        if let Ok(s) = tokio::net::TcpStream::from_std(std_stream) {
                            serve(shared, s).await;
                        }
                    });
                }
            }
        });
        Ok(MockServer {
            addr: local,
            https: cfg.tls.is_some(),
            stats,
            stops,
            threads,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` (`https://` when serving TLS).
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    pub fn stats(&self) -> &MockStats {
        &self.stats
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        for s in self.stops.drain(..) {
            let _ = s.send(());
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

async fn serve(shared: Arc<Shared>, stream: tokio::net::TcpStream) {
    match shared.cfg.tls.clone() {
        None => serve_http(shared, stream).await,
        Some(tls) => {
            // A failed handshake (a client that does not trust the
            // certificate, say) just closes the connection.
            if let Ok(s) = tokio_rustls::TlsAcceptor::from(tls).accept(stream).await {
                serve_http(shared, s).await;
            }
        }
    }
}

async fn serve_http<S>(shared: Arc<Shared>, stream: S)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = service_fn(move |req| handle(Arc::clone(&shared), req));
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), svc)
        .await;
}

#[derive(Deserialize, Default)]
struct MockRequest {
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    max_tokens: Option<u32>,
    #[serde(default)]
    max_completion_tokens: Option<u32>,
    #[serde(default)]
    messages: Option<Vec<Value>>,
    #[serde(default)]
    prompt: Option<Value>,
    #[serde(default)]
    stream_options: Option<Value>,
    #[serde(default)]
    inputs: Option<Vec<Value>>,
}

fn json_response(status: StatusCode, body: impl Into<Bytes>) -> Response<MockBody> {
    let mut r = Response::new(MockBody::Full(Some(body.into())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

fn words_of(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

fn prompt_text(req: &MockRequest) -> String {
    if let Some(m) = &req.messages {
        // The last user message is echoed.
        return m
            .iter()
            .rev()
            .find(|v| v.get("role").and_then(Value::as_str) == Some("user"))
            .and_then(|v| v.get("content"))
            .map(|c| match c {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default();
    }
    match &req.prompt {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<MockBody>, Infallible> {
    let cfg = &shared.cfg;
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    if method == Method::GET {
        return Ok(match path.as_str() {
            "/v1/models" => json_response(
                StatusCode::OK,
                json!({"object": "list", "data": [{"id": cfg.model, "object": "model", "owned_by": "yardstick-mock"}]}).to_string(),
            ),
            // The server's own counters: a neutral request rate for
            // client comparisons (bench/endpoint).
            "/mock/stats" => json_response(
                StatusCode::OK,
                json!({
                    "requests": shared.stats.requests.load(Ordering::Relaxed),
                    "streams": shared.stats.streams.load(Ordering::Relaxed),
                    "faults": shared.stats.faults.load(Ordering::Relaxed),
                    "connections": shared.stats.connections.load(Ordering::Relaxed),
                    "monotonic_ns": monotonic_ns(),
                })
                .to_string(),
            ),
            "/metrics" => {
                let st = &shared.stats;
                let text = format!(
                    "# HELP yardstick_mock_requests_running Requests being served.\n# TYPE yardstick_mock_requests_running gauge\nyardstick_mock_requests_running {}\n# HELP yardstick_mock_requests_waiting Requests queued for a slot.\n# TYPE yardstick_mock_requests_waiting gauge\nyardstick_mock_requests_waiting {}\n# TYPE yardstick_mock_requests_total counter\nyardstick_mock_requests_total {}\n",
                    st.running.load(Ordering::Relaxed),
                    st.waiting.load(Ordering::Relaxed),
                    st.requests.load(Ordering::Relaxed),
                );
                let mut r = Response::new(MockBody::Full(Some(Bytes::from(text))));
                r.headers_mut().insert(
                    CONTENT_TYPE,
                    http::HeaderValue::from_static("text/plain; version=0.0.4"),
                );
                r
            }
            "/health" | "/v2/health/ready" | "/v2/health/live" => {
                json_response(StatusCode::OK, "{}")
            }
            p if p.starts_with("/v2/models/") => json_response(
                StatusCode::OK,
                json!({"name": cfg.model, "platform": "yardstick-mock",
                       "inputs": [{"name": "text_input", "datatype": "BYTES", "shape": [1]}],
                       "outputs": [{"name": "text_output", "datatype": "BYTES", "shape": [1]}]})
                .to_string(),
            ),
            _ => json_response(StatusCode::NOT_FOUND, r#"{"error":"not found"}"#),
        });
    }
    let n = shared.stats.requests.fetch_add(1, Ordering::Relaxed) + 1;
    // A newer request supersedes the stream in progress (abort_streams).
    let stream_id = shared.newest_stream.fetch_add(1, Ordering::SeqCst) + 1;
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(json_response(
                StatusCode::BAD_REQUEST,
                r#"{"error":"body"}"#,
            ))
        }
    };
    // Wait for a serving slot; the request's clock starts when it gets one.
    let slot = Slot::acquire(&shared).await;
    let start = tokio::time::Instant::now();
    let fault = cfg
        .fault
        .filter(|(_, every)| *every > 0 && n.is_multiple_of(*every))
        .map(|(f, _)| f);
    if fault.is_some() {
        shared.stats.faults.fetch_add(1, Ordering::Relaxed);
    }
    if let Some(MockFault::SlowHeaders(d)) = fault {
        tokio::time::sleep(d).await;
    }
    if fault == Some(MockFault::Http500) {
        return Ok(json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"error":{"message":"injected failure","type":"server_error"}}"#,
        ));
    }
    let chat = path.ends_with("/chat/completions");
    let completions = !chat && path.ends_with("/completions");
    let kserve = path.ends_with("/infer");
    if !(chat || completions || kserve) || method != Method::POST {
        return Ok(json_response(
            StatusCode::NOT_FOUND,
            r#"{"error":"not found"}"#,
        ));
    }
    if cfg.mode == MockMode::MaxThroughput && !kserve && fault.is_none() {
        // No parsing beyond the stream flag: pre-built answers.
        let stream = memchr::memmem::find(&body, b"\"stream\":true").is_some()
            || memchr::memmem::find(&body, b"\"stream\": true").is_some();
        if stream {
            shared.stats.streams.fetch_add(1, Ordering::Relaxed);
            return Ok(sse_response(MockBody::Full(Some(
                shared.canned_stream.clone(),
            ))));
        }
        return Ok(json_response(StatusCode::OK, shared.canned_full.clone()));
    }
    let parsed: MockRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return Ok(json_response(
                StatusCode::BAD_REQUEST,
                json!({"error": {"message": format!("invalid JSON body: {e}")}}).to_string(),
            ))
        }
    };
    let limit = parsed.max_tokens.or(parsed.max_completion_tokens);
    if kserve {
        let text = parsed
            .inputs
            .as_ref()
            .and_then(|i| i.first())
            .and_then(|t| t.get("data"))
            .and_then(|d| d.get(0))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        return Ok(json_response(
            StatusCode::OK,
            json!({"model_name": cfg.model, "outputs": [{"name": "text_output", "datatype": "BYTES", "shape": [1], "data": [text]}]}).to_string(),
        ));
    }
    let prompt = prompt_text(&parsed);
    let prompt_tokens = prompt.split_whitespace().count() as u64;
    let mut words = match cfg.mode {
        MockMode::Echo => words_of(&prompt),
        _ => (0..limit.unwrap_or(cfg.output_tokens))
            .map(|i| format!("tok{}", i % 100))
            .collect(),
    };
    if let Some(l) = limit {
        words.truncate(l as usize);
    }
    if words.is_empty() {
        words.push("empty".into());
    }
    let object = if chat {
        "chat.completion"
    } else {
        "text_completion"
    };
    let simulated = cfg.mode == MockMode::Simulated;
    if !parsed.stream {
        if simulated {
            let total = cfg.ttft + cfg.tpot * (words.len().saturating_sub(1) as u32);
            tokio::time::sleep_until(start + total).await;
        }
        let answer = json_response(
            StatusCode::OK,
            full_body(
                &cfg.model,
                &words,
                object,
                prompt_tokens,
                cfg.usage_offset,
                cfg.usage,
            ),
        );
        drop(slot);
        return Ok(answer);
    }
    shared.stats.streams.fetch_add(1, Ordering::Relaxed);
    let include_usage = parsed
        .stream_options
        .as_ref()
        .and_then(|o| o.get("include_usage"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
        && cfg.usage;
    let mut events = stream_events_for(
        chat,
        &cfg.model,
        &words,
        include_usage,
        prompt_tokens,
        cfg.usage_offset,
    );
    let seed = shared.counter.fetch_add(1, Ordering::Relaxed);
    // (delay from start, bytes, stamp?)
    let mut pieces: VecDeque<Piece> = VecDeque::new();
    let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut jitter = |d: Duration| -> Duration {
        if cfg.jitter <= 0.0 {
            return d;
        }
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let u = (rng >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
        d.mul_f64((1.0 + cfg.jitter * (2.0 * u - 1.0)).max(0.0))
    };
    let mut at = Duration::ZERO;
    let n_words = words.len();
    for (i, ev) in events.drain(..).enumerate() {
        // Event 0 is the role chunk; 1..=n_words carry words.
        let content = i >= 1 && i <= n_words;
        if simulated && content {
            at += if i == 1 {
                jitter(cfg.ttft)
            } else {
                jitter(cfg.tpot)
            };
        }
        pieces.push_back(Piece {
            at,
            bytes: ev,
            stamp: cfg.stamp && i == 1,
        });
    }
    match fault {
        Some(MockFault::CloseMidStream) => {
            let keep = pieces.len() / 2;
            pieces.truncate(keep.max(2));
            return Ok(sse_response(MockBody::Stream(
                StreamBody::new(pieces, start, true).with_slot(slot),
            )));
        }
        Some(MockFault::InvalidJson) => {
            let mid = (pieces.len() / 2).max(1);
            pieces.insert(
                mid,
                Piece {
                    at: pieces.get(mid - 1).map_or(Duration::ZERO, |p| p.at),
                    bytes: b"data: {\"choices\":[{\"delta\":{\"content\":\"oops\"\n\n".to_vec(),
                    stamp: false,
                },
            );
        }
        Some(MockFault::NoDone) => {
            // Drop the finish chunk, usage and [DONE]: only words remain.
            pieces.truncate(n_words + 1);
        }
        _ => {}
    }
    let mut body = StreamBody::new(pieces, start, false).with_slot(slot);
    if cfg.abort_streams {
        body.superseded_by = Some(Supersede {
            newest: Arc::clone(&shared.newest_stream),
            id: stream_id,
            stats: Arc::clone(&shared.stats),
        });
    }
    Ok(sse_response(MockBody::Stream(body)))
}

/// A serving slot (`max_concurrency`), counted in the running gauge while
/// held.
struct Slot {
    _permit: Option<tokio::sync::OwnedSemaphorePermit>,
    stats: Arc<MockStats>,
}

impl Slot {
    async fn acquire(shared: &Shared) -> Slot {
        let permit = match &shared.slots {
            None => None,
            Some(sem) => {
                shared.stats.waiting.fetch_add(1, Ordering::Relaxed);
                // The semaphore is never closed, so this only fails if it
                // were; then the request is served without a slot.
                let p = Arc::clone(sem).acquire_owned().await.ok();
                shared.stats.waiting.fetch_sub(1, Ordering::Relaxed);
                p
            }
        };
        shared.stats.running.fetch_add(1, Ordering::Relaxed);
        Slot {
            _permit: permit,
            stats: Arc::clone(&shared.stats),
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.stats.running.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Tells a stream that a newer request arrived (`abort_streams`).
struct Supersede {
    newest: Arc<AtomicU64>,
    id: u64,
    stats: Arc<MockStats>,
}

fn sse_response(body: MockBody) -> Response<MockBody> {
    let mut r = Response::new(body);
    r.headers_mut().insert(
        CONTENT_TYPE,
        http::HeaderValue::from_static("text/event-stream"),
    );
    r.headers_mut()
        .insert(CACHE_CONTROL, http::HeaderValue::from_static("no-cache"));
    r
}

fn usage_json(prompt: u64, completion: u64, offset: i64) -> Value {
    let c = (completion as i64 + offset).max(0) as u64;
    json!({"prompt_tokens": prompt, "completion_tokens": c, "total_tokens": prompt + c})
}

fn full_body(
    model: &str,
    words: &[String],
    object: &str,
    prompt: u64,
    offset: i64,
    usage: bool,
) -> Vec<u8> {
    let text = words.join(" ");
    let choice = if object == "chat.completion" {
        json!({"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"})
    } else {
        json!({"index": 0, "text": text, "finish_reason": "stop"})
    };
    let mut v = json!({"id": "mock", "object": object, "created": 0, "model": model,
           "choices": [choice]});
    if usage {
        v["usage"] = usage_json(prompt, words.len() as u64, offset);
    }
    v.to_string().into_bytes()
}

fn sse(v: &Value) -> Vec<u8> {
    let mut s = b"data: ".to_vec();
    s.extend_from_slice(v.to_string().as_bytes());
    s.extend_from_slice(b"\n\n");
    s
}

fn stream_events(
    model: &str,
    words: &[String],
    usage: bool,
    prompt: u64,
    offset: i64,
) -> Vec<Vec<u8>> {
    stream_events_for(true, model, words, usage, prompt, offset)
}

/// role chunk, one chunk per word, finish chunk, usage chunk, [DONE].
fn stream_events_for(
    chat: bool,
    model: &str,
    words: &[String],
    usage: bool,
    prompt: u64,
    offset: i64,
) -> Vec<Vec<u8>> {
    let object = if chat {
        "chat.completion.chunk"
    } else {
        "text_completion"
    };
    let chunk = |choice: Value| json!({"id": "mock", "object": object, "created": 0, "model": model, "choices": [choice]});
    let mut out = Vec::with_capacity(words.len() + 4);
    if chat {
        out.push(sse(&chunk(
            json!({"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}),
        )));
    } else {
        out.push(sse(&chunk(
            json!({"index": 0, "text": "", "finish_reason": null}),
        )));
    }
    for (i, w) in words.iter().enumerate() {
        let piece = if i == 0 { w.clone() } else { format!(" {w}") };
        let c = if chat {
            json!({"index": 0, "delta": {"content": piece}, "finish_reason": null})
        } else {
            json!({"index": 0, "text": piece, "finish_reason": null})
        };
        out.push(sse(&chunk(c)));
    }
    let fin = if chat {
        json!({"index": 0, "delta": {}, "finish_reason": "stop"})
    } else {
        json!({"index": 0, "text": "", "finish_reason": "stop"})
    };
    out.push(sse(&chunk(fin)));
    if usage {
        out.push(sse(&json!({"id": "mock", "object": object, "created": 0, "model": model,
                             "choices": [], "usage": usage_json(prompt, words.len() as u64, offset)})));
    }
    out.push(b"data: [DONE]\n\n".to_vec());
    out
}

struct Piece {
    /// Due time, from the request's arrival.
    at: Duration,
    bytes: Vec<u8>,
    /// Insert `mock_sent_ns` when sending.
    stamp: bool,
}

/// A streamed body that yields each piece at its due time. Pieces already
/// due go out together in one poll (hyper writes them in one syscall).
pub struct StreamBody {
    pieces: VecDeque<Piece>,
    start: tokio::time::Instant,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    /// End with an error (hyper then aborts the connection mid-body).
    abort_at_end: bool,
    abort_due: Option<tokio::time::Instant>,
    /// Held until the last piece is sent.
    slot: Option<Slot>,
    superseded_by: Option<Supersede>,
}

impl StreamBody {
    fn new(pieces: VecDeque<Piece>, start: tokio::time::Instant, abort_at_end: bool) -> Self {
        StreamBody {
            pieces,
            start,
            sleep: None,
            abort_at_end,
            abort_due: None,
            slot: None,
            superseded_by: None,
        }
    }

    fn with_slot(mut self, slot: Slot) -> Self {
        self.slot = Some(slot);
        self
    }

    /// A newer request arrived since this stream's: drop what is left and
    /// end with a bare `[DONE]`.
    fn superseded(&self) -> bool {
        self.superseded_by
            .as_ref()
            .is_some_and(|s| s.newest.load(Ordering::SeqCst) != s.id)
    }
}

/// Waits for `due` on the body's one reusable timer (created on first use,
/// re-armed when the deadline changes).
fn poll_sleep_until(
    sleep: &mut Option<Pin<Box<tokio::time::Sleep>>>,
    due: tokio::time::Instant,
    cx: &mut Context<'_>,
) -> Poll<()> {
    let sleep = sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(due)));
    if sleep.deadline() != due {
        sleep.as_mut().reset(due);
    }
    sleep.as_mut().poll(cx)
}

/// The mock's response body.
pub enum MockBody {
    Full(Option<Bytes>),
    Stream(StreamBody),
}

/// Error that aborts a mock stream.
#[derive(Debug)]
pub struct MockAbort;

impl std::fmt::Display for MockAbort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("injected mid-stream close")
    }
}

impl std::error::Error for MockAbort {}

impl Body for MockBody {
    type Data = Bytes;
    type Error = MockAbort;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, MockAbort>>> {
        match self.get_mut() {
            MockBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            MockBody::Stream(s) => {
                let due = match s.pieces.front() {
                    Some(next) => s.start + next.at,
                    None if s.abort_at_end => {
                        // Abort a little after the last piece, so what was
                        // sent is flushed first: a real mid-stream close.
                        let due = *s.abort_due.get_or_insert_with(|| {
                            tokio::time::Instant::now() + Duration::from_millis(20)
                        });
                        if poll_sleep_until(&mut s.sleep, due, cx).is_pending() {
                            return Poll::Pending;
                        }
                        s.abort_at_end = false;
                        return Poll::Ready(Some(Err(MockAbort)));
                    }
                    None => return Poll::Ready(None),
                };
                if tokio::time::Instant::now() < due
                    && poll_sleep_until(&mut s.sleep, due, cx).is_pending()
                {
                    return Poll::Pending;
                }
                let now = tokio::time::Instant::now();
                let mut out = Vec::new();
                // The role chunk (due at once) always goes out; an abort
                // is noticed at the next chunk after it.
                if s.pieces.front().is_some_and(|p| !p.at.is_zero()) && s.superseded() {
                    s.pieces.clear();
                    s.slot = None;
                    if let Some(sup) = s.superseded_by.take() {
                        sup.stats.aborted.fetch_add(1, Ordering::Relaxed);
                    }
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(
                        b"data: [DONE]\n\n",
                    )))));
                }
                while let Some(p) = s.pieces.front() {
                    if s.start + p.at > now {
                        break;
                    }
                    let Some(p) = s.pieces.pop_front() else { break };
                    if p.stamp {
                        // data: {"mock_sent_ns":N,<rest of the object>
                        let rest = p.bytes.get(7..).unwrap_or_default();
                        out.extend_from_slice(b"data: {\"mock_sent_ns\":");
                        out.extend_from_slice(monotonic_ns().to_string().as_bytes());
                        out.push(b',');
                        out.extend_from_slice(rest);
                    } else {
                        out.extend_from_slice(&p.bytes);
                    }
                }
                if s.pieces.is_empty() {
                    s.slot = None;
                }
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            MockBody::Full(b) => b.is_none(),
            MockBody::Stream(s) => s.pieces.is_empty() && !s.abort_at_end,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            MockBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            MockBody::Full(None) => SizeHint::with_exact(0),
            MockBody::Stream(_) => SizeHint::default(),
        }
    }
}

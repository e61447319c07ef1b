//! A built-in OpenAI-compatible (and KServe v2) server for tests and for
//! measuring the client itself: `echo` streams the prompt back word by word,
//! `max-throughput` returns pre-built answers with no work, `simulated`
//! waits a TTFT then one TPOT per token, with jitter. One token is one
//! whitespace-separated word, and `usage` counts them, so a whitespace
//! tokenizer agrees with the server unless `usage_offset` says otherwise.
//!
//! Streams open with a role-only chunk sent at once (as vLLM and SGLang do),
//! so a client that stamps TTFT on it measures nearly zero. The first
//! token chunk carries `mock_sent_ns`: CLOCK_MONOTONIC when the server
//! handed the chunk to hyper, which writes it in the same poll; a client on
//! the same host compares its arrival time with it.
//!
//! Faults for tests, on every Nth request: HTTP 500, a connection closed
//! mid-stream, an event with invalid JSON, headers sent late, a stream that
//! ends without `[DONE]`, an answer with no text at all.
//!
//! Server behaviours seen in real engines: `abort_streams` (a new request
//! aborts the stream in progress, which ends with `[DONE]` and no finish
//! reason, as llama-cpp-python's `interrupt_requests` does),
//! `max_concurrency` (requests beyond N wait in a queue before their TTFT
//! clock starts, so TTFT grows with load), `usage: false` (no `usage` in
//! answers), a prefill cost per uncached prompt token with a vLLM-style
//! prefix cache, reasoning tokens, several tokens per chunk with vLLM's
//! continuous usage, served models (LoRA adapters), embeddings. `GET
//! /metrics` serves the mock's own gauges and vLLM's metric names as
//! Prometheus text.
//!
//! The request log (off by default) keeps every POST with its body and the
//! text answered, for tests that check what a client sent.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::convert::Infallible;
use std::fmt::Write as _;
use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write as _;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
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
use serde::{Deserialize, Serialize};
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
    /// A complete answer with no text at all: finish reason `stop`, zero
    /// completion tokens (a model that emits EOS at once).
    EmptyAnswer,
}

/// What `GET /metrics` serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MockMetrics {
    /// Prometheus text (format 0.0.4).
    #[default]
    Prometheus,
    /// HTTP 200 with text that is not Prometheus' format (scraper tests).
    Garbage,
    /// HTTP 404, as a server without a metrics endpoint.
    Off,
}

/// vLLM-style automatic prefix caching: prompts are cut into blocks of
/// `block_tokens` words, each full block named by a hash chained over the
/// blocks before it, and the cache keeps the `capacity_blocks` most
/// recently used blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixCacheConfig {
    pub block_tokens: usize,
    pub capacity_blocks: usize,
}

impl Default for PrefixCacheConfig {
    fn default() -> Self {
        PrefixCacheConfig {
            block_tokens: 16,
            capacity_blocks: 4096,
        }
    }
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
    /// The model named in answers (and in `/metrics`) when `served_models`
    /// is empty.
    pub model: String,
    /// Stamp the first token chunk with `mock_sent_ns`.
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
    /// Prefill cost: the first token waits this long more per uncached
    /// prompt token (echo and simulated modes; prompt tokens are words of
    /// every message, or of the prompt).
    pub prefill_per_token: Duration,
    /// Keep a prefix cache: cached leading blocks cost no prefill, and
    /// answers report `usage.prompt_tokens_details.cached_tokens`.
    pub prefix_cache: Option<PrefixCacheConfig>,
    /// Chat answers first stream this many words as `reasoning_content`
    /// (counted in `completion_tokens`; `max_tokens` limits the content
    /// words only).
    pub reasoning_tokens: u32,
    /// Words per stream chunk; a chunk of K words is sent K x `tpot` after
    /// the one before it.
    pub tokens_per_chunk: u32,
    /// The models served (a base model and its LoRA adapters, say). Empty:
    /// any model name is accepted and `model` is listed. Otherwise a
    /// request naming another model gets HTTP 404 as from vLLM.
    pub served_models: Vec<String>,
    /// Length of the vectors `/v1/embeddings` answers.
    pub embedding_dims: usize,
    /// What `/metrics` serves.
    pub metrics: MockMetrics,
    /// Keep every POST request in memory ([`MockServer::request_log`]).
    pub request_log: bool,
    /// Also append each logged request, as it finishes, to this file as
    /// one JSON line (implies `request_log`).
    pub request_log_file: Option<Arc<Mutex<std::fs::File>>>,
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
            prefill_per_token: Duration::ZERO,
            prefix_cache: None,
            reasoning_tokens: 0,
            tokens_per_chunk: 1,
            served_models: Vec::new(),
            embedding_dims: 64,
            metrics: MockMetrics::Prometheus,
            request_log: false,
            request_log_file: None,
        }
    }
}

/// One request as the mock server received and answered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedRequest {
    /// Arrival order, from 0.
    pub seq: u64,
    pub path: String,
    /// The body's `model`.
    pub model: Option<String>,
    /// CLOCK_MONOTONIC ([`monotonic_ns`]) when the request head arrived.
    pub received_ns: u64,
    /// When the last byte of the answer was handed to the connection;
    /// `None` while it is being served or if the client went away first.
    pub finished_ns: Option<u64>,
    /// The request body (a JSON string of the raw text if it was not JSON).
    pub body: Value,
    /// The content text sent (reasoning excluded; a cut stream: what was
    /// sent).
    pub answer: String,
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

/// Counters of one served model, in vLLM's terms.
#[derive(Debug, Default)]
struct ModelCounters {
    prompt_tokens: AtomicU64,
    generation_tokens: AtomicU64,
    /// Requests answered to the end (`finished_reason="stop"`).
    finished_stop: AtomicU64,
    /// Streams cut short by a newer request (`finished_reason="abort"`).
    finished_abort: AtomicU64,
    /// Max-throughput's pre-built answers: each a success of
    /// `output_tokens` tokens.
    canned_answers: AtomicU64,
    /// Prompt tokens looked up in the prefix cache, and those found.
    prefix_queries: AtomicU64,
    prefix_hits: AtomicU64,
}

/// Locks, going on with the data if a thread panicked while holding it
/// (the mock's logs and cache stay usable).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct RequestLog {
    entries: Mutex<Vec<LoggedRequest>>,
    file: Option<Arc<Mutex<std::fs::File>>>,
}

impl RequestLog {
    fn begin(&self, path: &str, received_ns: u64, raw: &[u8]) -> u64 {
        let body = serde_json::from_slice::<Value>(raw)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(raw).into_owned()));
        let model = body
            .get("model")
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut entries = lock(&self.entries);
        let seq = entries.len() as u64;
        entries.push(LoggedRequest {
            seq,
            path: path.to_string(),
            model,
            received_ns,
            finished_ns: None,
            body,
            answer: String::new(),
        });
        seq
    }

    fn finish(&self, seq: u64, finished_ns: Option<u64>, answer: String) {
        let line = {
            let mut entries = lock(&self.entries);
            let Some(e) = entries.get_mut(seq as usize) else {
                return;
            };
            e.finished_ns = finished_ns;
            e.answer = answer;
            match &self.file {
                Some(_) => serde_json::to_string(e).ok(),
                None => None,
            }
        };
        if let (Some(file), Some(mut line)) = (&self.file, line) {
            line.push('\n');
            let mut f = lock(file);
            // A full disk loses log lines, never answers.
            let _ = f.write_all(line.as_bytes()).and_then(|()| f.flush());
        }
    }
}

/// The prefix cache: block hash -> last use, and last use -> block hash for
/// least-recently-used eviction.
struct PrefixCache {
    cfg: PrefixCacheConfig,
    tick: u64,
    last_use: HashMap<u64, u64>,
    by_use: BTreeMap<u64, u64>,
}

impl PrefixCache {
    fn new(cfg: PrefixCacheConfig) -> Self {
        PrefixCache {
            cfg: PrefixCacheConfig {
                block_tokens: cfg.block_tokens.max(1),
                capacity_blocks: cfg.capacity_blocks.max(1),
            },
            tick: 0,
            last_use: HashMap::new(),
            by_use: BTreeMap::new(),
        }
    }

    /// Hashes of the prompt's full blocks, each chained over the ones
    /// before it (and the model: adapters do not share blocks).
    fn block_hashes(&self, model: usize, prompt: &str) -> Vec<u64> {
        let words: Vec<&str> = prompt.split_whitespace().collect();
        let mut prev = model as u64;
        words
            .chunks_exact(self.cfg.block_tokens)
            .map(|block| {
                let mut h = DefaultHasher::new();
                prev.hash(&mut h);
                block.hash(&mut h);
                prev = h.finish();
                prev
            })
            .collect()
    }

    /// The number of leading blocks already cached; then caches them all.
    fn lookup_and_insert(&mut self, hashes: &[u64]) -> usize {
        let hit = hashes
            .iter()
            .take_while(|h| self.last_use.contains_key(h))
            .count();
        // Touched last block first, so the oldest use is a prompt's tail:
        // eviction takes tails before the heads that other prompts share
        // (vLLM frees a request's blocks in reverse order for this).
        for h in hashes.iter().rev() {
            self.tick += 1;
            if let Some(old) = self.last_use.insert(*h, self.tick) {
                self.by_use.remove(&old);
            }
            self.by_use.insert(self.tick, *h);
        }
        while self.last_use.len() > self.cfg.capacity_blocks {
            let Some((_, h)) = self.by_use.pop_first() else {
                break;
            };
            self.last_use.remove(&h);
        }
        hit
    }

    fn usage(&self) -> f64 {
        self.last_use.len() as f64 / self.cfg.capacity_blocks as f64
    }
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
    /// The names listed and counted: `served_models`, or `model`.
    models: Vec<String>,
    /// Per entry of `models`.
    counters: Vec<ModelCounters>,
    log: Option<RequestLog>,
    prefix_cache: Option<Mutex<PrefixCache>>,
    /// Max-throughput may answer without parsing: nothing configured
    /// needs the request's content.
    canned_ok: bool,
}

impl Shared {
    /// Index in `models` of the requested model; `None`: not served.
    fn model_index(&self, requested: Option<&str>) -> Option<usize> {
        if self.cfg.served_models.is_empty() {
            return Some(0);
        }
        match requested {
            None => Some(0),
            Some(name) => self.models.iter().position(|m| m == name),
        }
    }
}

/// A running mock server; stops when dropped.
pub struct MockServer {
    addr: SocketAddr,
    https: bool,
    stats: Arc<MockStats>,
    shared: Arc<Shared>,
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
        let canned = Answer {
            chat: true,
            model: &cfg.model,
            reasoning: &[],
            content: &words,
            prompt_tokens: 8,
            cached_tokens: None,
            usage_offset: cfg.usage_offset,
        };
        let canned_full = Bytes::from(canned.full_body(cfg.usage));
        let canned_stream = Bytes::from(
            canned
                .stream_events(cfg.tokens_per_chunk, cfg.usage, false)
                .into_iter()
                .flat_map(|e| e.bytes)
                .collect::<Vec<u8>>(),
        );
        let models = if cfg.served_models.is_empty() {
            vec![cfg.model.clone()]
        } else {
            cfg.served_models.clone()
        };
        let log = (cfg.request_log || cfg.request_log_file.is_some()).then(|| RequestLog {
            entries: Mutex::new(Vec::new()),
            file: cfg.request_log_file.clone(),
        });
        let canned_ok = log.is_none()
            && cfg.served_models.is_empty()
            && cfg.reasoning_tokens == 0
            && cfg.prefix_cache.is_none();
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
            counters: models.iter().map(|_| ModelCounters::default()).collect(),
            models,
            log,
            prefix_cache: cfg.prefix_cache.map(|c| Mutex::new(PrefixCache::new(c))),
            canned_ok,
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
            shared,
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

    /// Every POST received so far, in arrival order (empty unless
    /// `request_log` is on).
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.shared
            .log
            .as_ref()
            .map(|l| lock(&l.entries).clone())
            .unwrap_or_default()
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
    model: Option<String>,
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
    /// Embeddings.
    #[serde(default)]
    input: Option<Value>,
}

impl MockRequest {
    fn stream_option(&self, name: &str) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|o| o.get(name))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
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

fn text_response(status: StatusCode, text: String) -> Response<MockBody> {
    let mut r = Response::new(MockBody::Full(Some(Bytes::from(text))));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

fn words_of(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

fn content_text(c: &Value) -> String {
    match c {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The text echoed: the last user message, or the prompt.
fn echo_text(req: &MockRequest) -> String {
    if let Some(m) = &req.messages {
        return m
            .iter()
            .rev()
            .find(|v| v.get("role").and_then(Value::as_str) == Some("user"))
            .and_then(|v| v.get("content"))
            .map(content_text)
            .unwrap_or_default();
    }
    match &req.prompt {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// The whole prompt, as the mock counts and caches it: every message's
/// content in order (a conversation's earlier turns are its prefix), or
/// the prompt.
fn prompt_text(req: &MockRequest) -> String {
    match &req.messages {
        Some(m) => m
            .iter()
            .filter_map(|v| v.get("content"))
            .map(content_text)
            .collect::<Vec<_>>()
            .join("\n"),
        None => echo_text(req),
    }
}

/// vLLM's answer for a model it does not serve.
fn unknown_model(name: &str) -> Response<MockBody> {
    json_response(
        StatusCode::NOT_FOUND,
        json!({"error": {"message": format!("The model `{name}` does not exist."),
                         "type": "NotFoundError", "code": 404}})
        .to_string(),
    )
}

/// A Prometheus label value, escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn metrics_text(shared: &Shared) -> String {
    let st = &shared.stats;
    let mut t = format!(
        "# HELP yardstick_mock_requests_running Requests being served.\n# TYPE yardstick_mock_requests_running gauge\nyardstick_mock_requests_running {}\n# HELP yardstick_mock_requests_waiting Requests queued for a slot.\n# TYPE yardstick_mock_requests_waiting gauge\nyardstick_mock_requests_waiting {}\n# TYPE yardstick_mock_requests_total counter\nyardstick_mock_requests_total {}\n",
        st.running.load(Ordering::Relaxed),
        st.waiting.load(Ordering::Relaxed),
        st.requests.load(Ordering::Relaxed),
    );
    // Engine-wide gauges under the first model's name (vLLM reports its
    // LoRA adapters under the base model's name too).
    let base = label(&shared.models[0]);
    let kv = shared
        .prefix_cache
        .as_ref()
        .map_or(0.0, |c| lock(c).usage());
    for (name, help, kind, value) in [
        (
            "vllm:num_requests_running",
            "Number of requests in model execution batches.",
            "gauge",
            st.running.load(Ordering::Relaxed).to_string(),
        ),
        (
            "vllm:num_requests_waiting",
            "Number of requests waiting to be processed.",
            "gauge",
            st.waiting.load(Ordering::Relaxed).to_string(),
        ),
        (
            "vllm:kv_cache_usage_perc",
            "KV-cache usage. 1 means 100 percent usage.",
            "gauge",
            format!("{kv}"),
        ),
    ] {
        let _ = write!(
            t,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name}{{model_name=\"{base}\"}} {value}\n"
        );
    }
    let output_tokens = u64::from(shared.cfg.output_tokens);
    let canned = |c: &ModelCounters| c.canned_answers.load(Ordering::Relaxed);
    let generation =
        |c: &ModelCounters| c.generation_tokens.load(Ordering::Relaxed) + canned(c) * output_tokens;
    let stop = |c: &ModelCounters| c.finished_stop.load(Ordering::Relaxed) + canned(c);
    let abort = |c: &ModelCounters| c.finished_abort.load(Ordering::Relaxed);
    type Get<'a> = &'a dyn Fn(&ModelCounters) -> u64;
    let load = |get: fn(&ModelCounters) -> &AtomicU64| {
        move |c: &ModelCounters| get(c).load(Ordering::Relaxed)
    };
    let (queries, hits, prompt) = (
        load(|c| &c.prefix_queries),
        load(|c| &c.prefix_hits),
        load(|c| &c.prompt_tokens),
    );
    let per_model: [(&str, &str, Get); 4] = [
        (
            "vllm:prefix_cache_queries_total",
            "Prefix cache queries, in terms of number of queried tokens.",
            &queries,
        ),
        (
            "vllm:prefix_cache_hits_total",
            "Prefix cache hits, in terms of number of cached tokens.",
            &hits,
        ),
        (
            "vllm:prompt_tokens_total",
            "Number of prefill tokens processed.",
            &prompt,
        ),
        (
            "vllm:generation_tokens_total",
            "Number of generation tokens processed.",
            &generation,
        ),
    ];
    for (name, help, get) in per_model {
        let _ = write!(t, "# HELP {name} {help}\n# TYPE {name} counter\n");
        for (m, c) in shared.models.iter().zip(&shared.counters) {
            let _ = writeln!(t, "{name}{{model_name=\"{}\"}} {}", label(m), get(c));
        }
    }
    let name = "vllm:request_success_total";
    let _ = write!(
        t,
        "# HELP {name} Count of successfully processed requests.\n# TYPE {name} counter\n"
    );
    for (m, c) in shared.models.iter().zip(&shared.counters) {
        for (reason, n) in [("stop", stop(c)), ("abort", abort(c))] {
            let _ = writeln!(
                t,
                "{name}{{finished_reason=\"{reason}\",model_name=\"{}\"}} {}",
                label(m),
                n
            );
        }
    }
    t
}

fn handle_get(shared: &Shared, path: &str) -> Response<MockBody> {
    let cfg = &shared.cfg;
    match path {
        "/v1/models" => {
            let data: Vec<Value> = shared
                .models
                .iter()
                .map(|m| json!({"id": m, "object": "model", "owned_by": "yardstick-mock"}))
                .collect();
            json_response(
                StatusCode::OK,
                json!({"object": "list", "data": data}).to_string(),
            )
        }
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
        "/metrics" => match cfg.metrics {
            MockMetrics::Prometheus => text_response(StatusCode::OK, metrics_text(shared)),
            MockMetrics::Garbage => text_response(
                StatusCode::OK,
                "<html><body>metrics { are not here\n\x01 running=1;waiting=\n</body>\n"
                    .to_string(),
            ),
            MockMetrics::Off => json_response(StatusCode::NOT_FOUND, r#"{"error":"not found"}"#),
        },
        "/health" | "/v2/health/ready" | "/v2/health/live" => json_response(StatusCode::OK, "{}"),
        p if p.starts_with("/v2/models/") => json_response(
            StatusCode::OK,
            json!({"name": cfg.model, "platform": "yardstick-mock",
                   "inputs": [{"name": "text_input", "datatype": "BYTES", "shape": [1]}],
                   "outputs": [{"name": "text_output", "datatype": "BYTES", "shape": [1]}]})
            .to_string(),
        ),
        _ => json_response(StatusCode::NOT_FOUND, r#"{"error":"not found"}"#),
    }
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<MockBody>, Infallible> {
    // Only the request log reads the clock here: the fast path stays lean.
    let received_ns = if shared.log.is_some() {
        monotonic_ns()
    } else {
        0
    };
    let cfg = &shared.cfg;
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    if method == Method::GET {
        return Ok(handle_get(&shared, &path));
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
    let log_seq = shared
        .log
        .as_ref()
        .map(|l| l.begin(&path, received_ns, &body));
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
        log_failure(&shared, log_seq);
        return Ok(json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"error":{"message":"injected failure","type":"server_error"}}"#,
        ));
    }
    let chat = path.ends_with("/chat/completions");
    let completions = !chat && path.ends_with("/completions");
    let kserve = path.ends_with("/infer");
    let embeddings = path.ends_with("/embeddings");
    if !(chat || completions || kserve || embeddings) || method != Method::POST {
        log_failure(&shared, log_seq);
        return Ok(json_response(
            StatusCode::NOT_FOUND,
            r#"{"error":"not found"}"#,
        ));
    }
    if cfg.mode == MockMode::MaxThroughput
        && shared.canned_ok
        && !kserve
        && !embeddings
        && fault.is_none()
    {
        // No parsing beyond the stream flag: pre-built answers.
        let stream = memchr::memmem::find(&body, b"\"stream\":true").is_some()
            || memchr::memmem::find(&body, b"\"stream\": true").is_some();
        // One counter for both vLLM counters (they are derived from it).
        shared.counters[0]
            .canned_answers
            .fetch_add(1, Ordering::Relaxed);
        if stream {
            shared.stats.streams.fetch_add(1, Ordering::Relaxed);
            return Ok(sse_response(MockBody::Full(Some(
                shared.canned_stream.clone(),
            ))));
        }
        return Ok(json_response(StatusCode::OK, shared.canned_full.clone()));
    }
    // Settles the counters and the log when the answer is done (the
    // pre-built answers above need neither).
    let mut finish = Finish {
        shared: Arc::clone(&shared),
        model: 0,
        log_seq,
        answer_words: Vec::new(),
        sent_words: 0,
        faulty: fault.is_some(),
        ended: None,
    };
    let parsed: MockRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            finish.end(Ended::Failed);
            return Ok(json_response(
                StatusCode::BAD_REQUEST,
                json!({"error": {"message": format!("invalid JSON body: {e}")}}).to_string(),
            ));
        }
    };
    let Some(model_idx) = shared.model_index(parsed.model.as_deref()) else {
        finish.end(Ended::Failed);
        return Ok(unknown_model(parsed.model.as_deref().unwrap_or_default()));
    };
    finish.model = model_idx;
    let model = shared.models[model_idx].as_str();
    let counters = &shared.counters[model_idx];
    let simulated = cfg.mode == MockMode::Simulated;
    // Prefill is work: max-throughput does none.
    let prefill = |tokens: u64| -> Duration {
        if cfg.mode == MockMode::MaxThroughput {
            Duration::ZERO
        } else {
            cfg.prefill_per_token
                .saturating_mul(u32::try_from(tokens).unwrap_or(u32::MAX))
        }
    };
    if embeddings {
        let inputs: Vec<String> = match &parsed.input {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) if a.iter().all(Value::is_string) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => {
                finish.end(Ended::Failed);
                return Ok(json_response(
                    StatusCode::BAD_REQUEST,
                    r#"{"error":{"message":"input must be a string or a list of strings","type":"BadRequestError","code":400}}"#,
                ));
            }
        };
        let tokens: u64 = inputs
            .iter()
            .map(|s| s.split_whitespace().count() as u64)
            .sum();
        let wait = if simulated { cfg.ttft } else { Duration::ZERO } + prefill(tokens);
        tokio::time::sleep_until(start + wait).await;
        counters.prompt_tokens.fetch_add(tokens, Ordering::Relaxed);
        let data: Vec<Value> = inputs
            .iter()
            .enumerate()
            .map(|(i, s)| json!({"object": "embedding", "index": i, "embedding": embedding(s, cfg.embedding_dims)}))
            .collect();
        let answer = json_response(
            StatusCode::OK,
            json!({"object": "list", "data": data, "model": model,
                   "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})
            .to_string(),
        );
        finish.end(Ended::Stop);
        drop(slot);
        return Ok(answer);
    }
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
        if finish.log_seq.is_some() {
            finish.answer_words = words_of(&text);
            finish.sent_words = finish.answer_words.len();
        }
        finish.end(Ended::Stop);
        return Ok(json_response(
            StatusCode::OK,
            json!({"model_name": cfg.model, "outputs": [{"name": "text_output", "datatype": "BYTES", "shape": [1], "data": [text]}]}).to_string(),
        ));
    }
    let limit = parsed.max_tokens.or(parsed.max_completion_tokens);
    let prompt = prompt_text(&parsed);
    let prompt_tokens = prompt.split_whitespace().count() as u64;
    let cached_tokens = shared.prefix_cache.as_ref().map(|cache| {
        let mut cache = lock(cache);
        let hashes = cache.block_hashes(model_idx, &prompt);
        let hit = cache.lookup_and_insert(&hashes) * cache.cfg.block_tokens;
        drop(cache);
        counters
            .prefix_queries
            .fetch_add(prompt_tokens, Ordering::Relaxed);
        counters
            .prefix_hits
            .fetch_add(hit as u64, Ordering::Relaxed);
        hit as u64
    });
    let prefill = prefill(prompt_tokens.saturating_sub(cached_tokens.unwrap_or(0)));
    counters
        .prompt_tokens
        .fetch_add(prompt_tokens, Ordering::Relaxed);
    let empty_answer = fault == Some(MockFault::EmptyAnswer);
    let mut words = match cfg.mode {
        MockMode::Echo => words_of(&echo_text(&parsed)),
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
    let reasoning: Vec<String> = if chat {
        (0..cfg.reasoning_tokens)
            .map(|i| format!("reason{}", i % 100))
            .collect()
    } else {
        Vec::new()
    };
    let (reasoning, words) = if empty_answer {
        (Vec::new(), Vec::new())
    } else {
        (reasoning, words)
    };
    let tokens = (reasoning.len() + words.len()) as u64;
    counters
        .generation_tokens
        .fetch_add(tokens, Ordering::Relaxed);
    let answer = Answer {
        chat,
        model,
        reasoning: &reasoning,
        content: &words,
        prompt_tokens,
        cached_tokens,
        usage_offset: cfg.usage_offset,
    };
    if !parsed.stream {
        let wait = if simulated {
            cfg.ttft + prefill + cfg.tpot * (tokens.saturating_sub(1) as u32)
        } else {
            prefill
        };
        if !wait.is_zero() {
            tokio::time::sleep_until(start + wait).await;
        }
        let response = json_response(StatusCode::OK, answer.full_body(cfg.usage));
        if finish.log_seq.is_some() {
            finish.sent_words = words.len();
            finish.answer_words = words;
        }
        finish.end(Ended::Stop);
        drop(slot);
        return Ok(response);
    }
    shared.stats.streams.fetch_add(1, Ordering::Relaxed);
    let include_usage = parsed.stream_option("include_usage") && cfg.usage;
    let continuous = include_usage && parsed.stream_option("continuous_usage_stats");
    let events = answer.stream_events(cfg.tokens_per_chunk, include_usage, continuous);
    let seed = shared.counter.fetch_add(1, Ordering::Relaxed);
    let mut pieces: VecDeque<Piece> = VecDeque::with_capacity(events.len() + 1);
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
    // The first token chunk (or, with no tokens, the finish chunk) waits
    // for the prefill; each later chunk of K tokens waits K x tpot.
    let mut at = Duration::ZERO;
    let mut first = true;
    let mut token_chunks = 0usize;
    for ev in events {
        let due_after_prefill = ev.tokens > 0 || (tokens == 0 && ev.finish);
        if due_after_prefill && first {
            at += prefill
                + if simulated {
                    jitter(cfg.ttft)
                } else {
                    Duration::ZERO
                };
        } else if ev.tokens > 0 && simulated {
            at += jitter(cfg.tpot * ev.tokens);
        }
        let stamp = cfg.stamp && first && ev.tokens > 0;
        if due_after_prefill {
            first = false;
        }
        if ev.tokens > 0 {
            token_chunks += 1;
        }
        pieces.push_back(Piece {
            at,
            bytes: ev.bytes,
            stamp,
            content_words: ev.content_words,
        });
    }
    if finish.log_seq.is_some() {
        finish.answer_words = words;
    }
    match fault {
        Some(MockFault::CloseMidStream) => {
            let keep = pieces.len() / 2;
            pieces.truncate(keep.max(2));
            return Ok(sse_response(MockBody::Stream(
                StreamBody::new(pieces, start, true)
                    .with_slot(slot)
                    .with_finish(finish),
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
                    content_words: 0,
                },
            );
        }
        Some(MockFault::NoDone) => {
            // Drop the finish chunk, usage and [DONE]: only words remain.
            pieces.truncate(token_chunks + 1);
        }
        _ => {}
    }
    let mut body = StreamBody::new(pieces, start, false)
        .with_slot(slot)
        .with_finish(finish);
    if cfg.abort_streams {
        body.superseded_by = Some(Supersede {
            newest: Arc::clone(&shared.newest_stream),
            id: stream_id,
            stats: Arc::clone(&shared.stats),
        });
    }
    Ok(sse_response(MockBody::Stream(body)))
}

/// A deterministic unit vector for `text`: splitmix64 seeded with the
/// text's FNV-1a hash, scaled to length 1 (as real embeddings are).
fn embedding(text: &str, dims: usize) -> Vec<f32> {
    let mut state = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let mut v: Vec<f64> = (0..dims)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v.into_iter().map(|x| x as f32).collect()
}

/// Logs a request answered with an error before it was parsed.
fn log_failure(shared: &Shared, log_seq: Option<u64>) {
    if let (Some(log), Some(seq)) = (&shared.log, log_seq) {
        log.finish(seq, Some(monotonic_ns()), String::new());
    }
}

/// How a request ended, for vLLM's `request_success_total` and the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// Answered in full (`finished_reason="stop"`).
    Stop,
    /// Cut short by a newer request (`finished_reason="abort"`).
    Abort,
    /// An error answer, or an injected fault.
    Failed,
}

/// Settles a request when it ends: the success counters and the request
/// log (finish time and the text sent). Dropped without an end, the client
/// went away first.
struct Finish {
    shared: Arc<Shared>,
    model: usize,
    log_seq: Option<u64>,
    /// The content words (only with the log on), of which `sent_words` went
    /// out.
    answer_words: Vec<String>,
    sent_words: usize,
    /// A fault was injected: the request is not a success however it ends.
    faulty: bool,
    ended: Option<Ended>,
}

impl Finish {
    fn end(&mut self, how: Ended) {
        self.ended = Some(if self.faulty && how == Ended::Stop {
            Ended::Failed
        } else {
            how
        });
    }
}

impl Drop for Finish {
    fn drop(&mut self) {
        let counters = &self.shared.counters[self.model];
        match self.ended {
            Some(Ended::Stop) => {
                counters.finished_stop.fetch_add(1, Ordering::Relaxed);
            }
            Some(Ended::Abort) => {
                counters.finished_abort.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
        if let (Some(log), Some(seq)) = (&self.shared.log, self.log_seq) {
            let sent = self.sent_words.min(self.answer_words.len());
            let answer = self.answer_words[..sent].join(" ");
            log.finish(seq, self.ended.map(|_| monotonic_ns()), answer);
        }
    }
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

/// One answer's text and counts, written as a whole body or as a stream.
struct Answer<'a> {
    chat: bool,
    model: &'a str,
    /// Words sent as `reasoning_content` before the content (chat only).
    reasoning: &'a [String],
    content: &'a [String],
    prompt_tokens: u64,
    /// The prefix cache's hit (`Some` when the cache is on).
    cached_tokens: Option<u64>,
    usage_offset: i64,
}

/// One server-sent event of a stream.
struct Event {
    bytes: Vec<u8>,
    /// Tokens (words) it carries, reasoning included.
    tokens: u32,
    /// Content words it carries.
    content_words: u32,
    /// The chunk with the finish reason.
    finish: bool,
}

impl Answer<'_> {
    fn completion_tokens(&self) -> u64 {
        (self.reasoning.len() + self.content.len()) as u64
    }

    /// The final `usage`, with `usage_offset` and the token details.
    fn usage(&self) -> Value {
        let c = (self.completion_tokens() as i64 + self.usage_offset).max(0) as u64;
        let mut u = json!({"prompt_tokens": self.prompt_tokens, "completion_tokens": c,
                           "total_tokens": self.prompt_tokens + c});
        if let Some(cached) = self.cached_tokens {
            u["prompt_tokens_details"] = json!({ "cached_tokens": cached });
        }
        if !self.reasoning.is_empty() {
            u["completion_tokens_details"] = json!({ "reasoning_tokens": self.reasoning.len() });
        }
        u
    }

    /// vLLM's continuous usage: the counts so far.
    fn running_usage(&self, completion: u64) -> Value {
        json!({"prompt_tokens": self.prompt_tokens, "completion_tokens": completion,
               "total_tokens": self.prompt_tokens + completion})
    }

    fn full_body(&self, usage: bool) -> Vec<u8> {
        let text = self.content.join(" ");
        let (object, choice) = if self.chat {
            let mut message = json!({"role": "assistant", "content": text});
            if !self.reasoning.is_empty() {
                message["reasoning_content"] = Value::String(self.reasoning.join(" "));
            }
            (
                "chat.completion",
                json!({"index": 0, "message": message, "finish_reason": "stop"}),
            )
        } else {
            (
                "text_completion",
                json!({"index": 0, "text": text, "finish_reason": "stop"}),
            )
        };
        let mut v = json!({"id": "mock", "object": object, "created": 0, "model": self.model,
               "choices": [choice]});
        if usage {
            v["usage"] = self.usage();
        }
        v.to_string().into_bytes()
    }

    /// The role chunk, chunks of `per_chunk` tokens (reasoning words, then
    /// content words), the finish chunk, the usage chunk (`usage`),
    /// `[DONE]`. `continuous`: every chunk carries the usage so far.
    fn stream_events(&self, per_chunk: u32, usage: bool, continuous: bool) -> Vec<Event> {
        let object = if self.chat {
            "chat.completion.chunk"
        } else {
            "text_completion"
        };
        let chunk = |choice: Value, done: u64| {
            let mut v = json!({"id": "mock", "object": object, "created": 0, "model": self.model, "choices": [choice]});
            if continuous {
                v["usage"] = self.running_usage(done);
            }
            sse(&v)
        };
        let per_chunk = per_chunk.max(1) as usize;
        let mut out = Vec::with_capacity(self.content.len() / per_chunk + 6);
        let role = if self.chat {
            json!({"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null})
        } else {
            json!({"index": 0, "text": "", "finish_reason": null})
        };
        out.push(Event {
            bytes: chunk(role, 0),
            tokens: 0,
            content_words: 0,
            finish: false,
        });
        // Tokens in order: (is reasoning, index within its kind, word).
        let all = self
            .reasoning
            .iter()
            .map(|w| (true, w))
            .chain(self.content.iter().map(|w| (false, w)));
        let (mut n_reasoning, mut n_content, mut done) = (0usize, 0usize, 0u64);
        let mut pending: Vec<(bool, &String)> = Vec::with_capacity(per_chunk);
        let mut flush = |pending: &mut Vec<(bool, &String)>, out: &mut Vec<Event>| {
            let (mut reasoning, mut content) = (String::new(), String::new());
            let mut content_words = 0;
            for (is_reasoning, w) in pending.iter() {
                let (text, count) = if *is_reasoning {
                    (&mut reasoning, &mut n_reasoning)
                } else {
                    content_words += 1;
                    (&mut content, &mut n_content)
                };
                if *count > 0 {
                    text.push(' ');
                }
                text.push_str(w);
                *count += 1;
            }
            done += pending.len() as u64;
            let choice = if self.chat {
                let mut delta = serde_json::Map::new();
                if !reasoning.is_empty() {
                    delta.insert("reasoning_content".into(), Value::String(reasoning));
                }
                if content_words > 0 {
                    delta.insert("content".into(), Value::String(content));
                }
                json!({"index": 0, "delta": delta, "finish_reason": null})
            } else {
                json!({"index": 0, "text": content, "finish_reason": null})
            };
            out.push(Event {
                bytes: chunk(choice, done),
                tokens: pending.len() as u32,
                content_words,
                finish: false,
            });
            pending.clear();
        };
        for token in all {
            pending.push(token);
            if pending.len() == per_chunk {
                flush(&mut pending, &mut out);
            }
        }
        if !pending.is_empty() {
            flush(&mut pending, &mut out);
        }
        let fin = if self.chat {
            json!({"index": 0, "delta": {}, "finish_reason": "stop"})
        } else {
            json!({"index": 0, "text": "", "finish_reason": "stop"})
        };
        out.push(Event {
            bytes: chunk(fin, self.completion_tokens()),
            tokens: 0,
            content_words: 0,
            finish: true,
        });
        if usage {
            out.push(Event {
                bytes: sse(
                    &json!({"id": "mock", "object": object, "created": 0, "model": self.model,
                            "choices": [], "usage": self.usage()}),
                ),
                tokens: 0,
                content_words: 0,
                finish: false,
            });
        }
        out.push(Event {
            bytes: b"data: [DONE]\n\n".to_vec(),
            tokens: 0,
            content_words: 0,
            finish: false,
        });
        out
    }
}

fn sse(v: &Value) -> Vec<u8> {
    let mut s = b"data: ".to_vec();
    s.extend_from_slice(v.to_string().as_bytes());
    s.extend_from_slice(b"\n\n");
    s
}

struct Piece {
    /// Due time, from the request's arrival.
    at: Duration,
    bytes: Vec<u8>,
    /// Insert `mock_sent_ns` when sending.
    stamp: bool,
    /// Content words it carries (the request log's answer).
    content_words: u32,
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
    /// Settled when the stream ends (or dropped: the client went away).
    finish: Option<Finish>,
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
            finish: None,
        }
    }

    fn with_finish(mut self, finish: Finish) -> Self {
        self.finish = Some(finish);
        self
    }

    /// Ends the request's accounting.
    fn settle(&mut self, how: Ended) {
        if let Some(mut f) = self.finish.take() {
            f.end(how);
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
                        s.settle(Ended::Failed);
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
                    s.settle(Ended::Abort);
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
                    if let Some(f) = &mut s.finish {
                        f.sent_words += p.content_words as usize;
                    }
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
                    if !s.abort_at_end {
                        s.settle(Ended::Stop);
                    }
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

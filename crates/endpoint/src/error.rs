//! Errors: [`EndpointError`] for what stops a benchmark before or outside a
//! request, [`RequestError`] for one request that failed (recorded and
//! counted, never fatal to the run).

use std::path::PathBuf;

/// What prevents a benchmark, a probe or the mock server from running.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("invalid URL `{url}`: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("cannot resolve `{host}`: {reason}")]
    Resolve { host: String, reason: String },
    #[error("TLS: {what}: {reason}")]
    Tls { what: String, reason: String },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: line {line}: {reason}")]
    Dataset {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("{path}: {what}: {source}")]
    Parquet {
        path: PathBuf,
        what: String,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error("{path}: {what}: {source}")]
    Arrow {
        path: PathBuf,
        what: String,
        #[source]
        source: arrow_schema::ArrowError,
    },
    #[error("tokenizer {path}: {reason}")]
    Tokenizer { path: PathBuf, reason: String },
    #[error("chat template: {0}")]
    Template(String),
    #[error("cannot start threads or the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("the load generator could not run the test: {0}")]
    Core(String),
    #[error(transparent)]
    Arrival(#[from] crate::arrivals::ArrivalError),
}

/// Why one request failed. Every failure is recorded with the request and
/// counted; the run goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RequestError {
    /// TCP connect or HTTP handshake failed.
    #[error("connect failed: {message}")]
    Connect { message: String },
    /// The request could not be written or the response head not read.
    #[error("request failed before the response head: {message}")]
    Send { message: String },
    /// A time limit passed (`phase`: connect, headers, body or total).
    #[error("timed out waiting for {phase} after {after_ms} ms")]
    Timeout { phase: String, after_ms: u64 },
    /// The server answered with a non-2xx status.
    #[error("HTTP {status}: {body}")]
    HttpStatus { status: u16, body: String },
    /// The body stopped before it was complete (connection closed or reset).
    #[error("the response stream broke: {message}")]
    BrokenStream { message: String },
    /// The body is not a well-formed event stream.
    #[error("malformed SSE: {message}")]
    MalformedSse { message: String },
    /// A JSON document (whole body or one event) does not parse.
    #[error("invalid JSON: {message}")]
    InvalidJson { message: String },
    /// The server reported an error object (in the body or the stream).
    #[error("server error: {message}")]
    ServerError { message: String },
    /// The stream ended cleanly but without `[DONE]` or a finish reason.
    #[error("the stream ended early: {message}")]
    Incomplete { message: String },
    /// The stream ended (even with `[DONE]`) without any text and without a
    /// finish reason: the server gave up on the request (llama-cpp-python
    /// aborts the stream in progress when a new request comes in).
    #[error("the stream ended with no text and no finish_reason after {events} event(s): the server aborted the request")]
    EmptyStream { events: u32 },
    /// The answer is shorter than `--min-tokens`.
    #[error("{got} output tokens, fewer than --min-tokens {min} (counted by {source_name})")]
    TooFewTokens {
        got: u64,
        min: u32,
        source_name: String,
    },
    /// An embeddings answer whose `data` does not hold one vector per input.
    #[error("{got} embeddings in the answer for {sent} inputs")]
    EmbeddingCount { got: u64, sent: u64 },
}

impl RequestError {
    /// A short stable name, for counts in reports.
    pub fn kind(&self) -> &'static str {
        match self {
            RequestError::Connect { .. } => "connect",
            RequestError::Send { .. } => "send",
            RequestError::Timeout { .. } => "timeout",
            RequestError::HttpStatus { .. } => "http_status",
            RequestError::BrokenStream { .. } => "broken_stream",
            RequestError::MalformedSse { .. } => "malformed_sse",
            RequestError::InvalidJson { .. } => "invalid_json",
            RequestError::ServerError { .. } => "server_error",
            RequestError::Incomplete { .. } => "incomplete",
            RequestError::EmptyStream { .. } => "empty_stream",
            RequestError::TooFewTokens { .. } => "too_few_tokens",
            RequestError::EmbeddingCount { .. } => "embedding_count",
        }
    }
}

/// Keeps at most `max` bytes of a server-provided message, on a char boundary.
pub(crate) fn snippet(bytes: &[u8], max: usize) -> String {
    let s = String::from_utf8_lossy(&bytes[..bytes.len().min(max)]);
    let mut s = s.into_owned();
    if bytes.len() > max {
        s.push('…');
    }
    s
}

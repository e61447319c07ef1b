//! One request over one HTTP/1.1 connection: connect, send, read the head,
//! read the body frame by frame with an arrival stamp per frame, parse, and
//! record. Every failure becomes a [`RequestError`] on the record; nothing
//! here panics or returns early without a record.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE, HOST};
use http::{Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use yardstick_core::sut::{Completer, QuerySampleResponse, ResponseId};

use crate::api::{apply_full_response, apply_stream_event, ApiKind, Target};
use crate::error::{snippet, EndpointError, RequestError};
use crate::record::RequestRecord;
use crate::sse::{FeedError, SseParser};
use crate::stamped_io::{ReadStamp, StampedStream};

/// A client connection: hyper's HTTP/1.1 sender (one request at a time)
/// and the stamp of the connection's latest socket read.
#[derive(Debug)]
pub struct Connection {
    pub sender: SendRequest<Full<Bytes>>,
    read_stamp: Arc<ReadStamp>,
}

impl Connection {
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }
}

/// Time limits of a request.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// TCP connect plus HTTP handshake.
    pub connect: Duration,
    /// Longest silence between body frames (and before the head).
    pub idle: Duration,
    /// Whole request, from its due time.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            idle: Duration::from_secs(120),
            total: Duration::from_secs(600),
        }
    }
}

/// Everything a request needs that is fixed for the run.
#[derive(Debug)]
pub struct ExecCtx {
    pub target: Target,
    pub api: ApiKind,
    pub stream: bool,
    /// Pre-serialized bodies, one per dataset prompt.
    pub bodies: Arc<Vec<Bytes>>,
    pub uri: Uri,
    pub host: HeaderValue,
    /// Extra headers (authorization and user-given ones).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub timeouts: Timeouts,
}

impl ExecCtx {
    pub fn new(
        target: Target,
        api: ApiKind,
        stream: bool,
        bodies: Arc<Vec<Bytes>>,
        headers: Vec<(HeaderName, HeaderValue)>,
        timeouts: Timeouts,
    ) -> Result<Self, EndpointError> {
        let uri: Uri = target.path.parse().map_err(|e| EndpointError::InvalidUrl {
            url: target.url.clone(),
            reason: format!("path `{}`: {e}", target.path),
        })?;
        let host =
            HeaderValue::from_str(&target.authority).map_err(|e| EndpointError::InvalidUrl {
                url: target.url.clone(),
                reason: e.to_string(),
            })?;
        Ok(ExecCtx {
            target,
            api,
            stream,
            bodies,
            uri,
            host,
            headers,
            timeouts,
        })
    }

    fn request(&self, body: Bytes) -> Request<Full<Bytes>> {
        let mut req = Request::new(Full::new(body));
        *req.method_mut() = Method::POST;
        *req.uri_mut() = self.uri.clone();
        let h = req.headers_mut();
        h.insert(HOST, self.host.clone());
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if self.stream {
            h.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        }
        for (k, v) in &self.headers {
            h.insert(k.clone(), v.clone());
        }
        req
    }
}

/// Opens a connection: TCP with Nagle off (small SSE frames must not wait
/// for acks), TLS for `https://`, then the HTTP/1.1 handshake; the
/// connection's driver task runs on the current runtime.
pub async fn connect(target: &Target) -> Result<Connection, RequestError> {
    let stream = TcpStream::connect(target.addr)
        .await
        .map_err(|e| RequestError::Connect {
            message: format!("{}: {e}", target.addr),
        })?;
    let _ = stream.set_nodelay(true);
    let (stream, read_stamp) = StampedStream::new(stream);
    let sender = match &target.tls {
        None => handshake(stream).await?,
        Some(tls) => {
            let stream = tokio_rustls::TlsConnector::from(Arc::clone(&tls.config))
                .connect(tls.server_name.clone(), stream)
                .await
                .map_err(|e| {
                    let hint = if e.to_string().contains("certificate") {
                        " (trust its CA with --ca-cert, or --insecure for a test server)"
                    } else {
                        ""
                    };
                    RequestError::Connect {
                        message: format!("TLS handshake with {}: {e}{hint}", target.authority),
                    }
                })?;
            handshake(stream).await?
        }
    };
    Ok(Connection { sender, read_stamp })
}

async fn handshake<S>(stream: S) -> Result<SendRequest<Full<Bytes>>, RequestError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::Builder::new()
        .handshake::<_, Full<Bytes>>(TokioIo::new(stream))
        .await
        .map_err(|e| RequestError::Connect {
            message: e.to_string(),
        })?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// Who is told about a request's first token and completion.
#[derive(Debug, Clone, Default)]
pub enum Hook {
    /// Only the record (own drivers).
    #[default]
    None,
    /// The core load generator's sample.
    Core {
        completer: Completer,
        id: ResponseId,
    },
}

impl Hook {
    fn first_token(&self, text: &[u8], at: Instant) {
        if let Hook::Core { completer, id } = self {
            // A refusal is recorded by the core as a fault of the run.
            let _ = completer.first_token_at(&[QuerySampleResponse::new(*id, text)], at);
        }
    }

    fn complete(&self, rec: &RequestRecord) {
        if let Hook::Core { completer, id } = self {
            let n = if rec.ok() {
                rec.usage
                    .and_then(|u| u.completion_tokens)
                    .or((rec.text_chunks > 0).then_some(rec.text_chunks as u64))
            } else {
                None
            };
            let response = [QuerySampleResponse {
                id: *id,
                data: rec.output.content.as_bytes(),
                n_tokens: n,
            }];
            // Stamped when the answer's last byte arrived, like its record.
            let _ = match rec.done {
                Some(at) => completer.complete_at(&response, at),
                None => completer.complete(&response),
            };
        }
    }
}

/// State of one request while its body streams in.
struct Exchange<'a> {
    rec: &'a mut RequestRecord,
    hook: &'a Hook,
    done_seen: bool,
    finished: bool,
    completed: bool,
}

impl Exchange<'_> {
    fn on_event(&mut self, data: &[u8], now: Instant) -> Result<(), RequestError> {
        let rec = &mut *self.rec;
        rec.events += 1;
        rec.first_event.get_or_insert(now);
        if self.done_seen {
            return Ok(()); // anything after [DONE] is ignored
        }
        if data == b"[DONE]" {
            self.done_seen = true;
            rec.done = Some(now);
            // A clean end that produced nothing and said nothing about why
            // is an aborted request, not a zero-token success. Set before
            // the hook reads `ok()`, so the load generator is told too.
            if rec.text_chunks == 0 && !self.finished {
                rec.error = Some(RequestError::EmptyStream { events: rec.events });
            }
            self.hook.complete(rec);
            self.completed = true;
            return Ok(());
        }
        let before = (
            rec.output.reasoning.len(),
            rec.output.content.len(),
            rec.output.tool_calls.len(),
        );
        let info = apply_stream_event(data, &mut rec.output)?;
        if let Some(u) = info.usage {
            rec.usage = Some(u);
        }
        self.finished |= info.finished;
        if rec.events == 1 && info.text_bytes == 0 {
            rec.opens_without_text = true;
        }
        if info.text_bytes > 0 {
            rec.text_chunks += 1;
            rec.note_text_chunk(before, info.usage, now);
            match rec.last_token {
                None => {
                    rec.first_token = Some(now);
                    rec.after_first = (
                        rec.output.reasoning.len(),
                        rec.output.content.len(),
                        rec.output.tool_calls.len(),
                    );
                    let o = &rec.output;
                    let mut first = String::new();
                    first.push_str(o.reasoning.get(before.0..).unwrap_or(""));
                    first.push_str(o.content.get(before.1..).unwrap_or(""));
                    first.push_str(o.tool_calls.get(before.2..).unwrap_or(""));
                    rec.server_sent_ns = info.server_sent_ns;
                    self.hook.first_token(first.as_bytes(), now);
                    rec.first_chunk_text = first;
                }
                Some(prev) => rec
                    .gaps_ns
                    .push(now.saturating_duration_since(prev).as_nanos() as u64),
            }
            rec.last_token = Some(now);
        }
        Ok(())
    }
}

/// Runs one request on `conn` (opening a connection if there is none or it
/// has closed) and returns its record. The hook's `complete` is called
/// exactly once, success or not. On any failure the connection is dropped,
/// since its state is unknown.
pub async fn exec(
    ctx: &ExecCtx,
    conn: &mut Option<Connection>,
    rec: RequestRecord,
    hook: &Hook,
) -> RequestRecord {
    exec_with_body(ctx, conn, rec, hook, None).await
}

/// [`exec`] with a body built at send time (a multi-turn session's turn,
/// which holds the answers so far) instead of the sample's pre-serialized
/// one.
pub async fn exec_with_body(
    ctx: &ExecCtx,
    conn: &mut Option<Connection>,
    mut rec: RequestRecord,
    hook: &Hook,
    body: Option<Bytes>,
) -> RequestRecord {
    let deadline = rec.scheduled + ctx.timeouts.total;
    let mut completed = false;
    let outcome = tokio::time::timeout_at(
        deadline.into(),
        exec_inner(ctx, conn, &mut rec, hook, &mut completed, body),
    )
    .await;
    let err = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e),
        Err(_) => Some(RequestError::Timeout {
            phase: if rec.sent.is_none() {
                "a connection".into()
            } else if rec.headers.is_none() {
                "the response head".into()
            } else {
                "the end of the response".into()
            },
            after_ms: ctx.timeouts.total.as_millis() as u64,
        }),
    };
    if let Some(e) = err {
        // An error status with its body read leaves the connection usable
        // (the reader drops it itself when the body failed).
        if !matches!(e, RequestError::HttpStatus { .. }) {
            *conn = None;
        }
        if rec.error.is_none() && !completed {
            rec.error = Some(e);
        }
    }
    if !completed {
        rec.done.get_or_insert_with(Instant::now);
        hook.complete(&rec);
    }
    rec
}

/// The send failed because the connection was gone before any byte of an
/// answer: never written (canceled), closed before a response head, or
/// reset / broken pipe while writing.
fn closed_before_answer(e: &hyper::Error) -> bool {
    if e.is_canceled() || e.is_incomplete_message() {
        return true;
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::UnexpectedEof
            );
        }
        source = s.source();
    }
    false
}

async fn exec_inner(
    ctx: &ExecCtx,
    conn: &mut Option<Connection>,
    rec: &mut RequestRecord,
    hook: &Hook,
    completed: &mut bool,
    body: Option<Bytes>,
) -> Result<(), RequestError> {
    let body = match body {
        Some(b) => b,
        None => ctx
            .bodies
            .get(rec.sample)
            .cloned()
            .ok_or_else(|| RequestError::Send {
                message: format!("no request body for sample {}", rec.sample),
            })?,
    };
    let idle = ctx.timeouts.idle;
    // A reused connection the server closed while idle fails before any
    // response byte: retry once on a fresh connection.
    let mut attempts = 0;
    let response = loop {
        attempts += 1;
        if conn.as_ref().is_none_or(|c| c.is_closed()) {
            *conn = None;
            let c = tokio::time::timeout(ctx.timeouts.connect, connect(&ctx.target))
                .await
                .map_err(|_| RequestError::Timeout {
                    phase: "connect".into(),
                    after_ms: ctx.timeouts.connect.as_millis() as u64,
                })??;
            rec.new_connection = true;
            *conn = Some(c);
        }
        let Some(Connection { sender, .. }) = conn.as_mut() else {
            continue;
        };
        let reused = !rec.new_connection;
        if sender.ready().await.is_err() {
            *conn = None;
            if reused && attempts < 2 {
                continue;
            }
            return Err(RequestError::Send {
                message: "connection closed".into(),
            });
        }
        rec.sent = Some(Instant::now());
        match tokio::time::timeout(idle, sender.send_request(ctx.request(body.clone()))).await {
            Err(_) => {
                return Err(RequestError::Timeout {
                    phase: "the response head".into(),
                    after_ms: idle.as_millis() as u64,
                })
            }
            Ok(Ok(r)) => break r,
            Ok(Err(e)) => {
                *conn = None;
                // A reused connection that the server closed when its last
                // answer ended (llama-server announces keep-alive, then
                // closes after a stream) fails with no response byte: the
                // request never reached the engine. Retry it once on a
                // fresh connection, as Go's net/http does for a server-
                // closed idle connection; the reconnect is charged to the
                // request (latency counts from its due time) and counted.
                if reused && attempts < 2 && closed_before_answer(&e) {
                    rec.retried = true;
                    continue;
                }
                return Err(RequestError::Send {
                    message: e.to_string(),
                });
            }
        }
    };
    // Arrival stamps come from the connection's socket reads (see
    // `stamped_io`): the moment the bytes were read, not when this task ran.
    // Never before the request was sent: the bytes answer it.
    let read_stamp = conn.as_ref().map(|c| Arc::clone(&c.read_stamp));
    let sent = rec.sent;
    let arrival = move |now: Instant| {
        read_stamp.as_ref().map_or(now, |s| match sent {
            Some(sent) => s.arrival_after(sent, now),
            None => s.arrival(now),
        })
    };
    rec.headers = Some(arrival(Instant::now()));
    let status = response.status();
    rec.status = Some(status.as_u16());
    let mut body = response.into_body();

    if !status.is_success() {
        // Keep the start of the error body; read it all (bounded) so the
        // connection can be reused.
        let mut text = Vec::new();
        loop {
            match tokio::time::timeout(idle, body.frame()).await {
                Ok(Some(Ok(f))) => {
                    if let Ok(d) = f.into_data() {
                        if text.len() < 1024 {
                            text.extend_from_slice(&d[..d.len().min(1024 - text.len())]);
                        }
                    }
                }
                Ok(None) => break,
                _ => {
                    *conn = None;
                    break;
                }
            }
        }
        return Err(RequestError::HttpStatus {
            status: status.as_u16(),
            body: snippet(&text, 512),
        });
    }

    if !ctx.stream {
        let mut buf: Vec<u8> = Vec::new();
        loop {
            match tokio::time::timeout(idle, body.frame()).await {
                Err(_) => {
                    return Err(RequestError::Timeout {
                        phase: "the response body".into(),
                        after_ms: idle.as_millis() as u64,
                    })
                }
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    return Err(RequestError::BrokenStream {
                        message: e.to_string(),
                    })
                }
                Ok(Some(Ok(f))) => {
                    let now = arrival(Instant::now());
                    if let Ok(d) = f.into_data() {
                        rec.first_event.get_or_insert(now);
                        rec.done = Some(now);
                        buf.extend_from_slice(&d);
                    }
                }
            }
        }
        rec.done.get_or_insert_with(Instant::now);
        let info = apply_full_response(ctx.api, &buf, &mut rec.output)?;
        rec.usage = info.usage;
        rec.items = info.items;
        return Ok(());
    }

    let mut parser = SseParser::new();
    let mut ex = Exchange {
        rec,
        hook,
        done_seen: false,
        finished: false,
        completed: false,
    };
    // One idle timer per stream, re-armed lazily (at most every idle/8), not
    // one timer per frame: the effective limit is between `idle` and
    // 1.125 x `idle`, and a frame costs no timer-wheel operation.
    let idle_timer = tokio::time::sleep(idle);
    tokio::pin!(idle_timer);
    let mut armed_at = Instant::now();
    let result = loop {
        let next = tokio::select! {
            biased;
            f = body.frame() => f,
            _ = &mut idle_timer => {
                break Err(RequestError::Timeout {
                    phase: "the next stream chunk".into(),
                    after_ms: idle.as_millis() as u64,
                })
            }
        };
        // The arrival stamp of this frame, taken before any parsing: when
        // its bytes were read off the socket.
        let now = arrival(Instant::now());
        let frame = match next {
            None => break Ok(()),
            Some(Err(e)) => {
                break Err(RequestError::BrokenStream {
                    message: e.to_string(),
                })
            }
            Some(Ok(f)) => f,
        };
        if now.saturating_duration_since(armed_at) > idle / 8 {
            idle_timer.as_mut().reset((now + idle).into());
            armed_at = now;
        }
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        if let Err(e) = parser.feed(&data, &mut |ev| ex.on_event(ev.data, now)) {
            break Err(feed_error(e));
        }
    };
    let now = Instant::now();
    let result = result.and_then(|()| {
        parser
            .finish(&mut |ev| ex.on_event(ev.data, now))
            .map_err(feed_error)
    });
    *completed = ex.completed;
    let (done_seen, finished) = (ex.done_seen, ex.finished);
    match result {
        // A stream that broke after [DONE] delivered everything.
        Err(_) if done_seen => {
            *conn = None;
            Ok(())
        }
        Err(e) => Err(e),
        Ok(()) if done_seen => Ok(()),
        Ok(()) => {
            if parser.events_dispatched() == 0 {
                Err(RequestError::MalformedSse {
                    message: format!("no SSE events in {} body bytes", parser.bytes_fed()),
                })
            } else if finished {
                // Some servers end with a finish reason and no [DONE].
                rec_done(&mut ex);
                Ok(())
            } else {
                Err(RequestError::Incomplete {
                    message: "no [DONE] and no finish_reason before the body ended".into(),
                })
            }
        }
    }
}

fn rec_done(ex: &mut Exchange<'_>) {
    if ex.rec.done.is_none() {
        ex.rec.done = ex.rec.last_token.or(ex.rec.first_event);
    }
}

fn feed_error(e: FeedError<RequestError>) -> RequestError {
    match e {
        FeedError::Sse(e) => RequestError::MalformedSse {
            message: e.to_string(),
        },
        FeedError::Callback(e) => e,
    }
}

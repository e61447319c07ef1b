//! `probe`: what an endpoint serves and how it streams, before a benchmark.
//!
//! Required: at least one API answers a request, and [`CONCURRENT_STREAMS`]
//! streams sent at once all end properly (text, then a finish reason) — a
//! server that aborts or mixes up concurrent streams fails here rather
//! than in the middle of a benchmark. Optional (reported, never a
//! failure when absent): `/v1/models`, the health routes and `/metrics`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, HOST};
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use serde::Serialize;
use serde_json::Value;

use crate::api::{ApiKind, RequestOptions, Target};
use crate::client::{connect, exec, ExecCtx, Hook, Timeouts};
use crate::dataset::Prompt;
use crate::error::{snippet, EndpointError, RequestError};
use crate::record::RequestRecord;
use crate::tls::TlsTrust;

/// Streams the probe sends at once to see the server serve them together.
pub const CONCURRENT_STREAMS: usize = 4;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Ok,
    Fail,
    /// An optional route the server does not have.
    Absent,
    /// Worth knowing, not a failure (an optional route that answered
    /// oddly, a check that could not run).
    Info,
}

/// One check of a probe.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeCheck {
    pub name: String,
    /// A failure of a required check fails the probe.
    pub required: bool,
    pub status: CheckStatus,
    /// Not failed (`status` is not `fail`).
    pub ok: bool,
    pub detail: String,
}

impl ProbeCheck {
    fn new(name: impl Into<String>, required: bool, status: CheckStatus, detail: String) -> Self {
        ProbeCheck {
            name: name.into(),
            required,
            status,
            ok: status != CheckStatus::Fail,
            detail,
        }
    }
}

/// What a probe found.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeReport {
    pub url: String,
    pub address: String,
    pub models: Vec<String>,
    pub server: Option<String>,
    /// APIs that answered a test request.
    pub apis: Vec<String>,
    pub checks: Vec<ProbeCheck>,
}

impl ProbeReport {
    /// Some API answered and no required check failed.
    pub fn ok(&self) -> bool {
        !self.apis.is_empty()
            && !self
                .checks
                .iter()
                .any(|c| c.required && c.status == CheckStatus::Fail)
    }

    /// A human-readable report.
    pub fn render(&self) -> String {
        let mut s = format!("endpoint {} ({})\n", self.url, self.address);
        if let Some(sv) = &self.server {
            s.push_str(&format!("  server header : {sv}\n"));
        }
        s.push_str(&format!(
            "  models        : {}\n",
            if self.models.is_empty() {
                "(none listed)".to_string()
            } else {
                self.models.join(", ")
            }
        ));
        s.push_str(&format!(
            "  APIs          : {}\n",
            if self.apis.is_empty() {
                "none answered".to_string()
            } else {
                self.apis.join(", ")
            }
        ));
        for c in &self.checks {
            let (tag, prefix) = match c.status {
                CheckStatus::Ok => (" ok ", ""),
                CheckStatus::Fail => ("FAIL", ""),
                CheckStatus::Absent => (" -- ", "absent (optional): "),
                CheckStatus::Info => ("info", ""),
            };
            s.push_str(&format!("  [{tag}] {:<34} {prefix}{}\n", c.name, c.detail));
        }
        s.push_str(if self.ok() {
            "probe: OK\n"
        } else if self.apis.is_empty() {
            "probe: FAILED (no API answered)\n"
        } else {
            "probe: FAILED (a required check failed)\n"
        });
        s
    }
}

/// The check of an optional GET route: 200 is ok, 404/405 absent, any
/// other answer or no answer is information, never a failure.
pub fn optional_route_check(
    name: &str,
    answer: Result<u16, String>,
    detail_ok: impl FnOnce() -> String,
) -> ProbeCheck {
    let (status, detail) = match answer {
        Ok(200) => (CheckStatus::Ok, detail_ok()),
        Ok(s @ (404 | 405)) => (CheckStatus::Absent, format!("HTTP {s}")),
        Ok(s) => (CheckStatus::Info, format!("HTTP {s} (optional route)")),
        Err(e) => (
            CheckStatus::Info,
            format!("no answer (optional route): {e}"),
        ),
    };
    ProbeCheck::new(name, false, status, detail)
}

/// The metric names of a parsed exposition, in order of first appearance;
/// a histogram's or summary's `_sum` and `_count` series count as their
/// family.
fn metric_names(exposition: &yardstick_server_metrics::Exposition) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for sample in &exposition.samples {
        let family = ["_sum", "_count"]
            .iter()
            .find_map(|suffix| sample.name.strip_suffix(suffix))
            .filter(|f| !f.is_empty())
            .unwrap_or(&sample.name);
        if !names.iter().any(|n| n == family) {
            names.push(family.to_string());
        }
    }
    names
}

/// The `/metrics` check from the route's answer.
pub fn metrics_check(answer: Result<(u16, Bytes), String>) -> ProbeCheck {
    const NAME: &str = "GET /metrics";
    let (status, body) = match answer {
        Ok((200, body)) => (200, body),
        Ok((s, _)) => return optional_route_check(NAME, Ok(s), String::new),
        Err(e) => return optional_route_check(NAME, Err(e), String::new),
    };
    let _ = status;
    let text = String::from_utf8_lossy(&body);
    // The scraper's parser and its table of engine names: what the probe
    // calls recognised is what a run will record.
    let not_prometheus = |why: String| {
        ProbeCheck::new(
            NAME,
            false,
            CheckStatus::Info,
            format!(
                "answered, but not Prometheus text ({why}; starts `{}`); server-side metrics unavailable",
                snippet(text.trim_start().as_bytes(), 60)
            ),
        )
    };
    let exposition = match yardstick_server_metrics::parse_exposition(&text) {
        Ok(e) if e.samples.is_empty() => return not_prometheus("no samples".into()),
        Ok(e) => e,
        Err(e) => return not_prometheus(e.to_string()),
    };
    let names = metric_names(&exposition);
    let known: Vec<&str> = exposition
        .samples
        .iter()
        .map(|s| s.name.as_str())
        .filter(|n| yardstick_server_metrics::recognise::is_recognised(n))
        .fold(Vec::new(), |mut seen, n| {
            if !seen.contains(&n) {
                seen.push(n);
            }
            seen
        });
    let detail = if known.is_empty() {
        format!(
            "present, {} metric(s), none recognised (e.g. {})",
            names.len(),
            names.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
        )
    } else {
        format!(
            "present, {} metric(s); recognised: {}",
            names.len(),
            known.join(", ")
        )
    };
    ProbeCheck::new(NAME, false, CheckStatus::Ok, detail)
}

async fn get(
    target: &Target,
    path: &str,
    headers: &[(HeaderName, HeaderValue)],
) -> Result<(u16, Option<String>, Bytes), RequestError> {
    let mut conn = connect(target).await?;
    let mut req = Request::new(Full::new(Bytes::new()));
    *req.method_mut() = Method::GET;
    *req.uri_mut() = path
        .parse()
        .map_err(|e: http::uri::InvalidUri| RequestError::Send {
            message: e.to_string(),
        })?;
    req.headers_mut().insert(
        HOST,
        HeaderValue::from_str(&target.authority).map_err(|e| RequestError::Send {
            message: e.to_string(),
        })?,
    );
    for (k, v) in headers {
        req.headers_mut().insert(k.clone(), v.clone());
    }
    let resp = conn
        .sender
        .send_request(req)
        .await
        .map_err(|e| RequestError::Send {
            message: e.to_string(),
        })?;
    let status = resp.status().as_u16();
    let server = resp
        .headers()
        .get(http::header::SERVER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| RequestError::BrokenStream {
            message: e.to_string(),
        })?
        .to_bytes();
    Ok((status, server, body))
}

/// Lists the served models (`GET {base}/v1/models`), on a runtime of its own.
pub fn list_models(
    target: &Target,
    headers: &[(HeaderName, HeaderValue)],
    timeout: Duration,
) -> Result<Vec<String>, EndpointError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(EndpointError::Runtime)?;
    let path = format!("{}/models", target.base_path);
    rt.block_on(async {
        match tokio::time::timeout(timeout, get(target, &path, headers)).await {
            Ok(Ok((200, _, body))) => Ok(parse_models(&body)),
            Ok(Ok((status, _, body))) => Err(EndpointError::Config(format!(
                "GET {path}: HTTP {status}: {}",
                snippet(&body, 200)
            ))),
            Ok(Err(e)) => Err(EndpointError::Config(format!("GET {path}: {e}"))),
            Err(_) => Err(EndpointError::Config(format!("GET {path}: timed out"))),
        }
    })
}

fn parse_models(body: &[u8]) -> Vec<String> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("data").and_then(Value::as_array).cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|m| m.get("id").and_then(Value::as_str).map(str::to_string))
        .collect()
}

fn answer_of<T>(
    r: Result<Result<T, RequestError>, tokio::time::error::Elapsed>,
) -> Result<T, String> {
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".into()),
    }
}

/// Checks `url`: models, health routes and `/metrics` (optional), a tiny
/// request on each API (streamed and not), reporting how the server
/// streams (role-only first chunk, usage in the stream, `[DONE]`), and
/// [`CONCURRENT_STREAMS`] streams at once (required to end properly).
pub fn probe(
    url: &str,
    model: Option<&str>,
    headers: Vec<(HeaderName, HeaderValue)>,
    timeout: Duration,
    trust: &TlsTrust,
) -> Result<ProbeReport, EndpointError> {
    let target = Target::new(url, ApiKind::Chat, model.unwrap_or("model"))?.with_trust(trust)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(EndpointError::Runtime)?;
    let mut report = ProbeReport {
        url: url.to_string(),
        address: target.addr.to_string(),
        models: Vec::new(),
        server: None,
        apis: Vec::new(),
        checks: Vec::new(),
    };
    rt.block_on(async {
        let models_path = format!("{}/models", target.base_path);
        let answer =
            answer_of(tokio::time::timeout(timeout, get(&target, &models_path, &headers)).await);
        let answer = answer.map(|(status, server, body)| {
            report.server = server;
            if status == 200 {
                report.models = parse_models(&body);
            }
            status
        });
        let n_models = report.models.len();
        report.checks.push(optional_route_check(
            &format!("GET {models_path}"),
            answer,
            || format!("{n_models} model(s)"),
        ));
        for path in ["/health", "/v2/health/ready"] {
            let answer =
                answer_of(tokio::time::timeout(timeout, get(&target, path, &headers)).await)
                    .map(|(status, _, _)| status);
            report
                .checks
                .push(optional_route_check(&format!("GET {path}"), answer, || {
                    "HTTP 200".into()
                }));
        }
        let answer =
            answer_of(tokio::time::timeout(timeout, get(&target, "/metrics", &headers)).await)
                .map(|(status, _, body)| (status, body));
        report.checks.push(metrics_check(answer));

        let model = model
            .map(str::to_string)
            .or_else(|| report.models.first().cloned())
            .unwrap_or_else(|| "default".into());
        let prompt = Prompt {
            text: "Say hello in three words.".into(),
            max_tokens: Some(16),
            ..Prompt::default()
        };
        let timeouts = Timeouts {
            connect: timeout,
            idle: timeout,
            total: timeout,
        };
        let mut streaming_ctx: Option<Arc<ExecCtx>> = None;
        for (api, stream) in [
            (ApiKind::Chat, false),
            (ApiKind::Chat, true),
            (ApiKind::Completions, false),
            (ApiKind::Completions, true),
            (ApiKind::Kserve, false),
        ] {
            let scheme = if target.tls.is_some() {
                "https"
            } else {
                "http"
            };
            let Ok(mut t) = Target::new(
                &format!(
                    "{scheme}://{}{}",
                    target.authority,
                    target
                        .base_path
                        .strip_suffix("/v1")
                        .unwrap_or(&target.base_path)
                ),
                api,
                &model,
            ) else {
                continue;
            };
            t.tls = target.tls.clone(); // the same certificate checks
            let opts = RequestOptions::new(api, model.clone(), stream);
            let Ok(body) = opts.build_body(&prompt, None) else {
                continue;
            };
            let Ok(ctx) = ExecCtx::new(
                t.clone(),
                api,
                stream,
                Arc::new(vec![body]),
                headers.clone(),
                timeouts,
            ) else {
                continue;
            };
            let rec = RequestRecord::new(0, 0, Instant::now(), stream);
            let rec = exec(&ctx, &mut None, rec, &Hook::None).await;
            let name = format!(
                "POST {} ({})",
                t.path,
                if stream { "stream" } else { "no stream" }
            );
            let ok = rec.ok();
            if ok {
                let label = format!("{}{}", api.as_str(), if stream { "+stream" } else { "" });
                report.apis.push(label);
                if stream && streaming_ctx.is_none() {
                    streaming_ctx = Some(Arc::new(ctx));
                }
            }
            // An API the server does not have is absent, not failed; any
            // other error on an API it has is reported as a failure (it
            // fails the probe only if no API answers at all).
            let status = match (&rec.error, ok) {
                (_, true) => CheckStatus::Ok,
                (
                    Some(RequestError::HttpStatus {
                        status: 404 | 405, ..
                    }),
                    _,
                ) => CheckStatus::Absent,
                _ => CheckStatus::Fail,
            };
            let detail = match &rec.error {
                Some(e) => e.to_string(),
                None => describe(&rec, stream),
            };
            report
                .checks
                .push(ProbeCheck::new(name, false, status, detail));
        }
        report.checks.push(match streaming_ctx {
            Some(ctx) => concurrent_streams_check(ctx).await,
            None => ProbeCheck::new(
                format!("{CONCURRENT_STREAMS} concurrent streams"),
                true,
                CheckStatus::Info,
                "skipped: no streaming API answered".into(),
            ),
        });
    });
    Ok(report)
}

fn ms(v: Option<u64>) -> String {
    v.map_or("-".into(), |v| format!("{:.1} ms", v as f64 / 1e6))
}

fn describe(rec: &RequestRecord, stream: bool) -> String {
    let mut d = format!(
        "latency {}, {} output bytes, usage {}",
        ms(rec.latency_ns()),
        rec.output.total_len(),
        match rec.usage.and_then(|u| u.completion_tokens) {
            Some(n) => format!("{n} tokens"),
            None => "absent".into(),
        }
    );
    if stream {
        d.push_str(&format!(
            ", TTFT {}, {} events / {} with text{}",
            ms(rec.ttft_ns()),
            rec.events,
            rec.text_chunks,
            if rec.opens_without_text {
                ", opens with a chunk without text (role-only)"
            } else {
                ""
            }
        ));
    }
    d
}

/// Sends [`CONCURRENT_STREAMS`] streams at once and checks that each ends
/// properly: no error (an aborted, empty stream is one), text, and a
/// finish reason (a stream cut short ends without one).
async fn concurrent_streams_check(ctx: Arc<ExecCtx>) -> ProbeCheck {
    let name = format!("{CONCURRENT_STREAMS} concurrent streams");
    let mut set = tokio::task::JoinSet::new();
    for i in 0..CONCURRENT_STREAMS {
        let ctx = Arc::clone(&ctx);
        set.spawn(async move {
            let rec = RequestRecord::new(i as u64, 0, Instant::now(), true);
            exec(&ctx, &mut None, rec, &Hook::None).await
        });
    }
    let mut problems: Vec<String> = Vec::new();
    let mut ttfts: Vec<u64> = Vec::new();
    while let Some(joined) = set.join_next().await {
        let rec = match joined {
            Ok(rec) => rec,
            Err(e) => {
                problems.push(format!("stream task failed: {e}"));
                continue;
            }
        };
        if let Some(e) = &rec.error {
            problems.push(e.to_string());
        } else if rec.text_chunks == 0 {
            problems.push("no text".into());
        } else if rec.output.finish_reason.is_none() {
            problems.push(format!(
                "ended after {} text chunk(s) without a finish_reason (cut short)",
                rec.text_chunks
            ));
        } else if let Some(t) = rec.ttft_ns() {
            ttfts.push(t);
        }
    }
    if problems.is_empty() {
        ttfts.sort_unstable();
        let (first, last) = (ttfts.first().copied(), ttfts.last().copied());
        // Streams served together start together; streams served one after
        // another start one answer apart.
        let queues = matches!((first, last), (Some(a), Some(b)) if b as f64 > crate::metrics::QUEUE_TTFT_RATIO * a as f64);
        ProbeCheck::new(
            name,
            true,
            CheckStatus::Ok,
            format!(
                "all {CONCURRENT_STREAMS} ended with text and a finish_reason; TTFT {} .. {}{}",
                ms(first),
                ms(last),
                if queues {
                    " (the later ones waited: the server queues concurrent requests)"
                } else {
                    ""
                }
            ),
        )
    } else {
        ProbeCheck::new(
            name,
            true,
            CheckStatus::Fail,
            format!(
                "{} of {CONCURRENT_STREAMS} did not end properly: {} (a server that serves one request at a time, or aborts the stream in progress when another arrives, cannot be benchmarked at concurrency > 1)",
                problems.len(),
                problems[0]
            ),
        )
    }
}

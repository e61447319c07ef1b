//! `probe`: what an endpoint serves and how it streams, before a benchmark.

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

/// One check of a probe.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeCheck {
    pub name: String,
    pub ok: bool,
    pub detail: String,
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
    pub fn ok(&self) -> bool {
        !self.apis.is_empty()
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
            s.push_str(&format!(
                "  [{}] {:<28} {}\n",
                if c.ok { " ok " } else { "FAIL" },
                c.name,
                c.detail
            ));
        }
        s
    }
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

/// Checks `url`: models, health routes, and a tiny request on each API
/// (streamed and not), reporting how the server streams (role-only first
/// chunk, usage in the stream, `[DONE]`).
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
        match tokio::time::timeout(timeout, get(&target, &models_path, &headers)).await {
            Ok(Ok((status, server, body))) => {
                report.server = server;
                report.models = parse_models(&body);
                report.checks.push(ProbeCheck {
                    name: format!("GET {models_path}"),
                    ok: status == 200,
                    detail: format!("HTTP {status}, {} model(s)", report.models.len()),
                });
            }
            Ok(Err(e)) => report.checks.push(ProbeCheck {
                name: format!("GET {models_path}"),
                ok: false,
                detail: e.to_string(),
            }),
            Err(_) => report.checks.push(ProbeCheck {
                name: format!("GET {models_path}"),
                ok: false,
                detail: "timed out".into(),
            }),
        }
        for path in ["/health", "/v2/health/ready"] {
            if let Ok(Ok((status, _, _))) =
                tokio::time::timeout(timeout, get(&target, path, &headers)).await
            {
                report.checks.push(ProbeCheck {
                    name: format!("GET {path}"),
                    ok: status == 200,
                    detail: format!("HTTP {status}"),
                });
            }
        }
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
            }
            let detail = match &rec.error {
                Some(e) => e.to_string(),
                None => {
                    let ms = |v: Option<u64>| {
                        v.map_or("-".into(), |v| format!("{:.1} ms", v as f64 / 1e6))
                    };
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
                        let role_only_first = rec.opens_without_text;
                        d.push_str(&format!(
                            ", TTFT {}, {} events / {} with text{}",
                            ms(rec.ttft_ns()),
                            rec.events,
                            rec.text_chunks,
                            if role_only_first {
                                ", opens with a chunk without text (role-only)"
                            } else {
                                ""
                            }
                        ));
                    }
                    d
                }
            };
            report.checks.push(ProbeCheck { name, ok, detail });
        }
    });
    Ok(report)
}

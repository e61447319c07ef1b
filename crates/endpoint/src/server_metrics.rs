//! Scraping the server's own Prometheus `/metrics` while a point runs.
//!
//! One GET per interval on a thread of its own, with its own
//! current-thread runtime and its own connection per scrape: nothing runs
//! on the client's shards, so the client's request rate does not pay for
//! it. The first scrape happens in [`Scraper::start`], before the point's
//! load starts (the counters' baseline, and a quick verdict: a server with
//! no `/metrics` or one that answers something else is told once and the
//! run goes on without); the last in [`Scraper::finish`], after it ends.
//! A scrape that fails in between is counted, never fatal. Parsing and
//! summarising are `yardstick-server-metrics`'.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, ACCEPT, HOST};
use http::{Method, Request};
use http_body_util::{BodyExt, Full, Limited};
use yardstick_record::ServerMetrics;
use yardstick_server_metrics::{parse_exposition, parse_recognised, Collector, ParseError};

// What a front end needs besides the scraper.
pub use yardstick_server_metrics::{skipped, summary_line, RAW_FILE};

use crate::api::{ApiKind, Target};
use crate::client::connect;
use crate::error::{EndpointError, RequestError};
use crate::tls::TlsTrust;

/// Largest `/metrics` answer read (vLLM's is tens of KiB).
const MAX_BODY_BYTES: usize = 16 << 20;

/// Why a scrape gave nothing.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: {source}")]
    Request {
        url: String,
        #[source]
        source: RequestError,
    },
    #[error("{url}: no answer within {after:?}")]
    Timeout { url: String, after: Duration },
    #[error("{url}: the answer is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge { url: String },
    #[error("{url} is not Prometheus text: {source}")]
    NotPrometheus {
        url: String,
        #[source]
        source: ParseError,
    },
    #[error("server metrics URL: {0}")]
    Url(#[source] EndpointError),
    #[error("cannot start the scraper: {0}")]
    Runtime(#[source] std::io::Error),
}

/// What and how often to scrape.
#[derive(Debug, Clone)]
pub struct ScrapeConfig {
    /// The full URL of the metrics page.
    pub url: String,
    pub interval: Duration,
    /// Sent with every scrape (a gateway may want the API key).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub trust: TlsTrust,
}

/// The default metrics URL of an endpoint: `/metrics` at the server's base
/// (the endpoint URL's scheme, host and port, and its path before `/v1`).
pub fn default_metrics_url(endpoint_url: &str) -> Result<String, EndpointError> {
    let target = Target::new(endpoint_url, ApiKind::Chat, "model")?;
    let scheme = if target.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let base = target.base_path.trim_end_matches('/');
    let base = base.strip_suffix("/v1").unwrap_or(base);
    Ok(format!("{scheme}://{}{base}/metrics", target.authority))
}

/// The server and path of a metrics URL.
fn metrics_target(url: &str, trust: &TlsTrust) -> Result<Target, EndpointError> {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let path = url[after_scheme..]
        .find('/')
        .map_or("/", |i| &url[after_scheme + i..]);
    let target = Target::new(url, ApiKind::Chat, "model")?.with_trust(trust)?;
    Ok(target.with_path(path))
}

/// One GET of the metrics page, parsed whole (the first scrape: is it
/// Prometheus text at all?) or only its recognised families (every later
/// one: a vLLM page is mostly histograms nobody reads here; measured 25x
/// cheaper, `cargo run --release -p yardstick-server-metrics --example
/// parse_cost`).
async fn scrape_once(
    target: &Target,
    headers: &[(HeaderName, HeaderValue)],
    url: &str,
    whole: bool,
) -> Result<yardstick_server_metrics::Exposition, ScrapeError> {
    let request_error = |source: RequestError| ScrapeError::Request {
        url: url.to_string(),
        source,
    };
    let mut conn = connect(target).await.map_err(request_error)?;
    let mut req = Request::new(Full::new(Bytes::new()));
    *req.method_mut() = Method::GET;
    *req.uri_mut() = target.path.parse().map_err(|e: http::uri::InvalidUri| {
        request_error(RequestError::Send {
            message: e.to_string(),
        })
    })?;
    let host = HeaderValue::from_str(&target.authority).map_err(|e| {
        request_error(RequestError::Send {
            message: e.to_string(),
        })
    })?;
    req.headers_mut().insert(HOST, host);
    // Prometheus text, not OpenMetrics or protobuf, from servers that
    // negotiate.
    req.headers_mut().insert(
        ACCEPT,
        HeaderValue::from_static("text/plain;version=0.0.4;q=1,*/*;q=0.1"),
    );
    for (k, v) in headers {
        req.headers_mut().insert(k.clone(), v.clone());
    }
    let resp = conn.sender.send_request(req).await.map_err(|e| {
        request_error(RequestError::Send {
            message: e.to_string(),
        })
    })?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(ScrapeError::Status {
            url: url.to_string(),
            status,
        });
    }
    let body = Limited::new(resp.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                ScrapeError::TooLarge {
                    url: url.to_string(),
                }
            } else {
                request_error(RequestError::BrokenStream {
                    message: e.to_string(),
                })
            }
        })?
        .to_bytes();
    let text = String::from_utf8_lossy(&body);
    let parsed = if whole {
        parse_exposition(&text)
    } else {
        parse_recognised(&text)
    };
    parsed.map_err(|source| ScrapeError::NotPrometheus {
        url: url.to_string(),
        source,
    })
}

/// The scrapes of one point, running.
pub struct Scraper {
    url: String,
    interval: Duration,
    stop: mpsc::Sender<()>,
    thread: JoinHandle<Collector>,
}

/// What a point's scraping left: the record's part and the raw samples.
#[derive(Debug)]
pub struct ScrapeResult {
    pub record: ServerMetrics,
    /// `t_seconds,metric,labels,value` rows of every recognised series.
    pub raw_csv: String,
}

impl Scraper {
    /// Scrapes once now (the baseline), then every `interval` on a thread
    /// of its own until [`finish`](Self::finish). An error here (no such
    /// page, a refused connection, not Prometheus text) means nothing to
    /// scrape: the caller warns once and runs without.
    pub fn start(config: ScrapeConfig) -> Result<Scraper, ScrapeError> {
        let target = metrics_target(&config.url, &config.trust).map_err(ScrapeError::Url)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ScrapeError::Runtime)?;
        // A scrape may take up to one interval (at least 2 s): a slow
        // server is counted, not waited for.
        let timeout = config.interval.max(Duration::from_secs(2));
        let url = config.url.clone();
        let scrape = move |rt: &tokio::runtime::Runtime, whole: bool| {
            rt.block_on(async {
                match tokio::time::timeout(
                    timeout,
                    scrape_once(&target, &config.headers, &config.url, whole),
                )
                .await
                {
                    Ok(r) => r,
                    Err(_) => Err(ScrapeError::Timeout {
                        url: config.url.clone(),
                        after: timeout,
                    }),
                }
            })
        };
        let started = Instant::now();
        let first = scrape(&runtime, true)?;
        let mut collector = Collector::new();
        collector.add(0.0, &first.samples);
        let (stop, stopped) = mpsc::channel::<()>();
        let interval = config.interval;
        let thread = std::thread::Builder::new()
            .name("server-metrics".into())
            .spawn(move || {
                let mut next = started + interval;
                loop {
                    let wait = next.saturating_duration_since(Instant::now());
                    let last = match stopped.recv_timeout(wait) {
                        Err(mpsc::RecvTimeoutError::Timeout) => false,
                        // Told to stop (or the point is gone): one last
                        // scrape closes the counters' window.
                        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => true,
                    };
                    let t = started.elapsed().as_secs_f64();
                    match scrape(&runtime, false) {
                        Ok(e) => collector.add(t, &e.samples),
                        Err(e) => collector.add_failure(e.to_string()),
                    }
                    if last {
                        break;
                    }
                    next += interval;
                    // A scrape that took longer than the interval: the
                    // next one waits a whole interval, not a burst.
                    let now = Instant::now();
                    if next < now {
                        next = now + interval;
                    }
                }
                collector
            })
            .map_err(ScrapeError::Runtime)?;
        Ok(Scraper {
            url,
            interval,
            stop,
            thread,
        })
    }

    /// Scrapes a last time, stops, and summarises.
    pub fn finish(self) -> ScrapeResult {
        let _ = self.stop.send(());
        let interval = self.interval.as_secs_f64();
        match self.thread.join() {
            Ok(collector) => ScrapeResult {
                record: collector.finish(&self.url, interval),
                raw_csv: collector.raw_csv(),
            },
            Err(_) => {
                let mut c = Collector::new();
                c.add_failure("the scraper thread panicked");
                ScrapeResult {
                    record: c.finish(&self.url, interval),
                    raw_csv: c.raw_csv(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_url_is_metrics_at_the_servers_base() {
        for (endpoint, metrics) in [
            ("http://127.0.0.1:8000", "http://127.0.0.1:8000/metrics"),
            ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/metrics"),
            (
                "http://127.0.0.1:8000/v1/chat/completions",
                "http://127.0.0.1:8000/metrics",
            ),
            (
                "http://127.0.0.1:9000/proxy/v1",
                "http://127.0.0.1:9000/proxy/metrics",
            ),
        ] {
            assert_eq!(
                default_metrics_url(endpoint).unwrap(),
                metrics,
                "{endpoint}"
            );
        }
    }
}

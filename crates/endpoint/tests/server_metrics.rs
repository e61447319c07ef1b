//! The scraper of a server's `/metrics`: against a small metrics server of
//! the test's own (answers chosen per scrape: vLLM-style counters that
//! grow, a 404, garbage, failures mid-run) and against the mock server
//! while a point runs. Loopback only.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use yardstick_endpoint::server_metrics::{ScrapeConfig, ScrapeError, Scraper};
use yardstick_endpoint::{MockConfig, MockMode, MockServer};
use yardstick_record::ServerMetricsStatus;

/// Serves `answer(n)` (status, body) to the n-th request (from 0), one
/// request per connection.
fn metrics_server(answer: impl Fn(u64) -> (u16, String) + Send + Sync + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    let served = Arc::new(AtomicU64::new(0));
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let n = served.fetch_add(1, Ordering::SeqCst);
            let (status, body) = answer(n);
            let mut buf = [0u8; 4096];
            let mut head = Vec::new();
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(k) => head.extend_from_slice(&buf[..k]),
                }
            }
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    addr
}

fn config(url: String, interval_ms: u64) -> ScrapeConfig {
    ScrapeConfig {
        url,
        interval: Duration::from_millis(interval_ms),
        headers: Vec::new(),
        trust: Default::default(),
    }
}

/// vLLM's names for scrape `n`: two models, counters that grow by a known
/// amount per scrape.
fn vllm_text(n: u64) -> String {
    let n = n as f64;
    format!(
        "# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{{engine=\"0\",model_name=\"a\"}} 3.0
vllm:num_requests_running{{engine=\"0\",model_name=\"b\"}} 1.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{{engine=\"0\",model_name=\"a\"}} {waiting}
# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{{engine=\"0\",model_name=\"a\"}} 0.25
# HELP vllm:prefix_cache_queries_total Prefix cache queries, in terms of number of queried tokens.
# TYPE vllm:prefix_cache_queries_total counter
vllm:prefix_cache_queries_total{{engine=\"0\",model_name=\"a\"}} {queries}
# HELP vllm:prefix_cache_hits_total Prefix cache hits, in terms of number of cached tokens.
# TYPE vllm:prefix_cache_hits_total counter
vllm:prefix_cache_hits_total{{engine=\"0\",model_name=\"a\"}} {hits}
# HELP vllm:generation_tokens_total Number of generation tokens processed.
# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total{{engine=\"0\",model_name=\"a\"}} {gen}
vllm:generation_tokens_total{{engine=\"0\",model_name=\"b\"}} {gen}
",
        waiting = 10.0 + n,
        queries = 1000.0 + 100.0 * n,
        hits = 500.0 + 75.0 * n,
        gen = 50.0 * n,
    )
}

#[test]
fn vllm_counters_become_deltas_and_a_hit_rate() {
    let addr = metrics_server(|n| (200, vllm_text(n)));
    let url = format!("http://{addr}/metrics");
    let scraper = Scraper::start(config(url.clone(), 50)).expect("first scrape");
    std::thread::sleep(Duration::from_millis(400));
    let result = scraper.finish();
    let m = &result.record;
    assert_eq!(m.status, ServerMetricsStatus::Scraped);
    assert_eq!(m.url, url);
    assert_eq!(m.engines, vec!["vllm".to_string()]);
    // The baseline, at least a few interval scrapes, and the last one.
    assert!(m.scrapes >= 3, "{} scrapes", m.scrapes);
    assert_eq!(m.failed_scrapes, 0);
    let steps = (m.scrapes - 1) as f64;
    let running = m.gauge("running_requests").expect("running");
    assert_eq!((running.min, running.max), (4.0, 4.0), "summed over models");
    let waiting = m.gauge("waiting_requests").expect("waiting");
    assert_eq!((waiting.min, waiting.max), (10.0, 10.0 + steps));
    assert_eq!(m.counter("prefix_cache_hits").unwrap().delta, 75.0 * steps);
    assert_eq!(
        m.counter("prefix_cache_queries").unwrap().delta,
        100.0 * steps
    );
    assert_eq!(m.prefix_cache_hit_rate, Some(0.75));
    let generation = m.counter("generation_tokens").unwrap();
    assert_eq!(generation.delta, 2.0 * 50.0 * steps);
    assert!(generation.per_second > 0.0);
    // Raw samples: both models' rows of every scrape.
    let rows = result
        .raw_csv
        .lines()
        .filter(|l| l.contains("vllm:generation_tokens_total"))
        .count();
    assert_eq!(rows as u64, 2 * m.scrapes);
}

#[test]
fn no_metrics_page_is_an_error_naming_the_url_and_status() {
    let addr = metrics_server(|_| (404, "Not Found".into()));
    let url = format!("http://{addr}/metrics");
    let err = Scraper::start(config(url.clone(), 50))
        .err()
        .expect("a 404");
    assert!(
        matches!(err, ScrapeError::Status { status: 404, .. }),
        "{err}"
    );
    assert_eq!(err.to_string(), format!("{url}: HTTP 404"));
}

#[test]
fn a_refused_connection_is_an_error_naming_the_url() {
    // A port nobody listens on: bound, then closed.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{addr}/metrics");
    let err = Scraper::start(config(url.clone(), 50))
        .err()
        .expect("refused");
    assert!(matches!(err, ScrapeError::Request { .. }), "{err}");
    assert!(err.to_string().starts_with(&url), "{err}");
}

#[test]
fn garbage_is_not_prometheus_text_with_its_line() {
    let addr = metrics_server(|_| (200, "{\"status\": \"ok\",\n \"metrics\": []}\n".into()));
    let url = format!("http://{addr}/metrics");
    let err = Scraper::start(config(url.clone(), 50))
        .err()
        .expect("garbage");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("{url} is not Prometheus text: line 1: ")),
        "{text}"
    );
}

#[test]
fn scrapes_failing_mid_run_are_counted_not_fatal() {
    // The baseline answers, every later scrape gets a 503.
    let addr = metrics_server(|n| {
        if n == 0 {
            (200, vllm_text(0))
        } else {
            (503, "busy".into())
        }
    });
    let scraper = Scraper::start(config(format!("http://{addr}/metrics"), 50)).expect("baseline");
    std::thread::sleep(Duration::from_millis(300));
    let m = scraper.finish().record;
    assert_eq!(m.status, ServerMetricsStatus::Scraped);
    assert_eq!(m.scrapes, 1);
    assert!(m.failed_scrapes >= 2, "{} failed", m.failed_scrapes);
    assert!(
        m.first_error.as_deref().unwrap_or("").ends_with("HTTP 503"),
        "{:?}",
        m.first_error
    );
}

#[test]
fn the_mock_servers_gauges_are_scraped_while_a_point_runs() {
    // One request served at a time, four sent at once: the others wait,
    // so the mock's waiting gauge rises while the point runs.
    let server = MockServer::start(
        MockConfig {
            mode: MockMode::Simulated,
            ttft: Duration::from_millis(20),
            tpot: Duration::from_millis(5),
            output_tokens: 8,
            max_concurrency: Some(1),
            ..MockConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .expect("mock");
    let base = server.url();
    let metrics_url = yardstick_endpoint::server_metrics::default_metrics_url(&base).unwrap();
    assert!(metrics_url.ends_with("/metrics"), "{metrics_url}");
    let bench = common::bench(&base, true, Duration::from_secs(10), None);
    let scraper = Scraper::start(config(metrics_url, 50)).expect("mock /metrics");
    let point = bench
        .run_concurrency(4, Some(Duration::from_millis(1500)), None, 0)
        .expect("point");
    let m = scraper.finish().record;
    assert!(point.summary.metrics.n_samples_completed > 0);
    assert!(
        m.engines.iter().any(|e| e == "yardstick-mock"),
        "{:?}",
        m.engines
    );
    assert!(m.scrapes >= 5, "{} scrapes", m.scrapes);
    let running = m.gauge("running_requests").expect("running");
    assert_eq!(running.max, 1.0, "the mock serves one at a time");
    let waiting = m.gauge("waiting_requests").expect("waiting");
    assert!(waiting.max >= 1.0, "waiting max {}", waiting.max);
}

//! What scraping the server's `/metrics` costs the client's request rate:
//! the in-process mock (max-throughput: pre-built answers, the client is
//! the bottleneck) at a fixed concurrency, without scraping, scraping at
//! the default 1s, and at 100 ms (ten times the default). Runs are
//! interleaved (A B C A B C ...) so drift on a loaded machine hits every
//! case alike; prints each run and the medians.
//!
//! cargo run --release -p yardstick-endpoint --example server_metrics_rate -- [seconds] [rounds]

use std::time::Duration;

use yardstick_endpoint::server_metrics::{default_metrics_url, ScrapeConfig, Scraper};
use yardstick_endpoint::{
    ApiKind, Bench, BenchConfig, Dataset, MockConfig, MockMode, MockServer, RequestOptions, Slo,
    Timeouts, UsageMode,
};

fn config(url: &str) -> BenchConfig {
    BenchConfig {
        url: url.into(),
        request: RequestOptions::new(ApiKind::Chat, "mock", true),
        headers: Vec::new(),
        api_key: None,
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            idle: Duration::from_secs(30),
            total: Duration::from_secs(60),
        },
        threads: 1,
        max_connections: 64,
        prewarm_connections: 0,
        busy_poll: false,
        slo: Slo::default(),
        class_slos: Default::default(),
        usage: UsageMode::Prefer,
        seed: 1,
        tls_trust: Default::default(),
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map_or(Ok(5), |a| a.parse())?;
    let rounds: usize = args.next().map_or(Ok(5), |a| a.parse())?;
    let mock = MockServer::start(
        MockConfig {
            mode: MockMode::MaxThroughput,
            output_tokens: 64,
            ..MockConfig::default()
        },
        "127.0.0.1:0".parse()?,
    )?;
    let url = mock.url();
    let metrics_url = default_metrics_url(&url)?;
    let bench = Bench::new(
        config(&url),
        Dataset::synthetic(1024, 128, 64, None, 1)?,
        None,
        None,
    )?;
    let cases: [(&str, Option<Duration>); 3] = [
        ("no scraping", None),
        ("scrape every 1s", Some(Duration::from_secs(1))),
        ("scrape every 100ms", Some(Duration::from_millis(100))),
    ];
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    for round in 0..rounds {
        for (i, (name, interval)) in cases.iter().enumerate() {
            let scraper = match interval {
                Some(interval) => Some(Scraper::start(ScrapeConfig {
                    url: metrics_url.clone(),
                    interval: *interval,
                    headers: Vec::new(),
                    trust: Default::default(),
                })?),
                None => None,
            };
            let p = bench.run_concurrency(16, Some(Duration::from_secs(seconds)), None, 0)?;
            let scrapes = scraper.map_or(0, |s| s.finish().record.scrapes);
            let qps = p.summary.metrics.qps;
            println!("round {round} {name:<20} {qps:>9.1} req/s ({scrapes} scrapes)");
            rates[i].push(qps);
        }
    }
    let base = median(&mut rates[0].clone());
    for (i, (name, _)) in cases.iter().enumerate() {
        let m = median(&mut rates[i]);
        println!(
            "median {name:<20} {m:>9.1} req/s ({:+.1}% against no scraping)",
            (m / base - 1.0) * 100.0
        );
    }
    Ok(())
}

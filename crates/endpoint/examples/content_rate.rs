//! The client's request rate against the in-process mock server
//! (max-throughput: pre-built answers) with plain fixed-length prompts,
//! drawn length distributions, and shared prefixes, at the same mean
//! prompt length. Runs are interleaved (A B C A B C ...) so drift on a
//! loaded machine hits every case alike; prints each run and the medians.
//!
//! cargo run --release -p yardstick-endpoint --example content_rate -- [requests] [rounds]

use std::time::Duration;

use yardstick_endpoint::content::{SharedPrefixes, SyntheticSpec};
use yardstick_endpoint::lengths::{LengthDistribution, LengthSide, PrefixChoice};
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

fn dist(spec: &str) -> Result<LengthDistribution, Box<dyn std::error::Error>> {
    Ok(LengthDistribution::parse(spec, LengthSide::Input, None)?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let requests: u64 = args.next().map_or(Ok(20_000), |a| a.parse())?;
    let rounds: usize = args.next().map_or(Ok(3), |a| a.parse())?;
    let prompts = 2048;
    let mock = MockServer::start(
        MockConfig {
            mode: MockMode::MaxThroughput,
            output_tokens: 64,
            ..MockConfig::default()
        },
        "127.0.0.1:0".parse()?,
    )?;
    let url = mock.url();
    // Mean prompt length 256 words in every case.
    let fixed = Dataset::synthetic(prompts, 256, 64, None, 1)?;
    let distributions = SyntheticSpec {
        count: prompts,
        input: dist("uniform:128..384")?,
        output: dist("lognormal:64,0.5")?,
        exact_output: false,
        shared_prefixes: None,
        seed: 1,
    }
    .build(None)?;
    let prefixes = SyntheticSpec {
        count: prompts,
        input: dist("uniform:32..96")?,
        output: dist("fixed:64")?,
        exact_output: false,
        shared_prefixes: Some(SharedPrefixes {
            count: 16,
            tokens: 192,
            choice: PrefixChoice::Zipf(1.1),
        }),
        seed: 1,
    }
    .build(None)?;
    let cases = [
        ("fixed", Bench::new(config(&url), fixed, None, None)?),
        (
            "distributions",
            Bench::new(config(&url), distributions, None, None)?,
        ),
        (
            "shared_prefixes",
            Bench::new(config(&url), prefixes, None, None)?,
        ),
    ];
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    for round in 0..rounds {
        for (i, (name, bench)) in cases.iter().enumerate() {
            let p = bench.run_concurrency(32, None, Some(requests), 200)?;
            let m = &p.summary.metrics;
            println!(
                "round {round} {name:<16} {:>9.1} req/s  ({} ok, {} failed)",
                m.qps, m.n_samples_completed, m.n_samples_failed
            );
            rates[i].push(m.qps);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let base = median(&mut rates[0].clone());
    for (i, (name, _)) in cases.iter().enumerate() {
        let m = median(&mut rates[i].clone());
        println!(
            "median {name:<16} {m:>9.1} req/s  {:+.1}% vs fixed",
            (m / base - 1.0) * 100.0
        );
    }
    Ok(())
}

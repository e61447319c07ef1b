//! What multi-turn sessions cost the client, against the in-process mock
//! server:
//!
//! 1. building a turn's body as the history grows (it is built when the
//!    previous answer is in, not before the run);
//! 2. how late later turns go out: sent minus due (the previous answer's
//!    end plus the think time), against turn 1, with a think time (a tokio
//!    timer) and without (the body is built after the due time);
//! 3. the client's request rate with sessions of 5 turns against single
//!    prompts at the same concurrency (max-throughput mock: no delays),
//!    interleaved rounds, medians.
//!
//! cargo run --release -p yardstick-endpoint --example session_cost -- [sessions] [rounds]

use std::time::{Duration, Instant};

use serde_json::json;
use yardstick_endpoint::lengths::LengthDistribution;
use yardstick_endpoint::session::{SyntheticSessions, ThinkTime};
use yardstick_endpoint::{
    ApiKind, Bench, BenchConfig, Dataset, MockConfig, MockMode, MockServer, Prompt, RequestOptions,
    Slo, Timeouts, UsageMode,
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

fn words(n: usize, tag: &str) -> String {
    (0..n)
        .map(|i| format!("{tag}{i}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 * p) as usize).min(v.len() - 1)]
}

fn median(mut v: Vec<f64>) -> f64 {
    percentile(&mut v, 0.5)
}

fn body_cost() {
    println!("1. body build per turn (128-word user turns, 128-word answers):");
    let request = RequestOptions::new(ApiKind::Chat, "mock", true);
    for turns in [1usize, 2, 4, 8, 16, 32] {
        let mut messages = Vec::new();
        for k in 0..turns - 1 {
            messages.push(json!({"role": "user", "content": words(128, &format!("u{k}_"))}));
            messages.push(json!({"role": "assistant", "content": words(128, &format!("a{k}_"))}));
        }
        messages.push(json!({"role": "user", "content": words(128, "q")}));
        let p = Prompt {
            messages: Some(messages),
            max_tokens: Some(128),
            ..Prompt::default()
        };
        let reps = 2000;
        let mut size = 0;
        let mut times = Vec::with_capacity(reps);
        for _ in 0..reps {
            let t0 = Instant::now();
            // As the driver does: the history copied, the prompt cloned,
            // the body serialized.
            let mut turn = p.clone();
            turn.messages = p.messages.clone();
            let b = request.build_body(&turn, None).expect("body");
            times.push(t0.elapsed().as_secs_f64() * 1e6);
            size = b.len();
        }
        println!(
            "   turn {turns:>2}: {:>6} bytes, median {:>7.1} us, p99 {:>7.1} us",
            size,
            median(times.clone()),
            percentile(&mut times, 0.99)
        );
    }
}

fn sessions(
    count: usize,
    turns: u32,
    think: ThinkTime,
) -> (Dataset, yardstick_endpoint::session::SessionPlan) {
    SyntheticSessions {
        count,
        turns: LengthDistribution::Fixed(turns),
        input: LengthDistribution::Fixed(64),
        output: LengthDistribution::Fixed(64),
        exact_output: false,
        think,
        seed: 1,
    }
    .build(None)
    .expect("plan")
}

fn lateness(n_sessions: u64) {
    println!("2. how late turns go out (sent - due), simulated mock (ttft 20 ms, tpot 2 ms, 32 tokens), 16 users, sessions of 5 turns:");
    let server = MockServer::start(
        MockConfig {
            mode: MockMode::Simulated,
            output_tokens: 32,
            ttft: Duration::from_millis(20),
            tpot: Duration::from_millis(2),
            ..MockConfig::default()
        },
        "127.0.0.1:0".parse().expect("addr"),
    )
    .expect("mock");
    for (label, think) in [
        ("think 0    ", ThinkTime::default()),
        ("think 20 ms", ThinkTime::Fixed(Duration::from_millis(20))),
    ] {
        let (dataset, plan) = sessions(n_sessions as usize, 5, think);
        let bench = Bench::new(config(&server.url()), dataset, None, None)
            .expect("bench")
            .with_sessions(plan)
            .expect("sessions");
        let p = bench
            .run_concurrency(16, None, Some(n_sessions), 0)
            .expect("run");
        let wait = |first: bool| {
            let mut v: Vec<f64> = p
                .records
                .iter()
                .filter(|r| r.session.is_some_and(|s| (s.turn == 1) == first))
                .filter_map(|r| r.send_wait_ns())
                .map(|ns| ns as f64 / 1e3)
                .collect();
            (
                v.len(),
                percentile(&mut v, 0.5),
                percentile(&mut v, 0.99),
                percentile(&mut v, 1.0),
            )
        };
        let (n1, a50, a99, amax) = wait(true);
        let (n2, b50, b99, bmax) = wait(false);
        println!(
            "   {label}: turn 1 ({n1}): p50 {a50:>7.1} us p99 {a99:>7.1} us max {amax:>8.1} us | later turns ({n2}): p50 {b50:>7.1} us p99 {b99:>7.1} us max {bmax:>8.1} us"
        );
    }
}

fn rate(n_sessions: u64, rounds: usize) {
    println!("3. client request rate, max-throughput mock (64-word answers, no delays), 8 users, 1 client thread:");
    let server = MockServer::start(
        MockConfig {
            mode: MockMode::MaxThroughput,
            output_tokens: 64,
            threads: 1,
            ..MockConfig::default()
        },
        "127.0.0.1:0".parse().expect("addr"),
    )
    .expect("mock");
    let requests = n_sessions * 5;
    let (single_ds, _) = sessions(requests as usize, 1, ThinkTime::default());
    let single = Bench::new(config(&server.url()), single_ds, None, None).expect("bench");
    let (ds, plan) = sessions(n_sessions as usize, 5, ThinkTime::default());
    let multi = Bench::new(config(&server.url()), ds, None, None)
        .expect("bench")
        .with_sessions(plan)
        .expect("sessions");
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let p = single
            .run_concurrency(8, None, Some(requests), 0)
            .expect("single");
        let q = multi
            .run_concurrency(8, None, Some(n_sessions), 0)
            .expect("sessions");
        println!(
            "   round {round}: single prompts {:>8.0} req/s ({} requests) | sessions of 5 turns {:>8.0} req/s ({} requests)",
            p.summary.metrics.qps,
            p.records.len(),
            q.summary.metrics.qps,
            q.records.len()
        );
        a.push(p.summary.metrics.qps);
        b.push(q.summary.metrics.qps);
    }
    let (ma, mb) = (median(a), median(b));
    println!(
        "   medians: single {ma:.0} req/s, sessions {mb:.0} req/s ({:+.1}%)",
        (mb / ma - 1.0) * 100.0
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(400);
    let rounds: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(5);
    let only = std::env::var("ONLY").unwrap_or_default();
    if only.is_empty() || only == "body" {
        body_cost();
    }
    if only.is_empty() || only == "late" {
        lateness(n.min(200));
    }
    if only.is_empty() || only == "rate" {
        rate(n, rounds);
    }
}

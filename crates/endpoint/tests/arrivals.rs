//! Arrival schedules (gamma, ramps, Mooncake and Azure traces) and the SLO
//! search, on their own and against the mock server on 127.0.0.1.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use yardstick_endpoint::arrivals::{
    gamma_gaps, parse_ramp, ArrivalError, Limits, Schedule, TraceFormat,
};
use yardstick_endpoint::bench::SampleOrder;
use yardstick_endpoint::slo_search::{attainment, search, SearchAxis, SearchConfig};
use yardstick_endpoint::{
    ApiKind, Bench, Dataset, MockConfig, MockMode, MockServer, Slo, UsageMode,
};

fn cv(gaps: &[f64]) -> (f64, f64) {
    let n = gaps.len() as f64;
    let mean = gaps.iter().sum::<f64>() / n;
    let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt() / mean)
}

#[test]
fn gamma_gaps_have_the_burstiness_coefficient_of_variation() {
    for (burstiness, expected_cv) in [(0.5, 2f64.sqrt()), (1.0, 1.0), (4.0, 0.5)] {
        let gaps = gamma_gaps(200.0, burstiness, 7, 100_000).unwrap();
        let (mean, cv) = cv(&gaps);
        assert!(
            (mean * 200.0 - 1.0).abs() < 0.02,
            "burstiness {burstiness}: mean gap {mean}"
        );
        assert!(
            (cv / expected_cv - 1.0).abs() < 0.05,
            "burstiness {burstiness}: CV {cv}, expected {expected_cv}"
        );
    }
    // Seeded: the same seed draws the same gaps, another seed others.
    assert_eq!(
        gamma_gaps(10.0, 0.5, 3, 100).unwrap(),
        gamma_gaps(10.0, 0.5, 3, 100).unwrap()
    );
    assert_ne!(
        gamma_gaps(10.0, 0.5, 3, 100).unwrap(),
        gamma_gaps(10.0, 0.5, 4, 100).unwrap()
    );
    assert!(gamma_gaps(10.0, 0.0, 3, 1).is_err());
    assert!(gamma_gaps(-1.0, 1.0, 3, 1).is_err());
}

#[test]
fn generated_schedules_keep_their_limits() {
    let by_count = Schedule::gamma(
        100.0,
        0.5,
        9,
        Limits {
            duration: None,
            max_requests: Some(1000),
        },
    )
    .unwrap();
    assert_eq!(by_count.len(), 1000);
    assert_eq!(by_count.due_ns[0], 0);
    assert!(by_count.due_ns.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(by_count.seed, Some(9));
    // ~1000 arrivals at 100/s span ~10 s (sampling error ~4.5% at CV 1.41).
    let span = *by_count.due_ns.last().unwrap() as f64 / 1e9;
    assert!((span - 10.0).abs() < 1.5, "{span}");

    let by_time = Schedule::constant(
        50.0,
        Limits {
            duration: Some(Duration::from_secs(2)),
            max_requests: None,
        },
    )
    .unwrap();
    assert_eq!(by_time.len(), 100);
    assert_eq!(by_time.due_ns[1], 20_000_000);
    assert!(Schedule::constant(
        5.0,
        Limits {
            duration: None,
            max_requests: None
        }
    )
    .is_err());
}

#[test]
fn ramp_stages_follow_each_other() {
    let stages = parse_ramp("10:1s,50:1s, 100:500ms").unwrap();
    assert_eq!(stages.len(), 3);
    assert_eq!(stages[2].duration, Duration::from_millis(500));
    let s = Schedule::ramp(&stages, None, 1, None).unwrap();
    assert_eq!(s.len(), 10 + 50 + 50);
    let in_stage = |from: u64, to: u64| {
        s.due_ns
            .iter()
            .filter(|&&d| d >= from * 1_000_000 && d < to * 1_000_000)
            .count()
    };
    assert_eq!(in_stage(0, 1000), 10);
    assert_eq!(in_stage(1000, 2000), 50);
    assert_eq!(in_stage(2000, 2500), 50);
    assert!((s.target_rate - 110.0 / 2.5).abs() < 1e-9);
    let capped = Schedule::ramp(&stages, Some(1.0), 1, Some(30)).unwrap();
    assert_eq!(capped.len(), 30);
    for bad in ["10", "x:1s", "10:1y", "10:0s", "-5:1s", ""] {
        let e = parse_ramp(bad).unwrap_err();
        assert!(matches!(e, ArrivalError::Config(_)), "{bad}: {e}");
    }
    assert!(parse_ramp("10:1y")
        .unwrap_err()
        .to_string()
        .contains("unknown unit"));
}

const MOONCAKE: &str = r#"{"timestamp": 0, "input_length": 100, "output_length": 10, "hash_ids": [1, 2]}
{"timestamp": 250, "input_length": 200, "output_length": 20, "hash_ids": [1, 3]}
this is not json
{"input_length": 5, "output_length": 5}

{"timestamp": 1000, "input_length": 300, "output_length": 30, "hash_ids": []}
{"timestamp": 500, "input_length": -4, "output_length": 1}
{"timestamp": 750, "input_length": 7}
"#;

#[test]
fn mooncake_trace_with_malformed_lines() {
    let s = Schedule::parse_trace(MOONCAKE, "t.jsonl", TraceFormat::Mooncake, 2.0).unwrap();
    // Sorted by time, scaled by 2 (half the rate).
    assert_eq!(s.due_ns, vec![0, 500_000_000, 1_500_000_000, 2_000_000_000]);
    assert_eq!(s.lengths[1].input_tokens, Some(200));
    assert_eq!(s.lengths[2].input_tokens, Some(7));
    assert_eq!(s.lengths[2].output_tokens, None);
    assert_eq!(s.lengths[3].output_tokens, Some(30));
    let lines: Vec<usize> = s.skipped.iter().map(|k| k.line).collect();
    assert_eq!(lines, vec![3, 4, 7]);
    assert!(s.skipped[0].reason.contains("not JSON"));
    assert!(s.skipped[1].reason.contains("timestamp"));
    assert!(s.skipped[2].reason.contains("input_length"));
    let messages = s.skip_messages();
    assert!(
        messages[0].starts_with("t.jsonl:3: skipped:"),
        "{messages:?}"
    );
    assert!((s.target_rate - 1.5).abs() < 1e-9, "{}", s.target_rate);

    let e =
        Schedule::parse_trace("nope\n{}\n", "bad.jsonl", TraceFormat::Mooncake, 1.0).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("bad.jsonl")
            && msg.contains("no valid request line")
            && msg.contains("2 line(s) skipped")
            && msg.contains("line 1"),
        "{msg}"
    );
    assert!(Schedule::parse_trace(MOONCAKE, "t", TraceFormat::Mooncake, 0.0).is_err());
}

#[test]
fn azure_trace_date_times_and_seconds() {
    let csv = "TIMESTAMP,ContextTokens,GeneratedTokens\n\
               2023-11-16 18:15:46.6805900,374,44\n\
               2023-11-16 18:15:50.9951690,396,109\n\
               2023-11-16 18:15:47.0000000,x,3\n\
               2023-11-16 18:15:47.1805900,1000\n\
               2023-11-16 18:15:47.1805900+00:00,12,3\n";
    let s = Schedule::parse_trace(csv, "a.csv", TraceFormat::Azure, 0.5).unwrap();
    assert_eq!(s.len(), 3);
    // 0.5 s after the first, halved (twice the rate).
    assert_eq!(s.due_ns[1], 250_000_000);
    assert_eq!(s.lengths[0].input_tokens, Some(374));
    assert_eq!(s.lengths[2].output_tokens, Some(109));
    assert!((s.due_ns[2] as f64 - 4.314579e9 * 0.5).abs() < 1e3);
    let lines: Vec<usize> = s.skipped.iter().map(|k| k.line).collect();
    assert_eq!(lines, vec![4, 5]);
    assert!(s.skipped[0].reason.contains("ContextTokens"));
    let numeric =
        Schedule::parse_trace("0.5,1,2\n1.5,3,4\n", "n.csv", TraceFormat::Azure, 1.0).unwrap();
    assert_eq!(numeric.due_ns, vec![0, 1_000_000_000]);
    assert_eq!(
        TraceFormat::from_path("x/y.CSV".as_ref()),
        TraceFormat::Azure
    );
    assert_eq!(
        TraceFormat::from_path("x/y.jsonl".as_ref()),
        TraceFormat::Mooncake
    );
}

/// The tests against the mock server run one at a time: each measures
/// timing, and the other's client and server threads would compete for
/// the cores.
static TIMED: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn mock(cfg: MockConfig) -> MockServer {
    MockServer::start(cfg, SocketAddr::from(([127, 0, 0, 1], 0))).expect("mock")
}

fn percentile(mut v: Vec<u64>, p: f64) -> u64 {
    v.sort_unstable();
    v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1]
}

/// A Mooncake trace at 1,000 requests/s (a request every ms for 2 s), with
/// the trace's lengths as prompt and answer lengths: every request goes out
/// at its due time (measured: the lateness the client records).
#[test]
fn mooncake_trace_at_1000_per_second_is_sent_on_time() {
    let _alone = TIMED.lock().unwrap_or_else(|e| e.into_inner());
    // Simulated with no delays: answers at once, of the requested length.
    let m = mock(MockConfig {
        mode: MockMode::Simulated,
        ttft: Duration::ZERO,
        tpot: Duration::ZERO,
        threads: 1,
        ..MockConfig::default()
    });
    let trace: String = (0..2000)
        .map(|i| {
            format!(
                "{{\"timestamp\": {i}, \"input_length\": {}, \"output_length\": {}, \"hash_ids\": [{i}]}}\n",
                8 + i % 5,
                1 + i % 4
            )
        })
        .collect();
    let s = Schedule::parse_trace(&trace, "mc.jsonl", TraceFormat::Mooncake, 1.0).unwrap();
    assert!(s.skipped.is_empty());
    assert!((s.target_rate - 1000.0).abs() < 1e-6);
    let lengths: Vec<(u32, u32)> = s
        .lengths
        .iter()
        .map(|l| (l.input_tokens.unwrap_or(8), l.output_tokens.unwrap_or(1)))
        .collect();
    let dataset = Dataset::synthetic_with_lengths("mc", &lengths, None, 1).unwrap();
    assert_eq!(dataset.prompts[3].max_tokens, Some(4));
    let mut cfg = common::config(&m.url(), ApiKind::Chat, true, Duration::from_secs(10));
    cfg.prewarm_connections = 32;
    cfg.usage = UsageMode::Prefer;
    let b = Bench::new(cfg, dataset, None, None).expect("bench");
    let p = b.run_schedule(&s, SampleOrder::InOrder).expect("run");
    assert_eq!(p.summary.load_pattern, "trace");
    assert_eq!(p.summary.metrics.n_samples_issued, 2000);
    assert_eq!(
        p.summary.metrics.n_samples_failed, 0,
        "{:?}",
        p.summary.metrics.errors
    );
    // The trace's output lengths reached the server (it answers with the
    // requested length).
    let total_tokens: u64 = p.records.iter().filter_map(|r| r.output_tokens()).sum();
    let expected: u64 = lengths.iter().map(|&(_, o)| u64::from(o)).sum();
    assert_eq!(total_tokens, expected);
    let lateness: Vec<u64> = p
        .records
        .iter()
        .map(|r| r.send_wait_ns().expect("every request was sent"))
        .collect();
    let p50 = percentile(lateness.clone(), 0.50);
    let p99 = percentile(lateness, 0.99);
    eprintln!("mooncake 1000/s: send lateness p50 {p50} ns, p99 {p99} ns");
    let o = p.summary.open_loop.as_ref().expect("open loop report");
    // (Within 5%: one late first or last send of tens of ms on a loaded
    // machine moves the rate over 2 s by a few percent.)
    assert!(
        (o.delivered_rate / 1000.0 - 1.0).abs() < 0.05,
        "delivered {}",
        o.delivered_rate
    );
    // The bar (p99 under 1 ms) is measured on an idle machine (the
    // `YS_STRICT_LATENESS=1` run below). Here, on a shared 2-core machine,
    // the timer thread, the client and the mock compete with other builds
    // for the cores, so the checks are the ones a broken schedule fails
    // whatever the load: nothing sent early, the sends never drift behind
    // the schedule (median lateness of the last quarter within 20 ms of the
    // first), and no send more than 100 ms late.
    let mut by_due: Vec<(std::time::Instant, u64)> = p
        .records
        .iter()
        .map(|r| {
            let sent = r.sent.expect("sent");
            assert!(sent >= r.scheduled, "request {} went out early", r.seq);
            (r.scheduled, (sent - r.scheduled).as_nanos() as u64)
        })
        .collect();
    by_due.sort();
    let quarter = by_due.len() / 4;
    let median = |part: &[(std::time::Instant, u64)]| {
        percentile(part.iter().map(|&(_, l)| l).collect(), 0.5)
    };
    let (first, last) = (
        median(&by_due[..quarter]),
        median(&by_due[by_due.len() - quarter..]),
    );
    assert!(
        last.saturating_sub(first) < 20_000_000,
        "the sends fell behind: median lateness {first} ns in the first quarter, {last} ns in the last"
    );
    assert!(p99 < 100_000_000, "p99 send lateness {p99} ns");
    if std::env::var_os("YS_STRICT_LATENESS").is_some() {
        assert!(p99 < 1_000_000, "p99 send lateness {p99} ns");
    }
}

/// The SLO search against a server of known capacity: 8 slots, each
/// request holding one for 30 ms + 5 x 10 ms = 80 ms, so 100 requests/s;
/// beyond it the queue grows through the trial and TTFT (30 ms alone)
/// passes the 55 ms bound for most requests. (The bound leaves 25 ms for
/// the short queues that timing noise makes just below the capacity.)
#[test]
fn slo_search_finds_the_mock_capacity() {
    let _alone = TIMED.lock().unwrap_or_else(|e| e.into_inner());
    let m = mock(MockConfig {
        mode: MockMode::Simulated,
        ttft: Duration::from_millis(30),
        tpot: Duration::from_millis(10),
        output_tokens: 6,
        max_concurrency: Some(8),
        threads: 1,
        ..MockConfig::default()
    });
    let mut cfg = common::config(&m.url(), ApiKind::Chat, true, Duration::from_secs(20));
    cfg.prewarm_connections = 16;
    cfg.usage = UsageMode::Prefer;
    let dataset = Dataset::synthetic(64, 8, 6, None, 1).unwrap();
    let b = Bench::new(cfg, dataset, None, None).expect("bench");
    let slo = Slo {
        ttft_ms: Some(55.0),
        tpot_ms: None,
        e2e_ms: None,
    };
    let config = SearchConfig {
        axis: SearchAxis::Rate,
        start: 25.0,
        attainment: 0.9,
        precision: 0.02,
        max_trials: 20,
    };
    let out = search(&config, |rate, _| {
        let p = b.run_constant_rate(rate, Some(Duration::from_secs(2)), None)?;
        let c = attainment(&p.records, &slo);
        eprintln!("rate {rate:.2}: {} of {} met", c.met, c.issued);
        Ok::<_, yardstick_endpoint::EndpointError>(c)
    })
    .expect("search");
    let answer = out.answer.expect("some rate passed");
    eprintln!(
        "SLO search: {answer:.2} req/s in {} trials",
        out.trials.len()
    );
    assert!(out.converged, "{out:?}");
    assert!(
        (answer / 100.0 - 1.0).abs() <= 0.05,
        "found {answer}, capacity 100: {:?}",
        out.trials
    );
}

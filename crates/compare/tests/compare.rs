//! `compare` against known values: scipy's Mann-Whitney U, groups of runs
//! whose service times differ by 10 % (significant, with the right sign) or
//! not at all (`~`), too few runs, two single runs (bootstrap), the
//! `--fail-if-slower` gate and the exporters.

use chrono::{TimeZone, Utc};
use yardstick_compare::{
    compare, mann_whitney_u, to_json, to_markdown, to_text, Change, CompareOptions, Method,
    SeededRng, Test,
};
use yardstick_record::{
    Better, LatencyDistribution, Metric, RunKind, RunRecord, SutInfo, WorkloadInfo,
    STANDARD_PERCENTS,
};

/// (x, y, scipy's statistic, scipy's p-value), each produced by
/// `r = scipy.stats.mannwhitneyu(x, y, alternative="two-sided",
/// method="auto"); print(r.statistic, r.pvalue)` with scipy 1.17.1.
const SCIPY_CASES: &[(&[f64], &[f64], f64, f64)] = &[
    // exact (no ties, n <= 8)
    (
        &[1.1, 2.3, 3.5, 4.0, 5.2],
        &[6.1, 7.3, 8.0, 9.9, 10.4],
        0.0,
        0.007936507936507936,
    ),
    (
        &[1.0, 4.0, 6.0, 9.0, 12.0],
        &[2.0, 3.0, 8.0, 10.0, 15.0, 16.0],
        11.0,
        0.5367965367965368,
    ),
    (
        &[10.0, 10.2, 9.9, 10.1],
        &[11.0, 10.05, 11.2, 10.9],
        2.0,
        0.11428571428571428,
    ),
    // ties: normal approximation with tie and continuity corrections
    (
        &[1.0, 2.0, 2.0, 3.0, 4.0, 5.0],
        &[2.0, 3.0, 3.0, 5.0, 6.0, 7.0, 7.0],
        9.5,
        0.11105494577590766,
    ),
    // both samples above 8: normal approximation
    (
        &[0.5, 1.2, 2.2, 3.1, 4.7, 5.5, 6.1, 7.9, 8.4, 9.0],
        &[1.9, 3.3, 4.2, 5.8, 6.6, 7.2, 8.8, 9.5, 10.1, 11.7, 12.2],
        31.0,
        0.09796098392599256,
    ),
];

#[test]
fn mann_whitney_matches_scipy() {
    for (i, (x, y, statistic, p)) in SCIPY_CASES.iter().enumerate() {
        let r = mann_whitney_u(x, y).expect("non-empty samples");
        assert_eq!(r.u, *statistic, "case {i}: U");
        assert!(
            (r.p_value - p).abs() < 1e-12,
            "case {i}: p {} vs scipy {p}",
            r.p_value
        );
        assert_eq!(r.exact, i < 3, "case {i}: method");
    }
    assert!(mann_whitney_u(&[], &[1.0]).is_none());
}

/// A run of the sleep SUT in the Server scenario: `queries` latencies of
/// `service_ns` plus exponential queueing noise, as the record of a real
/// run holds them.
fn sleep_run(id: &str, service_ns: f64, queries: usize, seed: u64) -> RunRecord {
    let started = Utc.with_ymd_and_hms(2026, 12, 6, 3, 0, 0).unwrap();
    let mut record = RunRecord::new(
        RunKind::Loadgen,
        started,
        WorkloadInfo {
            name: "sleep".to_string(),
            scenario: Some("Server".to_string()),
            mode: Some("PerformanceOnly".to_string()),
            model: None,
            sut: SutInfo {
                name: "sleep".to_string(),
                kind: "sleep".to_string(),
                params: Default::default(),
            },
        },
    );
    record.id = id.to_string();
    let mut rng = SeededRng::new(seed);
    // Run-to-run variation (a few per cent) on top of per-query noise.
    let run_factor = 1.0 + 0.02 * rng.normal();
    let latencies: Vec<u64> = (0..queries)
        .map(|_| {
            let queueing = -0.05 * service_ns * rng.uniform().ln();
            ((service_ns + queueing) * run_factor) as u64
        })
        .collect();
    let distribution = LatencyDistribution::from_values("ns", &latencies, &STANDARD_PERCENTS);
    let mean = distribution.mean;
    record.metrics = vec![
        Metric::new(
            "samples_per_second",
            4.0 * 1e9 / mean,
            "samples/s",
            Better::Higher,
        ),
        Metric::new(
            "latency.p50",
            distribution.percentile(50.0).unwrap() as f64,
            "ns",
            Better::Lower,
        ),
        Metric::new(
            "latency.p99",
            distribution.percentile(99.0).unwrap() as f64,
            "ns",
            Better::Lower,
        ),
        Metric::new("queries", queries as f64, "1", Better::Neither),
    ];
    record.latencies.insert("query".to_string(), distribution);
    record
}

fn group(prefix: &str, service_ns: f64, runs: usize, seed: u64) -> Vec<RunRecord> {
    (0..runs)
        .map(|i| sleep_run(&format!("{prefix}-{i}"), service_ns, 2000, seed + i as u64))
        .collect()
}

#[test]
fn ten_percent_slower_group_is_significant_with_the_right_sign() {
    let a = group("a", 1_000_000.0, 5, 100);
    let b = group("b", 1_100_000.0, 5, 200);
    let c = compare(&a, &b, &CompareOptions::default());
    assert_eq!(c.method, Method::Groups);
    let p50 = c.metrics.iter().find(|m| m.name == "latency.p50").unwrap();
    assert!(p50.significant, "{p50:?}");
    assert_eq!(p50.change, Change::Worse);
    let ratio = p50.ratio.unwrap();
    assert!((1.05..1.15).contains(&ratio), "{ratio}");
    match p50.test {
        Test::MannWhitney { p_value, exact, .. } => {
            // 5 vs 5 fully separated: the smallest exact p, 2/252.
            assert!(exact);
            assert!((p_value - 2.0 / 252.0).abs() < 1e-12, "{p_value}");
        }
        ref other => panic!("{other:?}"),
    }
    let throughput = c
        .metrics
        .iter()
        .find(|m| m.name == "samples_per_second")
        .unwrap();
    assert!(throughput.primary);
    assert!(throughput.significant);
    assert_eq!(throughput.change, Change::Worse);
    assert!(throughput.ratio.unwrap() < 0.95);
    // The reverse comparison flips the sign.
    let reverse = compare(&b, &a, &CompareOptions::default());
    let p50 = reverse
        .metrics
        .iter()
        .find(|m| m.name == "latency.p50")
        .unwrap();
    assert_eq!(p50.change, Change::Better);
    assert!(p50.ratio.unwrap() < 0.95);
    // The gate: 5 % slower fails, 20 % does not.
    assert!(!c.slower_than(5.0).is_empty());
    assert!(c.slower_than(20.0).is_empty());
    assert!(reverse.slower_than(0.0).is_empty());
    // The text says so.
    let text = to_text(&c);
    assert!(text.contains("slower"), "{text}");
    assert!(text.contains("p=0.008 n=5+5"), "{text}");
}

#[test]
fn groups_with_the_same_settings_are_not_different() {
    let a = group("a", 1_000_000.0, 5, 300);
    let b = group("b", 1_000_000.0, 5, 400);
    let c = compare(&a, &b, &CompareOptions::default());
    for m in &c.metrics {
        assert!(!m.significant, "{m:?}");
        assert_eq!(m.change, Change::Same);
    }
    assert!(c.slower_than(0.0).is_empty());
    let text = to_text(&c);
    let p50_line = text.lines().find(|l| l.starts_with("latency.p50")).unwrap();
    assert!(p50_line.contains(" ~ "), "{p50_line}");
    // Medians come with an order-statistic interval at the confidence five
    // runs reach.
    let p50 = c.metrics.iter().find(|m| m.name == "latency.p50").unwrap();
    let interval = p50.a.interval.unwrap();
    assert!((interval.confidence - 0.9375).abs() < 1e-12);
    assert!(interval.low <= p50.a.median && p50.a.median <= interval.high);
    assert!(text.contains("(93.8%)"), "{text}");
}

#[test]
fn fewer_than_four_runs_a_side_is_not_tested() {
    let a = group("a", 1_000_000.0, 3, 500);
    let b = group("b", 1_500_000.0, 3, 600);
    let c = compare(&a, &b, &CompareOptions::default());
    for m in &c.metrics {
        assert!(!m.significant);
        assert_eq!(
            m.test,
            Test::TooFewRuns {
                runs_a: 3,
                runs_b: 3
            }
        );
    }
    assert!(c.notes.iter().any(|n| n.contains("fewer than 4 runs")));
    assert!(to_text(&c).contains("too few runs to test"));
}

#[test]
fn two_single_runs_use_a_seeded_bootstrap() {
    let a = sleep_run("a", 1_000_000.0, 20_000, 1);
    let mut b = sleep_run("b", 1_100_000.0, 20_000, 2);
    // Same run factor for both, so only the service time differs.
    let same = sleep_run("b2", 1_000_000.0, 20_000, 1);
    let c = compare(
        std::slice::from_ref(&a),
        std::slice::from_ref(&b),
        &CompareOptions::default(),
    );
    assert_eq!(c.method, Method::SingleRuns);
    let p99 = c.metrics.iter().find(|m| m.name == "latency.p99").unwrap();
    match &p99.test {
        Test::Bootstrap {
            distribution,
            ratio_interval,
            ..
        } => {
            assert_eq!(distribution, "query");
            let ratio = p99.ratio.unwrap();
            assert!(ratio_interval.low < ratio && ratio < ratio_interval.high);
        }
        other => panic!("{other:?}"),
    }
    let p50 = c.metrics.iter().find(|m| m.name == "latency.p50").unwrap();
    assert!(p50.significant);
    assert_eq!(p50.change, Change::Worse);
    // Throughput has no distribution: no test.
    let throughput = &c.metrics[0];
    assert_eq!(throughput.test, Test::None);
    assert!(!throughput.significant);
    assert!(c.notes[0].contains("weaker"));
    // Seeded: the same inputs give the same intervals.
    let again = compare(
        std::slice::from_ref(&a),
        std::slice::from_ref(&b),
        &CompareOptions::default(),
    );
    assert_eq!(c, again);
    // A run against an identical copy of itself: the ratio interval holds 1.
    let c = compare(
        std::slice::from_ref(&a),
        std::slice::from_ref(&same),
        &CompareOptions::default(),
    );
    for m in &c.metrics {
        assert!(!m.significant, "{m:?}");
    }
    // The interval's width reflects the sample size: with 200 queries the
    // interval of the p99 is wider than with 20,000.
    b = sleep_run("small", 1_100_000.0, 200, 2);
    let small = compare(
        std::slice::from_ref(&a),
        std::slice::from_ref(&b),
        &CompareOptions::default(),
    );
    let width = |c: &yardstick_compare::Comparison| {
        let m = c.metrics.iter().find(|m| m.name == "latency.p99").unwrap();
        let i = m.b.interval.unwrap();
        (i.high - i.low) / m.b.median
    };
    let full = compare(
        std::slice::from_ref(&a),
        std::slice::from_ref(&sleep_run("b", 1_100_000.0, 20_000, 2)),
        &CompareOptions::default(),
    );
    assert!(width(&small) > 3.0 * width(&full));
}

#[test]
fn exporters_carry_the_same_rows() {
    let a = group("a", 1_000_000.0, 5, 700);
    let b = group("b", 1_100_000.0, 5, 800);
    let options = CompareOptions {
        label_a: "tag:base".to_string(),
        label_b: "tag:new".to_string(),
        ..CompareOptions::default()
    };
    let c = compare(&a, &b, &options);
    let json: serde_json::Value = serde_json::from_str(&to_json(&c).unwrap()).unwrap();
    assert_eq!(json["method"], "groups");
    assert_eq!(json["a"]["label"], "tag:base");
    assert_eq!(json["metrics"].as_array().unwrap().len(), 4);
    assert_eq!(json["metrics"][1]["name"], "latency.p50");
    assert_eq!(json["metrics"][1]["change"], "worse");
    assert_eq!(json["metrics"][1]["test"]["kind"], "mann_whitney");
    let markdown = to_markdown(&c);
    assert!(
        markdown.contains("| metric | A median [95% CI] |"),
        "{markdown}"
    );
    // Header, separator and four metrics.
    assert_eq!(markdown.lines().filter(|l| l.starts_with("| ")).count(), 6);
    assert!(markdown.contains("`tag:new` (5 runs)"));
    let text = to_text(&c);
    println!("{text}\n{markdown}");
    assert!(text.starts_with("A: tag:base (5 runs)\nB: tag:new (5 runs)"));
    assert!(text.contains("samples_per_second *"));
}

#[test]
fn metrics_on_one_side_only_are_listed() {
    let a = group("a", 1_000_000.0, 4, 900);
    let mut b = group("b", 1_000_000.0, 4, 950);
    for r in &mut b {
        r.metrics.push(Metric::new(
            "tokens_per_second",
            10.0,
            "tokens/s",
            Better::Higher,
        ));
        r.metrics.retain(|m| m.name != "queries");
    }
    let c = compare(&a, &b, &CompareOptions::default());
    assert_eq!(c.only_in_a, vec!["queries".to_string()]);
    assert_eq!(c.only_in_b, vec!["tokens_per_second".to_string()]);
    assert_eq!(c.metrics.len(), 3);
}

#[test]
fn sides_mixing_load_points_are_flagged() {
    let mut a = group("a", 1_000_000.0, 4, 1100);
    for (i, r) in a.iter_mut().enumerate() {
        r.load = Some(yardstick_record::LoadPoint {
            label: format!("c{}", 1 << i),
            concurrency: Some(1 << i),
            rate: None,
        });
    }
    let b = group("b", 1_000_000.0, 4, 1200);
    let c = compare(&a, &b, &CompareOptions::default());
    assert!(
        c.notes
            .iter()
            .any(|n| n.starts_with("A holds runs at different loads (c1, c2, c4, c8)")),
        "{:?}",
        c.notes
    );
    assert!(!c.notes.iter().any(|n| n.starts_with("B holds")));
}

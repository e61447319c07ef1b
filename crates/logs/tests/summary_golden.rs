//! The summary (and the `result_*` detail events) against the official
//! LoadGen 6.0.17's logs.
//!
//! The goldens' per-sample latencies were never recorded, so each case
//! rebuilds a run with the same statistics: latency vectors (unsorted) with
//! the golden min, max, integer mean and the values at exactly the indices
//! LoadGen reads, and run times whose rates print as the golden ones. That
//! run then goes through [`PerformanceSummary::new`], so these tests check
//! the computations (early-stopping counts and estimates included: they
//! depend on the query count only, and their text is compared) as well as
//! every byte of the rendering.

use std::fs;
use std::path::PathBuf;

use yardstick_core::results::summary::REPORTED_PERCENTILES;
use yardstick_core::results::{
    Latency, PerformanceResult, PerformanceSummary, TokenPerformanceResults,
};
use yardstick_core::settings::{EffectiveSettings, TestSettings};
use yardstick_core::{Mode, Scenario};
use yardstick_logs::json::value_to_string;
use yardstick_logs::summary::{render_accuracy_summary, render_summary};

fn golden_dir(case: &str) -> PathBuf {
    let root = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/golden/loadgen-6.0.17"
    ));
    let dir = root.join(case);
    assert!(
        dir.is_dir(),
        "golden case {case} missing: expected LoadGen 6.0.17 reference logs in {}",
        dir.display()
    );
    dir
}

fn read(case: &str, file: &str) -> String {
    let path = golden_dir(case).join(file);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// One golden case: its summary text and its detail log as (key, raw value
/// text) pairs, in order.
struct Golden {
    summary: String,
    detail: Vec<(String, String)>,
    warnings: usize,
    errors: usize,
}

impl Golden {
    fn load(case: &str) -> Golden {
        let summary = read(case, "mlperf_log_summary.txt");
        let detail_text = read(case, "mlperf_log_detail.txt");
        let mut detail = Vec::new();
        for line in detail_text.lines() {
            let Some(rest) = line.strip_prefix(":::MLLOG {\"key\": \"") else {
                continue;
            };
            let (key, rest) = rest
                .split_once("\", \"value\": ")
                .expect("a value after the key");
            let (value, _) = rest
                .split_once(", \"time_ms\": ")
                .expect("time_ms after the value");
            detail.push((key.to_owned(), value.to_owned()));
        }
        let warnings = detail_text.matches("\"is_warning\": true").count();
        let errors = detail_text.matches("\"is_error\": true").count();
        Golden {
            summary,
            detail,
            warnings,
            errors,
        }
    }

    fn has(&self, key: &str) -> bool {
        self.detail.iter().any(|(k, _)| k == key)
    }

    fn raw(&self, key: &str) -> &str {
        self.detail
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("golden detail log has no {key}"))
    }

    fn int(&self, key: &str) -> i64 {
        let raw = self.raw(key);
        raw.parse()
            .unwrap_or_else(|_| panic!("{key} = {raw} is not an integer"))
    }

    fn uint(&self, key: &str) -> u64 {
        let raw = self.raw(key);
        raw.parse()
            .unwrap_or_else(|_| panic!("{key} = {raw} is not an unsigned integer"))
    }

    fn float(&self, key: &str) -> f64 {
        let raw = self.raw(key);
        raw.parse()
            .unwrap_or_else(|_| panic!("{key} = {raw} is not a number"))
    }

    fn flag(&self, key: &str) -> bool {
        match self.raw(key) {
            "true" => true,
            "false" => false,
            other => panic!("{key} = {other} is not a boolean"),
        }
    }

    fn string(&self, key: &str) -> String {
        self.raw(key).trim_matches('"').to_owned()
    }

    /// The number after `label` in the summary (the text up to the end of
    /// its line).
    fn summary_number(&self, label: &str) -> f64 {
        let line = self
            .summary
            .lines()
            .find_map(|l| l.strip_prefix(label))
            .unwrap_or_else(|| panic!("golden summary has no line starting {label:?}"));
        let text = line.trim_start_matches([' ', ':']).trim();
        text.parse()
            .unwrap_or_else(|_| panic!("{label}: {text} is not a number"))
    }

    /// The `result_*` and `early_stopping_*` events LoadGen's
    /// `PerformanceSummary::LogDetail` wrote, without the final
    /// `num_errors`.
    fn result_events(&self) -> &[(String, String)] {
        let start = self
            .detail
            .iter()
            .position(|(k, _)| k == "result_validity")
            .expect("golden detail log has result_validity");
        let end = start
            + self.detail[start..]
                .iter()
                .position(|(k, _)| k == "num_errors")
                .expect("golden detail log has num_errors after the results");
        &self.detail[start..end]
    }

    /// The effective settings LoadGen logged, over whatever our derivation
    /// makes of the requested scenario: these tests are about the summary,
    /// not the settings derivation.
    fn settings(&self, qsl_performance: usize, qsl_total: usize) -> EffectiveSettings {
        let scenario: Scenario = self
            .string("effective_scenario")
            .parse()
            .expect("a scenario");
        let mode: Mode = self.string("effective_test_mode").parse().expect("a mode");
        let requested = TestSettings {
            scenario,
            mode,
            ..TestSettings::default()
        };
        let mut s = EffectiveSettings::new(&requested, qsl_performance, qsl_total);
        s.scenario = scenario;
        s.mode = mode;
        s.samples_per_query = self.uint("effective_samples_per_query");
        s.target_qps = self.float("effective_target_qps");
        s.target_latency_ns = self.int("effective_target_latency_ns");
        s.target_latency_percentile = self.float("effective_target_latency_percentile");
        s.max_async_queries = self.uint("effective_max_async_queries");
        s.target_duration_ms = self.uint("effective_target_duration_ms");
        s.min_duration_ms = self.uint("effective_min_duration_ms");
        s.max_duration_ms = self.uint("effective_max_duration_ms");
        s.min_query_count = self.uint("effective_min_query_count");
        s.max_query_count = self.uint("effective_max_query_count");
        s.min_sample_count = self.uint("effective_min_sample_count");
        s.qsl_rng_seed = self.uint("effective_qsl_rng_seed");
        s.sample_index_rng_seed = self.uint("effective_sample_index_rng_seed");
        s.schedule_rng_seed = self.uint("effective_schedule_rng_seed");
        s.accuracy_log_rng_seed = self.uint("effective_accuracy_log_rng_seed");
        s.accuracy_log_probability = self.float("effective_accuracy_log_probability");
        s.accuracy_log_sampling_target = self.uint("effective_accuracy_log_sampling_target");
        s.print_timestamps = self.flag("effective_print_timestamps");
        s.performance_issue_unique = self.flag("effective_performance_issue_unique");
        s.performance_issue_same = self.flag("effective_performance_issue_same");
        s.performance_issue_same_index = self.uint("effective_performance_issue_same_index");
        s.performance_sample_count = self.uint("effective_performance_sample_count");
        s.accuracy_sample_count = self.uint("effective_accuracy_sample_count");
        s.sample_concatenate_permutation = self.flag("effective_sample_concatenate_permutation");
        // LoadGen copies these from the request without logging them again
        // (and logs the request's only when it uses token latencies).
        s.use_token_latencies =
            self.has("requested_use_token_latencies") && self.flag("requested_use_token_latencies");
        if s.use_token_latencies {
            s.server_ttft_latency = self.int("requested_server_ttft_latency");
            s.server_tpot_latency = self.int("requested_server_tpot_latency");
        }
        s
    }

    /// A latency distribution of `n` values with the statistics `stats`
    /// names, plus `extra` values at given sorted indices.
    fn distribution(&self, n: usize, stats: Stats<'_>, extra: &[(usize, Latency)]) -> Vec<Latency> {
        let mut anchors = vec![(0, self.int(stats.min)), (n - 1, self.int(stats.max))];
        for p in REPORTED_PERCENTILES {
            let key = format!(
                "{}{:.2}{}",
                stats.percentile_prefix,
                p * 100.0,
                stats.percentile_suffix
            );
            anchors.push((percentile_index(n, p), self.int(&key)));
        }
        anchors.extend_from_slice(extra);
        synthesize(n, &anchors, self.int(stats.mean))
    }
}

/// The detail keys of one latency distribution's statistics.
struct Stats<'a> {
    min: &'a str,
    max: &'a str,
    mean: &'a str,
    percentile_prefix: &'a str,
    percentile_suffix: &'a str,
}

const SAMPLE_STATS: Stats<'static> = Stats {
    min: "result_min_latency_ns",
    max: "result_max_latency_ns",
    mean: "result_mean_latency_ns",
    percentile_prefix: "result_",
    percentile_suffix: "_percentile_latency_ns",
};

/// LoadGen's percentile index, `floor(n * p)`.
fn percentile_index(n: usize, p: f64) -> usize {
    (n as f64 * p) as usize
}

/// `n` latencies, in no particular order, whose sorted sequence has the
/// given values at the given indices and whose integer mean is `mean`.
///
/// Between two anchors every latency starts at the lower one's value; then,
/// from the top, latencies are raised towards the upper anchor until the
/// sum is `mean * n`. The result is reversed so the summary has to sort it.
fn synthesize(n: usize, anchors: &[(usize, Latency)], mean: Latency) -> Vec<Latency> {
    let mut anchors = anchors.to_vec();
    anchors.sort_unstable();
    anchors.dedup();
    for w in anchors.windows(2) {
        assert!(w[0].0 != w[1].0, "two values for index {}", w[0].0);
        assert!(w[0].1 <= w[1].1, "anchors not monotonic: {w:?}");
    }
    let mut v = vec![0; n];
    for w in anchors.windows(2) {
        let ((lo_i, lo), (hi_i, _)) = (w[0], w[1]);
        v[lo_i..hi_i].fill(lo);
    }
    let (last_i, last) = anchors[anchors.len() - 1];
    v[last_i] = last;

    let mut missing = mean * n as i64 - v.iter().sum::<i64>();
    assert!(missing >= 0, "the anchors alone exceed the mean");
    for w in anchors.windows(2).rev() {
        let ((lo_i, _), (hi_i, hi)) = (w[0], w[1]);
        for x in v[lo_i + 1..hi_i].iter_mut().rev() {
            let raise = missing.min(hi - *x);
            *x += raise;
            missing -= raise;
        }
    }
    assert_eq!(missing, 0, "the anchors cannot reach the mean");
    v.reverse();
    v
}

/// The run time (seconds) over which `count` events make `rate` per second.
fn seconds_for(count: f64, rate: f64) -> f64 {
    count / rate
}

/// A run time over which each `(count, rate)` pair's rate, printed with two
/// decimals, prints as `rate`: the middle of the times all of them allow.
fn seconds_for_all(constraints: &[(f64, f64)]) -> f64 {
    let (mut lo, mut hi) = (0.0f64, f64::INFINITY);
    for &(count, rate) in constraints {
        lo = lo.max(count / (rate + 0.005));
        hi = hi.min(count / (rate - 0.005));
    }
    assert!(lo < hi, "no run time prints all of {constraints:?}");
    (lo + hi) / 2.0
}

/// The early-stopping rank LoadGen printed ("Would discard N"), plus one.
fn discarded_plus_one(golden: &Golden) -> usize {
    let n: usize = golden
        .summary
        .lines()
        .find_map(|l| l.strip_prefix(" * Would discard "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a 'Would discard' line");
    n + 1
}

fn check(case: &str, golden: &Golden, summary: &PerformanceSummary) {
    let rendered = render_summary(summary, golden.warnings, golden.errors);
    if rendered != golden.summary {
        for (i, (ours, theirs)) in rendered.lines().zip(golden.summary.lines()).enumerate() {
            assert_eq!(ours, theirs, "{case}: summary line {} differs", i + 1);
        }
        assert_eq!(rendered, golden.summary, "{case}: summary differs");
    }

    let ours: Vec<(String, String)> = summary
        .detail_events()
        .into_iter()
        .map(|e| (e.key.into_owned(), value_to_string(&e.value)))
        .collect();
    assert_eq!(
        ours,
        golden.result_events(),
        "{case}: result detail events differ"
    );
}

#[test]
fn single_stream() {
    let case = "resnet50-singlestream-perf";
    let g = Golden::load(case);
    let settings = g.settings(1024, 50_000);
    let n = g.uint("result_query_count") as usize;
    let target = (
        percentile_index(n, settings.target_latency_percentile),
        g.summary_number("90.0th percentile latency (ns)") as Latency,
    );
    let estimate = (
        n - discarded_plus_one(&g),
        g.int("early_stopping_latency_ss"),
    );
    let samples = g.distribution(n, SAMPLE_STATS, &[target, estimate]);
    let pr = PerformanceResult {
        queries_issued: n,
        final_query_issued_time: seconds_for(
            (n - 1) as f64,
            g.summary_number("QPS w/ loadgen overhead"),
        ),
        sample_latencies: samples,
        ..PerformanceResult::default()
    };
    let summary = PerformanceSummary::new(g.string("sut_name"), settings, pr);
    assert_eq!(
        summary.early_stopping_latency_ms, 0,
        "300 queries allow no p99 estimate"
    );
    check(case, &g, &summary);
}

#[test]
fn multi_stream() {
    let case = "resnet50-multistream-perf";
    let g = Golden::load(case);
    let settings = g.settings(1024, 50_000);
    let queries = g.uint("result_query_count") as usize;
    let query_stats = Stats {
        min: "result_min_query_latency_ns",
        max: "result_max_query_latency_ns",
        mean: "result_mean_query_latency_ns",
        percentile_prefix: "result_",
        percentile_suffix: "_percentile_per_query_latency_ns",
    };
    let estimate = (
        queries - discarded_plus_one(&g),
        g.int("early_stopping_latency_ms"),
    );
    let query_latencies = g.distribution(queries, query_stats, &[estimate]);
    // In this run every sample of a query finished with the query, so the
    // sample statistics are the query ones: repeat each query's latency.
    let per_query = settings.samples_per_query as usize;
    let sample_latencies: Vec<Latency> = query_latencies
        .iter()
        .flat_map(|&l| vec![l; per_query])
        .collect();
    let pr = PerformanceResult {
        queries_issued: queries,
        query_latencies,
        sample_latencies,
        final_query_issued_time: 1.0,
        ..PerformanceResult::default()
    };
    let summary = PerformanceSummary::new(g.string("sut_name"), settings, pr);
    check(case, &g, &summary);
}

#[test]
fn server() {
    let case = "resnet50-server-perf";
    let g = Golden::load(case);
    let settings = g.settings(1024, 50_000);
    let n = g.uint("result_query_count") as usize;
    let samples = g.distribution(n, SAMPLE_STATS, &[]);
    let intervals = (n - 1) as f64;
    let pr = PerformanceResult {
        queries_issued: n,
        sample_latencies: samples,
        final_query_scheduled_time: seconds_for(
            intervals,
            g.summary_number("Scheduled samples per second"),
        ),
        final_query_issued_time: seconds_for(
            intervals,
            g.summary_number("Scheduled samples per second"),
        ),
        final_query_all_samples_done_time: seconds_for(
            intervals,
            g.summary_number("Completed samples per second"),
        ),
        ..PerformanceResult::default()
    };
    let summary = PerformanceSummary::new(g.string("sut_name"), settings, pr);
    check(case, &g, &summary);
}

#[test]
fn offline() {
    let case = "resnet50-offline-perf";
    let g = Golden::load(case);
    let settings = g.settings(1024, 50_000);
    let n = settings.samples_per_query as usize;
    let samples = g.distribution(n, SAMPLE_STATS, &[]);
    let pr = PerformanceResult {
        queries_issued: g.uint("result_query_count") as usize,
        // LoadGen's max_latency is the longest sample latency, in seconds.
        max_latency: g.int("result_max_latency_ns") as f64 / 1e9,
        sample_latencies: samples,
        ..PerformanceResult::default()
    };
    let summary = PerformanceSummary::new(g.string("sut_name"), settings, pr);
    assert!(!summary.is_valid());
    check(case, &g, &summary);
}

#[test]
fn server_with_token_latencies() {
    let case = "whisper-server-tokens-equal-issue";
    let g = Golden::load(case);
    let settings = g.settings(1633, 1633);
    let n = g.uint("result_query_count") as usize;
    let sample_latencies = g.distribution(n, SAMPLE_STATS, &[]);
    let first_token_latencies = g.distribution(
        n,
        Stats {
            min: "result_first_token_min_latency_ns",
            max: "result_first_token_max_latency_ns",
            mean: "result_first_token_mean_latency_ns",
            percentile_prefix: "result_first_token_",
            percentile_suffix: "_percentile_latency_ns",
        },
        &[],
    );
    let time_per_output_token = g.distribution(
        n,
        Stats {
            min: "result_time_to_output_token_min",
            max: "result_time_to_output_token_max",
            mean: "result_time_to_output_token_mean",
            percentile_prefix: "result_time_per_output_token_",
            percentile_suffix: "_percentile_ns",
        },
        &[],
    );

    // The token count is not logged; `result_token_throughput` (tokens per
    // ns of mean latency times samples, a LoadGen quirk) gives it away.
    let mean = g.int("result_mean_latency_ns") as f64;
    let tokens = (g.float("result_token_throughput") * mean * n as f64).round() as i64;
    // Spread it over the samples (one never reported its count, which
    // LoadGen skips).
    let mut tokens_per_sample = vec![tokens / (n as i64 - 1); n - 1];
    tokens_per_sample[0] += tokens % (n as i64 - 1);
    tokens_per_sample.push(i64::MIN);

    let intervals = (n - 1) as f64;
    // Both rates over the same time must print as in the golden.
    let done = seconds_for_all(&[
        (intervals, g.summary_number("Completed samples per second")),
        (
            tokens as f64,
            g.summary_number("Completed tokens per second:"),
        ),
    ]);
    let pr = PerformanceResult {
        queries_issued: n,
        sample_latencies,
        final_query_scheduled_time: seconds_for(
            intervals,
            g.summary_number("Scheduled samples per second"),
        ),
        final_query_issued_time: seconds_for(
            tokens as f64,
            g.float("result_token_throughput_with_loadgen_overhead"),
        ),
        final_query_all_samples_done_time: done,
        token_results: TokenPerformanceResults {
            first_token_latencies,
            time_per_output_token,
            tokens_per_sample,
        },
        ..PerformanceResult::default()
    };
    let summary = PerformanceSummary::new(g.string("sut_name"), settings, pr);
    assert_eq!(summary.token_count, tokens as u64);
    check(case, &g, &summary);
}

#[test]
fn accuracy_only() {
    let case = "resnet50-singlestream-accuracy";
    let g = Golden::load(case);
    assert_eq!(render_accuracy_summary(g.warnings, g.errors), g.summary);
    assert!(
        !g.detail.iter().any(|(k, _)| k == "result_validity"),
        "no performance results in accuracy mode"
    );
}

#[test]
fn synthesized_distributions_have_the_requested_statistics() {
    let v = synthesize(10, &[(0, 1), (5, 10), (9, 20)], 9);
    let mut sorted = v.clone();
    sorted.sort_unstable();
    assert_ne!(v, sorted);
    assert_eq!((sorted[0], sorted[5], sorted[9]), (1, 10, 20));
    assert_eq!(sorted.iter().sum::<i64>() / 10, 9);
}

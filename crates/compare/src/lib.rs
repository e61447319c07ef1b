//! yardstick-compare: is B faster than A, and can we tell?
//!
//! [`compare`] takes two sides, each one run or a group of runs (the
//! repeats of `--repeat N`, the runs with one tag), and compares them
//! metric by metric, matching the metrics' stable names:
//!
//! * **Groups** (two or more runs on either side): the median of each side
//!   with a distribution-free 95 % confidence interval of the median from
//!   order statistics (the narrowest `[x_(k), x_(n-k+1)]` whose binomial
//!   coverage reaches 95 %; with fewer than 6 runs no such interval exists
//!   and `[min, max]` is given with the confidence it does reach), the
//!   ratio of the medians B/A, and a two-sided Mann-Whitney U test at
//!   alpha 0.05, as benchstat does. A difference that is not significant is
//!   shown as `~`. With fewer than 4 runs on a side the test cannot reach
//!   significance at 0.05 (for 3 + 3 runs the smallest possible p is 0.1),
//!   so it is not run and the output says so (benchstat's rule).
//! * **Two single runs**: there is no spread between runs to test, so for
//!   latency percentiles (and means) a seeded bootstrap over the run's
//!   per-query latencies gives a 95 % interval of each side and of the
//!   ratio; the difference is called significant when the ratio's interval
//!   excludes 1. This is weaker evidence than repeated runs: it captures the
//!   noise of sampling queries inside one run, not the run-to-run variation
//!   (a noisy neighbour, a different boost clock) that usually dominates.
//!   Metrics without a distribution (throughput) get no test.
//!
//! The bootstrap draws from the runs' HDR histograms, exactly and cheaply:
//! the r-th smallest of n values resampled with replacement from the
//! empirical distribution is the empirical quantile at the r-th smallest of
//! n uniforms, which is Beta(r, n - r + 1) distributed. So each replicate of
//! a percentile is one Beta draw and one histogram look-up, whatever n is.
//! Values are within the histogram's 0.1 % precision.

mod format;
mod stats;

use serde::Serialize;
use yardstick_record::{Better, LatencyDistribution, RunRecord};

pub use format::{format_value, to_json, to_markdown, to_text};
pub use stats::{
    mann_whitney_u, median, median_interval, normal_sf, quantile_sorted, Interval, MannWhitney,
    SeededRng,
};

/// Below this many runs on a side, the U test cannot reach significance at
/// 0.05 and is not reported (benchstat's rule).
pub const MIN_RUNS_FOR_TEST: usize = 4;

#[derive(Debug, Clone, PartialEq)]
pub struct CompareOptions {
    /// Significance level of the tests.
    pub alpha: f64,
    /// Confidence level of the intervals.
    pub confidence: f64,
    /// Bootstrap replicates for two single runs.
    pub bootstrap_resamples: u32,
    /// Seed of the bootstrap: the same inputs and seed give the same
    /// intervals.
    pub seed: u64,
    /// How the two sides are named in the output (`tag:baseline`, a path).
    pub label_a: String,
    pub label_b: String,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            alpha: 0.05,
            confidence: 0.95,
            bootstrap_resamples: 2000,
            seed: 0x5EED,
            label_a: "A".to_string(),
            label_b: "B".to_string(),
        }
    }
}

/// The whole comparison; the exporters ([`to_text`], [`to_json`],
/// [`to_markdown`]) are pure functions of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub a: Side,
    pub b: Side,
    pub method: Method,
    pub alpha: f64,
    pub confidence: f64,
    /// One row per metric present on both sides, in A's order.
    pub metrics: Vec<MetricComparison>,
    /// Metrics recorded on one side only.
    pub only_in_a: Vec<String>,
    pub only_in_b: Vec<String>,
    /// Remarks on how to read the result (too few runs, single runs).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    pub label: String,
    pub run_ids: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Medians across runs and the Mann-Whitney U test.
    Groups,
    /// Two single runs: bootstrap over per-query latencies (weaker).
    SingleRuns,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SideSummary {
    /// How many runs recorded the metric.
    pub runs: usize,
    /// The median across runs (the value itself for one run).
    pub median: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<Interval>,
}

/// How the significance of a row was judged.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Test {
    MannWhitney {
        u: f64,
        p_value: f64,
        exact: bool,
    },
    /// Fewer than [`MIN_RUNS_FOR_TEST`] runs on a side.
    TooFewRuns {
        runs_a: usize,
        runs_b: usize,
    },
    /// Two single runs: the bootstrap interval of the ratio B/A.
    Bootstrap {
        distribution: String,
        resamples: u32,
        seed: u64,
        ratio_interval: Interval,
    },
    /// Two single runs and no distribution behind the metric.
    None,
}

/// Which way B moved, judged with the metric's `better`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Not significant (`~`), or not tested.
    Same,
    Better,
    Worse,
    /// Significant, but the metric has no better direction.
    Changed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricComparison {
    pub name: String,
    pub unit: String,
    pub better: Better,
    /// A's first metric (the run's main result).
    pub primary: bool,
    /// A latency (a time, lower is better).
    pub latency: bool,
    pub a: SideSummary,
    pub b: SideSummary,
    /// median B / median A; `None` when A's median is 0.
    pub ratio: Option<f64>,
    pub test: Test,
    pub significant: bool,
    pub change: Change,
}

impl MetricComparison {
    /// `+10.0` when B is 10 % above A.
    pub fn delta_percent(&self) -> Option<f64> {
        self.ratio.map(|r| (r - 1.0) * 100.0)
    }

    /// How much worse B is, in percent, whatever the direction: for
    /// lower-is-better `(B/A - 1) * 100`, for higher-is-better
    /// `(1 - B/A) * 100`. Negative when B is better; `None` without a
    /// ratio or a direction.
    pub fn worse_percent(&self) -> Option<f64> {
        let ratio = self.ratio?;
        match self.better {
            Better::Lower => Some((ratio - 1.0) * 100.0),
            Better::Higher => Some((1.0 - ratio) * 100.0),
            Better::Neither => None,
        }
    }

    /// Whether this row should fail a `--fail-if-slower pct` gate: a primary
    /// or latency metric, significantly worse by more than `pct` percent.
    pub fn fails_gate(&self, pct: f64) -> bool {
        (self.primary || self.latency)
            && self.significant
            && self.change == Change::Worse
            && self.worse_percent().is_some_and(|w| w > pct)
    }
}

impl Comparison {
    /// The rows that fail a `--fail-if-slower pct` gate.
    pub fn slower_than(&self, pct: f64) -> Vec<&MetricComparison> {
        self.metrics.iter().filter(|m| m.fails_gate(pct)).collect()
    }
}

/// Compares side `a` (the baseline) with side `b`.
pub fn compare(a: &[RunRecord], b: &[RunRecord], options: &CompareOptions) -> Comparison {
    let single = a.len() == 1 && b.len() == 1;
    let method = if single {
        Method::SingleRuns
    } else {
        Method::Groups
    };
    let names_a = metric_names(a);
    let names_b = metric_names(b);
    let primary = a
        .first()
        .and_then(|r| r.primary_metric())
        .map(|m| m.name.clone());
    let mut rows = Vec::new();
    let mut rng = stats::SeededRng::new(options.seed);
    for name in names_a.iter().filter(|n| names_b.contains(n)) {
        let values_a = metric_values(a, name);
        let values_b = metric_values(b, name);
        let Some(first) = a.iter().find_map(|r| r.metric(name)) else {
            continue;
        };
        let (unit, better) = (first.unit.clone(), first.better);
        let is_primary = primary.as_deref() == Some(name.as_str());
        let is_latency = better == Better::Lower && is_time_unit(&unit);
        let row = if single {
            single_run_row(
                name,
                (&a[0], values_a[0]),
                (&b[0], values_b[0]),
                options,
                &mut rng,
            )
        } else {
            group_row(&values_a, &values_b, options)
        };
        let Some((summary_a, summary_b, test, significant)) = row else {
            continue;
        };
        let ratio = (summary_a.median != 0.0).then(|| summary_b.median / summary_a.median);
        let change = if !significant {
            Change::Same
        } else {
            // B above A is worse for lower-is-better, better otherwise.
            let up_is_worse = match better {
                Better::Lower => Some(true),
                Better::Higher => Some(false),
                Better::Neither => None,
            };
            match (up_is_worse, ratio) {
                (None, _) | (_, None) => Change::Changed,
                (Some(up_is_worse), Some(r)) => match r.partial_cmp(&1.0) {
                    Some(std::cmp::Ordering::Greater) if up_is_worse => Change::Worse,
                    Some(std::cmp::Ordering::Less) if !up_is_worse => Change::Worse,
                    Some(std::cmp::Ordering::Equal) | None => Change::Same,
                    _ => Change::Better,
                },
            }
        };
        rows.push(MetricComparison {
            name: name.clone(),
            unit,
            better,
            primary: is_primary,
            latency: is_latency,
            a: summary_a,
            b: summary_b,
            ratio,
            test,
            significant,
            change,
        });
    }
    let mut notes = Vec::new();
    for (name, runs) in [("A", a), ("B", b)] {
        let mut loads: Vec<&str> = runs
            .iter()
            .filter_map(|r| r.load.as_ref().map(|l| l.label.as_str()))
            .collect();
        loads.sort_unstable();
        loads.dedup();
        if loads.len() > 1 {
            notes.push(format!(
                "{name} holds runs at different loads ({}): its medians mix them; compare one \
                 load point at a time",
                loads.join(", ")
            ));
        }
    }
    match method {
        Method::SingleRuns => notes.push(
            "two single runs: latency intervals are a bootstrap over each run's per-query \
             latencies (seeded, from the HDR histograms); they miss run-to-run variation, so \
             this is weaker evidence than repeated runs (use --repeat or tags, 4 or more runs \
             per side); other metrics are not tested"
                .to_string(),
        ),
        Method::Groups => {
            if a.len() < MIN_RUNS_FOR_TEST || b.len() < MIN_RUNS_FOR_TEST {
                notes.push(format!(
                    "fewer than {MIN_RUNS_FOR_TEST} runs per side ({} and {}): a Mann-Whitney \
                     test cannot reach significance at alpha {}, so none is reported; \
                     differences are shown as ~",
                    a.len(),
                    b.len(),
                    options.alpha
                ));
            }
            if rows.iter().any(|r| {
                r.a.interval
                    .is_some_and(|i| i.confidence < options.confidence)
            }) {
                notes.push(format!(
                    "with fewer than 6 runs a side no order-statistic interval reaches {:.0} % \
                     confidence: [min, max] is shown with the confidence it reaches",
                    options.confidence * 100.0
                ));
            }
        }
    }
    Comparison {
        a: side(a, &options.label_a),
        b: side(b, &options.label_b),
        method,
        alpha: options.alpha,
        confidence: options.confidence,
        metrics: rows,
        only_in_a: names_a
            .iter()
            .filter(|n| !names_b.contains(n))
            .cloned()
            .collect(),
        only_in_b: names_b
            .iter()
            .filter(|n| !names_a.contains(n))
            .cloned()
            .collect(),
        notes,
    }
}

fn side(runs: &[RunRecord], label: &str) -> Side {
    Side {
        label: label.to_string(),
        run_ids: runs.iter().map(|r| r.id.clone()).collect(),
    }
}

/// Every metric name of the runs, first appearance first.
fn metric_names(runs: &[RunRecord]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for m in runs.iter().flat_map(|r| &r.metrics) {
        if !names.contains(&m.name) {
            names.push(m.name.clone());
        }
    }
    names
}

/// The finite values of metric `name` across `runs`, one per run that has
/// it.
fn metric_values(runs: &[RunRecord], name: &str) -> Vec<f64> {
    runs.iter()
        .filter_map(|r| r.metric(name))
        .map(|m| m.value)
        .filter(|v| v.is_finite())
        .collect()
}

fn is_time_unit(unit: &str) -> bool {
    matches!(unit, "ns" | "us" | "µs" | "ms" | "s")
}

type Row = (SideSummary, SideSummary, Test, bool);

fn group_row(values_a: &[f64], values_b: &[f64], options: &CompareOptions) -> Option<Row> {
    let summary = |values: &[f64]| -> Option<SideSummary> {
        Some(SideSummary {
            runs: values.len(),
            median: median(values)?,
            interval: (values.len() > 1)
                .then(|| median_interval(values, options.confidence))
                .flatten(),
        })
    };
    let summary_a = summary(values_a)?;
    let summary_b = summary(values_b)?;
    if values_a.len() < MIN_RUNS_FOR_TEST || values_b.len() < MIN_RUNS_FOR_TEST {
        let test = Test::TooFewRuns {
            runs_a: values_a.len(),
            runs_b: values_b.len(),
        };
        return Some((summary_a, summary_b, test, false));
    }
    let u = mann_whitney_u(values_a, values_b)?;
    let significant = u.p_value < options.alpha;
    let test = Test::MannWhitney {
        u: u.u,
        p_value: u.p_value,
        exact: u.exact,
    };
    Some((summary_a, summary_b, test, significant))
}

/// The statistic a metric name stands for: `latency.p99` is the 99th
/// percentile of the `query` distribution (LoadGen's per-query latency),
/// (or `sample`), `ttft.p50` the median of `ttft`, `tpot.mean` its mean.
#[derive(Debug, Clone, PartialEq)]
enum Statistic {
    Percentile(f64),
    Mean,
}

fn distribution_of<'r>(
    record: &'r RunRecord,
    metric: &str,
) -> Option<(&'r str, &'r LatencyDistribution, Statistic)> {
    let (base, stat) = metric.split_once('.')?;
    let statistic = if stat == "mean" {
        Statistic::Mean
    } else {
        let percent: f64 = stat.strip_prefix('p')?.parse().ok()?;
        if !(0.0..=100.0).contains(&percent) {
            return None;
        }
        Statistic::Percentile(percent)
    };
    // `latency.*` is LoadGen's per-query (per-sample) latency, recorded
    // under one of these names.
    let candidates: &[&str] = if base == "latency" {
        &["latency", "query", "sample"]
    } else {
        &[base]
    };
    candidates.iter().find_map(|c| {
        record
            .latencies
            .get_key_value(*c)
            .filter(|(_, d)| !d.histogram.is_empty())
            .map(|(k, d)| (k.as_str(), d, statistic.clone()))
    })
}

/// One bootstrap replicate of `statistic` over `distribution`'s values.
fn bootstrap_replicate(
    distribution: &LatencyDistribution,
    statistic: &Statistic,
    rng: &mut stats::SeededRng,
) -> f64 {
    let histogram = &distribution.histogram;
    let n = histogram.len() as f64;
    match statistic {
        Statistic::Percentile(percent) => {
            // The resample's r-th order statistic sits at the empirical
            // quantile U_(r) ~ Beta(r, n - r + 1) (module docs).
            let rank = ((percent / 100.0) * n).ceil().clamp(1.0, n);
            let position = rng.beta(rank, n - rank + 1.0);
            histogram.quantile(position) as f64
        }
        Statistic::Mean => {
            // The bootstrap distribution of a mean of n >> 1 values is
            // normal with the sample's variance / n.
            let mean = histogram.mean();
            let mut previous = 0.0;
            let variance: f64 = histogram
                .cdf()
                .iter()
                .map(|&(value, cumulative)| {
                    let weight = cumulative - previous;
                    previous = cumulative;
                    weight * (value as f64 - mean).powi(2)
                })
                .sum();
            mean + rng.normal() * (variance / n).sqrt()
        }
    }
}

fn single_run_row(
    name: &str,
    (run_a, value_a): (&RunRecord, f64),
    (run_b, value_b): (&RunRecord, f64),
    options: &CompareOptions,
    rng: &mut stats::SeededRng,
) -> Option<Row> {
    let point = |value: f64| SideSummary {
        runs: 1,
        median: value,
        interval: None,
    };
    let (Some((dist_name, dist_a, stat)), Some((_, dist_b, _))) =
        (distribution_of(run_a, name), distribution_of(run_b, name))
    else {
        return Some((point(value_a), point(value_b), Test::None, false));
    };
    let resamples = options.bootstrap_resamples.max(10) as usize;
    let mut replicates_a = Vec::with_capacity(resamples);
    let mut replicates_b = Vec::with_capacity(resamples);
    let mut ratios = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        let ra = bootstrap_replicate(dist_a, &stat, rng);
        let rb = bootstrap_replicate(dist_b, &stat, rng);
        replicates_a.push(ra);
        replicates_b.push(rb);
        if ra > 0.0 {
            ratios.push(rb / ra);
        }
    }
    let tail = (1.0 - options.confidence) / 2.0;
    let interval = |mut values: Vec<f64>| -> Option<Interval> {
        values.sort_by(f64::total_cmp);
        Some(Interval {
            low: quantile_sorted(&values, tail)?,
            high: quantile_sorted(&values, 1.0 - tail)?,
            confidence: options.confidence,
        })
    };
    let summary_a = SideSummary {
        interval: interval(replicates_a),
        ..point(value_a)
    };
    let summary_b = SideSummary {
        interval: interval(replicates_b),
        ..point(value_b)
    };
    let Some(ratio_interval) = interval(ratios) else {
        return Some((summary_a, summary_b, Test::None, false));
    };
    let significant = ratio_interval.low > 1.0 || ratio_interval.high < 1.0;
    let test = Test::Bootstrap {
        distribution: dist_name.to_string(),
        resamples: resamples as u32,
        seed: options.seed,
        ratio_interval,
    };
    Some((summary_a, summary_b, test, significant))
}

//! LoadGen's `PerformanceSummary`: a run's timings turned into statistics,
//! validity checks and the `result_*` detail-log events.
//!
//! LoadGen recomputes these lazily, several times, from methods that mutate
//! the summary; here [`PerformanceSummary::new`] computes everything once
//! and the rest are reads. Each statistic keeps LoadGen's arithmetic exactly
//! (integer means, `sorted[floor(n * p)]` percentiles, the unsigned
//! conversions of `size_t` expressions), because the submission checker
//! compares these numbers, not approximations of them.

use std::fmt;

use super::early_stopping::{self, EarlyStoppingOutcome};
use serde::{Deserialize, Serialize};

use super::{Interruption, Latency, PerformanceResult, RunWindow};
use crate::log::event::DetailEvent;
use crate::settings::EffectiveSettings;
use crate::Scenario;

/// The percentiles LoadGen reports besides the target one, in its order.
pub const REPORTED_PERCENTILES: [f64; 6] = [0.50, 0.90, 0.95, 0.97, 0.99, 0.999];

/// LoadGen's marker for a sample whose token count was never reported.
const TOKEN_COUNT_INVALID: i64 = i64::MIN;

/// The latency at one percentile (LoadGen's `PercentileEntry`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PercentileEntry {
    /// A fraction in `[0, 1)`: `0.99` is the 99th percentile.
    pub percentile: f64,
    pub sample_latency: Latency,
    /// MultiStream only: the per-query latency at this percentile.
    pub query_latency: Latency,
}

impl PercentileEntry {
    fn at(percentile: f64) -> Self {
        PercentileEntry {
            percentile,
            sample_latency: 0,
            query_latency: 0,
        }
    }

    /// The percentile as LoadGen prints it in keys and tables: `99.90`.
    pub fn label(&self) -> String {
        format!("{:.2}", self.percentile * 100.0)
    }
}

fn reported_entries() -> [PercentileEntry; 6] {
    REPORTED_PERCENTILES.map(PercentileEntry::at)
}

/// A run's headline number, the one the submission reports.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum ResultMetric {
    /// SingleStream (per sample) and MultiStream (per query): the latency at
    /// the target percentile, in ns.
    LatencyNs(Latency),
    /// Server: completed samples per second; Offline: samples per second.
    SamplesPerSecond(f64),
}

impl fmt::Display for ResultMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResultMetric::LatencyNs(ns) => write!(f, "{ns} ns"),
            ResultMetric::SamplesPerSecond(qps) => write!(f, "{qps:.2} samples/s"),
        }
    }
}

/// A performance run's results, LoadGen's `PerformanceSummary`.
///
/// Built by [`PerformanceSummary::new`]; the fields are public so that log
/// writers and reports can read them (and tests can set them), but they are
/// derived from `settings` and `pr` and should not be edited on their own.
/// Which ones are meaningful depends on the scenario, as noted; the others
/// hold LoadGen's formula applied anyway (possibly NaN or infinite).
///
/// It serializes with serde (a run record can hold it whole); non-finite
/// throughputs are written as strings (`"NaN"`, `"inf"`), since JSON has no
/// such numbers. Every completed sample's latency is kept, sorted, in
/// `pr.sample_latencies` ([`PerformanceSummary::sorted_sample_latencies`]):
/// a recorder can build a histogram from it without re-running.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerformanceSummary {
    pub sut_name: String,
    pub settings: EffectiveSettings,
    /// The run's raw result. [`PerformanceSummary::new`] sorts its latency
    /// vectors in place (ascending), as LoadGen's `ProcessLatencies` does,
    /// so they are no longer in sample sequence order.
    pub pr: PerformanceResult,
    /// The measured window (`power_begin` to `power_end`); set by the run,
    /// `None` for a summary built from a bare [`PerformanceResult`].
    #[serde(default)]
    pub window: Option<RunWindow>,
    /// Set when the run was stopped early: the result is then INVALID, and
    /// the reason leads [`PerformanceSummary::invalid_reason`].
    #[serde(default)]
    pub interrupted: Option<Interruption>,

    // LoadGen's ProcessLatencies.
    /// Completed samples (zero if none completed: then every statistic of
    /// this block is zero, as in LoadGen).
    pub sample_count: u64,
    /// Queries issued, as reported (`result_query_count`).
    pub query_count: u64,
    /// Server only: samples over the target latency.
    pub overlatency_query_count: u64,
    pub sample_latency_min: Latency,
    pub sample_latency_max: Latency,
    /// Integer (truncated) mean, as LoadGen's.
    pub sample_latency_mean: Latency,
    /// MultiStream only.
    pub query_latency_min: Latency,
    /// MultiStream only.
    pub query_latency_max: Latency,
    /// MultiStream only.
    pub query_latency_mean: Latency,
    /// The settings' target percentile.
    pub target_latency_percentile: PercentileEntry,
    /// [`REPORTED_PERCENTILES`].
    pub latency_percentiles: [PercentileEntry; 6],

    // Early stopping.
    pub early_stopping_met: bool,
    /// Without token latencies: the text under "Early Stopping Result:".
    pub early_stopping_recommendation: String,
    /// With token latencies: the first-token early stopping text (empty if
    /// the time-per-output-token evaluation failed first: LoadGen
    /// short-circuits).
    pub early_stopping_ttft_recommendation: String,
    /// With token latencies: the time-per-output-token early stopping text.
    pub early_stopping_tpot_recommendation: String,
    /// SingleStream: the latency estimate at the target percentile (0 when
    /// there were too few queries).
    pub early_stopping_latency_ss: Latency,
    /// SingleStream: the 99th percentile estimate; MultiStream: the target
    /// percentile estimate (0 when there were too few queries).
    pub early_stopping_latency_ms: Latency,

    // LoadGen's ProcessTokenLatencies (with `use_token_latencies` only).
    /// Output tokens of all samples whose count was reported.
    pub token_count: u64,
    /// Server only: samples whose first token came after the target latency.
    pub overlatency_first_token_count: u64,
    pub first_token_latency_min: Latency,
    pub first_token_latency_max: Latency,
    pub first_token_latency_mean: Latency,
    pub time_per_output_token_min: Latency,
    pub time_per_output_token_max: Latency,
    pub time_per_output_token_mean: Latency,
    /// First-token latency at the target percentile.
    pub token_target_latency_percentile: PercentileEntry,
    pub token_latency_percentiles: [PercentileEntry; 6],
    /// Time per output token at the target percentile.
    pub target_tpot_percentile: PercentileEntry,
    pub tpot_percentiles: [PercentileEntry; 6],

    // Validity (LoadGen's MinDurationMet, MinQueriesMet && MinSamplesMet,
    // PerfConstraintsMet).
    pub min_duration_met: bool,
    /// Why the duration fell short (empty when it did not).
    pub min_duration_recommendation: String,
    /// Enough queries issued and enough samples completed.
    pub min_queries_met: bool,
    pub perf_constraints_met: bool,
    /// Which latency constraint failed (empty when none did).
    pub perf_constraints_recommendation: String,

    // Throughputs, LoadGen's formulas (seconds from `pr`).
    /// SingleStream: `(samples - 1) / final_query_issued_time`.
    #[serde(with = "super::float_serde")]
    pub qps_with_loadgen_overhead: f64,
    /// SingleStream: `1 / mean sample latency`.
    #[serde(with = "super::float_serde")]
    pub qps_without_loadgen_overhead: f64,
    /// Server: `(samples - 1) / final_query_scheduled_time`. The final
    /// sample opens the interval rather than closing it, hence the `- 1`.
    #[serde(with = "super::float_serde")]
    pub scheduled_samples_per_sec: f64,
    /// Server: `(samples - 1) / final_query_all_samples_done_time`.
    #[serde(with = "super::float_serde")]
    pub completed_samples_per_sec: f64,
    /// Offline: `samples / max_latency`.
    #[serde(with = "super::float_serde")]
    pub samples_per_second: f64,
    /// Token latencies: `tokens / final_query_issued_time`.
    #[serde(with = "super::float_serde")]
    pub tokens_per_sec_with_loadgen_overhead: f64,
    /// Token latencies, SingleStream summary: tokens per second of sample
    /// latency (`tokens / (mean latency in s * samples)`).
    #[serde(with = "super::float_serde")]
    pub tokens_per_sec_without_loadgen_overhead: f64,
    /// Token latencies, detail log's `result_token_throughput`: LoadGen
    /// divides by the mean latency in *nanoseconds* there (so the value is
    /// 1e9 times smaller); kept because the detail log must match.
    #[serde(with = "super::float_serde")]
    pub token_throughput_per_ns: f64,
    /// Token latencies, Server: `tokens / final_query_all_samples_done_time`.
    #[serde(with = "super::float_serde")]
    pub completed_tokens_per_sec: f64,
    /// Token latencies, Offline: `tokens / max_latency`.
    #[serde(with = "super::float_serde")]
    pub tokens_per_sec: f64,
    /// `infer_token_latencies`: Server completed samples/s (or Offline
    /// samples/s) times `token_latency_scaling_factor`.
    #[serde(with = "super::float_serde")]
    pub inferred_tokens_per_sec: f64,
}

/// `sum / count` as LoadGen computes a mean: the signed sum converted to
/// `size_t` for the division. Identical to signed division for the
/// non-negative sums of real runs.
fn loadgen_mean(sum: i64, count: u64) -> Latency {
    if count == 0 {
        return 0;
    }
    ((sum as u64) / count) as i64
}

/// The wrapping sum LoadGen's `int64` accumulator produces.
fn wrapping_sum(values: &[Latency]) -> i64 {
    values.iter().fold(0i64, |acc, &v| acc.wrapping_add(v))
}

/// `sorted[count * p]` with LoadGen's truncating conversion. `count` is
/// LoadGen's count (for token latencies, the sample count, not the token
/// vector's length); the clamp only matters for inconsistent input, which
/// LoadGen would read out of bounds.
fn percentile(sorted: &[Latency], count: u64, p: f64) -> Latency {
    let idx = (count as f64 * p) as usize;
    sorted.get(idx).or(sorted.last()).copied().unwrap_or(0)
}

/// How many sorted latencies exceed `bound` (LoadGen searches for
/// `bound + 1`).
fn count_over(sorted: &[Latency], bound: i64) -> u64 {
    let first_over = sorted.partition_point(|&l| l < bound.saturating_add(1));
    (sorted.len() - first_over) as u64
}

fn ns_to_seconds(ns: Latency) -> f64 {
    ns as f64 / 1e9
}

impl PerformanceSummary {
    /// Computes every statistic and check of a finished performance run.
    /// Sorts `pr`'s latency vectors in place; never clones them.
    pub fn new(
        sut_name: impl Into<String>,
        settings: EffectiveSettings,
        pr: PerformanceResult,
    ) -> Self {
        let target = settings.target_latency_percentile;
        let mut s = PerformanceSummary {
            sut_name: sut_name.into(),
            settings,
            pr,
            window: None,
            interrupted: None,
            sample_count: 0,
            query_count: 0,
            overlatency_query_count: 0,
            sample_latency_min: 0,
            sample_latency_max: 0,
            sample_latency_mean: 0,
            query_latency_min: 0,
            query_latency_max: 0,
            query_latency_mean: 0,
            target_latency_percentile: PercentileEntry::at(target),
            latency_percentiles: reported_entries(),
            early_stopping_met: true,
            early_stopping_recommendation: String::new(),
            early_stopping_ttft_recommendation: String::new(),
            early_stopping_tpot_recommendation: String::new(),
            early_stopping_latency_ss: 0,
            early_stopping_latency_ms: 0,
            token_count: 0,
            overlatency_first_token_count: 0,
            first_token_latency_min: 0,
            first_token_latency_max: 0,
            first_token_latency_mean: 0,
            time_per_output_token_min: 0,
            time_per_output_token_max: 0,
            time_per_output_token_mean: 0,
            token_target_latency_percentile: PercentileEntry::at(target),
            token_latency_percentiles: reported_entries(),
            target_tpot_percentile: PercentileEntry::at(target),
            tpot_percentiles: reported_entries(),
            min_duration_met: false,
            min_duration_recommendation: String::new(),
            min_queries_met: false,
            perf_constraints_met: true,
            perf_constraints_recommendation: String::new(),
            qps_with_loadgen_overhead: 0.0,
            qps_without_loadgen_overhead: 0.0,
            scheduled_samples_per_sec: 0.0,
            completed_samples_per_sec: 0.0,
            samples_per_second: 0.0,
            tokens_per_sec_with_loadgen_overhead: 0.0,
            tokens_per_sec_without_loadgen_overhead: 0.0,
            token_throughput_per_ns: 0.0,
            completed_tokens_per_sec: 0.0,
            tokens_per_sec: 0.0,
            inferred_tokens_per_sec: 0.0,
        };
        s.process_latencies();
        s.check_min_duration();
        s.min_queries_met = s.pr.queries_issued as u64 >= s.settings.min_query_count
            && s.sample_count >= s.settings.min_sample_count;
        s.evaluate_early_stopping();
        s.check_perf_constraints();
        s.compute_throughputs();
        s
    }

    /// LoadGen's `ProcessLatencies` (and `ProcessTokenLatencies`).
    fn process_latencies(&mut self) {
        if self.pr.sample_latencies.is_empty() {
            return;
        }
        let scenario = self.settings.scenario;
        let samples = &mut self.pr.sample_latencies;
        let n = samples.len() as u64;
        self.sample_count = n;
        self.sample_latency_mean = loadgen_mean(wrapping_sum(samples), n);
        samples.sort_unstable();
        self.target_latency_percentile.sample_latency =
            percentile(samples, n, self.target_latency_percentile.percentile);
        self.sample_latency_min = samples[0];
        self.sample_latency_max = samples[samples.len() - 1];
        for lp in &mut self.latency_percentiles {
            lp.sample_latency = percentile(samples, n, lp.percentile);
        }
        self.query_count = self.pr.queries_issued as u64;
        if scenario == Scenario::Server {
            self.overlatency_query_count = count_over(samples, self.settings.target_latency_ns);
        }

        if self.settings.use_token_latencies {
            self.process_token_latencies();
        }

        if scenario != Scenario::MultiStream {
            return;
        }
        let queries = &mut self.pr.query_latencies;
        let qn = self.query_count;
        if queries.is_empty() || qn == 0 {
            // LoadGen asserts one latency per issued query.
            return;
        }
        queries.sort_unstable();
        self.query_latency_mean = loadgen_mean(wrapping_sum(queries), qn);
        self.query_latency_min = queries[0];
        self.query_latency_max = queries[queries.len() - 1];
        self.target_latency_percentile.query_latency =
            percentile(queries, qn, self.target_latency_percentile.percentile);
        for lp in &mut self.latency_percentiles {
            lp.query_latency = percentile(queries, qn, lp.percentile);
        }
    }

    /// LoadGen's `ProcessTokenLatencies`. Means divide by the sample count,
    /// percentiles index with it.
    fn process_token_latencies(&mut self) {
        let tokens = &mut self.pr.token_results;
        self.token_count = tokens
            .tokens_per_sample
            .iter()
            .filter(|&&n| n != TOKEN_COUNT_INVALID)
            .fold(0u64, |acc, &n| acc.wrapping_add(n as u64));
        if tokens.first_token_latencies.is_empty() {
            return;
        }
        let n = self.sample_count;
        self.first_token_latency_mean =
            loadgen_mean(wrapping_sum(&tokens.first_token_latencies), n);
        self.time_per_output_token_mean =
            loadgen_mean(wrapping_sum(&tokens.time_per_output_token), n);
        tokens.first_token_latencies.sort_unstable();
        tokens.time_per_output_token.sort_unstable();

        let ttft = &tokens.first_token_latencies;
        self.token_target_latency_percentile.sample_latency =
            percentile(ttft, n, self.token_target_latency_percentile.percentile);
        self.first_token_latency_min = ttft.first().copied().unwrap_or(0);
        self.first_token_latency_max = ttft.last().copied().unwrap_or(0);
        for lp in &mut self.token_latency_percentiles {
            lp.sample_latency = percentile(ttft, n, lp.percentile);
        }

        let tpot = &tokens.time_per_output_token;
        self.target_tpot_percentile.sample_latency =
            percentile(tpot, n, self.target_tpot_percentile.percentile);
        self.time_per_output_token_min = tpot.first().copied().unwrap_or(0);
        self.time_per_output_token_max = tpot.last().copied().unwrap_or(0);
        for lp in &mut self.tpot_percentiles {
            lp.sample_latency = percentile(tpot, n, lp.percentile);
        }

        if self.settings.scenario == Scenario::Server {
            self.overlatency_first_token_count = count_over(ttft, self.settings.target_latency_ns);
        }
    }

    /// LoadGen's `MinDurationMet`: each scenario measures its duration to a
    /// different event.
    fn check_min_duration(&mut self) {
        let min_duration = self.settings.min_duration_ms as f64 / 1000.0;
        let (measured, advice) = match self.settings.scenario {
            Scenario::Offline => (
                self.pr.max_latency,
                "Increase expected QPS so the loadgen pre-generates a larger (coalesced) query.",
            ),
            Scenario::Server => (
                self.pr.final_query_scheduled_time,
                "Increase the target QPS so the loadgen pre-generates more queries.",
            ),
            Scenario::SingleStream | Scenario::MultiStream => (
                self.pr.final_query_issued_time,
                "Decrease the expected latency so the loadgen pre-generates more queries.",
            ),
        };
        self.min_duration_met = measured >= min_duration;
        if !self.min_duration_met {
            self.min_duration_recommendation = advice.to_owned();
        }
    }

    /// LoadGen's `EarlyStopping`, once on the sample latencies or, with
    /// token latencies, on the time per output token and then (only if that
    /// passed) on the first-token latencies.
    fn evaluate_early_stopping(&mut self) {
        let s = &self.settings;
        let pr = &self.pr;
        let queries = i64::try_from(pr.queries_issued).unwrap_or(i64::MAX);
        let run = |samples: &[Latency], bound: i64| {
            early_stopping::evaluate(
                s.scenario,
                s.target_latency_percentile,
                queries,
                samples,
                &pr.query_latencies,
                bound,
            )
        };
        let (plain, tpot, ttft) = if !s.use_token_latencies {
            (
                Some(run(&pr.sample_latencies, s.target_latency_ns)),
                None,
                None,
            )
        } else {
            let tpot = run(
                &pr.token_results.time_per_output_token,
                s.server_tpot_latency,
            );
            let ttft = tpot.met.then(|| {
                run(
                    &pr.token_results.first_token_latencies,
                    s.server_ttft_latency,
                )
            });
            (None, Some(tpot), ttft)
        };
        // In LoadGen's order: a later evaluation overrides what it sets.
        for outcome in [&plain, &tpot, &ttft].into_iter().flatten() {
            self.early_stopping_met = outcome.met;
            if let Some(ss) = outcome.latency_ss {
                self.early_stopping_latency_ss = ss;
            }
            if let Some(ms) = outcome.latency_ms {
                self.early_stopping_latency_ms = ms;
            }
        }
        let text =
            |o: Option<EarlyStoppingOutcome>| o.map(|o| o.recommendation).unwrap_or_default();
        self.early_stopping_recommendation = text(plain);
        self.early_stopping_tpot_recommendation = text(tpot);
        self.early_stopping_ttft_recommendation = text(ttft);
    }

    /// LoadGen's `PerfConstraintsMet`: only Server has latency constraints
    /// (on the first token and the time per output token with token
    /// latencies).
    fn check_perf_constraints(&mut self) {
        if self.settings.scenario != Scenario::Server {
            return;
        }
        let s = &self.settings;
        let mut failures: Vec<&str> = Vec::new();
        if !s.use_token_latencies {
            if self.target_latency_percentile.sample_latency > s.target_latency_ns {
                failures.push("Reduce target QPS to improve latency.");
            }
        } else {
            if self.token_target_latency_percentile.sample_latency > s.server_ttft_latency {
                failures.push("TTFT constrain not met: Reduce target QPS to improve latency.");
            }
            if self.target_tpot_percentile.sample_latency > s.server_tpot_latency {
                failures.push("TPOT constrain not met: Reduce target QPS to improve latency.");
            }
        }
        self.perf_constraints_met = failures.is_empty();
        // Printed after " * ", so later reasons get their own bullet.
        self.perf_constraints_recommendation = failures.join("\n * ");
    }

    /// LoadGen's throughput formulas, with its `size_t` arithmetic:
    /// `samples - 1` wraps for an empty run, products wrap in 64 bits.
    fn compute_throughputs(&mut self) {
        let pr = &self.pr;
        let n = self.sample_count;
        let n_minus_1 = n.wrapping_sub(1) as f64;
        let tokens = self.token_count as f64;
        let factor = self.settings.token_latency_scaling_factor as u64;

        self.qps_with_loadgen_overhead = n_minus_1 / pr.final_query_issued_time;
        self.qps_without_loadgen_overhead = 1.0 / ns_to_seconds(self.sample_latency_mean);
        self.scheduled_samples_per_sec = n_minus_1 / pr.final_query_scheduled_time;
        self.completed_samples_per_sec = n_minus_1 / pr.final_query_all_samples_done_time;
        self.samples_per_second = n as f64 / pr.max_latency;

        self.tokens_per_sec_with_loadgen_overhead = tokens / pr.final_query_issued_time;
        self.tokens_per_sec_without_loadgen_overhead =
            tokens / (ns_to_seconds(self.sample_latency_mean) * n as f64);
        self.token_throughput_per_ns =
            tokens / (self.sample_latency_mean as u64).wrapping_mul(n) as f64;
        self.completed_tokens_per_sec = tokens / pr.final_query_all_samples_done_time;
        self.tokens_per_sec = tokens / pr.max_latency;
        self.inferred_tokens_per_sec = match self.settings.scenario {
            Scenario::Offline => factor.wrapping_mul(n) as f64 / pr.max_latency,
            _ => {
                factor.wrapping_mul(n.wrapping_sub(1)) as f64 / pr.final_query_all_samples_done_time
            }
        };
    }

    /// Every completed sample's latency (ns from its scheduled time),
    /// ascending: the vector the percentiles were read from. Samples that
    /// never completed are not in it.
    pub fn sorted_sample_latencies(&self) -> &[Latency] {
        &self.pr.sample_latencies
    }

    /// VALID: the run was not interrupted, lasted long enough, issued
    /// enough queries (and completed enough samples), met its latency
    /// constraints and early stopping.
    pub fn is_valid(&self) -> bool {
        self.interrupted.is_none()
            && self.min_duration_met
            && self.min_queries_met
            && self.perf_constraints_met
            && self.early_stopping_met
    }

    /// Whether the latency constraints were met and, if not, why: what
    /// LoadGen's find-peak search asks of each run.
    pub fn perf_constraints_met(&self) -> (bool, String) {
        (
            self.perf_constraints_met,
            self.perf_constraints_recommendation.clone(),
        )
    }

    /// Whether the scenario has latency constraints at all (Server only).
    pub fn has_perf_constraints(&self) -> bool {
        self.settings.scenario == Scenario::Server
    }

    /// The run's headline number.
    pub fn result_metric(&self) -> ResultMetric {
        match self.settings.scenario {
            Scenario::SingleStream => {
                ResultMetric::LatencyNs(self.target_latency_percentile.sample_latency)
            }
            Scenario::MultiStream => {
                ResultMetric::LatencyNs(self.target_latency_percentile.query_latency)
            }
            Scenario::Server => ResultMetric::SamplesPerSecond(self.completed_samples_per_sec),
            Scenario::Offline => ResultMetric::SamplesPerSecond(self.samples_per_second),
        }
    }

    /// Why the run is INVALID, as the detail log's `result_invalid_reason`
    /// puts it: each reason followed by a space, newlines flattened. Early
    /// stopping is not among the reasons (LoadGen leaves it to the
    /// `early_stopping_*` events), so this can be empty for an invalid run.
    /// An interruption (not a LoadGen reason) comes first.
    pub fn invalid_reason(&self) -> String {
        let mut reason = String::new();
        if let Some(interruption) = &self.interrupted {
            reason.push_str(&interruption.reason());
            reason.push_str(". ");
        }
        if !self.perf_constraints_met {
            reason.push_str(&self.perf_constraints_recommendation);
            reason.push(' ');
        }
        if !self.min_duration_met {
            reason.push_str(&self.min_duration_recommendation);
            reason.push(' ');
        }
        if !self.min_queries_met {
            reason.push_str("The test exited early, before enough queries were issued.");
        }
        reason.replace('\n', " ")
    }

    /// The `result_*` and `early_stopping_*` events of LoadGen's
    /// `PerformanceSummary::LogDetail`, in its order and with its value
    /// types (doubles stay doubles, counts are integers).
    ///
    /// LoadGen's final `num_errors` event is not included: it reports the
    /// error count of the whole log, which only the log writer knows.
    pub fn detail_events(&self) -> Vec<DetailEvent> {
        let s = &self.settings;
        let mut ev: Vec<DetailEvent> = Vec::with_capacity(64);
        let valid = self.is_valid();
        ev.push(DetailEvent::new(
            "result_validity",
            if valid { "VALID" } else { "INVALID" },
        ));
        if self.has_perf_constraints() {
            ev.push(DetailEvent::new(
                "result_perf_constraints_met",
                self.perf_constraints_met,
            ));
        }
        ev.push(DetailEvent::new(
            "result_min_duration_met",
            self.min_duration_met,
        ));
        ev.push(DetailEvent::new(
            "result_min_queries_met",
            self.min_queries_met,
        ));
        ev.push(DetailEvent::new(
            "early_stopping_met",
            self.early_stopping_met,
        ));
        if !valid {
            ev.push(DetailEvent::new(
                "result_invalid_reason",
                self.invalid_reason(),
            ));
        }
        if !s.use_token_latencies {
            ev.push(DetailEvent::new(
                "early_stopping_result",
                self.early_stopping_recommendation.replace('\n', " "),
            ));
        } else {
            ev.push(DetailEvent::new(
                "early_stopping_ttft_result",
                self.early_stopping_ttft_recommendation.replace('\n', " "),
            ));
            ev.push(DetailEvent::new(
                "early_stopping_tpot_result",
                self.early_stopping_tpot_recommendation.replace('\n', " "),
            ));
        }
        ev.push(DetailEvent::new("result_query_count", self.query_count));
        if s.scenario == Scenario::Server {
            ev.push(DetailEvent::new(
                "result_overlatency_query_count",
                self.overlatency_query_count,
            ));
        }

        match s.scenario {
            Scenario::SingleStream => {
                ev.push(DetailEvent::new(
                    "result_qps_with_loadgen_overhead",
                    self.qps_with_loadgen_overhead,
                ));
                ev.push(DetailEvent::new(
                    "result_qps_without_loadgen_overhead",
                    self.qps_without_loadgen_overhead,
                ));
                ev.push(DetailEvent::new(
                    "early_stopping_latency_ss",
                    self.early_stopping_latency_ss,
                ));
                ev.push(DetailEvent::new(
                    "early_stopping_latency_ms",
                    self.early_stopping_latency_ms,
                ));
            }
            Scenario::MultiStream => {
                ev.push(DetailEvent::new(
                    "result_min_query_latency_ns",
                    self.query_latency_min,
                ));
                ev.push(DetailEvent::new(
                    "result_max_query_latency_ns",
                    self.query_latency_max,
                ));
                ev.push(DetailEvent::new(
                    "result_mean_query_latency_ns",
                    self.query_latency_mean,
                ));
                for lp in &self.latency_percentiles {
                    ev.push(DetailEvent::new(
                        format!("result_{}_percentile_per_query_latency_ns", lp.label()),
                        lp.query_latency,
                    ));
                }
                ev.push(DetailEvent::new(
                    "early_stopping_latency_ms",
                    self.early_stopping_latency_ms,
                ));
            }
            Scenario::Server => {
                ev.push(DetailEvent::new(
                    "result_scheduled_samples_per_sec",
                    self.scheduled_samples_per_sec,
                ));
                ev.push(DetailEvent::new(
                    "result_completed_samples_per_sec",
                    self.completed_samples_per_sec,
                ));
            }
            Scenario::Offline => {
                ev.push(DetailEvent::new(
                    "result_samples_per_second",
                    self.samples_per_second,
                ));
            }
        }

        ev.push(DetailEvent::new(
            "result_min_latency_ns",
            self.sample_latency_min,
        ));
        ev.push(DetailEvent::new(
            "result_max_latency_ns",
            self.sample_latency_max,
        ));
        ev.push(DetailEvent::new(
            "result_mean_latency_ns",
            self.sample_latency_mean,
        ));
        for lp in &self.latency_percentiles {
            ev.push(DetailEvent::new(
                format!("result_{}_percentile_latency_ns", lp.label()),
                lp.sample_latency,
            ));
        }

        if s.use_token_latencies {
            if s.scenario != Scenario::Offline {
                ev.push(DetailEvent::new(
                    "result_first_token_min_latency_ns",
                    self.first_token_latency_min,
                ));
                ev.push(DetailEvent::new(
                    "result_first_token_max_latency_ns",
                    self.first_token_latency_max,
                ));
                ev.push(DetailEvent::new(
                    "result_first_token_mean_latency_ns",
                    self.first_token_latency_mean,
                ));
                for lp in &self.token_latency_percentiles {
                    ev.push(DetailEvent::new(
                        format!("result_first_token_{}_percentile_latency_ns", lp.label()),
                        lp.sample_latency,
                    ));
                }
                ev.push(DetailEvent::new(
                    "result_token_throughput_with_loadgen_overhead",
                    self.tokens_per_sec_with_loadgen_overhead,
                ));
                ev.push(DetailEvent::new(
                    "result_token_throughput",
                    self.token_throughput_per_ns,
                ));
                for lp in &self.tpot_percentiles {
                    ev.push(DetailEvent::new(
                        format!("result_time_per_output_token_{}_percentile_ns", lp.label()),
                        lp.sample_latency,
                    ));
                }
                ev.push(DetailEvent::new(
                    "result_time_to_output_token_min",
                    self.time_per_output_token_min,
                ));
                ev.push(DetailEvent::new(
                    "result_time_to_output_token_max",
                    self.time_per_output_token_max,
                ));
                ev.push(DetailEvent::new(
                    "result_time_to_output_token_mean",
                    self.time_per_output_token_mean,
                ));
                ev.push(DetailEvent::new(
                    "result_completed_tokens_per_second",
                    self.completed_tokens_per_sec,
                ));
            } else {
                ev.push(DetailEvent::new(
                    "result_tokens_per_second",
                    self.tokens_per_sec,
                ));
            }
        }

        if s.infer_token_latencies {
            match s.scenario {
                Scenario::Server => ev.push(DetailEvent::new(
                    "result_inferred_completed_tokens_per_second",
                    self.inferred_tokens_per_sec,
                )),
                Scenario::Offline => ev.push(DetailEvent::new(
                    "result_inferred_tokens_per_second",
                    self.inferred_tokens_per_sec,
                )),
                Scenario::SingleStream | Scenario::MultiStream => {}
            }
        }
        ev
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::TokenPerformanceResults;
    use crate::settings::TestSettings;

    fn settings(scenario: Scenario) -> EffectiveSettings {
        let requested = TestSettings {
            scenario,
            ..TestSettings::default()
        };
        let mut s = EffectiveSettings::new(&requested, 1024, 50_000);
        s.min_duration_ms = 1000;
        s.min_query_count = 100;
        s.min_sample_count = 100;
        s
    }

    /// `n` samples with latencies `1..=n` ns, shuffled.
    fn shuffled(n: i64) -> Vec<Latency> {
        let mut v: Vec<Latency> = (1..=n).collect();
        // A fixed permutation: sorting must not rely on the input order.
        v.reverse();
        v.swap(0, (n / 2) as usize);
        v
    }

    fn result(samples: Vec<Latency>, seconds: f64) -> PerformanceResult {
        PerformanceResult {
            queries_issued: samples.len(),
            sample_latencies: samples,
            max_latency: seconds,
            final_query_scheduled_time: seconds,
            final_query_issued_time: seconds,
            final_query_all_samples_done_time: seconds,
            ..Default::default()
        }
    }

    fn keys(s: &PerformanceSummary) -> Vec<String> {
        s.detail_events()
            .into_iter()
            .map(|e| e.key.into_owned())
            .collect()
    }

    fn value(s: &PerformanceSummary, key: &str) -> serde_json::Value {
        s.detail_events()
            .into_iter()
            .find(|e| e.key == key)
            .map(|e| e.value)
            .unwrap_or_else(|| panic!("no {key} event"))
    }

    #[test]
    fn percentiles_index_the_sorted_latencies() {
        let s = PerformanceSummary::new(
            "sut",
            settings(Scenario::SingleStream),
            result(shuffled(1000), 2.0),
        );
        assert_eq!(s.sample_count, 1000);
        assert_eq!((s.sample_latency_min, s.sample_latency_max), (1, 1000));
        // sorted[floor(1000 * p)] of 1..=1000 is floor(1000 * p) + 1.
        let got: Vec<Latency> = s
            .latency_percentiles
            .iter()
            .map(|lp| lp.sample_latency)
            .collect();
        assert_eq!(got, [501, 901, 951, 971, 991, 1000]);
        assert_eq!(s.target_latency_percentile.sample_latency, 901);
        assert_eq!(s.result_metric(), ResultMetric::LatencyNs(901));
        assert!(
            s.pr.sample_latencies.windows(2).all(|w| w[0] <= w[1]),
            "sorted in place"
        );
        let labels: Vec<String> = s
            .latency_percentiles
            .iter()
            .map(PercentileEntry::label)
            .collect();
        assert_eq!(
            labels,
            ["50.00", "90.00", "95.00", "97.00", "99.00", "99.90"]
        );
    }

    #[test]
    fn means_truncate_like_integer_division() {
        let s = PerformanceSummary::new(
            "sut",
            settings(Scenario::SingleStream),
            result(vec![1, 2, 2], 1.0),
        );
        assert_eq!(s.sample_latency_mean, 1);
        assert_eq!(loadgen_mean(7, 2), 3);
        assert_eq!(loadgen_mean(5, 0), 0);
    }

    #[test]
    fn single_stream_rates_and_validity() {
        let s = PerformanceSummary::new(
            "sut",
            settings(Scenario::SingleStream),
            result(shuffled(1000), 2.0),
        );
        assert_eq!(s.qps_with_loadgen_overhead, 999.0 / 2.0);
        assert_eq!(s.qps_without_loadgen_overhead, 1.0 / (500.0 / 1e9));
        assert!(s.min_duration_met && s.min_queries_met && s.early_stopping_met);
        assert!(s.is_valid());
        assert_eq!(s.perf_constraints_met(), (true, String::new()));
        assert!(!s.has_perf_constraints());
        // LoadGen 6.0.17 on these latencies: "Would discard 77", so the
        // 78th largest; the 99th percentile estimate discards 1.
        assert_eq!(s.early_stopping_latency_ss, 923);
        assert_eq!(s.early_stopping_latency_ms, 999);
        assert_eq!(
            keys(&s),
            [
                "result_validity",
                "result_min_duration_met",
                "result_min_queries_met",
                "early_stopping_met",
                "early_stopping_result",
                "result_query_count",
                "result_qps_with_loadgen_overhead",
                "result_qps_without_loadgen_overhead",
                "early_stopping_latency_ss",
                "early_stopping_latency_ms",
                "result_min_latency_ns",
                "result_max_latency_ns",
                "result_mean_latency_ns",
                "result_50.00_percentile_latency_ns",
                "result_90.00_percentile_latency_ns",
                "result_95.00_percentile_latency_ns",
                "result_97.00_percentile_latency_ns",
                "result_99.00_percentile_latency_ns",
                "result_99.90_percentile_latency_ns",
            ]
        );
        assert_eq!(value(&s, "result_validity"), "VALID");
        assert!(value(&s, "result_qps_with_loadgen_overhead").is_f64());
        assert!(value(&s, "result_query_count").is_u64());
        assert!(!value(&s, "early_stopping_result")
            .as_str()
            .unwrap_or("\n")
            .contains('\n'));
    }

    #[test]
    fn min_duration_is_measured_per_scenario() {
        let mut pr = result(shuffled(1000), 0.5);
        pr.max_latency = 2.0;
        let s = PerformanceSummary::new("sut", settings(Scenario::SingleStream), pr.clone());
        assert!(!s.min_duration_met && !s.is_valid());
        assert_eq!(
            s.min_duration_recommendation,
            "Decrease the expected latency so the loadgen pre-generates more queries."
        );
        assert_eq!(
            s.invalid_reason(),
            "Decrease the expected latency so the loadgen pre-generates more queries. "
        );
        assert_eq!(
            value(&s, "result_invalid_reason"),
            s.invalid_reason().as_str()
        );
        // Offline measures the longest latency.
        let s = PerformanceSummary::new("sut", settings(Scenario::Offline), pr.clone());
        assert!(s.min_duration_met);
        pr.max_latency = 0.999;
        let s = PerformanceSummary::new("sut", settings(Scenario::Offline), pr);
        assert_eq!(
            s.min_duration_recommendation,
            "Increase expected QPS so the loadgen pre-generates a larger (coalesced) query."
        );
    }

    #[test]
    fn min_queries_and_min_samples() {
        let mut st = settings(Scenario::Offline);
        st.min_query_count = 1;
        st.min_sample_count = 2000;
        let mut pr = result(shuffled(1000), 2.0);
        pr.queries_issued = 1;
        let s = PerformanceSummary::new("sut", st, pr);
        assert!(!s.min_queries_met);
        assert_eq!(
            s.invalid_reason(),
            "The test exited early, before enough queries were issued."
        );
        assert_eq!(s.samples_per_second, 500.0);
        assert_eq!(s.result_metric(), ResultMetric::SamplesPerSecond(500.0));
        assert!(!keys(&s)
            .iter()
            .any(|k| k.contains("early_stopping_latency")));
    }

    #[test]
    fn server_latency_constraint_and_overlatency() {
        let mut st = settings(Scenario::Server);
        st.target_latency_ns = 990;
        let s = PerformanceSummary::new("sut", st.clone(), result(shuffled(1000), 2.0));
        // Latencies 991..=1000 are over the bound; the 99th percentile (991) too.
        assert_eq!(s.overlatency_query_count, 10);
        assert_eq!(
            s.perf_constraints_met(),
            (false, "Reduce target QPS to improve latency.".to_owned())
        );
        assert!(!s.early_stopping_met);
        assert!(s
            .early_stopping_recommendation
            .starts_with(" * Run unsuccessful.\n * Processed 1000 queries.\n"));
        assert_eq!(s.invalid_reason(), "Reduce target QPS to improve latency. ");
        assert_eq!(s.scheduled_samples_per_sec, 999.0 / 2.0);
        assert_eq!(keys(&s)[1], "result_perf_constraints_met");
        assert!(keys(&s).contains(&"result_overlatency_query_count".to_owned()));

        st.target_latency_ns = 991;
        let s = PerformanceSummary::new("sut", st, result(shuffled(1000), 2.0));
        assert!(s.perf_constraints_met);
        assert_eq!(s.overlatency_query_count, 9);
    }

    #[test]
    fn early_stopping_failure_alone_gives_an_empty_reason() {
        let st = settings(Scenario::SingleStream);
        let mut pr = result(shuffled(50), 2.0);
        pr.queries_issued = 200;
        let s = PerformanceSummary::new("sut", st, pr);
        assert!(s.early_stopping_met, "counts issued queries");
        let mut st = settings(Scenario::SingleStream);
        st.min_query_count = 10;
        st.min_sample_count = 10;
        let s = PerformanceSummary::new("sut", st, result(shuffled(50), 2.0));
        assert!(!s.early_stopping_met && !s.is_valid());
        assert_eq!(s.invalid_reason(), "");
        assert_eq!(s.early_stopping_latency_ss, 0);
    }

    #[test]
    fn multi_stream_reports_per_query_latencies() {
        let mut st = settings(Scenario::MultiStream);
        st.samples_per_query = 8;
        let queries = shuffled(700);
        let samples: Vec<Latency> = queries.iter().flat_map(|&q| [q - 1; 8]).collect();
        let pr = PerformanceResult {
            queries_issued: 700,
            query_latencies: queries,
            ..result(samples, 2.0)
        };
        let s = PerformanceSummary::new("sut", st, pr);
        assert_eq!(
            (
                s.query_latency_min,
                s.query_latency_max,
                s.query_latency_mean
            ),
            (1, 700, 350)
        );
        assert_eq!(s.target_latency_percentile.query_latency, 694);
        assert_eq!(s.result_metric(), ResultMetric::LatencyNs(694));
        assert_eq!(s.early_stopping_latency_ms, 700);
        assert_eq!(s.sample_count, 5600);
        assert_eq!(s.query_count, 700);
        let k = keys(&s);
        assert_eq!(k[6], "result_min_query_latency_ns");
        assert_eq!(k[9], "result_50.00_percentile_per_query_latency_ns");
        assert_eq!(k[15], "early_stopping_latency_ms");
    }

    fn token_run(st: &mut EffectiveSettings, tpot_over: usize) -> PerformanceResult {
        st.use_token_latencies = true;
        st.server_ttft_latency = 500;
        st.server_tpot_latency = 50;
        let mut tpot: Vec<Latency> = (0..1000).map(|i| i % 50).collect();
        for t in tpot.iter_mut().take(tpot_over) {
            *t = 60;
        }
        PerformanceResult {
            token_results: TokenPerformanceResults {
                first_token_latencies: shuffled(1000).iter().map(|l| l / 2).collect(),
                time_per_output_token: tpot,
                tokens_per_sample: (0..1000)
                    .map(|i| if i == 7 { i64::MIN } else { 3 })
                    .collect(),
            },
            ..result(shuffled(1000), 2.0)
        }
    }

    #[test]
    fn token_latencies() {
        let mut st = settings(Scenario::Server);
        st.target_latency_ns = 10_000;
        let pr = token_run(&mut st, 0);
        let s = PerformanceSummary::new("sut", st, pr);
        assert_eq!(s.token_count, 999 * 3, "unreported counts are skipped");
        assert_eq!(
            (s.first_token_latency_min, s.first_token_latency_max),
            (0, 500)
        );
        assert_eq!(s.first_token_latency_mean, 250);
        assert_eq!(s.token_target_latency_percentile.sample_latency, 495);
        assert_eq!(
            (s.time_per_output_token_min, s.time_per_output_token_max),
            (0, 49)
        );
        assert_eq!(s.time_per_output_token_mean, 24);
        assert!(s.is_valid(), "{}", s.early_stopping_tpot_recommendation);
        assert_eq!(s.early_stopping_ttft_recommendation, " * Run successful.");
        assert_eq!(s.completed_tokens_per_sec, 2997.0 / 2.0);
        assert_eq!(s.token_throughput_per_ns, 2997.0 / (500.0 * 1000.0));
        let k = keys(&s);
        assert!(k.contains(&"early_stopping_ttft_result".to_owned()));
        assert!(!k.contains(&"early_stopping_result".to_owned()));
        assert_eq!(
            k.last().map(String::as_str),
            Some("result_completed_tokens_per_second")
        );
    }

    #[test]
    fn token_constraints_and_early_stopping_short_circuit() {
        let mut st = settings(Scenario::Server);
        st.target_latency_ns = 10_000;
        let pr = token_run(&mut st, 20);
        st.server_ttft_latency = 400;
        let s = PerformanceSummary::new("sut", st, pr);
        assert_eq!(
            s.perf_constraints_met(),
            (
                false,
                "TTFT constrain not met: Reduce target QPS to improve latency.\n * TPOT constrain not met: Reduce target QPS to improve latency."
                    .to_owned()
            )
        );
        assert!(!s.early_stopping_met);
        assert!(s
            .early_stopping_tpot_recommendation
            .starts_with(" * Run unsuccessful."));
        assert_eq!(
            s.early_stopping_ttft_recommendation, "",
            "not evaluated after TPOT failed"
        );
        assert_eq!(
            value(&s, "result_invalid_reason"),
            "TTFT constrain not met: Reduce target QPS to improve latency.  * TPOT constrain not met: Reduce target QPS to improve latency. "
        );
    }

    #[test]
    fn inferred_tokens() {
        let mut st = settings(Scenario::Offline);
        st.infer_token_latencies = true;
        st.token_latency_scaling_factor = 10;
        let s = PerformanceSummary::new("sut", st, result(shuffled(1000), 2.0));
        assert_eq!(s.inferred_tokens_per_sec, 10_000.0 / 2.0);
        assert_eq!(
            keys(&s).last().map(String::as_str),
            Some("result_inferred_tokens_per_second")
        );
    }

    #[test]
    fn an_empty_run_does_not_panic() {
        for scenario in Scenario::ALL {
            let mut st = settings(scenario);
            st.use_token_latencies = true;
            let s = PerformanceSummary::new("sut", st, PerformanceResult::default());
            assert_eq!(
                (s.sample_count, s.query_count, s.sample_latency_max),
                (0, 0, 0)
            );
            assert!(!s.is_valid());
            assert!(!s.detail_events().is_empty());
        }
    }
}

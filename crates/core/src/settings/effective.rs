//! LoadGen's `TestSettingsInternal`: the settings a run actually uses, derived
//! from the requested [`TestSettings`] and the sample library's counts.
//!
//! The derivation is LoadGen 6.0.17's, quirks included (the Offline query
//! size, the SingleStream equal-issue rounding, the `min_query_count` of 1 in
//! Offline), because the run's schedule, sample sets and the detail log's
//! `effective_*` lines all follow from it.

use serde_json::Value;

use super::TestSettings;
use crate::log::event::DetailEvent;
use crate::{Mode, Scenario};

/// The reconciled settings of a run (LoadGen's `TestSettingsInternal`).
/// Durations are kept in LoadGen's units: latencies in ns, durations in ms.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EffectiveSettings {
    pub requested: TestSettings,
    pub scenario: Scenario,
    pub mode: Mode,
    pub samples_per_query: u64,
    pub target_qps: f64,
    pub target_latency_ns: i64,
    pub target_latency_percentile: f64,
    pub max_async_queries: u64,
    pub target_duration_ms: u64,
    pub min_duration_ms: u64,
    pub max_duration_ms: u64,
    pub min_query_count: u64,
    pub max_query_count: u64,
    /// Offline only.
    pub min_sample_count: u64,
    pub qsl_rng_seed: u64,
    pub sample_index_rng_seed: u64,
    pub schedule_rng_seed: u64,
    pub accuracy_log_rng_seed: u64,
    pub accuracy_log_probability: f64,
    pub accuracy_log_sampling_target: u64,
    pub print_timestamps: bool,
    pub performance_issue_unique: bool,
    pub performance_issue_same: bool,
    pub performance_issue_same_index: u64,
    pub performance_sample_count: u64,
    pub accuracy_sample_count: u64,
    pub sample_concatenate_permutation: bool,
    pub use_token_latencies: bool,
    pub server_ttft_latency: i64,
    pub server_tpot_latency: i64,
    pub infer_token_latencies: bool,
    pub token_latency_scaling_factor: i64,
    /// The sample library's own performance sample count (before
    /// `performance_sample_count_override`): LoadGen rounds the SingleStream
    /// equal-issue query count to a multiple of it.
    pub qsl_performance_sample_count: u64,
}

/// `1.1`: LoadGen sizes the Offline query so that at `target_qps` it takes
/// 10% longer than the minimum duration.
const OFFLINE_SLACK: f64 = 1.1;
/// `2.0`: for SingleStream with equal issue (`sample_concatenate_permutation`)
/// LoadGen plans twice the queries the minimum duration needs, as the latency
/// distributions of those models have long tails.
const EQUAL_ISSUE_SLACK: f64 = 2.0;

/// A rate LoadGen accepts: not negative, not NaN.
fn is_valid_rate(qps: f64) -> bool {
    qps >= 0.0
}

/// LoadGen's `DurationToSeconds` of a `std::chrono::milliseconds`.
fn ms_to_seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

impl EffectiveSettings {
    /// Derives the effective settings as LoadGen's `TestSettingsInternal`
    /// constructor does. Invalid requests are not refused (LoadGen goes on
    /// with a fallback and logs an error): see
    /// [`EffectiveSettings::construction_events`].
    ///
    /// The caller applies audit.config and the `test05` seed overrides to
    /// `requested` first, as LoadGen's `StartTest` does.
    pub fn new(
        requested: &TestSettings,
        qsl_performance_sample_count: usize,
        qsl_total_sample_count: usize,
    ) -> EffectiveSettings {
        let r = requested;
        let qsl_performance_sample_count = qsl_performance_sample_count as u64;
        let qsl_total_sample_count = qsl_total_sample_count as u64;

        let mut target_qps = 1.0;
        let mut target_latency_ns = 0;
        let (target_latency_percentile, max_async_queries) = match r.scenario {
            Scenario::SingleStream => {
                target_qps = 1e9 / r.single_stream_expected_latency_ns;
                (r.single_stream_target_latency_percentile, 1)
            }
            Scenario::MultiStream => {
                target_qps = 1e9 / r.multi_stream_expected_latency_ns;
                (r.multi_stream_target_latency_percentile, 1)
            }
            Scenario::Server => {
                // A negative (or NaN) rate keeps the default of 1.
                if is_valid_rate(r.server_target_qps) {
                    target_qps = r.server_target_qps;
                }
                target_latency_ns = r.server_target_latency_ns as i64;
                (
                    r.server_target_latency_percentile,
                    r.server_max_async_queries,
                )
            }
            Scenario::Offline => {
                if is_valid_rate(r.offline_expected_qps) {
                    target_qps = r.offline_expected_qps;
                }
                // Unused in Offline; LoadGen sets it to have a value.
                (0.99, 1)
            }
        };

        let performance_sample_count = match r.performance_sample_count_override {
            0 => qsl_performance_sample_count,
            n => n,
        };
        let accuracy_sample_count = match r.accuracy_sample_count_override {
            0 => qsl_total_sample_count,
            n => n,
        };

        let mut samples_per_query = match r.scenario {
            Scenario::MultiStream => r.multi_stream_samples_per_query,
            _ => 1,
        };
        let mut target_duration_ms = r.min_duration_ms;
        let mut min_query_count = r.min_query_count;

        // Offline issues one query holding every sample: enough for the
        // minimum duration at the expected rate, and at least
        // `min_query_count` samples (that key counts samples in Offline).
        if r.scenario == Scenario::Offline {
            let target_sample_count =
                (OFFLINE_SLACK * ms_to_seconds(target_duration_ms) * target_qps) as u64;
            samples_per_query = if r.performance_issue_unique {
                performance_sample_count
            } else {
                min_query_count.max(target_sample_count)
            };
            min_query_count = 1;
            target_duration_ms = 0;
        }

        // Equal issue in SingleStream: enough queries for the planned
        // duration, then made a multiple of the QSL's performance count so
        // every loaded sample is issued equally often. LoadGen adds a whole
        // count even when the number already is a multiple.
        if r.sample_concatenate_permutation && r.scenario == Scenario::SingleStream {
            let expected_queries =
                (EQUAL_ISSUE_SLACK * ms_to_seconds(target_duration_ms) * target_qps) as u64;
            min_query_count = min_query_count.max(expected_queries);
            // LoadGen divides by zero (and dies) for an empty performance
            // set; leave the count as is, `construction_events` reports it.
            if let Some(rem) = min_query_count.checked_rem(qsl_performance_sample_count) {
                min_query_count = min_query_count.wrapping_add(qsl_performance_sample_count - rem);
            }
        }

        let min_sample_count = min_query_count.wrapping_mul(samples_per_query);

        EffectiveSettings {
            requested: r.clone(),
            scenario: r.scenario,
            mode: r.mode,
            samples_per_query,
            target_qps,
            target_latency_ns,
            target_latency_percentile,
            max_async_queries,
            target_duration_ms,
            min_duration_ms: r.min_duration_ms,
            max_duration_ms: r.max_duration_ms,
            min_query_count,
            max_query_count: r.max_query_count,
            min_sample_count,
            qsl_rng_seed: r.qsl_rng_seed,
            sample_index_rng_seed: r.sample_index_rng_seed,
            schedule_rng_seed: r.schedule_rng_seed,
            accuracy_log_rng_seed: r.accuracy_log_rng_seed,
            accuracy_log_probability: r.accuracy_log_probability,
            accuracy_log_sampling_target: r.accuracy_log_sampling_target,
            print_timestamps: r.print_timestamps,
            performance_issue_unique: r.performance_issue_unique,
            performance_issue_same: r.performance_issue_same,
            performance_issue_same_index: r.performance_issue_same_index,
            performance_sample_count,
            accuracy_sample_count,
            sample_concatenate_permutation: r.sample_concatenate_permutation,
            use_token_latencies: r.use_token_latencies,
            server_ttft_latency: r.server_ttft_latency as i64,
            server_tpot_latency: r.server_tpot_latency as i64,
            infer_token_latencies: r.infer_token_latencies,
            token_latency_scaling_factor: r.token_latency_scaling_factor as i64,
            qsl_performance_sample_count,
        }
    }

    /// The errors LoadGen's constructor logs (`error_invalid_test_settings`,
    /// with LoadGen's message text), in its order. They come before
    /// [`EffectiveSettings::log_events`] in the detail log.
    pub fn construction_events(&self) -> Vec<DetailEvent> {
        const KEY: &str = "error_invalid_test_settings";
        let r = &self.requested;
        let mut events = Vec::new();
        let mut invalid_rate = |name: &str, requested: f64| {
            events.push(DetailEvent::error(
                KEY,
                format!(
                    "Invalid value for {name} requested. requested: {} using: {}",
                    cpp_double_to_string(requested),
                    cpp_double_to_string(self.target_qps)
                ),
            ));
        };
        match self.scenario {
            Scenario::Server if !is_valid_rate(r.server_target_qps) => {
                invalid_rate("server_target_qps", r.server_target_qps)
            }
            Scenario::Offline if !is_valid_rate(r.offline_expected_qps) => {
                invalid_rate("offline_expected_qps", r.offline_expected_qps)
            }
            _ => {}
        }
        if self.sample_concatenate_permutation
            && self.scenario == Scenario::SingleStream
            && self.qsl_performance_sample_count == 0
        {
            // Not in LoadGen, which divides by zero here.
            events.push(DetailEvent::error(
                KEY,
                "sample_concatenate_permutation in SingleStream needs a non-empty \
                 performance sample set; min_query_count was not rounded",
            ));
        }
        if r.performance_issue_same
            && r.performance_issue_same_index >= self.performance_sample_count
        {
            events.push(DetailEvent::error(
                KEY,
                format!(
                    "Sample Idx to be repeated in performance_issue_same mode cannot be greater \
                     than loaded performance_sample_count. performance_issue_same_index: {} \
                     performance_sample_count: {}",
                    r.performance_issue_same_index, self.performance_sample_count
                ),
            ));
        }
        if r.performance_issue_unique && r.performance_issue_same {
            // C++ streams print these booleans as 1.
            events.push(DetailEvent::error(
                KEY,
                "Performance_issue_unique and performance_issue_same, both cannot be true at \
                 the same time. performance_issue_unique: 1 performance_issue_same: 1",
            ));
        }
        events
    }

    /// Every `requested_*` then every `effective_*` detail-log event, in
    /// LoadGen's order and with its value types: LoadGen's `double` fields
    /// are JSON floats (a sink renders them as C++ streams do, see
    /// [`cpp_double_to_string`]), its integer fields JSON integers.
    pub fn log_events(&self) -> Vec<DetailEvent> {
        let mut events = requested_events(&self.requested);
        events.extend(self.effective_events());
        events
    }

    fn effective_events(&self) -> Vec<DetailEvent> {
        let s = self;
        [
            ("effective_scenario", Value::from(s.scenario.as_str())),
            ("effective_test_mode", Value::from(s.mode.as_str())),
            (
                "effective_samples_per_query",
                Value::from(s.samples_per_query),
            ),
            ("effective_target_qps", Value::from(s.target_qps)),
            (
                "effective_target_latency_ns",
                Value::from(s.target_latency_ns),
            ),
            (
                "effective_target_latency_percentile",
                Value::from(s.target_latency_percentile),
            ),
            (
                "effective_max_async_queries",
                Value::from(s.max_async_queries),
            ),
            (
                "effective_target_duration_ms",
                Value::from(s.target_duration_ms),
            ),
            ("effective_min_duration_ms", Value::from(s.min_duration_ms)),
            ("effective_max_duration_ms", Value::from(s.max_duration_ms)),
            ("effective_min_query_count", Value::from(s.min_query_count)),
            ("effective_max_query_count", Value::from(s.max_query_count)),
            (
                "effective_min_sample_count",
                Value::from(s.min_sample_count),
            ),
            ("effective_qsl_rng_seed", Value::from(s.qsl_rng_seed)),
            (
                "effective_sample_index_rng_seed",
                Value::from(s.sample_index_rng_seed),
            ),
            (
                "effective_schedule_rng_seed",
                Value::from(s.schedule_rng_seed),
            ),
            (
                "effective_accuracy_log_rng_seed",
                Value::from(s.accuracy_log_rng_seed),
            ),
            (
                "effective_accuracy_log_probability",
                Value::from(s.accuracy_log_probability),
            ),
            (
                "effective_accuracy_log_sampling_target",
                Value::from(s.accuracy_log_sampling_target),
            ),
            (
                "effective_print_timestamps",
                Value::from(s.print_timestamps),
            ),
            (
                "effective_performance_issue_unique",
                Value::from(s.performance_issue_unique),
            ),
            (
                "effective_performance_issue_same",
                Value::from(s.performance_issue_same),
            ),
            (
                "effective_performance_issue_same_index",
                Value::from(s.performance_issue_same_index),
            ),
            (
                "effective_performance_sample_count",
                Value::from(s.performance_sample_count),
            ),
            (
                "effective_accuracy_sample_count",
                Value::from(s.accuracy_sample_count),
            ),
            (
                "effective_sample_concatenate_permutation",
                Value::from(s.sample_concatenate_permutation),
            ),
        ]
        .into_iter()
        .map(|(key, value)| DetailEvent::new(key, value))
        .collect()
    }
}

/// LoadGen's `LogRequestedTestSettings`: the scenario's own fields, then the
/// common ones, then the token-latency targets when they are used.
fn requested_events(s: &TestSettings) -> Vec<DetailEvent> {
    let mut kv: Vec<(&'static str, Value)> = vec![
        ("requested_scenario", Value::from(s.scenario.as_str())),
        ("requested_test_mode", Value::from(s.mode.as_str())),
    ];
    match s.scenario {
        Scenario::SingleStream => kv.extend([
            (
                "requested_single_stream_expected_latency_ns",
                Value::from(s.single_stream_expected_latency_ns),
            ),
            (
                "requested_single_stream_target_latency_percentile",
                Value::from(s.single_stream_target_latency_percentile),
            ),
        ]),
        Scenario::MultiStream => kv.extend([
            (
                "requested_multi_stream_expected_latency_ns",
                Value::from(s.multi_stream_expected_latency_ns),
            ),
            (
                "requested_multi_stream_target_latency_percentile",
                Value::from(s.multi_stream_target_latency_percentile),
            ),
            (
                "requested_multi_stream_samples_per_query",
                Value::from(s.multi_stream_samples_per_query),
            ),
        ]),
        Scenario::Server => kv.extend([
            (
                "requested_server_target_qps",
                Value::from(s.server_target_qps),
            ),
            (
                "requested_server_target_latency_ns",
                Value::from(s.server_target_latency_ns),
            ),
            (
                "requested_server_target_latency_percentile",
                Value::from(s.server_target_latency_percentile),
            ),
            (
                "requested_server_coalesce_queries",
                Value::from(s.server_coalesce_queries),
            ),
            (
                "requested_server_find_peak_qps_decimals_of_precision",
                Value::from(s.server_find_peak_qps_decimals_of_precision),
            ),
            (
                "requested_server_find_peak_qps_boundary_step_size",
                Value::from(s.server_find_peak_qps_boundary_step_size),
            ),
            (
                "requested_server_max_async_queries",
                Value::from(s.server_max_async_queries),
            ),
            (
                "requested_server_num_issue_query_threads",
                Value::from(s.server_num_issue_query_threads),
            ),
        ]),
        Scenario::Offline => kv.push((
            "requested_offline_expected_qps",
            Value::from(s.offline_expected_qps),
        )),
    }
    kv.extend([
        ("requested_min_duration_ms", Value::from(s.min_duration_ms)),
        ("requested_max_duration_ms", Value::from(s.max_duration_ms)),
        ("requested_min_query_count", Value::from(s.min_query_count)),
        ("requested_max_query_count", Value::from(s.max_query_count)),
        ("requested_qsl_rng_seed", Value::from(s.qsl_rng_seed)),
        (
            "requested_sample_index_rng_seed",
            Value::from(s.sample_index_rng_seed),
        ),
        (
            "requested_schedule_rng_seed",
            Value::from(s.schedule_rng_seed),
        ),
        (
            "requested_accuracy_log_rng_seed",
            Value::from(s.accuracy_log_rng_seed),
        ),
        (
            "requested_accuracy_log_probability",
            Value::from(s.accuracy_log_probability),
        ),
        (
            "requested_accuracy_log_sampling_target",
            Value::from(s.accuracy_log_sampling_target),
        ),
        (
            "requested_print_timestamps",
            Value::from(s.print_timestamps),
        ),
        (
            "requested_performance_issue_unique",
            Value::from(s.performance_issue_unique),
        ),
        (
            "requested_performance_issue_same",
            Value::from(s.performance_issue_same),
        ),
        (
            "requested_performance_issue_same_index",
            Value::from(s.performance_issue_same_index),
        ),
        (
            "requested_performance_sample_count_override",
            Value::from(s.performance_sample_count_override),
        ),
        (
            "requested_accuracy_sample_count_override",
            Value::from(s.accuracy_sample_count_override),
        ),
        (
            "requested_sample_concatenate_permutation",
            Value::from(s.sample_concatenate_permutation),
        ),
    ]);
    if s.use_token_latencies {
        kv.push(("requested_use_token_latencies", Value::from(true)));
        // Logged for SingleStream and MultiStream too, despite the names.
        if s.scenario != Scenario::Offline {
            kv.push((
                "requested_server_ttft_latency",
                Value::from(s.server_ttft_latency),
            ));
            kv.push((
                "requested_server_tpot_latency",
                Value::from(s.server_tpot_latency),
            ));
        }
    }
    kv.into_iter()
        .map(|(key, value)| DetailEvent::new(key, value))
        .collect()
}

/// A `double` as a default-formatted C++ `std::ostream` writes it (`%g`: six
/// significant digits, trailing zeros dropped, exponent form outside
/// 1e-4..1e6), which is how LoadGen's detail log renders every `double`
/// value and message: `1e+06`, `0.99`, `20000`, `666.667`.
pub fn cpp_double_to_string(v: f64) -> String {
    const PRECISION: i32 = 6;
    if v.is_nan() {
        return if v.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if v.is_infinite() {
        return if v < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    // The exponent after rounding to six significant digits decides the
    // form, as in C's %g.
    let scientific = format!("{:.*e}", (PRECISION - 1) as usize, v);
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if (-4..PRECISION).contains(&exponent) {
        let fixed = format!("{:.*}", (PRECISION - 1 - exponent) as usize, v);
        trim_fraction(&fixed).to_string()
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim_fraction(mantissa), exponent.abs())
    }
}

/// Drops trailing zeros of a fraction, and the point if nothing is left.
fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn settings(scenario: Scenario) -> TestSettings {
        TestSettings {
            scenario,
            ..TestSettings::default()
        }
    }

    #[test]
    fn cpp_double_formatting() {
        for (v, s) in [
            (1e6, "1e+06"),
            (0.99, "0.99"),
            (0.9, "0.9"),
            (20000.0, "20000"),
            (1000.0, "1000"),
            (0.0, "0"),
            (1.0, "1"),
            (2000.0 / 3.0, "666.667"),
            (123456.0, "123456"),
            (1234567.0, "1.23457e+06"),
            (999999.5, "1e+06"),
            (0.0001, "0.0001"),
            (0.00001234, "1.234e-05"),
            (-2.5, "-2.5"),
            (0.1 + 0.2, "0.3"),
            (99.9 * 0.01, "0.999"),
            (1.5e300, "1.5e+300"),
            (f64::INFINITY, "inf"),
        ] {
            assert_eq!(cpp_double_to_string(v), s, "{v:e}");
        }
    }

    #[test]
    fn single_and_multi_stream_rates_come_from_expected_latency() {
        let mut r = settings(Scenario::SingleStream);
        r.single_stream_expected_latency_ns = 4e6;
        let e = EffectiveSettings::new(&r, 10, 20);
        assert_eq!(
            (e.target_qps, e.max_async_queries, e.samples_per_query),
            (250.0, 1, 1)
        );
        assert_eq!(e.target_latency_ns, 0);
        assert_eq!(e.target_latency_percentile, 0.9);
        assert_eq!(
            (e.performance_sample_count, e.accuracy_sample_count),
            (10, 20)
        );
        assert_eq!(e.target_duration_ms, r.min_duration_ms);

        let mut r = settings(Scenario::MultiStream);
        r.multi_stream_samples_per_query = 3;
        r.min_query_count = 5;
        let e = EffectiveSettings::new(&r, 10, 20);
        assert_eq!(
            (e.target_qps, e.samples_per_query, e.min_sample_count),
            (125.0, 3, 15)
        );
    }

    #[test]
    fn server_settings_and_invalid_rate() {
        let mut r = settings(Scenario::Server);
        r.server_target_qps = 50.5;
        r.server_max_async_queries = 7;
        r.performance_sample_count_override = 4;
        r.accuracy_sample_count_override = 6;
        let e = EffectiveSettings::new(&r, 10, 20);
        assert_eq!(
            (e.target_qps, e.target_latency_ns, e.max_async_queries),
            (50.5, 100_000_000, 7)
        );
        assert_eq!(
            (e.performance_sample_count, e.accuracy_sample_count),
            (4, 6)
        );
        assert!(e.construction_events().is_empty());

        r.server_target_qps = -3.0;
        let e = EffectiveSettings::new(&r, 10, 20);
        assert_eq!(e.target_qps, 1.0);
        let events = e.construction_events();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].key, "error_invalid_test_settings");
        assert_eq!(events[0].severity, crate::log::Severity::Error);
        assert_eq!(
            events[0].value,
            "Invalid value for server_target_qps requested. requested: -3 using: 1"
        );
    }

    #[test]
    fn offline_issues_one_query_of_enough_samples() {
        let mut r = settings(Scenario::Offline);
        r.offline_expected_qps = 1000.0;
        r.min_duration_ms = 2000;
        r.min_query_count = 100;
        let e = EffectiveSettings::new(&r, 10, 20);
        // 1.1 * 2 s * 1000/s
        assert_eq!(e.samples_per_query, 2200);
        assert_eq!(
            (e.min_query_count, e.min_sample_count, e.target_duration_ms),
            (1, 2200, 0)
        );
        assert_eq!(
            (e.target_latency_percentile, e.max_async_queries),
            (0.99, 1)
        );
        assert_eq!(e.min_duration_ms, 2000);

        r.min_query_count = 5000;
        assert_eq!(EffectiveSettings::new(&r, 10, 20).samples_per_query, 5000);
        r.performance_issue_unique = true;
        assert_eq!(EffectiveSettings::new(&r, 10, 20).samples_per_query, 10);

        r.offline_expected_qps = -1.0;
        let events = EffectiveSettings::new(&r, 10, 20).construction_events();
        assert_eq!(events.len(), 1);
        assert!(events[0]
            .value
            .as_str()
            .unwrap_or("")
            .contains("offline_expected_qps"));
    }

    #[test]
    fn single_stream_equal_issue_rounds_to_the_qsl_performance_count() {
        let mut r = settings(Scenario::SingleStream);
        r.sample_concatenate_permutation = true;
        r.single_stream_expected_latency_ns = 1e6; // 1000 qps
        r.min_duration_ms = 1000;
        r.min_query_count = 100;
        r.performance_sample_count_override = 7; // not what is rounded to
                                                 // 2.0 * 1 s * 1000/s = 2000, rounded up past a multiple of 300.
        let e = EffectiveSettings::new(&r, 300, 300);
        assert_eq!(e.min_query_count, 2100);
        assert_eq!(e.min_sample_count, 2100);
        // An exact multiple still gets a whole count more.
        let e = EffectiveSettings::new(&r, 250, 300);
        assert_eq!(e.min_query_count, 2250);
        // Only SingleStream.
        r.scenario = Scenario::Server;
        assert_eq!(EffectiveSettings::new(&r, 300, 300).min_query_count, 100);
        // An empty performance set is reported, not a crash.
        r.scenario = Scenario::SingleStream;
        r.performance_sample_count_override = 0;
        let e = EffectiveSettings::new(&r, 0, 300);
        assert_eq!(e.min_query_count, 2000);
        assert_eq!(e.construction_events().len(), 1);
    }

    #[test]
    fn issue_mode_conflicts_are_reported() {
        let mut r = settings(Scenario::SingleStream);
        r.performance_issue_same = true;
        r.performance_issue_same_index = 10;
        r.performance_issue_unique = true;
        let events = EffectiveSettings::new(&r, 10, 20).construction_events();
        let values: Vec<&str> = events.iter().filter_map(|e| e.value.as_str()).collect();
        assert_eq!(values.len(), 2);
        assert!(
            values[0].ends_with("performance_issue_same_index: 10 performance_sample_count: 10")
        );
        assert!(values[1].ends_with("performance_issue_unique: 1 performance_issue_same: 1"));
    }

    #[test]
    fn token_latency_targets_are_logged_outside_offline() {
        let mut r = settings(Scenario::SingleStream);
        r.use_token_latencies = true;
        let keys = |r: &TestSettings| -> Vec<String> {
            EffectiveSettings::new(r, 1, 1)
                .log_events()
                .iter()
                .map(|e| e.key.to_string())
                .filter(|k| k.contains("token") || k.contains("ttft") || k.contains("tpot"))
                .collect()
        };
        assert_eq!(
            keys(&r),
            [
                "requested_use_token_latencies",
                "requested_server_ttft_latency",
                "requested_server_tpot_latency"
            ]
        );
        r.scenario = Scenario::Offline;
        assert_eq!(keys(&r), ["requested_use_token_latencies"]);
        r.use_token_latencies = false;
        assert!(keys(&r).is_empty());
    }

    // -- Golden: the official LoadGen's own detail logs ----------------------

    fn golden_root() -> PathBuf {
        let root =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/golden/loadgen-6.0.17");
        assert!(
            root.is_dir(),
            "golden LoadGen outputs not found at {} (expected /work/shared/golden beside the \
             repository checkout)",
            root.display()
        );
        root
    }

    /// The value text LoadGen would write for one of our values.
    fn render(value: &Value) -> String {
        match value {
            Value::Number(n) if n.is_f64() => cpp_double_to_string(n.as_f64().unwrap_or(f64::NAN)),
            other => other.to_string(),
        }
    }

    /// `(key, value text)` of every `requested_*`/`effective_*` line.
    fn golden_lines(detail: &str) -> Vec<(String, String)> {
        detail
            .lines()
            .filter_map(|line| {
                let rest = line.strip_prefix(":::MLLOG {\"key\": \"")?;
                let (key, rest) = rest.split_once("\", \"value\": ")?;
                if !(key.starts_with("requested_") || key.starts_with("effective_")) {
                    return None;
                }
                let (value, _) = rest.split_once(", \"time_ms\": ")?;
                Some((key.to_string(), value.to_string()))
            })
            .collect()
    }

    /// Builds the requested settings of a case as gen.py does.
    fn case_settings(case: &Value) -> TestSettings {
        let field = |name: &str| {
            case.get(name)
                .unwrap_or_else(|| panic!("case.json lacks `{name}`"))
        };
        let scenario: Scenario = field("scenario")
            .as_str()
            .expect("scenario is a string")
            .parse()
            .expect("scenario");
        let mode: Mode = field("mode")
            .as_str()
            .expect("mode is a string")
            .parse()
            .expect("mode");
        let mut settings = match case.get("model").and_then(Value::as_str) {
            Some(model) => {
                let lines: Vec<&str> = case
                    .get("user_conf")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .map(|l| l.as_str().expect("user_conf lines are strings"))
                            .collect()
                    })
                    .unwrap_or_default();
                let text = lines.join("\n") + "\n";
                let (settings, warnings) =
                    TestSettings::from_config("user.conf", &text, model, scenario.as_str())
                        .unwrap_or_else(|e| panic!("{e}"));
                assert!(warnings.is_empty(), "{warnings:?}");
                settings
            }
            None => TestSettings::default(),
        };
        if let Some(overrides) = case.get("settings").and_then(Value::as_object) {
            let mut json = serde_json::to_value(&settings).expect("settings serialize");
            for (name, value) in overrides {
                // The Python binding's names for two fields.
                let name = match name.as_str() {
                    "ttft_latency" => "server_ttft_latency",
                    "tpot_latency" => "server_tpot_latency",
                    other => other,
                };
                assert!(
                    json.get(name).is_some(),
                    "unknown TestSettings field `{name}`"
                );
                json[name] = value.clone();
            }
            settings = serde_json::from_value(json).expect("case settings fit TestSettings");
        }
        settings.scenario = scenario;
        settings.mode = mode;
        settings
    }

    #[test]
    fn golden_requested_and_effective_settings_match_loadgen() {
        let mut cases: Vec<PathBuf> = std::fs::read_dir(golden_root())
            .expect("golden dir is readable")
            .map(|entry| entry.expect("golden dir entry").path())
            .filter(|p| p.join("case.json").is_file())
            .collect();
        cases.sort();
        assert!(!cases.is_empty(), "no golden cases");
        for dir in cases {
            let name = dir.display();
            let case: Value = serde_json::from_str(
                &std::fs::read_to_string(dir.join("case.json")).expect("case.json"),
            )
            .expect("case.json is JSON");
            let detail =
                std::fs::read_to_string(dir.join("mlperf_log_detail.txt")).expect("detail log");
            let count = |k: &str| {
                case.get(k)
                    .and_then(Value::as_u64)
                    .unwrap_or_else(|| panic!("{name}: `{k}`")) as usize
            };

            let requested = case_settings(&case);
            let effective = EffectiveSettings::new(&requested, count("perf"), count("total"));
            assert!(effective.construction_events().is_empty(), "{name}");
            let ours: Vec<(String, String)> = effective
                .log_events()
                .iter()
                .map(|e| (e.key.to_string(), render(&e.value)))
                .collect();
            let theirs = golden_lines(&detail);
            assert!(!theirs.is_empty(), "{name}: no settings lines");
            assert_eq!(ours, theirs, "{name}");
        }
    }
}

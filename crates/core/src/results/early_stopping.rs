//! Early stopping: how many queries a run needs before a latency percentile
//! can be claimed with 99% confidence, and the percentile estimate it allows.
//!
//! A run that processed `h` queries under the latency bound and `t` over it
//! passes at percentile `p` when, were the true over-latency rate exactly
//! `1 - p`, seeing `t` or fewer over-latency queries among `h + t` would be
//! less likely than `1 - confidence`. That probability is the binomial CDF,
//! computed as a regularized incomplete beta function (see [`odds`]).
//!
//! Everything here reproduces LoadGen's `early_stopping.cc` and
//! `PerformanceSummary::EarlyStopping` operation for operation, including
//! the integer/double conversions, the binary search bounds derived from
//! earlier answers (they can change the answer, so they are part of the
//! semantics) and the `lgamma` of the C library: a different `lgamma` could
//! move a query count by one where the odds sit right at the threshold.

use std::collections::BTreeMap;

use super::Latency;
use crate::Scenario;

/// Confidence LoadGen requires of an early-stopping estimate.
pub const CONFIDENCE: f64 = 0.99;

/// Tolerance LoadGen allows between the claimed and the true percentile.
pub const TOLERANCE: f64 = 0.0;

/// SingleStream runs also report an estimate at this percentile, from which
/// a MultiStream result can be inferred (LoadGen hardcodes it too).
pub const MULTI_STREAM_PERCENTILE: f64 = 0.99;

/// The series in [`hypergeometric_2f1_a1`] stops once a term is this small.
const SERIES_TOLERANCE: f64 = 1.0 / (1u64 << 33) as f64;

/// `ln |Γ(x)|` from the platform's C library, as LoadGen's `std::lgamma`.
///
/// Rust's standard library has no stable `lgamma`, and a pure-Rust port
/// (musl's, say) does not round every argument as glibc does. The reentrant
/// variant is used because plain `lgamma` writes the global `signgam`.
fn ln_gamma(x: f64) -> f64 {
    #[cfg(unix)]
    {
        extern "C" {
            fn lgamma_r(x: f64, sign: *mut std::os::raw::c_int) -> f64;
        }
        let mut sign: std::os::raw::c_int = 0;
        // SAFETY: `lgamma_r` is a pure function of `x` that only writes the
        // sign of Γ(x) through the pointer, which is valid for the call.
        unsafe { lgamma_r(x, &mut sign) }
    }
    #[cfg(not(unix))]
    {
        extern "C" {
            fn lgamma(x: f64) -> f64;
        }
        // SAFETY: `lgamma` only reads its argument (and sets `signgam`,
        // which nothing in this program reads).
        unsafe { lgamma(x) }
    }
}

/// `ln B(x, y)`.
fn ln_beta(x: i64, y: i64) -> f64 {
    ln_gamma(x as f64) + ln_gamma(y as f64) - ln_gamma(x.wrapping_add(y) as f64)
}

/// The Gauss hypergeometric function `2F1(1, b; c; x)` by its defining
/// series (DLMF 15.2.1). With `b <= 0` the series is a polynomial, so it
/// terminates even for the large negative `x` used here.
fn hypergeometric_2f1_a1(b: i64, c: i64, x: f64) -> f64 {
    let mut term: f64 = 1.0;
    let mut result = 1.0;
    let mut i: i64 = 0;
    while term.abs() > SERIES_TOLERANCE {
        term *= b.wrapping_add(i) as f64 * x / c.wrapping_add(i) as f64;
        result += term;
        i += 1;
    }
    result
}

/// The regularized incomplete beta function `I_x(a, b)`, via DLMF 15.8.1
/// (a Pfaff transformation) so that the hypergeometric series is finite.
fn beta_regularized(x: f64, a: i64, b: i64) -> f64 {
    (a as f64 * x.ln() + b.wrapping_sub(1) as f64 * (1.0 - x).ln() - ln_beta(a, b)).exp() / a as f64
        * hypergeometric_2f1_a1(1i64.wrapping_sub(b), 1i64.wrapping_add(a), x / (x - 1.0))
}

/// Probability of seeing `t` or fewer over-latency queries among `h + t`
/// when each query is under latency with probability `p - d`: the binomial
/// CDF, `I_{p-d}(h, t + 1)`.
pub fn odds(h: i64, t: i64, p: f64, d: f64) -> f64 {
    beta_regularized(p - d, h, t.wrapping_add(1))
}

/// Smallest `h` in `[min_h, max_h]` with `odds(h, t, p, d) < 1 - c`, by
/// binary search (the odds fall as `h` grows); `max_h` if none is.
fn find_min_passing(mut min_h: i64, max_h: i64, t: i64, p: f64, d: f64, c: f64) -> i64 {
    let mut count = max_h.wrapping_sub(min_h);
    while count > 0 {
        let step = count / 2;
        let h = min_h + step;
        if odds(h, t, p, d) < 1.0 - c {
            count = step;
        } else {
            min_h = h + 1;
            count -= step + 1;
        }
    }
    min_h
}

/// The bit pattern of a cache key component; `-0.0` and `0.0` are one key,
/// as they compare equal in LoadGen's `std::map` of doubles.
fn key_bits(v: f64) -> u64 {
    (v + 0.0).to_bits()
}

/// LoadGen's `MinPassingQueriesFinder`: the minimum number of under-latency
/// queries that lets a run with `t` over-latency queries pass.
///
/// It remembers earlier answers per `(p, d, c)` and uses the two nearest
/// smaller `t` to bound the binary search of the next one. Those bounds are
/// heuristics that can exclude the true minimum, so a finder's answers
/// depend on what it was asked before: use one finder per estimate, in the
/// same order as LoadGen, to get LoadGen's numbers.
#[derive(Debug, Clone, Default)]
pub struct MinPassingQueriesFinder {
    caches: BTreeMap<[u64; 3], BTreeMap<i64, i64>>,
}

impl MinPassingQueriesFinder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The minimum `h` with `odds(h, t, p, d) < 1 - c` (within the search
    /// bounds described on the type), for `t` over-latency queries at
    /// percentile `p`, tolerance `d` and confidence `c`.
    pub fn min_passing(&mut self, t: i64, p: f64, d: f64, c: f64) -> i64 {
        let cache = self
            .caches
            .entry([key_bits(p), key_bits(d), key_bits(c)])
            .or_default();
        if let Some(&h) = cache.get(&t) {
            return h;
        }

        // Bound the answer by extrapolating from the two largest cached
        // points below `t`, or from (-1, 0) and the `t = 0` answer for a
        // well-behaved tail (`(p - d)^h < 1 - c`).
        let mut below = cache.range(..t).rev();
        let (mut x0, mut y0) = (-1i64, 0i64);
        let (mut x1, mut y1) = (0i64, ((1.0 - c).ln() / (p - d).ln()).ceil() as i64);
        if let Some((&x, &y)) = below.next() {
            (x1, y1) = (x, y);
            if let Some((&x, &y)) = below.next() {
                (x0, y0) = (x, y);
            }
        }

        let min_slope = (p - d) / (1.0 - p + d);
        // LoadGen multiplies where a slope would divide; it only widens the
        // upper bound, and the bound is part of the result, so keep it.
        let max_slope = y1.wrapping_sub(y0).wrapping_mul(x1.wrapping_sub(x0)) as f64;
        let dt = t.wrapping_sub(x1) as f64;
        let min_h = (dt * min_slope + y1 as f64) as i64;
        let max_h = (dt * max_slope + y1 as f64 + 1.0) as i64;
        let h = find_min_passing(min_h, max_h, t, p, d, c);
        cache.insert(t, h);
        h
    }
}

/// The minimum number of queries a SingleStream or MultiStream run needs
/// for an early-stopping estimate at percentile `p`: one over-latency query
/// (the slowest, which is the estimate) plus the under-latency queries that
/// make that pass.
pub fn min_queries_for_estimate(p: f64) -> i64 {
    MinPassingQueriesFinder::new().min_passing(1, p, TOLERANCE, CONFIDENCE) + 1
}

/// What one early-stopping evaluation concluded, LoadGen's
/// `PerformanceSummary::EarlyStopping`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EarlyStoppingOutcome {
    /// Whether enough queries were processed (SingleStream, MultiStream) or
    /// few enough were over latency (Server). Always true for Offline.
    pub met: bool,
    /// The explanation printed under "Early Stopping Result:", lines joined
    /// with `\n`; empty for Offline.
    pub recommendation: String,
    /// SingleStream: the latency estimate at the target percentile.
    pub latency_ss: Option<Latency>,
    /// SingleStream: the estimate at [`MULTI_STREAM_PERCENTILE`], when
    /// enough queries were processed for it; MultiStream: the per-query
    /// latency estimate at the target percentile.
    pub latency_ms: Option<Latency>,
}

/// How many of the highest latencies a stream scenario run must discard,
/// one more than LoadGen's "Would discard" count: the estimate is the
/// `t`-th largest latency. `Err(h_min)` when even `t = 1` needs more than
/// `queries_issued` queries (`h_min + 1` are needed).
fn stream_estimate_rank(
    finder: &mut MinPassingQueriesFinder,
    queries_issued: i64,
    p: f64,
) -> Result<(i64, i64), i64> {
    let h_min = finder.min_passing(1, p, TOLERANCE, CONFIDENCE);
    if queries_issued < h_min + 1 {
        return Err(h_min);
    }
    let mut t = 1;
    for i in 2..queries_issued.saturating_add(1) {
        let h = finder.min_passing(i, p, TOLERANCE, CONFIDENCE);
        if queries_issued < h.saturating_add(i) {
            t = i - 1;
            break;
        }
    }
    Ok((h_min, t))
}

/// The `t`-th largest of the first `queries_issued` sorted latencies.
///
/// LoadGen indexes `latencies[queries_issued - t]` unchecked; the run always
/// has one latency per query there, so the clamp only keeps malformed input
/// from panicking.
fn estimate_at(sorted: &[Latency], queries_issued: i64, t: i64) -> Latency {
    let idx = usize::try_from(queries_issued - t).unwrap_or(0);
    sorted.get(idx).or(sorted.last()).copied().unwrap_or(0)
}

/// LoadGen's percentile text: one decimal, `90.0`.
fn percent1(p: f64) -> String {
    format!("{:.1}", p * 100.0)
}

/// Early stopping for one latency distribution.
///
/// `sorted_sample_latencies` (ascending) is what SingleStream estimates from
/// and Server counts over-latency queries in; `sorted_query_latencies`
/// (ascending) is what MultiStream estimates from. `target_percentile` is
/// the settings' target latency percentile, `target_latency_ns` the Server
/// latency bound.
pub fn evaluate(
    scenario: Scenario,
    target_percentile: f64,
    queries_issued: i64,
    sorted_sample_latencies: &[Latency],
    sorted_query_latencies: &[Latency],
    target_latency_ns: i64,
) -> EarlyStoppingOutcome {
    let mut finder = MinPassingQueriesFinder::new();
    let mut out = EarlyStoppingOutcome {
        met: true,
        ..Default::default()
    };
    let not_enough = |h_min: i64| {
        format!(
            " * Only processed {queries_issued} queries.\n * Need to process at least {} queries for early stopping.",
            h_min + 1
        )
    };
    match scenario {
        Scenario::SingleStream | Scenario::MultiStream => {
            let (h_min, t) =
                match stream_estimate_rank(&mut finder, queries_issued, target_percentile) {
                    Ok(found) => found,
                    Err(h_min) => {
                        out.met = false;
                        out.recommendation = not_enough(h_min);
                        return out;
                    }
                };
            let latencies = match scenario {
                Scenario::SingleStream => sorted_sample_latencies,
                _ => sorted_query_latencies,
            };
            let estimate = estimate_at(latencies, queries_issued, t);
            out.recommendation = format!(
                " * Processed at least {} queries ({queries_issued}).\n * Would discard {} highest latency queries.\n * Early stopping {}th percentile estimate: {estimate}",
                h_min + 1,
                t - 1,
                percent1(target_percentile),
            );
            if scenario == Scenario::MultiStream {
                out.latency_ms = Some(estimate);
                return out;
            }
            out.latency_ss = Some(estimate);

            match stream_estimate_rank(&mut finder, queries_issued, MULTI_STREAM_PERCENTILE) {
                Ok((_, t)) => {
                    let estimate = estimate_at(sorted_sample_latencies, queries_issued, t);
                    out.recommendation.push_str(&format!(
                        "\n * Early stopping {}th percentile estimate: {estimate}",
                        percent1(MULTI_STREAM_PERCENTILE)
                    ));
                    out.latency_ms = Some(estimate);
                }
                Err(h_min) => out.recommendation.push_str(&format!(
                    "\n * Not enough queries processed for {}th percentile\n early stopping estimate (would need to process at\n least {} total queries).",
                    percent1(MULTI_STREAM_PERCENTILE),
                    h_min + 1
                )),
            }
        }
        Scenario::Server => {
            let over = sorted_sample_latencies
                .iter()
                .filter(|&&l| l > target_latency_ns)
                .count();
            let t = i64::try_from(over).unwrap_or(i64::MAX);
            let h = finder.min_passing(t, target_percentile, TOLERANCE, CONFIDENCE);
            if queries_issued >= h.saturating_add(t) {
                out.recommendation = " * Run successful.".to_owned();
            } else {
                out.met = false;
                out.recommendation = format!(
                    " * Run unsuccessful.\n * Processed {queries_issued} queries.\n * Would need to run at least {} more queries,\n with the run being successful if every additional\n query were under latency.",
                    h.saturating_add(t) - queries_issued
                );
            }
        }
        Scenario::Offline => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn min_passing(t: i64, p: f64) -> i64 {
        MinPassingQueriesFinder::new().min_passing(t, p, TOLERANCE, CONFIDENCE)
    }

    #[test]
    fn minimum_queries_for_an_estimate() {
        // The counts LoadGen prints as "Processed at least N queries" (and
        // what the MLPerf rules quote) for the usual percentiles.
        assert_eq!(min_queries_for_estimate(0.90), 64);
        assert_eq!(min_queries_for_estimate(0.99), 662);
        assert_eq!(min_queries_for_estimate(0.999), 6636);
    }

    #[test]
    fn zero_overlatency_needs_the_geometric_tail() {
        // With t = 0 the odds are p^h: the smallest h with p^h < 0.01.
        assert_eq!(min_passing(0, 0.99), 459);
        assert_eq!(min_passing(0, 0.90), 44);
        assert!(0.99f64.powi(459) < 0.01 && 0.99f64.powi(458) >= 0.01);
    }

    #[test]
    fn odds_is_the_binomial_cdf() {
        // P(X <= t) for X ~ Binomial(h + t, 1 - p), summed directly.
        let binomial_cdf = |h: i64, t: i64, p: f64| {
            let n = h + t;
            let mut sum = 0.0;
            for k in 0..=t {
                let mut c = 1.0;
                for j in 0..k {
                    c *= (n - j) as f64 / (j + 1) as f64;
                }
                sum += c * p.powi((n - k) as i32) * (1.0 - p).powi(k as i32);
            }
            sum
        };
        for (h, t, p) in [(10, 0, 0.9), (60, 1, 0.9), (600, 3, 0.99), (120, 10, 0.9)] {
            let (a, b) = (odds(h, t, p, 0.0), binomial_cdf(h, t, p));
            assert!(
                (a - b).abs() < 1e-9 * b.max(1e-300),
                "h={h} t={t} p={p}: {a} vs {b}"
            );
        }
    }

    #[test]
    fn the_answer_is_the_threshold_crossing() {
        // Fresh finders (no cache bounds): h passes and h - 1 does not.
        for (t, p) in [(1, 0.9), (5, 0.9), (1, 0.99), (17, 0.99), (3, 0.999)] {
            let h = min_passing(t, p);
            assert!(odds(h, t, p, 0.0) < 1.0 - CONFIDENCE, "t={t} p={p} h={h}");
            assert!(
                odds(h - 1, t, p, 0.0) >= 1.0 - CONFIDENCE,
                "t={t} p={p} h={h}"
            );
        }
    }

    #[test]
    fn cached_answers_match_fresh_ones_for_sequential_t() {
        let mut finder = MinPassingQueriesFinder::new();
        for t in 1..200 {
            let cached = finder.min_passing(t, 0.9, TOLERANCE, CONFIDENCE);
            assert_eq!(cached, min_passing(t, 0.9), "t={t}");
        }
    }

    #[test]
    fn single_stream_golden_300_queries() {
        // resnet50-singlestream-perf: 300 queries at p90 discard 17.
        let lat: Vec<Latency> = (0..300).collect();
        let out = evaluate(Scenario::SingleStream, 0.9, 300, &lat, &[], 0);
        assert!(out.met);
        assert_eq!(
            out.recommendation,
            " * Processed at least 64 queries (300).\n * Would discard 17 highest latency queries.\n * Early stopping 90.0th percentile estimate: 282\n * Not enough queries processed for 99.0th percentile\n early stopping estimate (would need to process at\n least 662 total queries)."
        );
        assert_eq!(out.latency_ss, Some(282));
        assert_eq!(out.latency_ms, None);
    }

    #[test]
    fn single_stream_reports_the_99th_estimate_with_enough_queries() {
        let lat: Vec<Latency> = (0..1000).collect();
        let out = evaluate(Scenario::SingleStream, 0.9, 1000, &lat, &[], 0);
        assert!(out.met);
        let ms = out.latency_ms.expect("1000 queries allow a p99 estimate");
        assert!(out.recommendation.ends_with(&format!(
            "\n * Early stopping 99.0th percentile estimate: {ms}"
        )));
        assert!(ms > out.latency_ss.unwrap_or(Latency::MAX));
    }

    #[test]
    fn too_few_queries() {
        let lat: Vec<Latency> = (0..63).collect();
        let out = evaluate(Scenario::SingleStream, 0.9, 63, &lat, &[], 0);
        assert!(!out.met);
        assert_eq!(
            out.recommendation,
            " * Only processed 63 queries.\n * Need to process at least 64 queries for early stopping."
        );
        let out = evaluate(Scenario::MultiStream, 0.99, 700, &[], &lat, 0);
        assert!(out.met, "MultiStream counts queries, not latencies");
        assert_eq!(out.latency_ms, Some(62), "clamped to the last latency");
    }

    #[test]
    fn multi_stream_golden_700_queries() {
        let q: Vec<Latency> = (0..700).map(|i| i * 10).collect();
        let out = evaluate(Scenario::MultiStream, 0.99, 700, &[], &q, 0);
        assert!(out.met);
        assert_eq!(
            out.recommendation,
            " * Processed at least 662 queries (700).\n * Would discard 0 highest latency queries.\n * Early stopping 99.0th percentile estimate: 6990"
        );
        assert_eq!((out.latency_ss, out.latency_ms), (None, Some(6990)));
    }

    #[test]
    fn server_counts_overlatency_queries() {
        let mut lat = vec![100; 1000];
        let out = evaluate(Scenario::Server, 0.99, 1000, &lat, &[], 100);
        assert_eq!(
            (out.met, out.recommendation.as_str()),
            (true, " * Run successful.")
        );

        // 5 over latency: need min_passing(5) + 5 queries.
        for l in lat.iter_mut().rev().take(5) {
            *l = 101;
        }
        let need = min_passing(5, 0.99) + 5;
        assert!(need > 1000);
        let out = evaluate(Scenario::Server, 0.99, 1000, &lat, &[], 100);
        assert!(!out.met);
        assert_eq!(
            out.recommendation,
            format!(
                " * Run unsuccessful.\n * Processed 1000 queries.\n * Would need to run at least {} more queries,\n with the run being successful if every additional\n query were under latency.",
                need - 1000
            )
        );
    }

    #[test]
    fn offline_always_passes_silently() {
        let out = evaluate(Scenario::Offline, 0.9, 1, &[5], &[], 0);
        assert_eq!(
            out,
            EarlyStoppingOutcome {
                met: true,
                ..Default::default()
            }
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn more_overlatency_needs_more_queries(t in 0i64..300, p_idx in 0usize..3) {
            let p = [0.9, 0.99, 0.999][p_idx];
            let (a, b) = (min_passing(t, p), min_passing(t + 1, p));
            prop_assert!(b > a, "t={} p={}: {} then {}", t, p, a, b);
        }

        #[test]
        fn a_higher_percentile_needs_more_queries(t in 0i64..100) {
            prop_assert!(min_passing(t, 0.99) > min_passing(t, 0.9));
            prop_assert!(min_passing(t, 0.999) > min_passing(t, 0.99));
        }

        #[test]
        fn the_estimate_is_a_high_latency(n in 64i64..1500) {
            let lat: Vec<Latency> = (0..n).collect();
            let out = evaluate(Scenario::SingleStream, 0.9, n, &lat, &[], 0);
            prop_assert!(out.met);
            let est = out.latency_ss.unwrap_or(-1);
            // The estimate is at or above the plain 90th percentile and
            // discards fewer than 10% of the queries.
            prop_assert!(est >= (n as f64 * 0.9) as i64 - 1 && est < n);
        }
    }
}

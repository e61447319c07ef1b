//! The statistics behind `compare`: medians and their distribution-free
//! confidence intervals, the Mann-Whitney U test, and a small seeded random
//! source for the bootstrap.
//!
//! Everything here is written out rather than taken from a statistics crate
//! so that the exact conventions (scipy's and benchstat's) are visible and
//! tested against known values.

use serde::Serialize;

/// A confidence interval and the confidence it actually reaches (with few
/// runs the order statistics cannot reach the level asked for).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
    /// 0..1, e.g. 0.95.
    pub confidence: f64,
}

/// The median of `values` (the mean of the two middle values for an even
/// count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    median_sorted(&sorted)
}

fn median_sorted(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    Some(if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    })
}

/// `P(X <= k)` for `X ~ Binomial(n, 1/2)`.
fn binomial_half_cdf(n: usize, k: usize) -> f64 {
    // Sum of C(n, i) / 2^n, in logs so that large n does not overflow.
    let ln_total = n as f64 * std::f64::consts::LN_2;
    let mut ln_c = 0.0; // ln C(n, 0)
    let mut sum = 0.0;
    for i in 0..=k.min(n) {
        if i > 0 {
            ln_c += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        sum += (ln_c - ln_total).exp();
    }
    sum.min(1.0)
}

/// The distribution-free confidence interval of the median from order
/// statistics: the narrowest `[x_(k), x_(n-k+1)]` whose coverage
/// `1 - 2 P(Binomial(n, 1/2) <= k-1)` is at least `confidence`. With too
/// few values to reach it (fewer than 6 for 95 %), the widest interval,
/// `[min, max]`, with the confidence it does reach.
pub fn median_interval(values: &[f64], confidence: f64) -> Option<Interval> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    if n == 1 {
        return Some(Interval {
            low: sorted[0],
            high: sorted[0],
            confidence: 0.0,
        });
    }
    let coverage = |k: usize| 1.0 - 2.0 * binomial_half_cdf(n, k - 1);
    // k runs from the narrowest interval outwards; the first that covers
    // wins.
    let mut k = n / 2;
    while k > 1 && coverage(k) < confidence {
        k -= 1;
    }
    Some(Interval {
        low: sorted[k - 1],
        high: sorted[n - k],
        confidence: coverage(k),
    })
}

/// The result of a two-sided Mann-Whitney U test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MannWhitney {
    /// U of the first sample (scipy's `statistic`).
    pub u: f64,
    pub p_value: f64,
    /// Exact distribution (small samples without ties) or the normal
    /// approximation with tie and continuity corrections.
    pub exact: bool,
}

/// Two-sided Mann-Whitney U test of `x` against `y`, with scipy's
/// conventions (`scipy.stats.mannwhitneyu(x, y, alternative="two-sided",
/// method="auto")`): exact when either sample has at most 8 values and
/// there are no ties, otherwise the normal approximation with the tie
/// correction and a continuity correction of 0.5. `None` when a sample is
/// empty.
pub fn mann_whitney_u(x: &[f64], y: &[f64]) -> Option<MannWhitney> {
    let (n1, n2) = (x.len(), y.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    // Average ranks of the pooled sample.
    let mut pooled: Vec<(f64, bool)> = x
        .iter()
        .map(|&v| (v, true))
        .chain(y.iter().map(|&v| (v, false)))
        .collect();
    pooled.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = n1 + n2;
    let mut rank_sum_x = 0.0;
    let mut tie_term = 0.0; // sum of t^3 - t over tie groups
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && pooled[j].0 == pooled[i].0 {
            j += 1;
        }
        let t = (j - i) as f64;
        let average_rank = (i + 1 + j) as f64 / 2.0;
        rank_sum_x += pooled[i..j].iter().filter(|p| p.1).count() as f64 * average_rank;
        tie_term += t * t * t - t;
        i = j;
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let u1 = rank_sum_x - n1f * (n1f + 1.0) / 2.0;
    let u_big = u1.max(n1f * n2f - u1);
    let has_ties = tie_term > 0.0;
    if n1.min(n2) <= 8 && !has_ties {
        // P(U >= u_big) from the exact null distribution; U is integral
        // without ties.
        let counts = exact_u_counts(n1, n2);
        let total: f64 = counts.iter().sum();
        let at_least: f64 = counts.iter().skip(u_big.round() as usize).sum();
        let p = (2.0 * at_least / total).min(1.0);
        return Some(MannWhitney {
            u: u1,
            p_value: p,
            exact: true,
        });
    }
    let nf = n as f64;
    let mean = n1f * n2f / 2.0;
    let variance = n1f * n2f / 12.0 * ((nf + 1.0) - tie_term / (nf * (nf - 1.0)));
    let p = if variance <= 0.0 {
        // Every value equal: no evidence of a difference.
        1.0
    } else {
        let z = (u_big - mean - 0.5) / variance.sqrt();
        (2.0 * normal_sf(z)).min(1.0)
    };
    Some(MannWhitney {
        u: u1,
        p_value: p,
        exact: false,
    })
}

/// Counts of the orderings of `n1` + `n2` distinct values giving each U,
/// `counts[u]` for u in `0..=n1*n2`: the recurrence
/// `f(m, n, u) = f(m-1, n, u-n) + f(m, n-1, u)`.
fn exact_u_counts(n1: usize, n2: usize) -> Vec<f64> {
    let max_u = n1 * n2;
    // table[m][k][u] computed row by row over m; k = size of the other
    // sample.
    let mut previous: Vec<Vec<f64>> = (0..=n2)
        .map(|_| {
            let mut v = vec![0.0; max_u + 1];
            v[0] = 1.0; // m = 0: one ordering, U = 0
            v
        })
        .collect();
    for _m in 1..=n1 {
        let mut current: Vec<Vec<f64>> = vec![vec![0.0; max_u + 1]; n2 + 1];
        current[0][0] = 1.0; // k = 0: U = 0
        for k in 1..=n2 {
            for u in 0..=max_u {
                let from_m = if u >= k { previous[k][u - k] } else { 0.0 };
                current[k][u] = from_m + current[k - 1][u];
            }
        }
        previous = current;
    }
    previous.swap_remove(n2)
}

/// `P(Z > z)` for a standard normal.
pub fn normal_sf(z: f64) -> f64 {
    0.5 * libm::erfc(z / std::f64::consts::SQRT_2)
}

/// The `q` quantile (0..1) of sorted values, by linear interpolation
/// between order statistics (numpy's default), for bootstrap percentile
/// intervals.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let position = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let fraction = position - below as f64;
    Some(sorted[below] + (sorted[above] - sorted[below]) * fraction)
}

/// A small seeded generator (SplitMix64): the bootstrap must give the same
/// interval for the same seed on every machine and every build, which a
/// general-purpose RNG crate does not promise across versions.
#[derive(Debug, Clone)]
pub struct SeededRng {
    state: u64,
}

impl SeededRng {
    pub fn new(seed: u64) -> Self {
        SeededRng { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in the open interval (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller; one of the pair is dropped for
    /// simplicity).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// Gamma(shape, 1), Marsaglia and Tsang's method.
    pub fn gamma(&mut self, shape: f64) -> f64 {
        if shape < 1.0 {
            // Boost: Gamma(a) = Gamma(a + 1) * U^(1/a).
            let u = self.uniform();
            return self.gamma(shape + 1.0) * u.powf(1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v <= 0.0 {
                continue;
            }
            let u = self.uniform();
            if u.ln() < 0.5 * x * x + d - d * v.ln() {
                return d * v;
            }
        }
    }

    /// Beta(a, b).
    pub fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a);
        let y = self.gamma(b);
        x / (x + y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn binomial_cdf_known_values() {
        // P(Binom(5, .5) <= 0) = 1/32.
        assert!((binomial_half_cdf(5, 0) - 1.0 / 32.0).abs() < 1e-12);
        // P(Binom(10, .5) <= 1) = 11/1024.
        assert!((binomial_half_cdf(10, 1) - 11.0 / 1024.0).abs() < 1e-12);
        assert!((binomial_half_cdf(10, 10) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn median_interval_uses_order_statistics() {
        // n = 5: [min, max] covers 1 - 2/32 = 93.75 %, below 95 %.
        let ci = median_interval(&[5.0, 1.0, 4.0, 2.0, 3.0], 0.95).unwrap();
        assert_eq!((ci.low, ci.high), (1.0, 5.0));
        assert!((ci.confidence - 0.9375).abs() < 1e-12);
        // n = 10: k = 2 covers 1 - 2 * 11/1024 = 97.85 %; k = 3 covers
        // 1 - 2 * 56/1024 = 89.06 %: [x_(2), x_(9)].
        let values: Vec<f64> = (1..=10).map(f64::from).collect();
        let ci = median_interval(&values, 0.95).unwrap();
        assert_eq!((ci.low, ci.high), (2.0, 9.0));
        assert!((ci.confidence - (1.0 - 22.0 / 1024.0)).abs() < 1e-12);
    }

    #[test]
    fn exact_counts_sum_to_binomial() {
        let counts = exact_u_counts(4, 3);
        assert_eq!(counts.len(), 13);
        assert_eq!(counts.iter().sum::<f64>(), 35.0); // C(7, 3)
                                                      // Symmetric around n1 n2 / 2.
        for u in 0..=12 {
            assert_eq!(counts[u], counts[12 - u]);
        }
    }

    #[test]
    fn normal_tail() {
        assert!((normal_sf(0.0) - 0.5).abs() < 1e-15);
        assert!((normal_sf(1.959963984540054) - 0.025).abs() < 1e-12);
    }

    #[test]
    fn rng_is_reproducible_and_beta_has_the_right_mean() {
        let mut a = SeededRng::new(7);
        let mut b = SeededRng::new(7);
        assert_eq!(a.next_u64(), b.next_u64());
        let mut rng = SeededRng::new(1);
        let n = 20_000;
        let mean = (0..n).map(|_| rng.beta(2.0, 6.0)).sum::<f64>() / n as f64;
        assert!((mean - 0.25).abs() < 0.01, "{mean}");
    }
}

//! The numerics the official RCP checker gets from numpy and scipy,
//! reproduced bit for bit where verdicts depend on them.
//!
//! - `np.mean`/`np.std` sum with numpy's pairwise summation (blocks of 8
//!   partial sums), starting from 0.0: a plain left-to-right sum differs in
//!   the last bits, which shows in the printed normalisation factor.
//! - `np.interp` between two points.
//! - scipy's equal-variance `ttest_ind_from_stats` p-value (Student's t
//!   distribution), through the regularised incomplete beta function.

/// numpy's `pairwise_sum` for float64 (as `np.add.reduce` runs it on a
/// contiguous array, after the reduction's initial 0.0).
fn pairwise_sum(values: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    let n = values.len();
    if n < 8 {
        let mut sum = 0.0;
        for v in values {
            sum += v;
        }
        sum
    } else if n <= BLOCK {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&values[..8]);
        let mut i = 8;
        while i < n - (n % 8) {
            for (j, slot) in r.iter_mut().enumerate() {
                *slot += values[i + j];
            }
            i += 8;
        }
        let mut sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            sum += values[i];
            i += 1;
        }
        sum
    } else {
        let mut half = n / 2;
        half -= half % 8;
        pairwise_sum(&values[..half]) + pairwise_sum(&values[half..])
    }
}

/// `np.sum` of float64 values.
pub fn np_sum(values: &[f64]) -> f64 {
    0.0 + pairwise_sum(values)
}

/// `np.mean`: NaN for an empty slice, as numpy returns (with a warning).
pub fn np_mean(values: &[f64]) -> f64 {
    np_sum(values) / values.len() as f64
}

/// `np.std` (population, `ddof=0`).
pub fn np_std(values: &[f64]) -> f64 {
    let mean = np_mean(values);
    let squares: Vec<f64> = values
        .iter()
        .map(|v| {
            let d = v - mean;
            d * d
        })
        .collect();
    (np_sum(&squares) / values.len() as f64).sqrt()
}

/// `np.interp(x, [x0, x1], [y0, y1])` for `x0 <= x <= x1`.
pub fn np_interp(x: f64, (x0, x1): (f64, f64), (y0, y1): (f64, f64)) -> f64 {
    if x == x1 {
        return y1;
    }
    if x <= x0 {
        return y0;
    }
    if x > x1 {
        return y1;
    }
    let slope = (y1 - y0) / (x1 - x0);
    let y = slope * (x - x0) + y0;
    if y.is_nan() {
        // numpy's fallback when the slope is not finite.
        let alt = slope * (x - x1) + y1;
        if alt.is_nan() && y0 == y1 {
            return y0;
        }
        return alt;
    }
    y
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, 9 terms; ~1e-15 relative).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEF: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = COEF[0];
    let t = x + G + 0.5;
    for (i, c) in COEF.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Continued fraction of the incomplete beta function (modified Lentz).
fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPS: f64 = 1e-16;
    let qab = a + b;
    let qap = a + 1.0;
    let qam = a - 1.0;
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=10_000 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// The regularised incomplete beta function `I_x(a, b)`.
fn regularized_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b
    }
}

/// Student's t survival function `P(T > t)` with `df` degrees of freedom.
pub fn student_t_sf(t: f64, df: f64) -> f64 {
    if t.is_nan() {
        return f64::NAN;
    }
    let tail = 0.5 * regularized_beta(df / 2.0, 0.5, df / (df + t * t));
    if t > 0.0 {
        tail
    } else {
        1.0 - tail
    }
}

/// The RCP checker's one-sided p-value of `ttest_ind_from_stats(mean1,
/// std1, n1, mean2, std2, n2, equal_var=True)`: scipy's two-sided p-value,
/// halved when `t < 0`, else `1 - p/2`.
pub fn one_sided_p_value(
    (mean1, std1, n1): (f64, f64, f64),
    (mean2, std2, n2): (f64, f64, f64),
) -> f64 {
    let df = n1 + n2 - 2.0;
    let pooled_var = ((n1 - 1.0) * (std1 * std1) + (n2 - 1.0) * (std2 * std2)) / df;
    let denom = (pooled_var * (1.0 / n1 + 1.0 / n2)).sqrt();
    let t = (mean1 - mean2) / denom;
    let two_sided = (2.0 * student_t_sf(t.abs(), df)).min(1.0);
    if t < 0.0 {
        two_sided / 2.0
    } else {
        1.0 - two_sided / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_groups_as_numpy_does() {
        // 9 values: ((a0+a1)+(a2+a3))+((a4+a5)+(a6+a7)) + a8, not left to right.
        // numpy 2.4.6: np.sum(v) = 5.0, Python's sum(v) = 6.0.
        let v = [1e16, 1.0, -1e16, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        let left_to_right = v.iter().fold(0.0, |s, x| s + x);
        assert_eq!(np_sum(&v), 5.0);
        assert_eq!(left_to_right, 6.0);
    }

    #[test]
    fn std_is_population() {
        assert_eq!(np_std(&[1.0, 3.0]), 1.0);
        assert!(np_mean(&[]).is_nan());
    }

    #[test]
    fn t_distribution_matches_scipy() {
        // scipy 1.17.1: t.sf(2.0, 10) = 0.03669401738537018
        assert!((student_t_sf(2.0, 10.0) - 0.036_694_017_385_370_18).abs() < 1e-14);
        // t.sf(-1.5, 3) = 0.8847080673775886
        assert!((student_t_sf(-1.5, 3.0) - 0.884_708_067_377_588_6).abs() < 1e-14);
        // t.isf(0.05, 19) = 1.7291328115213687 (the one-sided 5% point)
        assert!((student_t_sf(1.729_132_811_521_368_7, 19.0) - 0.05).abs() < 1e-13);
    }

    #[test]
    fn interp_between_two_points() {
        assert_eq!(np_interp(15.0, (10.0, 20.0), (1.0, 3.0)), 2.0);
        assert_eq!(np_interp(20.0, (10.0, 20.0), (1.0, 3.0)), 3.0);
    }
}

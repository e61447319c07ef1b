//! Python semantics the reference scripts rely on, reproduced where Rust's
//! standard library differs: what counts as whitespace (`str.split()`,
//! `re`'s `\s`), word characters (`re`'s `\w` / `\b`), `float()` parsing,
//! `round()` and `repr()` of floats, and Unicode decimal digits.

use unicode_general_category::{get_general_category, GeneralCategory as Gc};

/// Python's `str.isspace()` for one character: Unicode White_Space plus the
/// four information separators U+001C..U+001F, which Python (bidi class B/S)
/// counts and Rust's `char::is_whitespace` does not.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `re`'s `\s` for `str` patterns, as a regex class.
pub const RE_SPACE: &str = r"[\s\x1c-\x1f]";

/// `re`'s `\w` for `str` patterns, as a regex class: letters, numbers and
/// `_`. (Python: `str.isalnum()` or `_`; that is the general categories L*
/// and N* up to the few characters whose numeric type and category
/// disagree.) Rust's `\w` also counts combining marks, which Python does not.
pub const RE_WORD: &str = r"[\p{L}\p{N}_]";

/// `re`'s `\w` for one character (see [`RE_WORD`]).
pub fn is_word(c: char) -> bool {
    c == '_'
        || matches!(
            get_general_category(c),
            Gc::UppercaseLetter
                | Gc::LowercaseLetter
                | Gc::TitlecaseLetter
                | Gc::ModifierLetter
                | Gc::OtherLetter
                | Gc::DecimalNumber
                | Gc::LetterNumber
                | Gc::OtherNumber
        )
}

/// Python's `str.split()` with no arguments.
pub fn split(s: &str) -> Vec<&str> {
    s.split(is_space).filter(|w| !w.is_empty()).collect()
}

/// Python's `str.strip()` with no arguments.
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Python's `str.rstrip()` with no arguments.
pub fn rstrip(s: &str) -> &str {
    s.trim_end_matches(is_space)
}

/// The value of a Unicode decimal digit (general category Nd), as Python's
/// `int()`/`float()` read it. Nd characters come in runs of ten in ascending
/// order (a Unicode stability guarantee), so the value is the position in
/// the run, counting adjacent runs (the mathematical digits) modulo ten.
pub fn decimal_value(c: char) -> Option<u32> {
    if c.is_ascii_digit() {
        return Some(c as u32 - '0' as u32);
    }
    if get_general_category(c) != Gc::DecimalNumber {
        return None;
    }
    let mut n = 0u32;
    let mut cp = c as u32;
    while let Some(prev) = cp.checked_sub(1).and_then(char::from_u32) {
        if get_general_category(prev) != Gc::DecimalNumber {
            break;
        }
        n += 1;
        cp -= 1;
    }
    Some(n % 10)
}

/// Python's `float(s)` for a `str`: surrounding whitespace, Unicode digits,
/// `_` between digits, `inf`/`infinity`/`nan` in any case. `None` where
/// Python raises `ValueError`.
pub fn parse_float(s: &str) -> Option<f64> {
    let ascii: String = strip(s)
        .chars()
        .map(|c| match decimal_value(c) {
            Some(d) => char::from_digit(d, 10).unwrap_or('?'),
            None => c,
        })
        .collect();
    let (sign, body) = match ascii.as_bytes().first() {
        Some(b'+') => ("", &ascii[1..]),
        Some(b'-') => ("-", &ascii[1..]),
        _ => ("", ascii.as_str()),
    };
    let lower = body.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "infinity" | "nan") {
        let v = if lower == "nan" {
            f64::NAN
        } else {
            f64::INFINITY
        };
        return Some(if sign == "-" { -v } else { v });
    }
    // Underscores only between two digits, then the decimal grammar.
    let b = body.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'_' {
            let prev_digit = i > 0 && b[i - 1].is_ascii_digit();
            let next_digit = b.get(i + 1).is_some_and(u8::is_ascii_digit);
            if !(prev_digit && next_digit) {
                return None;
            }
        }
    }
    let clean: String = body.chars().filter(|&c| c != '_').collect();
    if !is_decimal_literal(&clean) {
        return None;
    }
    format!("{sign}{clean}").parse().ok()
}

/// `digits [. [digits]] | . digits`, then an optional exponent.
fn is_decimal_literal(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let int_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp_digits == 0 {
            return false;
        }
        i += exp_digits;
    }
    i == b.len()
}

/// Python's `round(x, ndigits)` for floats: correctly rounded to `ndigits`
/// decimals (Rust's fixed-precision formatting is exact too).
pub fn round(x: f64, ndigits: usize) -> f64 {
    if !x.is_finite() {
        return x;
    }
    format!("{x:.ndigits$}").parse().unwrap_or(x)
}

/// Python's `repr(float)` (`nan`, `inf`, `-inf` for the non-finite
/// values): the one implementation, shared with the `:::MLLOG` writer.
pub use yardstick_formats::pyfloat::repr as float_repr;

/// numpy's `np.sum` / `np.mean` of a float64 vector: pairwise summation
/// with eight accumulators (`pairwise_sum_DOUBLE`), so means of per-sample
/// scores agree with the MLPerf scripts to the last bit.
pub fn numpy_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        a.iter().fold(0.0, |acc, &x| acc + x)
    } else if n <= 128 {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for j in 0..8 {
                r[j] += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &a[i..] {
            res += x;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        numpy_sum(&a[..n2]) + numpy_sum(&a[n2..])
    }
}

/// `np.mean` of a non-empty float64 vector.
pub fn numpy_mean(a: &[f64]) -> f64 {
    numpy_sum(a) / a.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_matches_python() {
        assert!(is_space('\u{1c}') && is_space('\u{a0}') && is_space('\u{3000}'));
        assert!(!is_space('\u{200b}'));
        assert_eq!(split(" a\u{1f}b\t c "), vec!["a", "b", "c"]);
        assert_eq!(strip("\u{85} x \u{2028}"), "x");
    }

    #[test]
    fn float_parsing_matches_python() {
        assert_eq!(parse_float(" 1_000.5 "), Some(1000.5));
        assert_eq!(parse_float("-.5"), Some(-0.5));
        assert_eq!(parse_float("5."), Some(5.0));
        assert_eq!(parse_float("1e3"), Some(1000.0));
        assert_eq!(parse_float("\u{0663}\u{0662}"), Some(32.0)); // Arabic-Indic 32
        assert_eq!(parse_float("\u{1d7d9}"), Some(1.0)); // mathematical double-struck 1
        assert!(parse_float("nan").is_some_and(f64::is_nan));
        assert_eq!(parse_float("-Infinity"), Some(f64::NEG_INFINITY));
        for bad in [
            "", ".", "1_", "_1", "1__0", "1,000", "e5", "1e", "0x10", "½",
        ] {
            assert_eq!(parse_float(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn repr_and_round_match_python() {
        assert_eq!(float_repr(90.0), "90.0");
        assert_eq!(float_repr(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(float_repr(1e-5), "1e-05");
        assert_eq!(float_repr(0.0001), "0.0001");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(123456789012345.6), "123456789012345.6");
        assert_eq!(float_repr(-0.0), "-0.0");
        assert_eq!(round(2.675, 2), 2.67); // the double is below 2.675
        assert_eq!(round(44.45425, 4), 44.4543);
        assert_eq!(round(0.125, 2), 0.12); // an exact tie goes to even
    }

    #[test]
    fn decimal_digits() {
        assert_eq!(decimal_value('7'), Some(7));
        assert_eq!(decimal_value('\u{0669}'), Some(9));
        assert_eq!(decimal_value('\u{1d7ec}'), Some(0)); // sans-serif bold 0 (third run)
        assert_eq!(decimal_value('²'), None);
    }

    #[test]
    fn numpy_pairwise_sum() {
        // np.sum of 1 / (k + 1) for k in 0..300 (a plain loop gives
        // 6.282663880299502) and np.mean of a short vector.
        let v: Vec<f64> = (0..300).map(|k| 1.0 / f64::from(k + 1)).collect();
        assert_eq!(numpy_sum(&v), 6.282663880299504);
        assert_eq!(numpy_mean(&[0.1, 0.2, 0.3]), 0.20000000000000004);
    }
}

//! Python's float spellings: `repr(x)` (also `str(x)`), and what
//! `json.dumps` writes for a float (the same, except the non-finite values,
//! which it spells `NaN`, `Infinity` and `-Infinity`), and Python's
//! `float(str)`, with which the official checkers read numeric strings.

/// Python's `repr(float)`: the shortest digits that round-trip, positional
/// when the decimal exponent is in -4 < decpt <= 16, else `d.ddde-XX` with
/// at least two exponent digits; integral values keep a `.0`; `nan`, `inf`,
/// `-inf`.
pub fn repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    finite_repr(x)
}

/// A float as `json.dumps` writes it: `repr` for finite values, `NaN`,
/// `Infinity`, `-Infinity` otherwise (which `json.loads` reads back).
pub fn json(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    finite_repr(x)
}

fn finite_repr(x: f64) -> String {
    // Rust's `{:e}` gives the shortest round-trip digits, like Python's
    // repr: `-1.2345e-8`, `-0e0`. Where the last of them is a tie, it rounds
    // half up and Python (David Gay's dtoa) to even: the exact value rounded
    // to that many digits (Rust's `{:.Ne}` rounds ties to even) is Python's
    // whenever it still reads back as `x`.
    let mut sci = format!("{x:e}");
    let shortest_digits = sci
        .split('e')
        .next()
        .map_or(0, |m| m.chars().filter(char::is_ascii_digit).count());
    let exact = format!("{x:.*e}", shortest_digits.saturating_sub(1));
    if exact.parse::<f64>() == Ok(x) {
        sci = exact;
    }
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    if x == 0.0 {
        return format!("{sign}0.0");
    }
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let n = digits.len() as i32;
    let decpt = exp + 1;
    if decpt > -4 && decpt <= 16 {
        if decpt <= 0 {
            format!("{sign}0.{}{digits}", "0".repeat((-decpt) as usize))
        } else if decpt >= n {
            format!("{sign}{digits}{}.0", "0".repeat((decpt - n) as usize))
        } else {
            let (a, b) = digits.split_at(decpt as usize);
            format!("{sign}{a}.{b}")
        }
    } else {
        let (a, b) = digits.split_at(1);
        let e_sign = if exp < 0 { '-' } else { '+' };
        if b.is_empty() {
            format!("{sign}{a}e{e_sign}{:02}", exp.abs())
        } else {
            format!("{sign}{a}.{b}e{e_sign}{:02}", exp.abs())
        }
    }
}

/// Python's `float(str)`: surrounding whitespace, `_` between digits,
/// `inf`/`nan` in any case.
pub fn parse(text: &str) -> Option<f64> {
    let t = text.trim_matches(|c: char| c.is_whitespace());
    let lower = t.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    let negative = lower.starts_with('-');
    if lower.len() - unsigned.len() > 1 {
        return None;
    }
    match unsigned {
        "inf" | "infinity" => {
            return Some(if negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        }
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if unsigned.is_empty()
        || !unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-' | b'_'))
    {
        return None;
    }
    if t.contains('_') {
        let bytes = t.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'_'
                && !(i > 0
                    && bytes[i - 1].is_ascii_digit()
                    && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
            {
                return None;
            }
        }
    }
    let cleaned: String = t.chars().filter(|&c| c != '_').collect();
    cleaned.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_python_repr() {
        // Each pair is Python 3.11's repr of the same double.
        for (x, py) in [
            (1e-8, "1e-08"),
            (1.5e-8, "1.5e-08"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (0.9137, "0.9137"),
            (90.0, "90.0"),
            (1.0, "1.0"),
            (-2.5, "-2.5"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (123456.0, "123456.0"),
            (1e16, "1e+16"),
            (9e99, "9e+99"),
            (1234567890123456.0, "1234567890123456.0"),
            (123456789012345.6, "123456789012345.6"),
            (1755479566803.0, "1755479566803.0"),
            (1.2345e20, "1.2345e+20"),
            (0.1 + 0.2, "0.30000000000000004"),
            // A tie at the 17th digit (a float32 widened): Python rounds to even.
            (f64::from(1.2881546_f32), "1.2881546020507812"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
        ] {
            assert_eq!(repr(x), py, "{x}");
            assert_eq!(json(x), py, "{x}");
        }
    }

    #[test]
    fn non_finite_spellings() {
        assert_eq!(repr(f64::NAN), "nan");
        assert_eq!(repr(f64::INFINITY), "inf");
        assert_eq!(repr(f64::NEG_INFINITY), "-inf");
        assert_eq!(json(f64::NAN), "NaN");
        assert_eq!(json(f64::INFINITY), "Infinity");
        assert_eq!(json(f64::NEG_INFINITY), "-Infinity");
    }

    #[test]
    fn parses_as_python_float() {
        // Python 3.11's float() of each text; None where it raises ValueError.
        for (text, py) in [
            (" 7.5\n", Some(7.5)),
            ("1_000.5", Some(1000.5)),
            ("1e3", Some(1000.0)),
            ("-Infinity", Some(f64::NEG_INFINITY)),
            ("+inf", Some(f64::INFINITY)),
            ("x", None),
            ("", None),
            ("1__0", None),
            ("_1", None),
            ("--1", None),
            ("0x10", None),
        ] {
            assert_eq!(parse(text), py, "{text:?}");
        }
        assert!(parse("NaN").is_some_and(f64::is_nan));
    }
}

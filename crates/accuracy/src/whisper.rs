//! Whisper's `EnglishTextNormalizer` (openai-whisper 20250625,
//! `whisper/normalizers/english.py` and `basic.py`), which MLPerf's
//! `speech2text/accuracy_eval.py` applies to hypotheses and references
//! before counting word errors. Ported rule by rule: bracket and filler
//! removal, contractions and titles, symbol and diacritic removal (NFKD,
//! general categories), the spelled-out number normaliser (with Python's
//! unbounded integers and `fractions.Fraction` where it uses them), the
//! British-to-American spelling table (`english.json`, shipped verbatim;
//! MIT licence, Copyright (c) 2022 OpenAI, see THIRD_PARTY.md), and the
//! final symbol clean-up.
//!
//! Python's `re` is reproduced with `\s` as Python's whitespace and `\b`
//! as a boundary against `[\p{L}\p{N}_]` (Python's `\w`); every `\b` in
//! these patterns sits next to a word character of the pattern, so it
//! becomes a one-sided look-around.

use std::collections::{HashMap, HashSet};

use fancy_regex::{Captures, Regex};
use num_bigint::BigUint;
use num_traits::Zero;
use unicode_general_category::get_general_category;
use unicode_normalization::UnicodeNormalization;

use crate::py;

/// A pattern-matching failure (fancy-regex's backtracking limit), which
/// Python would not hit; reported rather than ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizeError(pub String);

impl std::fmt::Display for NormalizeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "text normaliser: {}", self.0)
    }
}

type NResult<T> = std::result::Result<T, NormalizeError>;

/// Expands `\b`, `\s` and `\d` of a Python pattern into look-arounds and
/// classes with Python's meaning (see the module docs).
fn py_re(pattern: &str) -> Regex {
    let w = py::RE_WORD;
    let p = pattern
        .replace(r"\bB", &format!("(?<!{w})"))
        .replace(r"\bE", &format!("(?!{w})"))
        .replace(r"\s", py::RE_SPACE);
    // The patterns are constants of this module, checked by the unit tests.
    Regex::new(&p).unwrap_or_else(|e| panic!("bad built-in pattern {p:?}: {e}"))
}

fn sub(re: &Regex, text: &str, rep: &str) -> NResult<String> {
    re.try_replacen(text, 0, rep)
        .map(|c| c.into_owned())
        .map_err(|e| NormalizeError(e.to_string()))
}

fn sub_with(re: &Regex, text: &str, f: impl FnMut(&Captures<'_>) -> String) -> NResult<String> {
    re.try_replacen(text, 0, f)
        .map(|c| c.into_owned())
        .map_err(|e| NormalizeError(e.to_string()))
}

/// `basic.remove_symbols_and_diacritics(s, keep)`: NFKD, drop nonspacing
/// marks, map a few letters NFKD leaves alone, and replace other marks,
/// symbols and punctuation with spaces.
pub fn remove_symbols_and_diacritics(s: &str, keep: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfkd() {
        if keep.contains(c) {
            out.push(c);
            continue;
        }
        let extra = match c {
            'œ' => Some("oe"),
            'Œ' => Some("OE"),
            'ø' => Some("o"),
            'Ø' => Some("O"),
            'æ' => Some("ae"),
            'Æ' => Some("AE"),
            'ß' => Some("ss"),
            'ẞ' => Some("SS"),
            'đ' | 'ð' => Some("d"),
            'Đ' | 'Ð' => Some("D"),
            'þ' | 'Þ' => Some("th"),
            'ł' => Some("l"),
            'Ł' => Some("L"),
            _ => None,
        };
        if let Some(e) = extra {
            out.push_str(e);
            continue;
        }
        let cat = get_general_category(c).abbreviation();
        if cat == "Mn" {
            continue;
        }
        if cat.starts_with(['M', 'S', 'P']) {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// A number being assembled: Python's `value`, an `int` or a `str`.
#[derive(Debug, Clone)]
enum Val {
    Int(BigUint),
    Str(String),
}

impl Val {
    fn text(&self) -> String {
        match self {
            Val::Int(i) => i.to_string(),
            Val::Str(s) => s.clone(),
        }
    }
}

/// `str(value or "")`: `None`, `0` and `""` are falsy.
fn or_empty(v: &Option<Val>) -> String {
    match v {
        None => String::new(),
        Some(Val::Int(i)) if i.is_zero() => String::new(),
        Some(v) => v.text(),
    }
}

/// `^\d+(\.\d+)?$` with Unicode digits.
fn is_arabic_number(s: &str) -> bool {
    let (int, frac) = match s.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.chars().all(|c| py::decimal_value(c).is_some());
    digits(int) && frac.is_none_or(digits)
}

/// `fractions.Fraction(s)` for the strings this normaliser builds (digits,
/// at most one `.`, optional sign): numerator and power-of-ten denominator,
/// unreduced. `None` where Python raises.
fn to_fraction(s: &str) -> Option<(BigUint, u32)> {
    let s = py::strip(s);
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.starts_with('-') {
        // Never built here (signs are kept apart as prefixes).
        return None;
    }
    let (int, frac) = match s.split_once('.') {
        Some((a, b)) => (a, b),
        None => (s, ""),
    };
    let all_digits = |t: &str| t.chars().all(|c| py::decimal_value(c).is_some());
    // `(?=\d|\.\d)`: a digit first, or a period then a digit.
    if !(all_digits(int) && all_digits(frac)) || (int.is_empty() && frac.is_empty()) {
        return None;
    }
    let mut n = BigUint::zero();
    for c in int.chars().chain(frac.chars()) {
        n = n * 10u32 + py::decimal_value(c).unwrap_or(0);
    }
    Some((n, u32::try_from(frac.chars().count()).ok()?))
}

/// `Fraction(value) * multiplier` when it is an integer.
fn times_if_integer(value: &str, multiplier: &BigUint) -> Option<BigUint> {
    let (n, k) = to_fraction(value)?;
    let p = n * multiplier;
    let d = BigUint::from(10u32).pow(k);
    (&p % &d).is_zero().then(|| p / d)
}

/// `EnglishNumberNormalizer`.
#[derive(Debug)]
struct NumberNormalizer {
    zeros: HashSet<&'static str>,
    ones: HashMap<String, u32>,
    ones_suffixed: HashMap<String, (u32, &'static str)>,
    tens: HashMap<String, u32>,
    tens_suffixed: HashMap<String, (u32, &'static str)>,
    multipliers: HashMap<String, BigUint>,
    multipliers_suffixed: HashMap<String, (BigUint, &'static str)>,
    decimals: HashSet<String>,
    preceding_prefixers: HashMap<&'static str, &'static str>,
    following_prefixers: HashMap<&'static str, &'static str>,
    prefixes: HashSet<char>,
    specials: HashSet<&'static str>,
    words: HashSet<String>,
    re_and_a_half: Regex,
    re_letter_digit: Regex,
    re_digit_letter: Regex,
    re_suffix: Regex,
    re_cents: Regex,
    re_extract_cents: Regex,
    re_one: Regex,
}

const ONES: [&str; 19] = [
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [(&str, u32); 8] = [
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
    ("ninety", 90),
];
const MULTIPLIERS: [(&str, u32); 12] = [
    ("hundred", 2),
    ("thousand", 3),
    ("million", 6),
    ("billion", 9),
    ("trillion", 12),
    ("quadrillion", 15),
    ("quintillion", 18),
    ("sextillion", 21),
    ("septillion", 24),
    ("octillion", 27),
    ("nonillion", 30),
    ("decillion", 33),
];

impl NumberNormalizer {
    fn new() -> Self {
        let ones: HashMap<String, u32> = ONES
            .iter()
            .zip(1..)
            .map(|(n, v)| (n.to_string(), v))
            .collect();
        let mut ones_suffixed: HashMap<String, (u32, &'static str)> = HashMap::new();
        for (name, &v) in &ones {
            let plural = if name == "six" {
                "sixes".to_string()
            } else {
                format!("{name}s")
            };
            ones_suffixed.insert(plural, (v, "s"));
        }
        for (name, v, suffix) in [
            ("zeroth", 0, "th"),
            ("first", 1, "st"),
            ("second", 2, "nd"),
            ("third", 3, "rd"),
            ("fifth", 5, "th"),
            ("twelfth", 12, "th"),
        ] {
            ones_suffixed.insert(name.to_string(), (v, suffix));
        }
        for (name, &v) in &ones {
            if v > 3 && v != 5 && v != 12 {
                let suffix = if name.ends_with('t') { "h" } else { "th" };
                ones_suffixed.insert(format!("{name}{suffix}"), (v, "th"));
            }
        }
        let tens: HashMap<String, u32> = TENS.iter().map(|&(n, v)| (n.to_string(), v)).collect();
        let mut tens_suffixed = HashMap::new();
        for &(n, v) in &TENS {
            tens_suffixed.insert(n.replace('y', "ies"), (v, "s"));
            tens_suffixed.insert(n.replace('y', "ieth"), (v, "th"));
        }
        let multipliers: HashMap<String, BigUint> = MULTIPLIERS
            .iter()
            .map(|&(n, e)| (n.to_string(), BigUint::from(10u32).pow(e)))
            .collect();
        let mut multipliers_suffixed = HashMap::new();
        for (n, v) in &multipliers {
            multipliers_suffixed.insert(format!("{n}s"), (v.clone(), "s"));
            multipliers_suffixed.insert(format!("{n}th"), (v.clone(), "th"));
        }
        let zeros: HashSet<&'static str> = ["o", "oh", "zero"].into();
        let decimals: HashSet<String> = ones
            .keys()
            .chain(tens.keys())
            .cloned()
            .chain(zeros.iter().map(|s| s.to_string()))
            .collect();
        let preceding_prefixers: HashMap<&'static str, &'static str> = [
            ("minus", "-"),
            ("negative", "-"),
            ("plus", "+"),
            ("positive", "+"),
        ]
        .into();
        let following_prefixers: HashMap<&'static str, &'static str> = [
            ("pound", "£"),
            ("pounds", "£"),
            ("euro", "€"),
            ("euros", "€"),
            ("dollar", "$"),
            ("dollars", "$"),
            ("cent", "¢"),
            ("cents", "¢"),
        ]
        .into();
        let prefixes: HashSet<char> = preceding_prefixers
            .values()
            .chain(following_prefixers.values())
            .filter_map(|s| s.chars().next())
            .collect();
        let specials: HashSet<&'static str> = ["and", "double", "triple", "point"].into();
        let mut words: HashSet<String> = HashSet::new();
        words.extend(zeros.iter().map(|s| s.to_string()));
        words.extend(ones.keys().cloned());
        words.extend(ones_suffixed.keys().cloned());
        words.extend(tens.keys().cloned());
        words.extend(tens_suffixed.keys().cloned());
        words.extend(multipliers.keys().cloned());
        words.extend(multipliers_suffixed.keys().cloned());
        words.extend(preceding_prefixers.keys().map(|s| s.to_string()));
        words.extend(following_prefixers.keys().map(|s| s.to_string()));
        words.extend(["per".to_string(), "percent".to_string()]);
        words.extend(specials.iter().map(|s| s.to_string()));
        Self {
            zeros,
            ones,
            ones_suffixed,
            tens,
            tens_suffixed,
            multipliers,
            multipliers_suffixed,
            decimals,
            preceding_prefixers,
            following_prefixers,
            prefixes,
            specials,
            words,
            re_and_a_half: py_re(r"\bBand\s+a\s+half\bE"),
            re_letter_digit: py_re(r"([a-z])([0-9])"),
            re_digit_letter: py_re(r"([0-9])([a-z])"),
            re_suffix: py_re(r"([0-9])\s+(st|nd|rd|th|s)\bE"),
            re_cents: py_re(r"([€£$])([0-9]+) (?:and )?¢([0-9]{1,2})\bE"),
            re_extract_cents: py_re(r"[€£$]0.([0-9]{1,2})\bE"),
            re_one: py_re(r"\bB1(s?)\bE"),
        }
    }

    fn preprocess(&self, s: &str) -> NResult<String> {
        // Replace "<number> and a half" with "<number> point five".
        let mut segments = Vec::new();
        let mut last = 0;
        for m in self.re_and_a_half.find_iter(s) {
            let m = m.map_err(|e| NormalizeError(e.to_string()))?;
            segments.push(&s[last..m.start()]);
            last = m.end();
        }
        segments.push(&s[last..]);
        let mut results: Vec<&str> = Vec::new();
        let n = segments.len();
        for (i, segment) in segments.into_iter().enumerate() {
            if py::strip(segment).is_empty() {
                continue;
            }
            results.push(segment);
            if i != n - 1 {
                let last_word = py::split(segment).last().copied().unwrap_or("");
                if self.decimals.contains(last_word) || self.multipliers.contains_key(last_word) {
                    results.push("point five");
                } else {
                    results.push("and a half");
                }
            }
        }
        let s = results.join(" ");
        let s = sub(&self.re_letter_digit, &s, "$1 $2")?;
        let s = sub(&self.re_digit_letter, &s, "$1 $2")?;
        sub(&self.re_suffix, &s, "$1$2")
    }

    fn postprocess(&self, s: &str) -> NResult<String> {
        let s = sub_with(&self.re_cents, s, |c| {
            let cents: u32 = c[3].parse().unwrap_or(0);
            format!("{}{}.{cents:02}", &c[1], &c[2])
        })?;
        let s = sub_with(&self.re_extract_cents, &s, |c| {
            let cents: u32 = c[1].parse().unwrap_or(0);
            format!("¢{cents}")
        })?;
        sub(&self.re_one, &s, "one$1")
    }

    fn normalize(&self, s: &str) -> NResult<String> {
        let s = self.preprocess(s)?;
        let words = self.process_words(&py::split(&s));
        self.postprocess(&words.join(" "))
    }

    /// `process_words`, yielding into a vector.
    fn process_words(&self, words: &[&str]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut prefix: Option<String> = None;
        let mut value: Option<Val> = None;
        let mut skip = false;

        // `output()`: the prefix, if any, goes in front; both reset.
        fn output(
            out: &mut Vec<String>,
            prefix: &mut Option<String>,
            value: &mut Option<Val>,
            result: String,
        ) {
            let r = match prefix.take() {
                Some(p) => p + &result,
                None => result,
            };
            *value = None;
            out.push(r);
        }
        macro_rules! emit {
            ($r:expr) => {{
                let r: String = $r;
                output(&mut out, &mut prefix, &mut value, r)
            }};
        }
        macro_rules! emit_value {
            () => {
                if let Some(v) = value.clone() {
                    emit!(v.text());
                }
            };
        }

        for i in 0..words.len() {
            if skip {
                skip = false;
                continue;
            }
            let prev = if i > 0 { Some(words[i - 1]) } else { None };
            let current = words[i];
            let next = words.get(i + 1).copied();
            let next_is_numeric = next.is_some_and(is_arabic_number);
            let first = current.chars().next().unwrap_or(' ');
            let has_prefix = self.prefixes.contains(&first);
            let without_prefix = if has_prefix {
                &current[first.len_utf8()..]
            } else {
                current
            };
            let prev_in = |m: &dyn Fn(&str) -> bool| prev.is_some_and(m);
            let in_words = |w: Option<&str>| w.is_some_and(|w| self.words.contains(w));

            if is_arabic_number(without_prefix) {
                // Arabic numbers, possibly with a sign or currency and decimals.
                if let Some(v) = &value {
                    if let Val::Str(s) = v {
                        if s.ends_with('.') {
                            // Concatenate decimals / IP address components.
                            value = Some(Val::Str(format!("{s}{current}")));
                            continue;
                        }
                    }
                    emit_value!();
                }
                if has_prefix {
                    prefix = Some(first.to_string());
                }
                value = Some(match to_fraction(without_prefix) {
                    Some((n, k)) => {
                        let d = BigUint::from(10u32).pow(k);
                        if (&n % &d).is_zero() {
                            Val::Int(n / d)
                        } else {
                            Val::Str(without_prefix.to_string())
                        }
                    }
                    None => Val::Str(without_prefix.to_string()),
                });
            } else if !self.words.contains(current) {
                emit_value!();
                emit!(current.to_string());
            } else if self.zeros.contains(current) {
                value = Some(Val::Str(or_empty(&value) + "0"));
            } else if let Some(&ones) = self.ones.get(current) {
                value = Some(match value.take() {
                    None => Val::Int(BigUint::from(ones)),
                    Some(v)
                        if matches!(v, Val::Str(_)) || prev_in(&|p| self.ones.contains_key(p)) =>
                    {
                        let t = v.text();
                        if prev_in(&|p| self.tens.contains_key(p)) && ones < 10 && t.ends_with('0')
                        {
                            Val::Str(format!("{}{ones}", &t[..t.len() - 1]))
                        } else {
                            Val::Str(format!("{t}{ones}"))
                        }
                    }
                    Some(Val::Int(n)) => {
                        let m = if ones < 10 { 10u32 } else { 100 };
                        if (&n % m).is_zero() {
                            Val::Int(n + ones)
                        } else {
                            Val::Str(format!("{n}{ones}"))
                        }
                    }
                    Some(v) => v,
                });
            } else if let Some(&(ones, suffix)) = self.ones_suffixed.get(current) {
                // Ordinal or cardinal: the number is yielded right away.
                let r = match value.clone() {
                    None => format!("{ones}{suffix}"),
                    Some(v)
                        if matches!(v, Val::Str(_)) || prev_in(&|p| self.ones.contains_key(p)) =>
                    {
                        let t = v.text();
                        if prev_in(&|p| self.tens.contains_key(p)) && ones < 10 && t.ends_with('0')
                        {
                            format!("{}{ones}{suffix}", &t[..t.len() - 1])
                        } else {
                            format!("{t}{ones}{suffix}")
                        }
                    }
                    Some(Val::Int(n)) => {
                        let m = if ones < 10 { 10u32 } else { 100 };
                        if (&n % m).is_zero() {
                            format!("{}{suffix}", n + ones)
                        } else {
                            format!("{n}{ones}{suffix}")
                        }
                    }
                    Some(Val::Str(s)) => s,
                };
                emit!(r);
                value = None;
            } else if let Some(&tens) = self.tens.get(current) {
                value = Some(match value.take() {
                    None => Val::Int(BigUint::from(tens)),
                    Some(Val::Str(s)) => Val::Str(format!("{s}{tens}")),
                    Some(Val::Int(n)) => {
                        if (&n % 100u32).is_zero() {
                            Val::Int(n + tens)
                        } else {
                            Val::Str(format!("{n}{tens}"))
                        }
                    }
                });
            } else if let Some(&(tens, suffix)) = self.tens_suffixed.get(current) {
                let r = match value.clone() {
                    None => format!("{tens}{suffix}"),
                    Some(Val::Str(s)) => format!("{s}{tens}{suffix}"),
                    Some(Val::Int(n)) => {
                        if (&n % 100u32).is_zero() {
                            format!("{}{suffix}", n + tens)
                        } else {
                            format!("{n}{tens}{suffix}")
                        }
                    }
                };
                emit!(r);
            } else if let Some(multiplier) = self.multipliers.get(current) {
                match value.clone() {
                    None => value = Some(Val::Int(multiplier.clone())),
                    Some(v)
                        if matches!(&v, Val::Str(_))
                            || matches!(&v, Val::Int(n) if n.is_zero()) =>
                    {
                        match times_if_integer(&v.text(), multiplier) {
                            Some(p) => value = Some(Val::Int(p)),
                            None => {
                                emit!(v.text());
                                value = Some(Val::Int(multiplier.clone()));
                            }
                        }
                    }
                    Some(Val::Int(n)) => {
                        let before = &n / 1000u32 * 1000u32;
                        let residual = &n % 1000u32;
                        value = Some(Val::Int(before + residual * multiplier));
                    }
                    Some(v) => value = Some(v),
                }
            } else if let Some((multiplier, suffix)) = self.multipliers_suffixed.get(current) {
                match value.clone() {
                    None => emit!(format!("{multiplier}{suffix}")),
                    Some(Val::Str(s)) => match times_if_integer(&s, multiplier) {
                        Some(p) => emit!(format!("{p}{suffix}")),
                        None => {
                            emit!(s);
                            emit!(format!("{multiplier}{suffix}"));
                        }
                    },
                    Some(Val::Int(n)) => {
                        let before = &n / 1000u32 * 1000u32;
                        let residual = &n % 1000u32;
                        let v = before + residual * multiplier;
                        emit!(format!("{v}{suffix}"));
                    }
                }
                value = None;
            } else if let Some(&p) = self.preceding_prefixers.get(current) {
                // A sign applies only if a number follows.
                emit_value!();
                if in_words(next) || next_is_numeric {
                    prefix = Some(p.to_string());
                } else {
                    emit!(current.to_string());
                }
            } else if let Some(&p) = self.following_prefixers.get(current) {
                // A currency applies only after a number.
                if let Some(v) = value.clone() {
                    prefix = Some(p.to_string());
                    emit!(v.text());
                } else {
                    emit!(current.to_string());
                }
            } else if current == "per" || current == "percent" {
                if let Some(v) = value.clone() {
                    if current == "per" {
                        if next == Some("cent") {
                            emit!(format!("{}%", v.text()));
                            skip = true;
                        } else {
                            emit!(v.text());
                            emit!(current.to_string());
                        }
                    } else {
                        emit!(format!("{}%", v.text()));
                    }
                } else {
                    emit!(current.to_string());
                }
            } else if self.specials.contains(current) {
                if !in_words(next) && !next_is_numeric {
                    // Special handling only if the next word can be numeric.
                    emit_value!();
                    emit!(current.to_string());
                } else if current == "and" {
                    // "and" after hundreds, thousands, ... is dropped.
                    if !prev_in(&|p| self.multipliers.contains_key(p)) {
                        emit_value!();
                        emit!(current.to_string());
                    }
                } else if current == "double" || current == "triple" {
                    let nx = next.unwrap_or("");
                    if self.ones.contains_key(nx) || self.zeros.contains(nx) {
                        let repeats = if current == "double" { 2 } else { 3 };
                        let ones = self.ones.get(nx).copied().unwrap_or(0);
                        value = Some(Val::Str(
                            or_empty(&value) + &ones.to_string().repeat(repeats),
                        ));
                        skip = true;
                    } else {
                        emit_value!();
                        emit!(current.to_string());
                    }
                } else if current == "point"
                    && (next.is_some_and(|n| self.decimals.contains(n)) || next_is_numeric)
                {
                    value = Some(Val::Str(or_empty(&value) + "."));
                }
            }
        }
        if let Some(v) = value.clone() {
            emit!(v.text());
        }
        out
    }
}

/// Whisper's `EnglishTextNormalizer`.
#[derive(Debug)]
pub struct EnglishTextNormalizer {
    re_brackets: Regex,
    re_parens: Regex,
    re_ignore: Regex,
    re_space_apostrophe: Regex,
    replacers: Vec<(Regex, &'static str)>,
    re_digit_comma: Regex,
    re_period: Regex,
    re_symbol_prefix: Regex,
    re_percent: Regex,
    re_spaces: Regex,
    numbers: NumberNormalizer,
    spellings: HashMap<String, String>,
}

/// Contractions, titles and perfect tenses, applied in this order.
const REPLACERS: [(&str, &str); 49] = [
    (r"\bBwon't\bE", "will not"),
    (r"\bBcan't\bE", "can not"),
    (r"\bBlet's\bE", "let us"),
    (r"\bBain't\bE", "aint"),
    (r"\bBy'all\bE", "you all"),
    (r"\bBwanna\bE", "want to"),
    (r"\bBgotta\bE", "got to"),
    (r"\bBgonna\bE", "going to"),
    (r"\bBi'ma\bE", "i am going to"),
    (r"\bBimma\bE", "i am going to"),
    (r"\bBwoulda\bE", "would have"),
    (r"\bBcoulda\bE", "could have"),
    (r"\bBshoulda\bE", "should have"),
    (r"\bBma'am\bE", "madam"),
    (r"\bBmr\bE", "mister "),
    (r"\bBmrs\bE", "missus "),
    (r"\bBst\bE", "saint "),
    (r"\bBdr\bE", "doctor "),
    (r"\bBprof\bE", "professor "),
    (r"\bBcapt\bE", "captain "),
    (r"\bBgov\bE", "governor "),
    (r"\bBald\bE", "alderman "),
    (r"\bBgen\bE", "general "),
    (r"\bBsen\bE", "senator "),
    (r"\bBrep\bE", "representative "),
    (r"\bBpres\bE", "president "),
    (r"\bBrev\bE", "reverend "),
    (r"\bBhon\bE", "honorable "),
    (r"\bBasst\bE", "assistant "),
    (r"\bBassoc\bE", "associate "),
    (r"\bBlt\bE", "lieutenant "),
    (r"\bBcol\bE", "colonel "),
    (r"\bBjr\bE", "junior "),
    (r"\bBsr\bE", "senior "),
    (r"\bBesq\bE", "esquire "),
    (r"'d been\bE", " had been"),
    (r"'s been\bE", " has been"),
    (r"'d gone\bE", " had gone"),
    (r"'s gone\bE", " has gone"),
    (r"'d done\bE", " had done"),
    (r"'s got\bE", " has got"),
    (r"n't\bE", " not"),
    (r"'re\bE", " are"),
    (r"'s\bE", " is"),
    (r"'d\bE", " would"),
    (r"'ll\bE", " will"),
    (r"'t\bE", " not"),
    (r"'ve\bE", " have"),
    (r"'m\bE", " am"),
];

impl Default for EnglishTextNormalizer {
    fn default() -> Self {
        Self::new()
    }
}

impl EnglishTextNormalizer {
    pub fn new() -> Self {
        let spellings: HashMap<String, String> =
            serde_json::from_str(include_str!("whisper_english.json")).unwrap_or_default();
        Self {
            re_brackets: py_re(r"[<\[][^>\]]*[>\]]"),
            re_parens: py_re(r"\(([^)]+?)\)"),
            re_ignore: py_re(r"\bB(hmm|mm|mhm|mmm|uh|um)\bE"),
            re_space_apostrophe: py_re(r"\s+'"),
            replacers: REPLACERS.iter().map(|&(p, r)| (py_re(p), r)).collect(),
            re_digit_comma: py_re(r"(\d),(\d)"),
            re_period: py_re(r"\.([^0-9]|$)"),
            re_symbol_prefix: py_re(r"[.$¢€£]([^0-9])"),
            re_percent: py_re(r"([^0-9])%"),
            re_spaces: py_re(r"\s+"),
            numbers: NumberNormalizer::new(),
            spellings,
        }
    }

    /// Normalises one transcript.
    pub fn normalize(&self, s: &str) -> Result<String, NormalizeError> {
        let s = s.to_lowercase();
        let s = sub(&self.re_brackets, &s, "")?;
        let s = sub(&self.re_parens, &s, "")?;
        let s = sub(&self.re_ignore, &s, "")?;
        let mut s = sub(&self.re_space_apostrophe, &s, "'")?;
        for (re, rep) in &self.replacers {
            s = sub(re, &s, rep)?;
        }
        let s = sub(&self.re_digit_comma, &s, "$1$2")?;
        let s = sub(&self.re_period, &s, " $1")?;
        let s = remove_symbols_and_diacritics(&s, ".%$¢€£");
        let s = self.numbers.normalize(&s)?;
        let s = py::split(&s)
            .into_iter()
            .map(|w| self.spellings.get(w).map_or(w, String::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        let s = sub(&self.re_symbol_prefix, &s, " $1")?;
        let s = sub(&self.re_percent, &s, "$1 ")?;
        sub(&self.re_spaces, &s, " ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        EnglishTextNormalizer::new().normalize(s).unwrap()
    }

    #[test]
    fn patterns_compile_and_spellings_load() {
        let n = EnglishTextNormalizer::new();
        assert_eq!(n.replacers.len(), 49);
        assert!(n.spellings.len() > 1700);
    }

    #[test]
    fn whisper_examples() {
        assert_eq!(norm("Mr. Smith's colour"), "mister smith is color");
        assert_eq!(norm("twenty one"), "21");
        assert_eq!(norm("one hundred and five"), "105");
        assert_eq!(norm("it's $20 million"), "it is $20000000");
        assert_eq!(norm("[noise] hmm, uh, OK."), "ok");
        assert_eq!(norm("one"), "one");
        assert_eq!(norm("two and a half"), "2.5");
    }
}

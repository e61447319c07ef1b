//! Exact match of a final answer extracted from generated text.
//!
//! - [`Extractor::Gsm8k`]: GSM8K as `language/mixtral-8x7b/
//!   evaluate-accuracy.py` scores it: cut the text at the first `"\nQ:"`,
//!   take the first number after the last "The answer is" if there is one,
//!   else the last number (`-?[\d,]*\.?\d+`), drop commas, and compare with
//!   the reference as Python floats (`float(a) == float(b)`); a prediction
//!   without a number is wrong.
//! - [`Extractor::Aime`]: AIME-style integer answers as `language/
//!   gpt-oss-120b/eval_accuracy.py` (`parse_aime_answer`,
//!   `evaluate_aime`): the last `\boxed{N}`, else the last `Answer: N`, an
//!   integer in 0..=999, equal to `int(reference)`.
//!
//! Repeated samples count once (the first response).

use fancy_regex::Regex as FancyRegex;
use regex::Regex;

use crate::common::entry;
use crate::error::Result;
use crate::ground_truth::TextReferences;
use crate::log::AccuracyLog;
use crate::py;

/// How the final answer is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Extractor {
    #[default]
    Gsm8k,
    Aime,
}

/// Correct answers and scored samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExactMatchScore {
    pub correct: usize,
    pub total: usize,
    pub extractor: Extractor,
    /// Sum of `token_count` when every scored record has one.
    pub gen_tok_len: Option<u64>,
}

impl ExactMatchScore {
    /// Percent correct (`100.0 * correct / total`).
    pub fn accuracy(&self) -> f64 {
        100.0 * self.correct as f64 / self.total as f64
    }

    /// `round(gen_tok_len / gen_num, 1)`, when token counts are known.
    pub fn tokens_per_sample(&self) -> Option<f64> {
        self.gen_tok_len
            .map(|t| py::round(t as f64 / self.total as f64, 1))
    }
}

/// The GSM8K extractor and comparison.
#[derive(Debug)]
pub struct Gsm8k {
    numbers: Regex,
}

impl Default for Gsm8k {
    fn default() -> Self {
        Self::new()
    }
}

impl Gsm8k {
    pub fn new() -> Self {
        Self {
            // A constant pattern; `\d` is Unicode Nd in both engines.
            numbers: Regex::new(r"-?[\d,]*\.?\d+").unwrap_or_else(|e| panic!("{e}")),
        }
    }

    fn find_numbers<'t>(&self, x: &'t str) -> Vec<&'t str> {
        self.numbers.find_iter(x).map(|m| m.as_str()).collect()
    }

    /// `find_number(x)`: the number the answer is taken to be, or "".
    pub fn find_number<'t>(&self, x: &'t str) -> &'t str {
        const DELIMITER: &str = "The answer is";
        if let Some(pos) = x.rfind(DELIMITER) {
            if let Some(n) = self.find_numbers(&x[pos + DELIMITER.len()..]).first() {
                return n;
            }
        }
        self.find_numbers(x).last().copied().unwrap_or("")
    }

    /// `maybe_remove_comma(find_number(text.split("\nQ:")[0]))`.
    pub fn extract(&self, text: &str) -> String {
        let head = text.split("\nQ:").next().unwrap_or("");
        self.find_number(head).replace(',', "")
    }

    /// Whether `prediction` answers `reference`.
    pub fn is_correct(&self, prediction: &str, reference: &str) -> bool {
        match (
            py::parse_float(&self.extract(prediction)),
            py::parse_float(reference),
        ) {
            (Some(p), Some(r)) => p == r,
            _ => false,
        }
    }
}

/// The AIME extractor and comparison.
#[derive(Debug)]
pub struct Aime {
    boxed: FancyRegex,
    answer: FancyRegex,
}

impl Default for Aime {
    fn default() -> Self {
        Self::new()
    }
}

/// Python's `int(s)` for a string of (Unicode) digits with optional sign
/// and surrounding whitespace; `None` where Python raises or the value is
/// too large to matter here.
fn py_int(s: &str) -> Option<i128> {
    let s = py::strip(s);
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let b: Vec<char> = digits.chars().collect();
    if b.is_empty() || b.first() == Some(&'_') || b.last() == Some(&'_') || digits.contains("__") {
        return None;
    }
    let mut v: i128 = 0;
    for c in b.into_iter().filter(|&c| c != '_') {
        v = v
            .checked_mul(10)?
            .checked_add(i128::from(py::decimal_value(c)?))?;
    }
    Some(if neg { -v } else { v })
}

impl Aime {
    pub fn new() -> Self {
        let w = py::RE_WORD;
        let s = py::RE_SPACE;
        let re = |p: String| FancyRegex::new(&p).unwrap_or_else(|e| panic!("{e}"));
        Self {
            boxed: re(format!(r"\\boxed\{{{s}*(\d+){s}*\}}")),
            answer: re(format!(r"(?im)answer:{s}*(\d+)(?!\.)(?!{w})")),
        }
    }

    /// `parse_aime_answer`: the answer in 0..=999, if any.
    pub fn extract(&self, text: &str) -> Option<i128> {
        let last = |re: &FancyRegex| {
            re.captures_iter(text)
                .filter_map(|c| c.ok())
                .last()
                .and_then(|c| c.get(1).map(|m| m.as_str().to_string()))
        };
        let digits = last(&self.boxed).or_else(|| last(&self.answer))?;
        py_int(&digits).filter(|v| (0..=999).contains(v))
    }

    /// `evaluate_aime(parse_aime_answer(prediction), reference)`.
    pub fn is_correct(&self, prediction: &str, reference: &str) -> bool {
        match (self.extract(prediction), py_int(reference)) {
            (Some(p), Some(r)) => p == r,
            _ => false,
        }
    }
}

/// Scores the text responses of `log` against the reference answers.
pub fn exact_match(
    log: &AccuracyLog,
    refs: &TextReferences,
    extractor: Extractor,
) -> Result<ExactMatchScore> {
    log.require_records()?;
    let firsts = log.first_per_sample();
    let gsm8k = Gsm8k::new();
    let aime = Aime::new();
    let mut correct = 0;
    let mut gen_tok_len = Some(0u64);
    for &i in &firsts {
        let reference = entry(log, i, &refs.items, &refs.path)?;
        let text = log.text(i)?;
        let ok = match extractor {
            Extractor::Gsm8k => gsm8k.is_correct(text, reference),
            Extractor::Aime => aime.is_correct(text, reference),
        };
        correct += usize::from(ok);
        gen_tok_len = gen_tok_len
            .zip(log.records[i].token_count)
            .map(|(a, b)| a + b);
    }
    Ok(ExactMatchScore {
        correct,
        total: firsts.len(),
        extractor,
        gen_tok_len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm8k_extraction() {
        let g = Gsm8k::new();
        assert_eq!(
            g.extract("so 3 + 4 = 7. The answer is 1,234.\nQ: next 99"),
            "1234"
        );
        assert_eq!(g.extract("costs -2.50 then 18"), "18");
        assert_eq!(g.extract("no numbers"), "");
        assert!(g.is_correct("The answer is 18.0", "18"));
        assert!(!g.is_correct("The answer is eighteen", "18"));
    }

    #[test]
    fn aime_extraction() {
        let a = Aime::new();
        assert_eq!(a.extract(r"x \boxed{ 42 } y \boxed{7}"), Some(7));
        assert_eq!(a.extract("ANSWER: 12"), Some(12));
        assert_eq!(a.extract("Answer: 12.5"), None);
        assert_eq!(a.extract("Answer: 1000"), None);
        assert!(a.is_correct("Answer: 033", " 33 "));
    }
}

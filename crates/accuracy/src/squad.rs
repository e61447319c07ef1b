//! SQuAD v1.1 exact match and F1 with the official answer normalisation
//! (`language/bert/evaluate_v1.1.py`): lower-case, drop ASCII punctuation,
//! drop the articles a/an/the as whole words, collapse whitespace; F1 over
//! the bag of normalised tokens; the best over a question's answers.
//!
//! The responses are the predicted answer texts (UTF-8), the question of
//! record `qsl_idx` is the `qsl_idx`-th question of the ground truth. As in
//! the official script the denominator is every question of the ground
//! truth; unanswered questions score 0. (MLPerf's BERT harness first turns
//! start/end logits into answer texts with the BERT tokenizer; that step is
//! not reproduced: log answer texts.)

use std::collections::HashMap;

use crate::common::entry;
use crate::error::Result;
use crate::ground_truth::SquadReferences;
use crate::log::AccuracyLog;
use crate::py;

/// Exact match and F1 in percent, with counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SquadScore {
    pub exact_match: f64,
    pub f1: f64,
    /// Questions with a response.
    pub answered: usize,
    /// Questions in the ground truth (the denominator).
    pub total: usize,
}

/// `normalize_answer`.
pub fn normalize_answer(s: &str) -> String {
    let lower = s.to_lowercase();
    let no_punc: String = lower
        .chars()
        .filter(|c| !c.is_ascii_punctuation())
        .collect();
    let no_articles = remove_articles(&no_punc);
    py::split(&no_articles).join(" ")
}

/// `re.sub(r"\b(a|an|the)\b", " ", text)` with Python's `\b`.
fn remove_articles(text: &str) -> String {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let word_at = |k: usize| chars.get(k).is_some_and(|&(_, c)| py::is_word(c));
    let mut out = String::with_capacity(text.len());
    let mut k = 0;
    while k < chars.len() {
        let boundary_before = k == 0 || !word_at(k - 1);
        if boundary_before {
            let rest = &text[chars[k].0..];
            let hit = ["a", "an", "the"].into_iter().find(|alt| {
                let n = alt.chars().count();
                rest.starts_with(alt) && !word_at(k + n)
            });
            if let Some(alt) = hit {
                out.push(' ');
                k += alt.chars().count();
                continue;
            }
        }
        out.push(chars[k].1);
        k += 1;
    }
    out
}

/// `f1_score(prediction, ground_truth)`.
pub fn f1_score(prediction: &str, ground_truth: &str) -> f64 {
    let p = normalize_answer(prediction);
    let g = normalize_answer(ground_truth);
    let p: Vec<&str> = py::split(&p);
    let g: Vec<&str> = py::split(&g);
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for t in &g {
        *counts.entry(t).or_default() += 1;
    }
    let mut same = 0usize;
    for t in &p {
        if let Some(c) = counts.get_mut(t) {
            if *c > 0 {
                *c -= 1;
                same += 1;
            }
        }
    }
    if same == 0 {
        return 0.0;
    }
    let precision = 1.0 * same as f64 / p.len() as f64;
    let recall = 1.0 * same as f64 / g.len() as f64;
    (2.0 * precision * recall) / (precision + recall)
}

/// `exact_match_score(prediction, ground_truth)`.
pub fn exact_match_score(prediction: &str, ground_truth: &str) -> bool {
    normalize_answer(prediction) == normalize_answer(ground_truth)
}

/// Scores the answer texts of `log` (first response per sample).
pub fn squad(log: &AccuracyLog, refs: &SquadReferences) -> Result<SquadScore> {
    log.require_records()?;
    let mut predictions: Vec<Option<&str>> = vec![None; refs.questions.len()];
    for i in log.first_per_sample() {
        entry(log, i, &refs.questions, &refs.path)?;
        // `entry` checked the index.
        let q = log.records[i].qsl_idx as usize;
        predictions[q] = Some(log.text(i)?);
    }
    let (mut em, mut f1) = (0usize, 0.0f64);
    let mut answered = 0;
    for (q, pred) in refs.questions.iter().zip(&predictions) {
        let Some(pred) = pred else { continue };
        answered += 1;
        if q.answers.iter().any(|a| exact_match_score(pred, a)) {
            em += 1;
        }
        f1 += q
            .answers
            .iter()
            .map(|a| f1_score(pred, a))
            .fold(f64::NEG_INFINITY, f64::max);
    }
    let total = refs.questions.len();
    Ok(SquadScore {
        exact_match: 100.0 * em as f64 / total as f64,
        f1: 100.0 * f1 / total as f64,
        answered,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_normalisation() {
        assert_eq!(normalize_answer("The  Cat's hat!"), "cats hat");
        assert_eq!(normalize_answer("an apple a day"), "apple day");
        assert_eq!(normalize_answer("Theatre"), "theatre");
        assert_eq!(normalize_answer("a_b the"), "ab"); // `_` is punctuation
        assert_eq!(f1_score("the cat sat", "cat sat down"), 0.8);
        assert!(exact_match_score("The Beatles.", "beatles"));
    }
}

//! ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum F-measures as `rouge-score`
//! 0.1.2 computes them with `use_stemmer=True` (through `evaluate`'s
//! "rouge" metric with `use_aggregator=False`), after the MLPerf LLM
//! scripts' `postprocess_text`: strip, split into sentences with
//! `nltk.sent_tokenize` ([`PunktModel`]), join with newlines. The result is
//! the mean over samples times 100, as `language/llama2-70b/
//! evaluate-accuracy.py` prints it (rounded to 4 decimals there).
//!
//! Tokenisation (`rouge_score/tokenize.py`): lower-case (Unicode), every
//! run of characters other than `a-z0-9` is a separator, words longer than
//! three characters are stemmed with NLTK's Porter stemmer ([`crate::porter`]).
//! ROUGE-Lsum splits summaries on newlines and scores the union LCS of each
//! reference sentence against all candidate sentences, counting each token
//! at most as often as it occurs (ROUGE-1.5.5's summary-level LCS).

use std::collections::HashMap;

use crate::common::entry;
use crate::error::Result;
use crate::ground_truth::TextReferences;
use crate::log::AccuracyLog;
use crate::porter::CachedStemmer;
use crate::punkt::PunktModel;
use crate::py;

/// F-measures of one (reference, prediction) pair, in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RougePair {
    pub rouge1: f64,
    pub rouge2: f64,
    pub rouge_l: f64,
    pub rouge_lsum: f64,
}

/// Mean F-measures in percent (unrounded), with MLPerf's length counters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RougeScore {
    pub rouge1: f64,
    pub rouge2: f64,
    pub rouge_l: f64,
    pub rouge_lsum: f64,
    /// Characters (code points) of all post-processed predictions
    /// (`gen_len`).
    pub gen_len: u64,
    /// Scored samples (`gen_num`).
    pub gen_num: usize,
    /// Sum of the records' `token_count`, when every scored record has one
    /// (`gen_tok_len`; the scripts count decoded token ids instead).
    pub gen_tok_len: Option<u64>,
}

impl RougeScore {
    /// `round(gen_tok_len / gen_num, 1)`, when token counts are known.
    pub fn tokens_per_sample(&self) -> Option<f64> {
        self.gen_tok_len
            .map(|t| py::round(t as f64 / self.gen_num as f64, 1))
    }
}

/// `rouge_score`'s `RougeScorer(["rouge1", "rouge2", "rougeL",
/// "rougeLsum"], use_stemmer=True)`.
#[derive(Debug, Default)]
pub struct RougeScorer {
    stemmer: CachedStemmer,
}

impl RougeScorer {
    pub fn new() -> Self {
        Self::default()
    }

    /// `tokenize.tokenize(text, stemmer)`.
    pub fn tokenize(&mut self, text: &str) -> Vec<String> {
        let lower = text.to_lowercase();
        lower
            .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
            .filter(|t| !t.is_empty())
            .map(|t| {
                if t.len() > 3 {
                    self.stemmer.stem(t)
                } else {
                    t.to_string()
                }
            })
            .filter(|t| {
                !t.is_empty()
                    && t.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            })
            .collect()
    }

    /// `RougeScorer.score(target, prediction)`, F-measures only.
    pub fn score(&mut self, target: &str, prediction: &str) -> RougePair {
        let t = self.tokenize(target);
        let p = self.tokenize(prediction);
        let ts: Vec<Vec<String>> = sents(target)
            .into_iter()
            .map(|s| self.tokenize(s))
            .collect();
        let ps: Vec<Vec<String>> = sents(prediction)
            .into_iter()
            .map(|s| self.tokenize(s))
            .collect();
        RougePair {
            rouge1: score_ngrams(&t, &p, 1),
            rouge2: score_ngrams(&t, &p, 2),
            rouge_l: score_lcs(&t, &p),
            rouge_lsum: summary_level_lcs(&ts, &ps),
        }
    }
}

/// `get_sents` without `split_summaries`: non-empty lines.
fn sents(s: &str) -> Vec<&str> {
    s.split('\n').filter(|x| !x.is_empty()).collect()
}

/// `scoring.fmeasure`.
fn fmeasure(precision: f64, recall: f64) -> f64 {
    if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    }
}

fn score_ngrams(t: &[String], p: &[String], n: usize) -> f64 {
    fn ngrams(tokens: &[String], n: usize) -> HashMap<&[String], usize> {
        let mut m = HashMap::new();
        if tokens.len() >= n {
            for w in tokens.windows(n) {
                *m.entry(w).or_default() += 1;
            }
        }
        m
    }
    let tn = ngrams(t, n);
    let pn = ngrams(p, n);
    let inter: usize = tn
        .iter()
        .map(|(g, &c)| c.min(pn.get(g).copied().unwrap_or(0)))
        .sum();
    let t_count: usize = tn.values().sum();
    let p_count: usize = pn.values().sum();
    let precision = inter as f64 / p_count.max(1) as f64;
    let recall = inter as f64 / t_count.max(1) as f64;
    fmeasure(precision, recall)
}

/// `_lcs_table`.
fn lcs_table(r: &[String], c: &[String]) -> Vec<Vec<u32>> {
    let mut t = vec![vec![0u32; c.len() + 1]; r.len() + 1];
    for i in 1..=r.len() {
        for j in 1..=c.len() {
            t[i][j] = if r[i - 1] == c[j - 1] {
                t[i - 1][j - 1] + 1
            } else {
                t[i - 1][j].max(t[i][j - 1])
            };
        }
    }
    t
}

fn score_lcs(t: &[String], p: &[String]) -> f64 {
    if t.is_empty() || p.is_empty() {
        return 0.0;
    }
    let lcs = f64::from(lcs_table(t, p)[t.len()][p.len()]);
    fmeasure(lcs / p.len() as f64, lcs / t.len() as f64)
}

/// `lcs_ind`: indices into `r` of one LCS, read back as `_backtrack_norec`
/// does (its tie-breaking decides which tokens the union contains).
fn lcs_indices(r: &[String], c: &[String]) -> Vec<usize> {
    let t = lcs_table(r, c);
    let (mut i, mut j) = (r.len(), c.len());
    let mut out = Vec::new();
    while i > 0 && j > 0 {
        if r[i - 1] == c[j - 1] {
            out.push(i - 1);
            i -= 1;
            j -= 1;
        } else if t[i][j - 1] > t[i - 1][j] {
            j -= 1;
        } else {
            i -= 1;
        }
    }
    out.reverse();
    out
}

/// `_summary_level_lcs`.
fn summary_level_lcs(refs: &[Vec<String>], cands: &[Vec<String>]) -> f64 {
    if refs.is_empty() || cands.is_empty() {
        return 0.0;
    }
    let m: usize = refs.iter().map(Vec::len).sum();
    let n: usize = cands.iter().map(Vec::len).sum();
    if m == 0 || n == 0 {
        return 0.0;
    }
    let mut cnt_r: HashMap<&str, usize> = HashMap::new();
    let mut cnt_c: HashMap<&str, usize> = HashMap::new();
    for s in refs {
        for t in s {
            *cnt_r.entry(t).or_default() += 1;
        }
    }
    for s in cands {
        for t in s {
            *cnt_c.entry(t).or_default() += 1;
        }
    }
    let mut hits = 0usize;
    for r in refs {
        let mut union: Vec<usize> = cands.iter().flat_map(|c| lcs_indices(r, c)).collect();
        union.sort_unstable();
        union.dedup();
        for idx in union {
            let tok = r[idx].as_str();
            let (Some(c), Some(rr)) = (cnt_c.get(tok).copied(), cnt_r.get(tok).copied()) else {
                continue;
            };
            if c > 0 && rr > 0 {
                hits += 1;
                cnt_c.insert(tok, c - 1);
                cnt_r.insert(tok, rr - 1);
            }
        }
    }
    fmeasure(hits as f64 / n as f64, hits as f64 / m as f64)
}

/// The MLPerf scripts' `postprocess_text` for one text: strip, split into
/// sentences, one per line.
pub fn postprocess_text(text: &str, punkt: &PunktModel) -> String {
    punkt.sent_tokenize(py::strip(text)).join("\n")
}

/// Scores the text responses of `log` (first response per sample) against
/// `refs`.
pub fn rouge(log: &AccuracyLog, refs: &TextReferences, punkt: &PunktModel) -> Result<RougeScore> {
    log.require_records()?;
    let mut scorer = RougeScorer::new();
    let firsts = log.first_per_sample();
    let mut pairs = Vec::with_capacity(firsts.len());
    let mut gen_len = 0u64;
    let mut gen_tok_len = Some(0u64);
    for &i in &firsts {
        let target = entry(log, i, &refs.items, &refs.path)?;
        let pred = postprocess_text(log.text(i)?, punkt);
        let target = postprocess_text(target, punkt);
        gen_len += pred.chars().count() as u64;
        gen_tok_len = gen_tok_len
            .zip(log.records[i].token_count)
            .map(|(a, b)| a + b);
        pairs.push(scorer.score(&target, &pred));
    }
    let mean =
        |f: fn(&RougePair) -> f64| py::numpy_mean(&pairs.iter().map(f).collect::<Vec<_>>()) * 100.0;
    Ok(RougeScore {
        rouge1: mean(|p| p.rouge1),
        rouge2: mean(|p| p.rouge2),
        rouge_l: mean(|p| p.rouge_l),
        rouge_lsum: mean(|p| p.rouge_lsum),
        gen_len,
        gen_num: firsts.len(),
        gen_tok_len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rouge_score_readme_example() {
        // rouge-score's README: 'The quick brown fox jumps over the lazy dog'
        // vs 'The quick brown dog jumps on the log.'
        let mut s = RougeScorer::new();
        let r = s.score(
            "The quick brown fox jumps over the lazy dog",
            "The quick brown dog jumps on the log.",
        );
        assert_eq!(r.rouge1, 0.7058823529411765);
        assert_eq!(r.rouge2, 0.26666666666666666);
        assert_eq!(r.rouge_l, 0.5882352941176471);
        assert_eq!(r.rouge_lsum, 0.5882352941176471);
    }

    #[test]
    fn tokenizer_drops_non_ascii_and_stems() {
        let mut s = RougeScorer::new();
        assert_eq!(
            s.tokenize("Running, runs; café ÜBER 42x"),
            vec!["run", "run", "caf", "ber", "42x"]
        );
        assert!(s.tokenize("").is_empty());
    }
}

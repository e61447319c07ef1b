//! Word error rate as MLPerf's Whisper benchmark computes it
//! (`speech2text/accuracy_eval.py`): both texts go through Whisper's
//! `EnglishTextNormalizer`, are split on whitespace, and per sample the
//! word-level Levenshtein distance is taken after
//! `compute_wer_with_concatenation` has aligned words that differ only by
//! spacing ("every one" vs "everyone", up to three words); the rate is the
//! sum of distances over the sum of reference words, over every record (the
//! script does not de-duplicate). [`WerMode::Standard`] skips the
//! concatenation step: the plain WER that `jiwer.wer` gives on the
//! normalised texts.
//!
//! Responses are UTF-8 text, or, as in the MLPerf harness, integer indices
//! into the Whisper benchmark's 42-character alphabet
//! ([`ResponseFormat::WhisperLabels`]); then the references are reduced to
//! that alphabet too, as `Manifest.parse_transcript` does.

use crate::common::entry;
use crate::error::{AccuracyError, Result};
use crate::ground_truth::TextReferences;
use crate::log::{AccuracyLog, Dtype};
use crate::py;
use crate::whisper::EnglishTextNormalizer;

/// The alphabet of `speech2text/accuracy_eval.py` (`labels`).
pub const WHISPER_LABELS: [char; 42] = [
    ' ', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r',
    's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '\'', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9',
    '$', '%', '+', '-',
];

/// How responses encode text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFormat {
    /// UTF-8 bytes.
    Text,
    /// Indices into [`WHISPER_LABELS`], one element of this dtype per
    /// character. (The MLPerf script maps its `int32` choice to Python's
    /// `array` code `l`, which is 8 bytes on Linux; here int32 is 4 bytes.)
    WhisperLabels(Dtype),
}

/// With or without MLPerf's concatenation-aware alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WerMode {
    /// `compute_wer_with_concatenation` (the MLPerf metric).
    #[default]
    Mlperf,
    /// Plain word-level Levenshtein distance (`jiwer.wer`).
    Standard,
}

/// Word errors and reference words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WerScore {
    pub errors: usize,
    pub words: usize,
    pub samples: usize,
}

impl WerScore {
    /// Errors per reference word.
    pub fn wer(&self) -> f64 {
        self.errors as f64 / self.words as f64
    }

    /// `(1 - wer) * 100`, the value the quality target applies to.
    pub fn accuracy(&self) -> f64 {
        (1.0 - self.wer()) * 100.0
    }
}

/// `__levenshtein(a, b)` over words.
pub fn levenshtein<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let (a, b) = if a.len() > b.len() { (b, a) } else { (a, b) };
    let n = a.len();
    let mut current: Vec<usize> = (0..=n).collect();
    for i in 1..=b.len() {
        let previous = std::mem::replace(&mut current, vec![0; n + 1]);
        current[0] = i;
        for j in 1..=n {
            let add = previous[j] + 1;
            let delete = current[j - 1] + 1;
            let change = previous[j - 1] + usize::from(a[j - 1] != b[i - 1]);
            current[j] = add.min(delete).min(change);
        }
    }
    current[n]
}

/// `compute_wer_with_concatenation(prediction, reference)`: (distance,
/// reference words).
pub fn wer_with_concatenation(hyp: &[&str], reference: &[&str]) -> (usize, usize) {
    let mut ref_aligned: Vec<String> = Vec::new();
    let mut hyp_aligned: Vec<String> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < reference.len() && j < hyp.len() {
        if reference[i] == hyp[j] {
            ref_aligned.push(reference[i].to_string());
            hyp_aligned.push(hyp[j].to_string());
            i += 1;
            j += 1;
            continue;
        }
        let mut matched = None;
        for k in 1..4 {
            if i + k <= reference.len() && reference[i..i + k].concat() == hyp[j] {
                matched = Some((k, 1));
                break;
            }
            if j + k <= hyp.len() && hyp[j..j + k].concat() == reference[i] {
                matched = Some((1, k));
                break;
            }
        }
        let (rl, hl) = matched.unwrap_or((1, 1));
        // The pair is joined with spaces and the spaces removed again.
        ref_aligned.push(reference[i..i + rl].concat());
        hyp_aligned.push(hyp[j..j + hl].concat());
        i += rl;
        j += hl;
    }
    ref_aligned.extend(reference[i..].iter().map(|s| s.to_string()));
    hyp_aligned.extend(hyp[j..].iter().map(|s| s.to_string()));
    (levenshtein(&ref_aligned, &hyp_aligned), reference.len())
}

/// Decodes label indices to text (`__gather_predictions`).
fn labels_to_text(log: &AccuracyLog, i: usize, dtype: Dtype) -> Result<String> {
    log.values(i, dtype)?
        .into_iter()
        .map(|v| {
            v.to_int()
                .and_then(|k| usize::try_from(k).ok())
                .and_then(|k| WHISPER_LABELS.get(k).copied())
                .ok_or_else(|| AccuracyError::CorruptLog {
                    path: log.path.clone(),
                    reason: format!(
                        "record {i} (qsl_idx {}): {v:?} is not an index into the 42 Whisper labels",
                        log.records[i].qsl_idx
                    ),
                })
        })
        .collect()
}

/// Scores the transcripts of `log` against `refs`.
pub fn wer(
    log: &AccuracyLog,
    refs: &TextReferences,
    format: ResponseFormat,
    mode: WerMode,
) -> Result<WerScore> {
    log.require_records()?;
    let normalizer = EnglishTextNormalizer::new();
    let norm = |s: &str, what: &str| {
        normalizer
            .normalize(s)
            .map_err(|e| AccuracyError::Undefined {
                path: log.path.clone(),
                reason: format!("{what}: {e}"),
            })
    };
    let (mut errors, mut words) = (0, 0);
    for i in 0..log.records.len() {
        let reference = entry(log, i, &refs.items, &refs.path)?;
        let (hyp, reference) = match format {
            ResponseFormat::Text => (log.text(i)?.to_string(), reference.clone()),
            ResponseFormat::WhisperLabels(dtype) => (
                labels_to_text(log, i, dtype)?,
                reference
                    .chars()
                    .filter(|c| WHISPER_LABELS.contains(c))
                    .collect(),
            ),
        };
        let h = norm(&hyp, &format!("record {i}"))?;
        let r = norm(&reference, &format!("reference of record {i}"))?;
        let (h, r) = (py::split(&h), py::split(&r));
        let (e, w) = match mode {
            WerMode::Mlperf => wer_with_concatenation(&h, &r),
            WerMode::Standard => (levenshtein(&r, &h), r.len()),
        };
        errors += e;
        words += w;
    }
    if words == 0 {
        return Err(AccuracyError::Undefined {
            path: refs.path.clone(),
            reason:
                "every reference is empty after normalisation, so the word error rate is undefined"
                    .into(),
        });
    }
    Ok(WerScore {
        errors,
        words,
        samples: log.records.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levenshtein_counts_word_edits() {
        assert_eq!(levenshtein(&["a", "b", "c"], &["a", "c"]), 1);
        assert_eq!(levenshtein::<&str>(&[], &["x", "y"]), 2);
        assert_eq!(levenshtein(&["a", "b"], &["b", "a"]), 2);
    }

    #[test]
    fn concatenations_are_forgiven() {
        assert_eq!(
            wer_with_concatenation(&["everyone", "came"], &["every", "one", "came"]),
            (0, 3)
        );
        assert_eq!(
            wer_with_concatenation(&["every", "one", "came"], &["everyone", "came"]),
            (0, 2)
        );
        assert_eq!(
            wer_with_concatenation(&["a", "x"], &["a", "b", "c"]),
            (2, 3)
        );
    }
}

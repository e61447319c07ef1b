//! Top-1 classification accuracy, as `vision/classification_and_detection/
//! tools/accuracy-imagenet.py` computes it: the first element of each
//! response, read as `--dtype` and converted with Python's `int()`, must
//! equal the label of its sample; repeated samples count once (the first).

use crate::common::entry;
use crate::error::AccuracyError;
use crate::error::Result;
use crate::ground_truth::Labels;
use crate::log::{AccuracyLog, Dtype, Value};

/// Correct and scored samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Top1Score {
    pub good: usize,
    pub total: usize,
}

impl Top1Score {
    /// Percent correct.
    pub fn accuracy(&self) -> f64 {
        100.0 * self.good as f64 / self.total as f64
    }
}

/// Scores `log` against `labels`. A float response that is NaN or
/// infinite (where Python's `int()` raises) counts as wrong.
pub fn top1(log: &AccuracyLog, labels: &Labels, dtype: Dtype) -> Result<Top1Score> {
    score_classes(log, labels, dtype, |classes, label| {
        classes[0].to_int() == Some(label)
    })
}

/// Scores the first response of each sample: good when `is_good(classes,
/// label)`, where `classes` (never empty: an empty response is an error)
/// is the response read as `dtype`.
pub(crate) fn score_classes(
    log: &AccuracyLog,
    labels: &Labels,
    dtype: Dtype,
    is_good: impl Fn(&[Value], i128) -> bool,
) -> Result<Top1Score> {
    log.require_records()?;
    let mut good = 0;
    let firsts = log.first_per_sample();
    for &i in &firsts {
        let label = *entry(log, i, &labels.labels, &labels.path)?;
        let classes = log.values(i, dtype)?;
        if classes.is_empty() {
            return Err(AccuracyError::EmptyResponse {
                path: log.path.clone(),
                record: i,
                qsl_idx: log.records[i].qsl_idx,
            });
        }
        if is_good(&classes, label) {
            good += 1;
        }
    }
    Ok(Top1Score {
        good,
        total: firsts.len(),
    })
}

//! Top-k classification accuracy: each response holds the SUT's k best
//! classes (as `--dtype`, converted with Python's `int()`); a sample is good
//! when its label is among them; repeated samples count once (the first).
//! With one class per response this is [`crate::top1`].

use crate::error::Result;
use crate::ground_truth::Labels;
use crate::log::{AccuracyLog, Dtype};
use crate::top1::{score_classes, Top1Score};

/// Scores `log` against `labels`: good and scored samples (printed as
/// top-1's are, `accuracy=..%, good=.., total=..`).
pub fn top_k(log: &AccuracyLog, labels: &Labels, dtype: Dtype) -> Result<Top1Score> {
    score_classes(log, labels, dtype, |classes, label| {
        classes.iter().any(|c| c.to_int() == Some(label))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::AccuracyRecord;

    fn record(qsl_idx: u64, classes: &[i32]) -> AccuracyRecord {
        AccuracyRecord {
            seq_id: qsl_idx,
            qsl_idx,
            data: classes.iter().flat_map(|c| c.to_le_bytes()).collect(),
            token_count: None,
        }
    }

    #[test]
    fn a_sample_is_good_when_its_label_is_among_its_classes() {
        let log = AccuracyLog::from_records(
            "log.json",
            vec![
                record(0, &[3, 1, 0]), // label 0: third class, good
                record(1, &[2, 5, 4]), // label 1: absent
                record(2, &[2, 0, 9]), // label 2: first class, good
                record(0, &[9, 8, 7]), // repeat of sample 0: not counted
            ],
        );
        let labels = Labels {
            path: "labels.txt".into(),
            labels: vec![0, 1, 2],
        };
        let s = top_k(&log, &labels, Dtype::Int32).unwrap();
        assert_eq!(s, Top1Score { good: 2, total: 3 });
        // Top-1 of the same log counts only sample 2.
        let t = crate::top1(&log, &labels, Dtype::Int32).unwrap();
        assert_eq!(t, Top1Score { good: 1, total: 3 });
    }
}

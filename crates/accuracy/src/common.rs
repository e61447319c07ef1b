//! Helpers shared by the scorers.

use std::path::Path;

use crate::error::{AccuracyError, Result};
use crate::log::AccuracyLog;

/// The ground-truth entry for record `record` of `log`, or an error naming
/// both files when its `qsl_idx` is past the end of the ground truth.
pub fn entry<'a, T>(
    log: &AccuracyLog,
    record: usize,
    items: &'a [T],
    ground_truth: &Path,
) -> Result<&'a T> {
    let qsl_idx = log.records[record].qsl_idx;
    usize::try_from(qsl_idx)
        .ok()
        .and_then(|i| items.get(i))
        .ok_or_else(|| AccuracyError::SampleOutOfRange {
            log: log.path.clone(),
            ground_truth: ground_truth.to_path_buf(),
            record,
            qsl_idx,
            count: items.len(),
        })
}

//! Recording a run that does not go through the core's `start_test` (an
//! endpoint load of its own, a training run, an accuracy scoring): the same
//! record, the same `run.json`, the same observers.

use std::path::{Path, PathBuf};

use chrono::Utc;
use yardstick_record::{write_record_to, RunRecord, RUN_JSON};

use crate::{PipelineError, RunObserver};

/// Tells observers a run started; later writes its record and tells them it
/// ended.
pub struct Recorder<'a> {
    observers: &'a [&'a dyn RunObserver],
}

impl<'a> Recorder<'a> {
    pub fn new(observers: &'a [&'a dyn RunObserver]) -> Self {
        Recorder { observers }
    }

    /// The run is about to start.
    pub fn started(&self, record: &RunRecord) {
        for o in self.observers {
            o.run_started(record);
        }
    }

    /// Stamps the end time if missing, writes `dir/run.json` and tells the
    /// observers. Returns the record's path.
    pub fn finished(&self, dir: &Path, record: &mut RunRecord) -> Result<PathBuf, PipelineError> {
        save_record(&dir.join(RUN_JSON), record, self.observers)
    }

    /// As [`finished`](Self::finished), to the file `path` (several runs
    /// whose logs share one folder, as MLPerf Training's `result_<i>.txt`).
    pub fn finished_as(
        &self,
        path: &Path,
        record: &mut RunRecord,
    ) -> Result<PathBuf, PipelineError> {
        save_record(path, record, self.observers)
    }
}

/// Writes the record to `path` (listing itself among the files) and tells
/// the observers.
pub(crate) fn save_record(
    path: &Path,
    record: &mut RunRecord,
    observers: &[&dyn RunObserver],
) -> Result<PathBuf, PipelineError> {
    if record.ended_at.is_none() {
        record.ended_at = Some(Utc::now());
    }
    if record.file("run_json").is_none() {
        record.add_file("run_json", path);
    }
    write_record_to(path, record)?;
    let path = path.to_path_buf();
    for o in observers {
        o.run_finished(record);
    }
    Ok(path)
}

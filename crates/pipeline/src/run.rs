//! Running one test: logs opened, header written, the core run, logs
//! closed, the record made; then saved as `run.json` and handed to the
//! observers.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use yardstick_core::log::LogSink;
use yardstick_core::run::{
    start_test_observed, LifecycleObserver, RunError, RunOptions, TestOutcome,
};
use yardstick_core::settings::ResolvedSettings;
use yardstick_core::sut::{QuerySampleLibrary, SystemUnderTest};
use yardstick_logs::{LogError, LogOutputSettings};
use yardstick_record::{
    GroupRef, Interruption, LoadPoint, RecordError, RunKind, RunRecord, RunStatus, WorkloadInfo,
};

use crate::from_outcome::{measurements, record_settings, validity_of};
use crate::logs::open_logs;
use crate::timeline::TimelineCapture;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("cannot open the log files")]
    OpenLogs(#[source] LogError),
    #[error("the test could not run")]
    Run(#[from] RunError),
    #[error("writing the log files")]
    FinishLogs(#[source] LogError),
    #[error("writing the run record")]
    Record(#[from] RecordError),
}

pub use yardstick_record::RunObserver;

/// What to run and how to describe it.
pub struct RunSpec {
    pub kind: RunKind,
    /// Resolved once, with provenance.
    pub resolved: ResolvedSettings,
    /// Where and how the MLPerf logs are written.
    pub log: LogOutputSettings,
    /// Also write every issued query as JSONL here.
    pub record_queries: Option<PathBuf>,
    pub options: RunOptions,
    pub workload: WorkloadInfo,
    pub group: Option<GroupRef>,
    pub load: Option<LoadPoint>,
    pub tags: Vec<String>,
    /// The system description, captured once per process.
    pub system: Option<serde_json::Value>,
    /// Write `run.json` beside the logs (the Python module leaves it off
    /// unless asked).
    pub write_record: bool,
    /// Extra sinks that want the core's events (none by default).
    pub extra_sinks: Vec<Arc<dyn LogSink>>,
    pub extra: BTreeMap<String, serde_json::Value>,
    /// A power meter started when the test starts and stopped when it
    /// finishes (it follows the test as a [`LifecycleObserver`]); the
    /// record gets the energy of the measured window.
    pub power: Option<crate::PowerHook>,
    /// Others that follow the test's lifecycle (told after the power
    /// meter).
    pub lifecycle: Vec<Arc<dyn LifecycleObserver>>,
}

impl RunSpec {
    /// A spec with the usual defaults: logs in `outdir`, record on.
    pub fn new(
        kind: RunKind,
        resolved: ResolvedSettings,
        outdir: impl Into<PathBuf>,
        workload: WorkloadInfo,
    ) -> Self {
        RunSpec {
            kind,
            resolved,
            log: LogOutputSettings {
                outdir: outdir.into(),
                ..LogOutputSettings::default()
            },
            record_queries: None,
            options: RunOptions::default(),
            workload,
            group: None,
            load: None,
            tags: Vec::new(),
            system: None,
            write_record: true,
            extra_sinks: Vec::new(),
            extra: BTreeMap::new(),
            power: None,
            lifecycle: Vec::new(),
        }
    }

    /// The record of this run before it starts.
    pub fn start_record(&self, started_at: DateTime<Utc>) -> RunRecord {
        let mut r = RunRecord::new(self.kind, started_at, self.workload.clone());
        r.group = self.group.clone();
        r.load = self.load.clone();
        r.tags = self.tags.clone();
        r.system = self.system.clone();
        r.settings = record_settings(&self.resolved);
        r.extra = self.extra.clone();
        r
    }
}

/// A test that ran: the core's outcome and its record (not yet saved).
pub struct FinishedRun {
    pub outcome: TestOutcome,
    pub record: RunRecord,
    /// The folder the logs (and `run.json`) are in.
    pub dir: PathBuf,
    write_record: bool,
}

impl FinishedRun {
    /// Writes `run.json` (when the spec asked for it) and tells the
    /// observers. Returns the record's path, if written.
    pub fn save(
        &mut self,
        observers: &[&dyn RunObserver],
    ) -> Result<Option<PathBuf>, PipelineError> {
        if self.write_record {
            crate::recorder::save_record(
                &self.dir.join(yardstick_record::RUN_JSON),
                &mut self.record,
                observers,
            )
            .map(Some)
        } else {
            for o in observers {
                o.run_finished(&self.record);
            }
            Ok(None)
        }
    }
}

/// Runs the test and builds its record. Observers hear `run_started`
/// before the logs are opened; call [`FinishedRun::save`] to finish.
pub fn execute(
    spec: &RunSpec,
    sut: &dyn SystemUnderTest,
    qsl: &dyn QuerySampleLibrary,
    observers: &[&dyn RunObserver],
) -> Result<FinishedRun, PipelineError> {
    let started_at = Utc::now();
    let mut record = spec.start_record(started_at);
    record.workload.sut.name = sut.name().to_string();
    for o in observers {
        o.run_started(&record);
    }
    let capture = Arc::new(TimelineCapture::new());
    let mut extra = spec.extra_sinks.clone();
    if spec.write_record {
        extra.push(capture.clone());
    }
    let logs = open_logs(&spec.log, spec.record_queries.as_deref(), extra)
        .map_err(PipelineError::OpenLogs)?;
    logs.header(sut.name(), qsl, &spec.resolved.warnings);
    let lifecycle: Vec<&dyn LifecycleObserver> = spec
        .power
        .iter()
        .map(|p| p as &dyn LifecycleObserver)
        .chain(spec.lifecycle.iter().map(|o| &**o))
        .collect();
    let result = start_test_observed(
        sut,
        qsl,
        &spec.resolved.settings,
        logs.sink(),
        &spec.options,
        &lifecycle,
    );
    // A test that could not start never started the meter: nothing to take.
    let power_trace = spec
        .power
        .as_ref()
        .and_then(|p| p.take_followed().map(|trace| (p, trace)));
    // The logs are closed whatever happened, so an error still leaves what
    // was written readable.
    let finished = logs.finish();
    let outcome = result?;
    finished.map_err(PipelineError::FinishLogs)?;

    finish_record(
        &mut record,
        &outcome,
        logs.paths(),
        logs.query_records_path(),
        &capture,
    );
    if let Some((power, trace)) = power_trace {
        let dir = spec.write_record.then_some(spec.log.outdir.as_path());
        power.finish_test_with(&mut record, &outcome, trace, dir);
    }
    Ok(FinishedRun {
        outcome,
        record,
        dir: spec.log.outdir.clone(),
        write_record: spec.write_record,
    })
}

/// Completes a started record from the test's outcome and its log files:
/// the end time, the files, the measurements and the rate timeline. For a
/// front end that opens its own logs (the Python module, whose accuracy
/// entries pass through the harness's callbacks) but records like
/// [`execute`].
pub fn finish_record(
    record: &mut RunRecord,
    outcome: &TestOutcome,
    paths: &yardstick_logs::LogPaths,
    query_records: Option<&std::path::Path>,
    capture: &TimelineCapture,
) {
    record.ended_at = Some(Utc::now());
    record.add_file("summary", &paths.summary);
    record.add_file("detail", &paths.detail);
    record.add_file("accuracy_log", &paths.accuracy);
    if let Some(t) = &paths.trace {
        record.add_file("trace", t);
    }
    if let Some(q) = query_records {
        record.add_file("queries", q);
    }
    fill_from_outcome(record, outcome);
    record.timeline = capture.take();
    if let Some(raw) = query_records {
        if let Some(d) = record.latencies.get_mut("sample") {
            d.raw_file = Some(raw.to_path_buf());
        }
    }
}

/// Metrics, latencies, validity, status and interruption from an outcome.
pub fn fill_from_outcome(record: &mut RunRecord, outcome: &TestOutcome) {
    let m = measurements(outcome);
    record.metrics = m.metrics;
    record.latencies = m.latencies;
    record.validity = validity_of(outcome);
    // The outcome's own interruption covers a test stopped in its accuracy
    // phase too (no performance summary then).
    let interrupted = outcome
        .interrupted
        .clone()
        .or_else(|| outcome.result().and_then(|s| s.interrupted.clone()));
    record.status = if interrupted.is_some() {
        RunStatus::Interrupted
    } else {
        RunStatus::Completed
    };
    record.interruption = interrupted.map(|i| Interruption {
        at: DateTime::<Utc>::from(i.at),
        reason: i.reason(),
    });
    record.workload.scenario = Some(outcome.settings.scenario.to_string());
    record.workload.mode = Some(outcome.settings.mode.to_string());
}

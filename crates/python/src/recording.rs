//! Recording a Python harness's test, when the user asks for it.
//!
//! An unchanged harness writes exactly what it wrote before: nothing is
//! recorded unless `YARDSTICK_RECORD` is set (`1`, `true`, `yes` or `on`).
//! Then the test goes through the same record building as `yardstick run`
//! (yardstick-pipeline): `run.json` beside the logs, and the run added to
//! the results store (`YARDSTICK_STORE` or the default location; set
//! `YARDSTICK_RECORD_STORE=0` to keep it out). `YARDSTICK_RECORD_TAGS`
//! (comma-separated) tags the run.

use std::sync::Arc;

use yardstick_core::run::TestOutcome;
use yardstick_core::settings::ResolvedSettings;
use yardstick_logs::LogPaths;
use yardstick_pipeline::power_meters::PowerTrace;
use yardstick_pipeline::record::{
    PowerRecord, RunKind, RunObserver, RunRecord, SutInfo, WorkloadInfo,
};
use yardstick_pipeline::{finish_record, record_settings, PowerHook, Recorder, TimelineCapture};
use yardstick_store::{Store, StoreObserver};

/// The environment variable that turns recording on.
pub const RECORD_ENV: &str = "YARDSTICK_RECORD";

fn env_flag(name: &str) -> Option<bool> {
    let v = std::env::var(name).ok()?;
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" | "" => Some(false),
        _ => None,
    }
}

/// A test being recorded: its record so far, the timeline sink the core
/// feeds, and the store.
pub struct TestRecording {
    record: RunRecord,
    pub capture: Arc<TimelineCapture>,
    store: Option<StoreObserver>,
}

impl TestRecording {
    /// `Some` when `YARDSTICK_RECORD` asks for recording.
    pub fn from_env(sut_name: &str, resolved: &ResolvedSettings) -> Option<TestRecording> {
        if env_flag(RECORD_ENV) != Some(true) {
            if std::env::var_os(RECORD_ENV).is_some() && env_flag(RECORD_ENV).is_none() {
                eprintln!(
                    "yardstick: warning: {RECORD_ENV} should be 1 or 0; the test is not recorded"
                );
            }
            return None;
        }
        let settings = &resolved.settings;
        let mut record = RunRecord::new(
            RunKind::Python,
            chrono::Utc::now(),
            WorkloadInfo {
                name: sut_name.to_string(),
                scenario: Some(settings.scenario.to_string()),
                mode: Some(settings.mode.to_string()),
                model: None,
                sut: SutInfo {
                    name: sut_name.to_string(),
                    kind: "python".into(),
                    params: Default::default(),
                },
            },
        );
        record.settings = record_settings(resolved);
        let description = yardstick_sysinfo::capture(&yardstick_sysinfo::CaptureOptions::default());
        record.system = serde_json::to_value(&description).ok();
        let commit = yardstick_sysinfo::BuildInfo::current().commit;
        if commit != "unknown" {
            record.tool.git_commit = Some(commit);
        }
        if let Ok(tags) = std::env::var("YARDSTICK_RECORD_TAGS") {
            record.tags = tags
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect();
        }
        let store = if env_flag("YARDSTICK_RECORD_STORE") == Some(false) {
            None
        } else {
            match Store::open_default() {
                Ok(s) => Some(StoreObserver::new(s)),
                Err(e) => {
                    eprintln!(
                        "yardstick: warning: {e}; the test is not added to the results store (run.json is still written)"
                    );
                    None
                }
            }
        };
        Some(TestRecording {
            record,
            capture: Arc::new(TimelineCapture::new()),
            store,
        })
    }

    fn observers(&self) -> Vec<&dyn RunObserver> {
        self.store.iter().map(|s| s as &dyn RunObserver).collect()
    }

    /// Before the test starts.
    pub fn started(&self) {
        Recorder::new(&self.observers()).started(&self.record);
    }

    /// After the test: completes the record from the outcome (and the
    /// power meter's trace, if one ran: `power_trace.csv` beside the logs)
    /// and writes `run.json` beside the summary; returns the record's power
    /// section. Failures are warnings: recording never fails a harness's
    /// test.
    pub fn finished(
        mut self,
        outcome: &TestOutcome,
        paths: &LogPaths,
        power: Option<(&PowerHook, Result<PowerTrace, String>)>,
    ) -> Option<PowerRecord> {
        finish_record(&mut self.record, outcome, paths, None, &self.capture);
        let dir = paths
            .summary
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        if let Some((hook, trace)) = power {
            hook.finish_test_with(&mut self.record, outcome, trace, Some(&dir));
        }
        let mut record = std::mem::replace(
            &mut self.record,
            RunRecord::new(RunKind::Python, chrono::Utc::now(), WorkloadInfo::default()),
        );
        let observers = self.observers();
        match Recorder::new(&observers).finished(&dir, &mut record) {
            Ok(p) => eprintln!("yardstick: run record {} (run {})", p.display(), record.id),
            Err(e) => eprintln!("yardstick: warning: the run record was not written: {e}"),
        }
        record.power
    }
}

/// The power section of a test that is not recorded (the trace is still
/// kept, as `power_trace.csv` beside the logs).
pub fn power_without_record(
    hook: &PowerHook,
    trace: Result<PowerTrace, String>,
    outcome: &TestOutcome,
    paths: &LogPaths,
) -> Option<PowerRecord> {
    let mut scratch = RunRecord::new(RunKind::Python, chrono::Utc::now(), WorkloadInfo::default());
    hook.finish_test_with(&mut scratch, outcome, trace, paths.summary.parent());
    scratch.power
}

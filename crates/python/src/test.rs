//! `StartTest` and `StartTestWithLogSettings`: run a test on the yardstick
//! core with the interpreter released, taking it back only to run the
//! Python callbacks.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use yardstick_core::log::{DetailEvent, LogSink};
use yardstick_core::run::{start_test as core_start_test, RunOptions, TestOutcome};
use yardstick_core::settings::{ConfigKind, SettingOrigin, SettingsResolver};
use yardstick_logs::{header_events, LogPaths, MlperfLogWriter, TestHeader};
use yardstick_pipeline::record::PowerRecord;

use crate::complete::{self, HookSink};
use crate::settings::{provenance_to_py, LogOptions, PyLogSettings, PyTestSettings};
use crate::sut::{self, QslAdapter, SutAdapter, TestContext};

/// A test is running (tests are process-wide in LoadGen; one at a time).
static RUNNING: AtomicBool = AtomicBool::new(false);

/// The stall timeout in milliseconds (see `set_stall_timeout`).
static STALL_TIMEOUT_MS: AtomicU64 = AtomicU64::new(60_000);

/// What the last test gave, for `last_test_outcome()`.
static LAST: Mutex<Option<LastOutcome>> = Mutex::new(None);

#[derive(Debug, Clone)]
struct LastOutcome {
    valid: bool,
    scenario: String,
    mode: String,
    result: Option<String>,
    result_valid: Option<bool>,
    samples_per_second: Option<f64>,
    latency_ns: Option<i64>,
    samples: Option<u64>,
    accuracy_samples: u64,
    faults: Vec<String>,
    paths: LogPaths,
    settings_provenance: Vec<SettingOrigin>,
    power: Option<PowerRecord>,
}

/// Where each setting of the last test that ran came from (audit.config
/// included), for a run record; `None` before the first test.
// Not called inside the module yet: it is the hook for Rust callers.
#[allow(dead_code)]
pub fn last_settings_provenance() -> Option<Vec<SettingOrigin>> {
    LAST.lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map(|l| l.settings_provenance.clone())
}

/// Clears the running flag and the completion handle however the test ends.
struct RunningGuard;

impl Drop for RunningGuard {
    fn drop(&mut self) {
        complete::set_current(None);
        RUNNING.store(false, Ordering::Release);
    }
}

/// Run a test on a SUT made by ConstructSUT with a QSL made by
/// ConstructQSL, with the default log settings (logs in the current
/// directory, trace on). An `audit_config_filename` that exists overrides
/// the settings, as in LoadGen (compliance tests).
#[pyfunction(name = "StartTest")]
#[pyo3(signature = (sut, qsl, test_settings, audit_config_filename = "audit.config"))]
pub fn start_test(
    py: Python<'_>,
    sut: u64,
    qsl: u64,
    test_settings: PyRef<'_, PyTestSettings>,
    audit_config_filename: &str,
) -> PyResult<()> {
    let settings = test_settings.resolver();
    drop(test_settings);
    run(
        py,
        sut,
        qsl,
        settings,
        LogOptions::default_settings(),
        audit_config_filename,
    )
}

/// Run a test with the given log settings (see `StartTest`).
#[pyfunction(name = "StartTestWithLogSettings")]
#[pyo3(signature = (sut, qsl, test_settings, log_settings, audit_config_filename = "audit.config"))]
pub fn start_test_with_log_settings(
    py: Python<'_>,
    sut: u64,
    qsl: u64,
    test_settings: PyRef<'_, PyTestSettings>,
    log_settings: PyRef<'_, PyLogSettings>,
    audit_config_filename: &str,
) -> PyResult<()> {
    let settings = test_settings.resolver();
    let log = LogOptions::from_py(py, &log_settings);
    drop(test_settings);
    drop(log_settings);
    run(py, sut, qsl, settings, log, audit_config_filename)
}

fn run(
    py: Python<'_>,
    sut_handle: u64,
    qsl_handle: u64,
    mut resolver: SettingsResolver,
    log: LogOptions,
    audit_config_filename: &str,
) -> PyResult<()> {
    let sut_def = sut::sut(sut_handle)?;
    let qsl_def = sut::qsl(qsl_handle)?;
    if RUNNING.swap(true, Ordering::AcqRel) {
        return Err(PyRuntimeError::new_err(
            "StartTest called while another test is running (one test at a time per process)",
        ));
    }
    let _running = RunningGuard;

    let writer = Arc::new(
        MlperfLogWriter::create(&log.writer_settings())
            .map_err(|e| PyOSError::new_err(e.to_string()))?,
    );
    let sink: Arc<dyn LogSink> = Arc::new(HookSink {
        inner: Arc::clone(&writer),
    });

    // LoadGen's opening events. It asks the SUT for its name and times it.
    let t = Instant::now();
    let name = match &sut_def.name_cb {
        Some(cb) => cb.bind(py).call0()?.str()?.to_string(),
        None => sut_def.fixed_name.to_string(),
    };
    let header = TestHeader {
        test_datetime: writer.test_datetime().to_string(),
        get_sut_name_duration_ns: u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX),
        sut_name: name.clone(),
        qsl_name: "PyQSL".into(),
        qsl_reported_total_count: qsl_def.total as u64,
        qsl_reported_performance_count: qsl_def.performance as u64,
    };
    for e in header_events(&header) {
        sink.detail(e);
    }

    // LoadGen: an audit.config in the working directory overrides the
    // settings (read with model "*"), after everything the harness set; the
    // resolver records the lines it sets.
    if !audit_config_filename.is_empty() && std::path::Path::new(audit_config_filename).is_file() {
        sink.detail(DetailEvent::warning(
            "warning_generic_message",
            "Found Audit Config file (audit.config). Overriding TestSettings from audit.config file.",
        ));
        let applied = std::fs::read_to_string(audit_config_filename)
            .map_err(|e| format!("can't read {audit_config_filename}: {e}"))
            .and_then(|text| {
                let scenario = resolver.settings().scenario;
                resolver
                    .apply_config(
                        ConfigKind::AuditConf,
                        audit_config_filename,
                        &text,
                        "*",
                        scenario,
                    )
                    .map_err(|e| e.to_string())
            });
        if let Err(message) = applied {
            sink.detail(DetailEvent::error("error_invalid_config", message.clone()));
            let _ = writer.finish();
            return Err(PyValueError::new_err(format!(
                "the audit config is invalid, the test was not run: {message}"
            )));
        }
    }

    let resolved = resolver.finish();
    // Only when the user asks (YARDSTICK_RECORD): the record of the test,
    // built as `yardstick run` builds it.
    let recording = crate::recording::TestRecording::from_env(&name, &resolved);
    let sink: Arc<dyn LogSink> = match &recording {
        Some(r) => Arc::new(yardstick_logs::CompositeSink::new(vec![
            Arc::clone(&sink),
            r.capture.clone(),
        ])),
        None => sink,
    };
    if let Some(r) = &recording {
        r.started();
    }
    let settings = resolved.settings;
    let settings_provenance = resolved.provenance;

    let ctx = TestContext::new(Arc::clone(&sink));
    let sut = SutAdapter {
        def: &sut_def,
        name,
        ctx: &ctx,
    };
    let qsl = QslAdapter {
        def: &qsl_def,
        ctx: &ctx,
    };
    let options = RunOptions {
        stall_timeout: Duration::from_millis(STALL_TIMEOUT_MS.load(Ordering::Relaxed)),
        progress: None,
        ..RunOptions::default()
    };
    // The meter starts just before the test and stops just after it.
    let power = crate::power::open_for_test(py);
    if let Some(Err(e)) = power.as_ref().map(|h| h.begin()) {
        eprintln!("yardstick: power: the meter did not start: {e}");
    }
    let outcome = py.detach(|| core_start_test(&sut, &qsl, &settings, Arc::clone(&sink), &options));
    let power = power.map(|h| {
        let trace = h.end();
        (h, trace)
    });
    complete::set_current(None);

    let finished = writer.finish();
    let paths = writer.paths().clone();
    let callback_error = ctx.take_error();

    let power_record = match (recording, &outcome) {
        (Some(r), Ok(o)) => r.finished(o, &paths, power.as_ref().map(|(h, t)| (h, t.clone()))),
        (None, Ok(o)) => power
            .and_then(|(h, trace)| crate::recording::power_without_record(&h, trace, o, &paths)),
        (_, Err(_)) => None,
    };
    if let Some(p) = &power_record {
        crate::power::print_summary(py, p);
    }
    if let Ok(o) = &outcome {
        record_last(o, paths.clone(), settings_provenance, power_record);
    } else {
        *LAST.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    if let Some(err) = callback_error {
        add_note(
            py,
            &err,
            &format!(
                "yardstick: raised in a LoadGen callback; the test was stopped (logs: {})",
                paths.detail.display()
            ),
        );
        return Err(err);
    }
    outcome.map_err(|e| PyRuntimeError::new_err(format!("the test could not run: {e}")))?;
    finished.map_err(|e| PyOSError::new_err(e.to_string()))
}

/// `err.add_note(note)` where Python has it (3.11+).
fn add_note(py: Python<'_>, err: &PyErr, note: &str) {
    let value = err.value(py);
    if value.hasattr("add_note").unwrap_or(false) {
        let _ = value.call_method1("add_note", (note,));
    }
}

fn record_last(
    o: &TestOutcome,
    paths: LogPaths,
    settings_provenance: Vec<SettingOrigin>,
    power: Option<PowerRecord>,
) {
    use yardstick_core::results::summary::ResultMetric;
    let r = o.result();
    let (sps, lat) = match r.map(|s| s.result_metric()) {
        Some(ResultMetric::SamplesPerSecond(v)) => (Some(v), None),
        Some(ResultMetric::LatencyNs(ns)) => (None, Some(ns)),
        None => (None, None),
    };
    let last = LastOutcome {
        valid: o.is_valid(),
        scenario: o.settings.scenario.to_string(),
        mode: o.settings.mode.to_string(),
        result: r.map(|s| s.result_metric().to_string()),
        result_valid: r.map(|s| s.is_valid()),
        samples_per_second: sps,
        latency_ns: lat,
        samples: r.map(|s| s.sample_count),
        accuracy_samples: o.accuracy_samples,
        faults: o.faults.iter().map(|f| f.to_string()).collect(),
        paths,
        settings_provenance,
        power,
    };
    *LAST.lock().unwrap_or_else(|e| e.into_inner()) = Some(last);
}

/// Extension (not in the official API): what the last test of this process
/// gave, as a dict (`valid`, `scenario`, `mode`, `result`,
/// `samples_per_second` or `latency_ns`, `samples`, `accuracy_samples`,
/// `faults`, the log file paths, `settings_provenance`: every setting
/// the test ran with and where it came from, audit.config included, as
/// `TestSettings.provenance()` gives it, and `power`: the run record's
/// power section when a meter ran (see `set_power`), else None), or None
/// before the first test.
#[pyfunction]
pub fn last_test_outcome(py: Python<'_>) -> PyResult<Option<Bound<'_, PyDict>>> {
    let Some(l) = LAST.lock().unwrap_or_else(|e| e.into_inner()).clone() else {
        return Ok(None);
    };
    let d = PyDict::new(py);
    d.set_item("valid", l.valid)?;
    d.set_item("scenario", l.scenario)?;
    d.set_item("mode", l.mode)?;
    d.set_item("result", l.result)?;
    d.set_item("result_valid", l.result_valid)?;
    d.set_item("samples_per_second", l.samples_per_second)?;
    d.set_item("latency_ns", l.latency_ns)?;
    d.set_item("samples", l.samples)?;
    d.set_item("accuracy_samples", l.accuracy_samples)?;
    d.set_item("faults", l.faults)?;
    let paths = PyDict::new(py);
    let text = |p: &std::path::Path| p.display().to_string();
    paths.set_item("summary", text(&l.paths.summary))?;
    paths.set_item("detail", text(&l.paths.detail))?;
    paths.set_item("accuracy", text(&l.paths.accuracy))?;
    paths.set_item("trace", l.paths.trace.as_deref().map(text))?;
    d.set_item("logs", paths)?;
    d.set_item(
        "settings_provenance",
        provenance_to_py(py, &l.settings_provenance)?,
    )?;
    match &l.power {
        Some(p) => d.set_item("power", crate::power::to_py(py, p)?)?,
        None => d.set_item("power", py.None())?,
    }
    Ok(Some(d))
}

/// Extension (not in the official API): a run whose SUT answers nothing
/// for this many seconds while samples are outstanding is ended, with an
/// error naming the missing samples (default 60; LoadGen waits forever).
#[pyfunction]
pub fn set_stall_timeout(seconds: f64) -> PyResult<()> {
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(PyValueError::new_err(format!(
            "the stall timeout must be a positive number of seconds, not {seconds}"
        )));
    }
    STALL_TIMEOUT_MS.store((seconds * 1000.0).ceil() as u64, Ordering::Relaxed);
    Ok(())
}

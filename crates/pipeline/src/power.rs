//! Power around a test: a meter started when the test starts and stopped
//! when it finishes (a [`LifecycleObserver`] of the core's run driver,
//! never touched in between: it samples on its own thread), its trace cut
//! to the run's measured window and kept beside the record.
//!
//! A meter that cannot start or read never fails the run: the record's
//! `power.error` says why, and the performance result stands.

use std::path::Path;
use std::sync::Mutex;
use std::time::SystemTime;

use yardstick_core::run::{LifecycleObserver, RunError, TestOutcome};
use yardstick_core::scenario::Scenario;
use yardstick_core::settings::EffectiveSettings;
use yardstick_power::{
    efficiency, energy_over_window, write_trace_csv, PowerError, PowerMeter, PowerTrace, Work,
};
use yardstick_record::{PowerRecord, RunRecord};

/// The raw trace's file name, beside `run.json`.
pub const POWER_TRACE_CSV: &str = "power_trace.csv";

/// Points of the record's power series (the report's chart).
const SERIES_POINTS: usize = 600;

/// A meter attached to a run (or to each run of a sweep, in turn).
pub struct PowerHook {
    meter: Mutex<Box<dyn PowerMeter>>,
    description: String,
    sample_hz: Option<f64>,
    start_error: Mutex<Option<String>>,
    /// The trace of the test the hook followed as an observer, taken when
    /// that test finished.
    followed: Mutex<Option<Result<PowerTrace, String>>>,
}

impl PowerHook {
    /// `sample_hz` is the meter's rate, where it has a set one (recorded).
    pub fn new(meter: Box<dyn PowerMeter>, sample_hz: Option<f64>) -> Self {
        PowerHook {
            description: meter.describe(),
            meter: Mutex::new(meter),
            sample_hz,
            start_error: Mutex::new(None),
            followed: Mutex::new(None),
        }
    }

    /// The trace of the test this hook followed as a [`LifecycleObserver`]
    /// (stopped when the test finished); `None` when it followed none.
    pub fn take_followed(&self) -> Option<Result<PowerTrace, String>> {
        self.followed.lock().ok().and_then(|mut t| t.take())
    }

    /// What the meter measures.
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// The meter's set rate, where it has one.
    pub fn sample_hz(&self) -> Option<f64> {
        self.sample_hz
    }

    /// Starts the meter, before the test. A failure is remembered for the
    /// record (and returned for the front end to print); the run goes on.
    pub fn begin(&self) -> Result<(), String> {
        let result = match self.meter.lock() {
            Ok(mut m) => m.start().map_err(|e| error_text(&e)),
            Err(_) => Err("the power meter's lock was poisoned".to_string()),
        };
        if let Ok(mut slot) = self.start_error.lock() {
            *slot = result.clone().err();
        }
        result
    }

    /// Stops the meter, after the test: its trace, or why there is none.
    pub fn end(&self) -> Result<PowerTrace, String> {
        if let Some(e) = self.start_error.lock().ok().and_then(|mut s| s.take()) {
            return Err(e);
        }
        match self.meter.lock() {
            Ok(mut m) => m.stop().map_err(|e| error_text(&e)),
            Err(_) => Err("the power meter's lock was poisoned".to_string()),
        }
    }

    /// Stops the meter and fills `record.power` for the window
    /// `begin..end` of a test that did `work`; the trace is written as
    /// `dir/power_trace.csv` when `dir` is given.
    pub fn finish(
        &self,
        record: &mut RunRecord,
        window: Option<(SystemTime, SystemTime)>,
        work: Work,
        tokens: Option<u64>,
        dir: Option<&Path>,
    ) {
        let file = dir.map(|d| d.join(POWER_TRACE_CSV));
        self.record_trace(record, self.end(), window, work, tokens, file.as_deref());
    }

    /// As [`finish`](Self::finish), with the trace [`end`](Self::end)
    /// returned (for a front end that stops the meter as soon as its load
    /// ends and records later), written to `trace_file` if given.
    pub fn record_trace(
        &self,
        record: &mut RunRecord,
        trace: Result<PowerTrace, String>,
        window: Option<(SystemTime, SystemTime)>,
        work: Work,
        tokens: Option<u64>,
        trace_file: Option<&Path>,
    ) {
        let mut power = PowerRecord {
            source: self.description.clone(),
            sample_hz: self.sample_hz,
            ..PowerRecord::default()
        };
        match trace {
            Err(e) => power.error = Some(e),
            Ok(trace) => {
                fill_power(&mut power, &trace, window, work, tokens);
                if let Some(path) = trace_file {
                    match write_trace_csv(path, &trace) {
                        Ok(()) => {
                            record.add_file("power_trace", path);
                            power.trace_file = Some(path.to_path_buf());
                        }
                        Err(e) => power.notes.push(error_text(&e)),
                    }
                }
            }
        }
        record.power = Some(power);
    }

    /// [`finish`](Self::finish) for a LoadGen test: the window and the work
    /// come from its outcome (samples for Offline and Server, queries for
    /// SingleStream and MultiStream, tokens where counted).
    pub fn finish_test(&self, record: &mut RunRecord, outcome: &TestOutcome, dir: Option<&Path>) {
        self.finish_test_with(record, outcome, self.end(), dir);
    }

    /// As [`finish_test`](Self::finish_test), with the trace
    /// [`end`](Self::end) returned.
    pub fn finish_test_with(
        &self,
        record: &mut RunRecord,
        outcome: &TestOutcome,
        trace: Result<PowerTrace, String>,
        dir: Option<&Path>,
    ) {
        let summary = outcome.result();
        let window = summary
            .and_then(|s| s.window)
            .map(|w| (w.begin_wall, w.end_wall));
        let work = match (summary, outcome.settings.scenario) {
            (Some(s), Scenario::SingleStream | Scenario::MultiStream) => {
                Work::Queries(s.query_count)
            }
            (Some(s), _) => Work::Samples(s.sample_count),
            (None, _) => Work::Samples(0),
        };
        let tokens = summary.map(|s| s.token_count).filter(|&t| t > 0);
        let file = dir.map(|d| d.join(POWER_TRACE_CSV));
        self.record_trace(record, trace, window, work, tokens, file.as_deref());
    }
}

/// The meter runs from the test's start to its finish, whatever the test's
/// runs (accuracy, performance, find-peak steps) in between: the record
/// cuts the trace to the measured window afterwards.
impl LifecycleObserver for PowerHook {
    fn test_started(&self, _settings: &EffectiveSettings) {
        // A meter that cannot start is remembered for the record; the test
        // runs.
        let _ = self.begin();
    }

    fn test_finished(&self, _outcome: Result<&TestOutcome, &RunError>) {
        let trace = self.end();
        if let Ok(mut slot) = self.followed.lock() {
            *slot = Some(trace);
        }
    }
}

/// The energy figures of `trace` over `window` into `power`.
pub fn fill_power(
    power: &mut PowerRecord,
    trace: &PowerTrace,
    window: Option<(SystemTime, SystemTime)>,
    work: Work,
    tokens: Option<u64>,
) {
    power.notes.extend(trace.notes.iter().cloned());
    let Some((begin, end)) = window else {
        power.error = Some("the run has no measured window (nothing completed)".into());
        power.series = series(trace, None);
        return;
    };
    power.series = series(trace, Some(begin));
    match energy_over_window(trace, begin, end) {
        Err(e) => power.error = Some(e.to_string()),
        Ok(summary) => {
            let eff = efficiency(&summary, work, tokens);
            power.window_seconds = Some(summary.window_seconds);
            power.samples_in_window = summary.samples_in_window as u64;
            power.mean_watts = Some(summary.mean_watts);
            power.joules = Some(summary.joules);
            power.counter_joules = summary.counter_joules;
            power.samples_per_joule = eff.samples_per_joule;
            power.millijoules_per_query = eff.millijoules_per_query;
            power.tokens_per_joule = eff.tokens_per_joule;
        }
    }
}

/// The trace as `[seconds from origin, watts]`, thinned by averaging runs
/// of neighbouring samples to at most [`SERIES_POINTS`].
fn series(trace: &PowerTrace, origin: Option<SystemTime>) -> Vec<[f64; 2]> {
    let Some(first) = trace.samples.first() else {
        return Vec::new();
    };
    let origin = origin.unwrap_or(first.wall);
    let offset = |t: SystemTime| match t.duration_since(origin) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    };
    let per_point = trace.samples.len().div_ceil(SERIES_POINTS).max(1);
    trace
        .samples
        .chunks(per_point)
        .map(|c| {
            let t = c.iter().map(|s| offset(s.wall)).sum::<f64>() / c.len() as f64;
            let w = c.iter().map(|s| s.watts).sum::<f64>() / c.len() as f64;
            [(t * 1e3).round() / 1e3, (w * 100.0).round() / 100.0]
        })
        .collect()
}

/// The error and its causes in one line (the record keeps text).
fn error_text(e: &PowerError) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use yardstick_power::PowerSample;

    struct Canned(Option<PowerTrace>, bool);

    impl PowerMeter for Canned {
        fn describe(&self) -> String {
            "canned".into()
        }
        fn start(&mut self) -> Result<(), PowerError> {
            if self.1 {
                Ok(())
            } else {
                Err(PowerError::Unavailable {
                    source_name: "canned".into(),
                    reason: "not here".into(),
                })
            }
        }
        fn stop(&mut self) -> Result<PowerTrace, PowerError> {
            self.0.take().ok_or(PowerError::WrongState("not measuring"))
        }
    }

    fn at(s: f64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000) + Duration::from_secs_f64(s)
    }

    fn trace() -> PowerTrace {
        PowerTrace {
            source: "canned".into(),
            samples: (0..=40)
                .map(|i| PowerSample {
                    wall: at(f64::from(i) * 0.1),
                    watts: if (10..=30).contains(&i) { 300.0 } else { 50.0 },
                })
                .collect(),
            ..PowerTrace::default()
        }
    }

    fn record() -> RunRecord {
        RunRecord::new(
            yardstick_record::RunKind::Loadgen,
            chrono::Utc::now(),
            Default::default(),
        )
    }

    #[test]
    fn a_measured_run_gets_its_window_energy_series_and_trace_file() {
        let hook = PowerHook::new(Box::new(Canned(Some(trace()), true)), Some(10.0));
        hook.begin().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut r = record();
        hook.finish(
            &mut r,
            Some((at(1.0), at(3.0))),
            Work::Samples(1200),
            None,
            Some(dir.path()),
        );
        assert!(r.file("power_trace").is_some());
        let p = r.power.unwrap();
        assert_eq!(p.error, None);
        assert_eq!(p.samples_in_window, 21);
        assert_eq!(p.mean_watts, Some(300.0));
        let joules = p.joules.unwrap();
        assert!((joules - 600.0).abs() < 1e-6, "{joules}");
        assert!((p.samples_per_joule.unwrap() - 2.0).abs() < 1e-6);
        assert_eq!(p.series.len(), 41);
        assert_eq!(p.series[0], [-1.0, 50.0]);
        assert_eq!(p.series[20], [1.0, 300.0]);
        let file = p.trace_file.unwrap();
        assert_eq!(file, dir.path().join(POWER_TRACE_CSV));
        assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 42);
    }

    #[test]
    fn a_meter_that_cannot_start_leaves_an_error_not_a_failure() {
        let hook = PowerHook::new(Box::new(Canned(None, false)), None);
        let err = hook.begin().unwrap_err();
        assert_eq!(err, "canned is not available here: not here");
        let mut r = record();
        hook.finish(
            &mut r,
            Some((at(1.0), at(3.0))),
            Work::Queries(5),
            None,
            None,
        );
        let p = r.power.unwrap();
        assert_eq!(p.source, "canned");
        assert_eq!(p.error.as_deref(), Some(err.as_str()));
        assert_eq!(p.joules, None);
    }

    #[test]
    fn as_an_observer_the_meter_runs_from_the_tests_start_to_its_finish() {
        use yardstick_core::run::{start_test_observed, RunOptions};
        use yardstick_suts::{NullSut, SyntheticLibrary};

        /// Counts starts and stops; the trace has one sample per stop.
        struct Counting(std::sync::Arc<std::sync::atomic::AtomicUsize>);
        impl PowerMeter for Counting {
            fn describe(&self) -> String {
                "counting".into()
            }
            fn start(&mut self) -> Result<(), PowerError> {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok(())
            }
            fn stop(&mut self) -> Result<PowerTrace, PowerError> {
                self.0.fetch_add(10, std::sync::atomic::Ordering::SeqCst);
                Ok(trace())
            }
        }
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let hook = PowerHook::new(Box::new(Counting(calls.clone())), Some(10.0));
        assert!(hook.take_followed().is_none(), "no test followed yet");
        let settings = yardstick_core::TestSettings {
            scenario: Scenario::SingleStream,
            mode: yardstick_core::Mode::SubmissionRun,
            min_duration_ms: 10,
            min_query_count: 8,
            ..Default::default()
        };
        let sink = std::sync::Arc::new(yardstick_core::log::NullSink);
        start_test_observed(
            &NullSut::new(),
            &SyntheticLibrary::new("qsl", 16, 16),
            &settings,
            sink,
            &RunOptions::default(),
            &[&hook],
        )
        .unwrap();
        // One start and one stop for the whole test (accuracy and
        // performance runs), not one per run.
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 11);
        let followed = hook.take_followed().expect("the followed test's trace");
        assert_eq!(followed.unwrap().samples.len(), 41);
        assert!(hook.take_followed().is_none(), "taken once");
    }

    #[test]
    fn long_traces_are_thinned_for_the_chart() {
        let mut t = trace();
        t.samples = (0..6000)
            .map(|i| PowerSample {
                wall: at(f64::from(i) * 0.1),
                watts: f64::from(i % 2) * 100.0,
            })
            .collect();
        let s = series(&t, Some(at(0.0)));
        assert_eq!(s.len(), 600);
        assert!(s.iter().all(|p| p[1] == 50.0));
        assert_eq!(s[0][0], 0.45);
    }
}

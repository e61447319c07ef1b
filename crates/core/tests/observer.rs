//! The run's lifecycle as a `LifecycleObserver` hears it: the event order
//! per scenario and mode, an interrupted run, a test that fails, and the
//! windows' instants against the outcome's `RunWindow`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use yardstick_core::log::MemorySink;
use yardstick_core::run::{
    start_test_observed, LifecycleObserver, LiveProgress, OpenedWindow, RunError, RunOptions,
    RunPhase, RunWindow, StopRequest, TestOutcome,
};
use yardstick_core::settings::EffectiveSettings;
use yardstick_core::sut::{
    BoxError, Completer, QuerySample, QuerySampleLibrary, QuerySampleResponse, SampleIndex,
    SystemUnderTest,
};
use yardstick_core::{Mode, Scenario, TestSettings};

#[derive(Debug, Clone, PartialEq)]
enum Event {
    Started(Scenario, Mode),
    Phase(RunPhase),
    Opened(Mode, Instant, SystemTime),
    Closed(Mode, RunWindow),
    Finished { ok: bool, interrupted: bool },
}

/// Records every event; also notes whether the progress counters were live
/// when each window opened (they are told first).
struct Recorder {
    events: Mutex<Vec<Event>>,
    progress: Option<Arc<LiveProgress>>,
    progress_live_at_open: Mutex<Vec<Option<RunPhase>>>,
}

impl Recorder {
    fn new(progress: Option<Arc<LiveProgress>>) -> Self {
        Recorder {
            events: Mutex::new(Vec::new()),
            progress,
            progress_live_at_open: Mutex::new(Vec::new()),
        }
    }
    fn push(&self, e: Event) {
        self.events.lock().unwrap().push(e);
    }
    fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }
}

impl LifecycleObserver for Recorder {
    fn test_started(&self, settings: &EffectiveSettings) {
        self.push(Event::Started(settings.scenario, settings.mode));
    }
    fn phase_changed(&self, phase: RunPhase) {
        self.push(Event::Phase(phase));
    }
    fn window_opened(&self, w: &OpenedWindow) {
        if let Some(p) = &self.progress {
            self.progress_live_at_open
                .lock()
                .unwrap()
                .push(p.snapshot().map(|s| s.phase));
        }
        self.push(Event::Opened(w.mode, w.begin, w.begin_wall));
    }
    fn window_closed(&self, mode: Mode, window: &RunWindow) {
        self.push(Event::Closed(mode, *window));
    }
    fn test_finished(&self, outcome: Result<&TestOutcome, &RunError>) {
        self.push(Event::Finished {
            ok: outcome.is_ok(),
            interrupted: outcome.is_ok_and(|o| o.interrupted.is_some()),
        });
    }
}

struct Qsl {
    samples: usize,
    fail_load: bool,
}

impl QuerySampleLibrary for Qsl {
    fn name(&self) -> &str {
        "qsl"
    }
    fn total_sample_count(&self) -> usize {
        self.samples
    }
    fn performance_sample_count(&self) -> usize {
        self.samples
    }
    fn load_samples_to_ram(&self, _: &[SampleIndex]) -> Result<(), BoxError> {
        if self.fail_load {
            return Err("no samples today".into());
        }
        Ok(())
    }
    fn unload_samples_from_ram(&self, _: &[SampleIndex]) -> Result<(), BoxError> {
        Ok(())
    }
}

/// Answers inline; requests the stop on call `stop_at` (if any).
struct Sut {
    stop: Arc<StopRequest>,
    stop_at: Option<usize>,
    calls: AtomicUsize,
}

impl Sut {
    fn new(stop_at: Option<usize>) -> Self {
        Sut {
            stop: Arc::new(StopRequest::new()),
            stop_at,
            calls: AtomicUsize::new(0),
        }
    }
}

impl SystemUnderTest for Sut {
    fn name(&self) -> &str {
        "inline"
    }
    fn issue_query(&self, samples: &[QuerySample], c: &Completer) -> Result<(), BoxError> {
        let call = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        for s in samples {
            c.complete(&[QuerySampleResponse::new(s.id, &[])])?;
        }
        if Some(call) == self.stop_at {
            self.stop.request();
        }
        Ok(())
    }
}

fn short(scenario: Scenario, mode: Mode) -> TestSettings {
    TestSettings {
        scenario,
        mode,
        server_target_qps: 2000.0,
        offline_expected_qps: 2000.0,
        min_duration_ms: 20,
        min_query_count: 16,
        ..TestSettings::default()
    }
}

fn observe(
    settings: &TestSettings,
    sut: &Sut,
    qsl: &Qsl,
    progress: Option<Arc<LiveProgress>>,
) -> (Result<TestOutcome, RunError>, Recorder) {
    let recorder = Recorder::new(progress.clone());
    let options = RunOptions {
        progress,
        stop: Some(Arc::clone(&sut.stop)),
        drain_timeout: Duration::from_secs(5),
        ..RunOptions::default()
    };
    let sink = Arc::new(MemorySink::default());
    let outcome = start_test_observed(sut, qsl, settings, sink, &options, &[&recorder]);
    (outcome, recorder)
}

/// The events of one performance run, in order.
fn performance_run(events: &[Event]) -> (Instant, SystemTime, RunWindow) {
    match events {
        [Event::Phase(RunPhase::LoadingSamples), Event::Phase(RunPhase::Performance), Event::Opened(Mode::PerformanceOnly, begin, begin_wall), Event::Phase(RunPhase::Draining), Event::Closed(Mode::PerformanceOnly, window)] => {
            (*begin, *begin_wall, *window)
        }
        other => panic!("not one performance run: {other:?}"),
    }
}

#[test]
fn each_scenario_tells_one_window_with_the_outcomes_instants() {
    for scenario in [
        Scenario::SingleStream,
        Scenario::MultiStream,
        Scenario::Server,
        Scenario::Offline,
    ] {
        let sut = Sut::new(None);
        let qsl = Qsl {
            samples: 64,
            fail_load: false,
        };
        let (outcome, rec) = observe(&short(scenario, Mode::PerformanceOnly), &sut, &qsl, None);
        let outcome = outcome.unwrap();
        let events = rec.events();
        assert_eq!(
            events.first(),
            Some(&Event::Started(scenario, Mode::PerformanceOnly)),
            "{scenario}"
        );
        assert_eq!(
            events.last(),
            Some(&Event::Finished {
                ok: true,
                interrupted: false
            }),
            "{scenario}"
        );
        let (begin, begin_wall, closed) = performance_run(&events[1..events.len() - 1]);
        let window = *outcome.run_window().expect("a performance window");
        assert_eq!(closed, window, "{scenario}");
        assert_eq!(Some(begin), window.begin, "{scenario}");
        assert_eq!(begin_wall, window.begin_wall, "{scenario}");
        assert!(window.active_ns > 0, "{scenario}: {window:?}");
    }
}

#[test]
fn a_submission_run_tells_its_accuracy_windows_then_the_performance_one() {
    let sut = Sut::new(None);
    let qsl = Qsl {
        samples: 64,
        fail_load: false,
    };
    let (outcome, rec) = observe(
        &short(Scenario::SingleStream, Mode::SubmissionRun),
        &sut,
        &qsl,
        None,
    );
    let outcome = outcome.unwrap();
    assert_eq!(outcome.accuracy_samples, 64);
    let events = rec.events();
    let n = events.len();
    assert_eq!(
        events[..6],
        [
            Event::Started(Scenario::SingleStream, Mode::SubmissionRun),
            Event::Phase(RunPhase::LoadingSamples),
            Event::Phase(RunPhase::Accuracy),
            events[3].clone(),
            Event::Phase(RunPhase::Draining),
            events[5].clone(),
        ]
    );
    assert!(matches!(events[3], Event::Opened(Mode::AccuracyOnly, ..)));
    assert!(matches!(events[5], Event::Closed(Mode::AccuracyOnly, _)));
    let (_, _, closed) = performance_run(&events[n - 6..n - 1]);
    assert_eq!(Some(&closed), outcome.run_window());
    assert_eq!(
        events[n - 1],
        Event::Finished {
            ok: true,
            interrupted: false
        }
    );
}

#[test]
fn an_interrupted_run_closes_its_window_and_finishes_interrupted() {
    let sut = Sut::new(Some(50));
    let qsl = Qsl {
        samples: 64,
        fail_load: false,
    };
    let settings = TestSettings {
        min_duration_ms: 60_000,
        ..short(Scenario::Server, Mode::PerformanceOnly)
    };
    let (outcome, rec) = observe(&settings, &sut, &qsl, None);
    let outcome = outcome.unwrap();
    assert_eq!(outcome.interrupted.as_ref().unwrap().queries_issued, 50);
    let events = rec.events();
    assert_eq!(
        events.last(),
        Some(&Event::Finished {
            ok: true,
            interrupted: true
        })
    );
    let (begin, _, closed) = performance_run(&events[1..events.len() - 1]);
    assert_eq!(Some(&closed), outcome.run_window());
    assert_eq!(Some(begin), closed.begin);
    // 50 queries at 2000 QPS: about 25 ms, far from the minute asked for.
    assert!(closed.active_ns < 10_000_000_000, "{closed:?}");
}

#[test]
fn a_test_that_fails_still_finishes_with_its_error() {
    let sut = Sut::new(None);
    let qsl = Qsl {
        samples: 64,
        fail_load: true,
    };
    let (outcome, rec) = observe(
        &short(Scenario::Offline, Mode::PerformanceOnly),
        &sut,
        &qsl,
        None,
    );
    assert!(matches!(outcome, Err(RunError::LoadFailed(_))));
    assert_eq!(
        rec.events(),
        [
            Event::Started(Scenario::Offline, Mode::PerformanceOnly),
            Event::Phase(RunPhase::LoadingSamples),
            Event::Finished {
                ok: false,
                interrupted: false
            },
        ]
    );
}

#[test]
fn the_progress_counters_follow_the_open_window() {
    let progress = Arc::new(LiveProgress::new());
    let sut = Sut::new(None);
    let qsl = Qsl {
        samples: 64,
        fail_load: false,
    };
    let (outcome, rec) = observe(
        &short(Scenario::SingleStream, Mode::SubmissionRun),
        &sut,
        &qsl,
        Some(Arc::clone(&progress)),
    );
    outcome.unwrap();
    // Told before the other observers: live in every window it opened,
    // in that window's phase.
    assert_eq!(
        *rec.progress_live_at_open.lock().unwrap(),
        [Some(RunPhase::Accuracy), Some(RunPhase::Performance)]
    );
    assert_eq!(progress.snapshot(), None, "nothing between runs");
}

//! Stopping a test early (`RunOptions::stop`, what Ctrl-C does in the
//! binary): issuing stops before the next query, the issued samples get a
//! bounded time to answer, and the outcome is INVALID with an
//! `Interruption` that says when and how far the run got. Also: the run
//! window and serde round trips of what a run record keeps.
//!
//! The SUTs here request the stop themselves on their Nth call, so the
//! number of queries issued is exact, not a race with a timer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use yardstick_core::log::{MemorySink, Severity};
use yardstick_core::results::{PerformanceResult, PerformanceSummary};
use yardstick_core::run::{start_test, RunOptions, StopRequest, TestOutcome};
use yardstick_core::settings::EffectiveSettings;
use yardstick_core::sut::{
    BoxError, Completer, QuerySample, QuerySampleLibrary, QuerySampleResponse, SampleIndex,
    SystemUnderTest,
};
use yardstick_core::{Mode, Scenario, TestSettings};

struct Qsl(usize);

impl QuerySampleLibrary for Qsl {
    fn name(&self) -> &str {
        "qsl"
    }
    fn total_sample_count(&self) -> usize {
        self.0
    }
    fn performance_sample_count(&self) -> usize {
        self.0
    }
    fn load_samples_to_ram(&self, _: &[SampleIndex]) -> Result<(), BoxError> {
        Ok(())
    }
    fn unload_samples_from_ram(&self, _: &[SampleIndex]) -> Result<(), BoxError> {
        Ok(())
    }
}

/// Answers inline, except the calls `never_answer` picks (their samples
/// are kept, never completed); on call number `stop_at` it requests the
/// stop, right after handling that call (or, with `stop_later`, from
/// another thread after that delay).
struct StoppingSut {
    stop: Arc<StopRequest>,
    stop_at: usize,
    stop_later: Option<Duration>,
    never_answer: fn(usize) -> bool,
    calls: AtomicUsize,
    held: Mutex<Vec<(Completer, u64)>>,
}

impl StoppingSut {
    fn new(stop_at: usize) -> Self {
        StoppingSut {
            stop: Arc::new(StopRequest::new()),
            stop_at,
            stop_later: None,
            never_answer: |_| false,
            calls: AtomicUsize::new(0),
            held: Mutex::new(Vec::new()),
        }
    }
}

impl SystemUnderTest for StoppingSut {
    fn name(&self) -> &str {
        "stopping-sut"
    }
    fn issue_query(&self, samples: &[QuerySample], c: &Completer) -> Result<(), BoxError> {
        let call = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        for s in samples {
            if (self.never_answer)(call) {
                self.held.lock().unwrap().push((c.clone(), s.id));
            } else {
                c.complete(&[QuerySampleResponse::new(s.id, &[])])?;
            }
        }
        if call == self.stop_at {
            match self.stop_later {
                None => {
                    self.stop.request();
                }
                Some(delay) => {
                    let stop = Arc::clone(&self.stop);
                    std::thread::spawn(move || {
                        std::thread::sleep(delay);
                        stop.request();
                    });
                }
            }
        }
        Ok(())
    }
}

/// A generous bound on a stopped test's length: far below the 20 s the
/// runs here would take unstopped, far above what a loaded machine needs.
const PROMPT: Duration = Duration::from_secs(10);

fn run(
    sut: &StoppingSut,
    s: TestSettings,
    drain: Duration,
) -> (TestOutcome, Arc<MemorySink>, Duration) {
    let sink = Arc::new(MemorySink::default());
    let opts = RunOptions {
        // Long: a test that ends by a stall instead of the stop fails the
        // PROMPT bound.
        stall_timeout: Duration::from_secs(30),
        stop: Some(Arc::clone(&sut.stop)),
        drain_timeout: drain,
        ..RunOptions::default()
    };
    let t = Instant::now();
    let o = start_test(sut, &Qsl(64), &s, sink.clone(), &opts).unwrap();
    (o, sink, t.elapsed())
}

fn server_20s() -> TestSettings {
    TestSettings {
        scenario: Scenario::Server,
        mode: Mode::PerformanceOnly,
        server_target_qps: 1000.0,
        min_duration_ms: 20_000,
        min_query_count: 1,
        ..TestSettings::default()
    }
}

fn generated(sink: &MemorySink) -> u64 {
    sink.value("generated_query_count")
        .unwrap()
        .as_u64()
        .unwrap()
}

fn error_messages(sink: &MemorySink) -> Vec<String> {
    sink.details
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.severity == Severity::Error)
        .map(|e| e.value.as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_stopped_server_run_is_invalid_and_says_why() {
    let sut = StoppingSut::new(100);
    let before = SystemTime::now();
    let (o, sink, took) = run(&sut, server_20s(), Duration::from_secs(5));
    assert!(took < PROMPT, "the stopped run took {took:?}");

    let i = o.interrupted.clone().expect("the outcome records the stop");
    assert_eq!(i.queries_issued, 100);
    assert_eq!(i.queries_planned, generated(&sink));
    assert!(i.queries_planned > 10_000, "{}", i.queries_planned);
    assert_eq!(i.samples_unanswered, 0);
    assert!(i.at >= before && i.at <= SystemTime::now());
    assert!(!o.is_valid());
    assert!(o.faults.is_empty(), "{:?}", o.faults);

    let r = o.result().expect("the stopped run's summary");
    assert_eq!(r.interrupted.as_ref(), Some(&i));
    assert!(!r.is_valid());
    assert_eq!(r.sample_count, 100);
    assert_eq!(r.query_count, 100);
    let reason = r.invalid_reason();
    assert!(
        reason.starts_with(&format!("{}. ", i.reason())),
        "the interruption leads the reasons: {reason}"
    );
    assert!(
        i.reason().starts_with("interrupted at 20"),
        "{}",
        i.reason()
    );
    assert!(
        i.reason()
            .ends_with(&format!(", 100 of {} queries issued", i.queries_planned)),
        "{}",
        i.reason()
    );
    assert_eq!(
        sink.value("result_validity").unwrap().as_str(),
        Some("INVALID")
    );
    assert_eq!(
        sink.value("result_invalid_reason").unwrap().as_str(),
        Some(reason.as_str())
    );
    let errors = error_messages(&sink);
    assert!(
        errors.iter().any(|e| e == &i.reason()),
        "an error event names the interruption: {errors:?}"
    );
    assert_eq!(*sink.interruptions.lock().unwrap(), vec![i]);

    // The measured window and the latencies a recorder needs.
    let w = o.run_window().expect("the run's window");
    assert!(w.begin.is_some());
    assert!(w.active_ns > 0);
    assert_eq!(
        w.end_wall.duration_since(w.begin_wall).unwrap(),
        Duration::from_nanos(w.active_ns)
    );
    let lat = r.sorted_sample_latencies();
    assert_eq!(lat.len(), 100);
    assert!(lat.windows(2).all(|p| p[0] <= p[1]));
    assert_eq!(lat[0], r.sample_latency_min);
}

#[test]
fn a_run_ending_normally_is_not_interrupted() {
    let sut = StoppingSut::new(usize::MAX);
    let s = TestSettings {
        min_duration_ms: 50,
        ..server_20s()
    };
    let (o, sink, _) = run(&sut, s, Duration::from_secs(5));
    assert_eq!(o.interrupted, None);
    assert_eq!(o.result().unwrap().interrupted, None);
    assert!(sink.interruptions.lock().unwrap().is_empty());
    assert!(o.run_window().is_some());
}

#[test]
fn a_stop_in_the_accuracy_run_skips_the_performance_run() {
    let sut = StoppingSut::new(5);
    let s = TestSettings {
        scenario: Scenario::SingleStream,
        mode: Mode::SubmissionRun,
        ..TestSettings::default()
    };
    let (o, sink, took) = run(&sut, s, Duration::from_secs(5));
    assert!(took < PROMPT, "{took:?}");
    let i = o.interrupted.clone().expect("interrupted");
    assert_eq!(i.queries_issued, 5);
    assert_eq!(o.accuracy_samples, 5);
    assert!(o.performance.is_empty(), "the performance run was skipped");
    assert!(!o.is_valid());
    let started_performance = sink
        .details
        .lock()
        .unwrap()
        .iter()
        .any(|e| e.value.as_str() == Some("Starting performance mode"));
    assert!(!started_performance);
    assert_eq!(sink.interruptions.lock().unwrap().len(), 1);
}

#[test]
fn the_drain_gives_up_on_samples_that_never_answer() {
    let mut sut = StoppingSut::new(10);
    sut.never_answer = |call| call % 2 == 0;
    let (o, sink, took) = run(&sut, server_20s(), Duration::from_millis(300));
    assert!(took < PROMPT, "{took:?}");
    let i = o.interrupted.clone().expect("interrupted");
    assert_eq!(i.queries_issued, 10);
    assert_eq!(i.samples_unanswered, 5);
    assert!(o.faults.is_empty(), "not a stall: {:?}", o.faults);
    assert_eq!(o.result().unwrap().sample_count, 5);
    let errors = error_messages(&sink);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with(&i.reason()) && e.contains("5 of the 10 issued samples")),
        "{errors:?}"
    );
}

#[test]
fn a_stop_while_waiting_for_the_previous_query_ends_single_stream() {
    // The third query never answers; the stop comes while SingleStream
    // waits for it (before the stall timeout of 30 s).
    let mut sut = StoppingSut::new(3);
    sut.never_answer = |call| call == 3;
    sut.stop_later = Some(Duration::from_millis(100));
    let s = TestSettings {
        scenario: Scenario::SingleStream,
        mode: Mode::PerformanceOnly,
        min_duration_ms: 20_000,
        ..TestSettings::default()
    };
    let (o, _, took) = run(&sut, s, Duration::from_millis(200));
    assert!(took < PROMPT, "{took:?}");
    let i = o.interrupted.clone().expect("interrupted");
    assert_eq!(i.queries_issued, 3);
    assert_eq!(i.samples_unanswered, 1);
    assert!(o.faults.is_empty(), "{:?}", o.faults);
}

#[test]
fn a_slow_server_schedule_sees_the_stop_between_queries() {
    // One query a minute: the wait for the second is cut short.
    let mut sut = StoppingSut::new(1);
    sut.stop_later = Some(Duration::from_millis(100));
    let s = TestSettings {
        server_target_qps: 1.0 / 60.0,
        min_duration_ms: 600_000,
        ..server_20s()
    };
    let (o, _, took) = run(&sut, s, Duration::from_secs(1));
    assert!(took < PROMPT, "{took:?}");
    assert_eq!(o.interrupted.expect("interrupted").queries_issued, 1);
}

#[test]
fn a_request_made_before_the_test_issues_nothing() {
    let sut = StoppingSut::new(usize::MAX);
    sut.stop.request();
    let (o, _, took) = run(&sut, server_20s(), Duration::from_secs(1));
    assert!(took < PROMPT, "{took:?}");
    assert_eq!(sut.calls.load(Ordering::Relaxed), 0);
    let i = o.interrupted.expect("interrupted");
    assert_eq!(i.queries_issued, 0);
    assert_eq!(o.performance.len(), 1);
    assert_eq!(o.performance[0].sample_count, 0);
}

#[test]
fn a_stopped_find_peak_search_ends_with_the_stopped_run() {
    let sut = StoppingSut::new(200);
    let s = TestSettings {
        mode: Mode::FindPeakPerformance,
        min_duration_ms: 100,
        server_target_qps: 1000.0,
        ..server_20s()
    };
    let (o, _, took) = run(&sut, s, Duration::from_secs(1));
    assert!(took < PROMPT, "{took:?}");
    assert!(o.interrupted.is_some());
    let last = o.result().expect("a result");
    assert_eq!(last.interrupted, o.interrupted);
    assert!(!o.is_valid());
}

#[test]
fn summaries_and_outcomes_survive_a_json_round_trip() {
    let sut = StoppingSut::new(50);
    let (o, _, _) = run(&sut, server_20s(), Duration::from_secs(5));
    let json = serde_json::to_string(&o).unwrap();
    let back: TestOutcome = serde_json::from_str(&json).unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
    assert_eq!(back.interrupted, o.interrupted);
    let (w, wb) = (o.run_window().unwrap(), back.run_window().unwrap());
    assert_eq!(wb.begin_wall, w.begin_wall);
    assert_eq!(wb.end_wall, w.end_wall);
    assert_eq!(wb.begin, None, "an Instant is not serialized");
    assert_eq!(
        back.result().unwrap().sorted_sample_latencies(),
        o.result().unwrap().sorted_sample_latencies()
    );

    // A run with no samples has NaN and infinite throughputs: they are
    // written as strings and read back as such.
    let settings = EffectiveSettings::new(&server_20s(), 64, 64);
    let empty = PerformanceSummary::new("sut", settings, PerformanceResult::default());
    assert!(empty.samples_per_second.is_nan());
    let json = serde_json::to_value(&empty).unwrap();
    assert!(
        json["samples_per_second"].is_string(),
        "{}",
        json["samples_per_second"]
    );
    let back: PerformanceSummary = serde_json::from_value(json.clone()).unwrap();
    assert!(back.samples_per_second.is_nan());
    assert_eq!(
        back.samples_per_second.is_sign_negative(),
        empty.samples_per_second.is_sign_negative()
    );
    assert_eq!(serde_json::to_value(&back).unwrap(), json);
}

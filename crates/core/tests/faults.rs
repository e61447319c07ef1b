//! A SUT that misbehaves gets a clear fault, an error in the log, and the
//! test ends instead of hanging.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use yardstick_core::log::{MemorySink, Severity};
use yardstick_core::run::{start_test, CompletionError, Fault, RunOptions};
use yardstick_core::sut::{
    BoxError, Completer, QuerySample, QuerySampleLibrary, QuerySampleResponse, SampleIndex,
    SystemUnderTest,
};
use yardstick_core::{Mode, Scenario, TestSettings};

struct Qsl;

impl QuerySampleLibrary for Qsl {
    fn name(&self) -> &str {
        "qsl"
    }
    fn total_sample_count(&self) -> usize {
        64
    }
    fn performance_sample_count(&self) -> usize {
        64
    }
    fn load_samples_to_ram(&self, _: &[SampleIndex]) -> Result<(), BoxError> {
        Ok(())
    }
    fn unload_samples_from_ram(&self, _: &[SampleIndex]) -> Result<(), BoxError> {
        Ok(())
    }
}

enum Behaviour {
    NeverAnswers,
    AnswersTwice,
    UnknownId,
    Panics,
    Errors,
    /// Answers all but the fifth sample.
    DropsOne,
    /// Keeps the completer and answers after the run ended.
    AnswersLate(Mutex<Vec<(Completer, u64)>>),
}

struct BadSut {
    behaviour: Behaviour,
    calls: AtomicUsize,
}

impl SystemUnderTest for BadSut {
    fn name(&self) -> &str {
        "bad"
    }
    fn issue_query(&self, samples: &[QuerySample], c: &Completer) -> Result<(), BoxError> {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        for s in samples {
            let ok = QuerySampleResponse::new(s.id, b"ok");
            match &self.behaviour {
                Behaviour::NeverAnswers => {}
                Behaviour::AnswersTwice => {
                    c.complete(&[ok])?;
                    let second = c.complete(&[ok]);
                    assert!(matches!(second, Err(CompletionError::Duplicate { .. })));
                }
                Behaviour::UnknownId => {
                    let bogus = c.complete(&[QuerySampleResponse::new(s.id ^ (1 << 63), b"x")]);
                    assert!(matches!(bogus, Err(CompletionError::UnknownId { .. })));
                    c.complete(&[ok])?;
                }
                Behaviour::Panics => {
                    if n == 3 {
                        panic!("model exploded on query 3");
                    }
                    c.complete(&[ok])?;
                }
                Behaviour::Errors => {
                    if n == 2 {
                        return Err("device lost".into());
                    }
                    c.complete(&[ok])?;
                }
                Behaviour::DropsOne => {
                    if n != 4 {
                        c.complete(&[ok])?;
                    }
                }
                Behaviour::AnswersLate(keep) => {
                    c.complete(&[ok])?;
                    keep.lock().unwrap().push((c.clone(), s.id));
                }
            }
        }
        Ok(())
    }
}

fn settings(scenario: Scenario) -> TestSettings {
    TestSettings {
        scenario,
        mode: Mode::PerformanceOnly,
        min_duration_ms: 0,
        min_query_count: 20,
        max_query_count: 20,
        server_target_qps: 10_000.0,
        offline_expected_qps: 20.0,
        ..TestSettings::default()
    }
}

fn run(
    behaviour: Behaviour,
    scenario: Scenario,
) -> (yardstick_core::run::TestOutcome, Arc<MemorySink>, Duration) {
    let sut = BadSut {
        behaviour,
        calls: AtomicUsize::new(0),
    };
    let sink = Arc::new(MemorySink::default());
    let opts = RunOptions {
        stall_timeout: Duration::from_millis(300),
        progress: None,
        ..RunOptions::default()
    };
    let t = Instant::now();
    let outcome =
        start_test(&sut, &Qsl, &settings(scenario), sink.clone(), &opts).expect("test runs");
    (outcome, sink, t.elapsed())
}

fn errors_logged(sink: &MemorySink) -> Vec<String> {
    sink.details
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.severity == Severity::Error)
        .map(|e| e.value.to_string())
        .collect()
}

#[test]
fn a_sut_that_never_answers_ends_the_run_with_a_stall() {
    for scenario in Scenario::ALL {
        let (outcome, sink, took) = run(Behaviour::NeverAnswers, scenario);
        assert!(took < Duration::from_secs(5), "{scenario}: took {took:?}");
        assert!(!outcome.is_valid());
        assert!(
            outcome
                .faults
                .iter()
                .any(|f| matches!(f, Fault::Stalled { .. })),
            "{scenario}: {:?}",
            outcome.faults
        );
        assert!(errors_logged(&sink)
            .iter()
            .any(|e| e.contains("never answered")));
    }
}

#[test]
fn a_sample_answered_twice_is_a_fault() {
    let (outcome, sink, _) = run(Behaviour::AnswersTwice, Scenario::SingleStream);
    assert!(!outcome.is_valid());
    assert!(outcome
        .faults
        .iter()
        .all(|f| matches!(f, Fault::Completion(CompletionError::Duplicate { .. }))));
    assert_eq!(outcome.faults.len(), 20);
    assert!(errors_logged(&sink)
        .iter()
        .any(|e| e.contains("completed twice")));
}

#[test]
fn an_unknown_id_is_refused() {
    let (outcome, sink, _) = run(Behaviour::UnknownId, Scenario::Server);
    assert!(!outcome.is_valid());
    assert!(outcome
        .faults
        .iter()
        .any(|f| matches!(f, Fault::Completion(CompletionError::UnknownId { .. }))));
    assert!(errors_logged(&sink)
        .iter()
        .any(|e| e.contains("never issued")));
    // The real answers were still recorded.
    assert_eq!(outcome.result().unwrap().pr.sample_latencies.len(), 20);
}

#[test]
fn a_panicking_sut_stops_the_run() {
    let (outcome, sink, took) = run(Behaviour::Panics, Scenario::SingleStream);
    assert!(took < Duration::from_secs(5));
    assert!(outcome
        .faults
        .iter()
        .any(|f| matches!(f, Fault::IssuePanicked(m) if m.contains("model exploded"))));
    assert!(errors_logged(&sink).iter().any(|e| e.contains("panicked")));
}

#[test]
fn an_issue_error_stops_the_run() {
    let (outcome, _, _) = run(Behaviour::Errors, Scenario::Server);
    assert!(outcome
        .faults
        .iter()
        .any(|f| matches!(f, Fault::IssueFailed(m) if m.contains("device lost"))));
}

#[test]
fn a_missing_answer_is_named() {
    let (outcome, _, took) = run(Behaviour::DropsOne, Scenario::Server);
    assert!(took < Duration::from_secs(5));
    let stalled = outcome.faults.iter().find_map(|f| match f {
        Fault::Stalled {
            outstanding,
            first_missing,
            ..
        } => Some((*outstanding, first_missing.clone())),
        _ => None,
    });
    let (outstanding, missing) = stalled.expect("a stall fault");
    assert_eq!(outstanding, 1);
    assert_eq!(missing.len(), 1);
}

#[test]
fn answers_after_the_run_are_refused() {
    let keep = Mutex::new(Vec::new());
    let sut = BadSut {
        behaviour: Behaviour::AnswersLate(keep),
        calls: AtomicUsize::new(0),
    };
    let sink = Arc::new(MemorySink::default());
    let outcome = start_test(
        &sut,
        &Qsl,
        &settings(Scenario::Offline),
        sink,
        &RunOptions::default(),
    )
    .unwrap();
    // Every sample was answered in time: the run itself is clean and valid.
    assert!(outcome.faults.is_empty(), "{:?}", outcome.faults);
    assert!(
        outcome.is_valid(),
        "a run with every answer in time is VALID"
    );
    let Behaviour::AnswersLate(keep) = &sut.behaviour else {
        unreachable!()
    };
    let kept = keep.lock().unwrap();
    assert_eq!(kept.len(), 20, "one kept completer per issued sample");
    let (c, id) = &kept[0];
    assert!(matches!(
        c.complete_one(*id, b"late"),
        Err(CompletionError::RunEnded { .. })
    ));
}

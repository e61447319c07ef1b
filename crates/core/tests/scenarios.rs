//! Scenario behaviour of whole runs: issue threads, coalescing, query and
//! duration limits, outstanding-query limits, and that lateness is charged.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use yardstick_core::log::{MemorySink, Severity};
use yardstick_core::run::{start_test, RunOptions, TestOutcome};
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

/// Answers inline after an optional busy delay, recording every call.
#[derive(Default)]
struct Sut {
    delay: Duration,
    calls: AtomicUsize,
    samples: Mutex<Vec<u64>>,
    hold: bool,
    held: Mutex<Vec<(Completer, u64)>>,
}

impl SystemUnderTest for Sut {
    fn name(&self) -> &str {
        "sut"
    }
    fn issue_query(&self, samples: &[QuerySample], c: &Completer) -> Result<(), BoxError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        self.samples
            .lock()
            .unwrap()
            .extend(samples.iter().map(|s| s.id));
        for s in samples {
            if self.hold {
                self.held.lock().unwrap().push((c.clone(), s.id));
            } else {
                c.complete(&[QuerySampleResponse::new(s.id, &[])])?;
            }
        }
        Ok(())
    }
}

fn run(sut: &Sut, s: TestSettings, total: usize) -> (TestOutcome, Arc<MemorySink>) {
    let sink = Arc::new(MemorySink::default());
    let opts = RunOptions {
        stall_timeout: Duration::from_millis(500),
        progress: None,
        ..RunOptions::default()
    };
    let o = start_test(sut, &Qsl(total), &s, sink.clone(), &opts).unwrap();
    (o, sink)
}

fn server(qps: f64, min_ms: u64) -> TestSettings {
    TestSettings {
        scenario: Scenario::Server,
        mode: Mode::PerformanceOnly,
        server_target_qps: qps,
        min_duration_ms: min_ms,
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

#[test]
fn several_issue_threads_issue_every_query_once() {
    let sut = Sut::default();
    let s = TestSettings {
        server_num_issue_query_threads: 3,
        ..server(20_000.0, 100)
    };
    let (o, sink) = run(&sut, s, 100);
    assert!(o.faults.is_empty(), "{:?}", o.faults);
    let mut ids = sut.samples.lock().unwrap().clone();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "no sample issued twice");
    assert_eq!(n as u64, generated(&sink));
    assert_eq!(o.result().unwrap().pr.sample_latencies.len(), n);
}

#[test]
fn coalescing_sends_due_queries_together() {
    let sut = Sut {
        delay: Duration::from_millis(2),
        ..Sut::default()
    };
    let s = TestSettings {
        server_coalesce_queries: true,
        ..server(20_000.0, 100)
    };
    let (o, sink) = run(&sut, s, 100);
    assert!(o.faults.is_empty());
    let calls = sut.calls.load(Ordering::Relaxed) as u64;
    let issued = sut.samples.lock().unwrap().len() as u64;
    assert_eq!(issued, generated(&sink));
    assert!(calls * 5 < issued, "{calls} calls for {issued} queries");
}

#[test]
fn a_slow_issuer_is_charged_not_hidden() {
    // Each issue blocks 2 ms while queries are due every 0.5 ms: the backlog
    // grows, and latency counted from the schedule must show it.
    let sut = Sut {
        delay: Duration::from_millis(2),
        ..Sut::default()
    };
    let (o, _) = run(&sut, server(2_000.0, 200), 100);
    let r = o.result().unwrap();
    assert!(
        r.sample_latency_max > 50_000_000,
        "max latency {} ns",
        r.sample_latency_max
    );
}

#[test]
fn max_query_count_ends_single_stream() {
    let sut = Sut::default();
    let s = TestSettings {
        scenario: Scenario::SingleStream,
        min_query_count: 10,
        max_query_count: 37,
        min_duration_ms: 60_000,
        single_stream_expected_latency_ns: 1_000_000.0,
        ..TestSettings::default()
    };
    let (o, sink) = run(&sut, s, 100);
    assert_eq!(sut.calls.load(Ordering::Relaxed), 37);
    assert_eq!(o.result().unwrap().query_count, 37);
    assert!(sink
        .details
        .lock()
        .unwrap()
        .iter()
        .any(|e| e.value.to_string().contains("Max query count reached")));
}

#[test]
fn max_duration_ends_server() {
    let sut = Sut::default();
    let s = TestSettings {
        max_duration_ms: 50,
        ..server(10_000.0, 2_000)
    };
    let (o, sink) = run(&sut, s, 100);
    let issued = sut.samples.lock().unwrap().len() as u64;
    assert!(issued < generated(&sink) / 4, "{issued} issued");
    assert!(!o.result().unwrap().is_valid());
}

#[test]
fn too_many_outstanding_queries_end_server() {
    // The SUT holds every sample: once 10 are outstanding, issuing stops.
    let sut = Sut {
        hold: true,
        ..Sut::default()
    };
    let s = TestSettings {
        server_max_async_queries: 10,
        ..server(10_000.0, 200)
    };
    let (o, sink) = run(&sut, s, 100);
    assert_eq!(sut.samples.lock().unwrap().len(), 11);
    let errors: Vec<String> = sink
        .details
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.severity == Severity::Error)
        .map(|e| e.value.to_string())
        .collect();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("Too many outstanding queries")),
        "{errors:?}"
    );
    // The held samples never completed: the run says so instead of hanging.
    assert!(!o.is_valid());
}

#[test]
fn multistream_queries_are_contiguous_in_the_loaded_set() {
    let sut = Sut::default();
    let s = TestSettings {
        scenario: Scenario::MultiStream,
        multi_stream_samples_per_query: 8,
        min_query_count: 50,
        max_query_count: 50,
        min_duration_ms: 0,
        ..TestSettings::default()
    };
    let (o, sink) = run(&sut, s, 64);
    assert!(o.faults.is_empty());
    assert_eq!(sut.calls.load(Ordering::Relaxed), 50);
    assert_eq!(o.result().unwrap().pr.query_latencies.len(), 50);
    let loaded = sink.value("loaded_qsl_set").unwrap();
    assert_eq!(
        loaded.as_array().unwrap().len(),
        64 + 7,
        "padded by samples_per_query - 1"
    );
}

/// Answers after `wait`, stamping the first token and the completion at
/// `issue + stamp` (or a moment in the future, which must count as now).
struct StampingSut {
    wait: Duration,
    stamp: Option<Duration>,
}

impl SystemUnderTest for StampingSut {
    fn name(&self) -> &str {
        "stamping"
    }
    fn issue_query(&self, samples: &[QuerySample], c: &Completer) -> Result<(), BoxError> {
        let issued = std::time::Instant::now();
        std::thread::sleep(self.wait);
        let at = match self.stamp {
            Some(d) => issued + d,
            None => issued + Duration::from_secs(3600),
        };
        for s in samples {
            c.first_token_at(&[QuerySampleResponse::new(s.id, &[])], at)?;
            c.complete_at(&[QuerySampleResponse::new(s.id, &[])], at)?;
        }
        Ok(())
    }
}

fn single_stream_tokens(n: u64) -> TestSettings {
    TestSettings {
        scenario: Scenario::SingleStream,
        min_query_count: n,
        max_query_count: n,
        min_duration_ms: 0,
        single_stream_expected_latency_ns: 1_000_000.0,
        use_token_latencies: true,
        ..TestSettings::default()
    }
}

#[test]
fn stamps_given_by_the_sut_are_the_latencies() {
    // The SUT answers 20 ms after the issue but says the answer arrived
    // 1 ms after it: the latency is the stamp's, not the call's.
    let sut = StampingSut {
        wait: Duration::from_millis(20),
        stamp: Some(Duration::from_millis(1)),
    };
    let sink = Arc::new(MemorySink::default());
    let o = start_test(
        &sut,
        &Qsl(10),
        &single_stream_tokens(5),
        sink,
        &RunOptions::default(),
    )
    .unwrap();
    assert!(o.faults.is_empty(), "{:?}", o.faults);
    let r = &o.result().unwrap().pr;
    assert_eq!(r.sample_latencies.len(), 5);
    for (&l, &ft) in r
        .sample_latencies
        .iter()
        .zip(&r.token_results.first_token_latencies)
    {
        // Exact: the stamp is 1 ms after the SUT saw the query, which is no
        // earlier than the issue; both answers carry the same stamp.
        assert!(l >= 1_000_000, "latency {l} ns");
        assert_eq!(ft, l, "first token and completion share the stamp");
    }
    // The call took >= 20 ms: a median well below says the stamp was used
    // (a stall before the SUT's own clock read may delay one sample or two).
    let mut sorted = r.sample_latencies.clone();
    sorted.sort_unstable();
    let median = sorted[sorted.len() / 2];
    assert!(
        median < 15_000_000,
        "median latency {median} ns: {sorted:?}"
    );
}

#[test]
fn stamps_in_the_future_count_as_now() {
    let sut = StampingSut {
        wait: Duration::from_millis(5),
        stamp: None,
    };
    let sink = Arc::new(MemorySink::default());
    let o = start_test(
        &sut,
        &Qsl(10),
        &single_stream_tokens(3),
        sink,
        &RunOptions::default(),
    )
    .unwrap();
    assert!(o.faults.is_empty(), "{:?}", o.faults);
    for &l in &o.result().unwrap().pr.sample_latencies {
        assert!((5_000_000..1_000_000_000).contains(&l), "latency {l} ns");
    }
}

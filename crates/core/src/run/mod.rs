//! Running a test: loading sample sets, issuing each run's queries to the
//! SUT per scenario, collecting completions and turning them into results
//! (LoadGen's `StartTest`, `RunPerformanceMode`, `RunAccuracyMode` and
//! `FindPeakPerformanceMode`).

pub mod clock;
pub mod completion;
mod issue;
mod observer;
mod progress;
mod stop;
mod timeline;

pub use crate::log::RunTimeline;
pub use crate::results::{Interruption, RunWindow};
pub use completion::{Completer, CompletionError, Fault};
pub use observer::{LifecycleObserver, OpenedWindow, RunPhase};
pub use progress::{LiveProgress, ProgressSnapshot};
pub use stop::StopRequest;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use completion::{AccuracyPolicy, FaultLog, RunState, NOT_ISSUED};
use issue::{issue_queries, wait_for_completions, Drain, IssueContext, WaitEnd};
use observer::Observers;

use crate::log::event::DetailEvent;
use crate::log::LogSink;
use crate::queries::{generate_queries, PlanError, SequenceGen};
use crate::results::{PerformanceResult, PerformanceSummary, TokenPerformanceResults};
use crate::rng::{uniform_real, Mt19937};
use crate::sample_sets::{loadable_sets, LoadableSet};
use crate::settings::{EffectiveSettings, TestSettings};
use crate::sut::{QuerySampleLibrary, SystemUnderTest};
use crate::{Mode, Scenario};

/// Options of a test that are not LoadGen settings.
#[derive(Clone)]
pub struct RunOptions {
    /// A run whose SUT has not answered anything for this long, while
    /// samples are outstanding, is ended with a [`Fault::Stalled`].
    pub stall_timeout: Duration,
    /// Live counters for a progress display, if wanted (told as the first
    /// [`LifecycleObserver`]).
    pub progress: Option<Arc<LiveProgress>>,
    /// Server: how long before each scheduled query the issuing thread stops
    /// sleeping and spins ([`clock::DEFAULT_SPIN`]); zero never spins, which
    /// leaves the core to the SUT on small machines at the cost of lateness.
    pub server_spin: Duration,
    /// Stops the test early when requested (e.g. on Ctrl-C): issuing stops
    /// before the next query, the samples already issued get
    /// `drain_timeout` to answer, and the test ends INVALID with an
    /// [`Interruption`]; the runs it had not reached are skipped.
    pub stop: Option<Arc<StopRequest>>,
    /// After a stop request, how long the samples already issued may take
    /// to answer before the run ends without them.
    pub drain_timeout: Duration,
}

/// The default [`RunOptions::drain_timeout`]: long enough for the answers
/// already on their way, short enough for a person waiting at Ctrl-C.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            stall_timeout: Duration::from_secs(60),
            progress: None,
            server_spin: clock::DEFAULT_SPIN,
            stop: None,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
        }
    }
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("stall_timeout", &self.stall_timeout)
            .field("server_spin", &self.server_spin)
            .field("stop", &self.stop)
            .field("drain_timeout", &self.drain_timeout)
            .finish()
    }
}

/// Errors that stop a test before or outside the SUT's control.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the sample library `{name}` reports {total} samples in total and {performance} for performance; both must be at least 1")]
    EmptyLibrary {
        name: String,
        total: usize,
        performance: usize,
    },
    #[error("the sample library failed to load samples: {0}")]
    LoadFailed(String),
    #[error("cannot generate queries: {0}")]
    Plan(#[from] PlanError),
}

/// What a test produced. Serializable, so a run record can keep it whole.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TestOutcome {
    pub settings: EffectiveSettings,
    /// Performance results, in run order; the last is the test's result (in
    /// find-peak mode the earlier ones are the search steps).
    pub performance: Vec<PerformanceSummary>,
    /// Samples issued in accuracy mode.
    pub accuracy_samples: u64,
    /// Misbehaviour of the SUT: any fault makes the test invalid.
    pub faults: Vec<Fault>,
    /// Set when a stop was requested before the test finished: the run it
    /// stopped (whose summary, if a performance run, carries the same
    /// [`Interruption`]) and the ones after it count nothing, and the test
    /// is INVALID.
    #[serde(default)]
    pub interrupted: Option<Interruption>,
}

impl TestOutcome {
    /// The final performance result, if the test measured performance.
    pub fn result(&self) -> Option<&PerformanceSummary> {
        self.performance.last()
    }

    /// VALID: not interrupted, no faults, and the final performance result
    /// (if any) is valid.
    pub fn is_valid(&self) -> bool {
        self.interrupted.is_none()
            && self.faults.is_empty()
            && self.result().is_none_or(|s| s.is_valid())
    }

    /// The measured window of the final performance result.
    pub fn run_window(&self) -> Option<&RunWindow> {
        self.result().and_then(|s| s.window.as_ref())
    }
}

/// Runs a test: LoadGen's `StartTest` with the sample library, the SUT and
/// the settings. Header events (versions, dates, SUT name) are the caller's
/// to log before; everything from the settings on is logged here.
pub fn start_test(
    sut: &dyn SystemUnderTest,
    qsl: &dyn QuerySampleLibrary,
    requested: &TestSettings,
    sink: Arc<dyn LogSink>,
    options: &RunOptions,
) -> Result<TestOutcome, RunError> {
    start_test_observed(sut, qsl, requested, sink, options, &[])
}

/// [`start_test`] with `observers` told the test's lifecycle (after
/// `options.progress`, in order). A test that cannot start (an empty
/// library) tells them nothing; one that starts always ends with
/// `test_finished`, with its outcome or its error.
pub fn start_test_observed(
    sut: &dyn SystemUnderTest,
    qsl: &dyn QuerySampleLibrary,
    requested: &TestSettings,
    sink: Arc<dyn LogSink>,
    options: &RunOptions,
    observers: &[&dyn LifecycleObserver],
) -> Result<TestOutcome, RunError> {
    let total = qsl.total_sample_count();
    let performance = qsl.performance_sample_count();
    if total == 0 || performance == 0 {
        return Err(RunError::EmptyLibrary {
            name: qsl.name().to_string(),
            total,
            performance,
        });
    }
    if total > u32::MAX as usize {
        return Err(PlanError::TooManySamples.into());
    }

    let mut requested = requested.clone();
    if requested.test05 {
        sink.detail(DetailEvent::warning(
            "warning_generic_message",
            "Test05 flag detected Overriding random seeds",
        ));
        requested.mode = Mode::PerformanceOnly;
        requested.qsl_rng_seed = requested.test05_qsl_rng_seed;
        requested.sample_index_rng_seed = requested.test05_sample_index_rng_seed;
        requested.schedule_rng_seed = requested.test05_schedule_rng_seed;
    }
    let settings = EffectiveSettings::new(&requested, performance, total);
    for event in settings
        .construction_events()
        .into_iter()
        .chain(settings.log_events())
    {
        sink.detail(event);
    }

    let mut told: Vec<&dyn LifecycleObserver> = Vec::with_capacity(observers.len() + 1);
    if let Some(p) = &options.progress {
        told.push(&**p);
    }
    told.extend_from_slice(observers);
    let observers = Observers(told);
    observers.test_started(&settings);
    let mut test = Test {
        sut,
        qsl,
        sink,
        options,
        observers: &observers,
        seq: SequenceGen::default(),
        faults: Arc::new(FaultLog::default()),
        performance: Vec::new(),
        accuracy_samples: 0,
        interruption: None,
    };
    let ran = match settings.mode {
        Mode::SubmissionRun => test.accuracy(&settings).and_then(|()| {
            if !test.faults.is_fatal() && test.interruption.is_none() {
                test.performance(&settings)
            } else {
                Ok(())
            }
        }),
        Mode::AccuracyOnly => test.accuracy(&settings),
        Mode::PerformanceOnly => test.performance(&settings),
        Mode::FindPeakPerformance => test.find_peak(&settings),
    };
    if let Err(e) = ran {
        observers.test_finished(Err(&e));
        return Err(e);
    }
    let outcome = TestOutcome {
        faults: test.faults.take(),
        performance: test.performance,
        accuracy_samples: test.accuracy_samples,
        interrupted: test.interruption,
        settings,
    };
    observers.test_finished(Ok(&outcome));
    Ok(outcome)
}

/// The state of one test across its runs.
struct Test<'a> {
    sut: &'a dyn SystemUnderTest,
    qsl: &'a dyn QuerySampleLibrary,
    sink: Arc<dyn LogSink>,
    options: &'a RunOptions,
    observers: &'a Observers<'a>,
    seq: SequenceGen,
    faults: Arc<FaultLog>,
    performance: Vec<PerformanceSummary>,
    accuracy_samples: u64,
    /// The first run that was stopped early; no run starts after it.
    interruption: Option<Interruption>,
}

impl Test<'_> {
    fn load(&self, set: &LoadableSet) -> Result<(), RunError> {
        self.observers.phase_changed(RunPhase::LoadingSamples);
        self.sink.detail(DetailEvent::new(
            "loaded_qsl_set",
            serde_json::Value::from(set.indices.clone()),
        ));
        let indices: Vec<usize> = set.indices.iter().map(|&i| i as usize).collect();
        self.qsl
            .load_samples_to_ram(&indices)
            .map_err(|e| RunError::LoadFailed(e.to_string()))
    }

    fn unload(&self, set: &LoadableSet) -> Result<(), RunError> {
        let indices: Vec<usize> = set.indices.iter().map(|&i| i as usize).collect();
        self.qsl
            .unload_samples_from_ram(&indices)
            .map_err(|e| RunError::LoadFailed(e.to_string()))
    }

    fn sets(&self, settings: &EffectiveSettings, count: u64) -> Vec<LoadableSet> {
        loadable_sets(
            settings.qsl_rng_seed,
            count as usize,
            self.qsl.total_sample_count(),
            settings.performance_sample_count as usize,
            settings.scenario,
            settings.samples_per_query as usize,
        )
    }

    fn accuracy(&mut self, settings: &EffectiveSettings) -> Result<(), RunError> {
        self.sink.detail(DetailEvent::new(
            "generic_message",
            "Starting accuracy mode",
        ));
        for set in self.sets(settings, settings.accuracy_sample_count) {
            self.load(&set)?;
            let run = self.run(settings, Mode::AccuracyOnly, &set)?;
            self.accuracy_samples += run.samples_issued;
            self.unload(&set)?;
            if self.faults.is_fatal() || self.interruption.is_some() {
                break;
            }
        }
        Ok(())
    }

    fn performance(&mut self, settings: &EffectiveSettings) -> Result<(), RunError> {
        self.sink.detail(DetailEvent::new(
            "generic_message",
            "Starting performance mode",
        ));
        let sets = self.sets(settings, settings.performance_sample_count);
        let Some(set) = sets.first() else {
            return Err(PlanError::EmptySampleSet.into());
        };
        self.load(set)?;
        let summary = self.measure(settings, set)?;
        self.unload(set)?;
        self.publish(summary);
        Ok(())
    }

    fn measure(
        &mut self,
        settings: &EffectiveSettings,
        set: &LoadableSet,
    ) -> Result<PerformanceSummary, RunError> {
        let run = self.run(settings, Mode::PerformanceOnly, set)?;
        let mut summary = PerformanceSummary::new(self.sut.name(), settings.clone(), run.result);
        summary.window = Some(run.window);
        summary.interrupted = run.interruption;
        Ok(summary)
    }

    fn publish(&mut self, summary: PerformanceSummary) {
        self.sink.summary(&summary);
        for event in summary.detail_events() {
            self.sink.detail(event);
        }
        self.sink.detail(DetailEvent::new(
            "num_errors",
            self.sink.error_count() as u64,
        ));
        self.performance.push(summary);
    }

    /// Server only: widen the target QPS until a run fails, then bisect
    /// (LoadGen's `FindBoundaries` and `FindPeakPerformanceBinarySearch`).
    fn find_peak(&mut self, base: &EffectiveSettings) -> Result<(), RunError> {
        self.sink.detail(DetailEvent::new(
            "generic_message",
            "Starting FindPeakPerformance mode",
        ));
        if base.scenario != Scenario::Server {
            self.sink.detail(DetailEvent::error(
                "error_invalid_config",
                "Finding peak performance is only supported in Server scenarios.",
            ));
            return Ok(());
        }
        let field = |s: &EffectiveSettings| format!("{:.6}", s.target_qps);
        self.sink.detail(DetailEvent::new(
            "generic_message",
            format!(
                "FindPeakPerformance: Check validity of the base settings field: {}",
                field(base)
            ),
        ));
        let sets = self.sets(base, base.performance_sample_count);
        let Some(set) = sets.first() else {
            return Err(PlanError::EmptySampleSet.into());
        };
        self.load(set)?;
        let base_summary = self.measure(base, set)?;
        self.unload(set)?;
        if self.interruption.is_some() {
            self.publish(base_summary);
            return Ok(());
        }
        let (ok, msg) = base_summary.perf_constraints_met();
        if !ok || self.faults.is_fatal() {
            self.sink.detail(DetailEvent::error(
                "error_runtime",
                format!("FindPeakPerformance: Initial lower bound does not satisfy performance constraints, msg: {msg}"),
            ));
            self.publish(base_summary);
            return Ok(());
        }

        // Widen: [l, u) doubles (by the step size) until u fails.
        let mut lower = base_summary;
        let upper = loop {
            let mut u = lower.settings.clone();
            u.target_qps *= 1.0 + u.requested.server_find_peak_qps_boundary_step_size;
            self.sink.detail(DetailEvent::new(
                "generic_message",
                format!(
                    "FindBoundaries: Checking fields [{}, {})",
                    field(&lower.settings),
                    field(&u)
                ),
            ));
            let sets = self.sets(&u, u.performance_sample_count);
            let set = &sets[0];
            self.load(set)?;
            let s = self.measure(&u, set)?;
            self.unload(set)?;
            if self.interruption.is_some() {
                // The stopped run is the result: INVALID, saying why.
                self.performance.push(lower);
                self.publish(s);
                return Ok(());
            }
            if self.faults.is_fatal() {
                self.publish(lower);
                return Ok(());
            }
            if !s.perf_constraints_met().0 {
                break s;
            }
            self.performance.push(lower);
            lower = s;
        };
        self.sink.detail(DetailEvent::new(
            "generic_message",
            format!(
                "FindPeakPerformance: Found boundaries: [{}, {})",
                field(&lower.settings),
                field(&upper.settings)
            ),
        ));

        let sets = self.sets(&upper.settings, upper.settings.performance_sample_count);
        let set = &sets[0];
        self.load(set)?;
        let mut upper = upper;
        let precision = lower
            .settings
            .requested
            .server_find_peak_qps_decimals_of_precision;
        loop {
            let scale = 10f64.powi(precision);
            let (l, u) = (
                (lower.settings.target_qps * scale).floor(),
                (upper.settings.target_qps * scale).floor(),
            );
            if l + 1.0 >= u || self.faults.is_fatal() {
                break;
            }
            let mut m = lower.settings.clone();
            m.target_qps = lower.settings.target_qps
                + (upper.settings.target_qps - lower.settings.target_qps) / 2.0;
            self.sink.detail(DetailEvent::new(
                "generic_message",
                format!(
                    "FindPeakPerformanceBinarySearch: Testing the mid value of bounds [{}, {}): {}",
                    field(&lower.settings),
                    field(&upper.settings),
                    field(&m)
                ),
            ));
            let s = self.measure(&m, set)?;
            if self.interruption.is_some() {
                self.performance.push(lower);
                self.performance.push(upper);
                self.unload(set)?;
                self.publish(s);
                return Ok(());
            }
            if s.perf_constraints_met().0 {
                self.performance.push(std::mem::replace(&mut lower, s));
            } else {
                self.performance.push(std::mem::replace(&mut upper, s));
            }
        }
        self.sink.detail(DetailEvent::new(
            "generic_message",
            format!(
                "FindPeakPerformance: Found peak performance field: {}",
                field(&lower.settings)
            ),
        ));
        self.performance.push(upper);
        self.unload(set)?;
        self.publish(lower);
        Ok(())
    }

    /// One run: generate queries, issue them, wait for completions, and
    /// collect the timings (LoadGen's `IssueQueries`).
    fn run(
        &mut self,
        settings: &EffectiveSettings,
        mode: Mode,
        set: &LoadableSet,
    ) -> Result<RunRecord, RunError> {
        let mut acc_rng = Mt19937::new(settings.accuracy_log_rng_seed);
        let offset = uniform_real(&mut acc_rng, 0.0, 1.0);
        let plan = generate_queries(settings, mode, set, &mut self.seq)?;
        self.sink
            .detail(DetailEvent::new("generated_query_count", plan.len() as u64));
        self.sink.detail(DetailEvent::new(
            "generated_samples_per_query",
            plan.generated_samples_per_query as u64,
        ));
        self.sink.detail(DetailEvent::new(
            "generated_query_duration",
            plan.duration_ns,
        ));
        if plan.is_empty() {
            // LoadGen crashes here; say what is wrong instead.
            self.sink.detail(DetailEvent::error(
                "error_invalid_test_settings",
                "No queries were generated: min_query_count and the minimum duration are both 0.",
            ));
        }

        let scenario = settings.scenario;
        let mut probability = settings.accuracy_log_probability;
        if settings.accuracy_log_sampling_target > 0 {
            let mut expected =
                (settings.target_qps * settings.min_duration_ms as f64 / 1000.0) as u64;
            let mut minimum = settings.min_query_count * settings.samples_per_query;
            if scenario != Scenario::Offline {
                expected *= settings.samples_per_query;
            } else {
                minimum = settings.min_sample_count;
            }
            let expected = expected.max(minimum).max(1);
            probability = settings.accuracy_log_sampling_target as f64 / expected as f64;
        }
        let policy = AccuracyPolicy {
            log_all: mode == Mode::AccuracyOnly,
            probability,
            offset,
            use_tokens: settings.use_token_latencies,
            needs_first_token: scenario != Scenario::Offline,
        };
        let mut state = RunState::new(
            plan,
            settings.use_token_latencies,
            policy,
            Arc::clone(&self.sink),
            Arc::clone(&self.faults),
        );
        let ctx = IssueContext {
            sut: self.sut,
            settings,
            mode,
            stall_timeout: self.options.stall_timeout,
            server_spin: self.options.server_spin,
            stop: self.options.stop.as_deref(),
        };

        self.observers.phase_changed(match mode {
            Mode::AccuracyOnly => RunPhase::Accuracy,
            _ => RunPhase::Performance,
        });
        let power_start = SystemTime::now();
        state.mark_start();
        let state = Arc::new(state);
        self.observers.window_opened(&OpenedWindow {
            mode,
            scenario,
            begin: state.start,
            begin_wall: power_start,
            state: Arc::clone(&state),
        });
        let report = issue_queries(&ctx, &state);
        self.sut.flush_queries();
        self.observers.phase_changed(RunPhase::Draining);

        if mode == Mode::PerformanceOnly && report.ran_out_of_generated_queries {
            self.sink.detail(DetailEvent::error(
                "error_runtime",
                "Ending early: Ran out of generated queries to issue before the minimum query count and test duration were reached. Please update the relevant expected latency or target qps in the TestSettings so they are more accurate.",
            ));
        }
        let drained = wait_for_completions(
            &state,
            report.samples_issued,
            self.options.stall_timeout,
            Drain::Bounded(self.options.stop.as_deref(), self.options.drain_timeout),
        );
        state.end();
        let interruption = self.interruption_of(&state, &report, drained);

        // The SUT was active until its last completion; LoadGen excludes its
        // own post-processing from the power window.
        let active_ns = (0..state.plan.total_samples())
            .map(|p| state.complete_ns[p].load(Ordering::Relaxed))
            .max()
            .unwrap_or(0)
            .saturating_sub(1);
        let window = RunWindow::new(power_start, state.start, active_ns);
        self.observers.window_closed(mode, &window);
        self.sink.detail(
            DetailEvent::new("power_begin", clock::power_time_string(window.begin_wall))
                .with_type(crate::log::event::EventType::IntervalStart),
        );
        self.sink.detail(
            DetailEvent::new("power_end", clock::power_time_string(window.end_wall))
                .with_type(crate::log::event::EventType::IntervalEnd),
        );

        if self.sink.wants_timeline() {
            self.sink.timeline(&RunTimeline::new(&*state, scenario));
        }
        let samples_issued = report.samples_issued;
        let result = collect_result(&state, settings, &report);
        Ok(RunRecord {
            result,
            samples_issued,
            window,
            interruption,
        })
    }

    /// The run's [`Interruption`], if a stop was requested before its
    /// result was taken: logged as an error event, handed to the sink, and
    /// kept as the test's.
    fn interruption_of(
        &mut self,
        state: &RunState,
        report: &issue::IssueReport,
        drained: Result<(), WaitEnd>,
    ) -> Option<Interruption> {
        let stop = self.options.stop.as_deref()?;
        if !stop.is_requested() {
            return None;
        }
        let completed = state.completed.load(Ordering::Acquire);
        let interruption = Interruption {
            at: stop.requested_at().unwrap_or_else(SystemTime::now),
            queries_issued: report.queries_issued as u64,
            queries_planned: state.plan.len() as u64,
            samples_unanswered: report.samples_issued.saturating_sub(completed),
        };
        let mut message = interruption.reason();
        if drained == Err(WaitEnd::DrainTimedOut) {
            message.push_str(&format!(
                "; {} of the {} issued samples did not answer within the drain timeout of {:.1} s and are left out",
                interruption.samples_unanswered,
                report.samples_issued,
                self.options.drain_timeout.as_secs_f64()
            ));
        }
        self.sink
            .detail(DetailEvent::error("error_runtime", message));
        self.sink.interrupted(&interruption);
        self.interruption
            .get_or_insert_with(|| interruption.clone());
        Some(interruption)
    }
}

struct RunRecord {
    result: PerformanceResult,
    samples_issued: u64,
    window: RunWindow,
    interruption: Option<Interruption>,
}

/// The query's actual scheduled time: Server follows the plan, Offline is
/// the start, SingleStream/MultiStream are scheduled when issued.
fn scheduled_ns(state: &RunState, scenario: Scenario, q: usize) -> i64 {
    match scenario {
        Scenario::Server => state.plan.scheduled_ns(q),
        Scenario::Offline => 0,
        Scenario::SingleStream | Scenario::MultiStream => {
            state.issued_ns[q].load(Ordering::Relaxed)
        }
    }
}

/// Turns the recorded completion times into LoadGen's `PerformanceResult`.
fn collect_result(
    state: &RunState,
    settings: &EffectiveSettings,
    report: &issue::IssueReport,
) -> PerformanceResult {
    let scenario = settings.scenario;
    let plan = &state.plan;
    let mut sample_latencies = Vec::with_capacity(report.samples_issued as usize);
    let mut query_latencies = Vec::new();
    let tokens = settings.use_token_latencies;
    let mut token_results = TokenPerformanceResults::default();
    let mut max_latency: i64 = 0;
    for q in 0..plan.len() {
        if state.issued_ns[q].load(Ordering::Relaxed) == NOT_ISSUED {
            continue;
        }
        let sched = scheduled_ns(state, scenario, q);
        let start = plan.query_start(q);
        let mut query_done: i64 = 0;
        for (k, _) in plan.query(q).iter().enumerate() {
            let pos = start + k;
            let done = state.complete_ns[pos].load(Ordering::Relaxed);
            if done == 0 {
                continue; // never answered: reported as a fault
            }
            let done = done as i64 - 1;
            query_done = query_done.max(done);
            let latency = done - sched;
            max_latency = max_latency.max(latency);
            sample_latencies.push(latency);
            if tokens {
                let n = state
                    .n_tokens
                    .as_ref()
                    .map_or(0, |t| t[pos].load(Ordering::Relaxed));
                let ft = state
                    .first_token_ns
                    .as_ref()
                    .map_or(0, |t| t[pos].load(Ordering::Relaxed));
                token_results.tokens_per_sample.push(n);
                if scenario != Scenario::Offline {
                    let ttft = if ft == 0 {
                        latency
                    } else {
                        ft as i64 - 1 - sched
                    };
                    token_results.first_token_latencies.push(ttft);
                    // Integer division as LoadGen; a one-token answer has no
                    // time per output token.
                    let tpot = if n > 1 { (latency - ttft) / (n - 1) } else { 0 };
                    token_results.time_per_output_token.push(tpot);
                }
            }
        }
        if scenario == Scenario::MultiStream {
            query_latencies.push(query_done - sched);
        }
    }
    let secs = |ns: i64| ns as f64 / 1e9;
    let (final_sched, final_issued, final_done) = match report.last_query {
        Some(q) => {
            let start = plan.query_start(q);
            let done = (start..start + plan.query(q).len())
                .map(|p| state.complete_ns[p].load(Ordering::Relaxed))
                .max()
                .unwrap_or(0)
                .saturating_sub(1) as i64;
            (
                secs(plan.scheduled_ns(q)),
                secs(state.issued_ns[q].load(Ordering::Relaxed)),
                secs(done),
            )
        }
        None => (0.0, 0.0, 0.0),
    };
    PerformanceResult {
        sample_latencies,
        query_latencies,
        queries_issued: report.queries_issued,
        max_latency: secs(max_latency),
        final_query_scheduled_time: final_sched,
        final_query_issued_time: final_issued,
        final_query_all_samples_done_time: final_done,
        token_results,
    }
}

//! Issuing a run's queries to the SUT, per scenario (LoadGen's
//! `IssueQueryController` and `QueryScheduler`s).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::clock::{ns_since, wait_until};
use super::completion::{Completer, Fault, RunState};
use super::stop::StopRequest;
use crate::log::event::DetailEvent;
use crate::settings::EffectiveSettings;
use crate::sut::{QuerySample, SystemUnderTest};
use crate::{Mode, Scenario};

/// What the issuing loop(s) did.
#[derive(Debug, Default, Clone)]
pub(crate) struct IssueReport {
    pub queries_issued: usize,
    /// Samples of the issued queries.
    pub samples_issued: u64,
    /// The generated queries ran out before the minimum duration and query
    /// count were met (performance mode, non-Server).
    pub ran_out_of_generated_queries: bool,
    /// Index of the last query issued (by the thread that issued last).
    pub last_query: Option<usize>,
    /// Issuing stopped because a stop was requested.
    pub stopped: bool,
}

/// Parameters of the issuing loop that are not settings.
pub(crate) struct IssueContext<'a> {
    pub sut: &'a dyn SystemUnderTest,
    pub settings: &'a EffectiveSettings,
    pub mode: Mode,
    pub stall_timeout: Duration,
    pub server_spin: Duration,
    /// Checked before every query; set, issuing stops.
    pub stop: Option<&'a StopRequest>,
}

/// How often a long wait for a query's turn looks at the stop request: a
/// Server run at 1 query per minute must still stop promptly.
const STOP_POLL: Duration = Duration::from_millis(50);

/// Waits for a Server query's scheduled instant as [`wait_until`] does,
/// but in slices of [`STOP_POLL`] while the instant is far off, so that a
/// stop request is seen; `None` when one was. A query already due (every
/// query of a run at full speed) costs the one clock read `wait_until`
/// would make; the extra reads happen only while there is time to wait.
#[inline]
fn wait_turn(deadline: Instant, spin: Duration, stop: Option<&StopRequest>) -> Option<Instant> {
    let now = Instant::now();
    if now >= deadline {
        return Some(now);
    }
    if let Some(stop) = stop {
        while deadline.saturating_duration_since(Instant::now()) > spin + STOP_POLL {
            std::thread::sleep(STOP_POLL);
            if stop.is_requested() {
                return None;
            }
        }
    }
    Some(wait_until(deadline, spin))
}

/// Issues the plan held by `state` and returns when issuing has stopped (not
/// when every sample has completed; see `wait_for_completions`).
pub(crate) fn issue_queries(ctx: &IssueContext<'_>, state: &Arc<RunState>) -> IssueReport {
    let threads = ctx.settings.requested.server_num_issue_query_threads as usize;
    if ctx.settings.scenario == Scenario::Server && threads > 1 {
        let reports: Vec<IssueReport> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| s.spawn(move || issue_loop(ctx, state, threads, t)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        let mut total = IssueReport::default();
        for r in reports {
            total.queries_issued += r.queries_issued;
            total.samples_issued += r.samples_issued;
            total.ran_out_of_generated_queries |= r.ran_out_of_generated_queries;
            total.last_query = total.last_query.max(r.last_query);
            total.stopped |= r.stopped;
        }
        total
    } else {
        issue_loop(ctx, state, 1, 0)
    }
}

/// Share of `count` (a min or max query count) for thread `t` of `stride`.
fn share(count: u64, stride: usize, t: usize) -> u64 {
    let stride = stride as u64;
    count / stride + u64::from((t as u64) < count % stride)
}

fn issue_loop(
    ctx: &IssueContext<'_>,
    state: &Arc<RunState>,
    stride: usize,
    thread_idx: usize,
) -> IssueReport {
    let settings = ctx.settings;
    let scenario = settings.scenario;
    let plan = &state.plan;
    let completer = Completer {
        state: Arc::clone(state),
    };
    let start = state.start;
    let min_queries = share(settings.min_query_count, stride, thread_idx);
    let max_queries = share(settings.max_query_count, stride, thread_idx);
    let target_duration_ns = settings.target_duration_ms.saturating_mul(1_000_000);
    let max_duration_ns = settings.max_duration_ms.saturating_mul(1_000_000);
    let coalesce = scenario == Scenario::Server && settings.requested.server_coalesce_queries;
    let accuracy = ctx.mode == Mode::AccuracyOnly;

    let mut report = IssueReport {
        ran_out_of_generated_queries: scenario != Scenario::Server,
        ..IssueReport::default()
    };
    let mut batch: Vec<QuerySample> = Vec::new();
    let mut samples_done_target: u64 = 0;
    let mut q = thread_idx;
    let count = plan.len();

    while q < count {
        if state.faults.is_fatal() {
            report.ran_out_of_generated_queries = false;
            break;
        }
        if ctx.stop.is_some_and(StopRequest::is_requested) {
            report.ran_out_of_generated_queries = false;
            report.stopped = true;
            break;
        }
        // Wait for this query's turn.
        let now = match scenario {
            Scenario::SingleStream | Scenario::MultiStream => {
                // One query in flight: the next is issued when the previous completes.
                let waited = wait_for_completions(
                    state,
                    samples_done_target,
                    ctx.stall_timeout,
                    Drain::StopAt(ctx.stop),
                );
                if let Err(end) = waited {
                    report.ran_out_of_generated_queries = false;
                    report.stopped = end == WaitEnd::Interrupted;
                    break;
                }
                Instant::now()
            }
            Scenario::Server => {
                let scheduled = start + Duration::from_nanos(plan.scheduled_ns(q).max(0) as u64);
                match wait_turn(scheduled, ctx.server_spin, ctx.stop) {
                    Some(now) => now,
                    None => {
                        report.ran_out_of_generated_queries = false;
                        report.stopped = true;
                        break;
                    }
                }
            }
            Scenario::Offline => Instant::now(),
        };
        let now_ns = ns_since(start, now) as i64;

        // Server may coalesce every query already due into one call.
        let first = q;
        let mut last = q;
        if coalesce {
            while last + stride < count
                && start + Duration::from_nanos(plan.scheduled_ns(last + stride).max(0) as u64)
                    <= now
            {
                last += stride;
            }
        }
        batch.clear();
        let mut i = first;
        let mut batch_queries = 0usize;
        loop {
            state.issued_ns[i].store(now_ns, Ordering::Relaxed);
            let base = plan.query_start(i);
            batch.extend(
                plan.query(i)
                    .iter()
                    .enumerate()
                    .map(|(k, &idx)| QuerySample {
                        id: state.id_of(base + k),
                        index: idx as usize,
                    }),
            );
            batch_queries += 1;
            if i == last {
                break;
            }
            i += stride;
        }
        let batch_samples = batch.len() as u64;
        state
            .issued_samples
            .fetch_add(batch_samples, Ordering::Relaxed);
        samples_done_target += batch_samples;

        let outcome = catch_unwind(AssertUnwindSafe(|| ctx.sut.issue_query(&batch, &completer)));
        report.queries_issued += batch_queries;
        report.samples_issued += batch_samples;
        report.last_query = Some(last);
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                state
                    .faults
                    .record(Fault::IssueFailed(e.to_string()), true, &*state.sink);
                report.ran_out_of_generated_queries = false;
                break;
            }
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string panic payload".to_string());
                state
                    .faults
                    .record(Fault::IssuePanicked(msg), true, &*state.sink);
                report.ran_out_of_generated_queries = false;
                break;
            }
        }
        q = last + stride;

        if accuracy {
            continue;
        }
        let duration_ns = now_ns.max(0) as u64;
        let issued = report.queries_issued as u64;
        if scenario == Scenario::Server {
            if settings.max_async_queries != 0 {
                // Server queries have one sample each, so completed samples
                // are completed queries.
                let outstanding = state
                    .issued_samples
                    .load(Ordering::Relaxed)
                    .saturating_sub(state.completed.load(Ordering::Relaxed));
                if outstanding > settings.max_async_queries {
                    state.sink.detail(DetailEvent::error(
                        "error_runtime",
                        format!(
                            "IssueQueryThread {thread_idx} Ending early: Too many outstanding queries. issued {} outstanding {outstanding}",
                            state.issued_samples.load(Ordering::Relaxed)
                        ),
                    ));
                    break;
                }
            }
        } else if issued >= min_queries && duration_ns >= target_duration_ns {
            state.sink.detail(DetailEvent::new(
                "generic_message",
                "Ending naturally: Minimum query count and test duration met.",
            ));
            report.ran_out_of_generated_queries = false;
            break;
        }
        if settings.max_query_count != 0 && issued >= max_queries {
            state.sink.detail(DetailEvent::error(
                "error_runtime",
                format!("IssueQueryThread {thread_idx} Ending early: Max query count reached. query_count {issued}"),
            ));
            report.ran_out_of_generated_queries = false;
            break;
        }
        if max_duration_ns != 0 && duration_ns > max_duration_ns {
            state.sink.detail(DetailEvent::error(
                "error_runtime",
                format!("IssueQueryThread {thread_idx} Ending early: Max test duration reached. duration_ns {duration_ns}"),
            ));
            report.ran_out_of_generated_queries = false;
            break;
        }
    }
    report
}

/// Why [`wait_for_completions`] returned before every sample answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitEnd {
    /// The SUT stopped answering (recorded as a fault).
    Stalled,
    /// A stop was requested while the issue loop waited for its turn.
    Interrupted,
    /// A stop was requested and the samples still out did not answer
    /// within the drain timeout.
    DrainTimedOut,
}

/// What a stop request means to a wait.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Drain<'a> {
    /// The issue loop waiting for its turn: a stop ends the wait at once.
    StopAt(Option<&'a StopRequest>),
    /// The wait for the samples already issued: once a stop is seen, they
    /// get this long more to answer.
    Bounded(Option<&'a StopRequest>, Duration),
}

/// Waits until `target` samples have completed. Fails when no completion
/// has arrived for `stall_timeout` (the SUT stopped answering), or after a
/// short grace period once a fatal fault was seen; the first stall of a run
/// is recorded as a fault naming the missing samples. A stop request ends
/// the wait as `drain` says.
pub(crate) fn wait_for_completions(
    state: &RunState,
    target: u64,
    stall_timeout: Duration,
    drain: Drain<'_>,
) -> Result<(), WaitEnd> {
    if state.completed.load(Ordering::Acquire) >= target {
        return Ok(());
    }
    // Spin briefly: a fast SUT answers within microseconds, and parking
    // costs more than that in wake-up latency.
    let spin_until = Instant::now() + Duration::from_micros(20);
    while Instant::now() < spin_until {
        if state.completed.load(Ordering::Acquire) >= target {
            return Ok(());
        }
        std::hint::spin_loop();
    }
    let (stop, drain_timeout) = match drain {
        Drain::StopAt(stop) => (stop, None),
        Drain::Bounded(stop, timeout) => (stop, Some(timeout)),
    };
    let mut drain_deadline: Option<Instant> = None;
    let grace = Duration::from_secs(2).min(stall_timeout);
    let mut last_seen = state.completed.load(Ordering::Acquire);
    let mut last_progress = Instant::now();
    loop {
        let done = state.completed.load(Ordering::Acquire);
        if done >= target {
            return Ok(());
        }
        if done != last_seen {
            last_seen = done;
            last_progress = Instant::now();
        }
        let mut park_limit = Duration::from_millis(50);
        if stop.is_some_and(StopRequest::is_requested) {
            let Some(timeout) = drain_timeout else {
                return Err(WaitEnd::Interrupted);
            };
            let deadline = *drain_deadline.get_or_insert_with(|| Instant::now() + timeout);
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(WaitEnd::DrainTimedOut);
            }
            park_limit = park_limit.min(left);
        }
        let limit = if state.faults.is_fatal() {
            grace
        } else {
            stall_timeout
        };
        let idle = last_progress.elapsed();
        if idle >= limit {
            if !state.stall_recorded.swap(true, Ordering::AcqRel) {
                let first_missing: Vec<usize> = (0..state.plan.total_samples())
                    .filter(|&p| {
                        state.complete_ns[p].load(Ordering::Relaxed) == 0
                            && state.issued_ns[state.plan.query_of(p)].load(Ordering::Relaxed)
                                != super::completion::NOT_ISSUED
                    })
                    .take(8)
                    .map(|p| state.plan.samples()[p] as usize)
                    .collect();
                state.faults.record(
                    Fault::Stalled {
                        outstanding: target - done,
                        issued: target,
                        waited_s: idle.as_secs_f64(),
                        first_missing,
                    },
                    true,
                    &*state.sink,
                );
            }
            return Err(WaitEnd::Stalled);
        }
        state.park(target, (limit - idle).min(park_limit));
    }
}

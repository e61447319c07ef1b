//! Live counters for a progress display. Reading them costs the run nothing
//! beyond what it records anyway: the latency estimate is taken from the
//! completion slots of the most recently issued samples.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::completion::{RunState, NOT_ISSUED};
use super::observer::{LifecycleObserver, OpenedWindow, RunPhase};
use crate::results::RunWindow;
use crate::{Mode, Scenario};

/// Shared with the test through `RunOptions::progress` (or handed to it as
/// a [`LifecycleObserver`]); poll `snapshot`.
#[derive(Default)]
pub struct LiveProgress {
    current: Mutex<Option<(Arc<RunState>, Mode, Scenario)>>,
    /// The phase the test is in (stored as its index in [`PHASES`]).
    phase: AtomicU8,
}

const PHASES: [RunPhase; 4] = [
    RunPhase::LoadingSamples,
    RunPhase::Accuracy,
    RunPhase::Performance,
    RunPhase::Draining,
];

impl std::fmt::Debug for LiveProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveProgress").finish_non_exhaustive()
    }
}

/// The state of the current run.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressSnapshot {
    pub mode: Mode,
    pub scenario: Scenario,
    /// Issuing, or draining once issuing has stopped.
    pub phase: RunPhase,
    pub elapsed: Duration,
    pub queries_planned: usize,
    pub samples_planned: usize,
    pub samples_issued: u64,
    pub samples_completed: u64,
    /// p99 latency over up to the last 10,000 completed samples, ns.
    pub recent_p99_ns: Option<i64>,
}

const WINDOW: usize = 10_000;

impl LiveProgress {
    pub fn new() -> Self {
        Self::default()
    }

    /// The current run's counters, or `None` between runs.
    pub fn snapshot(&self) -> Option<ProgressSnapshot> {
        let guard = self.current.lock().unwrap_or_else(|e| e.into_inner());
        let (state, mode, scenario) = guard.as_ref()?;
        let issued = state.issued_samples.load(Ordering::Relaxed);
        let completed = state.completed.load(Ordering::Relaxed);
        let plan = &state.plan;
        // Samples are issued in plan order on a single issue thread, so the
        // most recent ones sit just below the issued count.
        let hi = (issued as usize).min(plan.total_samples());
        let lo = hi.saturating_sub(WINDOW);
        let mut lat: Vec<i64> = (lo..hi)
            .filter_map(|pos| {
                let done = state.complete_ns[pos].load(Ordering::Relaxed);
                let q = plan.query_of(pos);
                let issued_at = state.issued_ns[q].load(Ordering::Relaxed);
                if done == 0 || issued_at == NOT_ISSUED {
                    return None;
                }
                let sched = match scenario {
                    Scenario::Server => plan.scheduled_ns(q),
                    Scenario::Offline => 0,
                    _ => issued_at,
                };
                Some(done as i64 - 1 - sched)
            })
            .collect();
        let recent_p99_ns = (!lat.is_empty()).then(|| {
            let k = ((lat.len() as f64 * 0.99) as usize).min(lat.len() - 1);
            *lat.select_nth_unstable(k).1
        });
        Some(ProgressSnapshot {
            mode: *mode,
            scenario: *scenario,
            phase: PHASES[usize::from(self.phase.load(Ordering::Relaxed)) % PHASES.len()],
            elapsed: state.start.elapsed(),
            queries_planned: plan.len(),
            samples_planned: plan.total_samples(),
            samples_issued: issued,
            samples_completed: completed,
            recent_p99_ns,
        })
    }
}

/// Follows the run whose window is open; between runs there is nothing to
/// show.
impl LifecycleObserver for LiveProgress {
    fn phase_changed(&self, phase: RunPhase) {
        let index = PHASES.iter().position(|&p| p == phase).unwrap_or(0);
        self.phase.store(index as u8, Ordering::Relaxed);
    }

    fn window_opened(&self, window: &OpenedWindow) {
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((Arc::clone(&window.state), window.mode, window.scenario));
    }

    fn window_closed(&self, _mode: Mode, _window: &RunWindow) {
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

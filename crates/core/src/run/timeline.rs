//! A finished run's per-query and per-sample times, for Chrome traces and
//! query records. Built from the run's own recordings after it ends, so
//! tracing costs the issuing hot path nothing.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::completion::{RunState, NOT_ISSUED};
use crate::Scenario;

/// Read-only view of one run's timeline. All `*_ns` are nanoseconds since
/// [`RunTimeline::start`].
pub struct RunTimeline<'a> {
    state: &'a RunState,
    scenario: Scenario,
}

impl std::fmt::Debug for RunTimeline<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunTimeline")
            .field("scenario", &self.scenario)
            .field("queries", &self.query_count())
            .finish()
    }
}

impl<'a> RunTimeline<'a> {
    pub(crate) fn new(state: &'a RunState, scenario: Scenario) -> Self {
        RunTimeline { state, scenario }
    }

    pub fn scenario(&self) -> Scenario {
        self.scenario
    }

    /// When issuing started.
    pub fn start(&self) -> Instant {
        self.state.start
    }

    /// Generated queries (not all need have been issued).
    pub fn query_count(&self) -> usize {
        self.state.plan.len()
    }

    /// Sample indices of query `q`.
    pub fn query_samples(&self, q: usize) -> &[u32] {
        self.state.plan.query(q)
    }

    /// Flat position of query `q`'s first sample.
    pub fn query_start(&self, q: usize) -> usize {
        self.state.plan.query_start(q)
    }

    pub fn query_seq_id(&self, q: usize) -> u64 {
        self.state.plan.first_query_id + q as u64
    }

    pub fn sample_seq_id(&self, pos: usize) -> u64 {
        self.state.plan.first_sample_id + pos as u64
    }

    /// When query `q` was due: the plan's time in Server, the start in
    /// Offline, its issue time in SingleStream and MultiStream (LoadGen's
    /// `scheduled_time`).
    pub fn scheduled_ns(&self, q: usize) -> i64 {
        match self.scenario {
            Scenario::Server => self.state.plan.scheduled_ns(q),
            Scenario::Offline => 0,
            _ => self.issued_ns(q).unwrap_or(0),
        }
    }

    /// When query `q` was handed to the SUT, if it was.
    pub fn issued_ns(&self, q: usize) -> Option<i64> {
        let t = self.state.issued_ns[q].load(Ordering::Relaxed);
        (t != NOT_ISSUED).then_some(t)
    }

    /// When the sample at flat position `pos` completed, if it did.
    pub fn completed_ns(&self, pos: usize) -> Option<i64> {
        let t = self.state.complete_ns[pos].load(Ordering::Relaxed);
        (t != 0).then(|| t as i64 - 1)
    }

    /// When the sample's first token arrived (token runs only).
    pub fn first_token_ns(&self, pos: usize) -> Option<i64> {
        let ft = self.state.first_token_ns.as_ref()?;
        let t = ft[pos].load(Ordering::Relaxed);
        (t != 0).then(|| t as i64 - 1)
    }
}

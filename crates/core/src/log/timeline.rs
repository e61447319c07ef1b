//! A finished run's per-query and per-sample times, for Chrome traces and
//! query records. Built from the run's own recordings after it ends, so
//! tracing costs the issuing hot path nothing.
//!
//! The view lives here, beside the [`LogSink`](super::LogSink) that receives
//! it, and reads the run through [`TimelineSource`], which `run` implements:
//! so the sink depends on this module, `run` depends on the sink, and
//! nothing here depends on `run`.

use std::time::Instant;

use crate::Scenario;

/// What a run recorded, as the timeline reads it. Implemented by the run's
/// state (crate-internal); every time is nanoseconds since [`Self::start`].
pub(crate) trait TimelineSource: Sync {
    fn start(&self) -> Instant;
    fn query_count(&self) -> usize;
    fn query_samples(&self, q: usize) -> &[u32];
    fn query_start(&self, q: usize) -> usize;
    fn first_query_id(&self) -> u64;
    fn first_sample_id(&self) -> u64;
    /// The plan's scheduled time of query `q` (Server's schedule).
    fn planned_ns(&self, q: usize) -> i64;
    fn issued_ns(&self, q: usize) -> Option<i64>;
    fn completed_ns(&self, pos: usize) -> Option<i64>;
    fn first_token_ns(&self, pos: usize) -> Option<i64>;
}

/// Read-only view of one run's timeline. All `*_ns` are nanoseconds since
/// [`RunTimeline::start`].
pub struct RunTimeline<'a> {
    source: &'a dyn TimelineSource,
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
    pub(crate) fn new(source: &'a dyn TimelineSource, scenario: Scenario) -> Self {
        RunTimeline { source, scenario }
    }

    pub fn scenario(&self) -> Scenario {
        self.scenario
    }

    /// When issuing started.
    pub fn start(&self) -> Instant {
        self.source.start()
    }

    /// Generated queries (not all need have been issued).
    pub fn query_count(&self) -> usize {
        self.source.query_count()
    }

    /// Sample indices of query `q`.
    pub fn query_samples(&self, q: usize) -> &[u32] {
        self.source.query_samples(q)
    }

    /// Flat position of query `q`'s first sample.
    pub fn query_start(&self, q: usize) -> usize {
        self.source.query_start(q)
    }

    pub fn query_seq_id(&self, q: usize) -> u64 {
        self.source.first_query_id() + q as u64
    }

    pub fn sample_seq_id(&self, pos: usize) -> u64 {
        self.source.first_sample_id() + pos as u64
    }

    /// When query `q` was due: the plan's time in Server, the start in
    /// Offline, its issue time in SingleStream and MultiStream (LoadGen's
    /// `scheduled_time`).
    pub fn scheduled_ns(&self, q: usize) -> i64 {
        match self.scenario {
            Scenario::Server => self.source.planned_ns(q),
            Scenario::Offline => 0,
            _ => self.issued_ns(q).unwrap_or(0),
        }
    }

    /// When query `q` was handed to the SUT, if it was.
    pub fn issued_ns(&self, q: usize) -> Option<i64> {
        self.source.issued_ns(q)
    }

    /// When the sample at flat position `pos` completed, if it did.
    pub fn completed_ns(&self, pos: usize) -> Option<i64> {
        self.source.completed_ns(pos)
    }

    /// When the sample's first token arrived (token runs only).
    pub fn first_token_ns(&self, pos: usize) -> Option<i64> {
        self.source.first_token_ns(pos)
    }
}

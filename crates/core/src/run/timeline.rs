//! The run's recordings as a [`TimelineSource`], for the
//! [`RunTimeline`](crate::log::RunTimeline) handed to the log sink.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::completion::{RunState, NOT_ISSUED};
use crate::log::timeline::TimelineSource;

impl TimelineSource for RunState {
    fn start(&self) -> Instant {
        self.start
    }

    fn query_count(&self) -> usize {
        self.plan.len()
    }

    fn query_samples(&self, q: usize) -> &[u32] {
        self.plan.query(q)
    }

    fn query_start(&self, q: usize) -> usize {
        self.plan.query_start(q)
    }

    fn first_query_id(&self) -> u64 {
        self.plan.first_query_id
    }

    fn first_sample_id(&self) -> u64 {
        self.plan.first_sample_id
    }

    fn planned_ns(&self, q: usize) -> i64 {
        self.plan.scheduled_ns(q)
    }

    fn issued_ns(&self, q: usize) -> Option<i64> {
        let t = self.issued_ns[q].load(Ordering::Relaxed);
        (t != NOT_ISSUED).then_some(t)
    }

    fn completed_ns(&self, pos: usize) -> Option<i64> {
        let t = self.complete_ns[pos].load(Ordering::Relaxed);
        (t != 0).then(|| t as i64 - 1)
    }

    fn first_token_ns(&self, pos: usize) -> Option<i64> {
        let ft = self.first_token_ns.as_ref()?;
        let t = ft[pos].load(Ordering::Relaxed);
        (t != 0).then(|| t as i64 - 1)
    }
}

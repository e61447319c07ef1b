//! Issued and completed counts over time, taken from the core's per-query
//! timeline once the run is over (never during it).

use std::sync::Mutex;

use yardstick_core::log::{AccuracyEntry, DetailEvent, LogSink, RunTimeline};
use yardstick_core::results::PerformanceSummary;
use yardstick_record::RateTimeline;

/// Buckets of the rate-over-time chart.
const MAX_BUCKETS: usize = 240;

/// A sink that keeps only the bucketed issue/completion counts of the last
/// performance run it saw. Asking for the timeline costs the core 8 bytes
/// per query (the issue times); the buckets themselves are a few hundred
/// counters.
#[derive(Debug, Default)]
pub struct TimelineCapture {
    last: Mutex<Option<RateTimeline>>,
}

impl TimelineCapture {
    pub fn new() -> Self {
        Self::default()
    }

    /// The last run's rate timeline.
    pub fn take(&self) -> Option<RateTimeline> {
        self.last.lock().ok().and_then(|mut l| l.take())
    }
}

impl LogSink for TimelineCapture {
    fn detail(&self, _event: DetailEvent) {}
    fn accuracy(&self, _entry: AccuracyEntry<'_>) {}
    fn summary(&self, _summary: &PerformanceSummary) {}

    fn wants_timeline(&self) -> bool {
        true
    }

    fn timeline(&self, t: &RunTimeline<'_>) {
        let mut issued = Vec::with_capacity(0);
        let mut completed = Vec::with_capacity(0);
        // Two passes, counting into buckets: no per-query allocation. The
        // first finds the end, the second counts.
        let mut end: u64 = 0;
        let queries = t.query_count();
        for q in 0..queries {
            if let Some(i) = t.issued_ns(q) {
                end = end.max(i.max(0) as u64);
            }
            let first = t.query_start(q);
            let n = t.query_samples(q).len();
            for pos in first..first + n {
                if let Some(c) = t.completed_ns(pos) {
                    end = end.max(c.max(0) as u64);
                }
            }
        }
        let shape = RateTimeline::from_offsets(&[end], &[], MAX_BUCKETS);
        let width = shape.bucket_seconds * 1e9;
        let buckets = shape.issued.len();
        issued.resize(buckets, 0u64);
        completed.resize(buckets, 0u64);
        let bucket = |ns: i64| ((ns.max(0) as f64 / width) as usize).min(buckets - 1);
        for q in 0..queries {
            let n = t.query_samples(q).len() as u64;
            if let Some(i) = t.issued_ns(q) {
                issued[bucket(i)] += n;
            }
            let first = t.query_start(q);
            for pos in first..first + n as usize {
                if let Some(c) = t.completed_ns(pos) {
                    completed[bucket(c)] += 1;
                }
            }
        }
        if let Ok(mut last) = self.last.lock() {
            *last = Some(RateTimeline {
                bucket_seconds: shape.bucket_seconds,
                issued,
                completed,
            });
        }
    }
}

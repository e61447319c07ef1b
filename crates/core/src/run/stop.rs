//! Asking a running test to stop early (Ctrl-C, SIGTERM, a sweep's own
//! stop): [`StopRequest`].
//!
//! The core installs no signal handler: the binary (or any embedder) calls
//! [`StopRequest::request`] and the test sees it between queries. A stopped
//! test issues nothing more, waits a bounded time
//! (`RunOptions::drain_timeout`) for the samples already issued, and ends
//! with an INVALID result that says it was interrupted.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A request to stop, shared between whoever asks and the test(s) that
/// watch it (`RunOptions::stop`). One request stops every test sharing it,
/// and stays set: a sweep that checks it between points stops there too.
#[derive(Debug, Default)]
pub struct StopRequest {
    requested: AtomicBool,
    /// Wall-clock nanoseconds since the Unix epoch of the first request,
    /// plus one (0: not requested).
    at_unix_ns: AtomicU64,
}

impl StopRequest {
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the test to stop; returns whether this was the first request
    /// (only the first one's time is kept). Only atomics and the clock: it
    /// may be called from any thread, even a signal handler.
    pub fn request(&self) -> bool {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX - 1));
        // The time goes in before the flag, so a reader that sees the flag
        // finds the time.
        let first = self
            .at_unix_ns
            .compare_exchange(0, now + 1, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        self.requested.store(true, Ordering::Release);
        first
    }

    /// Whether a stop was requested. One relaxed load: cheap enough for the
    /// issue loop to call before every query.
    #[inline]
    pub fn is_requested(&self) -> bool {
        self.requested.load(Ordering::Relaxed)
    }

    /// When the first request was made (wall clock), if it was.
    pub fn requested_at(&self) -> Option<SystemTime> {
        match self.at_unix_ns.load(Ordering::Acquire) {
            0 => None,
            t => Some(UNIX_EPOCH + Duration::from_nanos(t - 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_request_keeps_its_time() {
        let stop = StopRequest::new();
        assert!(!stop.is_requested());
        assert_eq!(stop.requested_at(), None);
        let before = SystemTime::now();
        assert!(stop.request());
        let at = stop.requested_at().expect("time of the request");
        assert!(stop.is_requested());
        assert!(at >= before - Duration::from_millis(1) && at <= SystemTime::now());
        std::thread::sleep(Duration::from_millis(5));
        assert!(!stop.request(), "a second request is not the first");
        assert_eq!(stop.requested_at(), Some(at));
    }
}

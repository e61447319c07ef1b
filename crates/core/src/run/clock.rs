//! Clocks: waiting precisely for a scheduled instant, and the wall-clock
//! string LoadGen writes for the power window.

use std::time::{Duration, Instant, SystemTime};

use crate::results::wall_time::{civil, unix_parts};

/// The default spin window: below this distance to the deadline the issuing
/// thread spins instead of sleeping, because an OS sleep overshoots by tens
/// of microseconds, which would be charged to the SUT as latency in the
/// Server scenario.
pub const DEFAULT_SPIN: Duration = Duration::from_micros(200);

/// Returns once `Instant::now() >= deadline`, and that `now`: sleeps until
/// `spin` before the deadline, then spins. A zero `spin` only sleeps (leaves
/// the core to the SUT on small machines, at the cost of issue lateness).
#[inline]
pub fn wait_until(deadline: Instant, spin: Duration) -> Instant {
    let mut now = Instant::now();
    if now >= deadline {
        return now;
    }
    let remaining = deadline - now;
    if spin.is_zero() {
        std::thread::sleep(remaining);
        return Instant::now();
    }
    if remaining > spin {
        std::thread::sleep(remaining - spin);
    }
    loop {
        now = Instant::now();
        if now >= deadline {
            return now;
        }
        std::hint::spin_loop();
    }
}

/// Nanoseconds from `origin` to `t` (0 if `t` is earlier).
#[inline]
pub fn ns_since(origin: Instant, t: Instant) -> u64 {
    t.saturating_duration_since(origin).as_nanos() as u64
}

/// LoadGen's power-window time stamp, `MM-DD-YYYY HH:MM:SS.mmm` in UTC, as
/// the power tooling (PTDaemon logs) is matched against it.
pub fn power_time_string(t: SystemTime) -> String {
    let (secs, ms) = unix_parts(t);
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{mo:02}-{d:02}-{y:04} {h:02}:{mi:02}:{s:02}.{ms:03}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn formats_known_instants() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_867_312_535);
        assert_eq!(power_time_string(t), "11-28-2026 12:01:52.535");
        assert_eq!(
            power_time_string(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "02-29-2000 00:00:00.000"
        );
    }

    #[test]
    fn wait_until_never_returns_early() {
        let deadline = Instant::now() + Duration::from_micros(300);
        assert!(wait_until(deadline, DEFAULT_SPIN) >= deadline);
        let deadline = Instant::now() + Duration::from_micros(300);
        assert!(wait_until(deadline, Duration::ZERO) >= deadline);
    }
}

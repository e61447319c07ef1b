//! Clocks: waiting precisely for a scheduled instant, and the wall-clock
//! string LoadGen writes for the power window.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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

/// Civil date (UTC) of a Unix time: (year, month, day, hour, min, sec).
fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    // Howard Hinnant's days-from-civil inverse.
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

fn unix_parts(t: SystemTime) -> (i64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_millis()),
        Err(e) => {
            let d = e.duration();
            let ms = d.subsec_millis();
            if ms == 0 {
                (-(d.as_secs() as i64), 0)
            } else {
                (-(d.as_secs() as i64) - 1, 1000 - ms)
            }
        }
    }
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

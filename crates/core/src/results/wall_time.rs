//! Wall-clock times as text, without a date library: the civil calendar of
//! a Unix time (Howard Hinnant's algorithm), RFC 3339 stamps for reasons
//! and records, and LoadGen's power-window format (`run::clock`).

use std::time::{SystemTime, UNIX_EPOCH};

/// Civil date (UTC) of a Unix time: (year, month, day, hour, min, sec).
pub(crate) fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
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

/// Whole seconds since the Unix epoch (floored) and the milliseconds past them.
pub(crate) fn unix_parts(t: SystemTime) -> (i64, u32) {
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

/// `t` in RFC 3339, UTC, to the millisecond: `2026-12-06T03:27:12.535Z`.
pub fn rfc3339_millis(t: SystemTime) -> String {
    let (secs, ms) = unix_parts(t);
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_of_known_instants() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_867_312_535);
        assert_eq!(rfc3339_millis(t), "2026-11-28T12:01:52.535Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339_millis(leap), "2000-02-29T00:00:00.000Z");
        let before = UNIX_EPOCH - Duration::from_millis(1);
        assert_eq!(rfc3339_millis(before), "1969-12-31T23:59:59.999Z");
    }
}

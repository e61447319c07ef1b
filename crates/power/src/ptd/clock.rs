//! PTDaemon's and LoadGen's power time stamps: `MM-DD-YYYY HH:MM:SS.mmm`,
//! UTC (power-dev runs PTDaemon with `TZ=UTC` and the checker reads the
//! stamps as UTC).

use chrono::{DateTime, NaiveDateTime, Utc};
use std::time::{SystemTime, UNIX_EPOCH};

const FORMAT: &str = "%m-%d-%Y %H:%M:%S%.3f";

/// `t` as PTDaemon writes it, e.g. `12-06-2026 09:31:15.123`.
pub fn format_ptd_time(t: SystemTime) -> String {
    DateTime::<Utc>::from(t).format(FORMAT).to_string()
}

/// A PTDaemon/LoadGen stamp back to a wall-clock time (fractions of any
/// length, as Python's `%f` takes them).
pub fn parse_ptd_time(text: &str) -> Option<SystemTime> {
    let naive = NaiveDateTime::parse_from_str(text.trim(), "%m-%d-%Y %H:%M:%S%.f").ok()?;
    Some(SystemTime::from(naive.and_utc()))
}

/// Seconds since the Unix epoch, as Python's `time.time()`.
pub(crate) fn unix_seconds(t: SystemTime) -> f64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// The session name power-dev's director gives: the UTC time as
/// `%Y-%m-%d_%H-%M-%S`, then `_label` when there is a label.
pub(crate) fn session_name(t: SystemTime, label: &str) -> String {
    let stamp = DateTime::<Utc>::from(t)
        .format("%Y-%m-%d_%H-%M-%S")
        .to_string();
    if label.is_empty() {
        stamp
    } else {
        format!("{stamp}_{label}")
    }
}

/// The first `\d+-\d+-\d+ \d+:\d+:\d+\.\d+` in `line` (the pattern the
/// checker searches LoadGen's detail log and PTDaemon's log with), parsed.
pub(crate) fn find_time(line: &str) -> Option<SystemTime> {
    let bytes = line.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        let starts_number =
            bytes[start].is_ascii_digit() && (start == 0 || !bytes[start - 1].is_ascii_digit());
        if starts_number {
            if let Some(end) = match_stamp(bytes, start) {
                return parse_ptd_time(&line[start..end]);
            }
        }
        start += 1;
    }
    None
}

/// The end of a stamp starting at `start`, if one does.
fn match_stamp(bytes: &[u8], start: usize) -> Option<usize> {
    let separators = [b'-', b'-', b' ', b':', b':', b'.'];
    let mut at = start;
    for (index, separator) in separators.iter().chain(std::iter::once(&0)).enumerate() {
        let digits_start = at;
        while at < bytes.len() && bytes[at].is_ascii_digit() {
            at += 1;
        }
        if at == digits_start {
            return None;
        }
        if index == separators.len() {
            return Some(at);
        }
        if at >= bytes.len() || bytes[at] != *separator {
            return None;
        }
        at += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_and_parses_known_instants() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_867_312_535);
        assert_eq!(format_ptd_time(t), "11-28-2026 12:01:52.535");
        assert_eq!(parse_ptd_time("11-28-2026 12:01:52.535"), Some(t));
        assert_eq!(
            parse_ptd_time("11-28-2026 12:01:52.5"),
            Some(t - Duration::from_millis(35))
        );
        assert_eq!(parse_ptd_time("28-11-2026 12:01:52.535"), None);
    }

    #[test]
    fn finds_the_stamp_inside_a_line() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_867_312_535);
        let detail = r#":::MLLOG {"key": "power_begin", "value": "11-28-2026 12:01:52.535", "time_ms": 12.5}"#;
        assert_eq!(find_time(detail), Some(t));
        assert_eq!(
            find_time("11-28-2026 12:01:52.535: Completed test"),
            Some(t)
        );
        assert_eq!(find_time("no stamp 12-01 here"), None);
        assert_eq!(
            session_name(t, "bert"),
            "2026-11-28_12-01-52_bert".to_string()
        );
    }
}

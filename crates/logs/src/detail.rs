//! The detail log, `mlperf_log_detail.txt`: one `:::MLLOG {...}` line per
//! [`DetailEvent`], in LoadGen's exact layout.
//!
//! The submission checker reads this file line by line, requires the first
//! line to start with `:::MLLOG`, parses the rest of every such line with
//! Python's `json.loads` (one unparsable line fails the whole submission),
//! and then looks values up by `key`; it also fails a result when any line
//! has `"metadata": {"is_error": true, ...}`. LoadGen's field order and
//! spacing are kept so logs from both tools diff cleanly.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use yardstick_core::log::{DetailEvent, Severity};

use crate::json;

/// The LoadGen release whose log format (and results) yardstick reproduces.
pub const LOADGEN_COMPAT_VERSION: &str = "6.0.17";

/// The `event_type` LoadGen 6.0.x writes on every line. Its
/// `MLPERF_LOG_INTERVAL_START`/`_END` macros (used for `power_begin` and
/// `power_end`) still print `POINT_IN_TIME`, and the reference logs show it,
/// so the event's own [`EventType`](yardstick_core::log::EventType) is not
/// printed: doing so would make our `power_begin` line differ from LoadGen's.
pub const EVENT_TYPE: &str = "POINT_IN_TIME";

/// Renders one detail-log line, newline included.
///
/// `time_ns` is the time since the log started; LoadGen prints it as
/// milliseconds with exactly six decimals (`12.000450`), from integer
/// nanoseconds, so no floating-point rounding is involved. `pid` and `tid`
/// are the process and (OS) thread that raised the event.
pub fn render_detail_line(event: &DetailEvent, time_ns: u64, pid: u64, tid: u64) -> String {
    let mut line = String::with_capacity(256);
    line.push_str(":::MLLOG {\"key\": ");
    json::write_string(&mut line, &event.key);
    line.push_str(", \"value\": ");
    json::write_value(&mut line, &event.value);
    let _ = write!(
        line,
        ", \"time_ms\": {}.{:06}, \"namespace\": \"mlperf::logging\", \"event_type\": \"{EVENT_TYPE}\", \
         \"metadata\": {{\"is_error\": {}, \"is_warning\": {}, \"file\": ",
        time_ns / 1_000_000,
        time_ns % 1_000_000,
        event.severity == Severity::Error,
        event.severity == Severity::Warning,
    );
    json::write_string(&mut line, event.file);
    let _ = writeln!(
        line,
        ", \"line_no\": {}, \"pid\": {pid}, \"tid\": {tid}}}}}",
        event.line
    );
    line
}

/// What LoadGen writes as `loadgen_version`: its own version, then ` @ ` and
/// the build's git revision. We keep the LoadGen version whose behaviour we
/// reproduce in front (tools that parse the version get a number they know)
/// and name ourselves where LoadGen puts its revision:
/// `6.0.17 @ yardstick-0.1.0`.
pub fn loadgen_version_string() -> String {
    format!(
        "{LOADGEN_COMPAT_VERSION} @ yardstick-{}",
        env!("CARGO_PKG_VERSION")
    )
}

/// The facts LoadGen logs at the start of every test, after its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestHeader {
    /// The test's start, as [`test_datetime_string`] wrote it (also used for
    /// file names with `prefix_with_datetime`, so it is passed as text).
    pub test_datetime: String,
    pub sut_name: String,
    /// How long asking the SUT for its name took (LoadGen measures it).
    pub get_sut_name_duration_ns: u64,
    pub qsl_name: String,
    pub qsl_reported_total_count: u64,
    pub qsl_reported_performance_count: u64,
}

/// The detail events LoadGen logs before the settings, in LoadGen's order:
/// `loadgen_version`, `test_datetime`, `sut_name`,
/// `get_sut_name_duration_ns`, `qsl_name`, `qsl_reported_total_count`,
/// `qsl_reported_performance_count`.
///
/// LoadGen also logs its build dates, git log and status and the SHA-1 of its
/// sources; they describe a LoadGen build, which this is not, and nothing
/// reads them (the submission checker only rejects
/// `error_uncommitted_loadgen_changes`, which we therefore never log).
pub fn header_events(header: &TestHeader) -> Vec<DetailEvent> {
    vec![
        DetailEvent::new("loadgen_version", loadgen_version_string()),
        DetailEvent::new("test_datetime", header.test_datetime.clone()),
        DetailEvent::new("sut_name", header.sut_name.clone()),
        DetailEvent::new("get_sut_name_duration_ns", header.get_sut_name_duration_ns),
        DetailEvent::new("qsl_name", header.qsl_name.clone()),
        DetailEvent::new("qsl_reported_total_count", header.qsl_reported_total_count),
        DetailEvent::new(
            "qsl_reported_performance_count",
            header.qsl_reported_performance_count,
        ),
    ]
}

/// LoadGen's `power_begin`/`power_end` time stamp (UTC,
/// `MM-DD-YYYY HH:MM:SS.mmm`); the core writes these events itself.
pub use yardstick_core::run::clock::power_time_string;

/// LoadGen's `test_datetime` (`2026-11-22T12:01:52Z`).
///
/// LoadGen formats the machine's *local* time and appends `Z` regardless
/// (`strftime("%FT%TZ", localtime(...))`); we do the same so a run on the
/// same machine names its files and logs the same text as LoadGen would. On
/// the usual UTC-configured servers the `Z` is then also true.
pub fn test_datetime_string(t: SystemTime) -> String {
    let local: chrono::DateTime<chrono::Local> = t.into();
    local.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Nanoseconds since the Unix epoch of `t` as microseconds with three
/// decimals (the Chrome trace's time unit and precision); `t` before the
/// epoch gives a negative number.
pub(crate) fn unix_micros_string(t: SystemTime) -> String {
    let ns: i128 = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    };
    micros_string(ns)
}

/// `ns` nanoseconds as microseconds with exactly three decimals, computed
/// on integers (LoadGen prints a `double` with `std::fixed` and precision 3,
/// which for any realistic value gives the same digits).
pub(crate) fn micros_string(ns: i128) -> String {
    let sign = if ns < 0 { "-" } else { "" };
    let abs = ns.unsigned_abs();
    format!("{sign}{}.{:03}", abs / 1000, abs % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn power_time_is_utc_with_truncated_milliseconds() {
        let t = UNIX_EPOCH + Duration::from_nanos(1_795_867_312_535_999_999);
        assert_eq!(power_time_string(t), "11-28-2026 12:01:52.535");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(power_time_string(leap), "02-29-2000 00:00:00.000");
    }

    #[test]
    fn micros_have_three_decimals() {
        assert_eq!(micros_string(1_234_567), "1234.567");
        assert_eq!(micros_string(5), "0.005");
        assert_eq!(micros_string(-1_500), "-1.500");
    }
}

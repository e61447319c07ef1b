//! What `list` selects, and the rows it returns.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::Serialize;

use crate::StoreError;

/// The status shown for a stored run: the record's own, except that a run
/// still marked running whose process is gone is `Incomplete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    Running,
    Completed,
    Interrupted,
    Failed,
    /// Began and never finished: its process died (a SIGKILL, a crash, a
    /// power cut) before the final record was written.
    Incomplete,
}

impl RowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RowStatus::Running => "running",
            RowStatus::Completed => "completed",
            RowStatus::Interrupted => "interrupted",
            RowStatus::Failed => "failed",
            RowStatus::Incomplete => "incomplete",
        }
    }

    pub fn parse(text: &str) -> Result<RowStatus, StoreError> {
        Ok(match text.to_ascii_lowercase().as_str() {
            "running" => RowStatus::Running,
            "completed" => RowStatus::Completed,
            "interrupted" => RowStatus::Interrupted,
            "failed" => RowStatus::Failed,
            "incomplete" => RowStatus::Incomplete,
            _ => {
                return Err(StoreError::BadFilter(format!(
                    "unknown status {text:?} (running, completed, interrupted, failed, incomplete)"
                )))
            }
        })
    }
}

/// Which runs `list` returns; every field left `None` matches all.
/// Text fields match case-insensitively and exactly.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFilter {
    pub tag: Option<String>,
    pub workload: Option<String>,
    pub scenario: Option<String>,
    /// The SUT's name.
    pub sut: Option<String>,
    /// Started at or after.
    pub since: Option<DateTime<Utc>>,
    /// Started at or before.
    pub until: Option<DateTime<Utc>>,
    pub status: Option<RowStatus>,
    pub group: Option<String>,
    /// The newest `limit` matches.
    pub limit: Option<usize>,
}

/// One run as `list` shows it: the indexed columns, without the record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    pub id: String,
    pub group_id: Option<String>,
    pub group_index: Option<u32>,
    pub kind: String,
    pub status: RowStatus,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub workload: String,
    pub scenario: Option<String>,
    pub mode: Option<String>,
    pub sut: Option<String>,
    pub verdict: String,
    pub metric_name: Option<String>,
    pub metric_value: Option<f64>,
    pub metric_unit: Option<String>,
    pub tags: Vec<String>,
    /// The host that ran it, where known.
    pub host: Option<String>,
}

/// Which end of a day a bare date stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateBound {
    /// `2026-12-06` means 00:00:00 UTC of that day (`--since`).
    StartOfDay,
    /// `2026-12-06` means the last nanosecond of that day (`--until`).
    EndOfDay,
}

/// Parses `--since`/`--until`: a date (`2026-12-06`, UTC), or an RFC 3339
/// time (`2026-12-06T03:27:00Z`, `2026-12-06T04:27:00+01:00`).
pub fn parse_date(text: &str, bound: DateBound) -> Result<DateTime<Utc>, StoreError> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let time = match bound {
            DateBound::StartOfDay => NaiveTime::MIN,
            DateBound::EndOfDay => {
                NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999).unwrap_or(NaiveTime::MIN)
            }
        };
        return Ok(day.and_time(time).and_utc());
    }
    Err(StoreError::BadFilter(format!(
        "{text:?} is not a date (YYYY-MM-DD) or an RFC 3339 time (2026-12-06T03:27:00Z)"
    )))
}

/// The text form dates are stored and compared in: RFC 3339, UTC, with
/// nanoseconds and `Z`, so text order is time order.
pub(crate) fn date_key(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_and_sort_as_text() {
        let a = parse_date("2026-12-06", DateBound::StartOfDay).unwrap();
        let b = parse_date("2026-12-06", DateBound::EndOfDay).unwrap();
        let c = parse_date("2026-12-06T04:27:00+01:00", DateBound::StartOfDay).unwrap();
        assert_eq!(date_key(a), "2026-12-06T00:00:00.000000000Z");
        assert_eq!(date_key(b), "2026-12-06T23:59:59.999999999Z");
        assert_eq!(date_key(c), "2026-12-06T03:27:00.000000000Z");
        assert!(date_key(a) < date_key(c) && date_key(c) < date_key(b));
        assert!(parse_date("yesterday", DateBound::StartOfDay).is_err());
    }

    #[test]
    fn statuses_parse() {
        assert_eq!(
            RowStatus::parse("Incomplete").unwrap(),
            RowStatus::Incomplete
        );
        assert!(RowStatus::parse("done").is_err());
    }
}

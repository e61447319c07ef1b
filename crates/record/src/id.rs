//! Run ids: short, unique on one machine, and sorting by start time.

use std::hash::{BuildHasher, Hasher};

use chrono::{DateTime, Utc};

/// `20261206-032700-4f2a9c`: the UTC start time to the second, then 24 bits
/// that differ between runs started in the same second (from the process id,
/// the nanoseconds and std's per-process random hasher keys).
pub fn new_run_id(started_at: DateTime<Utc>) -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u32(started_at.timestamp_subsec_nanos());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let tag = h.finish() & 0xff_ffff;
    format!("{}-{tag:06x}", started_at.format("%Y%m%d-%H%M%S"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time_and_differ() {
        let t0 = DateTime::parse_from_rfc3339("2026-12-06T03:27:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let t1 = DateTime::parse_from_rfc3339("2026-12-06T03:27:01Z")
            .unwrap()
            .with_timezone(&Utc);
        let a = new_run_id(t0);
        let b = new_run_id(t0);
        assert!(a.starts_with("20261206-032700-"), "{a}");
        assert_ne!(a, b);
        assert!(new_run_id(t1) > a);
    }
}

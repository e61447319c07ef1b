//! The accuracy log, `mlperf_log_accuracy.json`, in LoadGen's layout.
//!
//! The file is a JSON list written incrementally: `[` when the log opens,
//! one entry per logged response, each on its own line and separated by
//! commas, and `\n]\n` when the log closes, so an empty log is `[\n]\n`:
//!
//! ```text
//! [
//! { "seq_id" : 0, "qsl_idx" : 1541, "data" : "05060000" },
//! { "seq_id" : 1, "qsl_idx" : 1378, "data" : "62050000" }
//! ]
//! ```
//!
//! The benchmarks' accuracy scripts `json.load` it and decode `data` with
//! `bytes.fromhex`; the submission checker also hashes and truncates it, so
//! the layout (spaces around `:`, upper-case hex) is kept exactly.

use std::fmt::Write as _;

use yardstick_core::log::AccuracyEntry;

/// What opens the log.
pub const HEADER: &str = "[";
/// What closes the log.
pub const FOOTER: &str = "\n]\n";
/// What precedes the first entry.
pub const FIRST_SEPARATOR: &str = "\n";
/// What precedes every later entry.
pub const SEPARATOR: &str = ",\n";

/// Appends `data` as a quoted string of upper-case hex digits, two per byte.
pub fn write_hex(out: &mut String, data: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(data.len() * 2 + 2);
    out.push('"');
    for &b in data {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out.push('"');
}

/// Renders one entry, `{ "seq_id" : ..., ... }`, without separator.
///
/// The fields follow LoadGen: `seq_id`, `qsl_idx`, `data`; with token
/// latencies also `token_count` (Offline) or `token_data` then
/// `token_count` (the scenarios that time the first token). LoadGen's
/// token count defaults to 0 when only first-token data exists, and so does
/// ours.
pub fn render_entry(entry: &AccuracyEntry<'_>) -> String {
    let mut out = String::with_capacity(64 + entry.data.len() * 2);
    let _ = write!(
        out,
        "{{ \"seq_id\" : {}, \"qsl_idx\" : {}, \"data\" : ",
        entry.seq_id, entry.qsl_idx
    );
    write_hex(&mut out, entry.data);
    match (entry.token_data, entry.token_count) {
        (None, None) => {}
        (None, Some(count)) => {
            let _ = write!(out, ", \"token_count\" : {count}");
        }
        (Some(token_data), count) => {
            out.push_str(", \"token_data\" : ");
            write_hex(&mut out, token_data);
            let _ = write!(out, ", \"token_count\" : {}", count.unwrap_or(0));
        }
    }
    out.push_str(" }");
    out
}

/// Renders a whole accuracy log from its entries (for tests and tools; the
/// writer streams the same bytes).
pub fn render_log<'a>(entries: impl IntoIterator<Item = AccuracyEntry<'a>>) -> String {
    let mut out = String::from(HEADER);
    for (i, entry) in entries.into_iter().enumerate() {
        out.push_str(if i == 0 { FIRST_SEPARATOR } else { SEPARATOR });
        out.push_str(&render_entry(&entry));
    }
    out.push_str(FOOTER);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(data: &[u8]) -> AccuracyEntry<'_> {
        AccuracyEntry {
            seq_id: 3,
            qsl_idx: 7,
            data,
            token_count: None,
            token_data: None,
        }
    }

    #[test]
    fn plain_entry() {
        let e = entry(&[0x05, 0x06, 0xab, 0x00]);
        assert_eq!(
            render_entry(&e),
            r#"{ "seq_id" : 3, "qsl_idx" : 7, "data" : "0506AB00" }"#
        );
    }

    #[test]
    fn token_entries() {
        let offline = AccuracyEntry {
            token_count: Some(12),
            ..entry(&[1])
        };
        assert_eq!(
            render_entry(&offline),
            r#"{ "seq_id" : 3, "qsl_idx" : 7, "data" : "01", "token_count" : 12 }"#
        );
        let server = AccuracyEntry {
            token_count: Some(12),
            token_data: Some(&[0xff]),
            ..entry(&[])
        };
        assert_eq!(
            render_entry(&server),
            r#"{ "seq_id" : 3, "qsl_idx" : 7, "data" : "", "token_data" : "FF", "token_count" : 12 }"#
        );
    }

    #[test]
    fn empty_and_two_entry_logs() {
        assert_eq!(render_log([]), "[\n]\n");
        assert_eq!(
            render_log([entry(&[1]), entry(&[2])]),
            "[\n{ \"seq_id\" : 3, \"qsl_idx\" : 7, \"data\" : \"01\" },\n\
             { \"seq_id\" : 3, \"qsl_idx\" : 7, \"data\" : \"02\" }\n]\n"
        );
    }
}

//! Golden tests of the `:::MLLOG` codec against the official tools:
//! - lines written by mlperf-logging 4.1.68's own `mllog`
//!   (tests/data/official_mllog.txt, made by tests/data/gen_official.py)
//!   are read and written again byte for byte;
//! - every real MLPerf Training v5.1 log of ../shared/training/v5.1 reads
//!   with the parse errors the official parser reported (expected.json:
//!   none), and each record is written again as the line it was read from;
//! - the broken logs of ../shared/training/v5.1-broken give the official
//!   parse errors, text and message (broken.json).

use std::io::Read;
use std::path::{Path, PathBuf};

use yardstick_formats::mllog::{read_log, split_line, EventType};
use yardstick_formats::pyjson::JsonValue;

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/training")
}

fn unxz(path: &Path) -> Vec<u8> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    liblzma::read::XzDecoder::new(file)
        .read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    out
}

fn json_file(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Every `:::MLLOG` line of `text` is re-rendered from its record to the
/// same bytes (from the token on, right-stripped).
fn assert_round_trips(name: &str, text: &[u8]) -> usize {
    let parsed = read_log(text);
    let text = String::from_utf8_lossy(text);
    let originals: Vec<&str> = text
        .lines()
        .filter_map(|l| split_line(l).map(|(_, t)| t))
        .collect();
    assert_eq!(
        originals.len(),
        parsed.lines.len() + parsed.errors.len(),
        "{name}"
    );
    for line in &parsed.lines {
        assert_eq!(
            line.record.to_line(),
            originals[line.mllog_index],
            "{name}: line {}",
            line.line_number
        );
    }
    parsed.lines.len()
}

#[test]
fn official_mllog_lines_round_trip_byte_exact() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/official_mllog.txt");
    let text = std::fs::read(&path).unwrap();
    let parsed = read_log(&text);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(assert_round_trips("official_mllog.txt", &text), 19);
    let by_key = |k: &str| {
        &parsed
            .lines
            .iter()
            .find(|l| l.record.key() == Some(k))
            .unwrap_or_else(|| panic!("no {k}"))
            .record
    };
    assert_eq!(
        by_key("seed").value(),
        &JsonValue::Int(18446744073709551617)
    );
    assert_eq!(by_key("explicit_time").time_ms(), Some(1700000000123.5));
    assert_eq!(by_key("namespaced").namespace(), Some("worker0"));
    assert_eq!(
        by_key("run_stop").event_type(),
        Some(EventType::IntervalEnd)
    );
    assert_eq!(
        by_key("submission_org").value().as_str(),
        Some("Ex\u{e4}mple \u{2603} \u{1F600} \"q\" \\ \t\n")
    );
    let JsonValue::Array(weird) = by_key("weird_floats").value() else {
        panic!("weird_floats is not a list");
    };
    assert!(weird[0].as_f64().is_some_and(f64::is_nan));
    assert_eq!(weird[1].as_f64(), Some(f64::INFINITY));
}

#[test]
fn real_v5_1_logs_read_with_the_official_parse_errors_and_round_trip() {
    let root = shared().join("v5.1");
    let expected = json_file(&root.join("expected.json"));
    let files = expected["files"]
        .as_object()
        .expect("expected.json has files");
    assert_eq!(files.len(), 185);
    let mut records = 0;
    for (name, verdict) in files {
        let text = unxz(&root.join(name));
        let parsed = read_log(&text);
        let official: Vec<(String, String)> = verdict["parse_errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e["line"].as_str().unwrap().into(),
                            e["error"].as_str().unwrap().into(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let ours: Vec<(String, String)> = parsed
            .errors
            .iter()
            .map(|e| (e.text.clone(), e.reason.to_string()))
            .collect();
        assert_eq!(ours, official, "{name}");
        assert!(
            parsed
                .lines
                .iter()
                .any(|l| l.record.key() == Some("run_stop")),
            "{name}"
        );
        records += assert_round_trips(name, &text);
    }
    assert_eq!(records, 94066);
}

#[test]
fn broken_logs_give_the_official_parse_errors() {
    let root = shared().join("v5.1-broken");
    let manifest = json_file(&root.join("broken.json"));
    let entries = manifest["entries"]
        .as_array()
        .expect("broken.json has entries");
    let mut with_errors = 0;
    for entry in entries {
        let name = entry["file"].as_str().unwrap();
        let parsed = read_log(&unxz(&root.join(name)));
        let official: Vec<(String, String)> = entry["official"]["parse_errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e["line"].as_str().unwrap().into(),
                            e["error"].as_str().unwrap().into(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        with_errors += usize::from(!official.is_empty());
        let ours: Vec<(String, String)> = parsed
            .errors
            .iter()
            .map(|e| (e.text.clone(), e.reason.to_string()))
            .collect();
        assert_eq!(ours, official, "{name}");
    }
    assert_eq!(with_errors, 2);
}

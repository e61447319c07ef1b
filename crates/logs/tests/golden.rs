//! Our renderings against the logs the official LoadGen 6.0.17 wrote.

mod common;

use common::{golden_bytes, golden_detail_line, golden_text, mask, CASES};
use serde_json::{json, Value};
use yardstick_core::log::{AccuracyEntry, DetailEvent, EventType, LogSink, Severity};
use yardstick_logs::accuracy;
use yardstick_logs::detail::render_detail_line;
use yardstick_logs::summary::render_trailer;
use yardstick_logs::{LogOutputSettings, MlperfLogWriter};

/// Our line for `event`, masked as [`mask`] masks golden lines.
fn ours(event: &DetailEvent) -> String {
    mask(&render_detail_line(event, 1_234_567, 1, 2))
}

/// Events built the way the core builds them (Rust values, not parsed JSON)
/// render as LoadGen rendered them.
#[test]
fn hand_built_events_match_golden_lines() {
    let seeds_case = "resnet50-multistream-perf";
    let cases: Vec<(&str, DetailEvent)> = vec![
        (
            "resnet50-singlestream-perf",
            DetailEvent::new("loadgen_version", "6.0.17 @ d6147c7eb7"),
        ),
        (
            seeds_case,
            DetailEvent::new("test_datetime", "2026-11-22T12:01:35Z"),
        ),
        (seeds_case, DetailEvent::new("sut_name", "PySUT")),
        (
            seeds_case,
            DetailEvent::new("qsl_reported_total_count", 50000u64),
        ),
        (
            seeds_case,
            DetailEvent::new("effective_scenario", "MultiStream"),
        ),
        (
            seeds_case,
            DetailEvent::new("effective_schedule_rng_seed", 16159082839903944936u64),
        ),
        (
            seeds_case,
            DetailEvent::new("effective_target_latency_percentile", 0.99),
        ),
        (
            seeds_case,
            DetailEvent::new("requested_multi_stream_expected_latency_ns", 1e6),
        ),
        (seeds_case, DetailEvent::new("effective_target_qps", 1000.0)),
        (
            seeds_case,
            DetailEvent::new("effective_sample_concatenate_permutation", false),
        ),
        (
            seeds_case,
            DetailEvent::new("power_begin", "11-22-2026 12:01:35.843")
                .with_type(EventType::IntervalStart),
        ),
        (
            seeds_case,
            DetailEvent::new("power_end", "11-22-2026 12:01:35.872")
                .with_type(EventType::IntervalEnd),
        ),
        (seeds_case, DetailEvent::new("result_validity", "VALID")),
        (seeds_case, DetailEvent::new("early_stopping_met", true)),
        (
            "resnet50-singlestream-perf",
            DetailEvent::new(
                "early_stopping_result",
                " * Processed at least 64 queries (300).  * Would discard 17 highest latency \
                 queries.  * Early stopping 90.0th percentile estimate: 4995  * Not enough \
                 queries processed for 99.0th percentile  early stopping estimate (would need \
                 to process at  least 662 total queries).",
            ),
        ),
        (
            "resnet50-server-perf",
            DetailEvent::new("result_completed_samples_per_sec", 2064.2),
        ),
        (
            "resnet50-server-perf",
            DetailEvent::new("result_scheduled_samples_per_sec", 2064.83),
        ),
        (
            "whisper-server-tokens-equal-issue",
            DetailEvent::new("result_token_throughput", 1.12806e-05),
        ),
        (
            "resnet50-singlestream-perf",
            DetailEvent::warning(
                "warning_generic_message",
                "Logging allocation detected: tid: 25862 reserved_entries: 1024 max_entries: 1510",
            ),
        ),
    ];
    for (case, event) in &cases {
        let golden = golden_detail_line(case, &event.key);
        assert_eq!(ours(event), mask(&golden), "{case}: {}", event.key);
    }
}

/// A list of sample indices (`loaded_qsl_set`) as the core logs it.
#[test]
fn loaded_qsl_set_matches() {
    let case = "resnet50-offline-perf";
    let golden = golden_detail_line(case, "loaded_qsl_set");
    let parsed: Value = serde_json::from_str(&golden[":::MLLOG ".len()..]).expect("golden parses");
    let indices: Vec<usize> = parsed["value"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_u64().expect("an index") as usize)
        .collect();
    let event = DetailEvent::new("loaded_qsl_set", indices);
    assert_eq!(ours(&event), mask(&golden));
}

/// Every line of every golden detail log, parsed and rebuilt with its own
/// time, file, line, pid and tid, renders to the same bytes.
#[test]
fn every_golden_detail_line_round_trips() {
    for case in CASES {
        let text = golden_text(case, "mlperf_log_detail.txt");
        let mut lines = 0;
        for (n, line) in text.split_inclusive('\n').enumerate() {
            let json = line
                .strip_prefix(":::MLLOG ")
                .unwrap_or_else(|| panic!("{case}:{}: not an MLLOG line", n + 1));
            let parsed: Value =
                serde_json::from_str(json).unwrap_or_else(|e| panic!("{case}:{}: {e}", n + 1));
            let meta = &parsed["metadata"];
            let severity = if meta["is_error"] == json!(true) {
                Severity::Error
            } else if meta["is_warning"] == json!(true) {
                Severity::Warning
            } else {
                Severity::Info
            };
            let file: &'static str = Box::leak(
                meta["file"]
                    .as_str()
                    .expect("file is a string")
                    .to_owned()
                    .into_boxed_str(),
            );
            let event = DetailEvent {
                key: parsed["key"].as_str().expect("key").to_owned().into(),
                value: parsed["value"].clone(),
                event_type: EventType::PointInTime,
                severity,
                elapsed_ns: None,
                file,
                line: meta["line_no"].as_u64().expect("line_no") as u32,
            };
            // time_ms is printed from integer nanoseconds: read it back so.
            let time_text = json
                .split_once("\"time_ms\": ")
                .and_then(|(_, rest)| rest.split_once(','))
                .map(|(t, _)| t)
                .expect("time_ms");
            let (ms, frac) = time_text.split_once('.').expect("time_ms has decimals");
            let time_ns =
                ms.parse::<u64>().expect("ms") * 1_000_000 + frac.parse::<u64>().expect("frac");
            let pid = meta["pid"].as_u64().expect("pid");
            let tid = meta["tid"].as_u64().expect("tid");
            assert_eq!(
                render_detail_line(&event, time_ns, pid, tid),
                line,
                "{case}:{}",
                n + 1
            );
            lines += 1;
        }
        assert!(lines > 50, "{case}: only {lines} lines");
    }
}

/// Entries parsed back from the golden accuracy log.
fn golden_accuracy_entries(case: &str) -> Vec<(u64, u64, Vec<u8>)> {
    let text = golden_text(case, "mlperf_log_accuracy.json");
    let parsed: Vec<Value> = serde_json::from_str(&text).expect("golden accuracy log parses");
    parsed
        .iter()
        .map(|e| {
            let hex = e["data"].as_str().expect("data is a string");
            let data = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect();
            (
                e["seq_id"].as_u64().expect("seq_id"),
                e["qsl_idx"].as_u64().expect("qsl_idx"),
                data,
            )
        })
        .collect()
}

fn entry(e: &(u64, u64, Vec<u8>)) -> AccuracyEntry<'_> {
    AccuracyEntry {
        seq_id: e.0,
        qsl_idx: e.1,
        data: &e.2,
        token_count: None,
        token_data: None,
    }
}

#[test]
fn accuracy_log_is_byte_exact() {
    let case = "resnet50-singlestream-accuracy";
    let entries = golden_accuracy_entries(case);
    assert!(
        entries.len() > 1000,
        "the golden accuracy log has {} entries",
        entries.len()
    );
    let rendered = accuracy::render_log(entries.iter().map(entry));
    assert!(
        rendered.as_bytes() == golden_bytes(case, "mlperf_log_accuracy.json").as_slice(),
        "rendered accuracy log differs from the golden one"
    );
}

/// The writer streams the same bytes, and an accuracy-only test's summary
/// is just the warning and error counts.
#[test]
fn writer_reproduces_accuracy_run_files() {
    let case = "resnet50-singlestream-accuracy";
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = LogOutputSettings {
        outdir: dir.path().to_path_buf(),
        ..LogOutputSettings::default()
    };
    let writer = MlperfLogWriter::create(&settings).expect("writer");
    let entries = golden_accuracy_entries(case);
    for e in &entries {
        writer.accuracy(entry(e));
    }
    for _ in 0..3 {
        writer.detail(DetailEvent::warning("warning_generic_message", "something"));
    }
    writer.finish().expect("finish");
    let read = |p: &std::path::Path| std::fs::read(p).expect("read output");
    assert!(read(&writer.paths().accuracy) == golden_bytes(case, "mlperf_log_accuracy.json"));
    assert_eq!(
        String::from_utf8(read(&writer.paths().summary)).expect("utf-8"),
        golden_text(case, "mlperf_log_summary.txt")
    );
}

#[test]
fn empty_accuracy_log_is_byte_exact() {
    let golden = golden_bytes("resnet50-server-perf", "mlperf_log_accuracy.json");
    assert_eq!(golden, b"[\n]\n");
    assert_eq!(accuracy::render_log([]).as_bytes(), golden.as_slice());
    for case in CASES.iter().filter(|c| !c.ends_with("-accuracy")) {
        assert_eq!(
            golden_bytes(case, "mlperf_log_accuracy.json"),
            golden,
            "{case}"
        );
    }

    let dir = tempfile::tempdir().expect("temp dir");
    let writer = MlperfLogWriter::create(&LogOutputSettings {
        outdir: dir.path().to_path_buf(),
        ..LogOutputSettings::default()
    })
    .expect("writer");
    writer.finish().expect("finish");
    assert_eq!(
        std::fs::read(&writer.paths().accuracy).expect("read"),
        golden
    );
}

/// Every golden summary ends with LoadGen's warning/error lines.
#[test]
fn summaries_end_with_the_trailer() {
    for case in CASES {
        let summary = golden_text(case, "mlperf_log_summary.txt");
        let detail = golden_text(case, "mlperf_log_detail.txt");
        let warnings = detail.matches("\"is_warning\": true").count();
        let errors = detail.matches("\"is_error\": true").count();
        let footer = render_trailer(warnings, errors);
        assert!(
            summary.ends_with(&footer),
            "{case}: summary does not end with {footer:?}"
        );
    }
}

//! The log writer as the core uses it: files, counts, threads, errors.

use std::sync::Arc;

use serde_json::Value;
use yardstick_core::log::{AccuracyEntry, DetailEvent, LogSink, MemorySink};
use yardstick_core::results::{PerformanceResult, PerformanceSummary};
use yardstick_core::settings::EffectiveSettings;
use yardstick_core::TestSettings;
use yardstick_logs::summary::{render_summary, render_trailer};
use yardstick_logs::{
    header_events, loadgen_version_string, CompositeSink, LogError, LogOutputSettings, LogPaths,
    MlperfLogWriter, TestHeader,
};

fn settings_in(dir: &std::path::Path) -> LogOutputSettings {
    LogOutputSettings {
        outdir: dir.to_path_buf(),
        ..LogOutputSettings::default()
    }
}

fn entry(seq_id: u64, data: &[u8]) -> AccuracyEntry<'_> {
    AccuracyEntry {
        seq_id,
        qsl_idx: seq_id * 2,
        data,
        token_count: None,
        token_data: None,
    }
}

#[test]
fn file_names_follow_loadgen() {
    let settings = LogOutputSettings {
        outdir: "out".into(),
        prefix_with_datetime: true,
        suffix: "_x".into(),
        enable_trace: true,
        ..LogOutputSettings::default()
    };
    let paths = LogPaths::new(&settings, "2026-11-22T12:01:52Z");
    assert_eq!(
        paths.detail,
        std::path::Path::new("out/mlperf_log_2026-11-22T12:01:52Z_detail_x.txt")
    );
    assert_eq!(
        paths.accuracy,
        std::path::Path::new("out/mlperf_log_2026-11-22T12:01:52Z_accuracy_x.json")
    );
    let plain = LogPaths::new(&LogOutputSettings::default(), "ignored");
    assert_eq!(
        plain.summary,
        std::path::Path::new("./mlperf_log_summary.txt")
    );
    assert_eq!(plain.trace, None);
}

#[test]
fn detail_lines_parse_and_count_severities() {
    let dir = tempfile::tempdir().expect("temp dir");
    let writer = MlperfLogWriter::create(&settings_in(dir.path())).expect("writer");
    let header = TestHeader {
        test_datetime: writer.test_datetime().to_owned(),
        sut_name: "MySUT".into(),
        get_sut_name_duration_ns: 419,
        qsl_name: "MyQSL".into(),
        qsl_reported_total_count: 50000,
        qsl_reported_performance_count: 1024,
    };
    for event in header_events(&header) {
        writer.detail(event);
    }
    writer.detail(DetailEvent::warning("warning_generic_message", "w1"));
    writer.detail(DetailEvent::warning("warning_generic_message", "w2"));
    writer.detail(DetailEvent::error("error_runtime", "boom"));
    let mut timed = DetailEvent::new("power_begin", "11-22-2026 12:01:52.535");
    timed.elapsed_ns = Some(12_000_450);
    writer.detail(timed);
    assert_eq!((writer.warnings(), writer.errors()), (2, 1));
    writer.finish().expect("finish");

    let text = std::fs::read_to_string(&writer.paths().detail).expect("read detail");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| {
            let json = l.strip_prefix(":::MLLOG ").expect("MLLOG marker");
            serde_json::from_str(json).expect("line parses")
        })
        .collect();
    let keys: Vec<&str> = lines
        .iter()
        .map(|l| l["key"].as_str().expect("key"))
        .collect();
    assert_eq!(
        keys,
        [
            "loadgen_version",
            "test_datetime",
            "sut_name",
            "get_sut_name_duration_ns",
            "qsl_name",
            "qsl_reported_total_count",
            "qsl_reported_performance_count",
            "warning_generic_message",
            "warning_generic_message",
            "error_runtime",
            "power_begin",
        ]
    );
    assert_eq!(lines[0]["value"], Value::from(loadgen_version_string()));
    assert!(loadgen_version_string().starts_with("6.0.17 @ yardstick-"));
    assert_eq!(lines[3]["value"], 419);
    assert_eq!(lines[7]["metadata"]["is_warning"], true);
    assert_eq!(lines[7]["metadata"]["is_error"], false);
    assert_eq!(lines[9]["metadata"]["is_error"], true);
    assert_eq!(lines[9]["metadata"]["pid"], std::process::id());
    assert!(text.contains("\"time_ms\": 12.000450, "));
    // The time stamps the writer takes itself never go backwards.
    let times: Vec<f64> = lines[..10]
        .iter()
        .map(|l| l["time_ms"].as_f64().expect("time"))
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");

    let summary = std::fs::read_to_string(&writer.paths().summary).expect("read summary");
    assert_eq!(summary, render_trailer(2, 1));
    assert_eq!(
        summary,
        "\n2 warnings encountered. See detailed log.\n\n1 ERROR encountered. See detailed log.\n"
    );
}

/// Entries from many threads: all present, each whole, valid JSON.
#[test]
fn concurrent_accuracy_entries_stay_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    let writer = MlperfLogWriter::create(&settings_in(dir.path())).expect("writer");
    const THREADS: u64 = 8;
    const PER_THREAD: u64 = 500;
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let writer = &writer;
            s.spawn(move || {
                for i in 0..PER_THREAD {
                    let seq = t * PER_THREAD + i;
                    let data = seq.to_le_bytes();
                    writer.accuracy(entry(seq, &data));
                }
            });
        }
    });
    writer.finish().expect("finish");
    let text = std::fs::read_to_string(&writer.paths().accuracy).expect("read");
    let parsed: Vec<Value> = serde_json::from_str(&text).expect("accuracy log parses");
    assert_eq!(parsed.len() as u64, THREADS * PER_THREAD);
    let mut seqs: Vec<u64> = parsed
        .iter()
        .map(|e| e["seq_id"].as_u64().expect("seq"))
        .collect();
    seqs.sort_unstable();
    assert!(seqs.iter().copied().eq(0..THREADS * PER_THREAD));
    let e = &parsed[0];
    let seq = e["seq_id"].as_u64().expect("seq");
    let hex: String = seq
        .to_le_bytes()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert_eq!(e["data"], Value::from(hex));
    assert!(text.starts_with("[\n{ \"seq_id\" : "));
    assert!(text.ends_with(" }\n]\n"));
}

#[test]
fn finish_is_idempotent_and_later_events_are_dropped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let writer = MlperfLogWriter::create(&settings_in(dir.path())).expect("writer");
    writer.accuracy(entry(0, &[1]));
    writer.finish().expect("finish");
    writer.accuracy(entry(1, &[2]));
    writer.detail(DetailEvent::new("late", 1));
    writer.finish().expect("second finish");
    drop(writer);
    let acc = std::fs::read_to_string(dir.path().join("mlperf_log_accuracy.json")).expect("read");
    assert_eq!(
        acc,
        "[\n{ \"seq_id\" : 0, \"qsl_idx\" : 0, \"data\" : \"01\" }\n]\n"
    );
    let detail = std::fs::read_to_string(dir.path().join("mlperf_log_detail.txt")).expect("read");
    assert_eq!(detail, "");
}

#[test]
fn dropping_an_unfinished_writer_finishes_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let writer = MlperfLogWriter::create(&settings_in(dir.path())).expect("writer");
    writer.detail(DetailEvent::new("k", "v"));
    drop(writer);
    let acc = std::fs::read_to_string(dir.path().join("mlperf_log_accuracy.json")).expect("read");
    assert_eq!(acc, "[\n]\n");
    let detail = std::fs::read_to_string(dir.path().join("mlperf_log_detail.txt")).expect("read");
    assert!(detail.starts_with(":::MLLOG {\"key\": \"k\", \"value\": \"v\", \"time_ms\": "));
}

#[test]
fn errors_name_the_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A file where the output directory should be.
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"").expect("write blocker");
    let err = MlperfLogWriter::create(&settings_in(&blocker)).expect_err("must fail");
    assert!(matches!(err, LogError::CreateDir { .. }), "{err:?}");
    assert!(err.to_string().contains("not-a-dir"), "{err}");

    // A directory where a log file should be.
    let outdir = dir.path().join("out");
    std::fs::create_dir_all(outdir.join("mlperf_log_detail.txt")).expect("mkdir");
    let err = MlperfLogWriter::create(&settings_in(&outdir)).expect_err("must fail");
    assert!(matches!(err, LogError::Open { .. }), "{err:?}");
    assert!(err.to_string().contains("mlperf_log_detail.txt"), "{err}");
}

#[test]
fn composite_fans_out() {
    let a = Arc::new(MemorySink::default());
    let b = Arc::new(MemorySink::default());
    let composite = CompositeSink::new(vec![a.clone(), b.clone()]);
    composite.detail(DetailEvent::new("key", 5));
    composite.accuracy(entry(3, &[9]));
    assert!(!composite.wants_timeline());
    for sink in [&a, &b] {
        assert_eq!(sink.value("key"), Some(Value::from(5)));
        assert_eq!(sink.accuracy.lock().expect("lock").len(), 1);
    }
}

fn performance_summary() -> PerformanceSummary {
    let settings = EffectiveSettings::new(&TestSettings::default(), 1024, 50000);
    let pr = PerformanceResult {
        sample_latencies: (1..=100).map(|i| i * 1000).collect(),
        queries_issued: 100,
        max_latency: 1e-4,
        final_query_scheduled_time: 0.5,
        final_query_issued_time: 0.5,
        final_query_all_samples_done_time: 0.6,
        ..PerformanceResult::default()
    };
    PerformanceSummary::new("SUT", settings, pr)
}

/// The summary is written at the end, with the counts of the whole test
/// (including events logged after the run's results), once.
#[test]
fn summary_is_written_by_finish_with_final_counts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let writer = MlperfLogWriter::create(&settings_in(dir.path())).expect("writer");
    let summary = performance_summary();
    writer.summary(&summary);
    writer.summary(&summary);
    writer.detail(DetailEvent::warning("warning_generic_message", "late"));
    let text = std::fs::read_to_string(&writer.paths().summary).expect("read");
    assert_eq!(text, "", "nothing before finish");
    writer.finish().expect("finish");

    let one = render_summary(&summary, 1, 0);
    let trailer = render_trailer(1, 0);
    assert!(one.ends_with(&trailer));
    let expected = format!("{}{one}", &one[..one.len() - trailer.len()]);
    let text = std::fs::read_to_string(&writer.paths().summary).expect("read");
    assert_eq!(text, expected);
    assert_eq!(text.matches("warning encountered").count(), 1);
}

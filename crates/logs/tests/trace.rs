//! The Chrome trace and the query records, from a hand-made timeline.

use std::time::Instant;

use serde_json::Value;
use yardstick_core::log::LogSink;
use yardstick_core::Scenario;
use yardstick_logs::trace::{write_query_lines, write_trace_events};
use yardstick_logs::{
    write_query_records, LogOutputSettings, MlperfLogWriter, QueryRecordWriter, TimelineView,
};

/// Two queries of two samples; the second query was never issued.
struct FakeTimeline {
    scenario: Scenario,
    start: Instant,
    samples: Vec<Vec<u32>>,
    first_token: bool,
}

impl FakeTimeline {
    fn new(scenario: Scenario) -> Self {
        FakeTimeline {
            scenario,
            start: Instant::now(),
            samples: vec![vec![7, 9], vec![3, 4]],
            first_token: false,
        }
    }
}

impl TimelineView for FakeTimeline {
    fn scenario(&self) -> Scenario {
        self.scenario
    }
    fn start(&self) -> Instant {
        self.start
    }
    fn query_count(&self) -> usize {
        self.samples.len()
    }
    fn query_samples(&self, q: usize) -> &[u32] {
        &self.samples[q]
    }
    fn query_seq_id(&self, q: usize) -> u64 {
        100 + q as u64
    }
    fn query_start(&self, q: usize) -> usize {
        self.samples[..q].iter().map(Vec::len).sum()
    }
    fn sample_seq_id(&self, pos: usize) -> u64 {
        200 + pos as u64
    }
    fn scheduled_ns(&self, q: usize) -> i64 {
        1_000 * q as i64
    }
    fn issued_ns(&self, q: usize) -> Option<i64> {
        (q == 0).then_some(1_500)
    }
    fn completed_ns(&self, pos: usize) -> Option<i64> {
        (pos < 2).then_some(2_000_000 + pos as i64)
    }
    fn first_token_ns(&self, pos: usize) -> Option<i64> {
        (self.first_token && pos < 2).then_some(1_000_000)
    }
}

#[test]
fn sample_events_have_loadgen_layout() {
    let timeline = FakeTimeline::new(Scenario::SingleStream);
    let mut out = String::new();
    write_trace_events(&mut out, &timeline, 5_000, 42);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(
        lines[0],
        "{\"name\":\"Sample\",\"cat\":\"default\",\"ph\":\"b\",\"pid\":42,\"id\":200,\"ts\":5.000,\
         \"args\":{\"sample_seq\":200,\"query_seq\":100,\"sample_idx\":7,\"issue_start_ns\":1500,\
         \"complete_ns\":2000000}},"
    );
    assert_eq!(
        lines[1],
        "{\"name\":\"Sample\",\"cat\":\"default\",\"ph\":\"e\", \"pid\":42,\"id\":200,\"ts\":2005.000},"
    );
    assert!(
        lines[3].contains("\"id\":201,\"ts\":2005.001}"),
        "{}",
        lines[3]
    );
}

#[test]
fn server_adds_latency_counters_and_tokens() {
    let mut timeline = FakeTimeline::new(Scenario::Server);
    timeline.first_token = true;
    let mut out = String::new();
    write_trace_events(&mut out, &timeline, 0, 1);
    let names: Vec<String> = out
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l.trim_end_matches(',')).expect("event parses");
            format!(
                "{}:{}",
                v["name"].as_str().expect("name"),
                v["ph"].as_str().expect("ph")
            )
        })
        .collect();
    // Per sample: token counter, sample counter, sample begin and end.
    assert_eq!(
        names[..4],
        ["Token_Latency:C", "Latency:C", "Sample:b", "Sample:e"]
    );
    assert_eq!(names.len(), 8);
    assert!(out.starts_with(
        "{\"name\":\"Token_Latency\",\"ph\": \"C\",\"pid\":1,\"ts\":0.000,\
         \"args\":{ \"issue_delay\":1500,\"issue_to_done\":998500}},\n"
    ));

    let mut single = FakeTimeline::new(Scenario::SingleStream);
    single.first_token = true;
    let mut out = String::new();
    write_trace_events(&mut out, &single, 0, 1);
    assert!(out.starts_with("{\"name\":\"Token\",\"cat\":\"default\",\"ph\":\"b\""));
    assert_eq!(out.lines().count(), 8);
}

#[test]
fn trace_file_is_valid_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let writer = MlperfLogWriter::create(&LogOutputSettings {
        outdir: dir.path().to_path_buf(),
        enable_trace: true,
        ..LogOutputSettings::default()
    })
    .expect("writer");
    assert!(writer.wants_timeline());
    writer.add_timeline(&FakeTimeline::new(Scenario::Server));
    writer.add_timeline(&FakeTimeline::new(Scenario::Offline));
    writer.finish().expect("finish");
    let path = writer.paths().trace.clone().expect("trace enabled");
    assert!(path.ends_with("mlperf_log_trace.json"));
    let text = std::fs::read_to_string(&path).expect("read trace");
    let trace: Value = serde_json::from_str(&text).expect("trace parses");
    let events = trace["traceEvents"].as_array().expect("events");
    // 6 for the Server run, 4 for the Offline one, and LoadGen's end marker.
    assert_eq!(events.len(), 11);
    assert_eq!(events[10]["name"], "LastTrace");
    assert_eq!(trace["displayTimeUnit"], "ns");
    assert!(trace["otherData"]["ts"].as_f64().expect("origin") > 1.5e15);
}

#[test]
fn no_trace_file_unless_enabled() {
    let dir = tempfile::tempdir().expect("temp dir");
    let writer = MlperfLogWriter::create(&LogOutputSettings {
        outdir: dir.path().to_path_buf(),
        ..LogOutputSettings::default()
    })
    .expect("writer");
    assert!(!writer.wants_timeline());
    writer.finish().expect("finish");
    assert!(writer.paths().trace.is_none());
    assert!(!dir.path().join("mlperf_log_trace.json").exists());
}

#[test]
fn query_records_list_issued_queries() {
    let timeline = FakeTimeline::new(Scenario::Server);
    let mut out = String::new();
    write_query_lines(&mut out, &timeline);
    assert_eq!(
        out,
        "{\"query\":100,\"scheduled_ns\":0,\"issued_ns\":1500,\"samples\":[7,9]}\n"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("queries.jsonl");
    write_query_records(&path, &timeline).expect("write records");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), out);

    let sink = QueryRecordWriter::create(dir.path().join("all.jsonl")).expect("create");
    assert!(sink.wants_timeline());
    sink.record(&timeline);
    sink.record(&timeline);
    sink.finish().expect("finish");
    assert_eq!(
        std::fs::read_to_string(sink.path()).expect("read"),
        format!("{out}{out}")
    );
}

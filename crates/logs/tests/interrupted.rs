//! The logs of a test stopped early (Ctrl-C): the summary says INVALID and
//! why, where LoadGen lists the reasons a result is INVALID; the detail log
//! is on disk before `finish` (a second Ctrl-C quits without it).

use std::time::{Duration, UNIX_EPOCH};

use yardstick_core::log::{DetailEvent, LogSink};
use yardstick_core::results::{Interruption, PerformanceResult, PerformanceSummary};
use yardstick_core::settings::EffectiveSettings;
use yardstick_core::{Scenario, TestSettings};
use yardstick_logs::summary::render_summary;
use yardstick_logs::{LogOutputSettings, MlperfLogWriter};

fn interruption() -> Interruption {
    Interruption {
        at: UNIX_EPOCH + Duration::from_millis(1_796_528_562_240),
        queries_issued: 1500,
        queries_planned: 10_063,
        samples_unanswered: 2,
    }
}

const REASON: &str = "interrupted at 2026-12-06T03:42:42.240Z, 1500 of 10063 queries issued";

fn server_summary() -> PerformanceSummary {
    let requested = TestSettings {
        scenario: Scenario::Server,
        server_target_qps: 500.0,
        ..TestSettings::default()
    };
    let settings = EffectiveSettings::new(&requested, 1024, 50_000);
    let pr = PerformanceResult {
        sample_latencies: (1..=1498).map(|i| i * 1000).collect(),
        queries_issued: 1500,
        max_latency: 3.0,
        final_query_scheduled_time: 3.0,
        final_query_issued_time: 3.0,
        final_query_all_samples_done_time: 3.001,
        ..PerformanceResult::default()
    };
    PerformanceSummary::new("SUT", settings, pr)
}

#[test]
fn the_interruption_is_the_first_recommendation() {
    let plain = server_summary();
    let mut stopped = plain.clone();
    stopped.interrupted = Some(interruption());
    assert_eq!(interruption().reason(), REASON);

    let text = render_summary(&stopped, 0, 1);
    assert!(text.contains("Result is : INVALID\n"), "{text}");
    let recommendations = text
        .split_once("Recommendations:\n")
        .expect("a recommendations list")
        .1;
    assert!(
        recommendations.starts_with(&format!(" * {REASON}\n")),
        "{recommendations}"
    );
    // Everything else is what the run measured, as without the stop.
    let without = render_summary(&plain, 0, 1);
    let removed = text.replacen(&format!(" * {REASON}\n"), "", 1);
    assert_eq!(removed, without);
}

#[test]
fn a_summary_without_an_interruption_has_no_such_line() {
    let text = render_summary(&server_summary(), 0, 0);
    assert!(!text.contains("interrupted"), "{text}");
}

#[test]
fn a_test_stopped_before_any_performance_result_still_says_invalid() {
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = LogOutputSettings {
        outdir: dir.path().to_path_buf(),
        ..LogOutputSettings::default()
    };
    let writer = MlperfLogWriter::create(&settings).expect("writer");
    writer.detail(DetailEvent::error("error_runtime", REASON));
    writer.interrupted(&interruption());
    // The detail log is on disk already: a forced exit may follow.
    let detail = std::fs::read_to_string(&writer.paths().detail).expect("read");
    assert!(detail.contains(REASON), "{detail}");
    writer.finish().expect("finish");
    let summary = std::fs::read_to_string(&writer.paths().summary).expect("read");
    assert!(summary.contains("Result is : INVALID\n"), "{summary}");
    assert!(summary.contains(&format!(" * {REASON}\n")), "{summary}");
    assert!(
        summary.ends_with(
            "No warnings encountered during test.\n\n1 ERROR encountered. See detailed log.\n"
        ),
        "{summary}"
    );
}

#[test]
fn flush_now_puts_the_detail_log_on_disk_without_finishing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = LogOutputSettings {
        outdir: dir.path().to_path_buf(),
        ..LogOutputSettings::default()
    };
    let writer = MlperfLogWriter::create(&settings).expect("writer");
    writer.detail(DetailEvent::new(
        "generic_message",
        "before the forced exit",
    ));
    let before = std::fs::read_to_string(&writer.paths().detail).expect("read");
    assert_eq!(before, "", "buffered until flushed");
    writer.flush_now();
    let after = std::fs::read_to_string(&writer.paths().detail).expect("read");
    assert!(after.contains("before the forced exit"), "{after}");
    let summary = std::fs::read_to_string(&writer.paths().summary).expect("read");
    assert_eq!(summary, "", "the summary waits for finish");
}

#[test]
fn flush_all_now_reaches_every_open_writer() {
    let dirs = [
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    ];
    let writers: Vec<MlperfLogWriter> = dirs
        .iter()
        .map(|d| {
            let settings = LogOutputSettings {
                outdir: d.path().to_path_buf(),
                ..LogOutputSettings::default()
            };
            MlperfLogWriter::create(&settings).expect("writer")
        })
        .collect();
    for (i, w) in writers.iter().enumerate() {
        w.detail(DetailEvent::new("generic_message", format!("writer {i}")));
    }
    // A dropped writer is finished and forgotten, not flushed again.
    drop(MlperfLogWriter::create(&LogOutputSettings {
        outdir: dirs[0].path().join("dropped"),
        ..LogOutputSettings::default()
    }));
    yardstick_logs::flush_all_now();
    for (i, w) in writers.iter().enumerate() {
        let detail = std::fs::read_to_string(&w.paths().detail).expect("read");
        assert!(detail.contains(&format!("writer {i}")), "{detail}");
    }
}

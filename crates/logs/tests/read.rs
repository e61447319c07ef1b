//! The readers against the official LoadGen 6.0.17's own files
//! (`../shared/golden`): every number the summary states comes back.

use std::path::PathBuf;

use yardstick_logs::read::{
    find_loadgen_runs, parse_summary, read_detail, read_loadgen_run, read_summary, RunContext,
};
use yardstick_record::Verdict;

fn golden(case: &str) -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/golden/loadgen-6.0.17"
    ))
    .join(case);
    assert!(dir.is_dir(), "golden case missing: {}", dir.display());
    dir
}

#[test]
fn server_summary() {
    let s = read_summary(&golden("resnet50-server-perf").join("mlperf_log_summary.txt")).unwrap();
    assert_eq!(s.sut_name.as_deref(), Some("PySUT"));
    assert_eq!(s.scenario.as_deref(), Some("Server"));
    assert_eq!(s.mode.as_deref(), Some("PerformanceOnly"));
    assert_eq!(s.result("Completed samples per second"), Some(2064.20));
    assert_eq!(s.valid, Some(true));
    assert_eq!(s.checks.len(), 4);
    assert_eq!(s.check("Performance constraints"), Some(true));
    assert_eq!(s.check("Early stopping"), Some(true));
    assert_eq!(s.stat("Scheduled samples per second"), Some(2064.83));
    let l = s.latency.as_ref().unwrap();
    assert_eq!(
        (l.min, l.max, l.mean),
        (Some(3421), Some(1407909), Some(98411))
    );
    assert_eq!(l.percentile(99.0), Some(257929));
    assert_eq!(l.percentile(99.9), Some(1391819));
    assert_eq!(l.percentiles.len(), 6);
    assert_eq!(s.parameter("target_qps"), Some("2000"));
    assert_eq!(s.parameter("target_latency"), Some("15000000"));
    assert_eq!(
        s.parameter("schedule_rng_seed"),
        Some("16159082839903944936")
    );
    assert_eq!(s.parameters.len(), 20);
    assert_eq!((s.warnings, s.errors), (Some(0), Some(0)));
    assert_eq!(
        s.early_stopping,
        [(
            "Early Stopping".to_string(),
            "* Run successful.".to_string()
        )]
    );
}

#[test]
fn invalid_offline_and_singlestream_and_tokens() {
    let s = read_summary(&golden("resnet50-offline-perf").join("mlperf_log_summary.txt")).unwrap();
    assert_eq!(s.result("Samples per second"), Some(341057.0));
    assert_eq!(s.valid, Some(false));
    assert_eq!(s.check("Min duration"), Some(false));
    assert_eq!(s.check("Min queries"), Some(true));
    assert_eq!(
        s.recommendations,
        ["Increase expected QPS so the loadgen pre-generates a larger (coalesced) query."]
    );
    assert_eq!(s.warnings, Some(5));

    let s =
        read_summary(&golden("resnet50-singlestream-perf").join("mlperf_log_summary.txt")).unwrap();
    assert_eq!(s.result("90.0th percentile latency (ns)"), Some(2898.0));
    assert_eq!(s.stat("QPS w/ loadgen overhead"), Some(342832.90));
    assert_eq!(s.stat("QPS w/o loadgen overhead"), Some(477783.09));
    assert!(s.early_stopping[0]
        .1
        .contains("Early stopping 90.0th percentile estimate: 4995"));

    let s =
        read_summary(&golden("whisper-server-tokens-equal-issue").join("mlperf_log_summary.txt"))
            .unwrap();
    assert_eq!(s.result("Completed tokens per second"), Some(101574.02));
    assert_eq!(s.stat("Completed tokens per second"), Some(101574.02));
    assert_eq!(
        s.first_token_latency.as_ref().unwrap().percentile(50.0),
        Some(77041)
    );
    assert_eq!(s.first_token_latency.as_ref().unwrap().min, Some(1576));
    assert_eq!(
        s.time_per_output_token.as_ref().unwrap().percentile(99.9),
        Some(6664)
    );
    assert_eq!(s.time_per_output_token.as_ref().unwrap().mean, Some(671));
    assert_eq!(s.latency.as_ref().unwrap().percentile(50.0), Some(78957));
    assert_eq!(s.parameter("ttft_latency"), Some("2000000000"));
    assert!(s.parameters.iter().all(|(k, _)| !k.starts_with("WARNING")));
    let names: Vec<&str> = s.early_stopping.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["TTFT Early Stopping", "TPOT Early Stopping"]);
    assert_eq!(s.warnings, Some(1));
}

#[test]
fn accuracy_summary_has_no_result() {
    let s = read_summary(&golden("resnet50-singlestream-accuracy").join("mlperf_log_summary.txt"))
        .unwrap();
    assert_eq!(s.valid, None);
    assert!(s.results.is_empty());
    assert!(parse_summary("hello\n").is_err());
}

#[test]
fn detail_log() {
    let d = read_detail(&golden("resnet50-server-perf").join("mlperf_log_detail.txt")).unwrap();
    assert_eq!(d.get_str("loadgen_version"), Some("6.0.17 @ d6147c7eb7"));
    assert_eq!(d.get_str("effective_scenario"), Some("Server"));
    assert!(
        d.get_bool("result_validity").is_none(),
        "validity is a string"
    );
    assert_eq!(d.get_str("result_validity"), Some("VALID"));
    assert_eq!(d.skipped_lines, 0);
    // A log cut short mid-line (a killed run) loses only that line.
    let text =
        std::fs::read_to_string(golden("resnet50-server-perf").join("mlperf_log_detail.txt"))
            .unwrap();
    let cut = &text[..text.len() - 40];
    let partial = yardstick_logs::read::parse_detail(cut).unwrap();
    assert_eq!(partial.entries.len() + 1, d.entries.len());
    assert_eq!(partial.skipped_lines, 1);
    let broken = format!(":::MLLOG {{bad\n{text}");
    assert_eq!(
        yardstick_logs::read::parse_detail(&broken).unwrap_err().0,
        1
    );
}

#[test]
fn folder_to_record() {
    let dir = golden("whisper-server-tokens-equal-issue");
    let runs = find_loadgen_runs(&dir);
    assert_eq!(runs.len(), 1);
    assert!(runs[0].detail.is_some() && runs[0].accuracy.is_some());
    let ctx = RunContext {
        format: "mlperf_loadgen".into(),
        ..Default::default()
    };
    let r = read_loadgen_run(&runs[0], &ctx).unwrap();
    assert_eq!(r.validity.verdict, Verdict::Valid);
    assert_eq!(r.workload.scenario.as_deref(), Some("Server"));
    assert_eq!(r.tool.version, "6.0.17");
    let m = |n: &str| r.metric(n).unwrap_or_else(|| panic!("no metric {n}")).value;
    assert_eq!(
        r.primary_metric().unwrap().name,
        "completed_samples_per_second"
    );
    assert_eq!(m("completed_samples_per_second"), 20321.03);
    assert_eq!(m("scheduled_samples_per_second"), 20321.88);
    assert_eq!(m("latency.p99"), 7509605.0);
    assert_eq!(m("latency.mean"), 442969.0);
    assert_eq!(m("tokens_per_second"), 101574.02);
    assert_eq!(m("ttft.p90"), 1150651.0);
    assert_eq!(m("tpot.p99"), 2636.0);
    assert_eq!(r.latencies["sample"].percentile(99.9), Some(8628466));
    assert_eq!(r.latencies["ttft"].max, 8715280);
    assert_eq!(r.started_at.to_rfc3339(), {
        let d = read_detail(runs[0].detail.as_ref().unwrap()).unwrap();
        let begin = d.get_str("power_begin").unwrap().to_string();
        chrono::NaiveDateTime::parse_from_str(&begin, "%m-%d-%Y %H:%M:%S%.f")
            .unwrap()
            .and_utc()
            .to_rfc3339()
    });
    assert!(r.ended_at.unwrap() >= r.started_at);
    assert!(r
        .settings
        .iter()
        .any(|s| s.key == "target_qps" && s.value == "20000"));

    let r = read_loadgen_run(
        &find_loadgen_runs(&golden("resnet50-multistream-perf"))[0],
        &ctx,
    )
    .unwrap();
    assert_eq!(r.primary_metric().unwrap().name, "query_latency.p99");
    assert_eq!(r.primary_metric().unwrap().value, 33431.0);
    assert!(r.latencies.contains_key("query"));
}

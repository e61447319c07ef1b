//! The multi-GPU scaling section: present only for `yardstick scale`
//! points; throughput and efficiency per GPU count, the chart with the
//! ideal line, and the collectives' bus bandwidth.

mod fixtures;

use serde_json::{json, Value};
use yardstick_record::{Better, Metric, RunRecord, Verdict};
use yardstick_report::{render_html, ReportOptions};

fn offline_point(gpus: u32, samples_per_second: f64) -> RunRecord {
    let mut r = fixtures::server_run();
    r.workload.scenario = Some("Offline".into());
    r.validity.verdict = Verdict::Valid;
    r.metrics = vec![Metric::new(
        "samples_per_second",
        samples_per_second,
        "samples/s",
        Better::Higher,
    )];
    r.extra.insert(
        "scale".into(),
        json!({"gpus": gpus, "visible_devices": (0..gpus).map(|g| g.to_string()).collect::<Vec<_>>().join(",")}),
    );
    r
}

#[test]
fn runs_that_are_not_scaling_points_have_no_section() {
    let html = render_html(&[fixtures::server_run()], &ReportOptions::default());
    assert!(!html.contains("id=\"scaling\""));
    assert!(!html.contains("href=\"#scaling\""));
}

#[test]
fn scaling_points_give_a_table_a_chart_with_the_ideal_line_and_collectives() {
    let mut two = offline_point(2, 1800.0);
    two.extra.insert(
        "collectives".into(),
        json!([
            {"op": "all_reduce", "ranks": 2, "bytes": 1073741824u64, "iterations": 20, "seconds": 0.004,
             "algbw_gb_per_s": 268.4, "busbw_gb_per_s": 268.4, "correct": true},
            {"op": "all_gather", "ranks": 2, "bytes": 8, "iterations": 20, "seconds": 0.00001,
             "algbw_gb_per_s": 0.0008, "busbw_gb_per_s": 0.0004, "correct": false}
        ]),
    );
    let runs = [offline_point(1, 1000.0), two, offline_point(4, 3000.0)];
    let html = render_html(&runs, &ReportOptions::default());
    assert!(html.contains("<a href=\"#scaling\">Scaling</a>"));
    let start = html.find("id=\"scaling\"").expect("section");
    let section = &html[start..start + html[start..].find("</section>").expect("closed")];
    for text in [
        "1000.0",
        "1800.0",
        "3000.0", // measured
        "2000.0",
        "4000.0", // ideal
        "0.900",
        "0.750", // efficiency
        "1 GiB",
        "268.40 (268.40)",
        "WRONG RESULT",
        "all_gather size",
    ] {
        assert!(section.contains(text), "{text} missing in {section}");
    }
    let charts = fixtures::chart_specs(&html);
    let scaling: Vec<&Value> = charts.iter().filter(|c| c["kind"] == "scaling").collect();
    assert_eq!(scaling.len(), 1);
    let series = &scaling[0]["option"]["series"];
    assert_eq!(
        series[0]["data"],
        json!([[1, 1000.0], [2, 1800.0], [4, 3000.0]])
    );
    assert_eq!(
        series[1]["data"],
        json!([[1, 1000.0], [2, 2000.0], [4, 4000.0]])
    );
    assert_eq!(series[1]["lineStyle"]["type"], "dashed");
    let coll: Vec<&Value> = charts
        .iter()
        .filter(|c| c["kind"] == "collectives")
        .collect();
    assert_eq!(coll.len(), 1);
    assert_eq!(
        coll[0]["option"]["series"][0]["data"],
        json!([[1073741824u64, 268.4]])
    );
}

//! The server-metrics section: present only for runs that scraped their
//! server, a table of its gauges and counters, and a chart of the series.

mod fixtures;

use std::collections::BTreeMap;

use serde_json::Value;
use yardstick_record::{
    ServerCounter, ServerGauge, ServerMetrics, ServerMetricsSeries, ServerMetricsStatus,
};
use yardstick_report::{render_html, ReportOptions};

fn scraped() -> ServerMetrics {
    ServerMetrics {
        url: "http://127.0.0.1:8000/metrics".into(),
        status: ServerMetricsStatus::Scraped,
        skipped_reason: None,
        interval_seconds: 1.0,
        engines: vec!["vllm".into()],
        scrapes: 3,
        failed_scrapes: 1,
        first_error: Some("HTTP 503".into()),
        window_seconds: 2.0,
        gauges: vec![
            ServerGauge {
                name: "running_requests".into(),
                sources: vec!["vllm:num_requests_running".into()],
                unit: "requests".into(),
                samples: 3,
                min: 1.0,
                mean: 2.5,
                max: 4.0,
            },
            ServerGauge {
                name: "kv_cache_usage".into(),
                sources: vec!["vllm:kv_cache_usage_perc".into()],
                unit: "1".into(),
                samples: 3,
                min: 0.1,
                mean: 0.4,
                max: 0.8,
            },
        ],
        counters: vec![ServerCounter {
            name: "generation_tokens".into(),
            sources: vec!["vllm:generation_tokens_total".into()],
            unit: "tokens".into(),
            delta: 1000.0,
            per_second: 500.0,
        }],
        prefix_cache_hit_rate: Some(0.62),
        series: Some(ServerMetricsSeries {
            t_seconds: vec![0.0, 1.0, 2.0],
            values: BTreeMap::from([
                (
                    "running_requests".to_string(),
                    vec![Some(1.0), Some(4.0), Some(2.5)],
                ),
                (
                    "kv_cache_usage".to_string(),
                    vec![Some(0.1), None, Some(0.8)],
                ),
            ]),
        }),
        raw_file: None,
    }
}

#[test]
fn a_run_without_server_metrics_has_no_section() {
    let html = render_html(&[fixtures::server_run()], &ReportOptions::default());
    assert!(!html.contains("id=\"server-metrics\""));
    assert!(!html.contains("href=\"#server-metrics\""));
    assert!(fixtures::chart_specs(&html)
        .iter()
        .all(|c| c["kind"] != "server_metrics"));
}

#[test]
fn scraped_metrics_give_a_table_and_a_chart() {
    let mut run = fixtures::server_run();
    run.server_metrics = Some(scraped());
    let mut skipped_run = fixtures::server_run();
    skipped_run.server_metrics = Some(ServerMetrics {
        status: ServerMetricsStatus::Skipped,
        skipped_reason: Some("http://127.0.0.1:8000/metrics: HTTP 404".into()),
        scrapes: 0,
        failed_scrapes: 0,
        gauges: Vec::new(),
        counters: Vec::new(),
        prefix_cache_hit_rate: None,
        series: None,
        ..scraped()
    });
    let html = render_html(&[run, skipped_run], &ReportOptions::default());
    assert!(html.contains("<a href=\"#server-metrics\">Server</a>"));
    let start = html.find("id=\"server-metrics\"").expect("section");
    let section = &html[start..start + html[start..].find("</section>").expect("closed")];
    for text in [
        "3 scrapes every 1s, 1 failed",
        "skipped: http://127.0.0.1:8000/metrics: HTTP 404",
        "1 / 2.5 / 4",
        "10.0% / 40.0% / 80.0%",
        "62.0%",
        "1000 tokens (500 /s)",
    ] {
        assert!(section.contains(text), "{text} missing in {section}");
    }
    let chart: Vec<Value> = fixtures::chart_specs(&html)
        .into_iter()
        .filter(|c| c["kind"] == "server_metrics")
        .collect();
    assert_eq!(chart.len(), 1);
    let series = chart[0]["option"]["series"].as_array().expect("series");
    assert_eq!(series.len(), 2, "running and KV-cache of the scraped run");
    assert_eq!(
        series[0]["data"],
        serde_json::json!([[0.0, 1.0], [1.0, 4.0], [2.0, 2.5]])
    );
    // KV-cache in percent on the right axis; the scrape without it is left out.
    assert_eq!(series[1]["yAxisIndex"], 1);
    assert_eq!(
        series[1]["data"],
        serde_json::json!([[0.0, 10.0], [2.0, 80.0]])
    );
}

//! The rendered page: self-contained, every section present, the chart data
//! right (one CDF series per run, one Pareto point per load point), text
//! escaped.

mod fixtures;

use serde_json::Value;
use yardstick_report::{render_html, ReportOptions, ECHARTS_JS, ECHARTS_URL_STRINGS};

fn of_kind<'a>(charts: &'a [Value], kind: &str) -> Vec<&'a Value> {
    charts.iter().filter(|c| c["kind"] == kind).collect()
}

/// Every `http://` or `https://` in `html`, with 40 characters before it.
fn urls(html: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for scheme in ["http://", "https://"] {
        for (at, _) in html.match_indices(scheme) {
            let end = html[at..]
                .find(|c: char| c == '"' || c == '\'' || c == '<' || c.is_whitespace() || c == ')')
                .map_or(html.len(), |e| at + e);
            let before_start = html[..at]
                .char_indices()
                .rev()
                .nth(39)
                .map_or(0, |(i, _)| i);
            found.push((
                html[at..end].to_string(),
                html[before_start..at].to_string(),
            ));
        }
    }
    found
}

#[test]
fn single_run_page_has_every_section() {
    let run = fixtures::server_run();
    let html = render_html(
        std::slice::from_ref(&run),
        &ReportOptions {
            generated_at: Some("2026-12-06 04:00 UTC".to_string()),
            ..ReportOptions::default()
        },
    );
    assert!(html.starts_with("<!DOCTYPE html>"));
    for id in [
        "summary", "validity", "metrics", "latency", "rate", "settings", "system", "details",
    ] {
        assert!(
            html.contains(&format!("<section id=\"{id}\">")),
            "section {id}"
        );
    }
    // No sweep in a single run.
    assert!(!html.contains("<section id=\"sweep\">"));
    // The verdict, in colour, and every check with its reason.
    assert!(html.contains("<span class=\"badge valid\">VALID</span>"));
    for c in &run.validity.checks {
        assert!(
            html.contains(&format!("<code>{}</code>", c.name)),
            "{}",
            c.name
        );
        assert!(
            html.contains(&c.detail.replace('>', "&gt;").replace('<', "&lt;")),
            "{}",
            c.detail
        );
    }
    // Settings with provenance.
    assert!(html.contains("mlperf.conf:41 (resnet50.Server.target_latency)"));
    assert!(html.contains("user.conf:3 (*.Server.min_duration)"));
    assert!(html.contains("flag --target-qps"));
    // The system, flattened.
    assert!(html.contains("AMD EPYC 9454 48-Core Processor"));
    assert!(html.contains("<h4>gpus</h4>"));
    assert!(html.contains("<td><code>[0].name</code></td><td>NVIDIA H100 80GB HBM3"));
    // Percentiles in readable units; the primary metric on the card.
    assert!(html.contains("<td>p99.9</td>"));
    assert!(html.contains("1,999 samples/s"));
    assert!(html.contains("2026-12-06 04:00 UTC"));
    let charts = fixtures::chart_specs(&html);
    assert_eq!(of_kind(&charts, "cdf").len(), 1);
    assert_eq!(of_kind(&charts, "timeline").len(), 1);
    // Each chart has its element.
    for c in &charts {
        let id = c["id"].as_str().unwrap();
        assert!(
            html.contains(&format!("<div class=\"chart\" id=\"{id}\"")),
            "{id}"
        );
    }
    let timeline = of_kind(&charts, "timeline")[0];
    let series = timeline["option"]["series"].as_array().unwrap();
    assert_eq!(series.len(), 2, "completed and issued");
    // 20,000 queries at 2,000/s: the completed rate sits near 2,000/s in
    // the middle of the window.
    let data = series[0]["data"].as_array().unwrap();
    let middle = data[data.len() / 2][1].as_f64().unwrap();
    assert!((1500.0..2500.0).contains(&middle), "{middle}");
    let cdf = of_kind(&charts, "cdf")[0];
    assert_eq!(cdf["option"]["xAxis"]["name"], "Query latency (ms)");
    let points = cdf["option"]["series"][0]["data"].as_array().unwrap();
    assert!(points.len() > 50 && points.len() < 2000, "{}", points.len());
    assert_eq!(points.last().unwrap()[1].as_f64(), Some(100.0));
}

#[test]
fn nothing_is_fetched_and_the_library_is_inlined() {
    let mut runs = fixtures::sweep_runs();
    runs.push(fixtures::server_run());
    let html = render_html(&runs, &ReportOptions::default());
    assert!(html.contains(ECHARTS_JS), "ECharts inlined verbatim");
    // The inlined library cannot close its <script> element early.
    assert!(!ECHARTS_JS.to_ascii_lowercase().contains("</script"));
    // No remote reference anywhere, library included.
    let lower = html.to_ascii_lowercase();
    for reference in [
        "src=\"http",
        "href=\"http",
        "url(http",
        "src='http",
        "href='http",
    ] {
        assert!(!lower.contains(reference), "{reference}");
    }
    // The page itself (the library aside) loads nothing: no external
    // element of any kind.
    let outside_library = html.replace(ECHARTS_JS, "").to_ascii_lowercase();
    for element in [
        "<link",
        "<iframe",
        "<img",
        "@import",
        "<script src",
        "fetch(",
    ] {
        assert!(!outside_library.contains(element), "{element}");
    }
    // Every http(s) string is one of ECharts' SVG namespaces or licence
    // URLs, or a record's own text (the endpoint URL) shown in a cell.
    for (url, before) in urls(&html) {
        let known = ECHARTS_URL_STRINGS.contains(&url.as_str());
        let shown_text = url == "http://127.0.0.1:8000/v1" && before.ends_with("<td>");
        assert!(known || shown_text, "{url} after {before:?}");
    }
    // And every known one really comes from the library, not the page.
    for known in ECHARTS_URL_STRINGS {
        assert!(
            !outside_library.contains(&known.to_ascii_lowercase()),
            "{known}"
        );
    }
    assert!(html.contains("Content-Security-Policy"));
}

#[test]
fn sweep_has_one_pareto_point_per_concurrency() {
    let runs = fixtures::sweep_runs();
    let html = render_html(&runs, &ReportOptions::default());
    assert!(html.contains("<section id=\"sweep\">"));
    let charts = fixtures::chart_specs(&html);
    let pareto = of_kind(&charts, "pareto");
    assert_eq!(pareto.len(), 1);
    let series = pareto[0]["option"]["series"].as_array().unwrap();
    assert_eq!(series.len(), 1, "one sweep");
    let points = series[0]["data"].as_array().unwrap();
    let labels: Vec<&str> = points.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(labels, ["c1", "c4", "c16"]);
    // Throughput rises and the per-user rate falls with concurrency.
    let xy: Vec<(f64, f64)> = points
        .iter()
        .map(|p| {
            (
                p["value"][0].as_f64().unwrap(),
                p["value"][1].as_f64().unwrap(),
            )
        })
        .collect();
    assert!(xy[0].0 > xy[1].0 && xy[1].0 > xy[2].0, "{xy:?}");
    assert!(xy[0].1 < xy[1].1 && xy[1].1 < xy[2].1, "{xy:?}");
    // Per-user rate of a token run is 1 / median TPOT.
    let tpot_p50 = runs[0].latencies["tpot"].percentile(50.0).unwrap() as f64;
    assert!((xy[0].0 - 1e9 / tpot_p50).abs() / xy[0].0 < 1e-3);
    assert_eq!(
        pareto[0]["option"]["xAxis"]["name"],
        "per-user rate (tokens/s/user)"
    );
    assert_eq!(
        pareto[0]["option"]["yAxis"]["name"],
        "system throughput (tokens/s)"
    );
    // Token latencies: one CDF each, three runs overlaid.
    let cdfs = of_kind(&charts, "cdf");
    let titles: Vec<&str> = cdfs
        .iter()
        .map(|c| c["option"]["title"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Time to first token (TTFT): cumulative distribution",
            "Time per output token (TPOT): cumulative distribution",
            "Inter-token latency (ITL): cumulative distribution",
            "Gap between streamed chunks: cumulative distribution",
            "End-to-end request latency: cumulative distribution",
        ]
    );
    for c in &cdfs {
        let names: Vec<&str> = c["option"]["series"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["c1", "c4", "c16"]);
    }
    // Every run on one system: shown once.
    assert!(html.contains("Every run was on the same system."));
}

#[test]
fn several_runs_are_overlaid_and_text_is_escaped() {
    let runs = vec![fixtures::server_run(), fixtures::offline_invalid_run()];
    let html = render_html(&runs, &ReportOptions::default());
    let charts = fixtures::chart_specs(&html);
    let cdf = of_kind(&charts, "cdf")[0];
    let names: Vec<&str> = cdf["option"]["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["sleep Server", "sleep Offline"]);
    let timeline = of_kind(&charts, "timeline")[0];
    assert_eq!(timeline["option"]["series"].as_array().unwrap().len(), 4);
    assert!(html.contains("<span class=\"badge invalid\">INVALID</span>"));
    assert!(html.contains("2,072 ms &lt; 60,000 ms required"));
    assert!(html.contains("SUT printed &lt;warning&gt; &amp; continued"));
    assert!(!html.contains("<warning>"));
    // Metrics side by side, a dash where a run lacks one.
    assert!(html.contains("<code>latency.p50</code>"));
    assert!(html.contains("<td>—</td>"));
}

#[test]
fn chart_data_cannot_break_out_of_its_script() {
    let mut run = fixtures::server_run();
    run.group = Some(yardstick_record::GroupRef {
        id: "g".to_string(),
        kind: yardstick_record::GroupKind::Repeat,
        index: 0,
        size: None,
        label: "</script><script>alert(1)</script>".to_string(),
    });
    let html = render_html(std::slice::from_ref(&run), &ReportOptions::default());
    assert!(!html.contains("<script>alert(1)"));
    let charts = fixtures::chart_specs(&html);
    assert_eq!(
        charts[0]["option"]["series"][0]["name"],
        "</script><script>alert(1)</script>"
    );
}

#[test]
fn rendering_is_pure() {
    let runs = fixtures::sweep_runs();
    let options = ReportOptions::default();
    assert_eq!(render_html(&runs, &options), render_html(&runs, &options));
    let empty = render_html(&[], &options);
    assert!(empty.contains("No runs were given."));
}

#[test]
fn many_runs_fold_passing_checks_and_keep_failures_open() {
    let mut runs = fixtures::sweep_runs();
    runs.push(fixtures::offline_invalid_run());
    let html = render_html(&runs, &ReportOptions::default());
    let validity = &html[html.find("<section id=\"validity\">").unwrap()..];
    let validity = &validity[..validity.find("</section>").unwrap()];
    // Three sweep points passed: folded; the invalid run: open.
    assert_eq!(validity.matches("<details class=\"plain\">").count(), 3);
    assert_eq!(
        validity.matches("<details class=\"plain\" open>").count(),
        1
    );
    assert!(validity.contains("1 of 2 checks failed"));
    // Folded, every reason is still in the page.
    assert_eq!(validity.matches("0 of 400 requests failed").count(), 3);
    // Up to three runs, everything is open.
    let few = render_html(&runs[..3], &ReportOptions::default());
    assert_eq!(few.matches("<details class=\"plain\" open>").count(), 3);
}

//! yardstick-report: the HTML report of one or more runs.
//!
//! [`render_html`] is a pure function from run records to one
//! self-contained HTML document: the styles, the chart data and the
//! charting library (Apache ECharts, `assets/echarts.min.js`, inlined in a
//! `<script>`) are all in the file, so it opens offline and nothing is
//! fetched. The page shows the summary and every validity check with its
//! reason, the latency percentiles and CDFs (TTFT, TPOT and inter-token
//! latency for token runs), the issued and completed rate over time, the
//! Pareto curve of a sweep, the settings with their provenance and the
//! system description. Several runs are overlaid: one series per run, in
//! the run's colour.
//!
//! The chart options are also embedded as JSON (`<script
//! type="application/json" id="yardstick-charts">`) and the page writes how
//! many charts it drew into `#render-status`, so a test can check both
//! without a JavaScript engine of its own.
//!
//! About `http://` in the file: the inlined ECharts holds six such
//! strings, none a resource reference: the XML namespaces it needs to build
//! SVG (`http://www.w3.org/2000/svg`, `.../1999/xlink`, `.../2000/xmlns/`,
//! `.../XML/1998/namespace`) and two licence URLs in comments. The page
//! itself references nothing outside the file ([`ECHARTS_URL_STRINGS`]
//! lists the six, and the tests check that nothing else appears).

mod charts;
mod html;
mod power;
mod scaling;
mod server;
mod training;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use yardstick_record::{LatencyDistribution, RunRecord, RunStatus, Verdict};

pub use charts::{pareto_curves, ParetoCurve, ParetoPoint, PALETTE};
use charts::{run_colour, ChartSpec};
use html::{escape, format_duration, format_metric, table};

/// Apache ECharts 5.6.0, `dist/echarts.min.js` of the npm package `echarts`
/// (see assets/README.md).
pub const ECHARTS_JS: &str = include_str!("../assets/echarts.min.js");
pub const ECHARTS_VERSION: &str = "5.6.0";

/// The only `http(s)://` strings in a rendered report, all inside the
/// inlined ECharts and none a resource reference: XML namespaces for SVG
/// and licence URLs in comments.
pub const ECHARTS_URL_STRINGS: [&str; 6] = [
    "http://www.apache.org/licenses/LICENSE-2.0",
    "http://www.w3.org/1999/xlink",
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/2000/xmlns/",
    "http://www.w3.org/XML/1998/namespace",
    "https://github.com/ecomfe/zrender/blob/master/LICENSE.txt",
];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportOptions {
    /// The page title; by default from the runs.
    pub title: Option<String>,
    /// Shown in the header (`2026-12-06 03:27 UTC`); the caller passes it
    /// so that rendering stays a pure function of its inputs.
    pub generated_at: Option<String>,
}

/// Latency distributions in the order the page shows them, with their
/// titles; others follow in name order.
const KNOWN_DISTRIBUTIONS: [(&str, &str); 13] = [
    ("query", "Query latency"),
    ("sample", "Sample latency"),
    ("ttft", "Time to first token (TTFT)"),
    (
        "ttft_content",
        "First content token (TTFT, reasoning excluded)",
    ),
    ("ttft_prefix_hit", "TTFT of prefix-cache hits"),
    ("ttft_prefix_miss", "TTFT of prefix-cache misses"),
    ("tpot", "Time per output token (TPOT)"),
    ("itl", "Inter-token latency (ITL)"),
    ("itl_token", "Inter-token latency per token"),
    ("chunk_gap", "Gap between streamed chunks"),
    ("e2e", "End-to-end request latency"),
    ("session", "Session duration (multi-turn)"),
    ("latency", "Latency"),
];

/// One self-contained HTML document describing `runs`.
pub fn render_html(runs: &[RunRecord], options: &ReportOptions) -> String {
    let labels = run_labels(runs);
    let indexed: Vec<(usize, &str, &RunRecord)> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| (i, labels[i].as_str(), r))
        .collect();
    let title = options.title.clone().unwrap_or_else(|| default_title(runs));
    let mut charts: Vec<ChartSpec> = Vec::new();

    let mut body = String::new();
    let _ = write!(
        body,
        "<header><h1>{}</h1><p class=\"sub\">{} · yardstick {}{}</p></header>",
        escape(&title),
        if runs.len() == 1 {
            "1 run".to_string()
        } else {
            format!("{} runs", runs.len())
        },
        escape(runs.first().map_or("", |r| r.tool.version.as_str())),
        options
            .generated_at
            .as_ref()
            .map(|g| format!(" · generated {}", escape(g)))
            .unwrap_or_default(),
    );
    let refs: Vec<&RunRecord> = runs.iter().collect();
    let curves = pareto_curves(&refs);
    body.push_str("<nav>");
    for (anchor, name) in [
        ("summary", "Summary"),
        ("validity", "Validity"),
        ("metrics", "Metrics"),
        ("latency", "Latency"),
        ("rate", "Rate"),
        ("power", "Power"),
        ("server-metrics", "Server"),
        ("training", "Training"),
        ("scaling", "Scaling"),
        ("sweep", "Sweep"),
        ("settings", "Settings"),
        ("system", "System"),
        ("details", "Details"),
    ] {
        if anchor == "sweep" && curves.is_empty() {
            continue;
        }
        if anchor == "server-metrics" && runs.iter().all(|r| r.server_metrics.is_none()) {
            continue;
        }
        if anchor == "power" && runs.iter().all(|r| r.power.is_none()) {
            continue;
        }
        if anchor == "training" && !training::any(runs) {
            continue;
        }
        if anchor == "scaling" && !scaling::any(runs) {
            continue;
        }
        let _ = write!(body, "<a href=\"#{anchor}\">{name}</a>");
    }
    body.push_str("</nav>");
    if runs.is_empty() {
        body.push_str("<section><p>No runs were given.</p></section>");
    }

    // Summary cards.
    body.push_str("<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">");
    for (i, label, r) in &indexed {
        summary_card(&mut body, *i, label, r);
    }
    body.push_str("</div></section>");

    // Validity checks.
    body.push_str("<section id=\"validity\"><h2>Validity</h2>");
    // With many runs, those whose checks all passed fold away; a failure
    // stays open.
    let fold_passing = indexed.len() > 3;
    for (i, label, r) in &indexed {
        let all_passed = r.validity.checks.iter().all(|c| c.passed);
        let _ = write!(
            body,
            "<details class=\"plain\"{}><summary><h3><span class=\"swatch\" \
             style=\"background:{}\"></span>{} {} <span class=\"muted small\">{}</span></h3></summary>",
            if fold_passing && all_passed { "" } else { " open" },
            run_colour(*i),
            escape(label),
            verdict_badge(r.validity.verdict),
            check_counts(r)
        );
        if r.validity.checks.is_empty() {
            body.push_str("<p class=\"muted\">No validity checks recorded.</p></details>");
            continue;
        }
        let rows: Vec<Vec<String>> = r
            .validity
            .checks
            .iter()
            .map(|c| {
                vec![
                    if c.passed {
                        "<span class=\"pass\">✔ pass</span>".to_string()
                    } else {
                        "<span class=\"fail\">✘ fail</span>".to_string()
                    },
                    format!("<code>{}</code>", escape(&c.name)),
                    escape(&c.detail),
                ]
            })
            .collect();
        body.push_str(&table(&["", "check", "why"], &rows, "checks"));
        body.push_str("</details>");
    }
    body.push_str("</section>");

    // Metrics, one column per run.
    metrics_section(&mut body, &indexed);

    // Latency: percentiles and CDF per distribution.
    body.push_str("<section id=\"latency\"><h2>Latency</h2>");
    let names = distribution_names(runs);
    if names.is_empty() {
        body.push_str("<p class=\"muted\">No latency distributions recorded.</p>");
    }
    for (name, title) in &names {
        let _ = write!(body, "<h3>{}</h3><div class=\"pair\">", escape(title));
        percentile_table(&mut body, name, &indexed);
        let id = format!("chart-{}", charts.len());
        if let Some(chart) = charts::cdf_chart(id, name, title, &indexed) {
            chart_div(&mut body, &chart, "chart");
            charts.push(chart);
        }
        body.push_str("</div>");
    }
    body.push_str("</section>");

    // Rate over time.
    body.push_str("<section id=\"rate\"><h2>Issued and completed rate</h2>");
    match charts::timeline_chart(format!("chart-{}", charts.len()), &indexed) {
        Some(chart) => {
            chart_div(&mut body, &chart, "chart");
            body.push_str(
                "<p class=\"muted\">Completed per second (solid) and issued per second \
                 (dashed), per time bucket of the measured window.</p>",
            );
            charts.push(chart);
        }
        None => body.push_str("<p class=\"muted\">No rate timeline recorded.</p>"),
    }
    body.push_str("</section>");

    // Power and energy, where measured: under the rate chart.
    power::section(&mut body, &mut charts, &indexed);

    // The server's own metrics, where they were scraped.
    server::section(&mut body, &mut charts, &indexed);

    // Training runs: accuracy over time against the target, the set's score.
    training::section(&mut body, &mut charts, &indexed);

    // Multi-GPU scaling: throughput against GPUs, efficiency, collectives.
    scaling::section(&mut body, &mut charts, &indexed);

    // Sweep Pareto curves.
    if !curves.is_empty() {
        body.push_str("<section id=\"sweep\"><h2>Sweep</h2>");
        if let Some(chart) = charts::pareto_chart(format!("chart-{}", charts.len()), &curves) {
            chart_div(&mut body, &chart, "chart tall");
            charts.push(chart);
        }
        for c in &curves {
            let rows: Vec<Vec<String>> = c
                .points
                .iter()
                .map(|p| {
                    vec![
                        escape(&p.label),
                        escape(&format_metric(p.per_user, &c.per_user_unit)),
                        escape(&format_metric(p.system, &c.throughput_unit)),
                    ]
                })
                .collect();
            let _ = write!(body, "<h3>Sweep <code>{}</code></h3>", escape(&c.group_id));
            body.push_str(&table(
                &["load point", "per-user rate", "system throughput"],
                &rows,
                "",
            ));
            for s in &c.skipped {
                let _ = write!(body, "<p class=\"muted\">Not plotted: {}</p>", escape(s));
            }
        }
        body.push_str("</section>");
    }

    settings_section(&mut body, &indexed);
    system_section(&mut body, &indexed);
    details_section(&mut body, &indexed);

    let _ = write!(
        body,
        "<footer>Charts: Apache ECharts {ECHARTS_VERSION} (Apache-2.0), inlined. \
         <span id=\"render-status\" data-charts-expected=\"{}\">charts not drawn \
         (JavaScript is off)</span></footer>",
        charts.len()
    );
    page(&title, &body, &charts)
}

fn default_title(runs: &[RunRecord]) -> String {
    match runs {
        [] => "yardstick report".to_string(),
        [r] => format!(
            "{}{} — {}",
            r.workload.name,
            r.workload
                .scenario
                .as_ref()
                .map(|s| format!(" {s}"))
                .unwrap_or_default(),
            r.id
        ),
        _ => {
            let mut names: Vec<&str> = runs.iter().map(|r| r.workload.name.as_str()).collect();
            names.dedup();
            format!("{} — {} runs", names.join(", "), runs.len())
        }
    }
}

/// A short, unique label per run: its group label (`c4`, `repeat 2`), else
/// the workload and scenario, made unique with the run's position.
fn run_labels(runs: &[RunRecord]) -> Vec<String> {
    let base: Vec<String> = runs
        .iter()
        .map(|r| match &r.group {
            Some(g) if !g.label.is_empty() => g.label.clone(),
            _ => match &r.workload.scenario {
                Some(s) => format!("{} {s}", r.workload.name),
                None => r.workload.name.clone(),
            },
        })
        .collect();
    base.iter()
        .enumerate()
        .map(|(i, b)| {
            if base.iter().filter(|o| *o == b).count() > 1 {
                format!("{b} #{}", i + 1)
            } else {
                b.clone()
            }
        })
        .collect()
}

fn verdict_badge(verdict: Verdict) -> String {
    let class = match verdict {
        Verdict::Valid => "valid",
        Verdict::Invalid => "invalid",
        Verdict::NotApplicable => "na",
    };
    format!("<span class=\"badge {class}\">{}</span>", verdict.as_str())
}

fn summary_card(body: &mut String, index: usize, label: &str, r: &RunRecord) {
    let _ = write!(
        body,
        "<div class=\"card\" style=\"border-top-color:{}\"><div class=\"card-head\">\
         <span class=\"card-label\">{}</span>{}</div>",
        run_colour(index),
        escape(label),
        verdict_badge(r.validity.verdict)
    );
    if let Some(m) = r.primary_metric() {
        let _ = write!(
            body,
            "<div class=\"primary\">{}</div><div class=\"primary-name\">{}</div>",
            escape(&format_metric(m.value, &m.unit)),
            escape(&m.name)
        );
    }
    let mut facts: Vec<(&str, String)> = vec![("run", format!("<code>{}</code>", escape(&r.id)))];
    let mut what = r.workload.name.clone();
    for part in [&r.workload.scenario, &r.workload.mode]
        .into_iter()
        .flatten()
    {
        what.push_str(" · ");
        what.push_str(part);
    }
    facts.push(("workload", escape(&what)));
    facts.push((
        "SUT",
        escape(&format!(
            "{} ({})",
            r.workload.sut.name, r.workload.sut.kind
        )),
    ));
    if let Some(load) = &r.load {
        facts.push(("load", escape(&load.label)));
    }
    if let Some(g) = &r.group {
        facts.push((
            "group",
            format!(
                "<code>{}</code> {:?} {}{}",
                escape(&g.id),
                g.kind,
                g.index + 1,
                g.size.map(|s| format!(" of {s}")).unwrap_or_default()
            ),
        ));
    }
    let status = match r.status {
        RunStatus::Completed => r.status.as_str().to_string(),
        other => format!("<span class=\"fail\">{}</span>", other.as_str()),
    };
    facts.push(("status", status));
    let mut started = r.started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    if let Some(end) = r.ended_at {
        let seconds = (end - r.started_at).num_milliseconds() as f64 / 1000.0;
        started.push_str(&format!(" · {}", format_duration(seconds)));
    }
    facts.push(("started", escape(&started)));
    if let Some(a) = &r.accuracy {
        let verdict = match a.passed {
            Some(true) => " <span class=\"pass\">✔</span>",
            Some(false) => " <span class=\"fail\">✘</span>",
            None => "",
        };
        facts.push((
            "accuracy",
            format!(
                "{} = {}{}{}",
                escape(&a.metric),
                a.value,
                a.target
                    .map(|t| format!(" (target {t})"))
                    .unwrap_or_default(),
                verdict
            ),
        ));
    }
    let failed = r.validity.checks.iter().filter(|c| !c.passed).count();
    facts.push((
        "checks",
        if failed == 0 {
            format!("{} passed", r.validity.checks.len())
        } else {
            format!(
                "<span class=\"fail\">{failed} of {} failed</span>",
                r.validity.checks.len()
            )
        },
    ));
    body.push_str("<dl>");
    for (k, v) in facts {
        let _ = write!(body, "<dt>{k}</dt><dd>{v}</dd>");
    }
    body.push_str("</dl>");
    if let Some(i) = &r.interruption {
        let _ = write!(body, "<p class=\"warn\">{}</p>", escape(&i.reason));
    }
    body.push_str("</div>");
}

/// `5 checks passed`, `1 of 2 checks failed`.
fn check_counts(r: &RunRecord) -> String {
    let total = r.validity.checks.len();
    let failed = r.validity.checks.iter().filter(|c| !c.passed).count();
    match (total, failed) {
        (0, _) => String::new(),
        (t, 0) => format!("{t} check{} passed", if t == 1 { "" } else { "s" }),
        (t, f) => format!("{f} of {t} checks failed"),
    }
}

fn run_header_cells(runs: &[(usize, &str, &RunRecord)]) -> Vec<String> {
    runs.iter()
        .map(|(i, label, _)| {
            format!(
                "<span class=\"swatch\" style=\"background:{}\"></span>{}",
                run_colour(*i),
                escape(label)
            )
        })
        .collect()
}

fn metrics_section(body: &mut String, runs: &[(usize, &str, &RunRecord)]) {
    body.push_str("<section id=\"metrics\"><h2>Metrics</h2>");
    let mut names: Vec<(&str, &str)> = Vec::new();
    for (_, _, r) in runs {
        for m in &r.metrics {
            if !names.iter().any(|(n, _)| *n == m.name) {
                let better = match m.better {
                    yardstick_record::Better::Higher => "higher is better",
                    yardstick_record::Better::Lower => "lower is better",
                    yardstick_record::Better::Neither => "",
                };
                names.push((m.name.as_str(), better));
            }
        }
    }
    if names.is_empty() {
        body.push_str("<p class=\"muted\">No metrics recorded.</p></section>");
        return;
    }
    let rows: Vec<Vec<String>> = names
        .iter()
        .map(|(name, better)| {
            let mut row = vec![format!(
                "<code>{}</code> <span class=\"muted small\">{}</span>",
                escape(name),
                better
            )];
            for (_, _, r) in runs {
                row.push(
                    r.metric(name)
                        .map(|m| escape(&format_metric(m.value, &m.unit)))
                        .unwrap_or_else(|| "—".to_string()),
                );
            }
            row
        })
        .collect();
    let mut header = vec!["metric".to_string()];
    header.extend(run_header_cells(runs));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    body.push_str(&table(&header, &rows, "numeric"));
    body.push_str("</section>");
}

fn distribution_names(runs: &[RunRecord]) -> Vec<(String, String)> {
    let mut present: Vec<&str> = Vec::new();
    for r in runs {
        for (name, d) in &r.latencies {
            if d.count > 0 && !present.contains(&name.as_str()) {
                present.push(name);
            }
        }
    }
    let mut out: Vec<(String, String)> = KNOWN_DISTRIBUTIONS
        .iter()
        .filter(|(n, _)| present.contains(n))
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    let mut others: Vec<&str> = present
        .into_iter()
        .filter(|p| !KNOWN_DISTRIBUTIONS.iter().any(|(n, _)| n == p))
        .collect();
    others.sort_unstable();
    out.extend(
        others
            .into_iter()
            .map(|n| (n.to_string(), format!("Latency: {n}"))),
    );
    out
}

fn percentile_table(body: &mut String, name: &str, runs: &[(usize, &str, &RunRecord)]) {
    let with: Vec<(usize, &str, &RunRecord)> = runs
        .iter()
        .filter(|(_, _, r)| r.latencies.contains_key(name))
        .copied()
        .collect();
    let mut percents: Vec<f64> = Vec::new();
    for (_, _, r) in &with {
        for p in &r.latencies[name].percentiles {
            if !percents.iter().any(|q| (q - p.percent).abs() < 1e-9) {
                percents.push(p.percent);
            }
        }
    }
    percents.sort_by(f64::total_cmp);
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut add_row = |label: String, cell: &dyn Fn(&LatencyDistribution) -> Option<String>| {
        let mut row = vec![label];
        for (_, _, r) in &with {
            row.push(cell(&r.latencies[name]).unwrap_or_else(|| "—".to_string()));
        }
        rows.push(row);
    };
    let time = |d: &LatencyDistribution, v: f64| escape(&format_metric(v, &d.unit));
    add_row("count".to_string(), &|d| {
        Some(html::group_thousands(d.count))
    });
    add_row("min".to_string(), &|d| Some(time(d, d.min as f64)));
    add_row("mean".to_string(), &|d| Some(time(d, d.mean)));
    for p in &percents {
        let p = *p;
        add_row(format!("p{}", html::trim_float(p)), &move |d| {
            d.percentile(p).map(|v| time(d, v as f64))
        });
    }
    add_row("max".to_string(), &|d| Some(time(d, d.max as f64)));
    let mut header = vec!["statistic".to_string()];
    header.extend(run_header_cells(&with));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    body.push_str(&table(&header, &rows, "numeric compact"));
}

/// The runs a section is about (those `keep` selects), in page order.
fn runs_where<'a>(
    runs: &[(usize, &'a str, &'a RunRecord)],
    keep: impl Fn(&RunRecord) -> bool,
) -> Vec<(usize, &'a str, &'a RunRecord)> {
    runs.iter().filter(|(_, _, r)| keep(r)).copied().collect()
}

fn chart_div(body: &mut String, chart: &ChartSpec, class: &str) {
    let _ = write!(
        body,
        "<div class=\"{class}\" id=\"{}\" data-kind=\"{}\"></div>",
        chart.id, chart.kind
    );
}

fn settings_section(body: &mut String, runs: &[(usize, &str, &RunRecord)]) {
    body.push_str("<section id=\"settings\"><h2>Settings</h2>");
    for (n, (i, label, r)) in runs.iter().enumerate() {
        let _ = write!(
            body,
            "<details{}><summary><span class=\"swatch\" style=\"background:{}\"></span>{} \
             <span class=\"muted\">({} settings)</span></summary>",
            if n == 0 { " open" } else { "" },
            run_colour(*i),
            escape(label),
            r.settings.len()
        );
        if r.settings.is_empty() {
            body.push_str("<p class=\"muted\">No settings recorded.</p>");
        } else {
            let rows: Vec<Vec<String>> = r
                .settings
                .iter()
                .map(|s| {
                    vec![
                        format!("<code>{}</code>", escape(&s.key)),
                        escape(&s.value),
                        escape(&s.source.describe()),
                    ]
                })
                .collect();
            body.push_str(&table(&["setting", "value", "from"], &rows, ""));
        }
        if !r.workload.sut.params.is_empty() {
            let rows: Vec<Vec<String>> = r
                .workload
                .sut
                .params
                .iter()
                .map(|(k, v)| vec![format!("<code>{}</code>", escape(k)), escape(v)])
                .collect();
            body.push_str("<h4>SUT parameters</h4>");
            body.push_str(&table(&["parameter", "value"], &rows, ""));
        }
        body.push_str("</details>");
    }
    body.push_str("</section>");
}

fn system_section(body: &mut String, runs: &[(usize, &str, &RunRecord)]) {
    body.push_str("<section id=\"system\"><h2>System</h2>");
    let systems: Vec<(usize, &str, &serde_json::Value)> = runs
        .iter()
        .filter_map(|(i, l, r)| r.system.as_ref().map(|s| (*i, *l, s)))
        .collect();
    if systems.is_empty() {
        body.push_str("<p class=\"muted\">No system description recorded.</p></section>");
        return;
    }
    let all_same =
        systems.len() == runs.len() && systems.iter().all(|(_, _, s)| *s == systems[0].2);
    let shown: Vec<(usize, &str, &serde_json::Value)> =
        if all_same { vec![systems[0]] } else { systems };
    if all_same && runs.len() > 1 {
        body.push_str("<p class=\"muted\">Every run was on the same system.</p>");
    }
    for (n, (i, label, system)) in shown.iter().enumerate() {
        let mut flat: BTreeMap<String, String> = BTreeMap::new();
        html::flatten_json("", system, &mut flat);
        let _ = write!(
            body,
            "<details{}><summary><span class=\"swatch\" style=\"background:{}\"></span>{}</summary>",
            if n == 0 { " open" } else { "" },
            run_colour(*i),
            if all_same && runs.len() > 1 {
                "all runs".to_string()
            } else {
                escape(label)
            }
        );
        // One small table per top-level part (cpu, memory, gpus, ...),
        // side by side: a long single table is hard to scan.
        let mut parts: BTreeMap<&str, Vec<Vec<String>>> = BTreeMap::new();
        for (key, value) in &flat {
            let (part, rest) = match key.split_once(['.', '[']) {
                Some((part, _)) => (part, key[part.len()..].trim_start_matches('.')),
                None => ("general", key.as_str()),
            };
            parts.entry(part).or_default().push(vec![
                format!("<code>{}</code>", escape(rest)),
                escape(&html::with_bytes(rest, value)),
            ]);
        }
        body.push_str("<div class=\"parts\">");
        for (part, rows) in &parts {
            let _ = write!(body, "<div class=\"part\"><h4>{}</h4>", escape(part));
            body.push_str(&table(&[], rows, "fields"));
            body.push_str("</div>");
        }
        body.push_str("</div></details>");
    }
    body.push_str("</section>");
}

fn details_section(body: &mut String, runs: &[(usize, &str, &RunRecord)]) {
    body.push_str("<section id=\"details\"><h2>Run details</h2>");
    for (i, label, r) in runs {
        let _ = write!(
            body,
            "<details><summary><span class=\"swatch\" style=\"background:{}\"></span>{}</summary>",
            run_colour(*i),
            escape(label)
        );
        let mut rows: Vec<Vec<String>> = vec![
            vec!["run id".into(), format!("<code>{}</code>", escape(&r.id))],
            vec![
                "kind".into(),
                escape(&format!("{:?}", r.kind).to_lowercase()),
            ],
            vec![
                "tool".into(),
                escape(&format!(
                    "{} {}{}",
                    r.tool.name,
                    r.tool.version,
                    r.tool
                        .git_commit
                        .as_ref()
                        .map(|c| format!(" ({c})"))
                        .unwrap_or_default()
                )),
            ],
        ];
        if !r.command_line.is_empty() {
            rows.push(vec![
                "command".into(),
                format!("<code>{}</code>", escape(&r.command_line.join(" "))),
            ]);
        }
        if !r.tags.is_empty() {
            rows.push(vec!["tags".into(), escape(&r.tags.join(", "))]);
        }
        for f in &r.files {
            rows.push(vec![
                format!("file: {}", escape(&f.role)),
                format!("<code>{}</code>", escape(&f.path.display().to_string())),
            ]);
        }
        for note in &r.notes {
            rows.push(vec!["note".into(), escape(note)]);
        }
        for (k, v) in &r.extra {
            rows.push(vec![
                format!("<code>{}</code>", escape(k)),
                escape(&v.to_string()),
            ]);
        }
        body.push_str(&table(&["", ""], &rows, "kv"));
        body.push_str("</details>");
    }
    body.push_str("</section>");
}

/// JSON made safe inside a `<script>` element: `<`, `>` and `&` only
/// occur in JSON strings, where their `\u` escapes mean the same.
fn script_safe_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|_| "[]".to_string())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

const STYLE: &str = include_str!("report.css");
const BOOT_JS: &str = include_str!("boot.js");

fn page(title: &str, body: &str, charts: &[ChartSpec]) -> String {
    let mut out = String::with_capacity(ECHARTS_JS.len() + body.len() + 64 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    // Errors anywhere on the page, the library's included, are collected
    // from the start so that #render-status can report them.
    out.push_str(
        "<script>window.yardstickErrors=[];window.addEventListener(\"error\",\
         function(e){window.yardstickErrors.push(String(e.message));});</script>",
    );
    // Nothing may be fetched: a content security policy that forbids every
    // remote source makes the browser refuse (and report) any attempt.
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">",
    );
    let _ = write!(
        out,
        "<title>{}</title><style>{STYLE}</style></head><body><main>",
        escape(title)
    );
    out.push_str(body);
    out.push_str("</main><script type=\"application/json\" id=\"yardstick-charts\">");
    out.push_str(&script_safe_json(&charts));
    out.push_str("</script>\n<script>");
    // The library is inlined verbatim; "</script" cannot occur in it (the
    // tests check), so it cannot end the element early.
    out.push_str(ECHARTS_JS);
    out.push_str("</script>\n<script>");
    out.push_str(BOOT_JS);
    out.push_str("</script></body></html>\n");
    out
}

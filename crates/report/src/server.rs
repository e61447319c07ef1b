//! The server's own metrics (its Prometheus `/metrics`, scraped during
//! the run): a table per run column and a chart over time.

use std::fmt::Write as _;

use yardstick_record::{RunRecord, ServerMetrics, ServerMetricsStatus};

use crate::charts::{self, ChartSpec};
use crate::html::{escape, table, trim_float};
use crate::{chart_div, run_header_cells};

/// Gauges in the order the table shows them, with their row titles.
const GAUGES: [(&str, &str); 4] = [
    ("running_requests", "requests running"),
    ("waiting_requests", "requests waiting"),
    ("kv_cache_usage", "KV-cache use"),
    ("prefix_cache_hit_rate", "prefix-cache hit rate (gauge)"),
];

fn value(v: f64, unit: &str) -> String {
    if unit == "1" {
        format!("{:.1}%", v * 100.0)
    } else {
        trim_float((v * 100.0).round() / 100.0)
    }
}

fn status(m: &ServerMetrics) -> String {
    match m.status {
        ServerMetricsStatus::Scraped => {
            let mut s = format!(
                "{} scrape{} every {}s",
                m.scrapes,
                if m.scrapes == 1 { "" } else { "s" },
                trim_float(m.interval_seconds)
            );
            if m.failed_scrapes > 0 {
                let _ = write!(s, ", {} failed", m.failed_scrapes);
            }
            s
        }
        ServerMetricsStatus::Skipped => format!(
            "skipped: {}",
            m.skipped_reason.as_deref().unwrap_or("no answer")
        ),
    }
}

/// The section, when any run scraped (or tried to scrape) its server.
pub fn section(
    body: &mut String,
    charts_out: &mut Vec<ChartSpec>,
    runs: &[(usize, &str, &RunRecord)],
) {
    let with = crate::runs_where(runs, |r| r.server_metrics.is_some());
    if with.is_empty() {
        return;
    }
    body.push_str("<section id=\"server-metrics\"><h2>Server metrics</h2>");
    body.push_str(
        "<p class=\"muted\">What the server said about itself (its Prometheus \
         <code>/metrics</code>, scraped during the run), beside the client's own numbers. \
         Gauges: min / mean / max over the scrapes; counters: increase over the run and \
         its rate.</p>",
    );
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut row = |title: String, cell: &dyn Fn(&ServerMetrics) -> Option<String>| {
        let mut cells = vec![title];
        let mut any = false;
        for (_, _, r) in &with {
            let c = r.server_metrics.as_ref().and_then(cell);
            any |= c.is_some();
            cells.push(c.map_or_else(|| "—".to_string(), |c| escape(&c)));
        }
        if any {
            rows.push(cells);
        }
    };
    row("scraped".into(), &|m| Some(status(m)));
    row("URL".into(), &|m| Some(m.url.clone()));
    row("engine".into(), &|m| {
        (!m.engines.is_empty()).then(|| m.engines.join(", "))
    });
    for (name, title) in GAUGES {
        row(title.into(), &|m| {
            m.gauge(name).map(|g| {
                format!(
                    "{} / {} / {}",
                    value(g.min, &g.unit),
                    value(g.mean, &g.unit),
                    value(g.max, &g.unit)
                )
            })
        });
    }
    row("prefix-cache hit rate".into(), &|m| {
        m.prefix_cache_hit_rate
            .map(|r| format!("{:.1}%", r * 100.0))
    });
    let mut counter_names: Vec<(String, String)> = Vec::new();
    for (_, _, r) in &with {
        for c in r.server_metrics.iter().flat_map(|m| &m.counters) {
            if !counter_names.iter().any(|(n, _)| *n == c.name) {
                counter_names.push((c.name.clone(), c.unit.clone()));
            }
        }
    }
    for (name, unit) in &counter_names {
        row(name.replace('_', " "), &|m| {
            m.counter(name).map(|c| {
                format!(
                    "{} {unit} ({} /s)",
                    trim_float(c.delta.round()),
                    trim_float((c.per_second * 10.0).round() / 10.0)
                )
            })
        });
    }
    let mut header = vec!["server metric".to_string()];
    header.extend(run_header_cells(&with));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    body.push_str(&table(&header, &rows, "numeric"));
    if let Some(chart) = charts::server_metrics_chart(format!("chart-{}", charts_out.len()), &with)
    {
        chart_div(body, &chart, "chart");
        body.push_str(
            "<p class=\"muted\">Requests running (solid) and waiting (dashed), KV-cache use \
             (dotted, right axis), per scrape.</p>",
        );
        charts_out.push(chart);
    }
    body.push_str("</section>");
}

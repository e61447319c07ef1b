//! Power and energy over the run's measured window: the figures per run
//! column and power over time, under the rate chart.

use serde_json::{json, Value};
use yardstick_record::{PowerRecord, RunRecord};

use crate::charts::{self, run_colour, ChartSpec};
use crate::html::{escape, table};
use crate::{chart_div, run_header_cells};

/// The section, when any run measured (or tried to measure) its power.
pub fn section(
    body: &mut String,
    charts_out: &mut Vec<ChartSpec>,
    runs: &[(usize, &str, &RunRecord)],
) {
    let with = crate::runs_where(runs, |r| r.power.is_some());
    if with.is_empty() {
        return;
    }
    body.push_str("<section id=\"power\"><h2>Power and energy</h2>");
    body.push_str(
        "<p class=\"muted\">Over the measured window (power_begin to power_end), as \
         MLPerf's power checker computes it: the mean of the samples inside the window, \
         times its length; beside it the hardware's own energy counter over the same \
         window, where the source has one.</p>",
    );
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut row = |title: &str, cell: &dyn Fn(&PowerRecord) -> Option<String>| {
        let mut cells = vec![title.to_string()];
        let mut any = false;
        for (_, _, r) in &with {
            let c = r.power.as_ref().and_then(cell);
            any |= c.is_some();
            cells.push(c.map_or_else(|| "—".to_string(), |c| escape(&c)));
        }
        if any {
            rows.push(cells);
        }
    };
    row("source", &|p| Some(p.source.clone()));
    row("not measured", &|p| p.error.clone());
    row("window", &|p| p.window_seconds.map(|s| format!("{s:.3} s")));
    row("samples in window", &|p| {
        // The rate the samples actually came at (a PTDaemon or director
        // samples at its own rate), and the set one where yardstick set it.
        p.window_seconds.filter(|w| *w > 0.0).map(|w| {
            let observed = p.samples_in_window as f64 / w;
            let set = p
                .sample_hz
                .map(|h| format!(", set {h} Hz"))
                .unwrap_or_default();
            format!("{} ({observed:.1} per s{set})", p.samples_in_window)
        })
    });
    row("mean power", &|p| p.mean_watts.map(|w| format!("{w:.1} W")));
    row("energy", &|p| p.joules.map(|j| format!("{j:.1} J")));
    row("energy (hardware counter)", &|p| {
        p.counter_joules.map(|c| match p.joules {
            Some(j) if c > 0.0 => {
                format!("{c:.1} J ({:+.2}% samples vs counter)", (j - c) / c * 100.0)
            }
            _ => format!("{c:.1} J"),
        })
    });
    row("samples per joule", &|p| {
        p.samples_per_joule.map(|v| format!("{v:.3}"))
    });
    row("millijoules per query", &|p| {
        p.millijoules_per_query.map(|v| format!("{v:.3}"))
    });
    row("tokens per joule", &|p| {
        p.tokens_per_joule.map(|v| format!("{v:.3}"))
    });
    row("raw trace", &|p| {
        p.trace_file.as_ref().map(|f| f.display().to_string())
    });
    row("notes", &|p| {
        (!p.notes.is_empty()).then(|| p.notes.join("; "))
    });
    let mut header = vec!["power".to_string()];
    header.extend(run_header_cells(&with));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    body.push_str(&table(&header, &rows, "numeric"));
    if let Some(chart) = power_chart(format!("chart-{}", charts_out.len()), &with) {
        chart_div(body, &chart, "chart");
        body.push_str(
            "<p class=\"muted\">Watts per sample (averaged into a few hundred points on long \
             runs); the shaded band is the measured window.</p>",
        );
        charts_out.push(chart);
    }
    body.push_str("</section>");
}

/// Power over time, one line per run in its colour, the measured window
/// shaded (time 0 is power_begin, as on the rate chart).
pub fn power_chart(id: String, runs: &[(usize, &str, &RunRecord)]) -> Option<ChartSpec> {
    let mut series: Vec<Value> = Vec::new();
    for (i, label, r) in runs {
        let Some(p) = r.power.as_ref().filter(|p| !p.series.is_empty()) else {
            continue;
        };
        let mut line = json!({
            "name": format!("{label}: watts"),
            "type": "line",
            "showSymbol": false,
            "lineStyle": { "width": 2.0 },
            "itemStyle": { "color": run_colour(*i) },
            "data": p.series,
        });
        if let Some(w) = p.window_seconds {
            line["markArea"] = json!({
                "silent": true,
                "itemStyle": { "color": "rgba(84,112,198,0.08)" },
                "data": [[{ "xAxis": 0.0 }, { "xAxis": w }]],
            });
        }
        series.push(line);
    }
    if series.is_empty() {
        return None;
    }
    let mut x = charts::axis("value", "time since the start of the measured window (s)");
    x["scale"] = json!(false);
    let mut y = charts::axis("value", "watts");
    y["scale"] = json!(false);
    y["nameGap"] = json!(56);
    let option = charts::merge(
        charts::base("Power over time"),
        json!({ "xAxis": x, "yAxis": y, "series": series }),
    );
    Some(ChartSpec {
        id,
        kind: "power",
        option,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_with_power() -> RunRecord {
        let mut r = RunRecord::new(
            yardstick_record::RunKind::Loadgen,
            chrono::Utc::now(),
            Default::default(),
        );
        r.power = Some(PowerRecord {
            source: "nvml: 1 GPU (NVIDIA H100 80GB HBM3)".into(),
            sample_hz: Some(10.0),
            window_seconds: Some(2.0),
            samples_in_window: 20,
            mean_watts: Some(350.0),
            joules: Some(700.0),
            counter_joules: Some(690.0),
            samples_per_joule: Some(20.0),
            series: vec![[-0.5, 90.0], [0.5, 340.0], [1.5, 360.0], [2.5, 95.0]],
            ..PowerRecord::default()
        });
        r
    }

    #[test]
    fn the_section_shows_the_figures_and_the_chart() {
        let r = run_with_power();
        let mut body = String::new();
        let mut charts = Vec::new();
        section(&mut body, &mut charts, &[(0, "run A", &r)]);
        assert!(body.contains("id=\"power\""));
        assert!(body.contains("350.0 W"));
        assert!(body.contains("700.0 J"));
        assert!(body.contains("690.0 J (+1.45% samples vs counter)"));
        assert!(body.contains("20.000"));
        assert!(!body.contains("millijoules per query"));
        assert_eq!(charts.len(), 1);
        assert_eq!(charts[0].kind, "power");
        let data = &charts[0].option["series"][0]["data"];
        assert_eq!(data[1], json!([0.5, 340.0]));
        assert_eq!(
            charts[0].option["series"][0]["markArea"]["data"][0][1]["xAxis"],
            json!(2.0)
        );
    }

    #[test]
    fn no_power_no_section() {
        let mut r = run_with_power();
        r.power = None;
        let mut body = String::new();
        let mut charts = Vec::new();
        section(&mut body, &mut charts, &[(0, "run A", &r)]);
        assert!(body.is_empty());
        assert!(charts.is_empty());
    }
}

//! Training runs (`yardstick train`): accuracy over time against the
//! target, time-to-train per seed, and the set's score where one was
//! computed. Reads only what the trainer put in the record
//! (`extra.training`, `extra.training_set`).

use std::fmt::Write as _;

use serde_json::{json, Value};
use yardstick_record::{RunKind, RunRecord};

use crate::chart_div;
use crate::charts::{axis, base, merge, run_colour, ChartSpec};
use crate::html::{escape, table, trim_float};

/// One eval of a run: seconds since run_start and the accuracy.
fn evals(training: &Value) -> Vec<(f64, f64)> {
    training["evals"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| {
                    Some((
                        e["seconds_since_run_start"].as_f64()?,
                        e["accuracy"].as_f64()?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn is_training(r: &RunRecord) -> bool {
    r.kind == RunKind::Training && r.extra.contains_key("training")
}

/// Whether any run is a training run (for the page's navigation).
pub fn any(runs: &[RunRecord]) -> bool {
    runs.iter().any(is_training)
}

/// The section, when any run is a training run.
pub fn section(
    body: &mut String,
    charts_out: &mut Vec<ChartSpec>,
    runs: &[(usize, &str, &RunRecord)],
) {
    let with = crate::runs_where(runs, is_training);
    if with.is_empty() {
        return;
    }
    body.push_str("<section id=\"training\"><h2>Training</h2>");
    if let Some(chart) = accuracy_chart(format!("chart-{}", charts_out.len()), &with) {
        chart_div(body, &chart, "chart");
        body.push_str(
            "<p class=\"muted\">Each eval's accuracy against the time since the run's \
             <code>run_start</code>; the dashed line is the quality target.</p>",
        );
        charts_out.push(chart);
    }
    let rows: Vec<Vec<String>> = with
        .iter()
        .map(|(_, label, r)| {
            let t = &r.extra["training"];
            let ttt = r
                .metrics
                .iter()
                .find(|m| m.name == "time_to_train")
                .map(|m| {
                    format!(
                        "{} s ({:.3} min)",
                        trim_float((m.value * 1000.0).round() / 1000.0),
                        m.value / 60.0
                    )
                })
                .unwrap_or_else(|| "none".into());
            let best = evals(t)
                .iter()
                .map(|&(_, a)| a)
                .fold(None, |b: Option<f64>, a| Some(b.map_or(a, |b| b.max(a))));
            vec![
                escape(label),
                escape(&t["seed"].to_string()),
                escape(r.status.as_str()),
                ttt,
                best.map_or_else(|| "none".into(), trim_float),
                evals(t).len().to_string(),
                escape(t["run_stop_status"].as_str().unwrap_or("missing")),
            ]
        })
        .collect();
    body.push_str(&table(
        &[
            "run",
            "seed",
            "status",
            "time-to-train",
            "best eval_accuracy",
            "evals",
            "run_stop status",
        ],
        &rows,
        "",
    ));
    // The set's score, once per group that recorded one.
    let mut seen = Vec::new();
    for (_, _, r) in &with {
        let Some(set) = r.extra.get("training_set") else {
            continue;
        };
        let group = r.group.as_ref().map_or("", |g| g.id.as_str());
        if seen.contains(&group) {
            continue;
        }
        seen.push(group);
        let text = match set["score_minutes"].as_f64() {
            Some(m) => format!(
                "score {} min ({} s): {}",
                trim_float((m * 10_000.0).round() / 10_000.0),
                trim_float((m * 60_000.0).round() / 1000.0),
                set["how"].as_str().unwrap_or("")
            ),
            None => format!("no score: {}", set["why_none"].as_str().unwrap_or("")),
        };
        let _ = write!(
            body,
            "<p><strong>Training set <code>{}</code></strong>: {}</p>",
            escape(group),
            escape(&text)
        );
    }
    body.push_str("</section>");
}

fn accuracy_chart(id: String, runs: &[(usize, &str, &RunRecord)]) -> Option<ChartSpec> {
    let mut series = Vec::new();
    let mut target = None;
    for (i, label, r) in runs {
        let t = &r.extra["training"];
        target = target.or(t["target"].as_f64());
        let data: Vec<Value> = evals(t).iter().map(|&(s, a)| json!([s, a])).collect();
        if data.is_empty() {
            continue;
        }
        series.push(json!({
            "name": *label,
            "type": "line",
            "showSymbol": true,
            "symbolSize": 5,
            "lineStyle": { "width": 2.0 },
            "itemStyle": { "color": run_colour(*i) },
            "data": data,
        }));
    }
    if series.is_empty() {
        return None;
    }
    if let (Some(target), Some(first)) = (target, series.first_mut()) {
        first["markLine"] = json!({
            "symbol": "none",
            "silent": true,
            "lineStyle": { "type": "dashed", "color": "#444" },
            "label": { "formatter": format!("target {}", trim_float(target)) },
            "data": [{ "yAxis": target }],
        });
    }
    let mut x = axis("value", "time since run_start (s)");
    x["scale"] = json!(false);
    let y = axis("value", "eval_accuracy");
    let option = merge(
        base("Accuracy over time"),
        // Room on the right for the target line's label.
        json!({ "xAxis": x, "yAxis": y, "series": series, "grid": { "left": 80, "right": 90, "top": 50, "bottom": 80 } }),
    );
    Some(ChartSpec {
        id,
        kind: "training",
        option,
    })
}

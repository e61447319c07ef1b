//! Multi-GPU scaling (`yardstick scale`): throughput against the GPU count
//! with the ideal linear line, scaling efficiency per count, and the NCCL
//! collectives' bus bandwidth over message sizes. The figures come from
//! yardstick-scale's `summarize`, the one definition the command prints.

use std::fmt::Write as _;

use serde_json::{json, Value};
use yardstick_record::RunRecord;
use yardstick_scale::collectives::format_bytes;
use yardstick_scale::{summarize, Collective, CountSummary, ScaleTag};

use crate::chart_div;
use crate::charts::{axis, base, merge, run_colour, ChartSpec};
use crate::html::{escape, table};

/// One figure of a count (Offline samples/s, Server QPS).
type Figure = fn(&CountSummary) -> Option<f64>;

fn is_scale_point(r: &RunRecord) -> bool {
    ScaleTag::of(r).is_some()
}

/// Whether any run is a point of a scaling sweep (for the navigation).
pub fn any(runs: &[RunRecord]) -> bool {
    runs.iter().any(is_scale_point)
}

fn cell(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{v:.decimals$}"))
}

/// The ideal figure at `gpus`: the base count's value scaled linearly.
fn ideal(counts: &[CountSummary], gpus: u32, get: Figure) -> Option<f64> {
    let base = counts.iter().find_map(|c| get(c).map(|v| (c.gpus, v)))?;
    Some(base.1 * f64::from(gpus) / f64::from(base.0))
}

/// The section, when any run is a scaling point.
pub fn section(
    body: &mut String,
    charts_out: &mut Vec<ChartSpec>,
    runs: &[(usize, &str, &RunRecord)],
) {
    let with: Vec<RunRecord> = crate::runs_where(runs, is_scale_point)
        .iter()
        .map(|(_, _, r)| (*r).clone())
        .collect();
    if with.is_empty() {
        return;
    }
    let counts = summarize(&with);
    body.push_str("<section id=\"scaling\"><h2>Multi-GPU scaling</h2>");
    body.push_str(
        "<p class=\"muted\">One point per GPU count, the benchmark started with that many \
         GPUs visible. Scaling efficiency = throughput(n) / (n × throughput(1)); 1.000 is \
         linear. Offline: the median samples/s of the count's Offline runs; Server: the \
         highest target QPS among its VALID Server runs.</p>",
    );
    let offline: Figure = |c| c.offline_samples_per_second;
    let rows: Vec<Vec<String>> = counts
        .iter()
        .map(|c| {
            vec![
                c.gpus.to_string(),
                c.runs.to_string(),
                match (c.offline_samples_per_second, c.offline_valid) {
                    (Some(v), false) => format!("{v:.1} (INVALID)"),
                    (v, _) => cell(v, 1),
                },
                cell(
                    ideal(&counts, c.gpus, offline)
                        .filter(|_| c.offline_samples_per_second.is_some()),
                    1,
                ),
                cell(c.offline_efficiency, 3),
                cell(c.server_max_valid_qps, 0),
                cell(c.server_efficiency, 3),
            ]
        })
        .collect();
    body.push_str(&table(
        &[
            "GPUs",
            "runs",
            "Offline samples/s",
            "ideal (linear)",
            "efficiency",
            "Server max VALID QPS",
            "efficiency",
        ],
        &rows,
        "numeric",
    ));
    if let Some(b) = counts.iter().find_map(|c| c.base_gpus).filter(|b| *b != 1) {
        let _ = write!(
            body,
            "<p class=\"muted\">No 1-GPU point: efficiency is relative to the {b}-GPU point.</p>"
        );
    }
    if let Some(chart) = throughput_chart(format!("chart-{}", charts_out.len()), &counts) {
        chart_div(body, &chart, "chart");
        body.push_str(
            "<p class=\"muted\">Measured throughput (solid) against the ideal linear \
             scaling of the smallest count (dashed).</p>",
        );
        charts_out.push(chart);
    }
    collectives(body, charts_out, &counts);
    body.push_str("</section>");
}

fn throughput_chart(id: String, counts: &[CountSummary]) -> Option<ChartSpec> {
    let mut series = Vec::new();
    let figures: [(&str, Figure, usize); 2] = [
        ("Offline samples/s", |c| c.offline_samples_per_second, 0),
        ("Server max VALID QPS", |c| c.server_max_valid_qps, 1),
    ];
    for (name, get, colour) in figures {
        let data: Vec<Value> = counts
            .iter()
            .filter_map(|c| get(c).map(|v| json!([c.gpus, v])))
            .collect();
        if data.is_empty() {
            continue;
        }
        let ideal_data: Vec<Value> = counts
            .iter()
            .filter(|c| get(c).is_some())
            .filter_map(|c| ideal(counts, c.gpus, get).map(|v| json!([c.gpus, v])))
            .collect();
        series.push(json!({
            "name": name, "type": "line", "showSymbol": true, "symbolSize": 7,
            "lineStyle": { "width": 2.0 }, "itemStyle": { "color": run_colour(colour) },
            "data": data,
        }));
        series.push(json!({
            "name": format!("{name}: ideal"), "type": "line", "showSymbol": false,
            "lineStyle": { "width": 1.5, "type": "dashed" }, "itemStyle": { "color": run_colour(colour) },
            "data": ideal_data,
        }));
    }
    if series.is_empty() {
        return None;
    }
    let mut x = axis("value", "GPUs");
    x["scale"] = json!(false);
    x["minInterval"] = json!(1);
    let mut y = axis("value", "throughput");
    y["scale"] = json!(false);
    y["nameGap"] = json!(56);
    Some(ChartSpec {
        id,
        kind: "scaling",
        option: merge(
            base("Throughput against GPUs"),
            json!({ "xAxis": x, "yAxis": y, "series": series }),
        ),
    })
}

/// Bus bandwidth per message size, one column per GPU count, and the chart.
fn collectives(body: &mut String, charts_out: &mut Vec<ChartSpec>, counts: &[CountSummary]) {
    let with: Vec<&CountSummary> = counts
        .iter()
        .filter(|c| !c.collectives.is_empty())
        .collect();
    if with.is_empty() {
        return;
    }
    body.push_str(
        "<h3>NCCL collectives</h3><p class=\"muted\">Bus bandwidth (GB/s = 10<sup>9</sup> B/s) \
         as nccl-tests defines it: algorithm bandwidth (size / time) × 2(n−1)/n for \
         all-reduce, × (n−1)/n for all-gather; at one GPU nothing crosses a link and the \
         bus bandwidth is 0 by definition. Cells: bus bandwidth (algorithm bandwidth).</p>",
    );
    let mut series = Vec::new();
    for op in [Collective::AllReduce, Collective::AllGather] {
        let mut sizes: Vec<u64> = with
            .iter()
            .flat_map(|c| c.collectives.iter().filter(|r| r.op == op).map(|r| r.bytes))
            .collect();
        sizes.sort_unstable();
        sizes.dedup();
        if sizes.is_empty() {
            continue;
        }
        let rows: Vec<Vec<String>> = sizes
            .iter()
            .map(|&size| {
                let mut row = vec![escape(&format_bytes(size))];
                for c in &with {
                    row.push(
                        c.collectives
                            .iter()
                            .find(|r| r.op == op && r.bytes == size)
                            .map_or_else(
                                || "—".into(),
                                |r| {
                                    format!(
                                        "{:.2} ({:.2}){}",
                                        r.busbw_gb_per_s,
                                        r.algbw_gb_per_s,
                                        if r.correct { "" } else { " WRONG RESULT" }
                                    )
                                },
                            ),
                    );
                }
                row
            })
            .collect();
        let mut header = vec![format!("{} size", op.as_str())];
        header.extend(
            with.iter()
                .map(|c| format!("{} GPU{}", c.gpus, if c.gpus == 1 { "" } else { "s" })),
        );
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        body.push_str(&table(&header, &rows, "numeric"));
        for (k, c) in with.iter().enumerate() {
            let data: Vec<Value> = c
                .collectives
                .iter()
                .filter(|r| r.op == op)
                .map(|r| json!([r.bytes, r.busbw_gb_per_s]))
                .collect();
            series.push(json!({
                "name": format!("{} {} GPUs", op.as_str(), c.gpus), "type": "line",
                "showSymbol": true, "symbolSize": 4,
                "lineStyle": { "width": 2.0, "type": if op == Collective::AllReduce { "solid" } else { "dashed" } },
                "itemStyle": { "color": run_colour(k) },
                "data": data,
            }));
        }
    }
    let mut x = axis("log", "message size (bytes)");
    x["logBase"] = json!(2);
    x["scale"] = json!(false);
    let mut y = axis("value", "bus bandwidth (GB/s)");
    y["scale"] = json!(false);
    y["nameGap"] = json!(56);
    let chart = ChartSpec {
        id: format!("chart-{}", charts_out.len()),
        kind: "collectives",
        option: merge(
            base("Collective bus bandwidth"),
            json!({ "xAxis": x, "yAxis": y, "series": series }),
        ),
    };
    chart_div(body, &chart, "chart");
    charts_out.push(chart);
}

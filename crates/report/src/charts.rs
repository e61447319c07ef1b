//! ECharts options, built as JSON: the page hands each to `echarts.init`
//! unchanged. Options hold data and plain settings only (no JavaScript
//! functions), so values are converted to their display unit here and the
//! unit goes in the axis title.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use yardstick_record::{GroupKind, LatencyDistribution, RunRecord};

/// One run's colour in every chart and on its summary card (ECharts'
/// default palette, fixed here so that run i has one colour everywhere).
pub const PALETTE: [&str; 9] = [
    "#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de", "#3ba272", "#fc8452", "#9a60b4",
    "#ea7ccc",
];

pub fn run_colour(index: usize) -> &'static str {
    PALETTE[index % PALETTE.len()]
}

/// A chart of the page: the element id, what it shows (`cdf`, `timeline`,
/// `pareto`) and its ECharts option.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChartSpec {
    pub id: String,
    pub kind: &'static str,
    pub option: Value,
}

/// A time unit to show nanoseconds in, picked so typical values read as
/// 1 to 999.
#[derive(Debug, Clone, Copy)]
pub struct TimeUnit {
    pub per_ns: f64,
    pub name: &'static str,
}

pub fn time_unit_for(typical_ns: f64) -> TimeUnit {
    let (divisor, name) = if typical_ns >= 1e9 {
        (1e9, "s")
    } else if typical_ns >= 1e6 {
        (1e6, "ms")
    } else if typical_ns >= 1e3 {
        (1e3, "µs")
    } else {
        (1.0, "ns")
    };
    TimeUnit {
        per_ns: 1.0 / divisor,
        name,
    }
}

/// Settings every chart shares: fixed palette, no animation (the page is a
/// document: a screenshot or a print shows the final state), room for axis
/// titles.
pub(crate) fn base(title: &str) -> Value {
    json!({
        "animation": false,
        "color": PALETTE,
        "title": { "text": title, "left": "center", "textStyle": { "fontSize": 14, "fontWeight": 600 } },
        "tooltip": { "trigger": "axis" },
        "legend": { "bottom": 0, "type": "scroll" },
        "grid": { "left": 80, "right": 40, "top": 50, "bottom": 80, "containLabel": false },
    })
}

pub(crate) fn axis(kind: &str, name: &str) -> Value {
    json!({
        "type": kind,
        "name": name,
        "nameLocation": "middle",
        "nameGap": 32,
        "nameTextStyle": { "fontWeight": 600 },
        "scale": true,
        "splitLine": { "show": true, "lineStyle": { "color": "#eef0f3" } },
    })
}

pub(crate) fn merge(mut target: Value, extra: Value) -> Value {
    if let (Some(t), Value::Object(e)) = (target.as_object_mut(), extra) {
        for (k, v) in e {
            t.insert(k, v);
        }
    }
    target
}

/// `(value, fraction)` points of a CDF, thinned to a few hundred: a point
/// is kept when the fraction has grown by 0.2 % or the value by 2 % since
/// the last one kept, so the body and the tail both keep their shape.
fn thinned_cdf(distribution: &LatencyDistribution) -> Vec<(u64, f64)> {
    let cdf = distribution.histogram.cdf();
    let mut kept: Vec<(u64, f64)> = Vec::new();
    let last_index = cdf.len().saturating_sub(1);
    for (i, &(value, fraction)) in cdf.iter().enumerate() {
        let keep = match kept.last() {
            None => true,
            Some(&(v, f)) => {
                i == last_index || fraction - f >= 0.002 || value as f64 >= v as f64 * 1.02
            }
        };
        if keep {
            kept.push((value, fraction));
        }
    }
    kept
}

/// The CDF of distribution `name` for every run that has it: one series per
/// run, latency on x (log scale when it spans more than 20x), the fraction
/// of queries at or below it on y.
pub fn cdf_chart(
    id: String,
    name: &str,
    title: &str,
    runs: &[(usize, &str, &RunRecord)],
) -> Option<ChartSpec> {
    let with: Vec<(usize, &str, &LatencyDistribution)> = runs
        .iter()
        .filter_map(|(i, label, r)| {
            r.latencies
                .get(name)
                .filter(|d| !d.histogram.is_empty())
                .map(|d| (*i, *label, d))
        })
        .collect();
    if with.is_empty() {
        return None;
    }
    let typical = with
        .iter()
        .map(|(_, _, d)| d.histogram.quantile(0.5) as f64)
        .fold(0.0, f64::max);
    let unit = time_unit_for(typical);
    let low = with
        .iter()
        .map(|(_, _, d)| d.histogram.min().max(1) as f64)
        .fold(f64::INFINITY, f64::min);
    let high = with
        .iter()
        .map(|(_, _, d)| d.histogram.max() as f64)
        .fold(0.0, f64::max);
    let log_scale = high / low > 20.0;
    let series: Vec<Value> = with
        .iter()
        .map(|(i, label, d)| {
            let data: Vec<Value> = thinned_cdf(d)
                .into_iter()
                // A log axis cannot place 0 (a gap of 0 ns between two
                // chunks that arrived together): its points start above.
                .filter(|&(v, _)| !log_scale || v > 0)
                .map(|(v, f)| json!([round4(v as f64 * unit.per_ns), round4(f * 100.0)]))
                .collect();
            json!({
                "name": label,
                "type": "line",
                "showSymbol": false,
                "step": "end",
                "lineStyle": { "width": 2 },
                "itemStyle": { "color": run_colour(*i) },
                "data": data,
            })
        })
        .collect();
    let mut x = axis(
        if log_scale { "log" } else { "value" },
        &format!("{title} ({})", unit.name),
    );
    if log_scale {
        x["logBase"] = json!(10);
    }
    let mut y = axis("value", "queries at or below (%)");
    y["min"] = json!(0);
    y["max"] = json!(100);
    y["scale"] = json!(false);
    let option = merge(
        base(&format!("{title}: cumulative distribution")),
        json!({ "xAxis": x, "yAxis": y, "series": series }),
    );
    Some(ChartSpec {
        id,
        kind: "cdf",
        option,
    })
}

/// Issued and completed per second over the run, for every run with a
/// timeline: completed solid, issued dashed, in the run's colour.
pub fn timeline_chart(id: String, runs: &[(usize, &str, &RunRecord)]) -> Option<ChartSpec> {
    let mut series = Vec::new();
    for (i, label, r) in runs {
        let Some(t) = r.timeline.as_ref().filter(|t| t.bucket_seconds > 0.0) else {
            continue;
        };
        let rate = |counts: &[u64]| -> Vec<Value> {
            counts
                .iter()
                .enumerate()
                .map(|(k, &c)| {
                    json!([
                        round4(k as f64 * t.bucket_seconds),
                        round4(c as f64 / t.bucket_seconds)
                    ])
                })
                .collect()
        };
        for (what, counts, dashed) in [
            ("completed", &t.completed, false),
            ("issued", &t.issued, true),
        ] {
            series.push(json!({
                "name": format!("{label}: {what}"),
                "type": "line",
                "step": "start",
                "showSymbol": false,
                "lineStyle": { "width": if dashed { 1.5 } else { 2.0 }, "type": if dashed { "dashed" } else { "solid" } },
                "itemStyle": { "color": run_colour(*i) },
                "data": rate(counts),
            }));
        }
    }
    if series.is_empty() {
        return None;
    }
    let mut x = axis("value", "time since the start of the measured window (s)");
    x["scale"] = json!(false);
    let mut y = axis("value", "queries per second");
    y["scale"] = json!(false);
    y["nameGap"] = json!(56);
    let option = merge(
        base("Issued and completed rate over time"),
        json!({ "xAxis": x, "yAxis": y, "series": series }),
    );
    Some(ChartSpec {
        id,
        kind: "timeline",
        option,
    })
}

/// The server's own metrics over the run, for every run that scraped
/// them: requests running (solid) and waiting (dashed) on the left axis,
/// KV-cache use (dotted, %) on the right, in the run's colour.
pub fn server_metrics_chart(id: String, runs: &[(usize, &str, &RunRecord)]) -> Option<ChartSpec> {
    let mut series = Vec::new();
    let mut kv_cache = false;
    for (i, label, r) in runs {
        let Some(s) = r.server_metrics.as_ref().and_then(|m| m.series.as_ref()) else {
            continue;
        };
        for (name, what, style, scale, axis_index) in [
            ("running_requests", "running", "solid", 1.0, 0),
            ("waiting_requests", "waiting", "dashed", 1.0, 0),
            ("kv_cache_usage", "KV-cache use", "dotted", 100.0, 1),
        ] {
            let Some(values) = s.values.get(name) else {
                continue;
            };
            kv_cache |= axis_index == 1;
            let data: Vec<Value> = s
                .t_seconds
                .iter()
                .zip(values)
                .filter_map(|(t, v)| v.map(|v| json!([round4(*t), round4(v * scale)])))
                .collect();
            series.push(json!({
                "name": format!("{label}: {what}"),
                "type": "line",
                "showSymbol": false,
                "yAxisIndex": axis_index,
                "lineStyle": { "width": 2.0, "type": style },
                "itemStyle": { "color": run_colour(*i) },
                "data": data,
            }));
        }
    }
    if series.is_empty() {
        return None;
    }
    let mut x = axis("value", "time since the first scrape (s)");
    x["scale"] = json!(false);
    let mut requests = axis("value", "requests");
    requests["scale"] = json!(false);
    requests["nameGap"] = json!(56);
    let mut y = vec![requests];
    if kv_cache {
        let mut percent = axis("value", "KV-cache use (%)");
        percent["scale"] = json!(false);
        percent["min"] = json!(0);
        percent["max"] = json!(100);
        percent["splitLine"] = json!({ "show": false });
        y.push(percent);
    }
    let option = merge(
        base("The server's own metrics over time"),
        json!({ "xAxis": x, "yAxis": y, "series": series, "grid": { "left": 80, "right": 80, "top": 50, "bottom": 80 } }),
    );
    Some(ChartSpec {
        id,
        kind: "server_metrics",
        option,
    })
}

/// One point of a Pareto curve.
#[derive(Debug, Clone, PartialEq)]
pub struct ParetoPoint {
    pub label: String,
    /// Per-user rate (tokens/s per user, or samples/s per stream).
    pub per_user: f64,
    /// System throughput.
    pub system: f64,
}

/// A sweep's curve: its points and the units of both axes.
#[derive(Debug, Clone, PartialEq)]
pub struct ParetoCurve {
    pub group_id: String,
    pub throughput_unit: String,
    pub per_user_unit: String,
    pub points: Vec<ParetoPoint>,
    /// Points that could not be placed, with why.
    pub skipped: Vec<String>,
}

/// The system throughput of a run: `system_tokens_per_second` (or another
/// tokens/s metric) for token runs, else `samples_per_second`, else the
/// first higher-is-better rate.
fn throughput(r: &RunRecord) -> Option<(f64, String)> {
    [
        "system_tokens_per_second",
        "tokens_per_second",
        "output_tokens_per_second",
        "samples_per_second",
    ]
    .iter()
    .find_map(|n| r.metric(n))
    .or_else(|| {
        r.metrics
            .iter()
            .find(|m| m.unit.ends_with("/s") && m.better == yardstick_record::Better::Higher)
    })
    .map(|m| (m.value, m.unit.clone()))
}

/// The per-user rate of a run: a recorded `*per_user*` metric; for token
/// runs one over the median time per output token; otherwise the system
/// throughput shared by the concurrency.
fn per_user(r: &RunRecord, system: f64, system_unit: &str) -> Option<(f64, String)> {
    if let Some(m) = r.metrics.iter().find(|m| m.name.contains("per_user")) {
        let unit = if m.unit.contains("user") {
            m.unit.clone()
        } else {
            format!("{}/user", m.unit)
        };
        return Some((m.value, unit));
    }
    if let Some(tpot) = r.latencies.get("tpot").and_then(|d| d.percentile(50.0)) {
        if tpot > 0 {
            return Some((1e9 / tpot as f64, "tokens/s/user".to_string()));
        }
    }
    let concurrency = r.load.as_ref()?.concurrency.filter(|&c| c > 0)?;
    Some((system / concurrency as f64, format!("{system_unit}/user")))
}

/// The Pareto curve of every sweep among `runs`, in group order.
pub fn pareto_curves(runs: &[&RunRecord]) -> Vec<ParetoCurve> {
    let mut groups: BTreeMap<String, Vec<&RunRecord>> = BTreeMap::new();
    for r in runs {
        if let Some(g) = r
            .group
            .as_ref()
            .filter(|g| matches!(g.kind, GroupKind::Sweep | GroupKind::FindPeak))
        {
            groups.entry(g.id.clone()).or_default().push(r);
        }
    }
    groups
        .into_iter()
        .map(|(group_id, mut members)| {
            members.sort_by_key(|r| r.group.as_ref().map_or(0, |g| g.index));
            let mut curve = ParetoCurve {
                group_id,
                throughput_unit: String::new(),
                per_user_unit: String::new(),
                points: Vec::new(),
                skipped: Vec::new(),
            };
            for r in members {
                let label = r
                    .load
                    .as_ref()
                    .map(|l| l.label.clone())
                    .or_else(|| r.group.as_ref().map(|g| g.label.clone()))
                    .unwrap_or_else(|| r.id.clone());
                let Some((system, system_unit)) = throughput(r) else {
                    curve.skipped.push(format!("{label}: no throughput metric"));
                    continue;
                };
                let Some((user, user_unit)) = per_user(r, system, &system_unit) else {
                    curve.skipped.push(format!(
                        "{label}: no per-user rate (no tpot, per-user metric or concurrency)"
                    ));
                    continue;
                };
                curve.throughput_unit = system_unit;
                curve.per_user_unit = user_unit;
                curve.points.push(ParetoPoint {
                    label,
                    per_user: user,
                    system,
                });
            }
            curve
        })
        .collect()
}

/// The Pareto chart of the sweeps: one labelled point per load point, one
/// series per sweep.
pub fn pareto_chart(id: String, curves: &[ParetoCurve]) -> Option<ChartSpec> {
    let curves: Vec<&ParetoCurve> = curves.iter().filter(|c| !c.points.is_empty()).collect();
    let first = curves.first()?;
    let series: Vec<Value> = curves
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let data: Vec<Value> = c
                .points
                .iter()
                .map(
                    |p| json!({ "name": p.label, "value": [round4(p.per_user), round4(p.system)] }),
                )
                .collect();
            json!({
                "name": format!("sweep {}", c.group_id),
                "type": "line",
                "symbolSize": 10,
                "itemStyle": { "color": run_colour(i) },
                "label": { "show": true, "formatter": "{b}", "position": "top", "fontWeight": 600 },
                "data": data,
            })
        })
        .collect();
    let mut x = axis("value", &format!("per-user rate ({})", first.per_user_unit));
    x["nameGap"] = json!(32);
    let mut y = axis(
        "value",
        &format!("system throughput ({})", first.throughput_unit),
    );
    y["nameGap"] = json!(60);
    let option = merge(
        base("Sweep: throughput against per-user rate (Pareto)"),
        json!({
            "tooltip": { "trigger": "item" },
            "grid": { "left": 90, "right": 50, "top": 60, "bottom": 80 },
            "xAxis": x,
            "yAxis": y,
            "series": series,
        }),
    );
    Some(ChartSpec {
        id,
        kind: "pareto",
        option,
    })
}

/// Four significant digits keep the page small without visible loss.
fn round4(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return 0.0;
    }
    let digits = 4 - v.abs().log10().ceil() as i32;
    let scale = 10f64.powi(digits);
    (v * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_keeps_four_digits() {
        assert_eq!(round4(1234.5678), 1235.0);
        assert_eq!(round4(0.012345), 0.01235);
        assert_eq!(round4(0.0), 0.0);
    }

    #[test]
    fn thinning_keeps_both_ends() {
        let values: Vec<u64> = (1..=100_000).collect();
        let d = LatencyDistribution::from_values("ns", &values, &[50.0]);
        let full = d.histogram.cdf();
        let thin = thinned_cdf(&d);
        assert!(thin.len() < 1000, "{}", thin.len());
        assert_eq!(thin.first(), full.first());
        assert_eq!(thin.last(), full.last());
    }

    #[test]
    fn time_units_read_naturally() {
        assert_eq!(time_unit_for(2_500_000.0).name, "ms");
        assert_eq!(time_unit_for(800.0).name, "ns");
        assert_eq!(time_unit_for(3e9).name, "s");
    }
}

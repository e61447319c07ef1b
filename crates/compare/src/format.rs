//! The exporters: a text table for the terminal, Markdown for pull requests,
//! JSON for tools. Pure functions of a [`Comparison`].

use crate::{Change, Comparison, Interval, Method, MetricComparison, Test};

/// The comparison as pretty JSON (the [`Comparison`] structure itself).
pub fn to_json(comparison: &Comparison) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(comparison)
}

/// An aligned text table, benchstat style: `~` where the difference is not
/// significant.
pub fn to_text(comparison: &Comparison) -> String {
    let rows = table_rows(comparison);
    let mut widths = vec![0usize; HEADER.len()];
    for row in std::iter::once(&header_row(comparison)).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |row: &Vec<String>| -> String {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| format!("{cell:<w$}"))
            .collect();
        cells.join("  ").trim_end().to_string()
    };
    let mut out = String::new();
    out.push_str(&format!(
        "A: {} ({})\nB: {} ({})\n\n",
        comparison.a.label,
        runs_text(comparison.a.run_ids.len()),
        comparison.b.label,
        runs_text(comparison.b.run_ids.len())
    ));
    out.push_str(&line(&header_row(comparison)));
    out.push('\n');
    for row in &rows {
        out.push_str(&line(row));
        out.push('\n');
    }
    footer(comparison, &mut out, "");
    out
}

/// A GitHub-flavoured Markdown table with the same content as the text.
pub fn to_markdown(comparison: &Comparison) -> String {
    let escape = |s: &str| s.replace('|', "\\|");
    let mut out = String::new();
    out.push_str(&format!(
        "**A**: `{}` ({})  \n**B**: `{}` ({})\n\n",
        comparison.a.label,
        runs_text(comparison.a.run_ids.len()),
        comparison.b.label,
        runs_text(comparison.b.run_ids.len())
    ));
    let header = header_row(comparison);
    out.push_str(&format!(
        "| {} |\n",
        header
            .iter()
            .map(|h| escape(h))
            .collect::<Vec<_>>()
            .join(" | ")
    ));
    out.push_str(&format!(
        "|{}\n",
        header
            .iter()
            .enumerate()
            .map(|(i, _)| if i == 0 { " --- |" } else { " ---: |" })
            .collect::<String>()
    ));
    for row in table_rows(comparison) {
        out.push_str(&format!(
            "| {} |\n",
            row.iter()
                .map(|c| escape(c))
                .collect::<Vec<_>>()
                .join(" | ")
        ));
    }
    out.push('\n');
    footer(comparison, &mut out, "- ");
    out
}

const HEADER: [&str; 6] = ["metric", "A", "B", "B/A", "delta", "test"];

fn header_row(comparison: &Comparison) -> Vec<String> {
    let ci = format!("median [{:.0}% CI]", comparison.confidence * 100.0);
    vec![
        HEADER[0].to_string(),
        format!("A {ci}"),
        format!("B {ci}"),
        HEADER[3].to_string(),
        HEADER[4].to_string(),
        HEADER[5].to_string(),
    ]
}

fn runs_text(n: usize) -> String {
    if n == 1 {
        "1 run".to_string()
    } else {
        format!("{n} runs")
    }
}

fn footer(comparison: &Comparison, out: &mut String, bullet: &str) {
    let mut lines = vec!["* = the main metric".to_string()];
    if comparison.method == Method::Groups {
        lines.push(format!(
            "test: two-sided Mann-Whitney U, alpha {}; ~ = no significant difference; CI of the \
             median from order statistics",
            comparison.alpha
        ));
    } else {
        lines.push(
            "test: the bootstrap interval of B/A over per-query latencies excludes 1; ~ = it \
             does not"
                .to_string(),
        );
    }
    lines.extend(comparison.notes.iter().cloned());
    if !comparison.only_in_a.is_empty() {
        lines.push(format!("only in A: {}", comparison.only_in_a.join(", ")));
    }
    if !comparison.only_in_b.is_empty() {
        lines.push(format!("only in B: {}", comparison.only_in_b.join(", ")));
    }
    for l in lines {
        out.push_str(bullet);
        out.push_str(&l);
        out.push('\n');
    }
}

fn table_rows(comparison: &Comparison) -> Vec<Vec<String>> {
    comparison
        .metrics
        .iter()
        .map(|m| {
            let (divisor, unit) = display_scale(&m.unit, m.a.median.abs().max(m.b.median.abs()));
            let side = |median: f64, interval: Option<Interval>| -> String {
                let mut s = format!("{} {unit}", number(median / divisor))
                    .trim_end()
                    .to_string();
                if let Some(i) = interval {
                    s.push_str(&format!(
                        " [{}, {}]",
                        number(i.low / divisor),
                        number(i.high / divisor)
                    ));
                    if i.confidence + 1e-9 < comparison.confidence {
                        s.push_str(&format!(" ({:.1}%)", i.confidence * 100.0));
                    }
                }
                s.trim_end().to_string()
            };
            let name = if m.primary {
                format!("{} *", m.name)
            } else {
                m.name.clone()
            };
            vec![
                name,
                side(m.a.median, m.a.interval),
                side(m.b.median, m.b.interval),
                m.ratio.map_or("-".to_string(), |r| format!("{r:.3}")),
                delta_text(m),
                test_text(m),
            ]
        })
        .collect()
}

/// `+10.0% slower`, or `~` when not significant.
fn delta_text(m: &MetricComparison) -> String {
    if !m.significant {
        return "~".to_string();
    }
    let delta = m
        .delta_percent()
        .map_or(String::new(), |d| format!("{d:+.1}%"));
    let speed = is_speed_unit(&m.unit) || m.latency;
    let word = match (m.change, speed) {
        (Change::Better, true) => "faster",
        (Change::Worse, true) => "slower",
        (Change::Better, false) => "better",
        (Change::Worse, false) => "worse",
        (Change::Changed, _) => "changed",
        (Change::Same, _) => "",
    };
    format!("{delta} {word}").trim().to_string()
}

fn test_text(m: &MetricComparison) -> String {
    match &m.test {
        Test::MannWhitney { p_value, .. } => {
            format!("p={} n={}+{}", p_text(*p_value), m.a.runs, m.b.runs)
        }
        Test::TooFewRuns { runs_a, runs_b } => {
            format!("n={runs_a}+{runs_b}: too few runs to test")
        }
        Test::Bootstrap { ratio_interval, .. } => format!(
            "bootstrap B/A [{:.3}, {:.3}] (weaker)",
            ratio_interval.low, ratio_interval.high
        ),
        Test::None => "single runs: no test".to_string(),
    }
}

fn p_text(p: f64) -> String {
    if p < 0.001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

fn is_speed_unit(unit: &str) -> bool {
    unit.ends_with("/s")
}

/// The divisor and unit to show values of `unit` around `magnitude` with:
/// nanoseconds become µs, ms or s.
fn display_scale(unit: &str, magnitude: f64) -> (f64, String) {
    let ns_per = match unit {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        // A plain count or ratio: no unit to show.
        "1" | "" => return (1.0, String::new()),
        _ => return (1.0, unit.to_string()),
    };
    let ns = magnitude * ns_per;
    let (scale, name) = if ns >= 1e9 {
        (1e9, "s")
    } else if ns >= 1e6 {
        (1e6, "ms")
    } else if ns >= 1e3 {
        (1e3, "µs")
    } else {
        (1.0, "ns")
    };
    (scale / ns_per, name.to_string())
}

/// Four significant digits, no exponent for everyday magnitudes.
fn number(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    // Counts stay whole numbers.
    if v.fract() == 0.0 && v.abs() < 1e7 {
        return format!("{v:.0}");
    }
    let magnitude = v.abs().log10().floor() as i32;
    if !(-3..7).contains(&magnitude) {
        return format!("{v:.3e}");
    }
    let decimals = (3 - magnitude).max(0) as usize;
    format!("{v:.decimals$}")
}

/// A value with its unit for humans (`12.35 ms`, `1024 samples/s`).
pub fn format_value(value: f64, unit: &str) -> String {
    let (divisor, shown) = display_scale(unit, value.abs());
    format!("{} {shown}", number(value / divisor))
        .trim_end()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_scale_to_readable_units() {
        assert_eq!(format_value(12_345_678.0, "ns"), "12.35 ms");
        assert_eq!(format_value(950.0, "ns"), "950 ns");
        assert_eq!(format_value(61.0, "1"), "61");
        assert_eq!(format_value(2.5e9, "ns"), "2.500 s");
        assert_eq!(format_value(1024.0, "samples/s"), "1024 samples/s");
        assert_eq!(format_value(0.25, "1"), "0.2500");
    }
}

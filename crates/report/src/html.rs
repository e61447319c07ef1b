//! Small HTML and number-formatting helpers.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A table; `header` and `rows` are HTML already (escaped by the caller).
pub fn table(header: &[&str], rows: &[Vec<String>], class: &str) -> String {
    let mut out = String::new();
    let _ = write!(out, "<div class=\"table-wrap\"><table class=\"{class}\">");
    if header.iter().any(|h| !h.is_empty()) {
        out.push_str("<thead><tr>");
        for h in header {
            let _ = write!(out, "<th>{h}</th>");
        }
        out.push_str("</tr></thead>");
    }
    out.push_str("<tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    out
}

/// `12,345`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut groups: Vec<&str> = Vec::new();
    let mut end = digits.len();
    while end > 3 {
        groups.push(&digits[end - 3..end]);
        end -= 3;
    }
    groups.push(&digits[..end]);
    groups.reverse();
    groups.join(",")
}

/// `99.9`, `50` (no trailing zeros).
pub fn trim_float(v: f64) -> String {
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Four significant digits; thousands grouped above 1,000.
fn number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v == 0.0 {
        return "0".to_string();
    }
    if v.abs() >= 1000.0 {
        let rounded = v.abs().round() as u64;
        let sign = if v < 0.0 { "-" } else { "" };
        return format!("{sign}{}", group_thousands(rounded));
    }
    // Counts stay whole numbers.
    if v.fract() == 0.0 {
        return format!("{v:.0}");
    }
    let magnitude = v.abs().log10().floor() as i32;
    if magnitude < -3 {
        return format!("{v:.3e}");
    }
    let decimals = (3 - magnitude).max(0) as usize;
    format!("{v:.decimals$}")
}

/// A metric value with its unit for people: nanoseconds become µs, ms or
/// s; a unit of `1` is not shown.
pub fn format_metric(value: f64, unit: &str) -> String {
    let ns_per_unit = match unit {
        "ns" => Some(1.0),
        "us" | "µs" => Some(1e3),
        "ms" => Some(1e6),
        "s" => Some(1e9),
        _ => None,
    };
    match ns_per_unit {
        Some(per) => {
            let ns = value * per;
            let (divisor, name) = if ns.abs() >= 1e9 {
                (1e9, "s")
            } else if ns.abs() >= 1e6 {
                (1e6, "ms")
            } else if ns.abs() >= 1e3 {
                (1e3, "µs")
            } else {
                (1.0, "ns")
            };
            format!("{} {name}", number(ns / divisor))
        }
        None if unit.is_empty() || unit == "1" => number(value),
        None => format!("{} {unit}", number(value)),
    }
}

/// A `*bytes` field's value with its size in decimal units first:
/// `25.32 GB (25324953600)`.
pub fn with_bytes(key: &str, value: &str) -> String {
    let Some(bytes) = key
        .ends_with("bytes")
        .then(|| value.parse::<u64>().ok())
        .flatten()
    else {
        return value.to_string();
    };
    let units = [(1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")];
    match units.iter().find(|(size, _)| bytes as f64 >= *size) {
        Some((size, name)) => format!("{:.2} {name} ({bytes})", bytes as f64 / size),
        None => format!("{bytes} B"),
    }
}

/// `12.3 s`, `4 min 05 s`, `1 h 02 min`.
pub fn format_duration(seconds: f64) -> String {
    if seconds < 60.0 {
        return format!("{seconds:.1} s");
    }
    let total = seconds.round() as u64;
    if total < 3600 {
        format!("{} min {:02} s", total / 60, total % 60)
    } else {
        format!("{} h {:02} min", total / 3600, (total % 3600) / 60)
    }
}

/// Flattens a JSON document into `a.b[2].c -> value` rows; arrays of plain
/// values are joined into one row.
pub fn flatten_json(prefix: &str, value: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    use serde_json::Value;
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                flatten_json(&key(k), v, out);
            }
        }
        Value::Array(items) if items.iter().all(|v| !v.is_object() && !v.is_array()) => {
            let joined: Vec<String> = items.iter().map(scalar).collect();
            out.insert(prefix.to_string(), joined.join(", "));
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten_json(&format!("{prefix}[{i}]"), v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), scalar(other));
        }
    }
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "—".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>\"a\" & 'b'"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;"
        );
    }

    #[test]
    fn formats_values() {
        assert_eq!(format_metric(12_345_678.0, "ns"), "12.35 ms");
        assert_eq!(format_metric(12_345.6, "samples/s"), "12,346 samples/s");
        assert_eq!(format_metric(0.5, "1"), "0.5000");
        assert_eq!(format_metric(2.5, "s"), "2.500 s");
        assert_eq!(format_metric(61.0, "1"), "61");
        assert_eq!(group_thousands(1_234_567), "1,234,567");
        assert_eq!(trim_float(99.9), "99.9");
        assert_eq!(trim_float(50.0), "50");
        assert_eq!(format_duration(75.0), "1 min 15 s");
        assert_eq!(
            with_bytes("total_bytes", "25324953600"),
            "25.32 GB (25324953600)"
        );
        assert_eq!(with_bytes("total_bytes", "512"), "512 B");
        assert_eq!(with_bytes("name", "25324953600"), "25324953600");
    }

    #[test]
    fn flattens_nested_json() {
        let v = serde_json::json!({"cpu": {"model": "EPYC", "cores": 16}, "gpus": [{"name": "H100"}], "flags": ["a", "b"]});
        let mut out = BTreeMap::new();
        flatten_json("", &v, &mut out);
        assert_eq!(out["cpu.model"], "EPYC");
        assert_eq!(out["cpu.cores"], "16");
        assert_eq!(out["gpus[0].name"], "H100");
        assert_eq!(out["flags"], "a, b");
    }
}

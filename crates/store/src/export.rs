//! Exporting runs: the full records as JSON, or one CSV row per run.

use std::collections::BTreeSet;

use yardstick_record::RunRecord;

use crate::RunRow;

/// The full records, as a JSON array.
pub fn to_json(records: &[RunRecord]) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(records)?;
    text.push('\n');
    Ok(text)
}

/// One row per run: the listed columns, then one column per metric name
/// found in any of the runs (`metric:<name> (<unit>)`), in first-seen
/// order, empty where a run lacks it.
pub fn to_csv(rows: &[(RunRow, RunRecord)]) -> String {
    let mut metric_names: Vec<(String, String)> = Vec::new();
    let mut seen = BTreeSet::new();
    for (_, record) in rows {
        for m in &record.metrics {
            if seen.insert(m.name.clone()) {
                metric_names.push((m.name.clone(), m.unit.clone()));
            }
        }
    }
    let mut out = String::new();
    let mut header: Vec<String> = [
        "id",
        "group",
        "kind",
        "status",
        "started_at",
        "ended_at",
        "workload",
        "scenario",
        "mode",
        "sut",
        "verdict",
        "tags",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(
        metric_names
            .iter()
            .map(|(name, unit)| format!("metric:{name} ({unit})")),
    );
    push_row(&mut out, &header);
    for (row, record) in rows {
        let mut cells = vec![
            row.id.clone(),
            row.group_id.clone().unwrap_or_default(),
            row.kind.clone(),
            row.status.as_str().to_string(),
            row.started_at.to_rfc3339(),
            row.ended_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            row.workload.clone(),
            row.scenario.clone().unwrap_or_default(),
            row.mode.clone().unwrap_or_default(),
            row.sut.clone().unwrap_or_default(),
            row.verdict.clone(),
            row.tags.join(" "),
        ];
        for (name, _) in &metric_names {
            cells.push(
                record
                    .metric(name)
                    .map(|m| m.value.to_string())
                    .unwrap_or_default(),
            );
        }
        push_row(&mut out, &cells);
    }
    out
}

/// RFC 4180: a cell with a comma, quote or line break is quoted, quotes
/// doubled.
fn push_row(out: &mut String, cells: &[String]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if cell.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&cell.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(cell);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_when_needed() {
        let mut s = String::new();
        push_row(
            &mut s,
            &["a".into(), "b,c".into(), "say \"hi\"".into(), "".into()],
        );
        assert_eq!(s, "a,\"b,c\",\"say \"\"hi\"\"\",\r\n");
    }
}

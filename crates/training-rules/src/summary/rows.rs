//! The summarizer's detailed table (`summary_detailed.csv`): one row per
//! system, its description's columns, then per benchmark of the round
//! `time_to_train`, `Energy`, `GBS`, `samples_to_converge`, `RCP`,
//! `rcp_scaling_factor`, then the result and code URLs.

use serde_json::Value as Json;

use crate::package::{allowed_benchmarks, SetReport, SubmissionReport};

/// One cell, typed as the summarizer's column schema types it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Cell {
    Str(String),
    Int(i64),
    /// `None`: no value (an empty CSV field).
    Float(Option<f64>),
}

/// A row: `(column, cell)` in the summarizer's column order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Row(pub Vec<(String, Cell)>);

impl Row {
    pub fn get(&self, column: &str) -> Option<&Cell> {
        self.0.iter().find(|(c, _)| c == column).map(|(_, v)| v)
    }
}

/// Why a system gets no row (the summarizer prints it and goes on).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    #[error("ERROR: \"{0}\" field missing")]
    MissingField(String),
    #[error("ERROR: field \"{field}\" is not an integer: {value}")]
    NotAnInteger { field: String, value: String },
}

fn text(desc: &Json, field: &str) -> Result<String, RowError> {
    match desc.get(field) {
        None => Err(RowError::MissingField(field.into())),
        Some(Json::String(s)) => Ok(s.clone()),
        Some(other) => Ok(other.to_string()),
    }
}

/// Python's `int(x)` of a description field.
fn integer(desc: &Json, field: &str) -> Result<i64, RowError> {
    let value = desc
        .get(field)
        .ok_or_else(|| RowError::MissingField(field.into()))?;
    let parsed = match value {
        Json::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.trunc() as i64)),
        Json::String(s) => s.trim().parse().ok(),
        Json::Bool(b) => Some(i64::from(*b)),
        _ => None,
    };
    parsed.ok_or_else(|| RowError::NotAnInteger {
        field: field.into(),
        value: value.to_string(),
    })
}

/// The round's short name in URLs: "5.1.0" -> "5.1".
fn short_ruleset(ruleset: &str) -> String {
    let (head, tail) = ruleset.split_at(ruleset.len().min(3));
    format!("{head}{}", tail.replace(".0", ""))
}

/// The row of one system (`system` = its folder under `results/`).
pub fn system_row(
    system: &str,
    desc: &Json,
    sets: &[&SetReport],
    usage: &str,
    ruleset: &str,
) -> Result<Row, RowError> {
    let mut row: Vec<(String, Cell)> = Vec::new();
    let mut put = |column: &str, cell: Cell| row.push((column.to_string(), cell));
    put("division", Cell::Str(text(desc, "division")?));
    put("availability", Cell::Str(text(desc, "status")?));
    let submitter = text(desc, "submitter")?;
    put("submitter", Cell::Str(submitter.clone()));
    put("system", Cell::Str(text(desc, "system_name")?));
    put("number_of_nodes", Cell::Str(text(desc, "number_of_nodes")?));
    put(
        "host_processor_model_name",
        Cell::Str(text(desc, "host_processor_model_name")?),
    );
    text(desc, "host_processor_core_count")?;
    let nodes = integer(desc, "number_of_nodes")?;
    put(
        "host_processors_count",
        Cell::Int(integer(desc, "host_processors_per_node")? * nodes),
    );
    put(
        "accelerator_model_name",
        Cell::Str(text(desc, "accelerator_model_name")?),
    );
    put(
        "accelerators_count",
        Cell::Int(integer(desc, "accelerators_per_node")? * nodes),
    );
    put("framework", Cell::Str(text(desc, "framework")?));
    let notes: Vec<String> = [text(desc, "hw_notes")?, text(desc, "sw_notes")?]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    put("notes", Cell::Str(notes.join(";")));
    put("private_id", Cell::Str(String::new()));
    for benchmark in allowed_benchmarks(ruleset) {
        let set = sets.iter().find(|s| s.benchmark == *benchmark);
        let column = |metric: &str| format!("{benchmark}:{metric}");
        let score = set.and_then(|s| s.score.score);
        put(&column("time_to_train"), Cell::Float(score));
        put(&column("Energy"), Cell::Float(None));
        put(&column("GBS"), Cell::Float(set.and_then(|s| s.gbs)));
        put(
            &column("samples_to_converge"),
            Cell::Float(set.and_then(|s| s.samples_to_converge)),
        );
        let rcp = set
            .and_then(|s| s.rcp.as_ref())
            .map(|r| r.summary_column().to_string())
            .unwrap_or_default();
        put(&column("RCP"), Cell::Str(rcp));
        put(
            &column("rcp_scaling_factor"),
            Cell::Float(set.map(|s| s.score.scaling_factor)),
        );
    }
    let prefix = format!(
        "https://github.com/mlcommons/{usage}_results_v{}",
        short_ruleset(ruleset)
    );
    put(
        "details_url",
        Cell::Str(format!(
            "{prefix}/blob/main/{submitter}/systems/{system}.json"
        )),
    );
    put(
        "code_url",
        Cell::Str(format!("{prefix}/blob/master/{submitter}/benchmarks")),
    );
    Ok(Row(row))
}

/// The detailed rows of a checked submitter folder, one per system folder
/// under `results/` with a description; systems whose description lacks a
/// field are reported instead.
pub fn detailed_rows(
    report: &SubmissionReport,
    usage: &str,
    ruleset: &str,
) -> (Vec<Row>, Vec<(String, RowError)>) {
    let mut systems: Vec<&str> = report.sets.iter().map(|s| s.system.as_str()).collect();
    systems.dedup();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for system in systems {
        let Some(desc) = report.description(system) else {
            continue;
        };
        let sets: Vec<&SetReport> = report.sets.iter().filter(|s| s.system == system).collect();
        match system_row(system, desc, &sets, usage, ruleset) {
            Ok(row) => rows.push(row),
            Err(e) => errors.push((system.to_string(), e)),
        }
    }
    (rows, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_use_the_short_round() {
        assert_eq!(short_ruleset("5.1.0"), "5.1");
        assert_eq!(short_ruleset("6.0.0"), "6.0");
    }

    #[test]
    fn a_row_without_sets_has_empty_benchmark_columns() {
        let desc = serde_json::json!({
            "division": "closed", "status": "Available cloud", "submitter": "X",
            "system_name": "box", "number_of_nodes": "2", "host_processor_model_name": "cpu",
            "host_processor_core_count": 8, "host_processors_per_node": 2,
            "accelerator_model_name": "gpu", "accelerators_per_node": "8",
            "framework": "pt", "hw_notes": "", "sw_notes": "n"
        });
        let row = system_row("box", &desc, &[], "training", "5.1.0").expect("complete");
        assert_eq!(row.get("accelerators_count"), Some(&Cell::Int(16)));
        assert_eq!(row.get("host_processors_count"), Some(&Cell::Int(4)));
        assert_eq!(row.get("notes"), Some(&Cell::Str("n".into())));
        assert_eq!(row.get("rgat:time_to_train"), Some(&Cell::Float(None)));
        assert_eq!(row.get("rgat:RCP"), Some(&Cell::Str(String::new())));
        let mut partial = desc.clone();
        partial.as_object_mut().map(|d| d.remove("framework"));
        assert_eq!(
            system_row("box", &partial, &[], "training", "5.1.0"),
            Err(RowError::MissingField("framework".into()))
        );
    }
}

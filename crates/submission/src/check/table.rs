//! The results table with the official `summary.csv` columns, written as
//! the official checker writes it (its quoting included).

use serde_json::Value;

use super::ResultEntry;

/// The official summary's columns, in order.
pub const SUMMARY_COLUMNS: [&str; 28] = [
    "Organization",
    "Availability",
    "Division",
    "SystemType",
    "SystemName",
    "Platform",
    "Model",
    "MlperfModel",
    "Scenario",
    "Result",
    "Accuracy",
    "number_of_nodes",
    "host_processor_model_name",
    "host_processors_per_node",
    "host_processor_core_count",
    "accelerator_model_name",
    "accelerators_per_node",
    "Location",
    "framework",
    "operating_system",
    "notes",
    "compliance",
    "errors",
    "version",
    "inferred",
    "has_power",
    "Units",
    "weight_data_types",
];

/// One result's cells, already spelled.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    cells: Vec<String>,
    power_cells: Option<Vec<String>>,
}

/// Python's `str()` of a JSON value read by `json.load`.
fn py_str(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "None".to_string(),
        Some(Value::Bool(true)) => "True".to_string(),
        Some(Value::Bool(false)) => "False".to_string(),
        Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) => yardstick_formats::pyfloat::repr(f),
            _ => n.to_string(),
        },
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The power metric's units for a scenario (the official POWER_UNIT_DICT).
pub(crate) fn power_units(scenario: &str) -> &'static str {
    match scenario {
        "SingleStream" | "MultiStream" => "millijoules",
        _ => "Watts",
    }
}

fn quoted(s: &str) -> String {
    format!("\"{s}\"")
}

impl Row {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        submitter: &str,
        division: &str,
        system: &str,
        model_folder: &str,
        mlperf_model: &str,
        scenario: &str,
        result: Option<f64>,
        accuracy: &str,
        json: &serde_json::Map<String, Value>,
        status: &str,
        system_type: &str,
        location: &str,
        compliance: bool,
        inferred: bool,
        power_metric: Option<f64>,
        units: &str,
        weight_data_types: &str,
    ) -> Row {
        let get = |k: &str| json.get(k);
        let text = |k: &str| get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let mut notes = text("hw_notes");
        let sw = text("sw_notes");
        if !sw.is_empty() {
            if !notes.is_empty() {
                notes.push_str(". ");
            }
            notes.push_str(&sw);
        }
        let result_text =
            result.map_or_else(|| "None".to_string(), yardstick_formats::pyfloat::repr);
        let has_power = power_metric.is_some_and(|p| p > 0.0);
        let power_units = power_units(scenario);
        let make = |value: String, units: &str| -> Vec<String> {
            vec![
                submitter.to_string(),
                status.to_string(),
                division.to_string(),
                quoted(system_type),
                quoted(&text("system_name")),
                system.to_string(),
                model_folder.to_string(),
                mlperf_model.to_string(),
                scenario.to_string(),
                value,
                accuracy.to_string(),
                py_str(get("number_of_nodes")),
                quoted(&text("host_processor_model_name")),
                py_str(get("host_processors_per_node")),
                py_str(get("host_processor_core_count")),
                quoted(&text("accelerator_model_name")),
                quoted(&py_str(get("accelerators_per_node"))),
                location.to_string(),
                quoted(&text("framework")),
                quoted(&text("operating_system")),
                quoted(&notes),
                if compliance { "1" } else { "0" }.to_string(),
                "0".to_string(),
                String::new(), // the round, filled when written
                if inferred { "1" } else { "0" }.to_string(),
                if has_power { "True" } else { "False" }.to_string(),
                units.to_string(),
                quoted(weight_data_types),
            ]
        };
        let power_only = get("system_power_only").is_some_and(|v| {
            matches!(v, Value::Bool(true))
                || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"))
        });
        Row {
            cells: if has_power && power_only {
                Vec::new()
            } else {
                make(result_text, units)
            },
            power_cells: if has_power {
                power_metric.map(|p| make(yardstick_formats::pyfloat::repr(p), power_units))
            } else {
                None
            },
        }
    }
}

/// The CSV text: the header, then a line per valid result (two for a power
/// result: performance, then power).
pub(crate) fn summary_csv(round: &str, results: &[ResultEntry]) -> String {
    let mut out = SUMMARY_COLUMNS.join(",");
    out.push('\n');
    for result in results.iter().filter(|r| r.valid) {
        let Some(row) = &result.row else { continue };
        for cells in std::iter::once(&row.cells).chain(row.power_cells.iter()) {
            if cells.is_empty() {
                continue;
            }
            let mut cells = cells.clone();
            cells[23] = round.to_string();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
    }
    out
}

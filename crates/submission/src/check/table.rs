//! The results table with the official `summary.csv` columns, written as
//! the official checker writes it (its quoting included).

use serde_json::Value;

use super::round::SummaryFormat;
use super::ResultEntry;

/// The v5.1 summary's columns, in order (each round's are in its rules
/// file, `[summary]`).
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

/// One cell: the value as Python's `str()` spells it (what v6.0 writes,
/// quoted), and as the v5.1 checker writes it (its own quoting, and its
/// own `compliance` and `Location`).
#[derive(Debug, Clone)]
struct Cell {
    plain: String,
    v5_1: String,
}

/// One result's cells, already spelled.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    cells: Vec<(&'static str, Cell)>,
    power_cells: Option<Vec<(&'static str, Cell)>>,
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
        // v6.0's design power: the systems JSON's system_power_capacity,
        // read for power results only.
        let design_power_watts = if has_power {
            get("system_power_capacity")
                .map(|v| py_str(Some(v)))
                .unwrap_or_default()
        } else {
            String::new()
        };
        let power_units = power_units(scenario);
        // Python's int() of the two counts, as v6.0's total_accelerators.
        let as_int = |k: &str| match get(k) {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(t)) => t.trim().parse::<i64>().ok(),
            _ => None,
        };
        let total_accelerators = match (as_int("number_of_nodes"), as_int("accelerators_per_node"))
        {
            (Some(n), Some(a)) => (n * a).to_string(),
            _ => String::new(),
        };
        let same = |v: String| Cell {
            plain: v.clone(),
            v5_1: v,
        };
        let text_cell = |v: String| Cell {
            v5_1: quoted(&v),
            plain: v,
        };
        let make = |value: String, units: &str| -> Vec<(&'static str, Cell)> {
            vec![
                ("Organization", same(submitter.to_string())),
                ("Availability", same(status.to_string())),
                ("Division", same(division.to_string())),
                ("SystemType", text_cell(system_type.to_string())),
                ("SystemName", text_cell(text("system_name"))),
                ("Platform", same(system.to_string())),
                ("Model", same(model_folder.to_string())),
                ("MlperfModel", same(mlperf_model.to_string())),
                ("Scenario", same(scenario.to_string())),
                ("Result", same(value)),
                ("Accuracy", same(accuracy.to_string())),
                ("number_of_nodes", same(py_str(get("number_of_nodes")))),
                (
                    "host_processor_model_name",
                    text_cell(text("host_processor_model_name")),
                ),
                (
                    "host_processors_per_node",
                    same(py_str(get("host_processors_per_node"))),
                ),
                (
                    "host_processor_core_count",
                    same(py_str(get("host_processor_core_count"))),
                ),
                (
                    "accelerator_model_name",
                    text_cell(text("accelerator_model_name")),
                ),
                (
                    "accelerators_per_node",
                    text_cell(py_str(get("accelerators_per_node"))),
                ),
                ("total_accelerators", same(total_accelerators.clone())),
                (
                    "Location",
                    Cell {
                        plain: format!("{location}/performance/run_1"),
                        v5_1: location.to_string(),
                    },
                ),
                ("framework", text_cell(text("framework"))),
                ("operating_system", text_cell(text("operating_system"))),
                ("notes", text_cell(notes.clone())),
                (
                    "compliance",
                    Cell {
                        // The official v6.0 summary puts the division in this
                        // column (not a verdict); we write what it writes.
                        plain: division.to_string(),
                        v5_1: if compliance { "1" } else { "0" }.to_string(),
                    },
                ),
                ("errors", same("0".to_string())),
                (
                    "inferred",
                    same(if inferred { "1" } else { "0" }.to_string()),
                ),
                (
                    "has_power",
                    same(if has_power { "True" } else { "False" }.to_string()),
                ),
                ("Units", same(units.to_string())),
                (
                    "weight_data_types",
                    text_cell(weight_data_types.to_string()),
                ),
                ("design_power_watts", same(design_power_watts.clone())),
                ("PrivateID", same(String::new())),
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

/// The CSV text in the round's format: the header, then a line per valid
/// result (two for a power result: performance, then power).
pub(crate) fn summary_csv(round: &str, format: &SummaryFormat, results: &[ResultEntry]) -> String {
    let mut out = format.columns.join(",");
    out.push('\n');
    for result in results.iter().filter(|r| r.valid) {
        let Some(row) = &result.row else { continue };
        for cells in std::iter::once(&row.cells).chain(row.power_cells.iter()) {
            if cells.is_empty() {
                continue;
            }
            let line: Vec<String> = format
                .columns
                .iter()
                .map(|column| {
                    let cell = cells.iter().find(|(name, _)| name == column);
                    let value = match (column.as_str(), cell) {
                        ("version", _) => round.to_string(),
                        (_, Some((_, cell))) if format.quote_all => cell.plain.clone(),
                        (_, Some((_, cell))) => cell.v5_1.clone(),
                        (_, None) => String::new(),
                    };
                    if format.quote_all {
                        quoted(&value)
                    } else {
                        value
                    }
                })
                .collect();
            out.push_str(&line.join(","));
            out.push('\n');
        }
    }
    out
}

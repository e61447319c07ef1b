//! `systems/<system>.json`: the MLPerf fields of the system description a
//! run captured (yardstick-sysinfo fills them as mlperf-sysinfo does), with
//! `submission.toml`'s facts over them.

use serde_json::{Map, Value};
use yardstick_record::RunRecord;
use yardstick_sysinfo::{SystemDescription, MLPERF_REQUIRED_FIELDS};

use super::config::{ConfigKey, MissingKey, SubmissionConfig};

/// Fields the official checker (v5.1, v6.0) requires to be non-empty
/// (SYSTEM_DESC_MEANINGFUL_RESPONSE_REQUIRED_FIELDS), in its order.
pub const MEANINGFUL_FIELDS: &[&str] = &[
    "division",
    "submitter",
    "system_type",
    "status",
    "system_name",
    "number_of_nodes",
    "host_processor_model_name",
    "host_processors_per_node",
    "host_processor_core_count",
    "host_memory_capacity",
    "host_memory_configuration",
    "host_storage_capacity",
    "host_storage_type",
    "host_networking",
    "host_network_card_count",
    "host_networking_topology",
    "accelerators_per_node",
    "accelerator_model_name",
    "accelerator_memory_capacity",
    "accelerator_host_interconnect",
    "accelerator_memory_configuration",
    "accelerator_interconnect",
    "cooling",
    "framework",
    "operating_system",
    "other_software_stack",
];

/// Allowed values of the fields the checker matches against a list.
pub const ALLOWED_VALUES: &[(&str, &[&str])] = &[
    ("division", &["closed", "open", "network"]),
    ("status", &["available", "preview", "rdi"]),
    (
        "system_type",
        &["datacenter", "edge", "datacenter,edge", "edge,datacenter"],
    ),
];

/// What a prompt says for a field.
fn question(field: &str) -> String {
    let hint = match field {
        "system_name" => "system name as published, e.g. \"Acme Box (yardstick)\"",
        "status" => "availability: available | preview | rdi",
        "system_type" => "system type: datacenter | edge",
        "cooling" => "cooling: air | liquid",
        "framework" => "framework and version",
        "host_memory_configuration" => "host memory configuration, e.g. 8x 32GB DDR5",
        "host_networking_topology" => "host networking topology, e.g. N/A",
        "accelerators_per_node" => "accelerators per node (\"0\" on a system without accelerators: the checker takes a number 0 for empty)",
        f if f.starts_with("accelerator") => "(N/A on a system without accelerators)",
        _ => "",
    };
    if hint.is_empty() {
        format!("systems JSON field {field}")
    } else {
        format!("systems JSON field {field}: {hint}")
    }
}

/// Empty as the checker's `not value` sees it: Python's falsy values, so
/// a number 0 is empty (a system without accelerators writes "0" as text,
/// as published trees do).
fn is_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        Some(_) => false,
    }
}

/// The MLPerf fields of `record`'s captured system description (every
/// required field present, "" where unknown), and why they could not be
/// read where they could not.
pub fn probed_fields(record: &RunRecord) -> (Map<String, Value>, Option<String>) {
    let mut fields = Map::new();
    let mut note = None;
    match &record.system {
        Some(value) => match serde_json::from_value::<SystemDescription>(value.clone()) {
            Ok(desc) => {
                for (k, v) in desc.mlperf_fields().iter() {
                    fields.insert(k.to_string(), v.clone());
                }
            }
            Err(e) => {
                note = Some(format!(
                    "run {}: its system description could not be read ({e}); the systems JSON comes from submission.toml only",
                    record.id
                ))
            }
        },
        None => {
            note = Some(format!(
                "run {} carries no system description; the systems JSON comes from submission.toml only",
                record.id
            ))
        }
    }
    for field in MLPERF_REQUIRED_FIELDS {
        fields
            .entry(field.to_string())
            .or_insert_with(|| Value::String(String::new()));
    }
    (fields, note)
}

/// The systems JSON: the probed fields, then `submission.toml`'s
/// `[system_json]`, then its submitter and division (they must match the
/// folders).
pub fn system_json(probed: &Map<String, Value>, config: &SubmissionConfig) -> Map<String, Value> {
    let mut fields = probed.clone();
    for (k, v) in &config.system_json {
        fields.insert(k.clone(), v.clone());
    }
    if let Some(s) = &config.submitter {
        fields.insert("submitter".into(), Value::String(s.clone()));
    }
    if let Some(d) = &config.division {
        fields.insert("division".into(), Value::String(d.clone()));
    }
    fields
}

/// The meaningful fields still empty once `submission.toml` is applied
/// (submitter and division are asked for on their own).
pub fn missing_fields(fields: &Map<String, Value>) -> Vec<MissingKey> {
    MEANINGFUL_FIELDS
        .iter()
        .filter(|f| !matches!(**f, "submitter" | "division"))
        .filter(|f| is_empty(fields.get(**f)))
        .map(|f| MissingKey {
            key: ConfigKey::SystemField(f.to_string()),
            question: question(f),
        })
        .collect()
}

/// The first field whose value is not one the checker allows: (field,
/// value, allowed).
pub fn disallowed_value(fields: &Map<String, Value>) -> Option<(String, String, Vec<String>)> {
    for (field, allowed) in ALLOWED_VALUES {
        if let Some(Value::String(v)) = fields.get(*field) {
            // The checker lower-cases status; division and type are compared as written.
            let seen = if *field == "status" {
                v.to_lowercase()
            } else {
                v.clone()
            };
            if !v.is_empty() && !allowed.contains(&seen.as_str()) {
                return Some((
                    field.to_string(),
                    v.clone(),
                    allowed.iter().map(|s| s.to_string()).collect(),
                ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use yardstick_record::{RunKind, WorkloadInfo};

    fn record_without_system() -> RunRecord {
        RunRecord::new(
            RunKind::Loadgen,
            chrono::Utc::now(),
            WorkloadInfo::default(),
        )
    }

    #[test]
    fn without_a_description_every_meaningful_field_is_asked_for() {
        let (probed, note) = probed_fields(&record_without_system());
        assert!(note.unwrap().contains("no system description"));
        for f in MLPERF_REQUIRED_FIELDS {
            assert_eq!(probed[*f], Value::String(String::new()), "{f}");
        }
        let missing = missing_fields(&system_json(&probed, &SubmissionConfig::default()));
        assert_eq!(missing.len(), MEANINGFUL_FIELDS.len() - 2);
        assert_eq!(missing[0].key.path(), "system_json.system_type");
    }

    #[test]
    fn config_values_fill_the_fields_and_are_checked() {
        let (probed, _) = probed_fields(&record_without_system());
        let mut config = SubmissionConfig {
            submitter: Some("Acme".into()),
            division: Some("closed".into()),
            ..Default::default()
        };
        for f in MEANINGFUL_FIELDS {
            config.set(&ConfigKey::SystemField(f.to_string()), "x");
        }
        config.set(&ConfigKey::SystemField("status".into()), "Available");
        config.set(&ConfigKey::SystemField("system_type".into()), "edge");
        let json = system_json(&probed, &config);
        assert_eq!(json["submitter"], "Acme");
        assert_eq!(json["division"], "closed");
        assert!(missing_fields(&json).is_empty());
        assert_eq!(disallowed_value(&json), None);
        // The checker reads a number 0 as an empty answer; the text "0" is one.
        config
            .system_json
            .insert("accelerators_per_node".into(), serde_json::json!(0));
        let json = system_json(&probed, &config);
        let missing: Vec<String> = missing_fields(&json).iter().map(|k| k.key.path()).collect();
        assert_eq!(missing, vec!["system_json.accelerators_per_node"]);
        config.set(&ConfigKey::SystemField("accelerators_per_node".into()), "0");
        assert_eq!(
            config.system_json["accelerators_per_node"],
            serde_json::json!("0")
        );
        assert!(missing_fields(&system_json(&probed, &config)).is_empty());
        config.set(&ConfigKey::SystemField("system_type".into()), "cloud");
        let json = system_json(&probed, &config);
        let (field, value, _) = disallowed_value(&json).unwrap();
        assert_eq!((field.as_str(), value.as_str()), ("system_type", "cloud"));
    }
}

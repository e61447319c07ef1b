//! The system description checker (`system_desc_checker`, training): every
//! required field present, and from 4.x on a `status` that is one of the
//! four availabilities.

use serde_json::Value as Json;

/// Fields every system description must have.
pub const REQUIRED_FIELDS: &[&str] = &[
    "submitter",
    "division",
    "status",
    "system_name",
    "number_of_nodes",
    "host_processors_per_node",
    "host_processor_model_name",
    "host_processor_core_count",
    "host_processor_vcpu_count",
    "host_processor_frequency",
    "host_processor_caches",
    "host_processor_interconnect",
    "host_memory_capacity",
    "host_storage_type",
    "host_storage_capacity",
    "host_networking",
    "host_networking_topology",
    "host_memory_configuration",
    "accelerators_per_node",
    "accelerator_model_name",
    "accelerator_host_interconnect",
    "accelerator_frequency",
    "accelerator_on-chip_memories",
    "accelerator_memory_configuration",
    "accelerator_memory_capacity",
    "accelerator_interconnect",
    "accelerator_interconnect_topology",
    "cooling",
    "hw_notes",
    "framework",
    "other_software_stack",
    "operating_system",
    "sw_notes",
];

/// The availabilities `status` may name.
pub const AVAILABILITIES: &[&str] = &[
    "Available on-premise",
    "Available cloud",
    "Research, Development, or Internal (RDI)",
    "Preview",
];

/// The check of one system description.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SystemDescCheck {
    pub valid: bool,
    /// `system_name`, or empty.
    pub system_name: String,
    /// Why it is invalid, as the checker words it.
    pub reasons: Vec<String>,
}

impl SystemDescCheck {
    /// The checker's log line.
    pub fn message(&self) -> String {
        if self.valid {
            format!(
                "  System description checker passed for {}",
                self.system_name
            )
        } else {
            format!(
                "  System description checker failed for {} : [{}]",
                self.system_name,
                self.reasons
                    .iter()
                    .map(|r| format!("'{r}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}

fn python_str(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Checks a parsed system description for `usage`/`ruleset`.
pub fn check_system_desc(desc: &Json, usage: &str, ruleset: &str) -> SystemDescCheck {
    let mut reasons: Vec<String> = REQUIRED_FIELDS
        .iter()
        .filter(|f| desc.get(**f).is_none())
        .map(|f| format!("Missing field {f}"))
        .collect();
    let major: u32 = ruleset
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if usage == "training" && major >= 4 {
        if let Some(status) = desc.get("status") {
            let valid = matches!(status, Json::String(s) if AVAILABILITIES.contains(&s.as_str()));
            if !valid {
                // The checker replaces the reasons so far with this one.
                reasons = vec![format!(
                    "Field status contains a non valid value: {}, must be one of [{}]",
                    python_str(status),
                    AVAILABILITIES
                        .iter()
                        .map(|a| format!("'{a}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )];
            }
        }
    }
    SystemDescCheck {
        valid: reasons.is_empty(),
        system_name: desc.get("system_name").map(python_str).unwrap_or_default(),
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Json {
        let mut desc = serde_json::Map::new();
        for f in REQUIRED_FIELDS {
            desc.insert((*f).into(), Json::String(String::new()));
        }
        desc.insert("status".into(), "Available cloud".into());
        desc.insert("system_name".into(), "box".into());
        Json::Object(desc)
    }

    #[test]
    fn complete_description_passes() {
        let check = check_system_desc(&full(), "training", "5.1.0");
        assert!(check.valid);
        assert_eq!(
            check.message(),
            "  System description checker passed for box"
        );
    }

    #[test]
    fn missing_field_and_bad_status_fail() {
        let mut desc = full();
        desc.as_object_mut().map(|d| d.remove("cooling"));
        let check = check_system_desc(&desc, "training", "5.1.0");
        assert!(!check.valid);
        assert_eq!(check.reasons, vec!["Missing field cooling".to_string()]);
        desc["status"] = "available".into();
        let check = check_system_desc(&desc, "training", "5.1.0");
        assert_eq!(check.reasons.len(), 1);
        assert!(check.reasons[0].starts_with("Field status contains a non valid value: available"));
    }
}

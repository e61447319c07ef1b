//! The user's system file: the facts about a system no probe can know
//! (who submits it, in which division, whether it can be bought), written
//! once with `yardstick system init` as a small TOML file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::SysinfoError;

/// Overrides the system file's location.
pub const SYSTEM_FILE_ENV: &str = "YARDSTICK_SYSTEM_FILE";

/// The facts of the system file. Every field is optional: what is missing
/// stays empty in the MLPerf fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSystem {
    /// MLPerf `system_name`, e.g. "8xH100_TRT".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_name: Option<String>,
    /// MLPerf `submitter`: the organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitter: Option<String>,
    /// MLPerf `submitter_contact`: an e-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitter_contact: Option<String>,
    /// MLPerf `division`: "closed" or "open".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division: Option<String>,
    /// MLPerf `status`: "available", "preview" or "rdi".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// MLPerf `system_type`: "datacenter" or "edge".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_type: Option<String>,
    /// MLPerf `system_type_detail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_type_detail: Option<String>,
    /// MLPerf `framework`: the inference software and its version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    /// MLPerf `cooling`: "air", "liquid", ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooling: Option<String>,
    /// MLPerf `hw_notes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hw_notes: Option<String>,
    /// MLPerf `sw_notes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sw_notes: Option<String>,
    /// MLPerf `other_hardware`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_hardware: Option<String>,
    /// MLPerf `host_networking_topology`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_networking_topology: Option<String>,
    /// MLPerf `number_of_nodes` (1 when not given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_nodes: Option<u32>,
    /// Any MLPerf field, set verbatim over what was probed (for what a probe
    /// gets wrong or cannot see, e.g. `host_memory_configuration` without root).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mlperf: BTreeMap<String, serde_json::Value>,
}

/// The text fields of the system file: (key, what it is). `yardstick system
/// init` asks for them in this order.
pub const USER_TEXT_FIELDS: &[(&str, &str)] = &[
    ("system_name", "system name, e.g. 8xH100_TRT"),
    ("submitter", "submitting organisation"),
    ("submitter_contact", "contact e-mail"),
    ("division", "division: closed | open"),
    ("status", "availability: available | preview | rdi"),
    ("system_type", "system type: datacenter | edge"),
    ("system_type_detail", "system type detail"),
    ("framework", "framework and version"),
    ("cooling", "cooling: air | liquid"),
    ("hw_notes", "hardware notes"),
    ("sw_notes", "software notes"),
    ("other_hardware", "other hardware"),
    ("host_networking_topology", "host networking topology"),
];

impl UserSystem {
    /// Reads a system file.
    pub fn load(path: &Path) -> Result<Self, SysinfoError> {
        let text = std::fs::read_to_string(path).map_err(|source| SysinfoError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| SysinfoError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// Writes the system file, creating its folder.
    pub fn save(&self, path: &Path) -> Result<(), SysinfoError> {
        let body = toml::to_string(self).map_err(SysinfoError::Encode)?;
        let text = format!(
            "# yardstick system file: the facts about this system no probe can know.\n\
             # Written by `yardstick system init`; read by every run.\n\
             # [mlperf] sets any field of the MLPerf systems JSON verbatim.\n\n{body}"
        );
        let write_error = |source| SysinfoError::Write {
            path: path.to_owned(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(write_error)?;
        }
        std::fs::write(path, text).map_err(write_error)
    }

    /// The value of a text field by its key (one of [`USER_TEXT_FIELDS`]).
    pub fn text(&self, key: &str) -> Option<&str> {
        self.text_slot(key)?.as_deref()
    }

    /// Sets a text field by its key; false when the key is not one of
    /// [`USER_TEXT_FIELDS`]. An empty value clears it.
    pub fn set_text(&mut self, key: &str, value: &str) -> bool {
        match self.text_slot_mut(key) {
            Some(slot) => {
                let value = value.trim();
                *slot = (!value.is_empty()).then(|| value.to_owned());
                true
            }
            None => false,
        }
    }

    fn text_slot(&self, key: &str) -> Option<&Option<String>> {
        Some(match key {
            "system_name" => &self.system_name,
            "submitter" => &self.submitter,
            "submitter_contact" => &self.submitter_contact,
            "division" => &self.division,
            "status" => &self.status,
            "system_type" => &self.system_type,
            "system_type_detail" => &self.system_type_detail,
            "framework" => &self.framework,
            "cooling" => &self.cooling,
            "hw_notes" => &self.hw_notes,
            "sw_notes" => &self.sw_notes,
            "other_hardware" => &self.other_hardware,
            "host_networking_topology" => &self.host_networking_topology,
            _ => return None,
        })
    }

    fn text_slot_mut(&mut self, key: &str) -> Option<&mut Option<String>> {
        Some(match key {
            "system_name" => &mut self.system_name,
            "submitter" => &mut self.submitter,
            "submitter_contact" => &mut self.submitter_contact,
            "division" => &mut self.division,
            "status" => &mut self.status,
            "system_type" => &mut self.system_type,
            "system_type_detail" => &mut self.system_type_detail,
            "framework" => &mut self.framework,
            "cooling" => &mut self.cooling,
            "hw_notes" => &mut self.hw_notes,
            "sw_notes" => &mut self.sw_notes,
            "other_hardware" => &mut self.other_hardware,
            "host_networking_topology" => &mut self.host_networking_topology,
            _ => return None,
        })
    }
}

/// The per-user default: `$XDG_CONFIG_HOME/yardstick/system.toml`, else
/// `$HOME/.config/yardstick/system.toml`.
pub fn default_system_file() -> Result<PathBuf, SysinfoError> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let config_dir = non_empty("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| non_empty("HOME").map(|home| PathBuf::from(home).join(".config")))
        .ok_or(SysinfoError::NoConfigDir)?;
    Ok(config_dir.join("yardstick").join("system.toml"))
}

/// The system file to use: the explicit one, else `$YARDSTICK_SYSTEM_FILE`,
/// else the per-user default.
pub fn resolve_system_file(explicit: Option<&Path>) -> Result<PathBuf, SysinfoError> {
    if let Some(path) = explicit {
        return Ok(path.to_owned());
    }
    if let Some(path) = std::env::var_os(SYSTEM_FILE_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    default_system_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_toml() {
        let mut user = UserSystem::default();
        assert!(user.set_text("submitter", "ACME"));
        assert!(user.set_text("division", " closed "));
        assert!(!user.set_text("not_a_field", "x"));
        user.number_of_nodes = Some(2);
        user.mlperf.insert(
            "host_memory_configuration".to_owned(),
            serde_json::Value::String("16 x 64GB DDR5-4800".to_owned()),
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/system.toml");
        user.save(&path).expect("save");
        let back = UserSystem::load(&path).expect("load");
        assert_eq!(back, user);
        assert_eq!(back.text("division"), Some("closed"));
        assert!(user.set_text("division", ""));
        assert_eq!(user.division, None);
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("system.toml");
        std::fs::write(&path, "submiter = \"typo\"\n").expect("write");
        let err = UserSystem::load(&path).expect_err("unknown key");
        assert!(matches!(err, SysinfoError::Parse { .. }), "{err:?}");
        assert!(err.to_string().contains("system.toml"), "{err}");
    }

    #[test]
    fn every_text_field_is_settable() {
        let mut user = UserSystem::default();
        for (key, _) in USER_TEXT_FIELDS {
            assert!(user.set_text(key, key), "{key}");
            assert_eq!(user.text(key), Some(*key));
        }
    }
}

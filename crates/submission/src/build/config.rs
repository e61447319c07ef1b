//! `submission.toml`: what no run can know about a submission (who
//! submits, in which division, the system's name, the facts of the
//! systems JSON no probe sees, each benchmark's model facts for the
//! measurements JSON). Asked for once, then kept: in the tree's root or in
//! the user's config folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file's name, in the tree root or `$XDG_CONFIG_HOME/yardstick/`.
pub const CONFIG_FILE: &str = "submission.toml";

/// The contents of `submission.toml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmissionConfig {
    /// The submitting organisation: the `<submitter>` folder and the
    /// systems JSON's `submitter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitter: Option<String>,
    /// `closed`, `open` or `network`: the `<division>` folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division: Option<String>,
    /// The system's folder name (`results/<system>/`, `systems/<system>.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Fields of `systems/<system>.json`, set verbatim over what the run's
    /// system description gives (`system_name`, `status`, `cooling`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub system_json: BTreeMap<String, serde_json::Value>,
    /// Per benchmark, the measurements JSON's fields (`input_data_types`,
    /// `retraining`, `starting_weights_filename`, `weight_data_types`,
    /// `weight_transformations`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub measurements: BTreeMap<String, BTreeMap<String, String>>,
}

/// A value `submission.toml` lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigKey {
    Submitter,
    Division,
    System,
    /// A field of the systems JSON.
    SystemField(String),
    /// A field of one benchmark's measurements JSON.
    Measurement {
        benchmark: String,
        field: String,
    },
}

impl ConfigKey {
    /// Where it goes in `submission.toml`: `submitter`,
    /// `system_json.cooling`, `measurements.resnet50.retraining`.
    pub fn path(&self) -> String {
        match self {
            ConfigKey::Submitter => "submitter".into(),
            ConfigKey::Division => "division".into(),
            ConfigKey::System => "system".into(),
            ConfigKey::SystemField(f) => format!("system_json.{f}"),
            ConfigKey::Measurement { benchmark, field } => {
                format!("measurements.{benchmark}.{field}")
            }
        }
    }
}

/// A missing value and the question that asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingKey {
    pub key: ConfigKey,
    pub question: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("writing {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("serializing {}: {source}", path.display())]
    Serialize {
        path: PathBuf,
        #[source]
        source: toml::ser::Error,
    },
}

impl SubmissionConfig {
    /// Reads `path`; a file that does not exist is an empty config.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Writes the config to `path` (its folder created).
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let text = toml::to_string_pretty(self).map_err(|source| ConfigError::Serialize {
            path: path.to_path_buf(),
            source,
        })?;
        let write = |p: &Path| -> std::io::Result<()> {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(
                p,
                format!("# yardstick submission build: what no run can know\n{text}"),
            )
        };
        write(path).map_err(|source| ConfigError::Write {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Sets the value of `key` from an answer: a whole number above 0
    /// becomes a JSON number in the systems JSON (`number_of_nodes`), else
    /// text ("0" stays text: the checker takes a number 0 for empty).
    pub fn set(&mut self, key: &ConfigKey, answer: &str) {
        let answer = answer.trim().to_string();
        match key {
            ConfigKey::Submitter => self.submitter = Some(answer),
            ConfigKey::Division => self.division = Some(answer),
            ConfigKey::System => self.system = Some(answer),
            ConfigKey::SystemField(field) => {
                let value = match answer.parse::<u64>() {
                    Ok(n) if n > 0 => serde_json::Value::from(n),
                    _ => serde_json::Value::String(answer),
                };
                self.system_json.insert(field.clone(), value);
            }
            ConfigKey::Measurement { benchmark, field } => {
                self.measurements
                    .entry(benchmark.clone())
                    .or_default()
                    .insert(field.clone(), answer);
            }
        }
    }
}

/// The user's `submission.toml`: `$XDG_CONFIG_HOME/yardstick/`, else
/// `~/.config/yardstick/`.
pub fn user_config_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".config"))
        })?;
    Some(base.join("yardstick").join(CONFIG_FILE))
}

/// Which `submission.toml` a build of `tree` reads and writes: `explicit`
/// if given; else the tree root's if it exists; else the user's if it
/// exists; else the tree root's (created when answers are stored).
pub fn locate_config(explicit: Option<&Path>, tree: &Path) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    let in_tree = tree.join(CONFIG_FILE);
    if in_tree.is_file() {
        return in_tree;
    }
    match user_config_path() {
        Some(user) if user.is_file() => user,
        _ => in_tree,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_round_trip_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE);
        let mut c = SubmissionConfig::load(&path).unwrap();
        assert_eq!(c, SubmissionConfig::default());
        c.set(&ConfigKey::Submitter, " Acme ");
        c.set(&ConfigKey::SystemField("number_of_nodes".into()), "2");
        c.set(&ConfigKey::SystemField("cooling".into()), "air");
        c.set(
            &ConfigKey::Measurement {
                benchmark: "resnet50".into(),
                field: "retraining".into(),
            },
            "no",
        );
        c.save(&path).unwrap();
        let back = SubmissionConfig::load(&path).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.submitter.as_deref(), Some("Acme"));
        assert_eq!(back.system_json["number_of_nodes"], serde_json::json!(2));
        assert_eq!(back.system_json["cooling"], serde_json::json!("air"));
        assert_eq!(back.measurements["resnet50"]["retraining"], "no");
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE);
        std::fs::write(&path, "submiter = \"Acme\"\n").unwrap();
        let err = SubmissionConfig::load(&path).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("submission.toml"), "{text}");
        assert!(text.contains("submiter"), "{text}");
    }

    #[test]
    fn the_tree_root_file_wins_when_it_exists() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), "").unwrap();
        assert_eq!(
            locate_config(None, dir.path()),
            dir.path().join(CONFIG_FILE)
        );
        let explicit = dir.path().join("other.toml");
        assert_eq!(locate_config(Some(&explicit), dir.path()), explicit);
    }
}

//! client.json and server.json: power-dev's session summaries, as its
//! compliance checker reads them.

use super::clock::unix_seconds;
use super::PtdError;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Instant, SystemTime};

/// One command and its reply, with the times each was sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// The command.
    pub cmd: String,
    /// When it was sent (Unix seconds).
    pub cmd_time: f64,
    /// The reply.
    pub reply: String,
    /// When the reply came.
    pub reply_time: f64,
}

/// A command to PTDaemon and its reply (server.json's `ptd_messages`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PtdMessage {
    /// The command.
    pub cmd: String,
    /// The reply.
    pub reply: String,
}

/// The client's and the server's session UUIDs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Uuids {
    /// Chosen by the client.
    pub client: String,
    /// Chosen by the server.
    pub server: String,
}

/// The four checkpoints of each mode, each `[unix seconds, monotonic
/// seconds]`: 0 before the start command, 1 after it, 2 after the workload,
/// 3 after the stop command.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Phases {
    /// The ranging run's checkpoints.
    pub ranging: Vec<[f64; 2]>,
    /// The testing run's checkpoints.
    pub testing: Vec<[f64; 2]>,
}

impl Phases {
    /// Record checkpoint `index` of `mode` now (power-dev keeps the latest
    /// when a checkpoint repeats).
    pub(crate) fn mark(&mut self, testing: bool, index: usize) {
        let list = if testing {
            &mut self.testing
        } else {
            &mut self.ranging
        };
        let pair = [unix_seconds(SystemTime::now()), monotonic_seconds()];
        if list.len() == index {
            list.push(pair);
        } else if list.len() > index {
            list[index] = pair;
        }
    }
}

/// client.json / server.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// The summary format's version.
    pub version: String,
    /// Seconds west of UTC of the writer's clock (0: we write UTC).
    pub timezone: i64,
    /// Which source file each module came from.
    pub modules: BTreeMap<String, String>,
    /// SHA-1 of each source file of the program that wrote this.
    pub sources: BTreeMap<String, String>,
    /// Every client command and its reply, in order.
    pub messages: Vec<Message>,
    /// The session's UUIDs.
    pub uuid: Uuids,
    /// The session name the director gave.
    pub session_name: String,
    /// SHA-1 of each file of the session folder when this was written.
    pub results: BTreeMap<String, String>,
    /// The ranging and testing checkpoints.
    pub phases: Phases,
    /// The server's exchange with PTDaemon (server.json only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ptd_messages: Option<Vec<PtdMessage>>,
    /// The server's PTDaemon configuration (server.json only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ptd_config: Option<Vec<serde_json::Value>>,
    /// Present (true) only when the server ran in debug mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug: Option<bool>,
}

impl SessionSummary {
    /// An empty summary of yardstick's code.
    pub(crate) fn new() -> Self {
        Self {
            version: "1.0".into(),
            timezone: 0,
            modules: BTreeMap::from([(
                "yardstick_power::ptd".to_string(),
                "crates/power/src/ptd/mod.rs".to_string(),
            )]),
            sources: yardstick_sources(),
            messages: Vec::new(),
            uuid: Uuids {
                client: String::new(),
                server: String::new(),
            },
            session_name: String::new(),
            results: BTreeMap::new(),
            phases: Phases::default(),
            ptd_messages: None,
            ptd_config: None,
            debug: None,
        }
    }

    /// Record one exchange.
    pub(crate) fn message(&mut self, cmd: &str, cmd_time: SystemTime, reply: &str) {
        self.messages.push(Message {
            cmd: cmd.to_string(),
            cmd_time: unix_seconds(cmd_time),
            reply: reply.to_string(),
            reply_time: unix_seconds(SystemTime::now()),
        });
    }

    /// Write as power-dev does (indented JSON).
    pub(crate) fn save(&self, path: &Path) -> Result<(), PtdError> {
        let text = serde_json::to_string_pretty(self).map_err(|source| PtdError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        std::fs::write(path, text).map_err(|source| PtdError::File {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// SHA-1 of each source file of yardstick's power-protocol code: what a
/// summary's `sources` names, as power-dev names its own Python files (the
/// official checker accepts only power-dev's; see [`super::check`]).
pub fn yardstick_sources() -> BTreeMap<String, String> {
    let files: [(&str, &str); 8] = [
        ("ptd/mod.rs", include_str!("mod.rs")),
        ("ptd/clock.rs", include_str!("clock.rs")),
        ("ptd/wire.rs", include_str!("wire.rs")),
        ("ptd/spl.rs", include_str!("spl.rs")),
        ("ptd/session.rs", include_str!("session.rs")),
        ("ptd/director.rs", include_str!("director.rs")),
        ("ptd/meter.rs", include_str!("meter.rs")),
        ("ptd/sim/director.rs", include_str!("sim/director.rs")),
    ];
    files
        .iter()
        .map(|(name, text)| (name.to_string(), sha1_hex(text.as_bytes())))
        .collect()
}

/// Lower-case hex SHA-1.
pub(crate) fn sha1_hex(bytes: &[u8]) -> String {
    Sha1::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// SHA-1 of every file under `dir`, keyed by its `/`-separated relative
/// path (power-dev's `hash_dir`).
pub fn hash_dir(dir: &Path) -> Result<BTreeMap<String, String>, PtdError> {
    let mut hashes = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let entries = std::fs::read_dir(&folder).map_err(|source| PtdError::File {
            path: folder.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| PtdError::File {
                path: folder.clone(),
                source,
            })?;
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).map_err(|source| PtdError::File {
                path: path.clone(),
                source,
            })?;
            let relative = path.strip_prefix(dir).unwrap_or(&path);
            let key: Vec<String> = relative
                .components()
                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                .collect();
            hashes.insert(key.join("/"), sha1_hex(&bytes));
        }
    }
    Ok(hashes)
}

/// Seconds on a monotonic clock (its origin is the first call, as Python's
/// `time.monotonic()` has an arbitrary one).
pub(crate) fn monotonic_seconds() -> f64 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed().as_secs_f64()
}

/// A random (version 4) UUID, from the standard library's randomly keyed
/// hasher and the clock (session ids need uniqueness, not secrecy).
pub(crate) fn new_uuid() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut words = [0u64; 2];
    for (index, word) in words.iter_mut().enumerate() {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        hasher.write_usize(index);
        *word = hasher.finish();
    }
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&words[0].to_be_bytes());
    bytes[8..].copy_from_slice(&words[1].to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Whether `text` is a UUID in its hyphenated form.
pub(crate) fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(group, length)| {
            group.len() == length && group.chars().all(|c| c.is_ascii_hexdigit())
        })
}

/// power-dev's label rule: letters, digits, `-` and `_` only.
pub(crate) fn is_valid_label(label: &str) -> bool {
    label
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

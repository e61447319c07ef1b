//! Reading and writing `run.json`.

use std::path::{Path, PathBuf};

use crate::{RunRecord, SCHEMA_VERSION};

/// The record's file name, beside the run's logs.
pub const RUN_JSON: &str = "run.json";

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a yardstick run record")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(
        "{path} was written by a newer yardstick (run record schema {found}; this yardstick reads up to {supported}): upgrade yardstick to read it"
    )]
    TooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("cannot encode the run record")]
    Encode(#[source] serde_json::Error),
}

/// Reads a record: `path` is `run.json` or the folder that holds it.
pub fn read_record(path: &Path) -> Result<RunRecord, RecordError> {
    let file = if path.is_dir() {
        path.join(RUN_JSON)
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&file).map_err(|source| RecordError::Read {
        path: file.clone(),
        source,
    })?;
    // The version first, so a newer format is refused by name rather than
    // as a confusing field error.
    #[derive(serde::Deserialize)]
    struct Version {
        schema_version: Option<u32>,
    }
    let version: Version = serde_json::from_str(&text).map_err(|source| RecordError::Parse {
        path: file.clone(),
        source,
    })?;
    if let Some(found) = version.schema_version {
        if found > SCHEMA_VERSION {
            return Err(RecordError::TooNew {
                path: file,
                found,
                supported: SCHEMA_VERSION,
            });
        }
    }
    serde_json::from_str(&text).map_err(|source| RecordError::Parse { path: file, source })
}

/// Writes `record` as `dir/run.json` (through a temporary file and a rename,
/// so a reader never sees half a record) and returns the path.
pub fn write_record(dir: &Path, record: &RunRecord) -> Result<PathBuf, RecordError> {
    let path = dir.join(RUN_JSON);
    write_record_to(&path, record)?;
    Ok(path)
}

/// Writes `record` to the file `path`, atomically as [`write_record`].
pub fn write_record_to(path: &Path, record: &RunRecord) -> Result<(), RecordError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| RUN_JSON.to_string());
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let mut bytes = serde_json::to_vec_pretty(record).map_err(RecordError::Encode)?;
    bytes.push(b'\n');
    std::fs::write(&tmp, &bytes).map_err(|source| RecordError::Write {
        path: tmp.clone(),
        source,
    })?;
    std::fs::rename(&tmp, path).map_err(|source| RecordError::Write {
        path: path.to_path_buf(),
        source,
    })
}

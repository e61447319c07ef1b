//! `--class-field FIELD`: the request class of each prompt of a JSONL
//! dataset, read from a field of its row.
//!
//! The dataset loader skips rows it cannot use, so the rows are walked
//! again here and matched to the loaded prompts in order (a row is the
//! prompt's when it makes the same prompt text and messages).

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::Value;
use yardstick_endpoint::datafile::{self, DataFileFormat};
use yardstick_endpoint::Dataset;

/// The class given to prompts whose row has no such field.
pub const NO_CLASS: &str = "none";

/// Sets the class of every prompt of `dataset` from `field` of its row in
/// the JSONL file `path`; returns how many rows lacked the field (they get
/// the class [`NO_CLASS`]).
pub fn assign(
    path: &Path,
    prompt_field: Option<&str>,
    field: &str,
    dataset: &mut Dataset,
) -> Result<usize> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let format = datafile::detect_format(path, &bytes[..bytes.len().min(64)]);
    if format != DataFileFormat::Jsonl {
        bail!(
            "--class-field reads JSONL datasets; {} is {}",
            path.display(),
            format.name()
        );
    }
    let text = String::from_utf8_lossy(&bytes);
    type Row = (String, Option<Vec<Value>>, Option<String>);
    let rows: Vec<Row> = text
        .lines()
        .filter_map(|line| match serde_json::from_str::<Value>(line.trim()) {
            Ok(Value::Object(obj)) => {
                let p = datafile::prompt_from_row(&obj, prompt_field).ok()?;
                let class = obj.get(field).and_then(|v| match v {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    other => Some(other.to_string()),
                });
                Some((p.text, p.messages, class))
            }
            _ => None,
        })
        .collect();
    let mut next = 0;
    let mut missing = 0;
    for p in &mut dataset.prompts {
        while next < rows.len() && (rows[next].0 != p.text || rows[next].1 != p.messages) {
            next += 1;
        }
        let class = rows.get(next).and_then(|r| r.2.clone());
        next += 1;
        if class.is_none() {
            missing += 1;
        }
        p.class = Some(class.unwrap_or_else(|| NO_CLASS.to_string()));
    }
    Ok(missing)
}

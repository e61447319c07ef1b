//! The corpus the differential tests run on: any folder laid out as the
//! shared DEV corpus (`<Submitter>/results/<system>/<benchmark>/
//! result_<n>.txt.xz`, `<Submitter>/systems/<system>.json`, and the official
//! verdicts in `expected.json`, as `verdicts.sh` writes them).
//!
//! `YARDSTICK_TRAINING_CORPUS=DIR` points the tests at another corpus (e.g.
//! the HELDOUT submitters, with their own expected.json); the default is
//! ../shared/training/v5.1. `YARDSTICK_TRAINING_BROKEN_CORPUS=DIR` does the
//! same for the broken logs (`broken.json`; default ../shared/training/
//! v5.1-broken). What the tests expect (how many logs, sets, submitters,
//! verdicts) comes from the corpus's own expected.json, never from numbers
//! of one corpus.

#![allow(dead_code)] // each test file uses part of it

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

pub const CORPUS_ENV: &str = "YARDSTICK_TRAINING_CORPUS";
pub const BROKEN_CORPUS_ENV: &str = "YARDSTICK_TRAINING_BROKEN_CORPUS";

fn shared(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/training")
        .join(name)
}

fn from_env(var: &str, default: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => shared(default),
    }
}

/// The corpus of real logs with the official verdicts.
pub fn dir() -> PathBuf {
    from_env(CORPUS_ENV, "v5.1")
}

/// The corpus of broken logs (`broken.json`).
pub fn broken_dir() -> PathBuf {
    from_env(BROKEN_CORPUS_ENV, "v5.1-broken")
}

pub fn read_json(path: &Path) -> Json {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{} (the corpus must be beside the repository, or named by ${CORPUS_ENV}): {e}",
            path.display()
        )
    });
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{}: not valid JSON: {e}", path.display()))
}

/// The corpus's expected.json.
pub fn expected() -> Json {
    read_json(&dir().join("expected.json"))
}

/// `expected.json`'s `usage` and `ruleset` (e.g. `training`, `5.1.0`).
pub fn usage_and_ruleset(expected: &Json) -> (String, String) {
    let field = |name: &str| {
        expected[name]
            .as_str()
            .unwrap_or_else(|| panic!("expected.json has no {name}"))
            .to_string()
    };
    (field("usage"), field("ruleset"))
}

/// `counts.<section>.<verdict>` of expected.json (0 when absent).
pub fn count(expected: &Json, section: &str, verdict: &str) -> usize {
    expected["counts"][section][verdict].as_u64().unwrap_or(0) as usize
}

/// Every `result_*.txt.xz` under the corpus's `<Submitter>/results/`, as
/// paths relative to the corpus (expected.json's keys).
pub fn result_logs_on_disk(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                let in_results = path
                    .strip_prefix(root)
                    .ok()
                    .and_then(|rel| rel.components().nth(1))
                    .is_some_and(|c| c.as_os_str() == "results");
                if in_results && name.starts_with("result_") && name.ends_with(".txt.xz") {
                    let rel = path.strip_prefix(root).expect("under root");
                    out.push(rel.to_string_lossy().into_owned());
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

//! Helpers shared by the integration tests: locating the reference logs
//! written by the official LoadGen 6.0.17.

#![allow(dead_code)]

use std::path::PathBuf;

/// The golden cases, one directory each.
pub const CASES: &[&str] = &[
    "resnet50-multistream-perf",
    "resnet50-offline-perf",
    "resnet50-server-perf",
    "resnet50-singlestream-accuracy",
    "resnet50-singlestream-perf",
    "whisper-server-tokens-equal-issue",
];

/// The directory of the reference logs (`shared/golden/loadgen-6.0.17`
/// beside the repository).
pub fn golden_root() -> PathBuf {
    let root = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/golden/loadgen-6.0.17"
    ));
    assert!(
        root.is_dir(),
        "golden LoadGen logs not found at {}: these tests compare our output with \
         logs written by the official LoadGen 6.0.17 and need the shared/ directory \
         beside the repository checkout",
        root.display()
    );
    root
}

/// The bytes of `file` in golden case `case`.
pub fn golden_bytes(case: &str, file: &str) -> Vec<u8> {
    let path = golden_root().join(case).join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The text of `file` in golden case `case`.
pub fn golden_text(case: &str, file: &str) -> String {
    String::from_utf8(golden_bytes(case, file))
        .unwrap_or_else(|e| panic!("{case}/{file} is not UTF-8: {e}"))
}

/// The first detail line of `case` whose key is `key`, newline included.
pub fn golden_detail_line(case: &str, key: &str) -> String {
    let needle = format!(":::MLLOG {{\"key\": \"{key}\", ");
    golden_text(case, "mlperf_log_detail.txt")
        .lines()
        .find(|l| l.starts_with(&needle))
        .map(|l| format!("{l}\n"))
        .unwrap_or_else(|| panic!("no `{key}` line in {case}/mlperf_log_detail.txt"))
}

/// `line` with the parts that depend on when and where an event was raised
/// (time_ms, file, line_no, pid, tid) masked.
pub fn mask(line: &str) -> String {
    let (head, rest) = line
        .split_once("\"time_ms\": ")
        .unwrap_or_else(|| panic!("no time_ms in {line}"));
    let (_, rest) = rest
        .split_once(", \"namespace\"")
        .unwrap_or_else(|| panic!("no namespace in {line}"));
    let (middle, _) = rest
        .split_once("\"file\": ")
        .unwrap_or_else(|| panic!("no file in {line}"));
    format!("{head}\"time_ms\": T, \"namespace\"{middle}\"file\": F}}}}\n")
}

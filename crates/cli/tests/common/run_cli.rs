//! Helpers for the end-to-end tests of `yardstick run`: the command lines
//! they share, and the checks of how a run ended, so that each test states
//! only what differs.

use std::path::Path;
use std::process::Output;

use super::{text, yardstick_in, yardstick_venv};

/// A path as a command-line argument (the tests' paths are UTF-8).
pub fn path_arg(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// `yardstick run --workload WORKLOAD ARGS` in `dir`.
pub fn run_workload(dir: &Path, workload: &str, args: &[&str]) -> Output {
    yardstick_in(dir, &[&["run", "--workload", workload], args].concat())
}

/// `yardstick run --workload WORKLOAD ARGS` in `dir`, with .venv-ref's
/// ONNX Runtime.
pub fn run_workload_venv(dir: &Path, workload: &str, args: &[&str]) -> Output {
    yardstick_venv(dir, &[&["run", "--workload", workload], args].concat())
}

/// Asserts that the run exited 0, VALID, with `accuracy` on its accuracy
/// line (`top-1 91.370% (9137 of 10000)`, ...), and returns its text.
pub fn assert_valid(o: &Output, accuracy: &str) -> String {
    let t = text(o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("validity                : VALID"), "{t}");
    assert!(
        t.contains(&format!("accuracy                : {accuracy}")),
        "{t}"
    );
    t
}

/// Asserts that the run was refused before any test: exit 2, `message` in
/// its text, and no summary log in `out`.
pub fn assert_ended_before_the_test(o: &Output, out: &Path, message: &str) {
    let t = text(o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains(message), "{t}");
    assert!(!out.join("mlperf_log_summary.txt").exists(), "{t}");
}

/// Asserts that the text file at `path` contains every one of `needles`,
/// and returns its text.
pub fn assert_file_contains(path: &Path, needles: &[&str]) -> String {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    for needle in needles {
        assert!(
            text.contains(needle),
            "{needle:?} not in {}:\n{text}",
            path.display()
        );
    }
    text
}

/// Asserts [`assert_valid`] of an Offline submission run whose summary log
/// in `out` says VALID and names `sut`, and returns its text.
pub fn assert_valid_offline_submission(
    o: &Output,
    out: &Path,
    accuracy: &str,
    sut: &str,
) -> String {
    let t = assert_valid(o, accuracy);
    assert!(t.contains("Offline / SubmissionRun"), "{t}");
    let sut = format!("SUT name : {sut}");
    let summary = out.join("mlperf_log_summary.txt");
    assert_file_contains(&summary, &["Result is : VALID", &sut]);
    t
}

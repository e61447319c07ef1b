//! Helpers shared by the end-to-end tests of the `yardstick` binary.

// Each tests/*.rs is its own crate and uses only some of these helpers.
#![allow(dead_code)]

pub mod run_cli;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A command for the `yardstick` binary under test. Its results store is a
/// file of this test process (never the user's own store) unless the test
/// sets `YARDSTICK_STORE` itself.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_yardstick"));
    c.env("YARDSTICK_STORE", test_store());
    c
}

/// The results store of this test process's runs of the binary.
pub fn test_store() -> PathBuf {
    std::env::temp_dir().join(format!(
        "yardstick-test-store-{}.sqlite",
        std::process::id()
    ))
}

/// Runs `yardstick args` in the test's working directory.
pub fn yardstick(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

/// Runs `yardstick args` with `dir` as its working directory.
pub fn yardstick_in(dir: &Path, args: &[&str]) -> Output {
    bin()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Stdout, then stderr after a separator line.
pub fn text(o: &Output) -> String {
    format!("{}\n--- stderr ---\n{}", stdout(o), stderr(o))
}

/// Removes `d` if it exists and creates it empty.
fn fresh(d: PathBuf) -> PathBuf {
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A fresh, empty `<system temp dir>/<prefix>-<pid>-<name>`.
pub fn temp_scratch(prefix: &str, name: &str) -> PathBuf {
    fresh(std::env::temp_dir().join(format!("{prefix}-{}-{name}", std::process::id())))
}

/// A fresh, empty `$CARGO_TARGET_TMPDIR/<group>/<name>`.
pub fn target_scratch(group: &str, name: &str) -> PathBuf {
    fresh(
        Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(group)
            .join(name),
    )
}

/// A JSON file, parsed.
pub fn read_json(path: &Path) -> Value {
    let s = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("bad JSON in {}: {e}", path.display()))
}

/// The records of an MLPerf log, one `:::MLLOG {json}` per line.
pub fn mllog(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
        .lines()
        .map(|l| {
            let body = l
                .strip_prefix(":::MLLOG ")
                .unwrap_or_else(|| panic!("not an MLLOG line: {l}"));
            serde_json::from_str(body).unwrap_or_else(|e| panic!("bad JSON ({e}): {l}"))
        })
        .collect()
}

/// A `yardstick mock-server` child, killed when dropped.
pub struct Mock {
    pub child: Child,
    /// `http://127.0.0.1:PORT` (or https with `--tls-cert`).
    pub url: String,
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `yardstick mock-server` on a free port of 127.0.0.1 that stops by
/// itself after `serve_for` (a test that dies cannot leave it behind), with
/// `extra` flags, and waits for the line that names its URL.
pub fn start_mock(serve_for: &str, extra: &[&str]) -> Mock {
    let mut child = bin()
        .args([
            "mock-server",
            "--listen",
            "127.0.0.1:0",
            "--serve-for",
            serve_for,
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn mock-server");
    let out = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(out)
        .read_line(&mut line)
        .expect("first line");
    let url = line
        .split_whitespace()
        .last()
        .unwrap_or_default()
        .to_string();
    assert!(
        url.starts_with("http://127.0.0.1:") || url.starts_with("https://127.0.0.1:"),
        "{line}"
    );
    Mock { child, url }
}

/// The reference Python environment (.venv-ref, where .ci/setup-python.sh
/// installs onnxruntime and onnx).
pub fn venv() -> PathBuf {
    let venv = repo().join(".venv-ref");
    assert!(
        venv.join("bin/python").exists(),
        "{} is missing: run .ci/setup-python.sh",
        venv.display()
    );
    venv
}

/// The reference environment's site-packages (the onnx wheel's test
/// models live there).
pub fn venv_site_packages() -> PathBuf {
    let lib = venv().join("lib");
    let python = std::fs::read_dir(&lib)
        .unwrap_or_else(|e| panic!("{}: {e} (run .ci/setup-python.sh)", lib.display()))
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("python"))
        .expect("a python3.x folder in .venv-ref/lib");
    python.path().join("site-packages")
}

/// `yardstick args` in `dir` with .venv-ref as the active Python
/// environment (ONNX Runtime found there, not through ORT_DYLIB_PATH).
pub fn yardstick_venv(dir: &Path, args: &[&str]) -> Output {
    bin()
        .current_dir(dir)
        .env("VIRTUAL_ENV", venv())
        .env_remove("ORT_DYLIB_PATH")
        .args(args)
        .output()
        .expect("the binary runs")
}

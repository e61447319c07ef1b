//! Helpers shared by the integration tests of yardstick-workloads: the
//! repository and ONNX Runtime of the reference Python environment
//! (.ci/setup-python.sh installs onnxruntime and onnx into .venv-ref).

// Each tests/*.rs is its own crate and uses only some of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The reference environment's site-packages.
pub fn site_packages() -> PathBuf {
    let lib = repo().join(".venv-ref/lib");
    let python = std::fs::read_dir(&lib)
        .unwrap_or_else(|e| panic!("{}: {e} (run .ci/setup-python.sh)", lib.display()))
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("python"))
        .expect("a python3.x folder in .venv-ref/lib");
    python.path().join("site-packages")
}

/// libonnxruntime.so.* of the reference environment's onnxruntime wheel
/// (or ORT_DYLIB_PATH).
pub fn ort_library() -> PathBuf {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH") {
        return PathBuf::from(p);
    }
    let capi = site_packages().join("onnxruntime/capi");
    std::fs::read_dir(&capi)
        .unwrap_or_else(|e| panic!("{}: {e} (run .ci/setup-python.sh)", capi.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("libonnxruntime.so.1"))
        })
        .expect("libonnxruntime.so.1.* in the onnxruntime wheel")
}

//! End-to-end tests of `yardstick run --workload fashion-mnist-onnx`: the
//! ONNX Runtime SUT found in the active Python environment (the reference
//! environment .venv-ref, where .ci/setup-python.sh installs onnxruntime)
//! ends VALID with the built-in CNN's accuracy; a missing runtime and a
//! model that is not what the workload says end before any test.

mod common;

use common::{repo, target_scratch, text, yardstick_venv};

#[test]
fn the_onnx_workload_is_valid_with_the_built_in_cnns_accuracy() {
    let d = target_scratch("workload-onnx", "offline");
    let o = yardstick_venv(
        &d,
        &[
            "run",
            "--workload",
            "fashion-mnist-onnx",
            "--scenario",
            "Offline",
            "--duration",
            "1s",
            "-o",
            "out",
        ],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("Offline / SubmissionRun"), "{t}");
    assert!(t.contains("validity                : VALID"), "{t}");
    // The built-in workload's exact score (the classes agree sample for
    // sample: crates/workloads/tests/onnx_sut.rs).
    assert!(
        t.contains("accuracy                : top-1 91.370% (9137 of 10000)"),
        "{t}"
    );
    let summary = std::fs::read_to_string(d.join("out/mlperf_log_summary.txt")).unwrap();
    assert!(summary.contains("Result is : VALID"), "{summary}");
    assert!(
        summary.contains("SUT name : onnx fashion-cnn-v1.onnx fashion-mnist-onnx"),
        "{summary}"
    );
}

#[test]
fn a_missing_runtime_ends_before_the_test_saying_how_to_install_it() {
    let d = target_scratch("workload-onnx", "no-runtime");
    let o = yardstick_venv(
        &d,
        &[
            "run",
            "--workload",
            "fashion-mnist-onnx",
            "--ort-lib",
            "/nonexistent/libonnxruntime.so.1",
            "-o",
            "out",
        ],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("pip install onnxruntime"), "{t}");
    assert!(!d.join("out/mlperf_log_summary.txt").exists(), "{t}");
}

#[test]
fn a_model_whose_output_is_not_the_workloads_ends_before_the_test() {
    // The iris classifier of the onnxruntime wheel in place of the CNN.
    let d = target_scratch("workload-onnx", "wrong-model");
    let site = std::fs::read_dir(repo().join(".venv-ref/lib"))
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("python"))
        .unwrap()
        .path()
        .join("site-packages/onnxruntime/datasets/logreg_iris.onnx");
    let o = yardstick_venv(
        &d,
        &[
            "run",
            "--workload",
            "fashion-mnist-onnx",
            "--onnx",
            site.to_str().unwrap(),
            "-o",
            "out",
        ],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains(
            "does not match the workload file: output `logits` is declared, the model's outputs are [label]"
        ),
        "{t}"
    );
    assert!(!d.join("out/mlperf_log_summary.txt").exists(), "{t}");
}

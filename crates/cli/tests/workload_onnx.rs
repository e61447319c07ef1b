//! End-to-end tests of `yardstick run --workload fashion-mnist-onnx`: the
//! ONNX Runtime SUT found in the active Python environment (the reference
//! environment .venv-ref, where .ci/setup-python.sh installs onnxruntime)
//! ends VALID with the built-in CNN's accuracy; a missing runtime and a
//! model that is not what the workload says end before any test.

mod common;

use common::run_cli::{
    assert_ended_before_the_test, assert_valid_offline_submission, path_arg, run_workload_venv,
};
use common::{target_scratch, venv_site_packages};

#[test]
fn the_onnx_workload_is_valid_with_the_built_in_cnns_accuracy() {
    let d = target_scratch("workload-onnx", "offline");
    let offline = ["--scenario", "Offline", "--duration", "1s", "-o", "out"];
    let o = run_workload_venv(&d, "fashion-mnist-onnx", &offline);
    // The built-in workload's exact score (the classes agree sample for
    // sample: crates/workloads/tests/onnx_sut.rs).
    let sut = "onnx fashion-cnn-v1.onnx fashion-mnist-onnx";
    let accuracy = "top-1 91.370% (9137 of 10000)";
    assert_valid_offline_submission(&o, &d.join("out"), accuracy, sut);
}

#[test]
fn a_missing_runtime_ends_before_the_test_saying_how_to_install_it() {
    let d = target_scratch("workload-onnx", "no-runtime");
    let runtime = "/nonexistent/libonnxruntime.so.1";
    let o = run_workload_venv(
        &d,
        "fashion-mnist-onnx",
        &["--ort-lib", runtime, "-o", "out"],
    );
    assert_ended_before_the_test(&o, &d.join("out"), "pip install onnxruntime");
}

#[test]
fn a_model_whose_output_is_not_the_workloads_ends_before_the_test() {
    // The iris classifier of the onnxruntime wheel in place of the CNN.
    let d = target_scratch("workload-onnx", "wrong-model");
    let iris = venv_site_packages().join("onnxruntime/datasets/logreg_iris.onnx");
    let o = run_workload_venv(
        &d,
        "fashion-mnist-onnx",
        &["--onnx", path_arg(&iris), "-o", "out"],
    );
    assert_ended_before_the_test(
        &o,
        &d.join("out"),
        "does not match the workload file: output `logits` is declared, the model's outputs are [label]",
    );
}

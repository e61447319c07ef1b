//! The shipped reference model, served by the built-in SUT and sample
//! library through yardstick's load generator, classifies the Fashion-MNIST
//! test split as well as the training log says (>= 90% top-1).

use std::sync::Arc;

use yardstick_core::log::MemorySink;
use yardstick_core::run::{start_test, RunOptions};
use yardstick_core::sut::QuerySampleLibrary;
use yardstick_core::{Mode, Scenario, TestSettings};
use yardstick_workloads::model::read_metadata;
use yardstick_workloads::sample::Label;
use yardstick_workloads::train::evaluate;
use yardstick_workloads::Workload;

#[test]
fn shipped_model_reaches_its_reference_top1_through_the_sut() {
    let w = Workload::resolve("fashion-mnist").unwrap();
    let inst = w.instantiate(Some(2), Some(128)).unwrap();
    let n = inst.library.total_sample_count();
    assert_eq!(n, 10_000);

    let s = TestSettings {
        scenario: Scenario::Offline,
        mode: Mode::AccuracyOnly,
        ..TestSettings::default()
    };
    let sink = Arc::new(MemorySink::default());
    let outcome = start_test(
        &inst.sut,
        inst.library.as_ref(),
        &s,
        sink.clone(),
        &RunOptions::default(),
    )
    .unwrap();
    assert!(outcome.faults.is_empty(), "{:?}", outcome.faults);
    let entries = sink.accuracy.lock().unwrap();
    assert_eq!(entries.len(), n);
    let source = inst.library.source();
    let labels: Vec<i64> = (0..n)
        .map(|i| match source.label(i) {
            Label::Class(c) => c,
            Label::None => panic!("sample {i} has no label"),
        })
        .collect();
    let mut seen = vec![false; n];
    let mut good = 0;
    for (_, qsl_idx, data, _) in entries.iter() {
        // The documented response: the predicted class, little-endian int32.
        let class = i32::from_le_bytes(data.as_slice().try_into().expect("4 bytes"));
        assert!((0..10).contains(&class));
        let i = *qsl_idx as usize;
        assert!(!seen[i], "sample {i} answered twice");
        seen[i] = true;
        good += usize::from(i64::from(class) == labels[i]);
    }
    let top1 = good as f64 / n as f64;
    assert!(top1 >= 0.90, "top-1 {top1}");
    // The workload's reference value is this model's exact score...
    assert_eq!(
        Some(top1),
        w.spec.accuracy.reference,
        "workloads/fashion-mnist.toml reference"
    );
    // ...the score recorded in the weights file when it was trained...
    let meta = read_metadata(&w.path(&w.spec.sut.weights)).unwrap();
    assert_eq!(meta["eval_top1"], format!("{top1:.4}"));
    assert_eq!(meta["architecture"], "fashion-cnn-v1");
    // ...and the model's own batched evaluation agrees sample for sample.
    let model = w.open_model().unwrap();
    let dataset = w.open_dataset().unwrap();
    let (correct, total) = evaluate(&model, &dataset, 500, w.normalization()).unwrap();
    assert_eq!((correct, total), (good, n));
}

#[test]
fn the_sut_refuses_samples_that_are_not_loaded() {
    let w = Workload::resolve("fashion-mnist").unwrap();
    let inst = w.instantiate(Some(1), None).unwrap();
    // Nothing loaded: a performance run over a library that loads nothing
    // is not possible through start_test, so check the library directly.
    assert_eq!(inst.library.loaded_count(), 0);
    inst.library.load_samples_to_ram(&[3, 5]).unwrap();
    assert_eq!(inst.library.loaded_count(), 2);
    inst.library.unload_samples_from_ram(&[3]).unwrap();
    assert_eq!(inst.library.loaded_count(), 1);
    let e = inst
        .library
        .load_samples_to_ram(&[10_000])
        .unwrap_err()
        .to_string();
    assert!(e.contains("sample index 10000 is out of range"), "{e}");
}

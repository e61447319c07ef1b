//! The ONNX Runtime SUT: our CNN exported to ONNX answers every test image
//! with the built-in CNN's class; published models nobody here made run
//! through the same batching SUT; a wrong shape, a missing runtime and a
//! model whose output is not what the workload says fail before any test.
//!
//! ONNX Runtime comes from the PyPI `onnxruntime` wheel of the repository's
//! reference environment (.ci/setup-python.sh installs it into .venv-ref),
//! or ORT_DYLIB_PATH.
#![cfg(feature = "onnx")]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use yardstick_core::log::MemorySink;
use yardstick_core::run::{start_test, RunOptions};
use yardstick_core::sut::QuerySampleLibrary;
use yardstick_core::{Mode, Scenario, TestSettings};
use yardstick_workloads::batching::{BatchPolicy, BatchingSut, Model};
use yardstick_workloads::instance::{OnnxRunOptions, OpenError};
use yardstick_workloads::onnx::{load_runtime, OnnxError, OnnxModel, OnnxOptions};
use yardstick_workloads::sample::{Label, SampleSource, SampleTensor, SourceError, TensorLibrary};
use yardstick_workloads::spec::{Origin, ResponseKind};
use yardstick_workloads::tensor::{DType, Dim, TensorSpec};
use yardstick_workloads::Workload;

use common::{ort_library, repo, site_packages};

fn options() -> OnnxRunOptions {
    OnnxRunOptions {
        library: Some(ort_library()),
        ..OnnxRunOptions::default()
    }
}

/// Every sample through start_test (accuracy mode): the responses by sample.
fn responses(sut: &BatchingSut, library: &TensorLibrary) -> Vec<Vec<u8>> {
    let s = TestSettings {
        scenario: Scenario::Offline,
        mode: Mode::AccuracyOnly,
        ..TestSettings::default()
    };
    let sink = Arc::new(MemorySink::default());
    let outcome = start_test(sut, library, &s, sink.clone(), &RunOptions::default()).unwrap();
    assert!(outcome.faults.is_empty(), "{:?}", outcome.faults);
    let n = library.total_sample_count();
    let mut by_sample = vec![Vec::new(); n];
    for (_, index, data, _) in sink.accuracy.lock().unwrap().iter() {
        let i = *index as usize;
        assert!(by_sample[i].is_empty(), "sample {i} answered twice");
        by_sample[i] = data.clone();
    }
    by_sample
}

#[test]
fn the_onnx_cnn_gives_the_built_in_cnns_class_for_every_test_image() {
    let w = Workload::resolve("fashion-mnist-onnx").unwrap();
    let inst = w
        .instantiate_onnx(&OnnxRunOptions {
            threads: Some(2),
            intra_op_threads: Some(1),
            batch_size: Some(100),
            ..options()
        })
        .unwrap();
    let answers = responses(&inst.sut, &inst.library);
    assert_eq!(answers.len(), 10_000);

    // The built-in CNN (candle) on the same images, in batches.
    let reference = Workload::resolve("fashion-mnist").unwrap();
    let model = reference.open_model().unwrap();
    let ds = reference.open_dataset().unwrap();
    let table = reference.normalization().table();
    let mut good = 0;
    for start in (0..ds.len()).step_by(500) {
        let end = (start + 500).min(ds.len());
        let x: Vec<f32> = (start..end)
            .flat_map(|i| ds.image(i).iter().map(|&b| table[b as usize]))
            .collect();
        let x = candle_core::Tensor::from_vec(
            x,
            (end - start, 1, ds.rows, ds.cols),
            &candle_core::Device::Cpu,
        )
        .unwrap();
        for (k, class) in model.predict(&x).unwrap().into_iter().enumerate() {
            let i = start + k;
            let onnx = i32::from_le_bytes(answers[i].as_slice().try_into().expect("4 bytes"));
            assert_eq!(onnx, class as i32, "sample {i}");
            good += usize::from(class == u32::from(ds.labels[i]));
        }
    }
    // ...and so the workload's reference top-1.
    assert_eq!(Some(good as f64 / 10_000.0), w.spec.accuracy.reference);
    match inst.library.source().label(7) {
        Label::Class(c) => assert_eq!(c, i64::from(ds.labels[7])),
        Label::None => panic!("sample 7 has no label"),
    }
}

/// The fashion-mnist-onnx workload file with `from` replaced by `to`.
fn edited(from: &str, to: &str) -> Workload {
    let text = std::fs::read_to_string(repo().join("workloads/fashion-mnist-onnx.toml")).unwrap();
    assert!(text.contains(from), "{from}");
    let dir = repo().join("workloads");
    Workload::parse(
        &text.replacen(from, to, 1),
        Origin::File(dir.join("edited.toml")),
        dir,
    )
    .unwrap()
}

fn open_error(w: &Workload, o: &OnnxRunOptions) -> String {
    match w.instantiate_onnx(o) {
        Ok(_) => panic!("opened"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_wrong_input_shape_is_named_before_the_test() {
    let w = edited("shape = [-1, 1, 28, 28]", "shape = [-1, 1, 32, 32]");
    let e = open_error(&w, &options());
    assert!(
        e.contains(
            "input `image` is declared with shape [?, 1, 32, 32], the model's is [?, 1, 28, 28]"
        ),
        "{e}"
    );
}

#[test]
fn an_output_that_is_not_what_the_workload_says_is_named_before_the_test() {
    let w = edited("shape = [-1, 10]", "shape = [-1, 5]");
    let e = open_error(&w, &options());
    assert!(
        e.contains("output `logits` is declared with shape [?, 5], the model's is [?, 10]"),
        "{e}"
    );
    let w = edited("name = \"logits\"", "name = \"probabilities\"");
    let e = open_error(&w, &options());
    assert!(
        e.contains("output `probabilities` is declared, the model's outputs are [logits]"),
        "{e}"
    );
    let w = edited(
        "dtype = \"float32\"\nshape = [-1, 10]",
        "dtype = \"int64\"\nshape = [-1, 10]",
    );
    let e = open_error(&w, &options());
    assert!(
        e.contains("output `logits` is declared int64, the model's is float32"),
        "{e}"
    );
}

#[test]
fn a_missing_runtime_library_says_how_to_install_it() {
    let w = Workload::resolve("fashion-mnist-onnx").unwrap();
    let e = open_error(
        &w,
        &OnnxRunOptions {
            library: Some(PathBuf::from("/nonexistent/libonnxruntime.so.1")),
            ..OnnxRunOptions::default()
        },
    );
    assert!(e.contains("pip install onnxruntime"), "{e}");
    assert!(
        e.contains("/nonexistent/libonnxruntime.so.1 does not exist"),
        "{e}"
    );
}

/// Samples held in memory: one tensor per input.
struct Memory {
    origin: PathBuf,
    samples: Vec<Vec<SampleTensor>>,
}

impl SampleSource for Memory {
    fn len(&self) -> usize {
        self.samples.len()
    }
    fn origin(&self) -> &Path {
        &self.origin
    }
    fn load(&self, index: usize) -> Result<Vec<SampleTensor>, SourceError> {
        Ok(self.samples[index].clone())
    }
    fn label(&self, _index: usize) -> Label {
        Label::None
    }
}

fn f32s(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A published model through the batching SUT, raw responses by sample.
fn run_published(
    model: &Path,
    samples: Vec<Vec<SampleTensor>>,
    batch: usize,
) -> (Vec<TensorSpec>, Vec<Vec<u8>>) {
    load_runtime(&ort_library()).unwrap();
    let m = OnnxModel::open(model, &OnnxOptions::default()).unwrap();
    let specs = m.outputs().to_vec();
    let library = Arc::new(TensorLibrary::new(
        "published",
        Box::new(Memory {
            origin: model.to_path_buf(),
            samples,
        }),
        usize::MAX,
    ));
    let sut = BatchingSut::new(
        "published",
        vec![Box::new(m) as Box<dyn Model>],
        Arc::clone(&library),
        BatchPolicy {
            batch_size: batch,
            max_wait: std::time::Duration::ZERO,
            response: ResponseKind::Raw,
            top_k: 1,
        },
    )
    .unwrap();
    (specs, responses(&sut, &library))
}

#[test]
fn the_onnxruntime_wheels_iris_classifier_answers_int64_labels() {
    // logreg_iris.onnx (scikit-learn logistic regression, shipped in the
    // onnxruntime wheel): a fixed batch of 3, float input, an int64 label
    // output and a probabilities output that is a sequence of maps (not
    // read). 7 samples: batches of 3 padded with zeros.
    let model = site_packages().join("onnxruntime/datasets/logreg_iris.onnx");
    let flowers: [[f32; 2]; 7] = [
        [5.1, 3.5],
        [-5.0, 0.0],
        [5.0, -5.0],
        [0.0, 0.0],
        [10.0, 0.0],
        [2.0, 2.0],
        [-5.0, 2.0],
    ];
    let samples = flowers
        .iter()
        .map(|x| {
            vec![SampleTensor {
                dtype: DType::F32,
                shape: vec![2],
                bytes: f32s(x),
            }]
        })
        .collect();
    let (outputs, answers) = run_published(&model, samples, 3);
    assert_eq!(outputs[0].name, "label");
    assert_eq!(outputs[0].dtype, DType::I64);
    let labels: Vec<i64> = answers
        .iter()
        .map(|a| i64::from_le_bytes(a.as_slice().try_into().expect("8 bytes")))
        .collect();
    // onnxruntime's Python API on the same rows (see the test's docs).
    assert_eq!(labels, EXPECTED_IRIS_LABELS);
}

// python: InferenceSession(logreg_iris.onnx).run(["label"], {"float_input": rows padded to 3})
const EXPECTED_IRIS_LABELS: [i64; 7] = [0, 1, 2, 1, 2, 0, 1];

#[test]
fn the_onnx_wheels_pow_model_takes_a_float_and_an_int64_input() {
    // onnx's backend test node `test_pow_types_float32_int64` (shipped in
    // the onnx wheel): inputs x float32 [3] and y int64 [3], output z = x^y.
    let model =
        site_packages().join("onnx/backend/test/data/node/test_pow_types_float32_int64/model.onnx");
    let rows: [(f32, i64); 5] = [(1.0, 4), (2.0, 5), (3.0, 6), (-2.0, 3), (0.5, 2)];
    let samples = rows
        .iter()
        .map(|&(x, y)| {
            vec![
                SampleTensor {
                    dtype: DType::F32,
                    shape: vec![],
                    bytes: x.to_le_bytes().to_vec(),
                },
                SampleTensor {
                    dtype: DType::I64,
                    shape: vec![],
                    bytes: y.to_le_bytes().to_vec(),
                },
            ]
        })
        .collect();
    let (_, answers) = run_published(&model, samples, 3);
    let z: Vec<f32> = answers
        .iter()
        .map(|a| f32::from_le_bytes(a.as_slice().try_into().expect("4 bytes")))
        .collect();
    assert_eq!(z, vec![1.0, 32.0, 729.0, -8.0, 0.25]);
}

#[test]
fn a_model_error_names_the_model() {
    let e = OpenError::from(OnnxError::UnknownProvider("tpu".into())).to_string();
    assert!(e.contains("unknown execution provider `tpu`"), "{e}");
}

#[test]
fn the_short_form_reads_the_models_inputs_and_the_data_sets_format() {
    use yardstick_workloads::short_form::{onnx_workload, ShortForm};
    use yardstick_workloads::spec::{DatasetFormat, SutKind};
    let form = ShortForm {
        model: repo().join("models/fashion-mnist/fashion-cnn-v1.onnx"),
        dataset: repo().join("data/fashion-mnist/t10k-images-idx3-ubyte.gz"),
        labels: Some(repo().join("data/fashion-mnist/t10k-labels-idx1-ubyte.gz")),
        top_k: 3,
    };
    let mut w = onnx_workload(&form, &options()).unwrap();
    assert_eq!(w.name(), "fashion-cnn-v1");
    // --top-k 3 is the workload's `[accuracy] top_k`; more than the 10
    // classes is refused, leaving it as it was.
    assert_eq!(w.top_k(), 3);
    let e = w.set_top_k(11).unwrap_err().to_string();
    assert!(
        e.contains("[accuracy] top_k 11 is not between 1 and the 10 classes"),
        "{e}"
    );
    assert_eq!(w.top_k(), 3);
    assert_eq!(w.spec.dataset.format, DatasetFormat::Idx);
    assert_eq!((w.spec.sample.rows, w.spec.sample.cols), (28, 28));
    assert_eq!(w.classes(), 10);
    assert_eq!(w.spec.sut.kind, SutKind::Onnx);
    assert_eq!(w.spec.sut.response, ResponseKind::ClassInt32);
    let inputs: Vec<_> = w
        .spec
        .sut
        .inputs
        .iter()
        .map(|t| (t.name.as_str(), t.shape.clone()))
        .collect();
    assert_eq!(inputs, [("image", vec![-1, 1, 28, 28])]);
    assert_eq!(w.spec.sut.outputs[0].name, "logits");
    assert_eq!(w.accuracy_threshold(), None);
    let inst = w.instantiate_onnx(&options()).unwrap();
    assert_eq!(inst.library.total_sample_count(), 10_000);
}

/// `n` inputs of the CNN (1x28x28 float32), pseudo-random in [-2, 2).
fn cnn_inputs(n: usize, seed: u32) -> Vec<u8> {
    let mut state = seed;
    (0..n * 28 * 28)
        .flat_map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            ((state >> 8) as f32 / (1u32 << 24) as f32 * 4.0 - 2.0).to_le_bytes()
        })
        .collect()
}

#[test]
fn a_batch_keeps_its_output_buffer_and_reads_as_a_copied_output_does() {
    load_runtime(&ort_library()).unwrap();
    let path = repo().join("models/fashion-mnist/fashion-cnn-v1.onnx");
    let mut bound = OnnxModel::open(&path, &OnnxOptions::default()).unwrap();
    // The same model with its logits' class dimension left dynamic: that
    // output's shape is known only after the run, so it is read from the
    // runtime's own allocation and copied.
    let mut copied = OnnxModel::open(&path, &OnnxOptions::default()).unwrap();
    let (inputs, mut outputs) = (copied.inputs().to_vec(), copied.outputs().to_vec());
    outputs[0].shape = vec![Dim::Dynamic, Dim::Dynamic];
    copied.declare(&inputs, &outputs);
    // Declared with 5 classes where the model gives 10: the run into the
    // bound [4, 5] tensor fails, and the batch falls back to copying.
    let mut misdeclared = OnnxModel::open(&path, &OnnxOptions::default()).unwrap();
    outputs[0].shape = vec![Dim::Dynamic, Dim::Fixed(5)];
    misdeclared.declare(&inputs, &outputs);
    let mut fallback = misdeclared.new_batch(4).unwrap();

    let mut batch = bound.new_batch(4).unwrap();
    let mut other = copied.new_batch(4).unwrap();
    let buffer = batch.output(0).unwrap().as_ptr();
    assert_eq!(
        other.output(0),
        Some(&[][..]),
        "nothing copied before a run"
    );
    let mut seen: Vec<Vec<u8>> = Vec::new();
    for seed in [1, 2] {
        let x = cnn_inputs(4, seed);
        batch.inputs_mut()[0].copy_from_slice(&x);
        bound.run(batch.as_mut()).unwrap();
        other.inputs_mut()[0].copy_from_slice(&x);
        copied.run(other.as_mut()).unwrap();
        let logits = batch.output(0).unwrap();
        // ONNX Runtime wrote the logits into the batch's bound buffer.
        assert_eq!(
            logits.as_ptr(),
            buffer,
            "batch {seed}: the output buffer moved"
        );
        assert_eq!(logits.len(), 4 * 10 * 4);
        assert_eq!(Some(logits), other.output(0), "batch {seed}");
        fallback.inputs_mut()[0].copy_from_slice(&x);
        misdeclared.run(fallback.as_mut()).unwrap();
        assert_eq!(
            Some(logits),
            fallback.output(0),
            "batch {seed}, fallen back"
        );
        assert!(logits
            .chunks_exact(4)
            .all(|c| f32::from_le_bytes(c.try_into().unwrap()).is_finite()));
        seen.push(logits.to_vec());
    }
    assert_ne!(
        seen[0], seen[1],
        "the second batch's logits, not the first's"
    );
    // The same size keeps the buffers; another size allocates new ones.
    batch.resize(4).unwrap();
    assert_eq!(batch.output(0).unwrap().as_ptr(), buffer);
    batch.resize(3).unwrap();
    assert_eq!(batch.output(0).unwrap().len(), 3 * 10 * 4);
    let x = cnn_inputs(4, 2);
    batch.inputs_mut()[0].copy_from_slice(&x[..3 * 28 * 28 * 4]);
    bound.run(batch.as_mut()).unwrap();
    let f32s_of = |b: &[u8]| -> Vec<f32> {
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    };
    let (three, four) = (
        f32s_of(batch.output(0).unwrap()),
        f32s_of(&seen[1][..3 * 10 * 4]),
    );
    for (a, b) in three.iter().zip(&four) {
        assert!(
            (a - b).abs() <= 1e-4 * b.abs().max(1.0),
            "{three:?} vs {four:?}"
        );
    }
}

//! The batching SUT's workers (a feeder filling one batch while the model
//! runs the other) over a model that echoes its input: every sample gets
//! its own answer, and an Offline query runs as full batches.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use yardstick_core::log::MemorySink;
use yardstick_core::run::{start_test, RunOptions};
use yardstick_core::{Mode, Scenario, TestSettings};
use yardstick_workloads::batching::{Batch, BatchPolicy, BatchingSut, Model, ModelRunError};
use yardstick_workloads::sample::{Label, SampleSource, SampleTensor, SourceError, TensorLibrary};
use yardstick_workloads::spec::ResponseKind;
use yardstick_workloads::tensor::{DType, Dim, TensorSpec};

/// Sample `i` is the int32 `7 * i + 3`.
struct Numbers(usize);

impl SampleSource for Numbers {
    fn len(&self) -> usize {
        self.0
    }
    fn origin(&self) -> &Path {
        Path::new("numbers")
    }
    fn load(&self, index: usize) -> Result<Vec<SampleTensor>, SourceError> {
        Ok(vec![SampleTensor {
            dtype: DType::I32,
            shape: vec![1],
            bytes: (7 * index as i32 + 3).to_le_bytes().to_vec(),
        }])
    }
    fn label(&self, _index: usize) -> Label {
        Label::None
    }
}

/// Answers each sample with its input plus one, after a short wait (so
/// the feeder fills the next batch meanwhile); records the batch sizes.
struct Echo {
    specs: Vec<TensorSpec>,
    sizes: Arc<Mutex<Vec<usize>>>,
}

struct EchoBatch {
    size: usize,
    input: Vec<u8>,
    output: Vec<u8>,
}

impl Batch for EchoBatch {
    fn size(&self) -> usize {
        self.size
    }
    fn resize(&mut self, n: usize) -> Result<(), ModelRunError> {
        self.size = n;
        self.input.resize(4 * n, 0);
        Ok(())
    }
    fn inputs_mut(&mut self) -> Vec<&mut [u8]> {
        vec![&mut self.input]
    }
    fn output(&self, i: usize) -> Option<&[u8]> {
        (i == 0).then_some(&self.output)
    }
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

impl Model for Echo {
    fn inputs(&self) -> &[TensorSpec] {
        &self.specs
    }
    fn outputs(&self) -> &[TensorSpec] {
        &self.specs
    }
    fn new_batch(&self, n: usize) -> Result<Box<dyn Batch>, ModelRunError> {
        Ok(Box::new(EchoBatch {
            size: n,
            input: vec![0; 4 * n],
            output: Vec::new(),
        }))
    }
    fn run(&mut self, batch: &mut dyn Batch) -> Result<(), ModelRunError> {
        let batch = batch
            .as_any_mut()
            .downcast_mut::<EchoBatch>()
            .ok_or("not an echo batch")?;
        std::thread::sleep(Duration::from_micros(200));
        self.sizes.lock().unwrap().push(batch.size);
        batch.output = batch
            .input
            .chunks_exact(4)
            .flat_map(|c| (i32::from_le_bytes(c.try_into().unwrap()) + 1).to_le_bytes())
            .collect();
        Ok(())
    }
}

#[test]
fn every_sample_gets_its_own_answer_in_full_offline_batches() {
    let sizes = Arc::new(Mutex::new(Vec::new()));
    let models: Vec<Box<dyn Model>> = (0..2)
        .map(|_| {
            Box::new(Echo {
                specs: vec![TensorSpec {
                    name: "x".into(),
                    dtype: DType::I32,
                    shape: vec![Dim::Dynamic, Dim::Fixed(1)],
                }],
                sizes: Arc::clone(&sizes),
            }) as Box<dyn Model>
        })
        .collect();
    let total = 1001;
    let library = Arc::new(TensorLibrary::new(
        "numbers",
        Box::new(Numbers(total)),
        usize::MAX,
    ));
    let sut = BatchingSut::new(
        "echo",
        models,
        Arc::clone(&library),
        BatchPolicy {
            batch_size: 8,
            max_wait: Duration::ZERO,
            response: ResponseKind::Raw,
            top_k: 1,
        },
    )
    .unwrap();
    let settings = TestSettings {
        scenario: Scenario::Offline,
        mode: Mode::AccuracyOnly,
        ..TestSettings::default()
    };
    let sink = Arc::new(MemorySink::default());
    let outcome = start_test(
        &sut,
        library.as_ref(),
        &settings,
        sink.clone(),
        &RunOptions::default(),
    )
    .unwrap();
    assert!(outcome.faults.is_empty(), "{:?}", outcome.faults);
    let mut answered = vec![None; total];
    for (_, index, data, _) in sink.accuracy.lock().unwrap().iter() {
        let i = *index as usize;
        assert!(answered[i].is_none(), "sample {i} answered twice");
        answered[i] = Some(i32::from_le_bytes(data.as_slice().try_into().unwrap()));
    }
    for (i, a) in answered.iter().enumerate() {
        assert_eq!(*a, Some(7 * i as i32 + 4), "sample {i}");
    }
    // One Offline query of 1001 samples: 125 batches of 8, then one of 1.
    let mut sizes = sizes.lock().unwrap().clone();
    sizes.sort_unstable();
    assert_eq!(sizes.len(), 126, "{sizes:?}");
    assert_eq!(sizes[0], 1);
    assert!(sizes[1..].iter().all(|&s| s == 8), "{sizes:?}");
}

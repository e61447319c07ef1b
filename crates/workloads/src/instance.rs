//! A workload made ready to run: its sample library and SUT.

use std::sync::Arc;

use crate::batching::{default_threads, BatchingSut};
use crate::candle_model::CnnModel;
use crate::dataset::{DataError, ImageDataset};
use crate::model::{Cnn, ModelError};
use crate::sample::{IdxImageSource, SampleSource, TensorLibrary};
use crate::spec::Workload;

/// Why a workload could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Batch(#[from] crate::batching::BatchError),
    #[error(transparent)]
    Library(#[from] crate::sample::LibraryError),
    /// A `[dataset]` read by the readers of [`crate::data`] (boxed: it is
    /// much larger than the other variants).
    #[error(transparent)]
    Dataset(Box<crate::data::DataError>),
    #[error("workload {workload}: [dataset] {message}")]
    DatasetDecl { workload: String, message: String },
    #[error("{}: {found} samples, the workload's [dataset] sample_count is {expected}", origin.display())]
    SampleCount {
        origin: std::path::PathBuf,
        found: usize,
        expected: usize,
    },
    #[cfg(feature = "onnx")]
    #[error(transparent)]
    Onnx(#[from] crate::onnx::OnnxError),
    #[error("{}: sample 0's input `{input}` is {found} {found_shape:?}, the workload's input is {expected} {expected_shape:?}", origin.display())]
    SampleMismatch {
        origin: std::path::PathBuf,
        input: String,
        found: crate::tensor::DType,
        found_shape: Vec<usize>,
        expected: crate::tensor::DType,
        expected_shape: Vec<usize>,
    },
    #[cfg(feature = "onnx")]
    #[error(transparent)]
    ShortForm(#[from] crate::short_form::ShortFormError),
    #[error(transparent)]
    Workload(#[from] crate::spec::WorkloadError),
    #[error("workload {workload}: [sut] kind is {kind}, not what this call opens")]
    WrongKind { workload: String, kind: String },
}

impl From<crate::data::DataError> for OpenError {
    fn from(e: crate::data::DataError) -> Self {
        OpenError::Dataset(Box::new(e))
    }
}

/// A workload made ready to run: the sample library of its `[dataset]` and
/// the batching SUT over its model (the built-in CNN or an ONNX model).
pub struct Instance {
    pub library: Arc<TensorLibrary>,
    pub sut: BatchingSut,
}

/// How to open an ONNX workload; `None` keeps the workload's value.
#[derive(Debug, Clone, Default)]
pub struct OnnxRunOptions {
    /// ONNX Runtime's library (else ORT_DYLIB_PATH, else the active Python's).
    pub library: Option<std::path::PathBuf>,
    /// Another model file than the workload's.
    pub model: Option<std::path::PathBuf>,
    pub threads: Option<usize>,
    pub batch_size: Option<usize>,
    pub execution_providers: Option<Vec<String>>,
    pub intra_op_threads: Option<usize>,
    pub inter_op_threads: Option<usize>,
    pub max_wait: Option<std::time::Duration>,
}

impl Workload {
    /// Reads and checks `[dataset]` (every error names the file).
    pub fn open_dataset(&self) -> Result<ImageDataset, DataError> {
        let d = &self.spec.dataset;
        let images = self.path(&d.images);
        let ds = ImageDataset::load_idx(&images, &self.path(&d.labels), self.classes())?;
        ds.check(
            &images,
            d.sample_count,
            Some((self.spec.sample.rows, self.spec.sample.cols)),
        )?;
        Ok(ds)
    }

    /// The reference model of `[sut]`.
    pub fn open_model(&self) -> Result<Cnn, ModelError> {
        Cnn::load(&self.path(&self.spec.sut.weights))
    }

    /// The library and the batching SUT of the built-in CNN (`kind =
    /// "image-classifier"`): one worker per thread, each with its own handle
    /// on the shared weights; `threads` (0: one per core) and `batch_size`
    /// override `[sut]`. Batches are what is queued (no wait), answered with
    /// the predicted class as a little-endian int32.
    pub fn instantiate(
        &self,
        threads: Option<usize>,
        batch_size: Option<usize>,
    ) -> Result<Instance, OpenError> {
        if self.spec.sut.kind != crate::spec::SutKind::ImageClassifier {
            return Err(OpenError::WrongKind {
                workload: self.name().to_string(),
                kind: format!("{:?}", self.spec.sut.kind),
            });
        }
        let library = Arc::new(self.open_tensor_library(None)?);
        let cnn = self.open_model()?;
        let (rows, cols) = (self.spec.sample.rows, self.spec.sample.cols);
        let threads = match threads.unwrap_or(self.spec.sut.threads) {
            0 => default_threads(),
            n => n,
        };
        let models: Vec<Box<dyn crate::batching::Model>> = (0..threads)
            .map(|_| Box::new(CnnModel::new(cnn.clone(), rows, cols)) as _)
            .collect();
        let policy = crate::batching::BatchPolicy {
            batch_size: batch_size.unwrap_or(self.spec.sut.batch_size),
            max_wait: std::time::Duration::from_micros(self.spec.sut.max_wait_us),
            response: self.spec.sut.response,
            top_k: self.top_k(),
        };
        let name = format!("{} {}", self.spec.sut.architecture, self.name());
        let sut = BatchingSut::new(name, models, Arc::clone(&library), policy)?;
        Ok(Instance { library, sut })
    }

    /// `[dataset]` as a [`SampleSource`] of the workload's inputs.
    ///
    /// `format = "idx"` keeps the image reader of `[sample]` (one
    /// `[1, rows, cols]` channel, its size and sample count checked); every
    /// other format is opened by the readers of [`crate::data`], its labels
    /// attached and its samples checked against the model's `inputs` (when
    /// given) before any test starts.
    pub fn open_sample_source(
        &self,
        inputs: Option<&[crate::tensor::TensorSpec]>,
    ) -> Result<Box<dyn SampleSource>, OpenError> {
        let d = &self.spec.dataset;
        if d.format == crate::spec::DatasetFormat::Idx {
            let ds = self.open_dataset()?;
            return Ok(Box::new(IdxImageSource::new(
                &self.path(&d.images),
                ds,
                self.normalization(),
            )));
        }
        let resolve = |p: &str| self.path(p);
        let files = d
            .files(resolve, self.spec.sample.mean, self.spec.sample.std)
            .map_err(|message| OpenError::DatasetDecl {
                workload: self.name().to_string(),
                message,
            })?;
        let labels = d.labels_file(resolve);
        let source = crate::data::config::open_dataset(&files, labels.as_deref(), inputs)?;
        if let Some(expected) = d.sample_count {
            if source.len() != expected {
                return Err(OpenError::SampleCount {
                    origin: source.origin().to_path_buf(),
                    found: source.len(),
                    expected,
                });
            }
        }
        Ok(source)
    }

    /// The generic sample library of `[dataset]`, checked against `inputs`
    /// (see [`Workload::open_sample_source`]).
    pub fn open_tensor_library(
        &self,
        inputs: Option<&[crate::tensor::TensorSpec]>,
    ) -> Result<TensorLibrary, OpenError> {
        let source = self.open_sample_source(inputs)?;
        let n = source.len();
        Ok(TensorLibrary::new(
            format!("{} ({})", self.name(), self.spec.dataset.images),
            source,
            self.spec.dataset.performance_sample_count.unwrap_or(n),
        ))
    }

    /// The library and the batching SUT of a `kind = "onnx"` workload: ONNX
    /// Runtime loaded, one session per worker, the model's inputs and outputs
    /// and the first sample checked against the workload file, all before
    /// any test starts.
    #[cfg(feature = "onnx")]
    pub fn instantiate_onnx(&self, options: &OnnxRunOptions) -> Result<Instance, OpenError> {
        use crate::onnx::{find_library, load_runtime, OnnxModel, OnnxOptions};
        let sut = &self.spec.sut;
        if sut.kind != crate::spec::SutKind::Onnx && options.model.is_none() {
            return Err(OpenError::WrongKind {
                workload: self.name().to_string(),
                kind: format!("{:?}", sut.kind),
            });
        }
        let lib = find_library(options.library.as_deref())?;
        load_runtime(&lib)?;
        let model_path = match (&options.model, &sut.model) {
            (Some(p), _) => p.clone(),
            (None, Some(m)) => self.path(m),
            (None, None) => {
                return Err(OpenError::WrongKind {
                    workload: self.name().to_string(),
                    kind: "without a model".into(),
                })
            }
        };
        let inputs: Vec<_> = sut.inputs.iter().map(|t| t.to_spec()).collect();
        let outputs: Vec<_> = sut.outputs.iter().map(|t| t.to_spec()).collect();
        let onnx = OnnxOptions {
            execution_providers: options
                .execution_providers
                .clone()
                .unwrap_or_else(|| sut.execution_providers.clone()),
            intra_op_threads: options.intra_op_threads.unwrap_or(sut.intra_op_threads),
            inter_op_threads: options.inter_op_threads.unwrap_or(sut.inter_op_threads),
        };
        let threads = match options.threads.unwrap_or(sut.threads) {
            0 => default_threads(),
            n => n,
        };
        let mut models: Vec<Box<dyn crate::batching::Model>> = Vec::with_capacity(threads);
        for _ in 0..threads {
            let mut m = OnnxModel::open(&model_path, &onnx)?;
            m.check(&inputs, &outputs)?;
            m.declare(&inputs, &outputs);
            models.push(Box::new(m));
        }
        let library = Arc::new(self.open_tensor_library(Some(&inputs))?);
        // The data must be what the model takes: sample 0's tensors against
        // the declared inputs.
        if !library.source().is_empty() {
            let sample =
                library
                    .source()
                    .load(0)
                    .map_err(|source| crate::sample::LibraryError::Load {
                        origin: library.source().origin().to_path_buf(),
                        index: 0,
                        source,
                    })?;
            for (spec, t) in inputs.iter().zip(&sample) {
                let expected_shape = spec.sample_shape().unwrap_or_default();
                if t.dtype != spec.dtype || t.shape != expected_shape {
                    return Err(OpenError::SampleMismatch {
                        origin: library.source().origin().to_path_buf(),
                        input: spec.name.clone(),
                        found: t.dtype,
                        found_shape: t.shape.clone(),
                        expected: spec.dtype,
                        expected_shape,
                    });
                }
            }
        }
        let policy = crate::batching::BatchPolicy {
            batch_size: options.batch_size.unwrap_or(sut.batch_size),
            max_wait: options
                .max_wait
                .unwrap_or(std::time::Duration::from_micros(sut.max_wait_us)),
            response: sut.response,
            top_k: self.top_k(),
        };
        let name = format!(
            "onnx {} {}",
            model_path.file_name().map_or_else(
                || model_path.display().to_string(),
                |n| n.to_string_lossy().into_owned()
            ),
            self.name()
        );
        let sut = BatchingSut::new(name, models, Arc::clone(&library), policy)?;
        Ok(Instance { library, sut })
    }
}

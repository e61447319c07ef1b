//! Where a workload's samples come from: the [`SampleSource`] trait that a
//! data set reader implements (IDX images here; images, NumPy arrays, JSONL
//! token ids in `data/`), and [`TensorLibrary`], the sample library that holds
//! the loaded samples in memory as LoadGen's `load_samples_to_ram` asks.
//!
//! A sample is one tensor per model input, each as little-endian bytes of
//! the input's element type and per-sample shape (the batch dimension left
//! out): the batching SUT concatenates them into a batch without knowing
//! what they are.

use std::path::{Path, PathBuf};
use std::sync::RwLock;

use yardstick_core::sut::{BoxError, QuerySampleLibrary, SampleIndex};

use crate::tensor::DType;

/// One input tensor of one sample.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleTensor {
    pub dtype: DType,
    /// The sample's shape, without the batch dimension.
    pub shape: Vec<usize>,
    /// `shape.product() * dtype.size()` little-endian bytes.
    pub bytes: Vec<u8>,
}

/// A sample's label, for the accuracy scorers.
#[derive(Debug, Clone, PartialEq)]
pub enum Label {
    /// A class index.
    Class(i64),
    /// No label (performance-only data).
    None,
}

/// A data set reader's error, kept whole.
pub type SourceError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A data set: `len()` samples, each loaded on demand as one tensor per
/// model input (in the order of the workload's inputs), with its label.
pub trait SampleSource: Send + Sync {
    /// The number of samples.
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The file or folder the samples are read from, named in messages.
    fn origin(&self) -> &Path;

    /// Sample `index` (below `len()`), one tensor per model input.
    fn load(&self, index: usize) -> Result<Vec<SampleTensor>, SourceError>;

    /// The label of sample `index`.
    fn label(&self, index: usize) -> Label;
}

/// Errors of the sample library.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("{library}: sample index {index} is out of range (the library has {total} samples)")]
    OutOfRange {
        library: String,
        index: usize,
        total: usize,
    },
    #[error("sample {index} was asked for but is not loaded in the sample library")]
    NotLoaded { index: usize },
    #[error("{}: cannot load sample {index}: {source}", origin.display())]
    Load {
        origin: PathBuf,
        index: usize,
        #[source]
        source: SourceError,
    },
}

/// The loaded inputs of one sample: one byte buffer per model input.
pub type LoadedSample = Box<[Box<[u8]>]>;

/// A [`QuerySampleLibrary`] over a [`SampleSource`]: samples are read from
/// the source on `load_samples_to_ram` and held until unloaded.
pub struct TensorLibrary {
    name: String,
    source: Box<dyn SampleSource>,
    performance_count: usize,
    loaded: RwLock<Vec<Option<LoadedSample>>>,
}

impl std::fmt::Debug for TensorLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TensorLibrary")
            .field("name", &self.name)
            .field("origin", &self.source.origin())
            .field("samples", &self.source.len())
            .field("performance_count", &self.performance_count)
            .finish()
    }
}

impl TensorLibrary {
    /// A library over `source`, of which `performance_count` samples fit in
    /// memory at once (clamped to 1..=len).
    pub fn new(
        name: impl Into<String>,
        source: Box<dyn SampleSource>,
        performance_count: usize,
    ) -> Self {
        let n = source.len();
        TensorLibrary {
            name: name.into(),
            performance_count: performance_count.clamp(1, n.max(1)),
            loaded: RwLock::new(vec![None; n]),
            source,
        }
    }

    pub fn source(&self) -> &dyn SampleSource {
        self.source.as_ref()
    }

    /// How many samples are in memory now.
    pub fn loaded_count(&self) -> usize {
        self.read().iter().filter(|s| s.is_some()).count()
    }

    pub(crate) fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Option<LoadedSample>>> {
        self.loaded.read().unwrap_or_else(|p| p.into_inner())
    }

    fn check_index(&self, index: usize) -> Result<(), LibraryError> {
        if index >= self.source.len() {
            return Err(LibraryError::OutOfRange {
                library: self.name.clone(),
                index,
                total: self.source.len(),
            });
        }
        Ok(())
    }

    /// Sample `index` read straight from the source (for measuring the
    /// model before a test; nothing is kept).
    pub fn read_sample(&self, index: usize) -> Result<LoadedSample, LibraryError> {
        self.check_index(index)?;
        let tensors = self
            .source
            .load(index)
            .map_err(|source| LibraryError::Load {
                origin: self.source.origin().to_path_buf(),
                index,
                source,
            })?;
        Ok(tensors.into_iter().map(|t| t.bytes.into()).collect())
    }
}

impl QuerySampleLibrary for TensorLibrary {
    fn name(&self) -> &str {
        &self.name
    }

    fn total_sample_count(&self) -> usize {
        self.source.len()
    }

    fn performance_sample_count(&self) -> usize {
        self.performance_count
    }

    fn load_samples_to_ram(&self, indices: &[SampleIndex]) -> Result<(), BoxError> {
        let samples = indices
            .iter()
            .map(|&i| self.read_sample(i).map(|s| (i, s)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut loaded = self.loaded.write().unwrap_or_else(|p| p.into_inner());
        for (i, s) in samples {
            loaded[i] = Some(s);
        }
        Ok(())
    }

    fn unload_samples_from_ram(&self, indices: &[SampleIndex]) -> Result<(), BoxError> {
        for &i in indices {
            self.check_index(i)?;
        }
        let mut loaded = self.loaded.write().unwrap_or_else(|p| p.into_inner());
        for &i in indices {
            loaded[i] = None;
        }
        Ok(())
    }
}

/// An IDX image set as a [`SampleSource`]: each image becomes one `float32`
/// tensor `[1, rows, cols]` of `(byte / 255 - mean) / std`.
pub struct IdxImageSource {
    origin: PathBuf,
    dataset: crate::dataset::ImageDataset,
    table: [f32; 256],
}

impl IdxImageSource {
    pub fn new(
        origin: &Path,
        dataset: crate::dataset::ImageDataset,
        norm: crate::model::Normalization,
    ) -> Self {
        IdxImageSource {
            origin: origin.to_path_buf(),
            table: norm.table(),
            dataset,
        }
    }
}

impl SampleSource for IdxImageSource {
    fn len(&self) -> usize {
        self.dataset.len()
    }

    fn origin(&self) -> &Path {
        &self.origin
    }

    fn load(&self, index: usize) -> Result<Vec<SampleTensor>, SourceError> {
        if index >= self.dataset.len() {
            return Err(format!(
                "sample {index} is past the end ({} images)",
                self.dataset.len()
            )
            .into());
        }
        let bytes = self
            .dataset
            .image(index)
            .iter()
            .flat_map(|&b| self.table[b as usize].to_le_bytes())
            .collect();
        Ok(vec![SampleTensor {
            dtype: DType::F32,
            shape: vec![1, self.dataset.rows, self.dataset.cols],
            bytes,
        }])
    }

    fn label(&self, index: usize) -> Label {
        self.dataset
            .labels
            .get(index)
            .map_or(Label::None, |&l| Label::Class(i64::from(l)))
    }
}

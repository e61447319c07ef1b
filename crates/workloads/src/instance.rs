//! A workload made ready to run: its sample library and SUT.

use std::sync::Arc;

use crate::dataset::{DataError, ImageDataset};
use crate::model::{Cnn, ModelError};
use crate::spec::Workload;
use crate::sut::{ClassifierSut, ImageLibrary, SutError};

/// Why a workload could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Sut(#[from] SutError),
}

/// The library and SUT of a workload.
pub struct Instance {
    pub library: Arc<ImageLibrary>,
    pub sut: ClassifierSut,
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

    /// The sample library of `[dataset]` and `[sample]`.
    pub fn open_library(&self) -> Result<ImageLibrary, DataError> {
        let ds = self.open_dataset()?;
        let n = ds.len();
        let perf = self.spec.dataset.performance_sample_count.unwrap_or(n);
        Ok(ImageLibrary::new(
            format!("{} ({})", self.name(), self.spec.dataset.images),
            &self.path(&self.spec.dataset.images),
            ds,
            perf,
            self.normalization(),
        ))
    }

    /// The reference model of `[sut]`.
    pub fn open_model(&self) -> Result<Cnn, ModelError> {
        Cnn::load(&self.path(&self.spec.sut.weights))
    }

    /// The library and the SUT; `threads` / `batch_size` override `[sut]`.
    pub fn instantiate(
        &self,
        threads: Option<usize>,
        batch_size: Option<usize>,
    ) -> Result<Instance, OpenError> {
        let library = Arc::new(self.open_library()?);
        let model = self.open_model()?;
        let sut = ClassifierSut::new(
            format!("{} {}", self.spec.sut.architecture, self.name()),
            model,
            Arc::clone(&library),
            batch_size.unwrap_or(self.spec.sut.batch_size),
            threads.unwrap_or(self.spec.sut.threads),
        )?;
        Ok(Instance { library, sut })
    }
}

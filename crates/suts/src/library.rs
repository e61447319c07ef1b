use std::sync::atomic::{AtomicU64, Ordering};

use yardstick_core::sut::{BoxError, QuerySampleLibrary, SampleIndex};

/// A sample library of `total` numbered samples that need no memory: loading
/// only checks the indices and counts them.
#[derive(Debug)]
pub struct SyntheticLibrary {
    name: String,
    total: usize,
    performance: usize,
    loaded: AtomicU64,
}

impl SyntheticLibrary {
    pub fn new(name: impl Into<String>, total: usize, performance: usize) -> Self {
        SyntheticLibrary {
            name: name.into(),
            total,
            performance,
            loaded: AtomicU64::new(0),
        }
    }

    /// Samples currently loaded.
    pub fn loaded(&self) -> u64 {
        self.loaded.load(Ordering::Relaxed)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("sample index {index} is outside the library `{name}` of {total} samples")]
struct IndexOutOfRange {
    name: String,
    index: usize,
    total: usize,
}

impl QuerySampleLibrary for SyntheticLibrary {
    fn name(&self) -> &str {
        &self.name
    }

    fn total_sample_count(&self) -> usize {
        self.total
    }

    fn performance_sample_count(&self) -> usize {
        self.performance
    }

    fn load_samples_to_ram(&self, indices: &[SampleIndex]) -> Result<(), BoxError> {
        if let Some(&index) = indices.iter().find(|&&i| i >= self.total) {
            return Err(Box::new(IndexOutOfRange {
                name: self.name.clone(),
                index,
                total: self.total,
            }));
        }
        self.loaded
            .fetch_add(indices.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    fn unload_samples_from_ram(&self, indices: &[SampleIndex]) -> Result<(), BoxError> {
        self.loaded
            .fetch_sub(indices.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

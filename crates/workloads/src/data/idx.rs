//! IDX files of unsigned bytes (read by [`crate::idx`]) as a
//! [`SampleSource`]: the first dimension is the samples, each sample one
//! tensor of the other dimensions, as `uint8` or as `float32`
//! `(byte / 255 - mean) / std`.

use std::path::{Path, PathBuf};

use super::{check_inputs, checked_labels, label_at, tensor, DataError, InputLayout};
use crate::idx::{read_idx, IdxArray};
use crate::sample::{Label, SampleSource, SampleTensor, SourceError};
use crate::tensor::{DType, TensorSpec};

/// How the bytes become the model's input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IdxScaling {
    /// The bytes as they are (`uint8`).
    Raw,
    /// `float32` `(byte / 255 - mean) / std`.
    Normalized { mean: f32, std: f32 },
}

/// An IDX array held in memory (IDX files are gzip-compressed as a whole).
#[derive(Debug)]
pub struct IdxSource {
    origin: PathBuf,
    array: IdxArray,
    layout: InputLayout,
    table: Option<[f32; 256]>,
    labels: Option<Vec<i64>>,
}

impl IdxSource {
    pub fn open(path: &Path, scaling: IdxScaling) -> Result<Self, DataError> {
        let array = read_idx(path)?;
        let shape = array.dims.get(1..).unwrap_or(&[]).to_vec();
        let (dtype, table) = match scaling {
            IdxScaling::Raw => (DType::U8, None),
            IdxScaling::Normalized { mean, std } => {
                let mut table = [0f32; 256];
                for (b, v) in table.iter_mut().enumerate() {
                    *v = (b as f32 / 255.0 - mean) / std;
                }
                (DType::F32, Some(table))
            }
        };
        Ok(IdxSource {
            origin: path.to_path_buf(),
            layout: InputLayout { dtype, shape },
            array,
            table,
            labels: None,
        })
    }

    pub fn with_labels(mut self, labels_path: &Path, labels: Vec<i64>) -> Result<Self, DataError> {
        self.labels = Some(checked_labels(
            &self.origin,
            self.len(),
            labels_path,
            labels,
        )?);
        Ok(self)
    }

    pub fn layout(&self) -> &InputLayout {
        &self.layout
    }

    pub fn check(&self, inputs: &[TensorSpec]) -> Result<(), DataError> {
        check_inputs(&self.origin, std::slice::from_ref(&self.layout), inputs)
    }
}

impl SampleSource for IdxSource {
    fn len(&self) -> usize {
        self.array.len()
    }

    fn origin(&self) -> &Path {
        &self.origin
    }

    fn load(&self, index: usize) -> Result<Vec<SampleTensor>, SourceError> {
        if index >= self.len() {
            return Err(format!("sample {index} is past the end ({} samples)", self.len()).into());
        }
        let n = self.array.item_size();
        let bytes = &self.array.data[index * n..(index + 1) * n];
        let bytes = match &self.table {
            None => bytes.to_vec(),
            Some(t) => bytes
                .iter()
                .flat_map(|&b| t[b as usize].to_le_bytes())
                .collect(),
        };
        Ok(vec![tensor(&self.layout, bytes)])
    }

    fn label(&self, index: usize) -> Label {
        label_at(self.labels.as_ref(), index)
    }
}

//! Data sets read from files, as [`SampleSource`](crate::sample::SampleSource)s
//! for the generic sample library ([`TensorLibrary`](crate::sample::TensorLibrary)):
//!
//! - [`images`]: a folder of JPEG/PNG images, preprocessed as MLPerf's
//!   ResNet-50 reference does (`pre_process_vgg`: area resize of the shorter
//!   side to 256, centre crop 224, mean subtraction), NCHW or NHWC, float or
//!   quantised;
//! - [`npy`]: NumPy `.npy` arrays and `.npz` archives (first axis = samples);
//! - [`idx`]: IDX files of unsigned bytes (MNIST-like);
//! - [`jsonl`]: JSON lines of token ids, padded to a fixed length;
//! - [`labels`]: labels from a text file (`label` or `name label` a line),
//!   a `.npy` or an IDX file.
//!
//! Every reader only indexes its files when opened (names, headers, line
//! offsets) and decodes a sample when the library's `load_samples_to_ram`
//! asks for it, so only the performance_sample_count samples LoadGen picks
//! are ever held in memory. Every error names the file, and where it
//! applies the line, entry, array member or pixel size.

pub mod config;
pub mod idx;
pub mod images;
pub mod jsonl;
pub mod labels;
pub mod npy;

use std::path::{Path, PathBuf};

use crate::sample::{Label, SampleTensor};
use crate::tensor::{shape_text, DType, Dim, TensorSpec};

/// A data set that cannot be read or does not fit the model.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Npy(#[from] npy::NpyError),
    #[error(transparent)]
    Image(#[from] images::ImageError),
    #[error(transparent)]
    Jsonl(#[from] jsonl::JsonlError),
    #[error(transparent)]
    Labels(#[from] labels::LabelError),
    #[error(transparent)]
    Idx(#[from] crate::idx::IdxError),
    #[error("{}: {samples} samples but {} has {labels} labels", samples_path.display(), labels_path.display())]
    LabelCount {
        samples_path: PathBuf,
        samples: usize,
        labels_path: PathBuf,
        labels: usize,
    },
    #[error("{}: the data set has {found} inputs per sample, the model takes {expected}", path.display())]
    InputCount {
        path: PathBuf,
        found: usize,
        expected: usize,
    },
    #[error("{}: input {input} is {found_dtype} {}, the model's input {} is {} {}", path.display(), shape_text(&fixed(found_shape)), wanted.name, wanted.dtype, shape_text(&wanted.shape))]
    InputMismatch {
        path: PathBuf,
        input: usize,
        found_dtype: DType,
        found_shape: Vec<usize>,
        wanted: TensorSpec,
    },
    #[error("{}: {reason}", path.display())]
    Empty { path: PathBuf, reason: String },
}

fn fixed(shape: &[usize]) -> Vec<Dim> {
    std::iter::once(Dim::Dynamic)
        .chain(shape.iter().map(|&n| Dim::Fixed(n)))
        .collect()
}

/// The element type and per-sample shape of one input of a data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputLayout {
    pub dtype: DType,
    /// Without the batch (sample) dimension.
    pub shape: Vec<usize>,
}

/// Checks a data set's inputs against the model's: the same count, element
/// types, and per-sample shapes (a dynamic model dimension takes any size).
pub fn check_inputs(
    path: &Path,
    found: &[InputLayout],
    wanted: &[TensorSpec],
) -> Result<(), DataError> {
    if found.len() != wanted.len() {
        return Err(DataError::InputCount {
            path: path.to_path_buf(),
            found: found.len(),
            expected: wanted.len(),
        });
    }
    for (input, (f, w)) in found.iter().zip(wanted).enumerate() {
        let dims = w.shape.get(1..).unwrap_or(&[]);
        let shape_ok = dims.len() == f.shape.len()
            && dims.iter().zip(&f.shape).all(|(d, &n)| match d {
                Dim::Fixed(m) => *m == n,
                Dim::Dynamic => true,
            });
        if f.dtype != w.dtype || !shape_ok {
            return Err(DataError::InputMismatch {
                path: path.to_path_buf(),
                input,
                found_dtype: f.dtype,
                found_shape: f.shape.clone(),
                wanted: w.clone(),
            });
        }
    }
    Ok(())
}

/// Labels checked against a data set's sample count.
pub(crate) fn checked_labels(
    samples_path: &Path,
    samples: usize,
    labels_path: &Path,
    labels: Vec<i64>,
) -> Result<Vec<i64>, DataError> {
    if labels.len() != samples {
        return Err(DataError::LabelCount {
            samples_path: samples_path.to_path_buf(),
            samples,
            labels_path: labels_path.to_path_buf(),
            labels: labels.len(),
        });
    }
    Ok(labels)
}

pub(crate) fn label_at(labels: Option<&Vec<i64>>, index: usize) -> Label {
    labels
        .and_then(|l| l.get(index))
        .map_or(Label::None, |&c| Label::Class(c))
}

pub(crate) fn tensor(layout: &InputLayout, bytes: Vec<u8>) -> SampleTensor {
    SampleTensor {
        dtype: layout.dtype,
        shape: layout.shape.clone(),
        bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_checked_against_the_model() {
        let spec = TensorSpec {
            name: "input".into(),
            dtype: DType::F32,
            shape: vec![Dim::Dynamic, Dim::Fixed(3), Dim::Dynamic],
        };
        let ok = InputLayout {
            dtype: DType::F32,
            shape: vec![3, 7],
        };
        check_inputs(
            Path::new("d"),
            std::slice::from_ref(&ok),
            std::slice::from_ref(&spec),
        )
        .unwrap();
        let wrong_dtype = InputLayout {
            dtype: DType::F64,
            shape: vec![3, 7],
        };
        let e = check_inputs(
            Path::new("/data/x.npy"),
            &[wrong_dtype],
            std::slice::from_ref(&spec),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "/data/x.npy: input 0 is float64 [?, 3, 7], the model's input input is float32 [?, 3, ?]"
        );
        let wrong_shape = InputLayout {
            dtype: DType::F32,
            shape: vec![4, 7],
        };
        assert!(check_inputs(Path::new("d"), &[wrong_shape], std::slice::from_ref(&spec)).is_err());
        let e = check_inputs(Path::new("d"), &[ok.clone(), ok], &[spec])
            .unwrap_err()
            .to_string();
        assert!(e.contains("2 inputs per sample, the model takes 1"), "{e}");
    }
}

//! Labelled image data sets read from IDX files (MNIST-like: one image file
//! of `[n, rows, cols]` unsigned bytes, one label file of `[n]` bytes).

use std::path::{Path, PathBuf};

use crate::idx::{read_idx, IdxError};

/// A data set that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error(transparent)]
    Idx(#[from] IdxError),
    #[error("{}: an image file must have 3 dimensions [count, rows, cols], this one has {dims:?}", path.display())]
    ImageDims { path: PathBuf, dims: Vec<usize> },
    #[error("{}: a label file must have 1 dimension [count], this one has {dims:?}", path.display())]
    LabelDims { path: PathBuf, dims: Vec<usize> },
    #[error("{} has {images} images but {} has {labels} labels", images_path.display(), labels_path.display())]
    CountMismatch {
        images_path: PathBuf,
        images: usize,
        labels_path: PathBuf,
        labels: usize,
    },
    #[error("{}: {count} samples, the workload expects {expected}", path.display())]
    UnexpectedCount {
        path: PathBuf,
        count: usize,
        expected: usize,
    },
    #[error("{}: images are {rows}x{cols}, the workload expects {expected_rows}x{expected_cols}", path.display())]
    UnexpectedShape {
        path: PathBuf,
        rows: usize,
        cols: usize,
        expected_rows: usize,
        expected_cols: usize,
    },
    #[error("{}: label {label} of sample {index} is not below the class count {classes}", path.display())]
    BadLabel {
        path: PathBuf,
        index: usize,
        label: u8,
        classes: usize,
    },
}

/// Images (unsigned bytes, row-major) and their labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageDataset {
    pub rows: usize,
    pub cols: usize,
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
}

impl ImageDataset {
    /// Reads and checks an image file and its label file: dimensions, equal
    /// counts, and every label below `classes`.
    pub fn load_idx(images: &Path, labels: &Path, classes: usize) -> Result<Self, DataError> {
        let img = read_idx(images)?;
        if img.dims.len() != 3 {
            return Err(DataError::ImageDims {
                path: images.to_path_buf(),
                dims: img.dims,
            });
        }
        let lab = read_idx(labels)?;
        if lab.dims.len() != 1 {
            return Err(DataError::LabelDims {
                path: labels.to_path_buf(),
                dims: lab.dims,
            });
        }
        if img.len() != lab.len() {
            return Err(DataError::CountMismatch {
                images_path: images.to_path_buf(),
                images: img.len(),
                labels_path: labels.to_path_buf(),
                labels: lab.len(),
            });
        }
        if let Some((index, &label)) = lab
            .data
            .iter()
            .enumerate()
            .find(|(_, &l)| l as usize >= classes)
        {
            return Err(DataError::BadLabel {
                path: labels.to_path_buf(),
                index,
                label,
                classes,
            });
        }
        Ok(ImageDataset {
            rows: img.dims[1],
            cols: img.dims[2],
            images: img.data,
            labels: lab.data,
        })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn pixels(&self) -> usize {
        self.rows * self.cols
    }

    /// The bytes of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.pixels();
        &self.images[i * n..(i + 1) * n]
    }

    /// The first `n` samples (all of them when `n` is larger).
    pub fn truncated(mut self, n: usize) -> Self {
        let n = n.min(self.len());
        self.images.truncate(n * self.pixels());
        self.labels.truncate(n);
        self
    }

    /// Checks the count and image shape a workload declares; `path` names the
    /// image file in errors.
    pub fn check(
        &self,
        path: &Path,
        expected_count: Option<usize>,
        expected_shape: Option<(usize, usize)>,
    ) -> Result<(), DataError> {
        if let Some(expected) = expected_count {
            if self.len() != expected {
                return Err(DataError::UnexpectedCount {
                    path: path.to_path_buf(),
                    count: self.len(),
                    expected,
                });
            }
        }
        if let Some((r, c)) = expected_shape {
            if (self.rows, self.cols) != (r, c) {
                return Err(DataError::UnexpectedShape {
                    path: path.to_path_buf(),
                    rows: self.rows,
                    cols: self.cols,
                    expected_rows: r,
                    expected_cols: c,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idx::encode_idx;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("yardstick-ds-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn loads_and_checks() {
        let d = tmpdir("ok");
        let imgs = write(&d, "i.gz", &encode_idx(&[3, 2, 2], &[0; 12], true));
        let labs = write(&d, "l", &encode_idx(&[3], &[0, 9, 4], false));
        let ds = ImageDataset::load_idx(&imgs, &labs, 10).unwrap();
        assert_eq!((ds.len(), ds.rows, ds.cols), (3, 2, 2));
        assert_eq!(ds.image(1).len(), 4);
        ds.check(&imgs, Some(3), Some((2, 2))).unwrap();
        let e = ds.check(&imgs, Some(4), None).unwrap_err().to_string();
        assert!(e.contains("i.gz") && e.contains("expects 4"), "{e}");
        let e = ds
            .check(&imgs, None, Some((28, 28)))
            .unwrap_err()
            .to_string();
        assert!(e.contains("2x2") && e.contains("28x28"), "{e}");
        assert_eq!(ds.truncated(2).len(), 2);
        std::fs::remove_dir_all(d).ok();
    }

    #[test]
    fn mismatches_name_the_files() {
        let d = tmpdir("bad");
        let imgs = write(&d, "imgs", &encode_idx(&[3, 2, 2], &[0; 12], false));
        let labs2 = write(&d, "labs2", &encode_idx(&[2], &[0, 1], false));
        let e = ImageDataset::load_idx(&imgs, &labs2, 10)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("imgs has 3 images") && e.contains("labs2 has 2 labels"),
            "{e}"
        );
        let labs_bad = write(&d, "labsbad", &encode_idx(&[3], &[0, 10, 1], false));
        let e = ImageDataset::load_idx(&imgs, &labs_bad, 10)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("labsbad") && e.contains("label 10 of sample 1"),
            "{e}"
        );
        // Labels given where images are expected, and the reverse.
        let e = ImageDataset::load_idx(&labs2, &labs2, 10)
            .unwrap_err()
            .to_string();
        assert!(e.contains("labs2") && e.contains("3 dimensions"), "{e}");
        let e = ImageDataset::load_idx(&imgs, &imgs, 10)
            .unwrap_err()
            .to_string();
        assert!(e.contains("imgs") && e.contains("1 dimension"), "{e}");
        let e = ImageDataset::load_idx(&d.join("missing"), &labs2, 10)
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing"), "{e}");
        std::fs::remove_dir_all(d).ok();
    }
}

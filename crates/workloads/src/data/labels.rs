//! Labels from a file: a `.npy` array of integers, an IDX file of bytes
//! (gzip or plain), or text with one label a line, either `label` or
//! `name label` (ImageNet's `val_map.txt`); blank lines are skipped.

use std::path::{Path, PathBuf};

use super::npy::{NpyArray, NpyError};
use crate::idx::{read_idx, IdxError};

/// A label file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}: `{text}` is not `label` or `name label` with an integer label", path.display())]
    Line {
        path: PathBuf,
        line: usize,
        text: String,
    },
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error(transparent)]
    Idx(#[from] IdxError),
    #[error("{}: a label file must have 1 dimension, this one has {dims:?}", path.display())]
    Dims { path: PathBuf, dims: Vec<usize> },
}

/// One line of a text label or list file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    /// The file name, when the line has one.
    pub name: Option<String>,
    pub label: Option<i64>,
    /// 1-based, for messages.
    pub line: usize,
}

/// Parses a text list: `label`, `name label` or (when `names_only`) `name`
/// a line. The name is everything before the last space, so names with
/// spaces work in the two-column form.
pub fn parse_list(path: &Path, text: &str, names_only: bool) -> Result<Vec<ListEntry>, LabelError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let bad = || LabelError::Line {
            path: path.to_path_buf(),
            line: i + 1,
            text: line.to_string(),
        };
        let entry = match line.rsplit_once(char::is_whitespace) {
            Some((name, label)) => ListEntry {
                name: Some(name.trim_end().to_string()),
                label: Some(label.parse().map_err(|_| bad())?),
                line: i + 1,
            },
            None if names_only => ListEntry {
                name: Some(line.to_string()),
                label: None,
                line: i + 1,
            },
            None => ListEntry {
                name: None,
                label: Some(line.parse().map_err(|_| bad())?),
                line: i + 1,
            },
        };
        out.push(entry);
    }
    Ok(out)
}

/// Reads the labels of `path`, chosen by its content: the `.npy` magic, an
/// IDX header (or gzip), or text.
pub fn read_labels(path: &Path) -> Result<Vec<i64>, LabelError> {
    let bytes = std::fs::read(path).map_err(|source| LabelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if bytes.starts_with(b"\x93NUMPY") {
        let array = NpyArray::open(path)?;
        if !array.layout().shape.is_empty() {
            let mut dims = vec![array.len()];
            dims.extend(&array.layout().shape);
            return Err(LabelError::Dims {
                path: path.to_path_buf(),
                dims,
            });
        }
        return Ok(array.to_i64()?);
    }
    if bytes.starts_with(&[0x1f, 0x8b]) || bytes.starts_with(&[0, 0, 8]) {
        let idx = read_idx(path)?;
        if idx.dims.len() != 1 {
            return Err(LabelError::Dims {
                path: path.to_path_buf(),
                dims: idx.dims,
            });
        }
        return Ok(idx.data.into_iter().map(i64::from).collect());
    }
    let text = String::from_utf8_lossy(&bytes);
    Ok(parse_list(path, &text, false)?
        .into_iter()
        .filter_map(|e| e.label)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lists_one_or_two_columns() {
        let p = Path::new("val_map.txt");
        let e = parse_list(p, "a b.JPEG 65\n\nc.JPEG 970\n", false).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].name.as_deref(), Some("a b.JPEG"));
        assert_eq!(
            (e[0].label, e[1].label, e[1].line),
            (Some(65), Some(970), 3)
        );
        let e = parse_list(p, "3\n-1\n", false).unwrap();
        assert_eq!((e[0].name.clone(), e[1].label), (None, Some(-1)));
        let e = parse_list(p, "x.png\n", true).unwrap();
        assert_eq!((e[0].name.as_deref(), e[0].label), (Some("x.png"), None));
        let err = parse_list(p, "1\nx.JPEG cat\n", false)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "val_map.txt:2: `x.JPEG cat` is not `label` or `name label` with an integer label"
        );
    }
}

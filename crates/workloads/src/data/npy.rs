//! NumPy `.npy` arrays and `.npz` archives, read by a small reader of the
//! documented format (numpy.lib.format): the magic `\x93NUMPY`, a version,
//! a header length (2 bytes in version 1, 4 in versions 2 and 3), a Python
//! dict literal with `descr`, `fortran_order` and `shape`, then the data.
//!
//! The first axis is the sample axis. A C-ordered `.npy` (and a stored,
//! uncompressed `.npz` member, which is what `np.savez` writes) is read a
//! sample at a time at its offset in the file, so only the samples the
//! library asks for are read; a Fortran-ordered array or a compressed
//! (`np.savez_compressed`) member is read whole when opened (it has to be
//! decoded to find any one sample) and converted to C order.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::{check_inputs, checked_labels, label_at, tensor, DataError, InputLayout};
use crate::sample::{Label, SampleSource, SampleTensor, SourceError};
use crate::tensor::{DType, TensorSpec};

/// A `.npy` file or `.npz` member that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    #[error("cannot read {file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a readable .npz (zip) archive: {source}", path.display())]
    Zip {
        path: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },
    #[error("{}: no array `{member}` in the archive (it has: {})", path.display(), available.join(", "))]
    Member {
        path: PathBuf,
        member: String,
        available: Vec<String>,
    },
    #[error("{file}: not a .npy array: {reason}")]
    Header { file: String, reason: String },
    #[error("{file}: element type `{descr}` is not supported (bool, int8/16/32/64, uint8, float16/32/64 are)")]
    UnsupportedDtype { file: String, descr: String },
    #[error("{file}: truncated: shape {shape:?} of {dtype} needs {expected} data bytes, the file has {actual}")]
    Truncated {
        file: String,
        shape: Vec<usize>,
        dtype: DType,
        expected: u64,
        actual: u64,
    },
}

/// What a `.npy` header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyHeader {
    pub dtype: DType,
    pub big_endian: bool,
    pub fortran_order: bool,
    pub shape: Vec<usize>,
    /// Bytes from the start of the file to the data.
    pub data_offset: usize,
}

impl NpyHeader {
    pub fn data_bytes(&self) -> u64 {
        self.shape.iter().map(|&d| d as u64).product::<u64>() * self.dtype.size() as u64
    }
}

const MAGIC: &[u8] = b"\x93NUMPY";

/// Parses the header at the start of `bytes` (which must hold at least the
/// whole header; more is fine). `file` names the array in errors.
pub fn parse_header(file: &str, bytes: &[u8]) -> Result<NpyHeader, NpyError> {
    let bad = |reason: String| NpyError::Header {
        file: file.to_string(),
        reason,
    };
    if bytes.len() < 10 || !bytes.starts_with(MAGIC) {
        return Err(bad("it does not start with the magic \\x93NUMPY".into()));
    }
    let (len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(bad(format!("format version {v} is not 1, 2 or 3"))),
    };
    let dict = bytes
        .get(start..start + len)
        .ok_or_else(|| bad(format!("the header of {len} bytes is cut short")))?;
    let dict = std::str::from_utf8(dict).map_err(|_| bad("the header is not text".into()))?;
    let descr = dict_value(dict, "descr").ok_or_else(|| bad(format!("no 'descr' in {dict}")))?;
    let descr = descr.trim().trim_matches(|c| c == '\'' || c == '"');
    let (dtype, big_endian) = parse_descr(descr).ok_or_else(|| NpyError::UnsupportedDtype {
        file: file.to_string(),
        descr: descr.to_string(),
    })?;
    let fortran_order = match dict_value(dict, "fortran_order").map(str::trim) {
        Some("True") => true,
        Some("False") => false,
        _ => return Err(bad(format!("no 'fortran_order' True/False in {dict}"))),
    };
    let shape_text =
        dict_value(dict, "shape").ok_or_else(|| bad(format!("no 'shape' in {dict}")))?;
    let shape = shape_text
        .trim()
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| bad(format!("shape {shape_text} is not a tuple")))?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('L').parse::<usize>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad(format!("shape {shape_text} is not a tuple of sizes")))?;
    Ok(NpyHeader {
        dtype,
        big_endian,
        fortran_order,
        shape,
        data_offset: start + len,
    })
}

/// The text after `'key':` up to the next top-level comma or the dict's end.
fn dict_value<'a>(dict: &'a str, key: &str) -> Option<&'a str> {
    let at = dict
        .find(&format!("'{key}'"))
        .or_else(|| dict.find(&format!("\"{key}\"")))?;
    let rest = &dict[at + key.len() + 2..];
    let rest = rest.trim_start().strip_prefix(':')?;
    let mut depth = 0usize;
    for (i, c) in rest.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            ',' | '}' if depth == 0 => return Some(&rest[..i]),
            _ => {}
        }
    }
    Some(rest)
}

fn parse_descr(descr: &str) -> Option<(DType, bool)> {
    let (order, code) = match descr.chars().next()? {
        c @ ('<' | '>' | '|' | '=') => (c, &descr[1..]),
        _ => ('|', descr),
    };
    let dtype = match code {
        "f2" => DType::F16,
        "f4" => DType::F32,
        "f8" => DType::F64,
        "i1" => DType::I8,
        "i2" => DType::I16,
        "i4" => DType::I32,
        "i8" => DType::I64,
        "u1" => DType::U8,
        "b1" => DType::Bool,
        _ => return None,
    };
    Some((dtype, order == '>' && dtype.size() > 1))
}

enum Storage {
    /// C-ordered little-endian data at `offset` in `file`.
    File { file: File, offset: u64 },
    /// The whole array, C-ordered, little-endian.
    Memory(Vec<u8>),
}

/// One array whose first axis is the samples.
pub struct NpyArray {
    /// `x.npy` or `x.npz[member]`, for messages.
    name: String,
    layout: InputLayout,
    count: usize,
    storage: Storage,
}

impl std::fmt::Debug for NpyArray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NpyArray")
            .field("name", &self.name)
            .field("layout", &self.layout)
            .field("count", &self.count)
            .finish()
    }
}

impl NpyArray {
    /// Opens a `.npy` file: reads its header, checks its length, and reads
    /// the data now only if it is Fortran-ordered or big-endian.
    pub fn open(path: &Path) -> Result<Self, NpyError> {
        let name = path.display().to_string();
        let io = |source| NpyError::Io {
            file: name.clone(),
            source,
        };
        let mut file = File::open(path).map_err(io)?;
        let file_len = file.metadata().map_err(io)?.len();
        let mut head = vec![0u8; 4096.min(file_len as usize)];
        file.read_exact(&mut head).map_err(io)?;
        let mut header = parse_header(&name, &head)?;
        if header.data_offset > head.len() {
            // A header longer than 4 KiB (a very long shape): read it all.
            head.resize(header.data_offset.min(file_len as usize), 0);
            file.seek(SeekFrom::Start(0)).map_err(io)?;
            file.read_exact(&mut head).map_err(io)?;
            header = parse_header(&name, &head)?;
        }
        let actual = file_len - header.data_offset as u64;
        check_length(&name, &header, actual)?;
        if header.fortran_order || header.big_endian {
            let mut data = vec![0u8; header.data_bytes() as usize];
            file.read_exact_at(&mut data, header.data_offset as u64)
                .map_err(io)?;
            return Self::in_memory(name, &header, data);
        }
        Self::new(
            name,
            &header,
            Storage::File {
                offset: header.data_offset as u64,
                file,
            },
        )
    }

    /// The arrays `members` of a `.npz` archive (with or without the `.npy`
    /// suffix), or all of them in archive order when `members` is empty.
    pub fn open_npz(path: &Path, members: &[String]) -> Result<Vec<Self>, NpyError> {
        let zip_err = |source| NpyError::Zip {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(|source| NpyError::Io {
            file: path.display().to_string(),
            source,
        })?;
        let mut archive = zip::ZipArchive::new(file).map_err(zip_err)?;
        let available: Vec<String> = archive
            .file_names()
            .filter_map(|n| n.ok())
            .map(|n| n.trim_end_matches(".npy").to_string())
            .collect();
        let wanted: Vec<String> = if members.is_empty() {
            available.clone()
        } else {
            members
                .iter()
                .map(|m| m.trim_end_matches(".npy").to_string())
                .collect()
        };
        let mut arrays = Vec::with_capacity(wanted.len());
        for member in wanted {
            let entry_name = format!("{member}.npy");
            let name = format!("{}[{member}]", path.display());
            let mut entry = match archive.by_name(&entry_name) {
                Ok(e) => e,
                Err(zip::result::ZipError::FileNotFound) => {
                    return Err(NpyError::Member {
                        path: path.to_path_buf(),
                        member,
                        available,
                    })
                }
                Err(e) => return Err(zip_err(e)),
            };
            let stored = entry.compression() == zip::CompressionMethod::Stored;
            let start = entry.data_start();
            let size = entry.size();
            let io = |source| NpyError::Io {
                file: name.clone(),
                source,
            };
            let mut head = vec![0u8; 4096.min(size as usize)];
            entry.read_exact(&mut head).map_err(io)?;
            let header = parse_header(&name, &head)?;
            check_length(
                &name,
                &header,
                size.saturating_sub(header.data_offset as u64),
            )?;
            match start {
                Some(start) if stored && !header.fortran_order && !header.big_endian => {
                    drop(entry);
                    let file = File::open(path).map_err(io)?;
                    let offset = start + header.data_offset as u64;
                    arrays.push(Self::new(name, &header, Storage::File { file, offset })?);
                }
                _ => {
                    let mut data = head.split_off(header.data_offset.min(head.len()));
                    let need = header.data_bytes() as usize;
                    let have = data.len();
                    data.resize(need, 0);
                    entry.read_exact(&mut data[have..]).map_err(io)?;
                    arrays.push(Self::in_memory(name, &header, data)?);
                }
            }
        }
        Ok(arrays)
    }

    fn in_memory(name: String, header: &NpyHeader, mut data: Vec<u8>) -> Result<Self, NpyError> {
        let size = header.dtype.size();
        if header.big_endian {
            for element in data.chunks_exact_mut(size) {
                element.reverse();
            }
        }
        if header.fortran_order && header.shape.len() > 1 {
            data = fortran_to_c(&data, &header.shape, size);
        }
        Self::new(name, header, Storage::Memory(data))
    }

    fn new(name: String, header: &NpyHeader, storage: Storage) -> Result<Self, NpyError> {
        let Some((&count, rest)) = header.shape.split_first() else {
            return Err(NpyError::Header {
                file: name,
                reason: "a 0-dimensional array has no sample axis".into(),
            });
        };
        Ok(NpyArray {
            name,
            layout: InputLayout {
                dtype: header.dtype,
                shape: rest.to_vec(),
            },
            count,
            storage,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn layout(&self) -> &InputLayout {
        &self.layout
    }

    fn sample_bytes(&self) -> usize {
        self.layout.shape.iter().product::<usize>() * self.layout.dtype.size()
    }

    /// Sample `index`'s bytes (C order, little-endian).
    pub fn sample(&self, index: usize) -> Result<Vec<u8>, NpyError> {
        let n = self.sample_bytes();
        match &self.storage {
            Storage::Memory(data) => Ok(data[index * n..(index + 1) * n].to_vec()),
            Storage::File { file, offset } => {
                let mut out = vec![0u8; n];
                file.read_exact_at(&mut out, offset + (index * n) as u64)
                    .map_err(|source| NpyError::Io {
                        file: self.name.clone(),
                        source,
                    })?;
                Ok(out)
            }
        }
    }

    /// The whole array as integers (for labels): integer and bool types only.
    pub fn to_i64(&self) -> Result<Vec<i64>, NpyError> {
        let mut out = Vec::with_capacity(self.count);
        for i in 0..self.count {
            let b = self.sample(i)?;
            let v = match self.layout.dtype {
                DType::U8 | DType::Bool => b[0] as i64,
                DType::I8 => b[0] as i8 as i64,
                DType::I16 => i16::from_le_bytes([b[0], b[1]]) as i64,
                DType::I32 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
                DType::I64 => i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
                other => {
                    return Err(NpyError::Header {
                        file: self.name.clone(),
                        reason: format!("labels must be integers, this array is {other}"),
                    })
                }
            };
            out.push(v);
        }
        Ok(out)
    }
}

fn check_length(name: &str, header: &NpyHeader, actual: u64) -> Result<(), NpyError> {
    let expected = header.data_bytes();
    if actual < expected {
        return Err(NpyError::Truncated {
            file: name.to_string(),
            shape: header.shape.clone(),
            dtype: header.dtype,
            expected,
            actual,
        });
    }
    Ok(())
}

/// Reorders a column-major array into row-major order.
fn fortran_to_c(data: &[u8], shape: &[usize], size: usize) -> Vec<u8> {
    let mut out = vec![0u8; data.len()];
    // Column-major strides, in elements.
    let mut strides = vec![1usize; shape.len()];
    for k in 1..shape.len() {
        strides[k] = strides[k - 1] * shape[k - 1];
    }
    let mut index = vec![0usize; shape.len()];
    for c in 0..data.len() / size {
        let f: usize = index.iter().zip(&strides).map(|(i, s)| i * s).sum();
        out[c * size..(c + 1) * size].copy_from_slice(&data[f * size..(f + 1) * size]);
        for k in (0..shape.len()).rev() {
            index[k] += 1;
            if index[k] < shape[k] {
                break;
            }
            index[k] = 0;
        }
    }
    out
}

/// NumPy arrays as a [`SampleSource`]: one array per model input (the
/// `.npy` files in order, or the `.npz` members), all with the same number
/// of samples, and optional labels.
#[derive(Debug)]
pub struct NpySource {
    origin: PathBuf,
    arrays: Vec<NpyArray>,
    labels: Option<Vec<i64>>,
}

impl NpySource {
    /// `arrays` already opened; `origin` names the data set in messages.
    /// Checks that every array has as many samples as the first.
    pub fn new(origin: &Path, arrays: Vec<NpyArray>) -> Result<Self, DataError> {
        let Some(first) = arrays.first() else {
            return Err(DataError::Empty {
                path: origin.to_path_buf(),
                reason: "no arrays".into(),
            });
        };
        if let Some(other) = arrays.iter().find(|a| a.len() != first.len()) {
            return Err(DataError::Empty {
                path: origin.to_path_buf(),
                reason: format!(
                    "{} has {} samples but {} has {}",
                    first.name(),
                    first.len(),
                    other.name(),
                    other.len()
                ),
            });
        }
        Ok(NpySource {
            origin: origin.to_path_buf(),
            arrays,
            labels: None,
        })
    }

    /// Opens a `.npy` file (one input) or a `.npz` archive (`members`, or
    /// all of them, one input each).
    pub fn open(path: &Path, members: &[String]) -> Result<Self, DataError> {
        let is_npz = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("npz"));
        let arrays = if is_npz {
            NpyArray::open_npz(path, members)?
        } else {
            vec![NpyArray::open(path)?]
        };
        Self::new(path, arrays)
    }

    /// Attaches labels (checked: one per sample); `labels_path` names them.
    pub fn with_labels(mut self, labels_path: &Path, labels: Vec<i64>) -> Result<Self, DataError> {
        self.labels = Some(checked_labels(
            &self.origin,
            self.len(),
            labels_path,
            labels,
        )?);
        Ok(self)
    }

    pub fn layouts(&self) -> Vec<InputLayout> {
        self.arrays.iter().map(|a| a.layout().clone()).collect()
    }

    /// Checks the arrays against the model's inputs.
    pub fn check(&self, inputs: &[TensorSpec]) -> Result<(), DataError> {
        check_inputs(&self.origin, &self.layouts(), inputs)
    }
}

impl SampleSource for NpySource {
    fn len(&self) -> usize {
        self.arrays.first().map_or(0, NpyArray::len)
    }

    fn origin(&self) -> &Path {
        &self.origin
    }

    fn load(&self, index: usize) -> Result<Vec<SampleTensor>, SourceError> {
        if index >= self.len() {
            return Err(format!("sample {index} is past the end ({} samples)", self.len()).into());
        }
        self.arrays
            .iter()
            .map(|a| Ok(tensor(a.layout(), a.sample(index)?)))
            .collect()
    }

    fn label(&self, index: usize) -> Label {
        label_at(self.labels.as_ref(), index)
    }
}

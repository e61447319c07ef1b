//! Reading `mlperf_log_accuracy.json` and decoding its response bytes.
//!
//! LoadGen writes one JSON array whose records carry the response bytes as
//! upper-case hex (`"data"`), plus `token_count` / `token_data` for LLMs.
//! The MLPerf accuracy scripts read those bytes with `np.frombuffer(bytes,
//! dtype)` (little endian on every submission platform), so the dtype is not
//! in the log: it is an argument, and a wrong one shows up as a byte count
//! that is not a multiple of the element width, which is reported as such.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{AccuracyError, Result};

/// One response of the accuracy log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccuracyRecord {
    /// LoadGen's sequence id of the sample in the run.
    pub seq_id: u64,
    /// The sample's index in the query sample library (the dataset).
    pub qsl_idx: u64,
    /// The response bytes (decoded from `"data"`).
    pub data: Vec<u8>,
    /// Output tokens, where the SUT reported them (`"token_count"`).
    pub token_count: Option<u64>,
}

/// An accuracy log: its records and where they came from (for messages).
#[derive(Debug, Clone)]
pub struct AccuracyLog {
    /// The file the records were read from, or a label for in-memory logs.
    pub path: PathBuf,
    /// The records in file order.
    pub records: Vec<AccuracyRecord>,
}

impl AccuracyLog {
    /// An in-memory log, e.g. one a workload produced without a file;
    /// `source` names it in error messages.
    pub fn from_records(source: impl Into<PathBuf>, records: Vec<AccuracyRecord>) -> Self {
        Self {
            path: source.into(),
            records,
        }
    }

    /// Indices into `records` of the first response for each `qsl_idx`, in
    /// file order. The ImageNet, OpenOrca and GSM8K scripts skip repeated
    /// samples ("de-dupe in case loadgen sends the same image multiple
    /// times"), keeping the first.
    pub fn first_per_sample(&self) -> Vec<usize> {
        let mut seen = HashSet::new();
        (0..self.records.len())
            .filter(|&i| seen.insert(self.records[i].qsl_idx))
            .collect()
    }

    /// Fails with [`AccuracyError::NoSamples`] on an empty log.
    pub fn require_records(&self) -> Result<()> {
        if self.records.is_empty() {
            return Err(AccuracyError::NoSamples {
                path: self.path.clone(),
            });
        }
        Ok(())
    }

    /// The response of record `i` as UTF-8 text.
    pub fn text(&self, i: usize) -> Result<&str> {
        let r = &self.records[i];
        std::str::from_utf8(&r.data).map_err(|e| AccuracyError::NotText {
            path: self.path.clone(),
            record: i,
            qsl_idx: r.qsl_idx,
            reason: e.to_string(),
        })
    }

    /// The response of record `i` decoded as `dtype` values.
    pub fn values(&self, i: usize, dtype: Dtype) -> Result<Vec<Value>> {
        let r = &self.records[i];
        dtype.decode(&r.data).ok_or(AccuracyError::DtypeMismatch {
            path: self.path.clone(),
            record: i,
            qsl_idx: r.qsl_idx,
            len: r.data.len(),
            width: dtype.width(),
            dtype: dtype.name(),
        })
    }
}

#[derive(Deserialize)]
struct RawRecord {
    seq_id: u64,
    qsl_idx: u64,
    data: String,
    #[serde(default)]
    token_count: Option<u64>,
}

/// Reads and decodes an accuracy log.
///
/// Errors name the file: unreadable, not JSON (with line and column; a log
/// truncated by the submission tooling says so), a record without the
/// LoadGen fields, or `data` that is not hex.
pub fn read_accuracy_log(path: impl AsRef<Path>) -> Result<AccuracyLog> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| AccuracyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_accuracy_log(path, &text)
}

/// Parses the text of an accuracy log; `path` is used in messages only.
pub fn parse_accuracy_log(path: impl AsRef<Path>, text: &str) -> Result<AccuracyLog> {
    let path = path.as_ref();
    let corrupt = |reason: String| AccuracyError::CorruptLog {
        path: path.to_path_buf(),
        reason,
    };
    let raw: Vec<RawRecord> = serde_json::from_str(text).map_err(|e| {
        let hint = if text.contains("\n...\n") {
            " (it looks truncated by truncate_accuracy_log.py; score the original log)"
        } else {
            ""
        };
        corrupt(format!("{e}{hint}"))
    })?;
    let records = raw
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let data = decode_hex(&r.data).map_err(|why| {
                corrupt(format!(
                    "record {i} (qsl_idx {}): \"data\" is not hex: {why}",
                    r.qsl_idx
                ))
            })?;
            Ok(AccuracyRecord {
                seq_id: r.seq_id,
                qsl_idx: r.qsl_idx,
                data,
                token_count: r.token_count,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(AccuracyLog {
        path: path.to_path_buf(),
        records,
    })
}

/// Decodes hex digits (either case, as Python's `bytes.fromhex` accepts;
/// LoadGen writes upper case).
pub fn decode_hex(s: &str) -> std::result::Result<Vec<u8>, String> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return Err(format!("odd number of digits ({})", b.len()));
    }
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    b.chunks_exact(2)
        .enumerate()
        .map(|(i, pair)| match (nibble(pair[0]), nibble(pair[1])) {
            (Some(h), Some(l)) => Ok(h << 4 | l),
            _ => Err(format!(
                "bad digit at offset {}",
                if nibble(pair[0]).is_none() {
                    2 * i
                } else {
                    2 * i + 1
                }
            )),
        })
        .collect()
}

/// Element type of the response bytes, read little endian as numpy does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dtype {
    Int8,
    Uint8,
    Int16,
    Uint16,
    Int32,
    Uint32,
    Int64,
    Uint64,
    Float16,
    Float32,
    Float64,
}

/// One decoded element; integers stay exact.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Int(i128),
    Float(f64),
}

impl Value {
    /// Python's `int(x)`: floats truncate toward zero; `None` for NaN or
    /// infinity (where Python raises).
    pub fn to_int(self) -> Option<i128> {
        match self {
            Value::Int(i) => Some(i),
            Value::Float(f) if f.is_finite() => Some(f.trunc() as i128),
            Value::Float(_) => None,
        }
    }
}

impl Dtype {
    /// All dtypes, for help texts.
    pub const ALL: [Dtype; 11] = [
        Dtype::Int8,
        Dtype::Uint8,
        Dtype::Int16,
        Dtype::Uint16,
        Dtype::Int32,
        Dtype::Uint32,
        Dtype::Int64,
        Dtype::Uint64,
        Dtype::Float16,
        Dtype::Float32,
        Dtype::Float64,
    ];

    /// numpy's name of the dtype.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::Int8 => "int8",
            Dtype::Uint8 => "uint8",
            Dtype::Int16 => "int16",
            Dtype::Uint16 => "uint16",
            Dtype::Int32 => "int32",
            Dtype::Uint32 => "uint32",
            Dtype::Int64 => "int64",
            Dtype::Uint64 => "uint64",
            Dtype::Float16 => "float16",
            Dtype::Float32 => "float32",
            Dtype::Float64 => "float64",
        }
    }

    /// Bytes per element.
    pub fn width(self) -> usize {
        match self {
            Dtype::Int8 | Dtype::Uint8 => 1,
            Dtype::Int16 | Dtype::Uint16 | Dtype::Float16 => 2,
            Dtype::Int32 | Dtype::Uint32 | Dtype::Float32 => 4,
            Dtype::Int64 | Dtype::Uint64 | Dtype::Float64 => 8,
        }
    }

    /// Decodes `bytes`; `None` if the length is not a multiple of the width.
    pub fn decode(self, bytes: &[u8]) -> Option<Vec<Value>> {
        let w = self.width();
        if !bytes.len().is_multiple_of(w) {
            return None;
        }
        Some(
            bytes
                .chunks_exact(w)
                .map(|c| {
                    let mut b8 = [0u8; 8];
                    b8[..w].copy_from_slice(c);
                    let u = u64::from_le_bytes(b8);
                    match self {
                        Dtype::Int8 => Value::Int(i128::from(u as u8 as i8)),
                        Dtype::Uint8 => Value::Int(i128::from(u as u8)),
                        Dtype::Int16 => Value::Int(i128::from(u as u16 as i16)),
                        Dtype::Uint16 => Value::Int(i128::from(u as u16)),
                        Dtype::Int32 => Value::Int(i128::from(u as u32 as i32)),
                        Dtype::Uint32 => Value::Int(i128::from(u as u32)),
                        Dtype::Int64 => Value::Int(i128::from(u as i64)),
                        Dtype::Uint64 => Value::Int(i128::from(u)),
                        Dtype::Float16 => Value::Float(f16_to_f64(u as u16)),
                        Dtype::Float32 => Value::Float(f64::from(f32::from_bits(u as u32))),
                        Dtype::Float64 => Value::Float(f64::from_bits(u)),
                    }
                })
                .collect(),
        )
    }
}

impl std::str::FromStr for Dtype {
    type Err = AccuracyError;
    fn from_str(s: &str) -> Result<Self> {
        // The MLPerf scripts also say "float" for float32 (llama2) and "int"
        // nowhere; accept numpy's names and that alias.
        let s = s.trim().to_ascii_lowercase();
        let alias = match s.as_str() {
            "float" => "float32",
            "half" => "float16",
            "double" => "float64",
            other => other,
        };
        Dtype::ALL
            .into_iter()
            .find(|d| d.name() == alias)
            .ok_or_else(|| {
                AccuracyError::InvalidArgument(format!(
                    "unknown dtype '{s}'; one of: {}",
                    Dtype::ALL.map(Dtype::name).join(", ")
                ))
            })
    }
}

impl std::fmt::Display for Dtype {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// IEEE 754 binary16 to f64 (exact).
fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let frac = f64::from(h & 0x3ff);
    match exp {
        0 => sign * frac * 2f64.powi(-24),
        31 if frac == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        _ => sign * (1.0 + frac / 1024.0) * 2f64.powi(exp - 15),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_loadgen_format() {
        let text = "[\n{ \"seq_id\" : 0, \"qsl_idx\" : 1541, \"data\" : \"05060000\" },\n\
                    { \"seq_id\" : 1, \"qsl_idx\" : 7, \"data\" : \"01\", \"token_count\" : 12 }\n]\n";
        let log = parse_accuracy_log("x.json", text).unwrap();
        assert_eq!(log.records.len(), 2);
        assert_eq!(log.records[0].data, vec![5, 6, 0, 0]);
        assert_eq!(log.records[1].token_count, Some(12));
        assert_eq!(
            log.values(0, Dtype::Int32).unwrap(),
            vec![Value::Int(0x605)]
        );
    }

    #[test]
    fn empty_array_is_a_log_without_records() {
        let log = parse_accuracy_log("x.json", "[\n]\n").unwrap();
        assert!(log.records.is_empty());
        let e = log.require_records().unwrap_err().to_string();
        assert!(e.contains("x.json") && e.contains("no records"), "{e}");
    }

    #[test]
    fn dtypes_decode_little_endian() {
        assert_eq!(Dtype::Int8.decode(&[0xff]), Some(vec![Value::Int(-1)]));
        assert_eq!(Dtype::Uint8.decode(&[0xff]), Some(vec![Value::Int(255)]));
        assert_eq!(
            Dtype::Int16.decode(&[0x00, 0x80]),
            Some(vec![Value::Int(-32768)])
        );
        assert_eq!(
            Dtype::Uint64.decode(&[0xff; 8]),
            Some(vec![Value::Int(i128::from(u64::MAX))])
        );
        assert_eq!(
            Dtype::Float32.decode(&1.5f32.to_le_bytes()),
            Some(vec![Value::Float(1.5)])
        );
        assert_eq!(
            Dtype::Float16.decode(&[0x00, 0x3c, 0x00, 0xc0]),
            Some(vec![Value::Float(1.0), Value::Float(-2.0)])
        );
        assert_eq!(Dtype::Int32.decode(&[1, 2, 3]), None);
        assert_eq!(Value::Float(-2.7).to_int(), Some(-2));
    }

    #[test]
    fn hex_errors_are_specific() {
        assert!(decode_hex("abc").unwrap_err().contains("odd"));
        assert!(decode_hex("0g").unwrap_err().contains("offset 1"));
        assert_eq!(decode_hex("ff0A").unwrap(), vec![0xff, 0x0a]);
    }

    #[test]
    fn dtype_names_parse() {
        assert_eq!("int64".parse::<Dtype>().unwrap(), Dtype::Int64);
        assert_eq!("float".parse::<Dtype>().unwrap(), Dtype::Float32);
        assert!("int128".parse::<Dtype>().is_err());
    }
}

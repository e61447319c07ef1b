//! JSON lines of token ids, one sample a line:
//! `{"input_ids": [101, 2023, ...], "attention_mask": [1, 1, ...]}`.
//!
//! Each named field becomes one model input of `seq_len` integers, padded
//! at the end with the field's pad value (0 unless set). A missing
//! `attention_mask` is made from the `input_ids` (1 per token, 0 for
//! padding); any other missing field is an error. A sequence longer than
//! `seq_len` is an error unless truncation is asked for. The file is indexed
//! (line offsets) when opened and a line parsed when its sample is loaded.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::{check_inputs, checked_labels, label_at, DataError, InputLayout};
use crate::sample::{Label, SampleSource, SampleTensor, SourceError};
use crate::tensor::{DType, TensorSpec};

/// A JSONL file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum JsonlError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}: not a JSON object: {source}", path.display())]
    Json {
        path: PathBuf,
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error("{}:{line}: field `{field}`: {reason}", path.display())]
    Field {
        path: PathBuf,
        line: usize,
        field: String,
        reason: String,
    },
    #[error("{}: no samples (the file has no non-blank lines)", path.display())]
    Empty { path: PathBuf },
    #[error("token ids are stored as int32 or int64, not {dtype}")]
    Dtype { dtype: DType },
}

/// How the lines become model inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonlOptions {
    /// The fields, one per model input, in the model's input order.
    pub fields: Vec<String>,
    /// The length every sequence is padded to.
    pub seq_len: usize,
    /// Pad values by field (0 for those not named).
    pub pad: Vec<(String, i64)>,
    /// `int64` (BERT-style ONNX exports) or `int32`.
    pub dtype: DType,
    /// Cut longer sequences to `seq_len` instead of failing.
    pub truncate: bool,
    /// A field holding the sample's integer label.
    pub label_field: Option<String>,
}

impl Default for JsonlOptions {
    fn default() -> Self {
        JsonlOptions {
            fields: vec!["input_ids".into(), "attention_mask".into()],
            seq_len: 128,
            pad: Vec::new(),
            dtype: DType::I64,
            truncate: false,
            label_field: None,
        }
    }
}

/// A JSONL token file as a [`SampleSource`].
#[derive(Debug)]
pub struct JsonlSource {
    origin: PathBuf,
    file: File,
    /// Byte range and 1-based line number of each sample.
    lines: Vec<(u64, usize, usize)>,
    options: JsonlOptions,
    labels: Option<Vec<i64>>,
}

impl JsonlSource {
    pub fn open(path: &Path, options: JsonlOptions) -> Result<Self, DataError> {
        if !matches!(options.dtype, DType::I64 | DType::I32) {
            return Err(JsonlError::Dtype {
                dtype: options.dtype,
            }
            .into());
        }
        let io = |source| JsonlError::Io {
            path: path.to_path_buf(),
            source,
        };
        let bytes = std::fs::read(path).map_err(io)?;
        let file = File::open(path).map_err(io)?;
        let mut lines = Vec::new();
        let mut start = 0usize;
        for (number, line) in bytes.split(|&b| b == b'\n').enumerate() {
            if !line.iter().all(u8::is_ascii_whitespace) {
                lines.push((start as u64, line.len(), number + 1));
            }
            start += line.len() + 1;
        }
        if lines.is_empty() {
            return Err(JsonlError::Empty {
                path: path.to_path_buf(),
            }
            .into());
        }
        let labels = match &options.label_field {
            None => None,
            Some(field) => {
                let mut labels = Vec::with_capacity(lines.len());
                for &(start, len, line) in &lines {
                    let text = &bytes[start as usize..start as usize + len];
                    let value = parse_line(path, line, text)?;
                    let label = value.get(field).and_then(serde_json::Value::as_i64);
                    labels.push(label.ok_or_else(|| JsonlError::Field {
                        path: path.to_path_buf(),
                        line,
                        field: field.clone(),
                        reason: "missing or not an integer".into(),
                    })?);
                }
                Some(labels)
            }
        };
        Ok(JsonlSource {
            origin: path.to_path_buf(),
            file,
            lines,
            options,
            labels,
        })
    }

    /// Replaces the labels (checked: one per line); `labels_path` names them.
    pub fn with_labels(mut self, labels_path: &Path, labels: Vec<i64>) -> Result<Self, DataError> {
        self.labels = Some(checked_labels(
            &self.origin,
            self.lines.len(),
            labels_path,
            labels,
        )?);
        Ok(self)
    }

    pub fn layouts(&self) -> Vec<InputLayout> {
        let layout = InputLayout {
            dtype: self.options.dtype,
            shape: vec![self.options.seq_len],
        };
        vec![layout; self.options.fields.len()]
    }

    pub fn check(&self, inputs: &[TensorSpec]) -> Result<(), DataError> {
        check_inputs(&self.origin, &self.layouts(), inputs)
    }

    /// Sample `index`: one padded sequence per field.
    pub fn sample(&self, index: usize) -> Result<Vec<SampleTensor>, JsonlError> {
        let (start, len, line) = self.lines[index];
        let mut text = vec![0u8; len];
        self.file
            .read_exact_at(&mut text, start)
            .map_err(|source| JsonlError::Io {
                path: self.origin.clone(),
                source,
            })?;
        let value = parse_line(&self.origin, line, &text)?;
        let field_err = |field: &str, reason: String| JsonlError::Field {
            path: self.origin.clone(),
            line,
            field: field.to_string(),
            reason,
        };
        let ids = |field: &str| -> Result<Option<Vec<i64>>, JsonlError> {
            let Some(v) = value.get(field) else {
                return Ok(None);
            };
            let items = v
                .as_array()
                .ok_or_else(|| field_err(field, "not a list".into()))?;
            items
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    t.as_i64().ok_or_else(|| {
                        field_err(field, format!("entry {i} ({t}) is not an integer"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some)
        };
        let seq_len = self.options.seq_len;
        let mut out = Vec::with_capacity(self.options.fields.len());
        for field in &self.options.fields {
            let mut values = match ids(field)? {
                Some(v) => v,
                None if field == "attention_mask" => {
                    let tokens = self
                        .options
                        .fields
                        .first()
                        .map(|f| ids(f))
                        .transpose()?
                        .flatten()
                        .map_or(0, |t| t.len());
                    vec![1; tokens]
                }
                None => return Err(field_err(field, "missing".into())),
            };
            if values.len() > seq_len {
                if !self.options.truncate {
                    return Err(field_err(
                        field,
                        format!(
                            "{} tokens, longer than the sequence length {seq_len}",
                            values.len()
                        ),
                    ));
                }
                values.truncate(seq_len);
            }
            let pad = self
                .options
                .pad
                .iter()
                .find(|(f, _)| f == field)
                .map_or(0, |(_, p)| *p);
            values.resize(seq_len, pad);
            let bytes = match self.options.dtype {
                DType::I32 => {
                    let mut b = Vec::with_capacity(seq_len * 4);
                    for v in values {
                        let v = i32::try_from(v).map_err(|_| {
                            field_err(field, format!("token id {v} does not fit int32"))
                        })?;
                        b.extend_from_slice(&v.to_le_bytes());
                    }
                    b
                }
                _ => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            };
            out.push(SampleTensor {
                dtype: self.options.dtype,
                shape: vec![seq_len],
                bytes,
            });
        }
        Ok(out)
    }
}

fn parse_line(path: &Path, line: usize, text: &[u8]) -> Result<serde_json::Value, JsonlError> {
    let value: serde_json::Value =
        serde_json::from_slice(text).map_err(|source| JsonlError::Json {
            path: path.to_path_buf(),
            line,
            source,
        })?;
    if !value.is_object() {
        return Err(JsonlError::Field {
            path: path.to_path_buf(),
            line,
            field: String::new(),
            reason: "the line is not a JSON object".into(),
        });
    }
    Ok(value)
}

impl SampleSource for JsonlSource {
    fn len(&self) -> usize {
        self.lines.len()
    }

    fn origin(&self) -> &Path {
        &self.origin
    }

    fn load(&self, index: usize) -> Result<Vec<SampleTensor>, SourceError> {
        if index >= self.lines.len() {
            return Err(format!("sample {index} is past the end ({} lines)", self.len()).into());
        }
        Ok(self.sample(index)?)
    }

    fn label(&self, index: usize) -> Label {
        label_at(self.labels.as_ref(), index)
    }
}

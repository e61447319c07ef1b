//! `yardstick run --onnx model.onnx --dataset PATH`: a workload made from an
//! ONNX model and a data set, with no workload file. The model's inputs and
//! outputs (names, element types, shapes) come from the `.onnx` file itself,
//! the data set's format from PATH, and the result is an ordinary
//! [`Workload`] (written as the TOML a user would write), so it is opened,
//! checked and run exactly as a workload file is.

use std::path::{Path, PathBuf};

use crate::instance::{OnnxRunOptions, OpenError};
use crate::onnx::{find_library, load_runtime, OnnxModel, OnnxOptions};
use crate::spec::{DatasetFormat, Origin, Workload};
use crate::tensor::{DType, Dim, TensorSpec};

/// What the command line gives.
#[derive(Debug, Clone)]
pub struct ShortForm {
    pub model: PathBuf,
    pub dataset: PathBuf,
    pub labels: Option<PathBuf>,
    /// Top-k accuracy (`[accuracy] top_k`; 1: top-1).
    pub top_k: usize,
}

/// Why the short form cannot make a workload.
#[derive(Debug, thiserror::Error)]
pub enum ShortFormError {
    #[error("{}: cannot tell the data set's format: give a folder of JPEG/PNG images, a .npy or .npz file, a .jsonl file of token ids, or an IDX file (or write a workload file)", path.display())]
    UnknownFormat { path: PathBuf },
    #[error("{}: cannot read the data set: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the model {}: {detail}", model.display())]
    Model { model: PathBuf, detail: String },
}

/// The data set's format, from its path: a folder is images; `.npy` and
/// `.npz` are NumPy; `.jsonl` is token ids; a file starting with IDX's
/// magic (two zero bytes, then the element type) or gzip's is IDX.
pub fn detect_format(path: &Path) -> Result<DatasetFormat, ShortFormError> {
    if path.is_dir() {
        return Ok(DatasetFormat::Images);
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("npy" | "npz") => return Ok(DatasetFormat::Npy),
        Some("jsonl") => return Ok(DatasetFormat::Jsonl),
        _ => {}
    }
    let mut magic = [0u8; 4];
    let mut file = std::fs::File::open(path).map_err(|source| ShortFormError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let read =
        std::io::Read::read(&mut file, &mut magic).map_err(|source| ShortFormError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    match magic {
        [0, 0, _, _] | [0x1f, 0x8b, _, _] if read == 4 => Ok(DatasetFormat::Idx),
        _ => Err(ShortFormError::UnknownFormat {
            path: path.to_path_buf(),
        }),
    }
}

/// The workload of `form`: ONNX Runtime is loaded and the model opened once
/// to read its inputs and outputs; the first output makes the response (the
/// argmax class when it is a float tensor, else its raw bytes).
pub fn onnx_workload(form: &ShortForm, options: &OnnxRunOptions) -> Result<Workload, OpenError> {
    let lib = find_library(options.library.as_deref())?;
    load_runtime(&lib)?;
    let model = OnnxModel::open(
        &form.model,
        &OnnxOptions {
            execution_providers: options.execution_providers.clone().unwrap_or_default(),
            intra_op_threads: options.intra_op_threads.unwrap_or(0),
            inter_op_threads: options.inter_op_threads.unwrap_or(0),
        },
    )?;
    use crate::batching::Model;
    let text = workload_text(form, model.inputs(), model.outputs())?;
    let base_dir = std::env::current_dir().unwrap_or_default();
    Ok(Workload::parse(
        &text,
        Origin::File(form.model.clone()),
        base_dir,
    )?)
}

fn absolute(p: &Path) -> String {
    std::path::absolute(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

fn shape_of(t: &TensorSpec) -> toml::Value {
    toml::Value::Array(
        t.shape
            .iter()
            .map(|d| match d {
                Dim::Fixed(n) => toml::Value::Integer(*n as i64),
                Dim::Dynamic => toml::Value::Integer(-1),
            })
            .collect(),
    )
}

fn fixed(d: Option<&Dim>) -> Option<usize> {
    match d {
        Some(Dim::Fixed(n)) => Some(*n),
        _ => None,
    }
}

/// The workload file's text for `form` and the model's tensors.
pub fn workload_text(
    form: &ShortForm,
    inputs: &[TensorSpec],
    outputs: &[TensorSpec],
) -> Result<String, OpenError> {
    use toml::{Table, Value};
    let model_error = |detail: String| ShortFormError::Model {
        model: form.model.clone(),
        detail,
    };
    let first_in = inputs
        .first()
        .ok_or_else(|| model_error("it has no inputs".into()))?;
    let first_out = outputs
        .first()
        .ok_or_else(|| model_error("it has no tensor outputs".into()))?;
    let stem = form
        .model
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let model_name: String = stem
        .chars()
        .map(|c| if c.is_whitespace() { '_' } else { c })
        .collect();
    let format = detect_format(&form.dataset)?;
    let scores = matches!(first_out.dtype, DType::F32 | DType::F64);
    // The class count: the scores per sample (2 to 256 names are needed by
    // the workload format; only IDX labels are checked against them).
    let per_sample: Option<usize> = first_out
        .shape
        .iter()
        .skip(1)
        .map(|d| fixed(Some(d)))
        .product();
    let classes = per_sample.unwrap_or(2).clamp(2, 256);

    let mut dataset = Table::new();
    let format_name = match format {
        DatasetFormat::Images => "images",
        DatasetFormat::Npy => "npy",
        DatasetFormat::Jsonl => "jsonl",
        DatasetFormat::Idx => "idx",
    };
    dataset.insert("format".into(), format_name.into());
    dataset.insert("path".into(), absolute(&form.dataset).into());
    if let Some(l) = &form.labels {
        dataset.insert("labels".into(), absolute(l).into());
    }
    dataset.insert(
        "classes".into(),
        Value::Array((0..classes).map(|c| Value::from(c.to_string())).collect()),
    );
    // [sample] only describes IDX images: `byte / 255` into the model's
    // `[1, rows, cols]` (or `[rows, cols]`) input.
    let (mut rows, mut cols) = (1, 1);
    match format {
        DatasetFormat::Images => {
            // The crop and layout from the model's image input: NCHW
            // `[?, 3, H, W]` or NHWC `[?, H, W, 3]`, square.
            let s = &first_in.shape;
            let mut image = Table::new();
            let (layout, side) = match (fixed(s.get(1)), fixed(s.get(2)), fixed(s.get(3))) {
                (Some(3), Some(h), _) => ("nchw", Some(h)),
                (Some(h), _, Some(3)) => ("nhwc", Some(h)),
                _ => ("nchw", None),
            };
            image.insert("layout".into(), layout.into());
            if let Some(side) = side {
                image.insert("crop".into(), Value::Integer(side as i64));
            }
            if matches!(first_in.dtype, DType::U8) {
                image.insert("dtype".into(), "uint8".into());
            }
            dataset.insert("image".into(), Value::Table(image));
        }
        DatasetFormat::Jsonl => {
            let mut tokens = Table::new();
            tokens.insert(
                "fields".into(),
                Value::Array(inputs.iter().map(|t| Value::from(t.name.clone())).collect()),
            );
            let seq_len = fixed(first_in.shape.get(1)).ok_or_else(|| {
                model_error(format!(
                    "input `{}` has no fixed sequence length (its shape is {}); a .jsonl data set needs one, or a workload file with [dataset.tokens] seq_len",
                    first_in.name,
                    crate::tensor::shape_text(&first_in.shape)
                ))
            })?;
            tokens.insert("seq_len".into(), Value::Integer(seq_len as i64));
            tokens.insert("dtype".into(), first_in.dtype.name().into());
            dataset.insert("tokens".into(), Value::Table(tokens));
        }
        DatasetFormat::Idx => {
            let dims: Vec<usize> = first_in
                .shape
                .iter()
                .skip(1)
                .filter_map(|d| fixed(Some(d)))
                .collect();
            if let [.., r, c] = dims.as_slice() {
                (rows, cols) = (*r, *c);
            }
        }
        DatasetFormat::Npy => {}
    }

    let mut sample = Table::new();
    sample.insert("kind".into(), "image".into());
    sample.insert("rows".into(), Value::Integer(rows as i64));
    sample.insert("cols".into(), Value::Integer(cols as i64));

    let tensors = |ts: &[TensorSpec]| {
        Value::Array(
            ts.iter()
                .map(|t| {
                    let mut d = Table::new();
                    d.insert("name".into(), t.name.clone().into());
                    d.insert("dtype".into(), t.dtype.name().into());
                    d.insert("shape".into(), shape_of(t));
                    Value::Table(d)
                })
                .collect(),
        )
    };
    let mut sut = Table::new();
    sut.insert("kind".into(), "onnx".into());
    sut.insert("model".into(), absolute(&form.model).into());
    sut.insert("threads".into(), Value::Integer(1));
    sut.insert("inter_op_threads".into(), Value::Integer(1));
    sut.insert(
        "batch_size".into(),
        Value::Integer(fixed(first_in.shape.first()).unwrap_or(64) as i64),
    );
    sut.insert(
        "response".into(),
        if scores { "class-int32" } else { "raw" }.into(),
    );
    sut.insert("inputs".into(), tensors(inputs));
    sut.insert("outputs".into(), tensors(&outputs[..1]));

    let mut accuracy = Table::new();
    accuracy.insert("metric".into(), "top1".into());
    if form.top_k != 1 {
        accuracy.insert("top_k".into(), Value::Integer(form.top_k as i64));
    }

    let mut scenarios = Table::new();
    scenarios.insert("default".into(), "Offline".into());
    for scenario in ["Offline", "Server"] {
        let mut t = Table::new();
        t.insert("target_qps".into(), "auto".into());
        scenarios.insert(scenario.into(), Value::Table(t));
    }
    for scenario in ["SingleStream", "MultiStream"] {
        scenarios.insert(scenario.into(), Value::Table(Table::new()));
    }

    let mut doc = Table::new();
    doc.insert("name".into(), stem.clone().into());
    doc.insert(
        "description".into(),
        format!(
            "{} on {} (yardstick run --onnx --dataset)",
            form.model.display(),
            form.dataset.display()
        )
        .into(),
    );
    doc.insert("model_name".into(), model_name.into());
    doc.insert("dataset".into(), Value::Table(dataset));
    doc.insert("sample".into(), Value::Table(sample));
    doc.insert("sut".into(), Value::Table(sut));
    doc.insert("accuracy".into(), Value::Table(accuracy));
    doc.insert("scenarios".into(), Value::Table(scenarios));
    toml::to_string(&doc).map_err(|e| {
        OpenError::from(model_error(format!(
            "cannot describe it as a workload: {e}"
        )))
    })
}

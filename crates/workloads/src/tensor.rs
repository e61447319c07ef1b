//! Tensor descriptions shared by models, sample sources and workload files:
//! element types, shapes with dynamic dimensions, and the named specs of a
//! model's inputs and outputs. Tensors travel as little-endian bytes, so the
//! batching SUT and the sample library never depend on a runtime's types.

use serde::Deserialize;

/// An element type, named as in ONNX (`float`, `int64`, ...) or NumPy
/// (`float32`, `int64`, ...) in a workload file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    #[serde(alias = "float32", alias = "float")]
    F32,
    #[serde(alias = "float64", alias = "double")]
    F64,
    #[serde(alias = "float16")]
    F16,
    #[serde(alias = "int8")]
    I8,
    #[serde(alias = "int16")]
    I16,
    #[serde(alias = "int32")]
    I32,
    #[serde(alias = "int64")]
    I64,
    #[serde(alias = "uint8")]
    U8,
    #[serde(alias = "bool")]
    Bool,
}

impl DType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::F64 | DType::I64 => 8,
            DType::F32 | DType::I32 => 4,
            DType::F16 | DType::I16 => 2,
            DType::I8 | DType::U8 | DType::Bool => 1,
        }
    }

    /// The NumPy name (`float32`, `int64`, ...), used in messages.
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::F16 => "float16",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::U8 => "uint8",
            DType::Bool => "bool",
        }
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One dimension of a shape: a size, or dynamic (`-1`, or a symbolic name
/// such as `batch` in an ONNX file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dim {
    Fixed(usize),
    Dynamic,
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Dynamic => f.write_str("?"),
        }
    }
}

/// Writes a shape as `[?, 1, 28, 28]`.
pub fn shape_text(shape: &[Dim]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", dims.join(", "))
}

/// A named input or output of a model: its element type and shape, the
/// batch dimension included (first, usually dynamic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    pub name: String,
    pub dtype: DType,
    pub shape: Vec<Dim>,
}

impl TensorSpec {
    /// The shape of one sample: every dimension after the batch one, which
    /// must all be fixed (`None` otherwise).
    pub fn sample_shape(&self) -> Option<Vec<usize>> {
        self.shape
            .iter()
            .skip(1)
            .map(|d| match d {
                Dim::Fixed(n) => Some(*n),
                Dim::Dynamic => None,
            })
            .collect()
    }

    /// Bytes of one sample of this tensor (`None` if a non-batch dimension is
    /// dynamic).
    pub fn sample_bytes(&self) -> Option<usize> {
        self.sample_shape()
            .map(|s| s.iter().product::<usize>() * self.dtype.size())
    }

    /// The batch dimension's fixed size, if it has one.
    pub fn fixed_batch(&self) -> Option<usize> {
        match self.shape.first() {
            Some(Dim::Fixed(n)) => Some(*n),
            _ => None,
        }
    }
}

impl std::fmt::Display for TensorSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.name,
            self.dtype,
            shape_text(&self.shape)
        )
    }
}

//! ONNX Runtime as a [`Model`], through the `ort` crate with the runtime
//! library loaded at run time (`load-dynamic`): the one from the PyPI
//! `onnxruntime` wheel of the active Python, or a path given by the user or
//! `ORT_DYLIB_PATH`.
//!
//! A batch's inputs and outputs are ONNX Runtime tensors allocated once per
//! batch size and bound to the session: the batching SUT fills the inputs in
//! place and reads the outputs where the runtime wrote them.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;
use ort::memory::Allocator;
use ort::session::{IoBinding, Session};
use ort::value::{DynTensor, TensorElementType, ValueType};

use crate::batching::{Batch, Model, ModelRunError};
use crate::tensor::{shape_text, DType, Dim, TensorSpec};

/// Why ONNX Runtime or a model could not be used.
#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    #[error("ONNX Runtime's library was not found: install it with `pip install onnxruntime` in the active Python environment, or name libonnxruntime.so with --ort-lib or ORT_DYLIB_PATH ({searched})")]
    LibraryNotFound { searched: String },
    #[error("cannot load ONNX Runtime from {}: {source}", path.display())]
    Load {
        path: PathBuf,
        #[source]
        source: ort::LoadDynamicError,
    },
    #[error("ONNX Runtime: {0}")]
    Runtime(#[from] ort::Error),
    #[error("cannot open the model {}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: ort::Error,
    },
    #[error("the model {}: {what} `{name}` has type {found}, which this SUT cannot feed or read (tensors of numbers only)", path.display())]
    Unsupported {
        path: PathBuf,
        what: &'static str,
        name: String,
        found: String,
    },
    #[error("unknown execution provider `{0}` (known: cpu, cuda, tensorrt)")]
    UnknownProvider(String),
    #[error("the model {} does not match the workload file: {detail}", path.display())]
    Mismatch { path: PathBuf, detail: String },
}

/// How ONNX Runtime runs a model.
#[derive(Debug, Clone, Default)]
pub struct OnnxOptions {
    /// Execution providers by name, in order of preference (`cpu`, `cuda`).
    pub execution_providers: Vec<String>,
    /// Intra-op threads (0: ONNX Runtime's default).
    pub intra_op_threads: usize,
    /// Inter-op threads (0: ONNX Runtime's default).
    pub inter_op_threads: usize,
}

/// The process's ONNX Runtime environment (one per process: ONNX Runtime's
/// rule) and the library it came from.
static RUNTIME: OnceLock<(Environment, PathBuf)> = OnceLock::new();

/// Where the library is: `explicit` (a flag), else `ORT_DYLIB_PATH`, else
/// the active Python's `onnxruntime` package (`python3` on PATH, or
/// `$VIRTUAL_ENV/bin/python`).
pub fn find_library(explicit: Option<&Path>) -> Result<PathBuf, OnnxError> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH") {
        return Ok(PathBuf::from(p));
    }
    let mut searched = Vec::new();
    let mut pythons = Vec::new();
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        pythons.push(PathBuf::from(venv).join("bin/python"));
    }
    pythons.push(PathBuf::from("python3"));
    for python in pythons {
        let out = std::process::Command::new(&python)
            .args([
                "-c",
                "import onnxruntime, os; print(os.path.dirname(onnxruntime.__file__))",
            ])
            .stderr(std::process::Stdio::null())
            .output();
        searched.push(format!("{}: no onnxruntime package", python.display()));
        let Ok(out) = out else { continue };
        if !out.status.success() {
            continue;
        }
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("capi");
        if let Some(lib) = library_in(&dir) {
            return Ok(lib);
        }
        searched.push(format!("no libonnxruntime.so* in {}", dir.display()));
    }
    Err(OnnxError::LibraryNotFound {
        searched: searched.join("; "),
    })
}

/// The `libonnxruntime.so.<version>` (or `.so`, `.dylib`) in `dir`.
fn library_in(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libonnxruntime.so") || n == "libonnxruntime.dylib")
        })
        .collect();
    found.sort();
    found.pop()
}

/// Loads ONNX Runtime from `library` (once per process; a later call
/// returns the library first loaded).
pub fn load_runtime(library: &Path) -> Result<PathBuf, OnnxError> {
    if !library.exists() {
        return Err(OnnxError::LibraryNotFound {
            searched: format!("{} does not exist", library.display()),
        });
    }
    if let Some((_, path)) = RUNTIME.get() {
        return Ok(path.clone());
    }
    let builder = ort::init_from(library).map_err(|source| OnnxError::Load {
        path: library.to_path_buf(),
        source,
    })?;
    let env = builder.with_name("yardstick").build()?;
    let _ = RUNTIME.set((env, library.to_path_buf()));
    Ok(RUNTIME
        .get()
        .map_or_else(|| library.to_path_buf(), |(_, p)| p.clone()))
}

fn dtype_of(t: TensorElementType) -> Option<DType> {
    Some(match t {
        TensorElementType::Float32 => DType::F32,
        TensorElementType::Float64 => DType::F64,
        TensorElementType::Float16 => DType::F16,
        TensorElementType::Int8 => DType::I8,
        TensorElementType::Int16 => DType::I16,
        TensorElementType::Int32 => DType::I32,
        TensorElementType::Int64 => DType::I64,
        TensorElementType::Uint8 => DType::U8,
        TensorElementType::Bool => DType::Bool,
        _ => return None,
    })
}

fn element_of(d: DType) -> TensorElementType {
    match d {
        DType::F32 => TensorElementType::Float32,
        DType::F64 => TensorElementType::Float64,
        DType::F16 => TensorElementType::Float16,
        DType::I8 => TensorElementType::Int8,
        DType::I16 => TensorElementType::Int16,
        DType::I32 => TensorElementType::Int32,
        DType::I64 => TensorElementType::Int64,
        DType::U8 => TensorElementType::Uint8,
        DType::Bool => TensorElementType::Bool,
    }
}

/// The spec of a session input or output, or why it is not a tensor of
/// numbers.
fn spec_of(
    path: &Path,
    what: &'static str,
    name: &str,
    ty: &ValueType,
) -> Result<TensorSpec, OnnxError> {
    let unsupported = || OnnxError::Unsupported {
        path: path.to_path_buf(),
        what,
        name: name.to_string(),
        found: format!("{ty:?}"),
    };
    match ty {
        ValueType::Tensor {
            ty: element, shape, ..
        } => Ok(TensorSpec {
            name: name.to_string(),
            dtype: dtype_of(*element).ok_or_else(unsupported)?,
            shape: shape
                .iter()
                .map(|&d| usize::try_from(d).map_or(Dim::Dynamic, Dim::Fixed))
                .collect(),
        }),
        _ => Err(unsupported()),
    }
}

/// A model file in an ONNX Runtime session.
pub struct OnnxModel {
    path: PathBuf,
    session: Session,
    inputs: Vec<TensorSpec>,
    outputs: Vec<TensorSpec>,
    /// Outputs that are not tensors of numbers, and why.
    other_outputs: Vec<(String, OnnxError)>,
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxModel")
            .field("path", &self.path)
            .field("inputs", &self.inputs)
            .field("outputs", &self.outputs)
            .finish()
    }
}

impl OnnxModel {
    /// Opens `path` in a session of the loaded runtime (see [`load_runtime`]).
    pub fn open(path: &Path, options: &OnnxOptions) -> Result<Self, OnnxError> {
        let Some((env, _)) = RUNTIME.get() else {
            return Err(OnnxError::LibraryNotFound {
                searched: "ONNX Runtime was not loaded (load_runtime first)".into(),
            });
        };
        let mut providers = Vec::new();
        for name in &options.execution_providers {
            providers.push(match name.to_ascii_lowercase().as_str() {
                "cpu" => ort::ep::CPU::default().build(),
                "cuda" => ort::ep::CUDA::default().build().error_on_failure(),
                "tensorrt" => ort::ep::TensorRT::default().build().error_on_failure(),
                other => return Err(OnnxError::UnknownProvider(other.to_string())),
            });
        }
        let open = |source: ort::Error| OnnxError::Open {
            path: path.to_path_buf(),
            source,
        };
        let mut builder = Session::builder(env).map_err(open)?;
        if !providers.is_empty() {
            builder = builder
                .with_execution_providers(providers)
                .map_err(|e| open(e.into()))?;
        }
        if options.intra_op_threads > 0 {
            builder = builder
                .with_intra_threads(options.intra_op_threads)
                .map_err(|e| open(e.into()))?;
        }
        if options.inter_op_threads > 0 {
            builder = builder
                .with_inter_threads(options.inter_op_threads)
                .map_err(|e| open(e.into()))?;
        }
        let session = builder.commit_from_file(path).map_err(open)?;
        let inputs = session
            .inputs()
            .iter()
            .map(|o| spec_of(path, "input", o.name(), o.dtype()))
            .collect::<Result<Vec<_>, _>>()?;
        // Outputs that are not tensors (a classifier's probability maps)
        // are left out: only a declared output is read, and it must be one.
        let mut outputs = Vec::new();
        let mut other_outputs = Vec::new();
        for o in session.outputs() {
            match spec_of(path, "output", o.name(), o.dtype()) {
                Ok(spec) => outputs.push(spec),
                Err(e) => other_outputs.push((o.name().to_string(), e)),
            }
        }
        Ok(OnnxModel {
            path: path.to_path_buf(),
            session,
            inputs,
            outputs,
            other_outputs,
        })
    }

    /// Checks the model's inputs and outputs against what the workload file
    /// declares: the same names in the same order, the same dtypes, and
    /// shapes that agree (a dynamic dimension on either side matches any
    /// size). The first difference is named.
    pub fn check(&self, inputs: &[TensorSpec], outputs: &[TensorSpec]) -> Result<(), OnnxError> {
        let mismatch = |detail: String| OnnxError::Mismatch {
            path: self.path.clone(),
            detail,
        };
        for d in outputs {
            if let Some((_, e)) = self.other_outputs.iter().find(|(n, _)| *n == d.name) {
                return Err(mismatch(format!("output `{}`: {e}", d.name)));
            }
        }
        let actual_outputs: Vec<TensorSpec> = outputs
            .iter()
            .filter_map(|d| self.outputs.iter().find(|a| a.name == d.name).cloned())
            .collect();
        if actual_outputs.len() < outputs.len() {
            let missing = outputs
                .iter()
                .find(|d| !self.outputs.iter().any(|a| a.name == d.name))
                .map_or("", |d| d.name.as_str());
            let names: Vec<&str> = self.outputs.iter().map(|a| a.name.as_str()).collect();
            return Err(mismatch(format!(
                "output `{missing}` is declared, the model's outputs are [{}]",
                names.join(", ")
            )));
        }
        for (what, declared, actual) in [
            ("input", inputs, &self.inputs),
            ("output", outputs, &actual_outputs),
        ] {
            let names = |ts: &[TensorSpec]| {
                ts.iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if declared.len() > actual.len() || (what == "input" && declared.len() != actual.len())
            {
                return Err(mismatch(format!(
                    "the workload declares {what}s [{}], the model has [{}]",
                    names(declared),
                    names(actual)
                )));
            }
            for (d, a) in declared.iter().zip(actual.iter()) {
                if d.name != a.name {
                    return Err(mismatch(format!(
                        "{what} `{}` is declared where the model has `{}` (the model's {what}s: [{}])",
                        d.name,
                        a.name,
                        names(actual)
                    )));
                }
                if d.dtype != a.dtype {
                    return Err(mismatch(format!(
                        "{what} `{}` is declared {}, the model's is {}",
                        d.name, d.dtype, a.dtype
                    )));
                }
                let agree = d.shape.len() == a.shape.len()
                    && d.shape.iter().zip(&a.shape).all(|(x, y)| match (x, y) {
                        (Dim::Fixed(x), Dim::Fixed(y)) => x == y,
                        _ => true,
                    });
                if !agree {
                    return Err(mismatch(format!(
                        "{what} `{}` is declared with shape {}, the model's is {}",
                        d.name,
                        shape_text(&d.shape),
                        shape_text(&a.shape)
                    )));
                }
            }
        }
        Ok(())
    }

    /// Uses the workload's declarations as the specs (the model's dynamic
    /// dimensions made fixed where the workload fixes them).
    pub fn declare(&mut self, inputs: &[TensorSpec], outputs: &[TensorSpec]) {
        self.inputs = inputs.to_vec();
        self.outputs = outputs.to_vec();
    }
}

/// The shape of output `spec` for a batch of `n`, when it is known before
/// the run: the batch dimension first (dynamic, or fixed at `n`), every
/// other dimension fixed.
fn output_shape(spec: &TensorSpec, n: usize) -> Option<Vec<i64>> {
    match spec.shape.first() {
        Some(Dim::Dynamic) => {}
        Some(Dim::Fixed(b)) if *b == n => {}
        _ => return None,
    }
    let mut shape = vec![n as i64];
    shape.extend(spec.sample_shape()?.iter().map(|&d| d as i64));
    Some(shape)
}

/// A batch of an [`OnnxModel`]: input tensors the batching SUT fills in
/// place, and output tensors bound to the session (an [`IoBinding`]) that
/// ONNX Runtime writes into, all allocated once per batch size. An output
/// whose shape is not known before the run is left to the runtime's
/// allocation and copied out.
struct OnnxBatch {
    input_specs: Vec<TensorSpec>,
    output_specs: Vec<TensorSpec>,
    size: usize,
    inputs: Vec<DynTensor>,
    /// Per output: its bound tensor and byte length, or `None` (copied).
    outputs: Vec<Option<(DynTensor, usize)>>,
    copied: Vec<Vec<u8>>,
    /// Every output copied: a bound output's shape was not the one
    /// foreseen (a dynamic first dimension that is not the batch).
    copy_all: bool,
    /// Made on the first run after an allocation.
    binding: Option<IoBinding>,
}

impl Batch for OnnxBatch {
    fn size(&self) -> usize {
        self.size
    }

    fn resize(&mut self, n: usize) -> Result<(), ModelRunError> {
        if n == self.size && !self.inputs.is_empty() {
            return Ok(());
        }
        let allocator = Allocator::default();
        self.binding = None;
        self.inputs = self
            .input_specs
            .iter()
            .map(|spec| {
                let mut shape = vec![n as i64];
                shape.extend(
                    spec.sample_shape()
                        .unwrap_or_default()
                        .iter()
                        .map(|&d| d as i64),
                );
                DynTensor::new(&allocator, element_of(spec.dtype), shape)
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.outputs = self
            .output_specs
            .iter()
            .map(|spec| {
                output_shape(spec, n)
                    .map(|shape| {
                        let bytes = shape.iter().product::<i64>() as usize * spec.dtype.size();
                        DynTensor::new(&allocator, element_of(spec.dtype), shape)
                            .map(|t| (t, bytes))
                    })
                    .transpose()
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.copied = vec![Vec::new(); self.output_specs.len()];
        self.size = n;
        Ok(())
    }

    fn inputs_mut(&mut self) -> Vec<&mut [u8]> {
        let n = self.size;
        self.inputs
            .iter_mut()
            .zip(&self.input_specs)
            .map(|(t, spec)| {
                let len = n * spec.sample_bytes().unwrap_or(0);
                // SAFETY: the tensor was allocated in `resize` with shape
                // [n, sample shape] of this dtype: exactly `len` bytes.
                unsafe { std::slice::from_raw_parts_mut(t.data_ptr_mut().cast::<u8>(), len) }
            })
            .collect()
    }

    fn output(&self, i: usize) -> Option<&[u8]> {
        if self.copy_all {
            return self.copied.get(i).map(Vec::as_slice);
        }
        match self.outputs.get(i)? {
            // SAFETY: the tensor was allocated in `resize` with `len` bytes
            // of plain numbers; ONNX Runtime writes it only during a run,
            // which needs the batch mutably.
            Some((t, len)) => {
                Some(unsafe { std::slice::from_raw_parts(t.data_ptr().cast::<u8>(), *len) })
            }
            None => self.copied.get(i).map(Vec::as_slice),
        }
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

/// Appends the bytes of a runtime-allocated output tensor to `out`.
fn copy_output(
    spec: &TensorSpec,
    value: &ort::value::DynValue,
    out: &mut Vec<u8>,
) -> Result<(), ModelRunError> {
    out.clear();
    macro_rules! copy {
        ($t:ty) => {{
            let (_, data) = value.try_extract_tensor::<$t>()?;
            for v in data {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }};
    }
    match spec.dtype {
        DType::F32 => copy!(f32),
        DType::F64 => copy!(f64),
        DType::I8 => copy!(i8),
        DType::I16 => copy!(i16),
        DType::I32 => copy!(i32),
        DType::I64 => copy!(i64),
        DType::U8 => copy!(u8),
        DType::Bool => {
            let (_, data) = value.try_extract_tensor::<bool>()?;
            out.extend(data.iter().map(|&b| u8::from(b)));
        }
        DType::F16 => {
            return Err(format!(
                "output `{}`: float16 outputs of a shape only known after the run are not read yet",
                spec.name
            )
            .into())
        }
    }
    Ok(())
}

impl Model for OnnxModel {
    fn inputs(&self) -> &[TensorSpec] {
        &self.inputs
    }

    fn outputs(&self) -> &[TensorSpec] {
        &self.outputs
    }

    fn new_batch(&self, n: usize) -> Result<Box<dyn Batch>, ModelRunError> {
        let mut batch = OnnxBatch {
            input_specs: self.inputs.clone(),
            output_specs: self.outputs.clone(),
            size: 0,
            inputs: Vec::new(),
            outputs: Vec::new(),
            copied: Vec::new(),
            copy_all: false,
            binding: None,
        };
        batch.resize(n)?;
        Ok(Box::new(batch))
    }

    fn run(&mut self, batch: &mut dyn Batch) -> Result<(), ModelRunError> {
        let batch = batch
            .as_any_mut()
            .downcast_mut::<OnnxBatch>()
            .ok_or("an ONNX model was given another model's batch")?;
        match self.run_bound(batch) {
            // A bound output whose shape the run did not give: run again
            // with every output in the runtime's allocation, copied.
            Err(_) if !batch.copy_all && batch.outputs.iter().any(Option::is_some) => {
                batch.copy_all = true;
                batch.binding = None;
                self.run_bound(batch)
            }
            ran => ran,
        }
    }
}

impl OnnxModel {
    /// Runs `batch` through its binding (made first if it has none) and
    /// copies the outputs that are not bound to the batch's tensors.
    fn run_bound(&mut self, batch: &mut OnnxBatch) -> Result<(), ModelRunError> {
        let binding = match &mut batch.binding {
            Some(b) => b,
            unbound => {
                let mut b = self.session.create_binding()?;
                for (spec, output) in self.outputs.iter().zip(batch.outputs.iter_mut()) {
                    match output {
                        Some((t, _)) if !batch.copy_all => b.bind_output(spec.name.as_str(), t)?,
                        _ => b.bind_output_to_device(
                            spec.name.as_str(),
                            Allocator::default().memory_info(),
                        )?,
                    }
                }
                unbound.insert(b)
            }
        };
        // Inputs are bound before every run: binding a host tensor for a
        // device (CUDA) copies it then, so a tensor filled since must be
        // bound again; for the CPU it only records the tensor.
        for (spec, t) in self.inputs.iter().zip(&batch.inputs) {
            binding.bind_input(spec.name.as_str(), t)?;
        }
        let results = self.session.run_binding(binding)?;
        for ((spec, output), copied) in self
            .outputs
            .iter()
            .zip(&batch.outputs)
            .zip(batch.copied.iter_mut())
        {
            if output.is_none() || batch.copy_all {
                let value = results
                    .get(&spec.name)
                    .ok_or_else(|| format!("the model gave no output `{}`", spec.name))?;
                copy_output(spec, value, copied)?;
            }
        }
        Ok(())
    }
}

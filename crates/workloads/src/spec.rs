//! Workload description files (TOML): what a benchmark runs, on which data,
//! judged how. The built-in workloads are written in the same format (the
//! files of the repository's `workloads/` folder, embedded in the binary),
//! and a user adds one by writing a file: no Rust.
//!
//! ```toml
//! name = "fashion-mnist"
//! description = "..."
//! model_name = "fashion-mnist"      # model of mlperf.conf/user.conf lines
//!
//! [dataset]                         # the samples and their labels
//! format = "idx"                    # IDX unsigned bytes, plain or gzip
//! images = "../data/fashion-mnist/t10k-images-idx3-ubyte.gz"
//! labels = "../data/fashion-mnist/t10k-labels-idx1-ubyte.gz"
//! sample_count = 10000              # optional check
//! classes = ["T-shirt/top", ...]    # class names; their count is the class count
//! performance_sample_count = 10000  # samples in memory at once (default: all)
//!
//! [sample]                          # how a sample is loaded
//! kind = "image"
//! rows = 28
//! cols = 28
//! mean = 0.2860                     # input = (byte / 255 - mean) / std
//! std = 0.3530
//!
//! [sut]                             # which SUT runs it
//! kind = "image-classifier"
//! architecture = "fashion-cnn-v1"
//! weights = "../models/fashion-mnist/fashion-cnn-v1.safetensors"
//! batch_size = 64
//! threads = 0                       # 0: one worker per CPU core
//! response = "class-int32"          # predicted class, little-endian int32
//!
//! [accuracy]
//! metric = "top1"
//! reference = 0.9137                # the reference model's top-1 (fraction); none: no target
//! target_fraction = 0.99            # PASS when top-1 >= reference * fraction
//! top_k = 1                         # top-k: the SUT answers k classes, best first
//!
//! [scenarios]                       # the scenarios it runs, and their settings
//! default = "Offline"
//! [scenarios.Offline]               # LoadGen keys, as mlperf.conf lines
//! min_duration = 10000              # ms
//! target_qps = "auto"               # measured before the test
//! [scenarios.Server]
//! target_latency = 20               # the latency bound, ms
//! target_qps = 500
//!
//! [training]                        # optional: `yardstick train`
//! images = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
//! labels = "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz"
//! target_accuracy = 0.90
//! max_epochs = 8
//! batch_size = 64
//! optimizer = "adamw"
//! learning_rate = 0.002
//! lr_decay = 0.6                    # per epoch
//! ```
//!
//! Relative paths are relative to the folder of the workload file (for a
//! built-in workload, the repository's `workloads/` folder). Scenario
//! settings are LoadGen's config keys with LoadGen's units; they apply as
//! `model_name.Scenario.key = value` lines appended to mlperf.conf, so a
//! user.conf and command-line flags override them.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use yardstick_core::settings::{ConfigKind, MLPERF_CONF};
use yardstick_core::{Scenario, TestSettings};

use crate::model::{Normalization, ARCHITECTURE};
use crate::train::TrainConfig;

/// The built-in workloads: (name, the text of `workloads/<name>.toml`).
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "fashion-mnist",
        include_str!("../../../workloads/fashion-mnist.toml"),
    ),
    (
        "fashion-mnist-onnx",
        include_str!("../../../workloads/fashion-mnist-onnx.toml"),
    ),
];

/// The folder of the built-in workload files in the source tree this binary
/// was built from; their relative paths resolve against it.
pub fn builtin_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workloads")
}

/// A workload file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    #[error("cannot read the workload file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
    #[error("unknown workload `{name}`: the built-in workloads are {known}; or give the path of a workload file (NAME.toml)")]
    Unknown { name: String, known: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub model_name: Option<String>,
    pub dataset: DatasetSpec,
    pub sample: SampleSpec,
    pub sut: SutSpec,
    pub accuracy: AccuracySpec,
    pub scenarios: toml::Table,
    pub training: Option<TrainingSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetFormat {
    Idx,
    /// A folder of JPEG/PNG images (`[dataset.image]`: the preprocessing).
    Images,
    /// A NumPy `.npy` file or `.npz` archive (`members`).
    Npy,
    /// JSON lines of token ids (`[dataset.tokens]`).
    Jsonl,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSpec {
    pub format: DatasetFormat,
    /// The samples: a file, or a folder of images (also spelt `path`).
    #[serde(alias = "path")]
    pub images: String,
    /// A label file (text, `.npy` or IDX); empty: none, or the `list`'s.
    #[serde(default)]
    pub labels: String,
    pub sample_count: Option<usize>,
    pub classes: Vec<String>,
    pub performance_sample_count: Option<usize>,
    /// `images`: the file order and labels, `name label` a line.
    pub list: Option<String>,
    /// `npy` with an `.npz`: the arrays, one per model input (default: all).
    #[serde(default)]
    pub members: Vec<String>,
    /// `images`: the preprocessing (default: MLPerf's ResNet-50 reference).
    pub image: Option<crate::data::config::ImageDecl>,
    /// `jsonl`: how token ids become inputs.
    pub tokens: Option<crate::data::config::TokensDecl>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SampleKind {
    Image,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleSpec {
    pub kind: SampleKind,
    pub rows: usize,
    pub cols: usize,
    #[serde(default)]
    pub mean: f32,
    #[serde(default = "one")]
    pub std: f32,
}

fn one() -> f32 {
    1.0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SutKind {
    ImageClassifier,
    /// A model file run by ONNX Runtime (`model`, `[[sut.inputs]]`,
    /// `[[sut.outputs]]`), served by the generic batching SUT.
    Onnx,
}

/// A model input or output as the workload file declares it: checked
/// against the model before the test.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TensorDecl {
    pub name: String,
    pub dtype: crate::tensor::DType,
    /// Dimensions, the batch one first; `-1` is dynamic.
    pub shape: Vec<i64>,
}

impl TensorDecl {
    pub fn to_spec(&self) -> crate::tensor::TensorSpec {
        use crate::tensor::Dim;
        crate::tensor::TensorSpec {
            name: self.name.clone(),
            dtype: self.dtype,
            shape: self
                .shape
                .iter()
                .map(|&d| usize::try_from(d).map_or(Dim::Dynamic, Dim::Fixed))
                .collect(),
        }
    }
}

/// What a SUT answers for each sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResponseKind {
    /// The predicted class as a little-endian `int32` (4 bytes).
    ClassInt32,
    /// The first output's values for the sample, as the model wrote them
    /// (little-endian bytes of its dtype).
    Raw,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SutSpec {
    pub kind: SutKind,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub weights: String,
    /// `kind = "onnx"`: the model file.
    pub model: Option<String>,
    /// `kind = "onnx"`: the model's inputs, in the order the samples give them.
    #[serde(default)]
    pub inputs: Vec<TensorDecl>,
    /// `kind = "onnx"`: the model's outputs; the first one is the response's.
    #[serde(default)]
    pub outputs: Vec<TensorDecl>,
    /// `kind = "onnx"`: execution providers by name, in order of preference
    /// (`cpu`, `cuda`, ...); the CPU one is always the last resort.
    #[serde(default)]
    pub execution_providers: Vec<String>,
    /// `kind = "onnx"`: ONNX Runtime's intra-op threads (0: its default).
    #[serde(default)]
    pub intra_op_threads: usize,
    /// `kind = "onnx"`: ONNX Runtime's inter-op threads (0: its default).
    #[serde(default)]
    pub inter_op_threads: usize,
    /// Server and stream scenarios: how long a worker waits for more samples
    /// to fill a batch, in microseconds (0: it runs what is queued).
    #[serde(default)]
    pub max_wait_us: u64,
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    #[serde(default)]
    pub threads: usize,
    pub response: ResponseKind,
}

fn default_batch() -> usize {
    64
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Metric {
    Top1,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccuracySpec {
    pub metric: Metric,
    /// The reference model's score, a fraction (0.9126 for 91.26%); none:
    /// the accuracy is reported with no target (a model run without a
    /// workload file, `yardstick run --onnx .. --dataset ..`).
    pub reference: Option<f64>,
    #[serde(default = "default_fraction")]
    pub target_fraction: f64,
    /// Top-k: the SUT answers the `top_k` best classes of each sample (int32,
    /// best first) and a sample is good when its label is among them; 1 (the
    /// default) is top-1.
    #[serde(default = "one_class")]
    pub top_k: usize,
}

fn one_class() -> usize {
    1
}

/// `[accuracy] top_k`: at least 1, at most the class count, and only with
/// class responses (the classes are picked from the model's scores).
fn check_top_k(spec: &WorkloadSpec) -> Result<(), String> {
    let k = spec.accuracy.top_k;
    let classes = spec.dataset.classes.len();
    if k == 0 || k > classes {
        return Err(format!(
            "[accuracy] top_k {k} is not between 1 and the {classes} classes"
        ));
    }
    if k > 1 && spec.sut.response != ResponseKind::ClassInt32 {
        return Err(format!(
            "[accuracy] top_k {k} needs [sut] response = \"class-int32\" (the classes are picked from the model's scores)"
        ));
    }
    Ok(())
}

fn default_fraction() -> f64 {
    0.99
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Optimizer {
    Adamw,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingSpec {
    pub images: String,
    pub labels: String,
    pub target_accuracy: f64,
    pub max_epochs: usize,
    pub batch_size: usize,
    pub optimizer: Optimizer,
    pub learning_rate: f64,
    #[serde(default = "one64")]
    pub lr_decay: f64,
    #[serde(default)]
    pub weight_decay: f64,
}

fn one64() -> f64 {
    1.0
}

/// A scenario setting's value.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingValue {
    /// The number as written in the file.
    Number(String),
    /// `target_qps = "auto"`: measured before the test.
    Auto,
}

/// Where a workload came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    BuiltIn(String),
    File(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::BuiltIn(n) => write!(f, "built-in workload {n} (workloads/{n}.toml)"),
            Origin::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// A checked workload: its description, where it came from, and the folder
/// its relative paths resolve against.
#[derive(Debug, Clone)]
pub struct Workload {
    pub spec: WorkloadSpec,
    pub origin: Origin,
    pub base_dir: PathBuf,
    /// Per scenario, its settings in file order.
    pub scenarios: Vec<(Scenario, Vec<(String, SettingValue)>)>,
    pub default_scenario: Scenario,
}

impl Workload {
    /// A workload by built-in name, or from a file: an argument ending in
    /// `.toml` or naming an existing file is a path.
    pub fn resolve(name_or_path: &str) -> Result<Workload, WorkloadError> {
        let as_path = Path::new(name_or_path);
        if name_or_path.ends_with(".toml") || as_path.is_file() {
            return Workload::from_file(as_path);
        }
        match Workload::builtin(name_or_path) {
            Some(w) => w,
            None => Err(WorkloadError::Unknown {
                name: name_or_path.to_string(),
                known: BUILTIN
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// A built-in workload; `None` for an unknown name.
    pub fn builtin(name: &str) -> Option<Result<Workload, WorkloadError>> {
        let (n, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
        Some(Workload::parse(
            text,
            Origin::BuiltIn(n.to_string()),
            builtin_dir(),
        ))
    }

    pub fn from_file(path: &Path) -> Result<Workload, WorkloadError> {
        let text = std::fs::read_to_string(path).map_err(|source| WorkloadError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        Workload::parse(&text, Origin::File(path.to_path_buf()), base)
    }

    /// Parses and checks a workload text.
    pub fn parse(text: &str, origin: Origin, base_dir: PathBuf) -> Result<Workload, WorkloadError> {
        let invalid = |message: String| WorkloadError::Invalid {
            origin: origin.to_string(),
            message,
        };
        let spec: WorkloadSpec = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let model = spec.model_name.clone().unwrap_or_else(|| spec.name.clone());
        if spec.name.trim().is_empty() {
            return Err(invalid("`name` is empty".into()));
        }
        if model.contains(char::is_whitespace) || model.is_empty() {
            return Err(invalid(format!(
                "`model_name` `{model}` must be one word (it starts mlperf.conf keys)"
            )));
        }
        if spec.dataset.classes.len() < 2 || spec.dataset.classes.len() > 256 {
            return Err(invalid(format!(
                "[dataset] classes: {} names; a classifier needs 2 to 256",
                spec.dataset.classes.len()
            )));
        }
        if spec.dataset.performance_sample_count == Some(0) {
            return Err(invalid(
                "[dataset] performance_sample_count must be at least 1".into(),
            ));
        }
        if !(spec.sample.std > 0.0 && spec.sample.std.is_finite() && spec.sample.mean.is_finite()) {
            return Err(invalid(
                "[sample] std must be positive and mean finite".into(),
            ));
        }
        if spec.sut.kind == SutKind::Onnx {
            if spec.sut.model.is_none() {
                return Err(invalid(
                    "[sut] kind = \"onnx\" needs `model` (the .onnx file)".into(),
                ));
            }
            if spec.sut.inputs.is_empty() || spec.sut.outputs.is_empty() {
                return Err(invalid(
                    "[sut] kind = \"onnx\" needs [[sut.inputs]] and [[sut.outputs]] (name, dtype, shape)".into(),
                ));
            }
            if spec
                .sut
                .inputs
                .iter()
                .chain(&spec.sut.outputs)
                .any(|t| t.shape.iter().any(|&d| d == 0 || d < -1))
            {
                return Err(invalid(
                    "[sut] a tensor dimension must be positive or -1 (dynamic)".into(),
                ));
            }
        } else if spec.sut.architecture != ARCHITECTURE {
            return Err(invalid(format!(
                "[sut] architecture `{}` is not built in (this build knows `{ARCHITECTURE}`)",
                spec.sut.architecture
            )));
        }
        if spec.sut.kind == SutKind::ImageClassifier
            && ((spec.sample.rows, spec.sample.cols) != (28, 28)
                || spec.dataset.classes.len() != 10)
        {
            return Err(invalid(format!(
                "[sut] architecture `{ARCHITECTURE}` takes 28x28 images and 10 classes; [sample] says {}x{} and [dataset] {} classes",
                spec.sample.rows,
                spec.sample.cols,
                spec.dataset.classes.len()
            )));
        }
        if spec.sut.batch_size == 0 {
            return Err(invalid("[sut] batch_size must be at least 1".into()));
        }
        let a = &spec.accuracy;
        if let Some(reference) = a.reference.filter(|r| !(*r > 0.0 && *r <= 1.0)) {
            return Err(invalid(format!(
                "[accuracy] reference {reference} is not a fraction in (0, 1] (write 0.91 for 91%)"
            )));
        }
        check_top_k(&spec).map_err(invalid)?;
        if !(a.target_fraction > 0.0 && a.target_fraction <= 1.0) {
            return Err(invalid(format!(
                "[accuracy] target_fraction {} is not in (0, 1]",
                a.target_fraction
            )));
        }
        if let Some(t) = &spec.training {
            if !(t.target_accuracy > 0.0 && t.target_accuracy <= 1.0) {
                return Err(invalid(format!(
                    "[training] target_accuracy {} is not a fraction in (0, 1]",
                    t.target_accuracy
                )));
            }
            if t.max_epochs == 0 || t.batch_size == 0 {
                return Err(invalid(
                    "[training] max_epochs and batch_size must be at least 1".into(),
                ));
            }
            if !(t.learning_rate > 0.0 && t.lr_decay > 0.0 && t.weight_decay >= 0.0) {
                return Err(invalid(
                    "[training] learning_rate and lr_decay must be positive, weight_decay not negative"
                        .into(),
                ));
            }
        }

        // Scenarios: each table's keys must be settings LoadGen reads.
        let mut scenarios: Vec<(Scenario, Vec<(String, SettingValue)>)> = Vec::new();
        let mut default = None;
        for (key, value) in &spec.scenarios {
            if key == "default" {
                let name = value
                    .as_str()
                    .ok_or_else(|| invalid("[scenarios] default must be a scenario name".into()))?;
                default = Some(
                    name.parse::<Scenario>()
                        .map_err(|e| invalid(format!("[scenarios] default: {e}")))?,
                );
                continue;
            }
            let scenario: Scenario = key
                .parse()
                .map_err(|e| invalid(format!("[scenarios.{key}]: {e}")))?;
            let table = value.as_table().ok_or_else(|| {
                invalid(format!(
                    "[scenarios] {key} must be a table ([scenarios.{key}])"
                ))
            })?;
            let mut settings = Vec::new();
            for (k, v) in table {
                let where_ = format!("[scenarios.{key}] {k}");
                let sv = match v {
                    toml::Value::Integer(i) => SettingValue::Number(i.to_string()),
                    toml::Value::Float(f) => SettingValue::Number(f.to_string()),
                    toml::Value::Boolean(b) => SettingValue::Number(u8::from(*b).to_string()),
                    toml::Value::String(s) if s == "auto" && k == "target_qps" => {
                        SettingValue::Auto
                    }
                    other => {
                        return Err(invalid(format!(
                            "{where_} = {other}: expected a number{}",
                            if k == "target_qps" {
                                " or \"auto\""
                            } else {
                                ""
                            }
                        )))
                    }
                };
                if let SettingValue::Number(n) = &sv {
                    check_setting(&model, scenario, k, n)
                        .map_err(|m| invalid(format!("{where_} = {n}: {m}")))?;
                }
                settings.push((k.clone(), sv));
            }
            if scenarios.iter().any(|(s, _)| *s == scenario) {
                return Err(invalid(format!(
                    "[scenarios.{key}]: {scenario} appears twice"
                )));
            }
            scenarios.push((scenario, settings));
        }
        if scenarios.is_empty() {
            return Err(invalid(
                "no scenario: add at least one table [scenarios.Offline] (or Server, SingleStream, MultiStream)".into(),
            ));
        }
        let default_scenario = match default {
            Some(s) if scenarios.iter().any(|(x, _)| *x == s) => s,
            Some(s) => {
                return Err(invalid(format!(
                    "[scenarios] default = \"{s}\" has no [scenarios.{s}] table"
                )))
            }
            None => scenarios[0].0,
        };
        Ok(Workload {
            spec,
            origin,
            base_dir,
            scenarios,
            default_scenario,
        })
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The model name of mlperf.conf / user.conf lines.
    pub fn model_name(&self) -> &str {
        self.spec.model_name.as_deref().unwrap_or(&self.spec.name)
    }

    /// A path of the file, resolved against its folder.
    pub fn path(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }

    /// The settings of `scenario`, in file order; `None` when the workload
    /// does not define it.
    pub fn settings(&self, scenario: Scenario) -> Option<&[(String, SettingValue)]> {
        self.scenarios
            .iter()
            .find(|(s, _)| *s == scenario)
            .map(|(_, v)| v.as_slice())
    }

    /// Checks that `scenario` is one the workload defines.
    pub fn check_scenario(&self, scenario: Scenario) -> Result<(), WorkloadError> {
        if self.settings(scenario).is_some() {
            return Ok(());
        }
        Err(WorkloadError::Invalid {
            origin: self.origin.to_string(),
            message: format!(
                "the workload does not define the {scenario} scenario (it defines {})",
                self.scenarios
                    .iter()
                    .map(|(s, _)| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    }

    /// The workload's settings as mlperf.conf lines (every scenario; `auto`
    /// values left out).
    pub fn config_lines(&self) -> String {
        let mut s = format!("# workload {} ({})\n", self.name(), self.origin);
        for (scenario, settings) in &self.scenarios {
            let scenario = scenario.as_str();
            for (k, v) in settings {
                if let SettingValue::Number(n) = v {
                    s.push_str(&format!(
                        "{}.{}.{} = {}\n",
                        self.model_name(),
                        scenario,
                        k,
                        n
                    ));
                }
            }
        }
        s
    }

    /// The official mlperf.conf followed by [`Workload::config_lines`]: the
    /// rules of this benchmark.
    pub fn mlperf_conf(&self) -> String {
        let mut s = MLPERF_CONF.to_string();
        if !s.ends_with('\n') {
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&self.config_lines());
        s
    }

    /// Whether `target_qps` is `"auto"` for `scenario`.
    pub fn target_qps_auto(&self, scenario: Scenario) -> bool {
        self.settings(scenario).is_some_and(|s| {
            s.iter()
                .any(|(k, v)| k == "target_qps" && *v == SettingValue::Auto)
        })
    }

    pub fn normalization(&self) -> Normalization {
        Normalization {
            mean: self.spec.sample.mean,
            std: self.spec.sample.std,
        }
    }

    /// The class count.
    pub fn classes(&self) -> usize {
        self.spec.dataset.classes.len()
    }

    /// The k of top-k accuracy (1: top-1).
    pub fn top_k(&self) -> usize {
        self.spec.accuracy.top_k
    }

    /// Scores top-`k` instead of the file's `[accuracy] top_k` (the command
    /// line's `--top-k`), checked as the file's value is. The file's
    /// reference accuracy is its own k's: another k is reported with no
    /// target.
    pub fn set_top_k(&mut self, k: usize) -> Result<(), WorkloadError> {
        let previous = std::mem::replace(&mut self.spec.accuracy.top_k, k);
        check_top_k(&self.spec).map_err(|message| {
            self.spec.accuracy.top_k = previous;
            WorkloadError::Invalid {
                origin: self.origin.to_string(),
                message,
            }
        })?;
        if k != previous {
            self.spec.accuracy.reference = None;
        }
        Ok(())
    }

    /// The accuracy a run must reach to pass, as a fraction; none without
    /// a reference.
    pub fn accuracy_threshold(&self) -> Option<f64> {
        self.spec
            .accuracy
            .reference
            .map(|r| r * self.spec.accuracy.target_fraction)
    }

    /// The training hyperparameters of `[training]`, or an error naming the
    /// file when it has none.
    pub fn train_config(&self) -> Result<TrainConfig, WorkloadError> {
        let t = self
            .spec
            .training
            .as_ref()
            .ok_or_else(|| WorkloadError::Invalid {
                origin: self.origin.to_string(),
                message: "no [training] table: this workload cannot be trained".into(),
            })?;
        Ok(TrainConfig {
            batch_size: t.batch_size,
            learning_rate: t.learning_rate,
            lr_decay: t.lr_decay,
            weight_decay: t.weight_decay,
            max_epochs: t.max_epochs,
            target_accuracy: t.target_accuracy,
            normalization: self.normalization(),
            benchmark: self.name().to_string(),
            config_filename: match &self.origin {
                Origin::BuiltIn(n) => format!("workloads/{n}.toml"),
                Origin::File(p) => p.display().to_string(),
            },
            ..TrainConfig::default()
        })
    }
}

/// Checks one setting line as LoadGen would read it from mlperf.conf; any
/// warning (unknown key, a key not read for this scenario) is an error here.
fn check_setting(model: &str, scenario: Scenario, key: &str, value: &str) -> Result<(), String> {
    let line = format!("{model}.{}.{key} = {value}\n", scenario.as_str());
    let mut s = TestSettings::default();
    let warnings = s
        .apply_config(
            "workload",
            &line,
            model,
            scenario.as_str(),
            ConfigKind::MlperfConf,
        )
        .map_err(|e| e.reason)?;
    match warnings.first() {
        Some(w) => Err(w.message.clone()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> Workload {
        Workload::builtin("fashion-mnist").unwrap().unwrap()
    }

    #[test]
    fn the_builtin_workload_parses() {
        let w = builtin();
        assert_eq!(w.name(), "fashion-mnist");
        assert_eq!(w.model_name(), "fashion-mnist");
        assert_eq!(w.default_scenario, Scenario::Offline);
        assert_eq!(w.classes(), 10);
        assert!(w.target_qps_auto(Scenario::Offline));
        assert!(!w.target_qps_auto(Scenario::Server));
        assert!(w.check_scenario(Scenario::Server).is_ok());
        let lines = w.config_lines();
        assert!(
            lines.contains("fashion-mnist.Offline.min_duration = 10000\n"),
            "{lines}"
        );
        assert!(
            lines.contains("fashion-mnist.Server.target_latency = 20\n"),
            "{lines}"
        );
        assert!(!lines.contains("auto"));
        assert!(w.mlperf_conf().starts_with(MLPERF_CONF));
        assert!(w
            .path(&w.spec.dataset.images)
            .ends_with("data/fashion-mnist/t10k-images-idx3-ubyte.gz"));
        let reference = w.spec.accuracy.reference.unwrap();
        assert!((w.accuracy_threshold().unwrap() - reference * 0.99).abs() < 1e-12);
        let t = w.train_config().unwrap();
        assert_eq!(t.target_accuracy, 0.90);
        // The embedded text is the file in the repository.
        let on_disk = std::fs::read_to_string(builtin_dir().join("fashion-mnist.toml")).unwrap();
        assert_eq!(on_disk, BUILTIN[0].1);
    }

    #[test]
    fn resolve_by_name_or_path() {
        assert_eq!(
            Workload::resolve("fashion-mnist").unwrap().name(),
            "fashion-mnist"
        );
        let p = builtin_dir().join("fashion-mnist.toml");
        let w = Workload::resolve(p.to_str().unwrap()).unwrap();
        assert_eq!(w.origin, Origin::File(p.clone()));
        assert_eq!(
            w.path("x").canonicalize().ok(),
            builtin_dir().join("x").canonicalize().ok()
        );
        let e = Workload::resolve("imagenet").unwrap_err().to_string();
        assert!(
            e.contains("unknown workload `imagenet`") && e.contains("fashion-mnist"),
            "{e}"
        );
        let e = Workload::resolve("/no/such/w.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cannot read the workload file /no/such/w.toml"),
            "{e}"
        );
    }

    fn parse_err(text: &str) -> String {
        Workload::parse(text, Origin::File("w.toml".into()), ".".into())
            .unwrap_err()
            .to_string()
    }

    fn variant(from: &str, to: &str) -> String {
        let base = BUILTIN[0].1;
        assert!(base.contains(from), "{from}");
        base.replacen(from, to, 1)
    }

    #[test]
    fn accuracy_top_k_is_read_and_checked() {
        let parse = |text: &str| Workload::parse(text, Origin::File("w.toml".into()), ".".into());
        assert_eq!(parse(BUILTIN[0].1).unwrap().top_k(), 1);
        let five = variant("metric = \"top1\"", "metric = \"top1\"\ntop_k = 5");
        let mut w = parse(&five).unwrap();
        assert_eq!(w.top_k(), 5);
        assert!(w.accuracy_threshold().is_some());
        w.set_top_k(5).unwrap();
        assert!(w.accuracy_threshold().is_some());
        // The file's reference is for its top-5, not for top-2.
        w.set_top_k(2).unwrap();
        assert_eq!(w.top_k(), 2);
        assert_eq!(w.accuracy_threshold(), None);
        let e = parse_err(&variant(
            "metric = \"top1\"",
            "metric = \"top1\"\ntop_k = 0",
        ));
        assert!(
            e.contains("[accuracy] top_k 0 is not between 1 and the 10 classes"),
            "{e}"
        );
        let e = parse_err(&variant(
            "metric = \"top1\"",
            "metric = \"top1\"\ntop_k = 11",
        ));
        assert!(
            e.contains("[accuracy] top_k 11 is not between 1 and the 10 classes"),
            "{e}"
        );
        let raw = five.replacen("response = \"class-int32\"", "response = \"raw\"", 1);
        let e = parse_err(&raw);
        assert!(
            e.contains("top_k 5 needs [sut] response = \"class-int32\""),
            "{e}"
        );
    }

    #[test]
    fn bad_files_are_clear_errors() {
        let e = parse_err("name = ");
        assert!(e.starts_with("w.toml: "), "{e}");
        let e = parse_err(&variant("kind = \"image-classifier\"", "kind = \"gpu\""));
        assert!(e.contains("w.toml") && e.contains("gpu"), "{e}");
        let e = parse_err(&variant(
            "min_duration = 10000\ntarget_qps = \"auto\"",
            "min_durationn = 5",
        ));
        assert!(
            e.contains("[scenarios.Offline] min_durationn") && e.contains("unknown key"),
            "{e}"
        );
        let e = parse_err(&variant("[scenarios.Offline]", "[scenarios.Offlin]"));
        assert!(e.contains("[scenarios.Offlin]"), "{e}");
        let e = parse_err(&variant("reference = 0.", "reference = 9"));
        assert!(e.contains("[accuracy] reference"), "{e}");
        let e = parse_err(&variant("default = \"Offline\"", "default = \"Server2\""));
        assert!(e.contains("[scenarios] default"), "{e}");
        let e = parse_err(&variant(
            "target_latency = 20 ",
            "target_latency = \"fast\" ",
        ));
        assert!(
            e.contains("[scenarios.Server] target_latency") && e.contains("expected a number"),
            "{e}"
        );
        let e = parse_err(&variant(
            "architecture = \"fashion-cnn-v1\"",
            "architecture = \"resnet50\"",
        ));
        assert!(e.contains("resnet50"), "{e}");
        let e = parse_err(&variant(
            "name = \"fashion-mnist\"",
            "name = \"x\"\nextra = 1",
        ));
        assert!(e.contains("extra"), "{e}");
    }

    #[test]
    fn a_user_workload_without_training_or_some_scenarios() {
        let text = variant("[training]", "[unused]");
        let text = text[..text.find("[unused]").unwrap()].to_string();
        let w = Workload::parse(&text, Origin::File("dir/w.toml".into()), "dir".into()).unwrap();
        assert!(w
            .train_config()
            .unwrap_err()
            .to_string()
            .contains("no [training] table"));
        assert_eq!(w.path("a/b"), Path::new("dir/a/b"));
        assert_eq!(w.path("/abs"), Path::new("/abs"));
        let only_server = text.replace("default = \"Offline\"\n", "");
        let start = only_server.find("[scenarios.Offline]").unwrap();
        let end = only_server.find("[scenarios.Server]").unwrap();
        let only_server = format!("{}{}", &only_server[..start], &only_server[end..]);
        let w = Workload::parse(&only_server, Origin::File("w.toml".into()), ".".into()).unwrap();
        assert!(w
            .check_scenario(Scenario::Offline)
            .unwrap_err()
            .to_string()
            .contains("does not define the Offline"));
        assert_eq!(w.default_scenario, Scenario::Server);
    }
}

//! The `[dataset]` table of a workload file, as far as the readers of this
//! module go: which reader, and its options, turned into a
//! [`SampleSource`] checked against the model's inputs.
//!
//! ```toml
//! [dataset]
//! format = "images"             # or "npy" (.npy/.npz), "jsonl", "idx"
//! images = "imagenet/val"       # the file or folder of the samples
//! list = "imagenet/val_map.txt" # images: order and labels (`name label`)
//! labels = ""                   # or a label file: text, .npy or IDX
//! members = ["input_ids"]       # npz: the arrays, one per model input
//! [dataset.image]               # images: the preprocessing (defaults: ResNet-50's)
//! crop = 224
//! layout = "nchw"               # or "nhwc"
//! dtype = "float32"             # or "uint8", "int8" (with scale, zero_point)
//! mean = [123.68, 116.78, 103.94]
//! std = [58.395, 57.12, 57.375] # optional: mean subtraction only without it
//! [dataset.tokens]              # jsonl
//! fields = ["input_ids", "attention_mask"]
//! seq_len = 384
//! dtype = "int64"
//! truncate = false
//! label_field = "label"         # optional
//! pad = { input_ids = 0 }
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::idx::{IdxScaling, IdxSource};
use super::images::{ChannelOrder, ImageFolderSource, PixelType, Preprocess};
use super::jsonl::{JsonlOptions, JsonlSource};
use super::labels::read_labels;
use super::npy::NpySource;
use super::DataError;
use crate::sample::SampleSource;
use crate::tensor::{DType, TensorSpec};

/// `[dataset.image]`: the preprocessing of an image folder.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageDecl {
    #[serde(default = "default_crop")]
    pub crop: usize,
    #[serde(default = "default_percent")]
    pub crop_percent: f64,
    #[serde(default = "default_mean")]
    pub mean: [f32; 3],
    pub std: Option<[f32; 3]>,
    #[serde(default = "default_layout")]
    pub layout: String,
    #[serde(default = "default_dtype")]
    pub dtype: DType,
    /// `int8`: the quantisation scale and zero point.
    pub scale: Option<f32>,
    #[serde(default)]
    pub zero_point: i32,
}

fn default_crop() -> usize {
    224
}
fn default_percent() -> f64 {
    87.5
}
fn default_mean() -> [f32; 3] {
    [123.68, 116.78, 103.94]
}
fn default_layout() -> String {
    "nchw".into()
}
fn default_dtype() -> DType {
    DType::F32
}

impl Default for ImageDecl {
    fn default() -> Self {
        ImageDecl {
            crop: default_crop(),
            crop_percent: default_percent(),
            mean: default_mean(),
            std: None,
            layout: default_layout(),
            dtype: default_dtype(),
            scale: None,
            zero_point: 0,
        }
    }
}

impl ImageDecl {
    /// The preprocessing it declares, or what is wrong with it.
    pub fn preprocess(&self) -> Result<Preprocess, String> {
        let order = match self.layout.to_ascii_lowercase().as_str() {
            "nchw" => ChannelOrder::Nchw,
            "nhwc" => ChannelOrder::Nhwc,
            other => return Err(format!("layout `{other}`: use \"nchw\" or \"nhwc\"")),
        };
        let pixel = match (self.dtype, self.scale) {
            (DType::F32, _) => PixelType::F32,
            (DType::U8, _) => PixelType::U8,
            (DType::I8, Some(scale)) if scale > 0.0 => PixelType::I8 {
                scale,
                zero_point: self.zero_point,
            },
            (DType::I8, _) => return Err("dtype int8 needs a positive `scale`".into()),
            (other, _) => return Err(format!("dtype {other}: images are float32, uint8 or int8")),
        };
        if self.crop == 0 || self.crop_percent <= 0.0 || self.crop_percent > 100.0 {
            return Err(format!(
                "crop {} of {}%: the crop must be at least 1 and the percentage in (0, 100]",
                self.crop, self.crop_percent
            ));
        }
        Ok(Preprocess {
            crop: self.crop,
            crop_percent: self.crop_percent,
            mean: self.mean,
            std: self.std,
            order,
            pixel,
        })
    }
}

/// `[dataset.tokens]`: how JSONL token ids become inputs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokensDecl {
    #[serde(default = "default_fields")]
    pub fields: Vec<String>,
    pub seq_len: usize,
    #[serde(default = "default_token_dtype")]
    pub dtype: DType,
    #[serde(default)]
    pub truncate: bool,
    pub label_field: Option<String>,
    #[serde(default)]
    pub pad: std::collections::BTreeMap<String, i64>,
}

fn default_fields() -> Vec<String> {
    vec!["input_ids".into(), "attention_mask".into()]
}
fn default_token_dtype() -> DType {
    DType::I64
}

impl TokensDecl {
    pub fn options(&self) -> JsonlOptions {
        JsonlOptions {
            fields: self.fields.clone(),
            seq_len: self.seq_len,
            pad: self.pad.clone().into_iter().collect(),
            dtype: self.dtype,
            truncate: self.truncate,
            label_field: self.label_field.clone(),
        }
    }
}

/// Which reader a data set needs, with the paths already resolved.
#[derive(Debug, Clone)]
pub enum DatasetFiles {
    Images {
        dir: PathBuf,
        list: Option<PathBuf>,
        preprocess: Preprocess,
    },
    Npy {
        path: PathBuf,
        members: Vec<String>,
    },
    Jsonl {
        path: PathBuf,
        options: JsonlOptions,
    },
    Idx {
        path: PathBuf,
        scaling: IdxScaling,
    },
}

/// Opens the data set, attaches the labels of `labels` (when given), and
/// checks the samples against the model's `inputs` (when given), so that a
/// wrong element type or shape is an error before any test starts.
pub fn open_dataset(
    files: &DatasetFiles,
    labels: Option<&Path>,
    inputs: Option<&[TensorSpec]>,
) -> Result<Box<dyn SampleSource>, DataError> {
    let labels = match labels {
        Some(p) => Some((p, read_labels(p)?)),
        None => None,
    };
    macro_rules! finish {
        ($source:expr) => {{
            let mut source = $source;
            if let Some((path, labels)) = labels {
                source = source.with_labels(path, labels)?;
            }
            if let Some(inputs) = inputs {
                source.check(inputs)?;
            }
            Ok(Box::new(source))
        }};
    }
    match files {
        DatasetFiles::Images {
            dir,
            list,
            preprocess,
        } => finish!(ImageFolderSource::open(
            dir,
            list.as_deref(),
            preprocess.clone()
        )?),
        DatasetFiles::Npy { path, members } => finish!(NpySource::open(path, members)?),
        DatasetFiles::Jsonl { path, options } => {
            finish!(JsonlSource::open(path, options.clone())?)
        }
        DatasetFiles::Idx { path, scaling } => finish!(IdxSource::open(path, *scaling)?),
    }
}

impl crate::spec::DatasetSpec {
    /// The reader this `[dataset]` table asks for, its paths resolved by
    /// `resolve` (the workload's `path`), or what is wrong with it. An IDX
    /// data set is read as `float32` `(byte / 255 - mean) / std`.
    pub fn files(
        &self,
        resolve: impl Fn(&str) -> PathBuf,
        idx_mean: f32,
        idx_std: f32,
    ) -> Result<DatasetFiles, String> {
        use crate::spec::DatasetFormat;
        let path = resolve(&self.images);
        Ok(match self.format {
            DatasetFormat::Images => DatasetFiles::Images {
                dir: path,
                list: self.list.as_deref().map(&resolve),
                preprocess: self.image.clone().unwrap_or_default().preprocess()?,
            },
            DatasetFormat::Npy => DatasetFiles::Npy {
                path,
                members: self.members.clone(),
            },
            DatasetFormat::Jsonl => DatasetFiles::Jsonl {
                path,
                options: self
                    .tokens
                    .as_ref()
                    .ok_or("format \"jsonl\" needs a [dataset.tokens] table with seq_len")?
                    .options(),
            },
            DatasetFormat::Idx => DatasetFiles::Idx {
                path,
                scaling: IdxScaling::Normalized {
                    mean: idx_mean,
                    std: idx_std,
                },
            },
        })
    }

    /// The label file, if the table names one.
    pub fn labels_file(&self, resolve: impl Fn(&str) -> PathBuf) -> Option<PathBuf> {
        (!self.labels.is_empty()).then(|| resolve(&self.labels))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_declarations() {
        let d: ImageDecl =
            toml::from_str("layout = \"nhwc\"\ndtype = \"int8\"\nscale = 0.5").unwrap();
        let p = d.preprocess().unwrap();
        assert_eq!(p.order, ChannelOrder::Nhwc);
        assert_eq!(
            p.pixel,
            PixelType::I8 {
                scale: 0.5,
                zero_point: 0
            }
        );
        assert_eq!(p.mean, [123.68, 116.78, 103.94]);
        let d: ImageDecl = toml::from_str("dtype = \"int8\"").unwrap();
        assert!(d.preprocess().unwrap_err().contains("scale"));
        let d: ImageDecl = toml::from_str("layout = \"chw\"").unwrap();
        assert!(d.preprocess().unwrap_err().contains("nchw"));
        let d: ImageDecl = toml::from_str("dtype = \"int64\"").unwrap();
        assert!(d.preprocess().unwrap_err().contains("int64"));
        let t: TokensDecl = toml::from_str("seq_len = 8\npad = { input_ids = 3 }").unwrap();
        let o = t.options();
        assert_eq!((o.seq_len, o.dtype, o.fields.len()), (8, DType::I64, 2));
        assert_eq!(o.pad, vec![("input_ids".to_string(), 3)]);
    }

    #[test]
    fn opening_checks_labels_and_inputs() {
        let dir =
            std::env::temp_dir().join(format!("yardstick-data-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let tokens = dir.join("t.jsonl");
        std::fs::write(&tokens, "{\"input_ids\": [1, 2]}\n{\"input_ids\": [3]}\n").unwrap();
        let labels = dir.join("labels.txt");
        std::fs::write(&labels, "1\n0\n").unwrap();
        let files = DatasetFiles::Jsonl {
            path: tokens.clone(),
            options: JsonlOptions {
                seq_len: 4,
                ..JsonlOptions::default()
            },
        };
        let spec = |dtype| TensorSpec {
            name: "input_ids".into(),
            dtype,
            shape: vec![crate::tensor::Dim::Dynamic, crate::tensor::Dim::Fixed(4)],
        };
        let inputs = [
            spec(DType::I64),
            TensorSpec {
                name: "attention_mask".into(),
                ..spec(DType::I64)
            },
        ];
        let source = open_dataset(&files, Some(&labels), Some(&inputs)).unwrap();
        assert_eq!(source.label(1), crate::sample::Label::Class(0));
        let wrong = [spec(DType::I32), spec(DType::I64)];
        let e = open_dataset(&files, None, Some(&wrong))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("input 0 is int64") && e.contains("int32"), "{e}");
        std::fs::write(&labels, "1\n").unwrap();
        let e = open_dataset(&files, Some(&labels), None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("2 samples") && e.contains("has 1 labels"), "{e}");
        std::fs::remove_dir_all(dir).ok();
    }
}

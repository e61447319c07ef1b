//! The reference image classifier: a small CNN, in candle (CPU).
//!
//! Architecture `fashion-cnn-v1`, for 1x28x28 inputs and 10 classes:
//!
//! ```text
//! conv 3x3 pad 1, 1->16, ReLU, max-pool 2   (28 -> 28 -> 14)
//! conv 3x3, 16->32, ReLU, max-pool 2         (14 -> 12 -> 6)
//! flatten (1152), linear 1152->128, ReLU, linear 128->10 (logits)
//! ```
//!
//! (Every pooled size is even: candle's max-pool gradient is only right
//! then.) 153,674 parameters (615 KB in f32). Inputs are the image bytes scaled to
//! `[0, 1]` and standardised with the training set's mean and standard
//! deviation ([`Normalization`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor, Var};
use yardstick_core::rng::{generate_canonical, Mt19937};

/// The one architecture this crate knows; workload files name it.
pub const ARCHITECTURE: &str = "fashion-cnn-v1";

const C1: usize = 16;
const C2: usize = 32;
const HIDDEN: usize = 128;

/// A model file that cannot be used, or a failed computation.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read the model {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: candle_core::Error,
    },
    #[error("the model {}: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
    #[error("cannot write the model {}: {reason}", path.display())]
    Write { path: PathBuf, reason: String },
    #[error("unknown architecture `{0}` (this build knows `fashion-cnn-v1`)")]
    UnknownArchitecture(String),
    #[error("model computation failed: {0}")]
    Compute(#[from] candle_core::Error),
}

/// How image bytes become model inputs: `(byte / 255 - mean) / std`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalization {
    pub mean: f32,
    pub std: f32,
}

impl Normalization {
    /// Fashion-MNIST's training split: mean 0.2860, std 0.3530.
    pub const FASHION_MNIST: Normalization = Normalization {
        mean: 0.2860,
        std: 0.3530,
    };

    /// The normalised value of every byte value, so a batch is one lookup per
    /// pixel.
    pub fn table(&self) -> [f32; 256] {
        let mut t = [0f32; 256];
        for (b, v) in t.iter_mut().enumerate() {
            *v = (b as f32 / 255.0 - self.mean) / self.std;
        }
        t
    }
}

/// The names and shapes of the parameters, in a fixed order.
pub fn parameter_shapes() -> Vec<(&'static str, Vec<usize>)> {
    vec![
        ("conv1.weight", vec![C1, 1, 3, 3]),
        ("conv1.bias", vec![C1]),
        ("conv2.weight", vec![C2, C1, 3, 3]),
        ("conv2.bias", vec![C2]),
        ("fc1.weight", vec![HIDDEN, C2 * 6 * 6]),
        ("fc1.bias", vec![HIDDEN]),
        ("fc2.weight", vec![10, HIDDEN]),
        ("fc2.bias", vec![10]),
    ]
}

/// The CNN's parameters (f32, CPU).
#[derive(Debug, Clone)]
pub struct Cnn {
    conv1_w: Tensor,
    conv1_b: Tensor,
    conv2_w: Tensor,
    conv2_b: Tensor,
    fc1_w: Tensor,
    fc1_b: Tensor,
    fc2_w: Tensor,
    fc2_b: Tensor,
}

impl Cnn {
    /// Input rows and columns.
    pub const SIDE: usize = 28;
    pub const CLASSES: usize = 10;

    /// Fresh trainable parameters, initialised as PyTorch does by default
    /// (uniform in `±1/sqrt(fan_in)`, weights and biases), from an mt19937
    /// seeded with `seed`: the same seed gives the same model.
    pub fn init(seed: u64) -> Result<(Cnn, Vec<Var>), ModelError> {
        let mut rng = Mt19937::new(seed);
        let mut vars = Vec::new();
        for (name, shape) in parameter_shapes() {
            let fan_in: usize = if name.ends_with(".bias") {
                // The fan-in of the matching weight.
                match name {
                    "conv1.bias" => 9,
                    "conv2.bias" => C1 * 9,
                    "fc1.bias" => C2 * 36,
                    _ => HIDDEN,
                }
            } else {
                shape[1..].iter().product()
            };
            let bound = 1.0 / (fan_in as f64).sqrt();
            let n: usize = shape.iter().product();
            let values: Vec<f32> = (0..n)
                .map(|_| ((generate_canonical(&mut rng) * 2.0 - 1.0) * bound) as f32)
                .collect();
            let t = Tensor::from_vec(values, shape.as_slice(), &Device::Cpu)?;
            vars.push(Var::from_tensor(&t)?);
        }
        let t: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
        Ok((Cnn::from_ordered(t), vars))
    }

    fn from_ordered(mut t: Vec<Tensor>) -> Cnn {
        let mut next = || t.remove(0);
        Cnn {
            conv1_w: next(),
            conv1_b: next(),
            conv2_w: next(),
            conv2_b: next(),
            fc1_w: next(),
            fc1_b: next(),
            fc2_w: next(),
            fc2_b: next(),
        }
    }

    fn ordered(&self) -> [&Tensor; 8] {
        [
            &self.conv1_w,
            &self.conv1_b,
            &self.conv2_w,
            &self.conv2_b,
            &self.fc1_w,
            &self.fc1_b,
            &self.fc2_w,
            &self.fc2_b,
        ]
    }

    /// Logits `[batch, 10]` of a normalised input `[batch, 1, 28, 28]`
    /// (or `[batch, 28, 28]`).
    ///
    /// The convolutions run as im2col + matrix products in channels-last
    /// layout (patch order: kernel row, kernel column, input channel), and
    /// max-pooling as a reshape and two max reductions: on CPU this trains
    /// several times faster than candle's `conv2d` / `max_pool2d` (whose
    /// gradients go through a direct transposed convolution). The result is
    /// the same function as [`Cnn::forward_reference`].
    pub fn forward(&self, x: &Tensor) -> Result<Tensor, candle_core::Error> {
        let b = x.dim(0)?;
        let s = Self::SIDE;
        let idx = im2col_indices();
        // conv1 (pad 1) as patches [b*784, 9] x [9, 16]; the patch rows come
        // in pooling-window order (pooled row, pooled col, window row,
        // window col), so max-pooling is a max over groups of 4 rows.
        let x = x
            .reshape((b, s, s))?
            .pad_with_zeros(1, 1, 1)?
            .pad_with_zeros(2, 1, 1)?
            .reshape((b, (s + 2) * (s + 2)))?;
        let patches = x.index_select(&idx.conv1, 1)?.reshape((b * s * s, 9))?;
        let w1 = self.conv1_w.permute((2, 3, 1, 0))?.reshape((9, C1))?;
        // max-pool, then bias and ReLU (a per-channel bias and ReLU commute
        // with the max): [b*196, 16], i.e. [b, 14*14, 16].
        let h = patches
            .matmul(&w1)?
            .reshape((b * 196, 4, C1))?
            .max(1)?
            .broadcast_add(&self.conv1_b)?
            .relu()?
            .reshape((b, 196, C1))?;
        // conv2: patches [b*144, 144] x [144, 32], pooled the same way.
        let patches = h.index_select(&idx.conv2, 1)?.reshape((b * 144, 9 * C1))?;
        let w2 = self.conv2_w.permute((2, 3, 1, 0))?.reshape((9 * C1, C2))?;
        let h = patches
            .matmul(&w2)?
            .reshape((b * 36, 4, C2))?
            .max(1)?
            .broadcast_add(&self.conv2_b)?
            .relu()?
            .reshape((b, 36 * C2))?;
        let h = h
            .matmul(&self.fc1_w.t()?)?
            .broadcast_add(&self.fc1_b)?
            .relu()?;
        h.matmul(&self.fc2_w.t()?)?.broadcast_add(&self.fc2_b)
    }

    /// The same function as [`Cnn::forward`], written with candle's
    /// `conv2d` and `max_pool2d` in NCHW layout: the readable definition, and
    /// a cross-check in tests.
    pub fn forward_reference(&self, x: &Tensor) -> Result<Tensor, candle_core::Error> {
        let b = x.dim(0)?;
        let x = x.reshape((b, 1, Self::SIDE, Self::SIDE))?;
        let x = x
            .conv2d(&self.conv1_w, 1, 1, 1, 1)?
            .broadcast_add(&self.conv1_b.reshape((1, C1, 1, 1))?)?
            .relu()?
            .max_pool2d(2)?;
        let x = x
            .conv2d(&self.conv2_w, 0, 1, 1, 1)?
            .broadcast_add(&self.conv2_b.reshape((1, C2, 1, 1))?)?
            .relu()?
            .max_pool2d(2)?;
        // Flatten in (row, col, channel) order, as `forward` does.
        let x = x.permute((0, 2, 3, 1))?.flatten_from(1)?;
        let x = x
            .matmul(&self.fc1_w.t()?)?
            .broadcast_add(&self.fc1_b)?
            .relu()?;
        x.matmul(&self.fc2_w.t()?)?.broadcast_add(&self.fc2_b)
    }

    /// The predicted class of every image of a normalised batch.
    pub fn predict(&self, x: &Tensor) -> Result<Vec<u32>, candle_core::Error> {
        self.forward(x)?.argmax(1)?.to_vec1::<u32>()
    }

    /// Reads a safetensors file and checks that it holds exactly this
    /// architecture's parameters (names, shapes, f32, finite values).
    pub fn load(path: &Path) -> Result<Cnn, ModelError> {
        let invalid = |reason: String| ModelError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        if !path.is_file() {
            return Err(ModelError::Read {
                path: path.to_path_buf(),
                source: candle_core::Error::Msg("no such file".into()),
            });
        }
        let mut map = candle_core::safetensors::load(path, &Device::Cpu).map_err(|source| {
            ModelError::Read {
                path: path.to_path_buf(),
                source,
            }
        })?;
        let mut ordered = Vec::new();
        for (name, shape) in parameter_shapes() {
            let t = map.remove(name).ok_or_else(|| {
                invalid(format!(
                    "no tensor `{name}` (is it a {ARCHITECTURE} model?)"
                ))
            })?;
            if t.dims() != shape.as_slice() {
                return Err(invalid(format!(
                    "tensor `{name}` has shape {:?}, {ARCHITECTURE} needs {shape:?}",
                    t.dims()
                )));
            }
            if t.dtype() != DType::F32 {
                return Err(invalid(format!(
                    "tensor `{name}` is {:?}, expected f32",
                    t.dtype()
                )));
            }
            let finite = t
                .flatten_all()?
                .to_vec1::<f32>()?
                .iter()
                .all(|v| v.is_finite());
            if !finite {
                return Err(invalid(format!(
                    "tensor `{name}` has NaN or infinite values"
                )));
            }
            ordered.push(t);
        }
        if let Some(extra) = map.keys().next() {
            return Err(invalid(format!(
                "unexpected tensor `{extra}` (is it a {ARCHITECTURE} model?)"
            )));
        }
        Ok(Cnn::from_ordered(ordered))
    }

    /// Writes the parameters as safetensors, with `metadata` (string pairs)
    /// in the header. The file is a pure function of the weights and the
    /// metadata (header keys sorted), so a reproduced training run gives the
    /// same bytes.
    pub fn save(&self, path: &Path, metadata: &HashMap<String, String>) -> Result<(), ModelError> {
        let werr = |reason: String| ModelError::Write {
            path: path.to_path_buf(),
            reason,
        };
        let mut header = serde_json::Map::new();
        let meta: std::collections::BTreeMap<&String, &String> = metadata.iter().collect();
        header.insert("__metadata__".into(), serde_json::json!(meta));
        let mut data: Vec<u8> = Vec::new();
        let mut named: Vec<(&str, Vec<usize>, &Tensor)> = parameter_shapes()
            .into_iter()
            .zip(self.ordered())
            .map(|((n, s), t)| (n, s, t))
            .collect();
        named.sort_by_key(|(n, _, _)| *n);
        for (name, shape, t) in named {
            let start = data.len();
            for v in t.flatten_all()?.to_vec1::<f32>()? {
                data.extend_from_slice(&v.to_le_bytes());
            }
            header.insert(
                name.to_string(),
                serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [start, data.len()]}),
            );
        }
        // serde_json's map is sorted by key; pad the header to 8 bytes as
        // the safetensors crate does.
        let mut text = serde_json::to_string(&header).map_err(|e| werr(e.to_string()))?;
        while text.len() % 8 != 0 {
            text.push(' ');
        }
        let mut bytes = Vec::with_capacity(8 + text.len() + data.len());
        bytes.extend_from_slice(&(text.len() as u64).to_le_bytes());
        bytes.extend_from_slice(text.as_bytes());
        bytes.extend_from_slice(&data);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| werr(e.to_string()))?;
        }
        std::fs::write(path, bytes).map_err(|e| werr(e.to_string()))
    }

    /// The number of parameters.
    pub fn parameter_count() -> usize {
        parameter_shapes()
            .iter()
            .map(|(_, s)| s.iter().product::<usize>())
            .sum()
    }
}

struct Im2Col {
    /// For each of the 28*28 outputs of conv1 (in pooling-window order) and
    /// each of its 9 taps, the position in the zero-padded 30x30 input.
    conv1: Tensor,
    /// For each of the 12*12 outputs of conv2 (in pooling-window order) and
    /// each of its 9 taps, the position in the 14x14 input.
    conv2: Tensor,
}

fn im2col_indices() -> &'static Im2Col {
    static IDX: std::sync::OnceLock<Im2Col> = std::sync::OnceLock::new();
    IDX.get_or_init(|| {
        // Outputs of an `out`x`out` 3x3 convolution over an `inp`-wide input,
        // in 2x2 pooling-window order; per output its 9 taps.
        let taps = |out: usize, inp: usize| -> Vec<u32> {
            let mut v = Vec::with_capacity(out * out * 9);
            for pr in 0..out / 2 {
                for pc in 0..out / 2 {
                    for wy in 0..2 {
                        for wx in 0..2 {
                            let (r, c) = (2 * pr + wy, 2 * pc + wx);
                            for dy in 0..3 {
                                for dx in 0..3 {
                                    v.push(((r + dy) * inp + (c + dx)) as u32);
                                }
                            }
                        }
                    }
                }
            }
            v
        };
        let t = |v: Vec<u32>| {
            let n = v.len();
            Tensor::from_vec(v, n, &Device::Cpu).expect("a CPU tensor")
        };
        Im2Col {
            conv1: t(taps(28, 30)),
            conv2: t(taps(12, 14)),
        }
    })
}

/// Reads the string metadata of a safetensors file's header.
pub fn read_metadata(path: &Path) -> Result<HashMap<String, String>, ModelError> {
    let bytes = std::fs::read(path).map_err(|e| ModelError::Read {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    let (_, meta) =
        safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| ModelError::Invalid {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    Ok(meta.metadata().clone().unwrap_or_default())
}

/// A normalised batch `[n, 1, rows, cols]` from image bytes.
pub fn batch_tensor(
    images: &[&[u8]],
    rows: usize,
    cols: usize,
    table: &[f32; 256],
) -> Result<Tensor, candle_core::Error> {
    let mut v = Vec::with_capacity(images.len() * rows * cols);
    for img in images {
        v.extend(img.iter().map(|&b| table[b as usize]));
    }
    Tensor::from_vec(v, (images.len(), 1, rows, cols), &Device::Cpu)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_is_seeded_and_shapes_match() {
        assert_eq!(Cnn::parameter_count(), 153_674);
        let (a, vars) = Cnn::init(7).unwrap();
        let (b, _) = Cnn::init(7).unwrap();
        let (c, _) = Cnn::init(8).unwrap();
        assert_eq!(vars.len(), 8);
        let flat = |m: &Cnn| m.fc1_w.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(flat(&a), flat(&b));
        assert_ne!(flat(&a), flat(&c));
        let x = Tensor::zeros((3, 1, 28, 28), DType::F32, &Device::Cpu).unwrap();
        assert_eq!(a.forward(&x).unwrap().dims(), &[3, 10]);
        assert_eq!(a.predict(&x).unwrap().len(), 3);
    }

    #[test]
    fn im2col_forward_matches_candle_convolutions() {
        let (m, _) = Cnn::init(3).unwrap();
        let x = Tensor::randn(0f32, 1.0, (5, 1, 28, 28), &Device::Cpu).unwrap();
        let a = m
            .forward(&x)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let b = m
            .forward_reference(&x)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        for (u, v) in a.iter().zip(&b) {
            assert!((u - v).abs() < 1e-4, "{u} vs {v}");
        }
    }

    #[test]
    fn save_load_round_trip_and_bad_files() {
        let dir = std::env::temp_dir().join(format!("yardstick-model-{}", std::process::id()));
        let path = dir.join("m.safetensors");
        let (m, _) = Cnn::init(1).unwrap();
        let meta = HashMap::from([("architecture".to_string(), ARCHITECTURE.to_string())]);
        m.save(&path, &meta).unwrap();
        let back = Cnn::load(&path).unwrap();
        let x = Tensor::ones((2, 1, 28, 28), DType::F32, &Device::Cpu).unwrap();
        let (l1, l2) = (m.forward(&x).unwrap(), back.forward(&x).unwrap());
        assert_eq!(
            l1.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            l2.flatten_all().unwrap().to_vec1::<f32>().unwrap()
        );
        assert_eq!(read_metadata(&path).unwrap()["architecture"], ARCHITECTURE);
        // The same weights and metadata give the same bytes.
        let meta2 = HashMap::from([
            ("b".to_string(), "2".to_string()),
            ("a".to_string(), "1".to_string()),
            ("c".to_string(), "3".to_string()),
        ]);
        let (p1, p2) = (dir.join("1.safetensors"), dir.join("2.safetensors"));
        m.save(&p1, &meta2).unwrap();
        let reordered: HashMap<String, String> =
            meta2.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        back.save(&p2, &reordered).unwrap();
        assert_eq!(std::fs::read(&p1).unwrap(), std::fs::read(&p2).unwrap());
        // The safetensors crate reads what we write.
        let bytes = std::fs::read(&p1).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(st.tensor("fc1.weight").unwrap().shape(), &[128, 1152]);

        let e = Cnn::load(&dir.join("nope.safetensors"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("nope.safetensors"), "{e}");
        let bad = dir.join("bad.safetensors");
        std::fs::write(&bad, b"garbage garbage garbage").unwrap();
        let e = Cnn::load(&bad).unwrap_err().to_string();
        assert!(e.contains("bad.safetensors"), "{e}");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn normalization_table() {
        let t = Normalization {
            mean: 0.5,
            std: 0.5,
        }
        .table();
        assert_eq!(t[0], -1.0);
        assert_eq!(t[255], 1.0);
    }
}

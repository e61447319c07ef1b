//! A folder of JPEG/PNG images, preprocessed as MLPerf's ResNet-50
//! reference does (mlcommons/inference,
//! vision/classification_and_detection/python/dataset.py, `pre_process_vgg`):
//!
//! 1. decode to RGB (grey and alpha images become RGB, as `cv2.imread`'s
//!    colour mode then `COLOR_BGR2RGB` do);
//! 2. resize so the shorter side is `int(100 * crop / 87.5)` (256 for a
//!    224 crop) and the longer `int(256 * long / short)`, with OpenCV's
//!    `INTER_AREA` (reproduced below, see [`resize_area`]);
//! 3. centre crop `crop x crop` at `int((size - crop) / 2)`;
//! 4. `float32` minus the per-channel mean (123.68, 116.78, 103.94), or
//!    `(x - mean) / std` when a std is given;
//! 5. NCHW (`need_transpose`) or NHWC; optionally quantised to `int8` with a
//!    scale and zero point, or left as the cropped `uint8` pixels.
//!
//! The file order comes from a list file (`name label` a line, ImageNet's
//! `val_map.txt`; or `name` a line) or, without one, the folder's `.jpg`,
//! `.jpeg` and `.png` files sorted by name.

use std::path::{Path, PathBuf};

use super::labels::{parse_list, LabelError};
use super::{check_inputs, checked_labels, label_at, DataError, InputLayout};
use crate::sample::{Label, SampleSource, SampleTensor, SourceError};
use crate::tensor::{DType, TensorSpec};

/// An image that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("cannot list the images of {}: {source}", path.display())]
    List {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: no .jpg, .jpeg or .png images", path.display())]
    NoImages { path: PathBuf },
    #[error("{}:{line}: the image {} does not exist", list.display(), image.display())]
    Missing {
        list: PathBuf,
        line: usize,
        image: PathBuf,
    },
    #[error("cannot decode the image {}: {source}", path.display())]
    Decode {
        path: PathBuf,
        #[source]
        source: image::ImageError,
    },
    #[error("the image {} is {width}x{height} pixels; it needs at least 1x1", path.display())]
    Size {
        path: PathBuf,
        width: u32,
        height: u32,
    },
}

/// Where the channel axis goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelOrder {
    /// `[3, crop, crop]` (the reference's `need_transpose`, ONNX models).
    Nchw,
    /// `[crop, crop, 3]`.
    Nhwc,
}

/// The element type of the preprocessed image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PixelType {
    /// `float32` `(x - mean) / std`.
    F32,
    /// The cropped pixels as they are (`uint8`), no mean or std.
    U8,
    /// `int8` `round((x - mean) / std / scale) + zero_point`, saturated.
    I8 { scale: f32, zero_point: i32 },
}

/// The preprocessing of each image.
#[derive(Debug, Clone, PartialEq)]
pub struct Preprocess {
    /// The side of the square centre crop (224).
    pub crop: usize,
    /// The crop as a percentage of the resized shorter side (87.5).
    pub crop_percent: f64,
    /// Per-channel mean (R, G, B) in pixel units.
    pub mean: [f32; 3],
    /// Per-channel divisor; `None`: mean subtraction only, as the ResNet-50
    /// reference does.
    pub std: Option<[f32; 3]>,
    pub order: ChannelOrder,
    pub pixel: PixelType,
}

impl Default for Preprocess {
    /// MLPerf's ResNet-50 reference: 224 crop of 256, ImageNet means, NCHW
    /// `float32`.
    fn default() -> Self {
        Preprocess {
            crop: 224,
            crop_percent: 87.5,
            mean: [123.68, 116.78, 103.94],
            std: None,
            order: ChannelOrder::Nchw,
            pixel: PixelType::F32,
        }
    }
}

impl Preprocess {
    /// The element type and per-sample shape of the result.
    pub fn layout(&self) -> InputLayout {
        let dtype = match self.pixel {
            PixelType::F32 => DType::F32,
            PixelType::U8 => DType::U8,
            PixelType::I8 { .. } => DType::I8,
        };
        let c = self.crop;
        let shape = match self.order {
            ChannelOrder::Nchw => vec![3, c, c],
            ChannelOrder::Nhwc => vec![c, c, 3],
        };
        InputLayout { dtype, shape }
    }

    /// The size the image is resized to before the crop, as the reference
    /// computes it (Python floats, truncated).
    pub fn resized_size(&self, width: usize, height: usize) -> (usize, usize) {
        let side = (100.0 * self.crop as f64 / self.crop_percent) as usize;
        if height > width {
            (side, ((side * height) as f64 / width as f64) as usize)
        } else {
            (((side * width) as f64 / height as f64) as usize, side)
        }
    }

    /// Resizes, crops and normalises an RGB image (`height * width * 3`
    /// bytes, row-major) into the little-endian bytes of the model input.
    pub fn apply(&self, rgb: &[u8], width: usize, height: usize) -> Vec<u8> {
        let (rw, rh) = self.resized_size(width, height);
        let resized = resize_area(rgb, width, height, rw, rh, 3);
        let c = self.crop;
        // The reference's int((size - crop) / 2), never negative here
        // unless the crop is larger than the resized image.
        let left = rw.saturating_sub(c) / 2;
        let top = rh.saturating_sub(c) / 2;
        let pixel = |y: usize, x: usize, ch: usize| {
            let (y, x) = ((top + y).min(rh - 1), (left + x).min(rw - 1));
            resized[(y * rw + x) * 3 + ch]
        };
        let std = self.std.unwrap_or([1.0; 3]);
        let mut out = Vec::with_capacity(c * c * 3 * self.layout().dtype.size());
        let mut push = |v: u8, ch: usize| match self.pixel {
            PixelType::U8 => out.push(v),
            PixelType::F32 => {
                let f = (v as f32 - self.mean[ch]) / std[ch];
                out.extend_from_slice(&f.to_le_bytes());
            }
            PixelType::I8 { scale, zero_point } => {
                let f = (v as f32 - self.mean[ch]) / std[ch];
                let q = (f / scale).round_ties_even() as i32 + zero_point;
                out.push(q.clamp(-128, 127) as i8 as u8);
            }
        };
        match self.order {
            ChannelOrder::Nchw => {
                for ch in 0..3 {
                    for y in 0..c {
                        for x in 0..c {
                            push(pixel(y, x, ch), ch);
                        }
                    }
                }
            }
            ChannelOrder::Nhwc => {
                for y in 0..c {
                    for x in 0..c {
                        for ch in 0..3 {
                            push(pixel(y, x, ch), ch);
                        }
                    }
                }
            }
        }
        out
    }
}

/// Decodes a JPEG or PNG file to RGB bytes: `(pixels, width, height)`.
pub fn decode_rgb(path: &Path) -> Result<(Vec<u8>, usize, usize), ImageError> {
    let decode = |source| ImageError::Decode {
        path: path.to_path_buf(),
        source,
    };
    let img = image::ImageReader::open(path)
        .map_err(|e| decode(image::ImageError::IoError(e)))?
        .with_guessed_format()
        .map_err(|e| decode(image::ImageError::IoError(e)))?
        .decode()
        .map_err(decode)?;
    let rgb = img.into_rgb8();
    let (w, h) = rgb.dimensions();
    if w == 0 || h == 0 {
        return Err(ImageError::Size {
            path: path.to_path_buf(),
            width: w,
            height: h,
        });
    }
    Ok((rgb.into_raw(), w as usize, h as usize))
}

/// OpenCV's `cv::resize(..., INTER_AREA)` of 8-bit images, step by step,
/// so that results match `cv2` to the bit:
/// - shrinking by a whole factor on both axes averages each block
///   (2x2: `(sum + 2) >> 2`; other factors: `round(sum * (1 / area))` in
///   `f32`);
/// - shrinking by any other factor weights each source pixel by the part of
///   it a destination pixel covers (`f32` weights, rows then columns,
///   rounded half to even);
/// - enlarging (either axis) is OpenCV's bilinear interpolation with the
///   area mode's coefficients, in its 11-bit fixed point.
pub fn resize_area(src: &[u8], sw: usize, sh: usize, dw: usize, dh: usize, cn: usize) -> Vec<u8> {
    if (sw, sh) == (dw, dh) {
        return src.to_vec();
    }
    // OpenCV: inv_scale = dsize / ssize; scale = 1 / inv_scale (doubles).
    let inv_x = dw as f64 / sw as f64;
    let inv_y = dh as f64 / sh as f64;
    let (scale_x, scale_y) = (1.0 / inv_x, 1.0 / inv_y);
    if scale_x >= 1.0 && scale_y >= 1.0 {
        let (ix, iy) = (scale_x.round() as usize, scale_y.round() as usize);
        if (scale_x - ix as f64).abs() < f64::EPSILON && (scale_y - iy as f64).abs() < f64::EPSILON
        {
            return resize_area_fast(src, sw, dw, dh, cn, ix, iy);
        }
        return resize_area_general(src, sw, sh, dw, dh, cn, scale_x, scale_y);
    }
    resize_linear_area_mode(src, sw, sh, dw, dh, cn, (scale_x, inv_x), (scale_y, inv_y))
}

fn round_u8(v: f32) -> u8 {
    v.round_ties_even().clamp(0.0, 255.0) as u8
}

fn resize_area_fast(
    src: &[u8],
    sw: usize,
    dw: usize,
    dh: usize,
    cn: usize,
    fx: usize,
    fy: usize,
) -> Vec<u8> {
    let mut out = vec![0u8; dw * dh * cn];
    let scale = 1.0f32 / (fx * fy) as f32;
    for dy in 0..dh {
        for dx in 0..dw {
            for c in 0..cn {
                let mut sum = 0u32;
                for y in dy * fy..(dy + 1) * fy {
                    for x in dx * fx..(dx + 1) * fx {
                        sum += src[(y * sw + x) * cn + c] as u32;
                    }
                }
                out[(dy * dw + dx) * cn + c] = if fx == 2 && fy == 2 {
                    ((sum + 2) >> 2) as u8
                } else {
                    round_u8(sum as f32 * scale)
                };
            }
        }
    }
    out
}

/// One weight of the area table: destination index, source index, weight.
struct AreaWeight {
    di: usize,
    si: usize,
    alpha: f32,
}

/// OpenCV's `computeResizeAreaTab`.
fn area_table(ssize: usize, dsize: usize, scale: f64) -> Vec<AreaWeight> {
    let mut tab = Vec::with_capacity(ssize * 2);
    for dx in 0..dsize {
        let fsx1 = dx as f64 * scale;
        let fsx2 = fsx1 + scale;
        let cell = scale.min(ssize as f64 - fsx1);
        let sx2 = (fsx2.floor() as usize).min(ssize - 1);
        let sx1 = (fsx1.ceil() as usize).min(sx2);
        if sx1 as f64 - fsx1 > 1e-3 {
            tab.push(AreaWeight {
                di: dx,
                si: sx1 - 1,
                alpha: ((sx1 as f64 - fsx1) / cell) as f32,
            });
        }
        for sx in sx1..sx2 {
            tab.push(AreaWeight {
                di: dx,
                si: sx,
                alpha: (1.0 / cell) as f32,
            });
        }
        if fsx2 - sx2 as f64 > 1e-3 {
            tab.push(AreaWeight {
                di: dx,
                si: sx2,
                alpha: ((fsx2 - sx2 as f64).min(1.0).min(cell) / cell) as f32,
            });
        }
    }
    tab
}

#[allow(clippy::too_many_arguments)]
fn resize_area_general(
    src: &[u8],
    sw: usize,
    sh: usize,
    dw: usize,
    dh: usize,
    cn: usize,
    scale_x: f64,
    scale_y: f64,
) -> Vec<u8> {
    let xtab = area_table(sw, dw, scale_x);
    let ytab = area_table(sh, dh, scale_y);
    let width = dw * cn;
    let mut out = vec![0u8; width * dh];
    let mut buf = vec![0f32; width];
    let mut sum = vec![0f32; width];
    let mut prev_dy = ytab.first().map_or(0, |w| w.di);
    for yw in &ytab {
        let row = &src[yw.si * sw * cn..(yw.si + 1) * sw * cn];
        buf.iter_mut().for_each(|b| *b = 0.0);
        for xw in &xtab {
            for c in 0..cn {
                let d = xw.di * cn + c;
                buf[d] += row[xw.si * cn + c] as f32 * xw.alpha;
            }
        }
        if yw.di != prev_dy {
            let dst = &mut out[prev_dy * width..(prev_dy + 1) * width];
            for ((d, s), b) in dst.iter_mut().zip(sum.iter_mut()).zip(&buf) {
                *d = round_u8(*s);
                *s = yw.alpha * b;
            }
            prev_dy = yw.di;
        } else {
            for (s, b) in sum.iter_mut().zip(&buf) {
                *s += yw.alpha * b;
            }
        }
    }
    let dst = &mut out[prev_dy * width..(prev_dy + 1) * width];
    for (d, s) in dst.iter_mut().zip(&sum) {
        *d = round_u8(*s);
    }
    out
}

/// Source index and 11-bit weights of each destination index in OpenCV's
/// bilinear resize with area-mode coefficients.
fn linear_area_coefficients(
    ssize: usize,
    dsize: usize,
    scale: f64,
    inv: f64,
) -> Vec<(usize, [i32; 2])> {
    const ONE: f32 = 2048.0;
    (0..dsize)
        .map(|d| {
            let mut s = (d as f64 * scale).floor() as i64;
            let f = ((d + 1) as f64 - (s + 1) as f64 * inv) as f32;
            let mut f = if f <= 0.0 { 0.0 } else { f - f.floor() };
            if s + 1 >= ssize as i64 {
                f = 0.0;
                s = ssize as i64 - 1;
            }
            let s = s.max(0) as usize;
            let w0 = ((1.0 - f) * ONE).round_ties_even() as i32;
            let w1 = (f * ONE).round_ties_even() as i32;
            (s, [w0, w1])
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn resize_linear_area_mode(
    src: &[u8],
    sw: usize,
    sh: usize,
    dw: usize,
    dh: usize,
    cn: usize,
    (scale_x, inv_x): (f64, f64),
    (scale_y, inv_y): (f64, f64),
) -> Vec<u8> {
    let xs = linear_area_coefficients(sw, dw, scale_x, inv_x);
    let ys = linear_area_coefficients(sh, dh, scale_y, inv_y);
    let hrow = |y: usize| -> Vec<i32> {
        let row = &src[y * sw * cn..(y + 1) * sw * cn];
        let mut out = Vec::with_capacity(dw * cn);
        for &(s, [a0, a1]) in &xs {
            let s1 = (s + 1).min(sw - 1);
            for c in 0..cn {
                out.push(row[s * cn + c] as i32 * a0 + row[s1 * cn + c] as i32 * a1);
            }
        }
        out
    };
    let mut out = Vec::with_capacity(dw * dh * cn);
    for &(sy, [b0, b1]) in &ys {
        let r0 = hrow(sy);
        let r1 = hrow((sy + 1).min(sh - 1));
        // OpenCV's SIMD vertical pass (VResizeLinearVec_32s8u).
        for (&v0, &v1) in r0.iter().zip(&r1) {
            let t = (((v0 >> 4) * b0) >> 16) + (((v1 >> 4) * b1) >> 16);
            out.push(((t + 2) >> 2).clamp(0, 255) as u8);
        }
    }
    out
}

/// One image of the folder and its label.
#[derive(Debug, Clone)]
struct Entry {
    path: PathBuf,
    label: Option<i64>,
}

/// A folder of images as a [`SampleSource`]: one input, the preprocessed
/// image. Images are decoded when the library loads them.
#[derive(Debug)]
pub struct ImageFolderSource {
    origin: PathBuf,
    entries: Vec<Entry>,
    labels: Option<Vec<i64>>,
    preprocess: Preprocess,
}

impl ImageFolderSource {
    /// The images of `dir`: those `list` names (`name label` or `name` a
    /// line, names relative to `dir`; their labels kept), or every
    /// `.jpg`/`.jpeg`/`.png` sorted by name.
    pub fn open(
        dir: &Path,
        list: Option<&Path>,
        preprocess: Preprocess,
    ) -> Result<Self, DataError> {
        let entries = match list {
            Some(list) => {
                let text = std::fs::read_to_string(list).map_err(|source| LabelError::Io {
                    path: list.to_path_buf(),
                    source,
                })?;
                let mut entries = Vec::new();
                for e in parse_list(list, &text, true)? {
                    let Some(name) = e.name else {
                        return Err(LabelError::Line {
                            path: list.to_path_buf(),
                            line: e.line,
                            text: text.lines().nth(e.line - 1).unwrap_or("").to_string(),
                        }
                        .into());
                    };
                    let path = dir.join(name);
                    if !path.is_file() {
                        return Err(ImageError::Missing {
                            list: list.to_path_buf(),
                            line: e.line,
                            image: path,
                        }
                        .into());
                    }
                    entries.push(Entry {
                        path,
                        label: e.label,
                    });
                }
                entries
            }
            None => {
                let list_err = |source| ImageError::List {
                    path: dir.to_path_buf(),
                    source,
                };
                let mut paths = Vec::new();
                for item in std::fs::read_dir(dir).map_err(list_err)? {
                    let path = item.map_err(list_err)?.path();
                    let image = path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                        ["jpg", "jpeg", "png"]
                            .iter()
                            .any(|x| e.eq_ignore_ascii_case(x))
                    });
                    if image && path.is_file() {
                        paths.push(path);
                    }
                }
                paths.sort();
                paths
                    .into_iter()
                    .map(|path| Entry { path, label: None })
                    .collect()
            }
        };
        if entries.is_empty() {
            return Err(ImageError::NoImages {
                path: list.unwrap_or(dir).to_path_buf(),
            }
            .into());
        }
        let labels = if entries.iter().all(|e| e.label.is_some()) {
            Some(entries.iter().filter_map(|e| e.label).collect())
        } else {
            None
        };
        Ok(ImageFolderSource {
            origin: dir.to_path_buf(),
            entries,
            labels,
            preprocess,
        })
    }

    /// Replaces the labels (checked: one per image); `labels_path` names them.
    pub fn with_labels(mut self, labels_path: &Path, labels: Vec<i64>) -> Result<Self, DataError> {
        self.labels = Some(checked_labels(
            &self.origin,
            self.entries.len(),
            labels_path,
            labels,
        )?);
        Ok(self)
    }

    /// The image files, in sample order.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.entries.iter().map(|e| e.path.as_path())
    }

    pub fn has_labels(&self) -> bool {
        self.labels.is_some()
    }

    pub fn check(&self, inputs: &[TensorSpec]) -> Result<(), DataError> {
        check_inputs(&self.origin, &[self.preprocess.layout()], inputs)
    }

    /// Decodes and preprocesses image `index`.
    pub fn sample(&self, index: usize) -> Result<SampleTensor, ImageError> {
        let (rgb, w, h) = decode_rgb(&self.entries[index].path)?;
        let layout = self.preprocess.layout();
        Ok(SampleTensor {
            dtype: layout.dtype,
            shape: layout.shape,
            bytes: self.preprocess.apply(&rgb, w, h),
        })
    }
}

impl SampleSource for ImageFolderSource {
    fn len(&self) -> usize {
        self.entries.len()
    }

    fn origin(&self) -> &Path {
        &self.origin
    }

    fn load(&self, index: usize) -> Result<Vec<SampleTensor>, SourceError> {
        if index >= self.entries.len() {
            return Err(format!("sample {index} is past the end ({} images)", self.len()).into());
        }
        Ok(vec![self.sample(index)?])
    }

    fn label(&self, index: usize) -> Label {
        label_at(self.labels.as_ref(), index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resized_size_follows_the_reference() {
        let p = Preprocess::default();
        assert_eq!(p.resized_size(500, 375), (341, 256));
        assert_eq!(p.resized_size(375, 500), (256, 341));
        assert_eq!(p.resized_size(256, 256), (256, 256));
        assert_eq!(p.resized_size(100, 80), (320, 256));
    }

    #[test]
    fn area_table_weights_sum_to_one() {
        let tab = area_table(500, 341, 1.0 / (341.0 / 500.0));
        let mut sums = vec![0f64; 341];
        for w in &tab {
            sums[w.di] += w.alpha as f64;
        }
        assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-5), "{sums:?}");
    }

    #[test]
    fn layouts_and_quantisation() {
        let rgb: Vec<u8> = (0..4 * 4 * 3).map(|i| (i * 5) as u8).collect();
        let mut p = Preprocess {
            crop: 2,
            crop_percent: 50.0,
            ..Preprocess::default()
        };
        // 4x4 resized to int(100 * 2 / 50) = 4: no resize, crop at 1.
        p.pixel = PixelType::U8;
        p.order = ChannelOrder::Nhwc;
        let nhwc = p.apply(&rgb, 4, 4);
        let at = |y: usize, x: usize, c: usize| rgb[(y * 4 + x) * 3 + c];
        assert_eq!(
            nhwc[..6],
            [
                at(1, 1, 0),
                at(1, 1, 1),
                at(1, 1, 2),
                at(1, 2, 0),
                at(1, 2, 1),
                at(1, 2, 2)
            ]
        );
        p.order = ChannelOrder::Nchw;
        let nchw = p.apply(&rgb, 4, 4);
        assert_eq!(
            nchw[..4],
            [at(1, 1, 0), at(1, 2, 0), at(2, 1, 0), at(2, 2, 0)]
        );
        p.pixel = PixelType::I8 {
            scale: 0.5,
            zero_point: 3,
        };
        let q = p.apply(&rgb, 4, 4);
        let expect = (((at(1, 1, 0) as f32 - 123.68) / 0.5).round() as i32 + 3).clamp(-128, 127);
        assert_eq!(q[0] as i8 as i32, expect);
        assert_eq!(p.layout().shape, vec![3, 2, 2]);
    }
}

//! The reference CNN ([`Cnn`], candle on the CPU) as a [`Model`] of the
//! batching SUT: the same pool, sample library and responses as an ONNX
//! model, so the built-in workload and a user's model are served alike.

use candle_core::{Device, Tensor};

use crate::batching::{Model, ModelRunError};
use crate::model::Cnn;
use crate::tensor::{DType, Dim, TensorSpec};

/// The CNN with its input buffer: `image` float32 `[?, 1, rows, cols]` in,
/// `logits` float32 `[?, 10]` out.
pub struct CnnModel {
    cnn: Cnn,
    rows: usize,
    cols: usize,
    inputs: [TensorSpec; 1],
    outputs: [TensorSpec; 1],
    /// The batch's input bytes (little-endian f32), reused across batches.
    input: Vec<u8>,
}

impl CnnModel {
    /// The model over images of `rows` x `cols` (the CNN's are 28 x 28; the
    /// workload file is checked for it when read).
    pub fn new(cnn: Cnn, rows: usize, cols: usize) -> Self {
        CnnModel {
            cnn,
            rows,
            cols,
            inputs: [TensorSpec {
                name: "image".into(),
                dtype: DType::F32,
                shape: vec![
                    Dim::Dynamic,
                    Dim::Fixed(1),
                    Dim::Fixed(rows),
                    Dim::Fixed(cols),
                ],
            }],
            outputs: [TensorSpec {
                name: "logits".into(),
                dtype: DType::F32,
                shape: vec![Dim::Dynamic, Dim::Fixed(Cnn::CLASSES)],
            }],
            input: Vec::new(),
        }
    }
}

impl Model for CnnModel {
    fn inputs(&self) -> &[TensorSpec] {
        &self.inputs
    }

    fn outputs(&self) -> &[TensorSpec] {
        &self.outputs
    }

    fn input_buffers(&mut self, n: usize) -> Result<Vec<&mut [u8]>, ModelRunError> {
        self.input.resize(n * self.rows * self.cols * 4, 0);
        Ok(vec![self.input.as_mut_slice()])
    }

    fn run(&mut self, n: usize, outputs: &mut [Vec<u8>]) -> Result<(), ModelRunError> {
        let bytes = &self.input[..n * self.rows * self.cols * 4];
        let x = Tensor::from_raw_buffer(
            bytes,
            candle_core::DType::F32,
            &[n, 1, self.rows, self.cols],
            &Device::Cpu,
        )?;
        let logits = self.cnn.forward(&x)?.flatten_all()?.to_vec1::<f32>()?;
        let out = outputs
            .first_mut()
            .ok_or("the batching SUT gave no buffer for the CNN's output")?;
        out.clear();
        out.reserve(logits.len() * 4);
        for v in logits {
            out.extend_from_slice(&v.to_le_bytes());
        }
        Ok(())
    }
}

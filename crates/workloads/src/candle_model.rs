//! The reference CNN ([`Cnn`], candle on the CPU) as a [`Model`] of the
//! batching SUT: the same pool, sample library and responses as an ONNX
//! model, so the built-in workload and a user's model are served alike.

use candle_core::{Device, Tensor};

use crate::batching::{Batch, Model, ModelRunError};
use crate::model::Cnn;
use crate::tensor::{DType, Dim, TensorSpec};

/// The CNN: `image` float32 `[?, 1, rows, cols]` in, `logits` float32
/// `[?, 10]` out.
pub struct CnnModel {
    cnn: Cnn,
    rows: usize,
    cols: usize,
    inputs: [TensorSpec; 1],
    outputs: [TensorSpec; 1],
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

    fn new_batch(&self, n: usize) -> Result<Box<dyn Batch>, ModelRunError> {
        let mut batch = CnnBatch {
            sample_bytes: self.rows * self.cols * 4,
            size: 0,
            input: Vec::new(),
            logits: Vec::new(),
        };
        batch.resize(n)?;
        Ok(Box::new(batch))
    }

    fn run(&mut self, batch: &mut dyn Batch) -> Result<(), ModelRunError> {
        let batch = batch
            .as_any_mut()
            .downcast_mut::<CnnBatch>()
            .ok_or("the CNN was given another model's batch")?;
        let x = Tensor::from_raw_buffer(
            &batch.input,
            candle_core::DType::F32,
            &[batch.size, 1, self.rows, self.cols],
            &Device::Cpu,
        )?;
        let logits = self.cnn.forward(&x)?.flatten_all()?.to_vec1::<f32>()?;
        batch.logits.clear();
        batch.logits.reserve(logits.len() * 4);
        for v in logits {
            batch.logits.extend_from_slice(&v.to_le_bytes());
        }
        Ok(())
    }
}

/// The CNN's batch: its input bytes (little-endian f32) and logits.
struct CnnBatch {
    sample_bytes: usize,
    size: usize,
    input: Vec<u8>,
    logits: Vec<u8>,
}

impl Batch for CnnBatch {
    fn size(&self) -> usize {
        self.size
    }

    fn resize(&mut self, n: usize) -> Result<(), ModelRunError> {
        self.size = n;
        self.input.resize(n * self.sample_bytes, 0);
        Ok(())
    }

    fn inputs_mut(&mut self) -> Vec<&mut [u8]> {
        vec![self.input.as_mut_slice()]
    }

    fn output(&self, i: usize) -> Option<&[u8]> {
        (i == 0).then_some(self.logits.as_slice())
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

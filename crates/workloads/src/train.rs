//! Training the reference CNN to a target accuracy, with MLPerf Training
//! logging (`:::MLLOG` lines, see [`crate::mllog`]).
//!
//! One run is MLPerf's sequence: `init_start`, the hyperparameters,
//! `init_stop`, `run_start`, then per epoch `block_start`, `epoch_start`,
//! training, `epoch_stop`, `eval_start`, `eval_accuracy`, `eval_stop`,
//! `block_stop`, and `run_stop` with status `success` as soon as an
//! evaluation reaches the target (or `aborted` after the last epoch).
//! Time-to-train is `run_stop - run_start` of the log. Reading the data
//! happens after `run_start`, so it is timed (MLPerf: touching the training
//! data starts the clock).

use std::time::Instant;

use candle_core::backprop::GradStore;
use candle_core::{Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use yardstick_core::rng::{shuffle, Mt19937};
use yardstick_formats::pyjson::JsonValue as Value;

use crate::dataset::{DataError, ImageDataset};
use crate::mllog::{keys, MlLogger};
use crate::model::{batch_tensor, Cnn, ModelError, Normalization};

/// Hyperparameters and the quality target of a training run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Seeds the weight initialisation and the per-epoch shuffles.
    pub seed: u64,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
    pub max_epochs: usize,
    /// The run succeeds when an evaluation's top-1 reaches this fraction.
    pub target_accuracy: f64,
    /// Multiplies the learning rate after every epoch (1.0: constant).
    pub lr_decay: f64,
    pub eval_batch_size: usize,
    /// Data-parallel training threads: each step's batch is split in this
    /// many shards whose gradients are averaged (same result as one thread,
    /// up to float rounding).
    pub threads: usize,
    pub normalization: Normalization,
    /// `submission_benchmark` in the log.
    pub benchmark: String,
    /// `config_filename` in the log: where the hyperparameters come from.
    pub config_filename: String,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            seed: 1,
            batch_size: 64,
            learning_rate: 1e-3,
            weight_decay: 0.0,
            max_epochs: 8,
            target_accuracy: 0.90,
            lr_decay: 1.0,
            eval_batch_size: 500,
            threads: 1,
            normalization: Normalization::FASHION_MNIST,
            benchmark: "fashion-mnist".into(),
            config_filename: "workloads/fashion-mnist.toml".into(),
        }
    }
}

/// Why a run could not go on (a data or model error; not reaching the
/// target is an `aborted` run, not an error).
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("training computation failed: {0}")]
    Compute(#[from] candle_core::Error),
    #[error("writing the MLPerf log: {0}")]
    Log(#[from] std::io::Error),
    #[error("{0}")]
    Config(String),
}

/// One epoch's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochReport {
    pub epoch: usize,
    pub mean_loss: f64,
    pub eval_accuracy: f64,
    pub seconds: f64,
}

/// The outcome of one run.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub seed: u64,
    pub success: bool,
    pub epochs: Vec<EpochReport>,
    /// `time_ms` of the `run_start` and `run_stop` lines.
    pub run_start_ms: u64,
    pub run_stop_ms: u64,
    pub model: Cnn,
}

impl RunReport {
    /// `run_stop - run_start` in milliseconds, as logged.
    pub fn time_to_train_ms(&self) -> u64 {
        self.run_stop_ms - self.run_start_ms
    }

    pub fn final_accuracy(&self) -> f64 {
        self.epochs.last().map(|e| e.eval_accuracy).unwrap_or(0.0)
    }
}

/// Top-1 accuracy of `model` on `ds` (correct, total).
pub fn evaluate(
    model: &Cnn,
    ds: &ImageDataset,
    batch_size: usize,
    norm: Normalization,
) -> Result<(usize, usize), candle_core::Error> {
    let table = norm.table();
    let mut correct = 0;
    let batch_size = batch_size.max(1);
    for start in (0..ds.len()).step_by(batch_size) {
        let end = (start + batch_size).min(ds.len());
        let imgs: Vec<&[u8]> = (start..end).map(|i| ds.image(i)).collect();
        let x = batch_tensor(&imgs, ds.rows, ds.cols, &table)?;
        let pred = model.predict(&x)?;
        correct += pred
            .iter()
            .zip(&ds.labels[start..end])
            .filter(|(p, &l)| **p == l as u32)
            .count();
    }
    Ok((correct, ds.len()))
}

/// Called with human-readable progress lines.
pub type Progress<'a> = &'a mut dyn FnMut(&str);

/// One training run. `load` reads the training and evaluation data; it is
/// called after `run_start`.
pub fn train_run(
    cfg: &TrainConfig,
    log: &MlLogger,
    load: &mut dyn FnMut() -> Result<(ImageDataset, ImageDataset), DataError>,
    progress: Progress<'_>,
) -> Result<RunReport, TrainError> {
    if cfg.batch_size == 0 || cfg.max_epochs == 0 {
        return Err(TrainError::Config(
            "the batch size and the number of epochs must be at least 1".into(),
        ));
    }
    // Nothing clears the OS caches before a run: logged as such.
    log.event(keys::CACHE_CLEAR, Value::from(false), &[])?;
    log.start(keys::INIT_START, Value::Null, &[])?;
    log.event(
        keys::SUBMISSION_BENCHMARK,
        Value::from(cfg.benchmark.as_str()),
        &[],
    )?;
    log.event(keys::SUBMISSION_ORG, Value::from("yardstick"), &[])?;
    log.event(keys::SUBMISSION_DIVISION, Value::from("open"), &[])?;
    log.event(keys::SUBMISSION_STATUS, Value::from("onprem"), &[])?;
    log.event(
        keys::SUBMISSION_PLATFORM,
        Value::from(format!(
            "CPU, {} threads (candle {})",
            candle_core::utils::get_num_threads(),
            "0.11"
        )),
        &[],
    )?;
    log.event(keys::SEED, Value::from(cfg.seed), &[])?;
    log.event(keys::GLOBAL_BATCH_SIZE, Value::from(cfg.batch_size), &[])?;
    log.event(keys::OPT_NAME, Value::from("adamw"), &[])?;
    log.event(keys::OPT_BASE_LR, Value::from(cfg.learning_rate), &[])?;
    log.event(keys::OPT_ADAMW_BETA_1, Value::from(0.9), &[])?;
    log.event(keys::OPT_ADAMW_BETA_2, Value::from(0.999), &[])?;
    log.event(keys::OPT_ADAMW_EPSILON, Value::from(1e-8), &[])?;
    log.event(
        keys::OPT_ADAMW_WEIGHT_DECAY,
        Value::from(cfg.weight_decay),
        &[],
    )?;
    log.event(
        keys::OPT_LR_DECAY_FACTOR,
        Value::from(cfg.lr_decay),
        &[("per", Value::from("epoch"))],
    )?;
    // MLPerf Training 6.1's disclosure keys: everything is f32 on CPU; the
    // only parallelism is data parallelism over `threads` shards.
    for key in [
        keys::LOWEST_NUMERICAL_PRECISION_IN_LINEAR,
        keys::LOWEST_NUMERICAL_PRECISION_IN_ATTN,
        keys::LOWEST_NUMERICAL_PRECISION_IN_COMM,
    ] {
        log.event(key, Value::from("fp32"), &[])?;
    }
    for key in [
        keys::TENSOR_PARALLELISM,
        keys::PIPELINE_PARALLELISM,
        keys::CONTEXT_PARALLELISM,
        keys::EXPERT_PARALLELISM,
    ] {
        log.event(key, Value::from(1), &[])?;
    }
    log.event(
        keys::MICRO_BATCH_SIZE,
        Value::from(cfg.batch_size.div_ceil(cfg.threads.max(1))),
        &[],
    )?;
    log.event(
        keys::CONFIG_FILENAME,
        Value::from(cfg.config_filename.as_str()),
        &[],
    )?;
    let (model, vars) = Cnn::init(cfg.seed)?;
    log.event(
        keys::WEIGHTS_INITIALIZATION,
        Value::Null,
        &[("tensor", Value::from("all"))],
    )?;
    let var_tensors: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
    let mut opt = AdamW::new(
        vars,
        ParamsAdamW {
            lr: cfg.learning_rate,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: cfg.weight_decay,
        },
    )?;
    let table = cfg.normalization.table();
    log.end(keys::INIT_STOP, Value::Null, &[])?;

    let run_start_ms = log.start(keys::RUN_START, Value::Null, &[])?;
    let stop = |success: bool| -> std::io::Result<u64> {
        let status = if success {
            keys::SUCCESS
        } else {
            keys::ABORTED
        };
        log.end(
            keys::RUN_STOP,
            Value::Null,
            &[("status", Value::from(status))],
        )
    };
    let (train, eval) = match load() {
        Ok(d) => d,
        Err(e) => {
            stop(false)?;
            return Err(e.into());
        }
    };
    if train.is_empty() || eval.is_empty() {
        stop(false)?;
        return Err(TrainError::Config(
            "the training and evaluation sets must not be empty".into(),
        ));
    }
    if (train.rows, train.cols) != (Cnn::SIDE, Cnn::SIDE)
        || (eval.rows, eval.cols) != (Cnn::SIDE, Cnn::SIDE)
    {
        stop(false)?;
        return Err(TrainError::Config(format!(
            "the model needs {0}x{0} images; the training set has {1}x{2}, the evaluation set {3}x{4}",
            Cnn::SIDE,
            train.rows,
            train.cols,
            eval.rows,
            eval.cols
        )));
    }
    log.event(keys::TRAIN_SAMPLES, Value::from(train.len()), &[])?;
    log.event(keys::EVAL_SAMPLES, Value::from(eval.len()), &[])?;

    let mut rng = Mt19937::new(cfg.seed ^ 0x5eed_5eed);
    let mut order: Vec<u32> = (0..train.len() as u32).collect();
    let mut epochs = Vec::new();
    let mut success = false;
    let result: Result<(), TrainError> = (|| {
        for epoch in 1..=cfg.max_epochs {
            let t0 = Instant::now();
            let e = Value::from(epoch);
            log.start(
                keys::BLOCK_START,
                Value::Null,
                &[
                    ("first_epoch_num", e.clone()),
                    ("epoch_count", Value::from(1)),
                ],
            )?;
            log.start(keys::EPOCH_START, Value::Null, &[("epoch_num", e.clone())])?;
            shuffle(&mut order, &mut rng);
            opt.set_learning_rate(cfg.learning_rate * cfg.lr_decay.powi(epoch as i32 - 1));
            let mut loss_sum = 0f64;
            let mut batches = 0usize;
            for chunk in order.chunks(cfg.batch_size) {
                let (grads, loss) =
                    batch_gradients(&model, &var_tensors, &train, chunk, &table, cfg.threads)?;
                opt.step(&grads)?;
                loss_sum += loss;
                batches += 1;
            }
            log.end(keys::EPOCH_STOP, Value::Null, &[("epoch_num", e.clone())])?;
            log.start(keys::EVAL_START, Value::Null, &[("epoch_num", e.clone())])?;
            let (correct, total) = evaluate(&model, &eval, cfg.eval_batch_size, cfg.normalization)?;
            let acc = correct as f64 / total as f64;
            log.event(
                keys::EVAL_ACCURACY,
                Value::from(acc),
                &[("epoch_num", e.clone())],
            )?;
            log.end(keys::EVAL_STOP, Value::Null, &[("epoch_num", e.clone())])?;
            log.end(keys::BLOCK_STOP, Value::Null, &[("first_epoch_num", e)])?;
            let report = EpochReport {
                epoch,
                mean_loss: loss_sum / batches.max(1) as f64,
                eval_accuracy: acc,
                seconds: t0.elapsed().as_secs_f64(),
            };
            progress(&format!(
                "epoch {epoch}: train loss {:.4}, eval top-1 {:.4} ({correct}/{total}), {:.1} s",
                report.mean_loss, acc, report.seconds
            ));
            epochs.push(report);
            if acc >= cfg.target_accuracy {
                success = true;
                break;
            }
        }
        Ok(())
    })();
    let run_stop_ms = stop(success)?;
    result?;
    Ok(RunReport {
        seed: cfg.seed,
        success,
        epochs,
        run_start_ms,
        run_stop_ms,
        model,
    })
}

/// The mean loss and the gradients of the parameters over one batch, the
/// batch split in `threads` shards computed in parallel.
fn batch_gradients(
    model: &Cnn,
    vars: &[Tensor],
    train: &ImageDataset,
    chunk: &[u32],
    table: &[f32; 256],
    threads: usize,
) -> Result<(GradStore, f64), candle_core::Error> {
    let shard = chunk.len().div_ceil(threads.max(1));
    let shard_grads = |ids: &[u32]| -> Result<(GradStore, f64), candle_core::Error> {
        let imgs: Vec<&[u8]> = ids.iter().map(|&i| train.image(i as usize)).collect();
        let x = batch_tensor(&imgs, train.rows, train.cols, table)?;
        let y: Vec<u32> = ids
            .iter()
            .map(|&i| train.labels[i as usize] as u32)
            .collect();
        let y = Tensor::from_vec(y, ids.len(), &Device::Cpu)?;
        let loss = candle_nn::loss::cross_entropy(&model.forward(&x)?, &y)?;
        Ok((loss.backward()?, loss.to_scalar::<f32>()? as f64))
    };
    let shards: Vec<&[u32]> = chunk.chunks(shard.max(1)).collect();
    if shards.len() == 1 {
        return shard_grads(chunk);
    }
    let results: Vec<Result<(GradStore, f64), candle_core::Error>> = std::thread::scope(|s| {
        let handles: Vec<_> = shards[1..]
            .iter()
            .map(|ids| s.spawn(|| shard_grads(ids)))
            .collect();
        let mut out = vec![shard_grads(shards[0])];
        for h in handles {
            out.push(h.join().unwrap_or_else(|_| {
                Err(candle_core::Error::Msg("a training thread panicked".into()))
            }));
        }
        out
    });
    // Weighted mean of the shard means: the mean over the whole batch.
    let n = chunk.len() as f64;
    let mut merged: Option<GradStore> = None;
    let mut loss = 0.0;
    for (r, ids) in results.into_iter().zip(&shards) {
        let (mut g, l) = r?;
        let w = ids.len() as f64 / n;
        loss += l * w;
        match &mut merged {
            None => {
                for v in vars {
                    if let Some(t) = g.remove(v) {
                        g.insert(v, (t * w)?);
                    }
                }
                merged = Some(g);
            }
            Some(m) => {
                for v in vars {
                    if let Some(t) = g.remove(v) {
                        let sum = match m.remove(v) {
                            Some(acc) => (acc + (t * w)?)?,
                            None => (t * w)?,
                        };
                        m.insert(v, sum);
                    }
                }
            }
        }
    }
    Ok((merged.expect("at least one shard"), loss))
}

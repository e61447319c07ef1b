//! The model-agnostic batching SUT: a pool of worker threads, each with its
//! own [`Model`], serving samples of a [`TensorLibrary`].
//!
//! `issue_query` splits a query into jobs of at most `batch_size` samples
//! and queues them. A worker takes a job, then whatever else is queued up to
//! `batch_size` samples, waiting at most `max_wait` for more (0: no wait):
//! Offline's one big query becomes full batches, Server and the stream
//! scenarios get dynamic batches bounded in size and in added latency.
//!
//! A worker is two threads over two [`Batch`]es of its model (input and
//! output buffers, reused across batches): its feeder copies the samples'
//! loaded bytes straight into one batch's inputs while its runner runs the
//! model on the other, so the gather of samples (a copy from scattered
//! library memory) stays off the model's path. The runner answers each
//! sample from its slice of the first output: its top-1 class (or its top-k
//! classes, best first) as little-endian `int32`, or the raw bytes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use yardstick_core::sut::{
    BoxError, Completer, QuerySample, QuerySampleLibrary, QuerySampleResponse, SystemUnderTest,
};

use crate::sample::{LibraryError, TensorLibrary};
use crate::spec::ResponseKind;
use crate::tensor::{DType, TensorSpec};

/// A model's error, kept whole.
pub type ModelRunError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A model that runs batches: its input and output specs, and the run of a
/// [`Batch`] of its own making.
pub trait Model: Send {
    /// The inputs, in the order a sample's tensors come.
    fn inputs(&self) -> &[TensorSpec];
    /// The outputs; the first one makes the response.
    fn outputs(&self) -> &[TensorSpec];
    /// Buffers for a batch of `n` samples: inputs the caller fills, outputs
    /// the model writes. Each worker keeps two and fills one while the model
    /// runs the other, so gathering samples never waits for the model.
    fn new_batch(&self, n: usize) -> Result<Box<dyn Batch>, ModelRunError>;
    /// Runs `batch` (one of this model's, its inputs filled); its outputs
    /// hold the results after.
    fn run(&mut self, batch: &mut dyn Batch) -> Result<(), ModelRunError>;
}

/// A batch's input and output buffers, made by a [`Model`] and reused
/// across batches (reallocated only when the batch size changes).
pub trait Batch: Send {
    /// The number of samples the buffers hold.
    fn size(&self) -> usize;
    /// Makes the buffers hold `n` samples (keeps them when they already do).
    fn resize(&mut self, n: usize) -> Result<(), ModelRunError>;
    /// One writable buffer per input, `size() * sample_bytes` each.
    fn inputs_mut(&mut self) -> Vec<&mut [u8]>;
    /// Output `i`'s bytes of the last run (`size()` samples, row-major).
    fn output(&self, i: usize) -> Option<&[u8]>;
    /// For the model that made it, to reach its own type.
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any;
}

/// Errors of the batching SUT.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(
        "the batching SUT needs a model per worker (none given) and a batch size of at least 1"
    )]
    NoWorkers,
    #[error("could not start a worker thread: {0}")]
    Spawn(#[from] std::io::Error),
    #[error("the SUT's workers have stopped")]
    WorkersGone,
    #[error("the model failed: {0}")]
    Failed(String),
    #[error("the model failed: {0}")]
    Model(#[source] ModelRunError),
    #[error(transparent)]
    Library(#[from] LibraryError),
    #[error("output `{name}`: {bytes} bytes for a batch of {n}, not a whole number of samples")]
    OutputSize {
        name: String,
        bytes: usize,
        n: usize,
    },
    #[error("response `class-int32` needs a float output, `{name}` is {dtype}")]
    NotScores { name: String, dtype: DType },
    #[error("top-{k} needs at least {k} scores per sample; output `{name}` has {scores}")]
    TooFewScores {
        name: String,
        scores: usize,
        k: usize,
    },
    #[error("input `{name}` has a dynamic dimension besides the batch one; the batching SUT needs fixed sample shapes")]
    DynamicSample { name: String },
    #[error("input `{name}` has a fixed batch size of {fixed}; the SUT's batch size must be at most {fixed}, not {asked}")]
    FixedBatch {
        name: String,
        fixed: usize,
        asked: usize,
    },
}

struct Job {
    samples: Vec<QuerySample>,
    reply: Reply,
}

/// Where a job's answers go: the run, or (measuring) a counter.
enum Reply {
    Run(Completer),
    Count(Arc<AtomicUsize>),
}

/// How the pool batches and answers.
#[derive(Debug, Clone, Copy)]
pub struct BatchPolicy {
    pub batch_size: usize,
    /// How long a worker waits to fill a batch (zero: it runs what is queued).
    pub max_wait: Duration,
    pub response: ResponseKind,
    /// `class-int32` responses: the number of classes answered per sample,
    /// best first (1: the top-1 class).
    pub top_k: usize,
}

struct Shared {
    library: Arc<TensorLibrary>,
    policy: BatchPolicy,
    sample_bytes: Vec<usize>,
    /// The model's fixed batch size, if its inputs have one.
    fixed_batch: Option<usize>,
    failure: Mutex<Option<String>>,
}

impl Shared {
    fn fail(&self, message: String) {
        let mut f = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        if f.is_none() {
            eprintln!("yardstick: batching SUT: {message}");
            *f = Some(message);
        }
    }
}

/// Writes the samples' loaded bytes into `batch`'s inputs (resized to the
/// run's size first), zeros after them where the model's batch is fixed.
fn fill(shared: &Shared, batch: &mut dyn Batch, indices: &[usize]) -> Result<(), BatchError> {
    let n = indices.len();
    // A model with a fixed batch size runs full batches: the samples,
    // then zeros, of which the answers are dropped.
    let run_n = shared.fixed_batch.unwrap_or(n).max(n);
    batch.resize(run_n).map_err(BatchError::Model)?;
    let loaded = shared.library.read();
    let mut buffers = batch.inputs_mut();
    for (k, &index) in indices.iter().enumerate() {
        let sample = loaded
            .get(index)
            .and_then(|s| s.as_ref())
            .ok_or(LibraryError::NotLoaded { index })?;
        for ((buf, bytes), &size) in buffers
            .iter_mut()
            .zip(sample.iter())
            .zip(&shared.sample_bytes)
        {
            buf[k * size..(k + 1) * size].copy_from_slice(&bytes[..size]);
        }
    }
    if run_n > n {
        for (buf, &size) in buffers.iter_mut().zip(&shared.sample_bytes) {
            buf[n * size..run_n * size].fill(0);
        }
    }
    Ok(())
}

/// The responses of the first `n` samples of a batch that has run, each
/// `.1` bytes long: raw outputs straight from the batch's output buffer,
/// classes written into `classes`.
fn answer<'a>(
    shared: &Shared,
    spec: &TensorSpec,
    batch: &'a dyn Batch,
    n: usize,
    classes: &'a mut Vec<u8>,
) -> Result<(&'a [u8], usize), BatchError> {
    let run_n = batch.size();
    let out = batch.output(0).unwrap_or_default();
    if n == 0 || run_n < n || !out.len().is_multiple_of(run_n) {
        return Err(BatchError::OutputSize {
            name: spec.name.clone(),
            bytes: out.len(),
            n: run_n,
        });
    }
    let per = out.len() / run_n;
    let out = &out[..n * per];
    classes.clear();
    match shared.policy.response {
        ResponseKind::Raw => Ok((out, per)),
        ResponseKind::ClassInt32 if shared.policy.top_k <= 1 => {
            for row in out.chunks_exact(per) {
                let class = argmax(row, spec.dtype).ok_or_else(|| BatchError::NotScores {
                    name: spec.name.clone(),
                    dtype: spec.dtype,
                })?;
                classes.extend_from_slice(&(class as i32).to_le_bytes());
            }
            Ok((classes, 4))
        }
        ResponseKind::ClassInt32 => {
            let k = shared.policy.top_k;
            for row in out.chunks_exact(per) {
                let top = top_k(row, spec.dtype, k).ok_or_else(|| BatchError::NotScores {
                    name: spec.name.clone(),
                    dtype: spec.dtype,
                })?;
                if top.len() != k {
                    return Err(BatchError::TooFewScores {
                        name: spec.name.clone(),
                        scores: top.len(),
                        k,
                    });
                }
                for class in top {
                    classes.extend_from_slice(&(class as i32).to_le_bytes());
                }
            }
            Ok((classes, 4 * k))
        }
    }
}

/// One worker per CPU core (a workload's `threads = 0`).
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// The index of the largest value (the first of equals) of a row of
/// little-endian floats; `None` for a non-float type.
pub fn argmax(row: &[u8], dtype: DType) -> Option<usize> {
    let mut best = (0, f64::NEG_INFINITY);
    let mut check = |i: usize, v: f64| {
        if v > best.1 {
            best = (i, v);
        }
    };
    match dtype {
        DType::F32 => {
            for (i, c) in row.chunks_exact(4).enumerate() {
                check(i, f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64);
            }
        }
        DType::F64 => {
            for (i, c) in row.chunks_exact(8).enumerate() {
                let mut b = [0u8; 8];
                b.copy_from_slice(c);
                check(i, f64::from_le_bytes(b));
            }
        }
        _ => return None,
    }
    Some(best.0)
}

/// The indices of the `k` largest values of a row of little-endian floats,
/// largest first; equal values in index order and NaN after every number
/// (numpy's `np.argsort(-scores, kind="stable")[:k]`); fewer when the row
/// is shorter; `None` for a non-float type.
pub fn top_k(row: &[u8], dtype: DType, k: usize) -> Option<Vec<usize>> {
    let scores: Vec<f64> = match dtype {
        DType::F32 => row
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
            .collect(),
        DType::F64 => row
            .chunks_exact(8)
            .map(|c| {
                let mut b = [0u8; 8];
                b.copy_from_slice(c);
                f64::from_le_bytes(b)
            })
            .collect(),
        _ => return None,
    };
    let mut order: Vec<usize> = (0..scores.len()).collect();
    // A stable sort keeps equal scores in index order.
    order.sort_by(|&a, &b| {
        let (x, y) = (scores[a], scores[b]);
        y.partial_cmp(&x)
            .unwrap_or_else(|| x.is_nan().cmp(&y.is_nan()))
    });
    order.truncate(k);
    Some(order)
}

/// The batching SUT (see the module docs).
pub struct BatchingSut {
    name: String,
    shared: Arc<Shared>,
    threads: usize,
    tx: Option<Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for BatchingSut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchingSut")
            .field("name", &self.name)
            .field("threads", &self.threads)
            .field("policy", &self.shared.policy)
            .finish()
    }
}

impl BatchingSut {
    /// One worker per model in `models` (all of one model), serving the
    /// samples of `library` as `policy` says.
    pub fn new(
        name: impl Into<String>,
        models: Vec<Box<dyn Model>>,
        library: Arc<TensorLibrary>,
        policy: BatchPolicy,
    ) -> Result<Self, BatchError> {
        let first = models.first().ok_or(BatchError::NoWorkers)?;
        if policy.batch_size == 0 {
            return Err(BatchError::NoWorkers);
        }
        let mut sample_bytes = Vec::new();
        let mut fixed_batch = None;
        for input in first.inputs() {
            sample_bytes.push(
                input
                    .sample_bytes()
                    .ok_or_else(|| BatchError::DynamicSample {
                        name: input.name.clone(),
                    })?,
            );
            if let Some(fixed) = input.fixed_batch() {
                fixed_batch = Some(fixed);
                if fixed < policy.batch_size {
                    return Err(BatchError::FixedBatch {
                        name: input.name.clone(),
                        fixed,
                        asked: policy.batch_size,
                    });
                }
            }
        }
        if policy.response == ResponseKind::ClassInt32 {
            let out = &first.outputs()[0];
            if !matches!(out.dtype, DType::F32 | DType::F64) {
                return Err(BatchError::NotScores {
                    name: out.name.clone(),
                    dtype: out.dtype,
                });
            }
        }
        let threads = models.len();
        let shared = Arc::new(Shared {
            library,
            policy,
            sample_bytes,
            fixed_batch,
            failure: Mutex::new(None),
        });
        let (tx, rx): (Sender<Job>, Receiver<Job>) = crossbeam_channel::unbounded();
        // Two batches per worker: one filled while the other runs.
        let first_size = fixed_batch.unwrap_or(policy.batch_size);
        let mut workers = Vec::with_capacity(2 * threads);
        for (w, model) in models.into_iter().enumerate() {
            let (free_tx, free_rx) = crossbeam_channel::unbounded::<Box<dyn Batch>>();
            for _ in 0..2 {
                let batch = model.new_batch(first_size).map_err(BatchError::Model)?;
                free_tx.send(batch).map_err(|_| BatchError::WorkersGone)?;
            }
            let (filled_tx, filled_rx) = crossbeam_channel::unbounded::<Filled>();
            let (rx, feeding) = (rx.clone(), Arc::clone(&shared));
            workers.push(
                std::thread::Builder::new()
                    .name(format!("feed-{w}"))
                    .spawn(move || feed(&feeding, &rx, &free_rx, &filled_tx))?,
            );
            let running = Arc::clone(&shared);
            workers.push(
                std::thread::Builder::new()
                    .name(format!("model-{w}"))
                    .spawn(move || run_filled(&running, model, &filled_rx, &free_tx))?,
            );
        }
        let name = format!(
            "{} ({threads} workers, batch {})",
            name.into(),
            policy.batch_size
        );
        Ok(BatchingSut {
            name,
            shared,
            threads,
            tx: Some(tx),
            workers,
        })
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    pub fn policy(&self) -> BatchPolicy {
        self.shared.policy
    }

    /// Samples per second of the SUT on this machine: full batches of the
    /// library's first samples (loaded for the measurement, unloaded after)
    /// through the pool for `duration`. Used to size a test, never timed.
    pub fn measure_throughput(&self, duration: Duration) -> Result<f64, BoxError> {
        let lib = &self.shared.library;
        let n = lib.total_sample_count().min(self.shared.policy.batch_size);
        if n == 0 {
            return Ok(0.0);
        }
        let indices: Vec<usize> = (0..n).collect();
        lib.load_samples_to_ram(&indices)?;
        let done = Arc::new(AtomicUsize::new(0));
        let query: Vec<QuerySample> = indices
            .iter()
            .map(|&i| QuerySample {
                id: i as u64,
                index: i,
            })
            .collect();
        let tx = self.tx.as_ref().ok_or(BatchError::WorkersGone)?;
        let send = || {
            tx.send(Job {
                samples: query.clone(),
                reply: Reply::Count(Arc::clone(&done)),
            })
            .map_err(|_| BatchError::WorkersGone)
        };
        // Untimed warm-up: a batch per worker (first runs allocate and,
        // for some runtimes, plan).
        let warm = n * self.threads;
        for _ in 0..self.threads {
            send()?;
        }
        self.wait_for(&done, warm)?;
        let mut issued = warm;
        let start = Instant::now();
        // Samples kept in flight: two batches per worker, more when the
        // workers empty the queue between two looks (fast models, small
        // batches), so the queue never runs dry.
        let mut depth = 2 * warm;
        // At least a batch per worker is timed, however slow the model.
        while start.elapsed() < duration || done.load(Ordering::Relaxed) < 2 * warm {
            if issued == done.load(Ordering::Relaxed) && depth < 64 * warm {
                depth *= 2;
            }
            while issued - done.load(Ordering::Relaxed) < depth {
                if let Some(f) = self.failure() {
                    return Err(Box::new(BatchError::Failed(f)));
                }
                send()?;
                issued += n;
            }
            if let Some(f) = self.failure() {
                return Err(Box::new(BatchError::Failed(f)));
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        let answered = done.load(Ordering::Relaxed) - warm;
        let secs = start.elapsed().as_secs_f64();
        // Let the queue drain before the library is unloaded.
        while done.load(Ordering::Relaxed) < issued {
            if self.failure().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        lib.unload_samples_from_ram(&indices)?;
        if let Some(f) = self.failure() {
            return Err(Box::new(BatchError::Failed(f)));
        }
        Ok(answered as f64 / secs.max(1e-9))
    }

    /// Waits until `count` samples of a measurement are answered, or a
    /// worker failed.
    fn wait_for(&self, done: &AtomicUsize, count: usize) -> Result<(), BatchError> {
        while done.load(Ordering::Relaxed) < count {
            if let Some(f) = self.failure() {
                return Err(BatchError::Failed(f));
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        Ok(())
    }

    fn failure(&self) -> Option<String> {
        self.shared
            .failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// A batch whose inputs are filled, with the jobs its samples came from.
struct Filled {
    batch: Box<dyn Batch>,
    jobs: Vec<Job>,
    samples: usize,
}

/// A worker's feeding thread: takes a free batch, then jobs from the queue
/// up to the batch size (waiting at most `max_wait` for more), and fills
/// the batch's inputs while the model runs the other batch.
fn feed(
    shared: &Shared,
    rx: &Receiver<Job>,
    free: &Receiver<Box<dyn Batch>>,
    filled: &Sender<Filled>,
) {
    let policy = shared.policy;
    let mut indices = Vec::with_capacity(policy.batch_size);
    // A batch whose filling failed, used for the next one.
    let mut spare: Option<Box<dyn Batch>> = None;
    loop {
        // A free batch first, then the samples: a batch is formed when
        // the model can take it next, from all that is queued by then.
        let mut batch = match spare.take().map_or_else(|| free.recv().ok(), Some) {
            Some(b) => b,
            None => return,
        };
        let Ok(first) = rx.recv() else { return };
        let mut n = first.samples.len();
        let mut jobs = vec![first];
        let deadline = Instant::now() + policy.max_wait;
        while n < policy.batch_size {
            let next = match rx.try_recv() {
                Ok(j) => Ok(j),
                Err(_) if policy.max_wait.is_zero() => break,
                Err(_) => rx.recv_deadline(deadline),
            };
            match next {
                Ok(j) => {
                    n += j.samples.len();
                    jobs.push(j);
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        indices.clear();
        indices.extend(jobs.iter().flat_map(|j| j.samples.iter().map(|s| s.index)));
        if let Err(e) = fill(shared, batch.as_mut(), &indices) {
            // Unanswered samples make the run end as stalled, naming
            // them; the next issue_query reports this error.
            shared.fail(e.to_string());
            spare = Some(batch);
            continue;
        }
        let ready = Filled {
            batch,
            jobs,
            samples: indices.len(),
        };
        if filled.send(ready).is_err() {
            return;
        }
    }
}

/// A worker's running thread: runs each filled batch, answers its samples,
/// and hands the batch back to be filled again.
fn run_filled(
    shared: &Shared,
    mut model: Box<dyn Model>,
    filled: &Receiver<Filled>,
    free: &Sender<Box<dyn Batch>>,
) {
    let mut classes = Vec::new();
    while let Ok(Filled {
        mut batch,
        jobs,
        samples,
    }) = filled.recv()
    {
        let answered = model
            .run(batch.as_mut())
            .map_err(BatchError::Model)
            .and_then(|()| {
                answer(
                    shared,
                    &model.outputs()[0],
                    batch.as_ref(),
                    samples,
                    &mut classes,
                )
            });
        match answered {
            Ok((responses, size)) => complete(&jobs, responses, size),
            Err(e) => shared.fail(e.to_string()),
        }
        if free.send(batch).is_err() {
            return;
        }
    }
}

/// Answers every sample of `jobs` from `responses`, `size` bytes each, in
/// the jobs' order.
fn complete(jobs: &[Job], responses: &[u8], size: usize) {
    let mut next = 0;
    for job in jobs {
        let completer = match &job.reply {
            Reply::Run(c) => c,
            Reply::Count(count) => {
                count.fetch_add(job.samples.len(), Ordering::Relaxed);
                next += job.samples.len();
                continue;
            }
        };
        let answers: Vec<QuerySampleResponse<'_>> = job
            .samples
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let at = (next + k) * size;
                QuerySampleResponse::new(s.id, &responses[at..at + size])
            })
            .collect();
        next += job.samples.len();
        // A refused completion is recorded by the run itself.
        let _ = completer.complete(&answers);
    }
}

impl SystemUnderTest for BatchingSut {
    fn name(&self) -> &str {
        &self.name
    }

    fn issue_query(&self, samples: &[QuerySample], completer: &Completer) -> Result<(), BoxError> {
        if let Some(f) = self.failure() {
            return Err(Box::new(BatchError::Failed(f)));
        }
        let tx = self.tx.as_ref().ok_or(BatchError::WorkersGone)?;
        for chunk in samples.chunks(self.shared.policy.batch_size) {
            tx.send(Job {
                samples: chunk.to_vec(),
                reply: Reply::Run(completer.clone()),
            })
            .map_err(|_| BatchError::WorkersGone)?;
        }
        Ok(())
    }
}

impl Drop for BatchingSut {
    fn drop(&mut self) {
        // Closing the queue ends the workers once it drains.
        self.tx.take();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32_row(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn top_k_orders_by_score_breaking_ties_by_index() {
        // As np.argsort(-scores, kind="stable")[:k]: [4, 1, 3, 0, 2] for
        // these scores (1 and 3 tie at 0.5; 0 and 2 tie at 0.1).
        let row = f32_row(&[0.1, 0.5, 0.1, 0.5, 0.9]);
        assert_eq!(top_k(&row, DType::F32, 3), Some(vec![4, 1, 3]));
        assert_eq!(top_k(&row, DType::F32, 5), Some(vec![4, 1, 3, 0, 2]));
        // Top-1 is argmax's answer (the first of equals).
        let tied = f32_row(&[0.2, 0.7, 0.7]);
        assert_eq!(top_k(&tied, DType::F32, 1), Some(vec![1]));
        assert_eq!(argmax(&tied, DType::F32), Some(1));
        // NaN sorts after every number, as numpy's argsort puts it.
        let nan = f32_row(&[f32::NAN, -3.0, f32::NEG_INFINITY, 2.0]);
        assert_eq!(top_k(&nan, DType::F32, 4), Some(vec![3, 1, 2, 0]));
        // A row shorter than k gives what it has; f64 rows; ints are no scores.
        assert_eq!(
            top_k(&f32_row(&[1.0, 2.0]), DType::F32, 5),
            Some(vec![1, 0])
        );
        let f64_row: Vec<u8> = [0.25f64, -1.0, 4.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!(top_k(&f64_row, DType::F64, 2), Some(vec![2, 0]));
        assert_eq!(top_k(&[0u8; 8], DType::I32, 1), None);
    }
}

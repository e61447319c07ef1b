//! The image-classification sample library and SUT.
//!
//! [`ImageLibrary`] implements [`QuerySampleLibrary`]: it holds the decoded
//! data set file (the "disk") and, on `load_samples_to_ram`, turns the
//! requested images into the model's normalised `f32` inputs, kept in memory
//! until `unload_samples_from_ram`.
//!
//! [`ClassifierSut`] implements [`SystemUnderTest`]: `issue_query` splits the
//! samples into jobs of at most `batch_size` and queues them; each worker
//! thread takes a job plus whatever else is queued (up to `batch_size`
//! samples), runs the model once on the batch, and answers every sample with
//! its predicted class as a little-endian `int32` (4 bytes).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use yardstick_core::sut::{
    BoxError, Completer, QuerySample, QuerySampleLibrary, QuerySampleResponse, SampleIndex,
    SystemUnderTest,
};

use crate::dataset::ImageDataset;
use crate::model::{Cnn, Normalization};

/// Errors of the library and the SUT.
#[derive(Debug, thiserror::Error)]
pub enum SutError {
    #[error("{library}: sample index {index} is out of range (the library has {total} samples)")]
    OutOfRange {
        library: String,
        index: usize,
        total: usize,
    },
    #[error("sample {index} was asked for but is not loaded in the sample library")]
    NotLoaded { index: usize },
    #[error("the image classifier needs at least one worker and a batch size of at least 1")]
    NoWorkers,
    #[error("could not start a worker thread: {0}")]
    Spawn(#[from] std::io::Error),
    #[error("the image classifier's workers have stopped")]
    WorkersGone,
    #[error("the image classifier failed: {0}")]
    Failed(String),
    #[error("model computation failed: {0}")]
    Compute(#[from] candle_core::Error),
}

/// The samples of an image data set, loaded into memory on request.
pub struct ImageLibrary {
    name: String,
    source: PathBuf,
    storage: ImageDataset,
    performance_count: usize,
    table: [f32; 256],
    loaded: RwLock<Vec<Option<Box<[f32]>>>>,
}

impl std::fmt::Debug for ImageLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageLibrary")
            .field("name", &self.name)
            .field("source", &self.source)
            .field("samples", &self.storage.len())
            .field("performance_count", &self.performance_count)
            .finish()
    }
}

impl ImageLibrary {
    /// A library over `storage` (read from `source`, named in errors), of
    /// which `performance_count` samples fit in memory at once.
    pub fn new(
        name: impl Into<String>,
        source: &Path,
        storage: ImageDataset,
        performance_count: usize,
        norm: Normalization,
    ) -> Self {
        let n = storage.len();
        ImageLibrary {
            name: name.into(),
            source: source.to_path_buf(),
            performance_count: performance_count.clamp(1, n.max(1)),
            table: norm.table(),
            loaded: RwLock::new(vec![None; n]),
            storage,
        }
    }

    pub fn dataset(&self) -> &ImageDataset {
        &self.storage
    }

    pub fn labels(&self) -> &[u8] {
        &self.storage.labels
    }

    pub fn source(&self) -> &Path {
        &self.source
    }

    /// How many samples are in memory now.
    pub fn loaded_count(&self) -> usize {
        self.read().iter().filter(|s| s.is_some()).count()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Option<Box<[f32]>>>> {
        self.loaded.read().unwrap_or_else(|p| p.into_inner())
    }

    fn check_index(&self, index: usize) -> Result<(), SutError> {
        if index >= self.storage.len() {
            return Err(SutError::OutOfRange {
                library: self.name.clone(),
                index,
                total: self.storage.len(),
            });
        }
        Ok(())
    }

    /// Copies the loaded inputs of `samples` into `out` (cleared first).
    fn gather(&self, samples: &[SampleIndex], out: &mut Vec<f32>) -> Result<(), SutError> {
        out.clear();
        let loaded = self.read();
        for &index in samples {
            match loaded.get(index).and_then(|s| s.as_deref()) {
                Some(x) => out.extend_from_slice(x),
                None => return Err(SutError::NotLoaded { index }),
            }
        }
        Ok(())
    }

    /// The normalised input of sample `i`, straight from storage.
    fn input(&self, i: usize) -> Box<[f32]> {
        self.storage
            .image(i)
            .iter()
            .map(|&b| self.table[b as usize])
            .collect()
    }
}

impl QuerySampleLibrary for ImageLibrary {
    fn name(&self) -> &str {
        &self.name
    }

    fn total_sample_count(&self) -> usize {
        self.storage.len()
    }

    fn performance_sample_count(&self) -> usize {
        self.performance_count
    }

    fn load_samples_to_ram(&self, indices: &[SampleIndex]) -> Result<(), BoxError> {
        for &i in indices {
            self.check_index(i)?;
        }
        let inputs: Vec<(usize, Box<[f32]>)> =
            indices.iter().map(|&i| (i, self.input(i))).collect();
        let mut loaded = self.loaded.write().unwrap_or_else(|p| p.into_inner());
        for (i, x) in inputs {
            loaded[i] = Some(x);
        }
        Ok(())
    }

    fn unload_samples_from_ram(&self, indices: &[SampleIndex]) -> Result<(), BoxError> {
        for &i in indices {
            self.check_index(i)?;
        }
        let mut loaded = self.loaded.write().unwrap_or_else(|p| p.into_inner());
        for &i in indices {
            loaded[i] = None;
        }
        Ok(())
    }
}

struct Job {
    samples: Vec<QuerySample>,
    completer: Completer,
}

struct Shared {
    model: Cnn,
    library: Arc<ImageLibrary>,
    batch_size: usize,
    /// The first failure of a worker; later queries are refused with it.
    failure: Mutex<Option<String>>,
}

impl Shared {
    fn side(&self) -> (usize, usize) {
        let d = self.library.dataset();
        (d.rows, d.cols)
    }

    fn predict(&self, inputs: Vec<f32>, n: usize) -> Result<Vec<u32>, SutError> {
        let (r, c) = self.side();
        let x = candle_core::Tensor::from_vec(inputs, (n, 1, r, c), &candle_core::Device::Cpu)?;
        Ok(self.model.predict(&x)?)
    }

    fn fail(&self, message: String) {
        let mut f = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        if f.is_none() {
            eprintln!("yardstick: image classifier: {message}");
            *f = Some(message);
        }
    }

    fn run_batch(&self, jobs: &[Job], buf: &mut Vec<f32>) {
        let indices: Vec<usize> = jobs
            .iter()
            .flat_map(|j| j.samples.iter().map(|s| s.index))
            .collect();
        let result = self
            .library
            .gather(&indices, buf)
            .and_then(|()| self.predict(std::mem::take(buf), indices.len()));
        let classes = match result {
            Ok(c) => c,
            Err(e) => {
                // Unanswered samples make the run end as stalled, naming them;
                // the next issue_query reports this error.
                self.fail(e.to_string());
                return;
            }
        };
        let mut next = 0;
        for job in jobs {
            let bytes: Vec<[u8; 4]> = classes[next..next + job.samples.len()]
                .iter()
                .map(|&c| (c as i32).to_le_bytes())
                .collect();
            next += job.samples.len();
            let responses: Vec<QuerySampleResponse<'_>> = job
                .samples
                .iter()
                .zip(&bytes)
                .map(|(s, b)| QuerySampleResponse::new(s.id, b))
                .collect();
            // A refused completion is recorded by the run itself.
            let _ = job.completer.complete(&responses);
        }
    }
}

/// The built-in image classifier SUT (see the module docs).
pub struct ClassifierSut {
    name: String,
    shared: Arc<Shared>,
    threads: usize,
    tx: Option<Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for ClassifierSut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClassifierSut")
            .field("name", &self.name)
            .field("threads", &self.threads)
            .field("batch_size", &self.shared.batch_size)
            .finish()
    }
}

/// One worker per CPU core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

impl ClassifierSut {
    /// `threads` workers (0: one per core) serving `model` on the samples of
    /// `library`, in batches of at most `batch_size`.
    pub fn new(
        name: impl Into<String>,
        model: Cnn,
        library: Arc<ImageLibrary>,
        batch_size: usize,
        threads: usize,
    ) -> Result<Self, SutError> {
        let threads = if threads == 0 {
            default_threads()
        } else {
            threads
        };
        if batch_size == 0 {
            return Err(SutError::NoWorkers);
        }
        let shared = Arc::new(Shared {
            model,
            library,
            batch_size,
            failure: Mutex::new(None),
        });
        let (tx, rx): (Sender<Job>, Receiver<Job>) = crossbeam_channel::unbounded();
        let workers = (0..threads)
            .map(|w| {
                let rx = rx.clone();
                let shared = Arc::clone(&shared);
                std::thread::Builder::new()
                    .name(format!("classifier-{w}"))
                    .spawn(move || worker(&shared, &rx))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let name = format!(
            "{} (CPU, {threads} workers, batch {batch_size})",
            name.into()
        );
        Ok(ClassifierSut {
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

    pub fn batch_size(&self) -> usize {
        self.shared.batch_size
    }

    /// Samples per second of the model on this machine: every worker thread
    /// runs full batches of the library's images (from storage, so nothing
    /// needs to be loaded) for `duration`, after one untimed warm-up batch.
    /// Used to size a test, never timed.
    pub fn measure_throughput(&self, duration: Duration) -> Result<f64, SutError> {
        let lib = &self.shared.library;
        let n = lib.total_sample_count();
        if n == 0 {
            return Ok(0.0);
        }
        let bs = self.shared.batch_size;
        let batch = |t: usize| -> Vec<f32> {
            (0..bs)
                .flat_map(|k| lib.input((t * 7919 + k) % n).into_vec())
                .collect()
        };
        let barrier = std::sync::Barrier::new(self.threads);
        let results: Vec<Result<(usize, f64), SutError>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..self.threads)
                .map(|t| {
                    let barrier = &barrier;
                    s.spawn(move || -> Result<(usize, f64), SutError> {
                        let input = batch(t);
                        let warm = self.shared.predict(input.clone(), bs);
                        barrier.wait();
                        warm?;
                        let start = Instant::now();
                        let mut done = 0;
                        while start.elapsed() < duration {
                            self.shared.predict(input.clone(), bs)?;
                            done += bs;
                        }
                        Ok((done, start.elapsed().as_secs_f64()))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(Err(SutError::WorkersGone)))
                .collect()
        });
        let mut rate = 0.0;
        for r in results {
            let (done, secs) = r?;
            rate += done as f64 / secs.max(1e-9);
        }
        Ok(rate)
    }
}

fn worker(shared: &Shared, rx: &Receiver<Job>) {
    let mut buf = Vec::new();
    while let Ok(first) = rx.recv() {
        let mut n = first.samples.len();
        let mut jobs = vec![first];
        // Batch whatever else is already queued, up to batch_size samples.
        while n < shared.batch_size {
            match rx.try_recv() {
                Ok(j) => {
                    n += j.samples.len();
                    jobs.push(j);
                }
                Err(_) => break,
            }
        }
        shared.run_batch(&jobs, &mut buf);
    }
}

impl SystemUnderTest for ClassifierSut {
    fn name(&self) -> &str {
        &self.name
    }

    fn issue_query(&self, samples: &[QuerySample], completer: &Completer) -> Result<(), BoxError> {
        if let Some(f) = self
            .shared
            .failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            return Err(Box::new(SutError::Failed(f.clone())));
        }
        {
            let loaded = self.shared.library.read();
            if let Some(s) = samples
                .iter()
                .find(|s| loaded.get(s.index).is_none_or(|x| x.is_none()))
            {
                return Err(Box::new(SutError::NotLoaded { index: s.index }));
            }
        }
        let tx = self.tx.as_ref().ok_or(SutError::WorkersGone)?;
        for chunk in samples.chunks(self.shared.batch_size) {
            tx.send(Job {
                samples: chunk.to_vec(),
                completer: completer.clone(),
            })
            .map_err(|_| SutError::WorkersGone)?;
        }
        Ok(())
    }
}

impl Drop for ClassifierSut {
    fn drop(&mut self) {
        // Closing the queue ends the workers once it drains.
        self.tx.take();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

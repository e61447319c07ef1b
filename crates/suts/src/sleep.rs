use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use yardstick_core::sut::{BoxError, Completer, QuerySample, QuerySampleResponse, SystemUnderTest};

use crate::index_response;

/// How long the [`SleepSut`] takes per sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ServiceTime {
    Fixed(Duration),
    /// Uniform in `[min, max]`.
    Uniform {
        min: Duration,
        max: Duration,
    },
    /// Exponentially distributed with this mean (an M/M/c server).
    Exponential {
        mean: Duration,
    },
}

impl ServiceTime {
    /// The service time of one sample, from a uniform `u` in `[0, 1)`.
    fn pick(&self, u: f64) -> Duration {
        match *self {
            ServiceTime::Fixed(d) => d,
            ServiceTime::Uniform { min, max } => min + (max.saturating_sub(min)).mul_f64(u),
            ServiceTime::Exponential { mean } => mean.mul_f64(-(1.0 - u).ln()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SleepSutError {
    #[error("the sleep SUT needs at least one worker")]
    NoWorkers,
    #[error("could not start a worker thread: {0}")]
    Spawn(#[from] std::io::Error),
    #[error("the sleep SUT's workers have stopped")]
    WorkersGone,
}

struct Job {
    sample: QuerySample,
    completer: Completer,
}

/// A SUT that answers each sample after a service time, on `workers`
/// parallel workers fed from one queue: a stand-in for a real model server
/// with a given speed and parallelism. Service times are a pure function of
/// the seed and the sample's response id, so a run is reproducible.
pub struct SleepSut {
    name: String,
    tx: Option<Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for SleepSut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SleepSut")
            .field("workers", &self.workers.len())
            .finish()
    }
}

/// SplitMix64: a stateless, stable mix from (seed, id) to 64 random bits.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl SleepSut {
    pub fn new(service: ServiceTime, workers: usize, seed: u64) -> Result<Self, SleepSutError> {
        if workers == 0 {
            return Err(SleepSutError::NoWorkers);
        }
        let (tx, rx): (Sender<Job>, Receiver<Job>) = crossbeam_channel::unbounded();
        let handles = (0..workers)
            .map(|w| {
                let rx = rx.clone();
                std::thread::Builder::new()
                    .name(format!("sleep-sut-{w}"))
                    .spawn(move || {
                        for job in rx.iter() {
                            // Only the low (position) bits of the id: stable across runs.
                            let pos = job.sample.id & ((1 << 40) - 1);
                            let u = (mix(seed ^ mix(pos)) >> 11) as f64 / (1u64 << 53) as f64;
                            std::thread::sleep(service.pick(u));
                            let data = index_response(job.sample.index);
                            // A refused completion is recorded by the run itself.
                            let _ = job
                                .completer
                                .complete(&[QuerySampleResponse::new(job.sample.id, &data)]);
                        }
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SleepSut {
            name: format!("SleepSUT({workers} workers)"),
            tx: Some(tx),
            workers: handles,
        })
    }
}

impl SystemUnderTest for SleepSut {
    fn name(&self) -> &str {
        &self.name
    }

    fn issue_query(&self, samples: &[QuerySample], completer: &Completer) -> Result<(), BoxError> {
        let tx = self.tx.as_ref().ok_or(SleepSutError::WorkersGone)?;
        for &sample in samples {
            tx.send(Job {
                sample,
                completer: completer.clone(),
            })
            .map_err(|_| SleepSutError::WorkersGone)?;
        }
        Ok(())
    }
}

impl Drop for SleepSut {
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

    #[test]
    fn service_times_follow_their_law() {
        let fixed = ServiceTime::Fixed(Duration::from_millis(3));
        assert_eq!(fixed.pick(0.7), Duration::from_millis(3));
        let uni = ServiceTime::Uniform {
            min: Duration::from_millis(1),
            max: Duration::from_millis(3),
        };
        assert_eq!(uni.pick(0.5), Duration::from_millis(2));
        let exp = ServiceTime::Exponential {
            mean: Duration::from_millis(1),
        };
        assert!(exp.pick(0.0).is_zero());
        assert!(exp.pick(0.99) > Duration::from_millis(4));
    }

    #[test]
    fn zero_workers_is_an_error() {
        assert!(matches!(
            SleepSut::new(ServiceTime::Fixed(Duration::ZERO), 0, 1),
            Err(SleepSutError::NoWorkers)
        ));
    }
}

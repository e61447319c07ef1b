//! One sampling thread over a polled source: the source is read at a set
//! rate off the caller's thread, and the readings become a [`PowerTrace`].

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crate::{ChannelSample, CounterReading, PowerError, PowerMeter, PowerSample, PowerTrace};

/// MLPerf's power analyzers report about once a second; 10 Hz resolves a
/// run's phases while costing the harness nothing measurable.
pub const DEFAULT_SAMPLE_HZ: f64 = 10.0;

/// What one poll of a source saw.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reading {
    /// Instantaneous (or the device's short-average) power, where the source
    /// reports power; `None` for pure counters (RAPL), whose power the
    /// sampler derives from consecutive counter readings.
    pub watts: Option<f64>,
    /// The energy counter, in joules from an arbitrary origin, with any
    /// wrap-around already undone by the source.
    pub energy_joules: Option<f64>,
    /// Each channel's watts (`watts` is their sum), in the order of
    /// [`PolledSource::channel_names`]; empty where the source reads one
    /// total only.
    pub channel_watts: Vec<f64>,
}

/// A source read on demand (NVML, RAPL, a test's fake).
pub trait PolledSource: Send {
    /// What is measured, e.g. `nvml: 1 GPU (NVIDIA H100 80GB HBM3)`.
    fn describe(&self) -> String;
    /// Reads the source once.
    fn read(&mut self) -> Result<Reading, PowerError>;
    /// Remarks for the trace (channels skipped, ...).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
    /// The channels a reading's `channel_watts` has, e.g. one per GPU;
    /// none by default.
    fn channel_names(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A [`PowerMeter`] that polls one [`PolledSource`] at a fixed rate on a
/// thread of its own.
pub struct Sampler {
    description: String,
    period: Duration,
    idle: Option<Box<dyn PolledSource>>,
    running: Option<Running>,
}

struct Running {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<(Box<dyn PolledSource>, PowerTrace)>,
}

impl Sampler {
    /// A sampler reading `source` `hz` times a second (non-positive or
    /// non-finite rates fall back to [`DEFAULT_SAMPLE_HZ`]).
    pub fn new(source: Box<dyn PolledSource>, hz: f64) -> Self {
        let hz = if hz.is_finite() && hz > 0.0 {
            hz
        } else {
            DEFAULT_SAMPLE_HZ
        };
        Sampler {
            description: source.describe(),
            period: Duration::from_secs_f64(1.0 / hz),
            idle: Some(source),
            running: None,
        }
    }

    /// The time between two readings.
    pub fn period(&self) -> Duration {
        self.period
    }
}

impl PowerMeter for Sampler {
    fn describe(&self) -> String {
        self.description.clone()
    }

    fn start(&mut self) -> Result<(), PowerError> {
        let mut source = self
            .idle
            .take()
            .ok_or(PowerError::WrongState("already measuring"))?;
        // A first reading on the caller's thread, so a source that cannot
        // be read fails `start` rather than producing an empty trace.
        let first = match source.read() {
            // Stamped here, not on the thread: the run may begin before the
            // thread first runs, and this reading must precede it.
            Ok(r) => (SystemTime::now(), r),
            Err(e) => {
                self.idle = Some(source);
                return Err(e);
            }
        };
        let (stop, stopped) = mpsc::channel::<()>();
        let period = self.period;
        let description = self.description.clone();
        let channel_names = source.channel_names();
        let thread = std::thread::Builder::new()
            .name("power-sampler".into())
            .spawn(move || {
                let mut acc = Accumulator::new(description, channel_names);
                acc.push(first.0, Ok(first.1));
                let mut next = Instant::now() + period;
                loop {
                    let wait = next.saturating_duration_since(Instant::now());
                    match stopped.recv_timeout(wait) {
                        Err(RecvTimeoutError::Timeout) => {}
                        // Stopped (or the meter dropped): one last reading
                        // so the counter covers the whole span.
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                            acc.push(SystemTime::now(), source.read());
                            break;
                        }
                    }
                    acc.push(SystemTime::now(), source.read());
                    next += period;
                    // After a stall (a suspended process), resume the grid
                    // from now rather than firing a burst of catch-up reads.
                    let now = Instant::now();
                    if next < now {
                        next = now + period;
                    }
                }
                let mut trace = acc.finish();
                trace.notes.extend(source.notes());
                (source, trace)
            })
            .map_err(|e| PowerError::Io {
                path: "power-sampler thread".into(),
                source: e,
            })?;
        self.running = Some(Running { stop, thread });
        Ok(())
    }

    fn stop(&mut self) -> Result<PowerTrace, PowerError> {
        let running = self
            .running
            .take()
            .ok_or(PowerError::WrongState("not measuring"))?;
        // The thread may have ended already; a failed send is fine then.
        let _ = running.stop.send(());
        let (source, trace) = running
            .thread
            .join()
            .map_err(|_| PowerError::SamplerPanicked)?;
        self.idle = Some(source);
        Ok(trace)
    }
}

/// Turns readings into a trace: watts as reported, or derived from the
/// counter where the source reports none; the counter made relative to its
/// first reading; failed reads counted, not fatal.
struct Accumulator {
    trace: PowerTrace,
    first_energy: Option<f64>,
    last_energy: Option<(SystemTime, f64)>,
    failed_reads: u64,
    first_error: Option<String>,
}

impl Accumulator {
    fn new(source: String, channel_names: Vec<String>) -> Self {
        Accumulator {
            trace: PowerTrace {
                source,
                channel_names,
                ..PowerTrace::default()
            },
            first_energy: None,
            last_energy: None,
            failed_reads: 0,
            first_error: None,
        }
    }

    fn push(&mut self, wall: SystemTime, reading: Result<Reading, PowerError>) {
        let reading = match reading {
            Ok(r) => r,
            Err(e) => {
                self.failed_reads += 1;
                self.first_error.get_or_insert_with(|| e.to_string());
                return;
            }
        };
        let mut watts = reading.watts;
        if let Some(energy) = reading.energy_joules {
            let origin = *self.first_energy.get_or_insert(energy);
            if watts.is_none() {
                if let Some((prev_wall, prev_energy)) = self.last_energy {
                    let dt = wall
                        .duration_since(prev_wall)
                        .map(|d| d.as_secs_f64())
                        .unwrap_or(0.0);
                    if dt > 0.0 {
                        watts = Some((energy - prev_energy) / dt);
                    }
                }
            }
            self.last_energy = Some((wall, energy));
            self.trace.counter.push(CounterReading {
                wall,
                joules: energy - origin,
            });
        }
        if let Some(watts) = watts {
            self.trace.samples.push(PowerSample { wall, watts });
        }
        // A reading with another number of channels than named is kept in
        // the total only: a column must mean one channel all along.
        let names = self.trace.channel_names.len();
        if names > 0 && reading.channel_watts.len() == names {
            self.trace.channels.push(ChannelSample {
                wall,
                watts: reading.channel_watts,
            });
        }
    }

    fn finish(mut self) -> PowerTrace {
        if let (Some(first), Some(last)) = (self.trace.counter.first(), self.trace.counter.last()) {
            self.trace.counter_joules = Some(last.joules - first.joules);
        }
        if self.failed_reads > 0 {
            self.trace.notes.push(format!(
                "{} reading(s) failed, the first with: {}",
                self.failed_reads,
                self.first_error.unwrap_or_default()
            ));
        }
        self.trace
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A source whose counter grows by 1 J per read at a fixed 50 W.
    struct Fake {
        reads: Arc<Mutex<u32>>,
    }

    impl PolledSource for Fake {
        fn describe(&self) -> String {
            "fake".into()
        }
        fn read(&mut self) -> Result<Reading, PowerError> {
            let mut n = self.reads.lock().map_err(|_| PowerError::SamplerPanicked)?;
            *n += 1;
            Ok(Reading {
                watts: Some(50.0),
                energy_joules: Some(1000.0 + f64::from(*n)),
                ..Reading::default()
            })
        }
    }

    #[test]
    fn samples_at_the_set_rate_and_reads_once_more_at_stop() {
        let reads = Arc::new(Mutex::new(0));
        let mut meter = Sampler::new(
            Box::new(Fake {
                reads: reads.clone(),
            }),
            100.0,
        );
        assert_eq!(meter.period(), Duration::from_millis(10));
        meter.start().unwrap();
        std::thread::sleep(Duration::from_millis(200));
        let trace = meter.stop().unwrap();
        let n = *reads.lock().unwrap() as usize;
        // ~20 periodic reads plus the first and the last; a loaded CI
        // machine may read fewer, never more than the grid allows.
        assert!((5..=24).contains(&n), "{n} reads");
        assert_eq!(trace.samples.len(), n);
        assert!(trace.samples.iter().all(|s| s.watts == 50.0));
        assert_eq!(trace.counter.len(), n);
        assert_eq!(trace.counter[0].joules, 0.0);
        assert_eq!(trace.counter_joules, Some((n - 1) as f64));
        assert_eq!(trace.source, "fake");
        // Stopped: it can be started again, and stopping twice is refused.
        assert!(matches!(meter.stop(), Err(PowerError::WrongState(_))));
        meter.start().unwrap();
        assert!(matches!(meter.start(), Err(PowerError::WrongState(_))));
        meter.stop().unwrap();
    }

    #[test]
    fn derives_watts_from_a_counter_without_power() {
        let mut acc = Accumulator::new("counter".into(), Vec::new());
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(100);
        let at = |s: f64| t0 + Duration::from_secs_f64(s);
        let counter = |j: f64| {
            Ok(Reading {
                watts: None,
                energy_joules: Some(j),
                ..Reading::default()
            })
        };
        acc.push(at(0.0), counter(500.0));
        acc.push(at(0.5), counter(530.0));
        acc.push(at(1.0), Err(PowerError::SamplerPanicked));
        acc.push(at(1.5), counter(590.0));
        let trace = acc.finish();
        let watts: Vec<f64> = trace.samples.iter().map(|s| s.watts).collect();
        assert_eq!(watts, vec![60.0, 60.0]);
        assert_eq!(trace.counter_joules, Some(90.0));
        assert_eq!(trace.notes.len(), 1);
        assert!(trace.notes[0].starts_with("1 reading(s) failed"));
    }
}

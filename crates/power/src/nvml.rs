//! NVIDIA GPUs through NVML, loaded at run time (`libnvidia-ml.so`), so the
//! binary runs where there is no GPU or driver: the GPUs' power draw and
//! their total-energy counters, summed over every GPU.

use nvml_wrapper::Nvml;

use crate::sampler::{PolledSource, Reading};
use crate::PowerError;

/// What the source asks of NVML, so that a test can stand in for a
/// driver.
pub(crate) trait GpuPowerApi: Send {
    fn device_count(&self) -> Result<u32, PowerError>;
    fn name(&self, index: u32) -> Result<String, PowerError>;
    /// NVML's `nvmlDeviceGetPowerUsage`.
    fn power_milliwatts(&self, index: u32) -> Result<u32, PowerError>;
    /// NVML's `nvmlDeviceGetTotalEnergyConsumption` (Volta and newer).
    fn energy_millijoules(&self, index: u32) -> Result<u64, PowerError>;
}

impl GpuPowerApi for Nvml {
    fn device_count(&self) -> Result<u32, PowerError> {
        Nvml::device_count(self).map_err(PowerError::Nvml)
    }
    fn name(&self, index: u32) -> Result<String, PowerError> {
        let device = self.device_by_index(index).map_err(PowerError::Nvml)?;
        device.name().map_err(PowerError::Nvml)
    }
    fn power_milliwatts(&self, index: u32) -> Result<u32, PowerError> {
        let device = self.device_by_index(index).map_err(PowerError::Nvml)?;
        device.power_usage().map_err(PowerError::Nvml)
    }
    fn energy_millijoules(&self, index: u32) -> Result<u64, PowerError> {
        let device = self.device_by_index(index).map_err(PowerError::Nvml)?;
        device.total_energy_consumption().map_err(PowerError::Nvml)
    }
}

/// Every GPU NVML sees.
pub struct NvmlSource {
    api: Box<dyn GpuPowerApi>,
    names: Vec<String>,
    /// Whether every GPU has the total-energy counter (Volta and newer).
    counter: bool,
}

impl NvmlSource {
    /// Loads NVML and checks that each GPU reports its power.
    pub fn open() -> Result<Self, PowerError> {
        let nvml = Nvml::init().map_err(|e| PowerError::Unavailable {
            source_name: "nvml".into(),
            reason: format!("NVML did not load ({e}): no NVIDIA driver here"),
        })?;
        Self::over(Box::new(nvml))
    }

    /// The source over `api` (NVML, or a test's stand-in).
    pub(crate) fn over(api: Box<dyn GpuPowerApi>) -> Result<Self, PowerError> {
        let count = api.device_count()?;
        if count == 0 {
            return Err(PowerError::Unavailable {
                source_name: "nvml".into(),
                reason: "NVML sees no GPU".into(),
            });
        }
        let mut names = Vec::new();
        let mut counter = true;
        for index in 0..count {
            names.push(api.name(index).unwrap_or_else(|_| format!("GPU {index}")));
            api.power_milliwatts(index)?;
            counter &= api.energy_millijoules(index).is_ok();
        }
        Ok(NvmlSource {
            api,
            names,
            counter,
        })
    }

    /// How many GPUs are summed.
    pub fn gpu_count(&self) -> usize {
        self.names.len()
    }
}

impl PolledSource for NvmlSource {
    fn describe(&self) -> String {
        let mut distinct = self.names.clone();
        distinct.dedup();
        format!(
            "nvml: {} GPU{} ({})",
            self.names.len(),
            if self.names.len() == 1 { "" } else { "s" },
            distinct.join(", ")
        )
    }

    fn read(&mut self) -> Result<Reading, PowerError> {
        let mut per_gpu = Vec::with_capacity(self.names.len());
        let mut millijoules = 0u64;
        for index in 0..self.names.len() as u32 {
            per_gpu.push(f64::from(self.api.power_milliwatts(index)?) / 1e3);
            if self.counter {
                millijoules += self.api.energy_millijoules(index)?;
            }
        }
        Ok(Reading {
            watts: Some(per_gpu.iter().sum()),
            energy_joules: self.counter.then_some(millijoules as f64 / 1e3),
            channel_watts: per_gpu,
        })
    }

    fn notes(&self) -> Vec<String> {
        if self.counter {
            Vec::new()
        } else {
            vec![
                "a GPU has no total-energy counter (before Volta): energy from power samples only"
                    .into(),
            ]
        }
    }

    /// `gpu0`, `gpu1`, ... in NVML's index order.
    fn channel_names(&self) -> Vec<String> {
        (0..self.names.len()).map(|i| format!("gpu{i}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{read_trace_csv, write_trace_csv, PowerMeter, Sampler};
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    /// Two GPUs drawing 100 W and 250 W, the second one 10 W more each
    /// read; both counters advance 1 J a read.
    struct FakeNvml {
        reads: Arc<AtomicU32>,
        counters: bool,
    }

    impl GpuPowerApi for FakeNvml {
        fn device_count(&self) -> Result<u32, PowerError> {
            Ok(2)
        }
        fn name(&self, _index: u32) -> Result<String, PowerError> {
            Ok("Fake H100".into())
        }
        fn power_milliwatts(&self, index: u32) -> Result<u32, PowerError> {
            Ok(match index {
                0 => 100_000,
                _ => 250_000 + 10_000 * self.reads.fetch_add(1, Ordering::SeqCst),
            })
        }
        fn energy_millijoules(&self, _index: u32) -> Result<u64, PowerError> {
            if !self.counters {
                return Err(PowerError::WrongState("no counter"));
            }
            Ok(5_000 + 1_000 * u64::from(self.reads.load(Ordering::SeqCst)))
        }
    }

    #[test]
    fn each_gpu_has_its_column_beside_the_total() {
        let reads = Arc::new(AtomicU32::new(0));
        let source = NvmlSource::over(Box::new(FakeNvml {
            reads: reads.clone(),
            counters: true,
        }))
        .unwrap();
        assert_eq!(source.describe(), "nvml: 2 GPUs (Fake H100)");
        assert_eq!(source.channel_names(), ["gpu0", "gpu1"]);
        // `over` read each GPU once to check it.
        reads.store(0, Ordering::SeqCst);
        let mut meter = Sampler::new(Box::new(source), 200.0);
        meter.start().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(30));
        let trace = meter.stop().unwrap();
        assert_eq!(trace.channel_names, ["gpu0", "gpu1"]);
        assert_eq!(trace.channels.len(), trace.samples.len());
        assert!(trace.samples.len() >= 2, "{trace:?}");
        for (k, (total, gpus)) in trace.samples.iter().zip(&trace.channels).enumerate() {
            assert_eq!(total.wall, gpus.wall);
            assert_eq!(gpus.watts, [100.0, 250.0 + 10.0 * k as f64]);
            assert_eq!(total.watts, 350.0 + 10.0 * k as f64);
        }

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("power_trace.csv");
        write_trace_csv(&path, &trace).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("unix_seconds,watts,counter_joules,gpu0_watts,gpu1_watts")
        );
        let second: Vec<&str> = lines.nth(1).unwrap().split(',').collect();
        assert_eq!(second[1..], ["360", second[2], "100", "260"]);
        let back = read_trace_csv(&path).unwrap();
        assert_eq!(back.channel_names, trace.channel_names);
        // Times come back to the microsecond the file keeps.
        assert_eq!(back.channels.len(), trace.channels.len());
        for (read, written) in back.channels.iter().zip(&trace.channels) {
            assert_eq!(read.watts, written.watts);
            let apart = match read.wall.duration_since(written.wall) {
                Ok(d) => d,
                Err(e) => e.duration(),
            };
            assert!(apart.as_micros() <= 1, "{apart:?}");
        }
        assert_eq!(back.samples.len(), trace.samples.len());
    }

    #[test]
    fn gpus_without_counters_still_give_their_power() {
        let source = NvmlSource::over(Box::new(FakeNvml {
            reads: Arc::new(AtomicU32::new(0)),
            counters: false,
        }))
        .unwrap();
        assert_eq!(source.notes().len(), 1);
        let mut source = source;
        let r = source.read().unwrap();
        assert_eq!(r.energy_joules, None);
        assert_eq!(r.channel_watts.len(), 2);
        assert_eq!(r.watts, Some(r.channel_watts.iter().sum()));
    }
}

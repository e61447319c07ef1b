//! NVIDIA GPUs through NVML, loaded at run time (`libnvidia-ml.so`), so the
//! binary runs where there is no GPU or driver: the GPUs' power draw and
//! their total-energy counters, summed over every GPU.

use nvml_wrapper::Nvml;

use crate::sampler::{PolledSource, Reading};
use crate::PowerError;

/// Every GPU NVML sees.
pub struct NvmlSource {
    nvml: Nvml,
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
        let count = nvml.device_count().map_err(PowerError::Nvml)?;
        if count == 0 {
            return Err(PowerError::Unavailable {
                source_name: "nvml".into(),
                reason: "NVML sees no GPU".into(),
            });
        }
        let mut names = Vec::new();
        let mut counter = true;
        for index in 0..count {
            let device = nvml.device_by_index(index).map_err(PowerError::Nvml)?;
            names.push(device.name().unwrap_or_else(|_| format!("GPU {index}")));
            device.power_usage().map_err(PowerError::Nvml)?;
            counter &= device.total_energy_consumption().is_ok();
        }
        Ok(NvmlSource {
            nvml,
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
        let mut milliwatts = 0u64;
        let mut millijoules = 0u64;
        for index in 0..self.names.len() as u32 {
            let device = self.nvml.device_by_index(index).map_err(PowerError::Nvml)?;
            milliwatts += u64::from(device.power_usage().map_err(PowerError::Nvml)?);
            if self.counter {
                millijoules += device
                    .total_energy_consumption()
                    .map_err(PowerError::Nvml)?;
            }
        }
        Ok(Reading {
            watts: Some(milliwatts as f64 / 1e3),
            energy_joules: self.counter.then_some(millijoules as f64 / 1e3),
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
}

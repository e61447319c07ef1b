//! GPUs through NVML, loaded at run time: where there is no driver the
//! capture still succeeds, with no GPU and a note "no NVML: <reason>".

use std::path::Path;

use std::collections::BTreeMap;

use nvml_wrapper::enum_wrappers::device::{Clock, TopologyLevel};
use nvml_wrapper::Nvml;

use crate::topology::{gpu_topology, PcieLevel};
use crate::{GpuDriver, GpuInfo, GpuTopology};

/// NVML_NVLINK_MAX_LINKS of the NVML headers nvml-wrapper 0.13 binds.
const NVLINK_MAX_LINKS: u32 = 18;

pub fn probe(
    library: Option<&Path>,
    notes: &mut Vec<String>,
) -> (Option<GpuDriver>, Vec<GpuInfo>, GpuTopology) {
    let nvml = match library {
        Some(path) => Nvml::builder().lib_path(path.as_os_str()).init(),
        None => Nvml::init(),
    };
    let nvml = match nvml {
        Ok(nvml) => nvml,
        Err(e) => {
            notes.push(format!("no NVML: {e}"));
            return (None, Vec::new(), GpuTopology::default());
        }
    };
    let driver = GpuDriver {
        driver_version: nvml.sys_driver_version().ok(),
        cuda_driver_version: nvml
            .sys_cuda_driver_version()
            .ok()
            .map(|v| format!("{}.{}", v / 1000, (v % 1000) / 10)),
        nvml_version: nvml.sys_nvml_version().ok(),
    };
    let count = match nvml.device_count() {
        Ok(count) => count,
        Err(e) => {
            notes.push(format!("NVML: cannot count GPUs: {e}"));
            return (Some(driver), Vec::new(), GpuTopology::default());
        }
    };
    let mut gpus = Vec::new();
    for index in 0..count {
        let device = match nvml.device_by_index(index) {
            Ok(device) => device,
            Err(e) => {
                notes.push(format!("NVML: GPU {index}: {e}"));
                continue;
            }
        };
        // NVLink: count links until the first one the GPU does not have.
        let mut nvlink_active_links = 0;
        let mut nvlink_peers = Vec::new();
        for link in 0..NVLINK_MAX_LINKS {
            let wrapper = device.link_wrapper_for(link);
            match wrapper.is_active() {
                Ok(true) => {
                    nvlink_active_links += 1;
                    if let Ok(remote) = wrapper.remote_pci_info() {
                        nvlink_peers.push(remote.bus_id);
                    }
                }
                Ok(false) => {}
                Err(_) => break,
            }
        }
        gpus.push(GpuInfo {
            index,
            name: device.name().ok(),
            uuid: device.uuid().ok(),
            pci_bus_id: device.pci_info().ok().map(|pci| pci.bus_id),
            memory_total_bytes: device.memory_info().ok().map(|m| m.total),
            max_sm_clock_mhz: device.max_clock_info(Clock::SM).ok(),
            max_memory_clock_mhz: device.max_clock_info(Clock::Memory).ok(),
            max_graphics_clock_mhz: device.max_clock_info(Clock::Graphics).ok(),
            pcie_link_gen_current: device.current_pcie_link_gen().ok(),
            pcie_link_width_current: device.current_pcie_link_width().ok(),
            pcie_link_gen_max: device.max_pcie_link_gen().ok(),
            pcie_link_width_max: device.max_pcie_link_width().ok(),
            nvlink_active_links,
            nvlink_peers,
            numa_node: device.numa_node_id().ok(),
        });
    }
    let pcie = pcie_paths(&nvml, &gpus, notes);
    let topology = gpu_topology(&gpus, &pcie);
    (Some(driver), gpus, topology)
}

/// The PCIe common ancestor of every pair of GPUs (Linux only in NVML).
fn pcie_paths(
    nvml: &Nvml,
    gpus: &[GpuInfo],
    notes: &mut Vec<String>,
) -> BTreeMap<(u32, u32), PcieLevel> {
    let mut out = BTreeMap::new();
    for (i, a) in gpus.iter().enumerate() {
        for b in gpus.iter().skip(i + 1) {
            let level = nvml.device_by_index(a.index).and_then(|da| {
                let db = nvml.device_by_index(b.index)?;
                da.topology_common_ancestor(db)
            });
            match level {
                Ok(level) => {
                    out.insert((a.index, b.index), pcie_level(level));
                }
                Err(e) => notes.push(format!(
                    "NVML: PCIe path of GPUs {} and {}: {e}",
                    a.index, b.index
                )),
            }
        }
    }
    out
}

fn pcie_level(level: TopologyLevel) -> PcieLevel {
    match level {
        TopologyLevel::Internal => PcieLevel::Internal,
        TopologyLevel::Single => PcieLevel::Single,
        TopologyLevel::Multiple => PcieLevel::Multiple,
        TopologyLevel::HostBridge => PcieLevel::HostBridge,
        TopologyLevel::Node => PcieLevel::Node,
        TopologyLevel::System => PcieLevel::System,
    }
}

//! How the GPUs of this host reach each other: per GPU pair, NVLink (direct
//! links, or through NVSwitches) or the PCIe path between them, as
//! `nvidia-smi topo -m` names it (PIX, PXB, PHB, NODE, SYS).
//!
//! Built from what the NVML probe read ([`GpuInfo::nvlink_peers`]: the far
//! end of every active NVLink; the PCIe common ancestor of each pair), so it
//! is a pure function and testable without a GPU.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::GpuInfo;

/// The whole host's GPU interconnect, in one word, and per pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpuTopology {
    /// `none` (no GPU, or NVML could not be loaded), `single` (one GPU),
    /// `nvlink` (every pair linked directly), `nvswitch` (every pair through
    /// NVSwitches), `pcie` (no pair on NVLink), or `mixed`.
    pub kind: String,
    /// Every pair of GPUs, lower index first.
    pub pairs: Vec<GpuPairLink>,
}

impl Default for GpuTopology {
    fn default() -> Self {
        GpuTopology {
            kind: "none".into(),
            pairs: Vec::new(),
        }
    }
}

/// How one pair of GPUs is connected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpuPairLink {
    pub a: u32,
    pub b: u32,
    /// `nvlink` (direct links), `nvswitch` (both GPUs' links end at
    /// NVSwitches), `pcie`, or `unknown`.
    pub via: String,
    /// Active NVLinks: between the two (direct), else the fewer of the two
    /// GPUs' links to switches; 0 over PCIe.
    pub nvlinks: u32,
    /// The PCIe path between them (nvidia-smi's names), where NVML gave it.
    #[serde(default)]
    pub pcie: Option<String>,
}

/// nvidia-smi's name of NVML's common-ancestor level of two GPUs.
pub fn pcie_path_name(level: PcieLevel) -> &'static str {
    match level {
        PcieLevel::Internal => "internal",
        PcieLevel::Single => "PIX",
        PcieLevel::Multiple => "PXB",
        PcieLevel::HostBridge => "PHB",
        PcieLevel::Node => "NODE",
        PcieLevel::System => "SYS",
    }
}

/// NVML's `nvmlGpuTopologyLevel_t`, nearest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PcieLevel {
    /// Both on one board (multi-GPU boards).
    Internal,
    /// Through one PCIe switch.
    Single,
    /// Through several PCIe switches, no host bridge.
    Multiple,
    /// Through one host bridge.
    HostBridge,
    /// Through host bridges of one NUMA node.
    Node,
    /// Across NUMA nodes (SMP interconnect).
    System,
}

/// `00000000:18:00.0` and `0000:18:00.0` name the same device.
fn bus_key(bus_id: &str) -> String {
    let lower = bus_id.trim().to_ascii_lowercase();
    match lower.split_once(':') {
        Some((domain, rest)) => {
            let domain = domain.trim_start_matches('0');
            format!("{}:{rest}", if domain.is_empty() { "0" } else { domain })
        }
        None => lower,
    }
}

/// The topology of `gpus`, with the PCIe path of each pair (`(a, b)`, a <
/// b) where it is known.
pub fn gpu_topology(gpus: &[GpuInfo], pcie: &BTreeMap<(u32, u32), PcieLevel>) -> GpuTopology {
    match gpus.len() {
        0 => return GpuTopology::default(),
        1 => {
            return GpuTopology {
                kind: "single".into(),
                pairs: Vec::new(),
            }
        }
        _ => {}
    }
    let gpu_buses: Vec<Option<String>> = gpus
        .iter()
        .map(|g| g.pci_bus_id.as_deref().map(bus_key))
        .collect();
    // Links of each GPU that end at something that is not one of the GPUs
    // (an NVSwitch).
    let to_switch: Vec<u32> = gpus
        .iter()
        .map(|g| {
            g.nvlink_peers
                .iter()
                .filter(|p| !gpu_buses.contains(&Some(bus_key(p))))
                .count() as u32
        })
        .collect();
    let mut pairs = Vec::new();
    for (i, a) in gpus.iter().enumerate() {
        for (j, b) in gpus.iter().enumerate().skip(i + 1) {
            let direct = match &gpu_buses[j] {
                Some(bus) => a.nvlink_peers.iter().filter(|p| bus_key(p) == *bus).count() as u32,
                None => 0,
            };
            let path = pcie.get(&(a.index, b.index)).copied();
            let (via, nvlinks) = if direct > 0 {
                ("nvlink", direct)
            } else if to_switch[i] > 0 && to_switch[j] > 0 {
                ("nvswitch", to_switch[i].min(to_switch[j]))
            } else if path.is_some() || a.nvlink_active_links == 0 {
                ("pcie", 0)
            } else {
                ("unknown", 0)
            };
            pairs.push(GpuPairLink {
                a: a.index,
                b: b.index,
                via: via.into(),
                nvlinks,
                pcie: path.map(|l| pcie_path_name(l).to_string()),
            });
        }
    }
    let first = pairs[0].via.clone();
    let kind = if pairs.iter().all(|p| p.via == first) {
        first
    } else {
        "mixed".into()
    };
    GpuTopology { kind, pairs }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gpu(index: u32, bus: &str, peers: &[&str]) -> GpuInfo {
        GpuInfo {
            index,
            name: Some("NVIDIA H100 80GB HBM3".into()),
            uuid: None,
            pci_bus_id: Some(bus.into()),
            memory_total_bytes: None,
            max_sm_clock_mhz: None,
            max_memory_clock_mhz: None,
            max_graphics_clock_mhz: None,
            pcie_link_gen_current: None,
            pcie_link_width_current: None,
            pcie_link_gen_max: None,
            pcie_link_width_max: None,
            nvlink_active_links: peers.len() as u32,
            nvlink_peers: peers.iter().map(|p| p.to_string()).collect(),
            numa_node: None,
        }
    }

    #[test]
    fn no_gpu_is_none_and_one_is_single() {
        let t = gpu_topology(&[], &BTreeMap::new());
        assert_eq!(t.kind, "none");
        assert!(t.pairs.is_empty());
        assert_eq!(t, GpuTopology::default());
        let t = gpu_topology(&[gpu(0, "00000000:18:00.0", &[])], &BTreeMap::new());
        assert_eq!(t.kind, "single");
        assert!(t.pairs.is_empty());
    }

    #[test]
    fn direct_nvlinks_are_counted_per_pair() {
        // Two GPUs bridged by 4 links (written with a shorter domain on
        // one side, as some drivers report the far end).
        let a = gpu(0, "00000000:18:00.0", &["0000:2A:00.0"; 4]);
        let b = gpu(1, "00000000:2a:00.0", &["00000000:18:00.0"; 4]);
        let mut pcie = BTreeMap::new();
        pcie.insert((0, 1), PcieLevel::System);
        let t = gpu_topology(&[a, b], &pcie);
        assert_eq!(t.kind, "nvlink");
        assert_eq!(
            t.pairs,
            vec![GpuPairLink {
                a: 0,
                b: 1,
                via: "nvlink".into(),
                nvlinks: 4,
                pcie: Some("SYS".into()),
            }]
        );
    }

    #[test]
    fn links_ending_at_switches_are_nvswitch_and_no_links_is_pcie() {
        let sw = ["00000000:c1:00.0", "00000000:c2:00.0"];
        let gpus = [
            gpu(0, "00000000:18:00.0", &sw),
            gpu(1, "00000000:2a:00.0", &sw),
            gpu(2, "00000000:3a:00.0", &[]),
        ];
        let mut pcie = BTreeMap::new();
        pcie.insert((0, 2), PcieLevel::Node);
        pcie.insert((1, 2), PcieLevel::Single);
        let t = gpu_topology(&gpus, &pcie);
        assert_eq!(t.kind, "mixed");
        let via: Vec<(&str, u32, Option<&str>)> = t
            .pairs
            .iter()
            .map(|p| (p.via.as_str(), p.nvlinks, p.pcie.as_deref()))
            .collect();
        assert_eq!(
            via,
            vec![
                ("nvswitch", 2, None),
                ("pcie", 0, Some("NODE")),
                ("pcie", 0, Some("PIX")),
            ]
        );
    }
}

//! Network: interfaces backed by a device (/sys/class/net) and RDMA devices
//! with their link layer (/sys/class/infiniband).

use std::path::Path;

use super::{dir_names, read_trimmed, under};
use crate::{NetworkInfo, RdmaDevice};

pub fn probe(root: &Path, notes: &mut Vec<String>) -> NetworkInfo {
    let net = under(root, "/sys/class/net");
    if !net.is_dir() {
        notes.push(format!("network: no {}", net.display()));
    }
    // mlc-scripts' rule: a `device` link that does not point into /virtual/.
    let physical_interfaces = dir_names(&net)
        .into_iter()
        .filter(|name| name != "lo")
        .filter(|name| {
            std::fs::read_link(net.join(name).join("device"))
                .is_ok_and(|target| !target.to_string_lossy().contains("/virtual/"))
        })
        .collect();
    let infiniband = under(root, "/sys/class/infiniband");
    let rdma_devices = dir_names(&infiniband)
        .into_iter()
        .map(|name| RdmaDevice {
            link_layer: read_trimmed(&infiniband.join(&name).join("ports/1/link_layer")),
            name,
        })
        .collect();
    NetworkInfo {
        physical_interfaces,
        rdma_devices,
    }
}

//! The system description of a benchmark run, captured natively.
//!
//! [`capture`] probes the machine (CPU, memory, OS and kernel, storage,
//! network, GPUs through NVML loaded at run time) and reads the few facts no
//! probe can know (submitter, division, availability, ...) from the user's
//! system file, written once with `yardstick system init`. It never fails: a
//! probe that is missing leaves its value empty and adds a line to
//! [`SystemDescription::notes`].
//!
//! [`SystemDescription::mlperf_fields`] gives the flat field set of an MLPerf
//! Inference `systems/<system>.json`: every field the submission checker
//! requires, filled the way MLCommons' `mlperf-sysinfo` (PyPI) fills them, so
//! that on the same machine both write the same values wherever both can
//! know them (checked by `tests/mlperf_sysinfo.rs`).

mod human;
mod mlperf;
mod probe;
mod topology;
mod user;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use mlperf::{MlperfFields, MLPERF_REQUIRED_FIELDS};
pub use topology::{gpu_topology, pcie_path_name, GpuPairLink, GpuTopology, PcieLevel};
pub use user::{default_system_file, UserSystem, SYSTEM_FILE_ENV, USER_TEXT_FIELDS};

/// What went wrong reading or writing the user's system file.
#[derive(Debug, thiserror::Error)]
pub enum SysinfoError {
    #[error("cannot read the system file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the system file {path} is not valid")]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("cannot write the system file {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot encode the system file")]
    Encode(#[source] toml::ser::Error),
    #[error("no place for the system file: set {SYSTEM_FILE_ENV}, XDG_CONFIG_HOME or HOME")]
    NoConfigDir,
}

/// Where [`capture`] looks and what it leaves out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureOptions {
    /// The root that `/proc`, `/sys` and `/etc` are read under: `/`, or a fake
    /// tree in tests.
    pub root: PathBuf,
    /// Leave the hostname out of the description (`hostname: None`).
    pub withhold_hostname: bool,
    /// The user's system file. `None`: `$YARDSTICK_SYSTEM_FILE`, else
    /// `$XDG_CONFIG_HOME/yardstick/system.toml` (`~/.config/...`). A file that
    /// does not exist is not an error: those fields stay empty.
    pub system_file: Option<PathBuf>,
    /// Probe GPUs through NVML. Off: no GPU, and a note saying so.
    pub probe_gpus: bool,
    /// Load NVML from this path instead of the system's libnvidia-ml.so.1.
    pub nvml_library: Option<PathBuf>,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        Self {
            root: PathBuf::from("/"),
            withhold_hostname: false,
            system_file: None,
            probe_gpus: true,
            nvml_library: None,
        }
    }
}

/// yardstick itself: the version and the git commit it was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildInfo {
    pub version: String,
    /// `git rev-parse HEAD` at build time, "unknown" without git.
    pub commit: String,
}

impl BuildInfo {
    /// This build of yardstick.
    pub fn current() -> Self {
        Self {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            commit: env!("YARDSTICK_GIT_COMMIT").to_owned(),
        }
    }
}

/// One cache level as lscpu sums it: every distinct instance counted once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheLevel {
    /// "L1d", "L1i", "L2", "L3".
    pub name: String,
    pub total_bytes: u64,
    pub instances: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CpuInfo {
    pub model_name: Option<String>,
    pub vendor_id: Option<String>,
    /// The architecture yardstick was built for ("x86_64", "aarch64").
    pub architecture: String,
    pub sockets: Option<u32>,
    pub cores_per_socket: Option<u32>,
    pub threads_per_core: Option<u32>,
    /// Present logical CPUs (lscpu's "CPU(s)").
    pub logical_cpus: Option<u32>,
    /// The highest `cpuinfo_max_freq` of any CPU, MHz.
    pub max_mhz: Option<f64>,
    pub caches: Vec<CacheLevel>,
    pub numa_nodes: Option<u32>,
}

impl CpuInfo {
    /// Physical cores in the node: sockets x cores per socket.
    pub fn physical_cores(&self) -> Option<u32> {
        Some(self.sockets? * self.cores_per_socket?)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryInfo {
    /// MemTotal of /proc/meminfo, bytes.
    pub total_bytes: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsInfo {
    /// /etc/os-release ID ("debian", "ubuntu").
    pub id: Option<String>,
    /// /etc/os-release VERSION_ID ("12", "24.04").
    pub version_id: Option<String>,
    pub pretty_name: Option<String>,
    /// The kernel release (`uname -r`).
    pub kernel_release: Option<String>,
    /// The kernel build string (`uname -v`).
    pub kernel_version: Option<String>,
}

/// A mounted local (or network) filesystem, as `df` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filesystem {
    pub source: String,
    pub fstype: String,
    pub mount_point: String,
    pub size_bytes: u64,
    /// "NVMe SSD", "SSD", "HDD", or the network filesystem's type ("NFS4").
    pub kind: String,
}

/// A whole block device (lsblk's type "disk").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disk {
    pub name: String,
    pub size_bytes: Option<u64>,
    pub rotational: Option<bool>,
    pub model: Option<String>,
    /// "NVMe SSD", "SSD", "HDD" or "Other".
    pub kind: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageInfo {
    pub filesystems: Vec<Filesystem>,
    pub disks: Vec<Disk>,
}

/// An RDMA device of /sys/class/infiniband.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RdmaDevice {
    pub name: String,
    /// "InfiniBand" or "Ethernet" (RoCE); None when the port does not say.
    pub link_layer: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkInfo {
    /// Interfaces of /sys/class/net backed by a device (not virtual, not lo).
    pub physical_interfaces: Vec<String>,
    pub rdma_devices: Vec<RdmaDevice>,
}

/// One GPU as NVML reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpuInfo {
    pub index: u32,
    pub name: Option<String>,
    pub uuid: Option<String>,
    pub pci_bus_id: Option<String>,
    pub memory_total_bytes: Option<u64>,
    pub max_sm_clock_mhz: Option<u32>,
    pub max_memory_clock_mhz: Option<u32>,
    pub max_graphics_clock_mhz: Option<u32>,
    pub pcie_link_gen_current: Option<u32>,
    pub pcie_link_width_current: Option<u32>,
    pub pcie_link_gen_max: Option<u32>,
    pub pcie_link_width_max: Option<u32>,
    /// NVLinks that are up.
    pub nvlink_active_links: u32,
    /// The PCI bus id at the far end of each active NVLink (a peer GPU or an
    /// NVSwitch), link by link: the NVLink topology.
    #[serde(default)]
    pub nvlink_peers: Vec<String>,
    /// The NUMA node the GPU is attached to.
    #[serde(default)]
    pub numa_node: Option<u32>,
}

/// The NVIDIA driver, when NVML loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpuDriver {
    pub driver_version: Option<String>,
    /// The highest CUDA version the driver supports ("12.8").
    pub cuda_driver_version: Option<String>,
    pub nvml_version: Option<String>,
}

/// Everything known about the machine a run ran on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemDescription {
    pub yardstick: BuildInfo,
    /// None when withheld ([`CaptureOptions::withhold_hostname`]) or unknown.
    pub hostname: Option<String>,
    pub cpu: CpuInfo,
    pub memory: MemoryInfo,
    pub os: OsInfo,
    pub storage: StorageInfo,
    pub network: NetworkInfo,
    pub gpu_driver: Option<GpuDriver>,
    pub gpus: Vec<GpuInfo>,
    /// How the GPUs reach each other (NVLink, NVSwitch or PCIe, per pair);
    /// kind `none` without NVML.
    #[serde(default)]
    pub gpu_topology: GpuTopology,
    /// GPUs counted (every accelerator yardstick can probe is a GPU today).
    pub accelerators: u32,
    /// The facts from the user's system file.
    pub user: UserSystem,
    /// Where the user facts came from, if a file was read.
    pub system_file: Option<PathBuf>,
    /// What could not be probed, and why.
    pub notes: Vec<String>,
}

impl SystemDescription {
    /// The flat MLPerf Inference `systems/<system>.json` field set.
    pub fn mlperf_fields(&self) -> MlperfFields {
        mlperf::fields(self)
    }
}

/// The GPUs alone, through NVML (`library`, else the system's
/// libnvidia-ml): what `capture` reads, for a caller that needs only the
/// GPU count. What could not be read is added to `notes`.
pub fn probe_gpus(
    library: Option<&Path>,
    notes: &mut Vec<String>,
) -> (Option<GpuDriver>, Vec<GpuInfo>) {
    let (driver, gpus, _) = probe::gpu::probe(library, notes);
    (driver, gpus)
}

/// Probes this machine. Never fails: a missing probe leaves its value empty
/// and says why in `notes`.
pub fn capture(options: &CaptureOptions) -> SystemDescription {
    let mut notes = Vec::new();
    let root = options.root.as_path();
    let cpu = probe::cpu::probe(root, &mut notes);
    let memory = probe::memory::probe(root, &mut notes);
    let os = probe::os::probe(root, &mut notes);
    let storage = probe::storage::probe(root, &mut notes);
    let network = probe::network::probe(root, &mut notes);
    let hostname = if options.withhold_hostname {
        None
    } else {
        probe::os::hostname(root, &mut notes)
    };
    let (gpu_driver, gpus, gpu_topology) = if options.probe_gpus {
        probe::gpu::probe(options.nvml_library.as_deref(), &mut notes)
    } else {
        notes.push("GPUs not probed (turned off)".to_owned());
        (None, Vec::new(), GpuTopology::default())
    };
    let (user, system_file) = load_user_for_capture(options.system_file.as_deref(), &mut notes);
    SystemDescription {
        yardstick: BuildInfo::current(),
        hostname,
        cpu,
        memory,
        os,
        storage,
        network,
        gpu_driver,
        gpu_topology,
        accelerators: u32::try_from(gpus.len()).unwrap_or(u32::MAX),
        gpus,
        user,
        system_file,
        notes,
    }
}

/// The user facts for a capture: a missing file gives empty facts, a broken
/// one gives empty facts and a note (the capture itself never fails; `yardstick
/// system show` reports the error through [`UserSystem::load`]).
fn load_user_for_capture(
    explicit: Option<&Path>,
    notes: &mut Vec<String>,
) -> (UserSystem, Option<PathBuf>) {
    let path = match user::resolve_system_file(explicit) {
        Ok(path) => path,
        Err(e) => {
            notes.push(format!("system file: {e}"));
            return (UserSystem::default(), None);
        }
    };
    if !path.exists() {
        notes.push(format!(
            "system file {} does not exist (write it with `yardstick system init`)",
            path.display()
        ));
        return (UserSystem::default(), None);
    }
    match UserSystem::load(&path) {
        Ok(user) => (user, Some(path)),
        Err(e) => {
            let mut line = format!("{e}");
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                line.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            notes.push(line);
            (UserSystem::default(), None)
        }
    }
}

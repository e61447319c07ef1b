//! CPU: model and vendor from /proc/cpuinfo; sockets, cores, threads, caches,
//! clocks and NUMA nodes from /sys/devices/system, counted the way lscpu
//! (util-linux 2.38) counts them, since that is what mlperf-sysinfo reports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{dir_names, parse_cpu_list, read_trimmed, under};
use crate::{CacheLevel, CpuInfo};

pub fn probe(root: &Path, notes: &mut Vec<String>) -> CpuInfo {
    let cpuinfo_path = under(root, "/proc/cpuinfo");
    let cpuinfo = std::fs::read_to_string(&cpuinfo_path).unwrap_or_default();
    if cpuinfo.is_empty() {
        notes.push(format!("cpu: cannot read {}", cpuinfo_path.display()));
    }
    let sys_cpu = under(root, "/sys/devices/system/cpu");
    let present = read_trimmed(&sys_cpu.join("present"))
        .map(|list| parse_cpu_list(&list))
        .filter(|cpus| !cpus.is_empty())
        .unwrap_or_else(|| {
            // No sysfs: every "processor" entry of /proc/cpuinfo.
            (0..cpuinfo
                .lines()
                .filter(|l| cpuinfo_key(l) == Some("processor"))
                .count() as u32)
                .collect()
        });
    let logical_cpus = (!present.is_empty()).then_some(present.len() as u32);
    if logical_cpus.is_none() {
        notes.push(
            "cpu: no present CPUs in /sys/devices/system/cpu/present or /proc/cpuinfo".to_owned(),
        );
    }

    let model_name = ["model name", "Processor", "cpu model", "cpu"]
        .iter()
        .find_map(|key| cpuinfo_value(&cpuinfo, key));
    let (sockets, cores_per_socket, threads_per_core) = topology(&sys_cpu, &present);
    if sockets.is_none() {
        notes.push("cpu: no topology in /sys/devices/system/cpu/cpu*/topology".to_owned());
    }
    let max_mhz = present
        .iter()
        .filter_map(|cpu| read_trimmed(&sys_cpu.join(format!("cpu{cpu}/cpufreq/cpuinfo_max_freq"))))
        .filter_map(|khz| khz.parse::<f64>().ok())
        .map(|khz| khz / 1000.0)
        .fold(None, |max: Option<f64>, mhz| {
            Some(max.map_or(mhz, |m| m.max(mhz)))
        });
    let numa_dir = under(root, "/sys/devices/system/node");
    let numa_nodes = numa_dir.is_dir().then(|| {
        dir_names(&numa_dir)
            .iter()
            .filter(|n| {
                n.strip_prefix("node")
                    .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
            })
            .count() as u32
    });
    CpuInfo {
        model_name,
        vendor_id: cpuinfo_value(&cpuinfo, "vendor_id"),
        architecture: std::env::consts::ARCH.to_owned(),
        sockets,
        cores_per_socket,
        threads_per_core,
        logical_cpus,
        max_mhz,
        caches: caches(&sys_cpu, &present),
        numa_nodes,
    }
}

fn cpuinfo_key(line: &str) -> Option<&str> {
    line.split_once(':').map(|(k, _)| k.trim())
}

/// The first value of `key` in /proc/cpuinfo.
fn cpuinfo_value(cpuinfo: &str, key: &str) -> Option<String> {
    cpuinfo
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// (sockets, cores per socket, threads per core) as lscpu derives them:
/// threads from the first CPU's thread siblings, cores from its core siblings
/// divided by threads, sockets from the distinct package ids.
fn topology(sys_cpu: &Path, present: &[u32]) -> (Option<u32>, Option<u32>, Option<u32>) {
    let Some(first) = present
        .iter()
        .find(|cpu| sys_cpu.join(format!("cpu{cpu}/topology")).is_dir())
    else {
        return (None, None, None);
    };
    let topology = sys_cpu.join(format!("cpu{first}/topology"));
    let count =
        |file: &str| read_trimmed(&topology.join(file)).map(|l| parse_cpu_list(&l).len() as u32);
    let threads = count("thread_siblings_list")
        .filter(|&n| n > 0)
        .unwrap_or(1);
    let siblings = count("core_siblings_list")
        .or_else(|| count("package_cpus_list"))
        .filter(|&n| n > 0)
        .unwrap_or(threads);
    let cores = (siblings / threads).max(1);
    let packages: BTreeSet<String> = present
        .iter()
        .filter_map(|cpu| {
            read_trimmed(&sys_cpu.join(format!("cpu{cpu}/topology/physical_package_id")))
        })
        .collect();
    let sockets = if packages.is_empty() {
        (present.len() as u32 / threads / cores).max(1)
    } else {
        packages.len() as u32
    };
    (Some(sockets), Some(cores), Some(threads))
}

/// Cache levels, every distinct instance (by its id, else by the CPUs that
/// share it) counted once, in lscpu's order (L1d, L1i, L2, L3, ...).
fn caches(sys_cpu: &Path, present: &[u32]) -> Vec<CacheLevel> {
    let mut instances: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for cpu in present {
        let cache_dir = sys_cpu.join(format!("cpu{cpu}/cache"));
        for index in dir_names(&cache_dir)
            .iter()
            .filter(|n| n.starts_with("index"))
        {
            let dir = cache_dir.join(index);
            let (Some(level), Some(size)) = (
                read_trimmed(&dir.join("level")),
                read_trimmed(&dir.join("size")),
            ) else {
                continue;
            };
            let Some(bytes) = parse_cache_size(&size) else {
                continue;
            };
            let suffix = match read_trimmed(&dir.join("type")).as_deref() {
                Some("Data") => "d",
                Some("Instruction") => "i",
                _ => "",
            };
            let name = format!("L{level}{suffix}");
            let identity = read_trimmed(&dir.join("id"))
                .map(|id| format!("id:{id}"))
                .or_else(|| read_trimmed(&dir.join("shared_cpu_map")).map(|m| format!("map:{m}")))
                .unwrap_or_else(|| format!("cpu:{cpu}"));
            instances.entry(name).or_default().insert(identity, bytes);
        }
    }
    instances
        .into_iter()
        .map(|(name, by_identity)| CacheLevel {
            name,
            total_bytes: by_identity.values().sum(),
            instances: by_identity.len() as u32,
        })
        .collect()
}

/// sysfs cache sizes: "48K", "2048K", "32M".
fn parse_cache_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let (number, multiplier) = match text.chars().last()? {
        'K' => (&text[..text.len() - 1], 1u64 << 10),
        'M' => (&text[..text.len() - 1], 1 << 20),
        'G' => (&text[..text.len() - 1], 1 << 30),
        _ => (text, 1),
    };
    number.parse::<u64>().ok()?.checked_mul(multiplier)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_sizes_parse() {
        assert_eq!(parse_cache_size("48K"), Some(48 * 1024));
        assert_eq!(parse_cache_size("32M"), Some(32 << 20));
        assert_eq!(parse_cache_size("512"), Some(512));
        assert_eq!(parse_cache_size("x"), None);
    }

    #[test]
    fn cpuinfo_takes_the_first_value() {
        let text = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nprocessor\t: 1\nmodel name\t: Other\n";
        assert_eq!(
            cpuinfo_value(text, "model name").as_deref(),
            Some("Intel(R) Xeon(R) Processor")
        );
        assert_eq!(cpuinfo_value(text, "vendor_id"), None);
    }
}

//! Storage: mounted filesystems with their sizes (what `df` lists) and the
//! whole disks with their kind (what `lsblk -d` lists), classified the way
//! mlc-scripts classifies them for mlperf-sysinfo: a name starting "nvme" is
//! an NVMe SSD, else the kernel's rotational flag decides SSD or HDD.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::{dir_names, read_trimmed, under};
use crate::{Disk, Filesystem, StorageInfo};

/// Filesystems mlc-scripts leaves out of the storage capacity.
const SKIPPED_FSTYPES: &[&str] = &[
    "tmpfs",
    "devtmpfs",
    "overlay",
    "proc",
    "sysfs",
    "cgroup",
    "cgroup2",
    "pstore",
    "securityfs",
    "debugfs",
    "tracefs",
    "bpf",
    "hugetlbfs",
    "mqueue",
    "configfs",
    "fusectl",
    "efivarfs",
    "binfmt_misc",
    "squashfs",
    "iso9660",
    "devpts",
    "ramfs",
    "rpc_pipefs",
    "sunrpc",
    "autofs",
    "fuse",
    "udev",
];

/// Network filesystems: counted under their own type ("NFS4").
const NETWORK_FSTYPES: &[&str] = &[
    "cifs",
    "smb3",
    "smbfs",
    "nfs",
    "nfs4",
    "nfs3",
    "glusterfs",
    "fuse.glusterfs",
    "lustre",
    "davfs",
    "fuse.sshfs",
];

pub fn probe(root: &Path, notes: &mut Vec<String>) -> StorageInfo {
    let mounts_path = under(root, "/proc/mounts");
    let mounts = std::fs::read_to_string(&mounts_path).unwrap_or_default();
    if mounts.is_empty() {
        notes.push(format!("storage: cannot read {}", mounts_path.display()));
    }
    let filesystems = filesystems(root, &mounts, &|path| filesystem_size(path));
    let disks = disks(root);
    if disks.is_empty() {
        notes.push("storage: no disks in /sys/block".to_owned());
    }
    StorageInfo { filesystems, disks }
}

/// f_blocks x f_frsize, as df's Size column; None when statvfs fails.
fn filesystem_size(path: &Path) -> Option<(u64, u64)> {
    let stat = rustix::fs::statvfs(path).ok()?;
    let device = std::fs::metadata(path).ok()?.dev();
    Some((stat.f_blocks.saturating_mul(stat.f_frsize), device))
}

/// The mounts df would list that mlc-scripts counts: block devices and
/// network filesystems, one per mounted filesystem (bind mounts and repeated
/// mounts of the same device counted once, nearest the root kept), without
/// empty ones. `size_of` gives (size in bytes, device id) of a mount point.
pub(crate) fn filesystems(
    root: &Path,
    mounts: &str,
    size_of: &dyn Fn(&Path) -> Option<(u64, u64)>,
) -> Vec<Filesystem> {
    let mut found: Vec<(u64, Filesystem)> = Vec::new();
    for line in mounts.lines() {
        let mut fields = line.split_whitespace();
        let (Some(source), Some(target), Some(fstype)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let (source, target) = (unescape_mount_field(source), unescape_mount_field(target));
        let lower = fstype.to_ascii_lowercase();
        if SKIPPED_FSTYPES.contains(&lower.as_str()) {
            continue;
        }
        let kind = if NETWORK_FSTYPES.contains(&lower.as_str()) {
            fstype.to_ascii_uppercase()
        } else if source.starts_with("/dev/") {
            mounted_device_kind(root, &source)
        } else {
            continue;
        };
        let Some((size_bytes, device)) = size_of(&under(root, &target)) else {
            continue;
        };
        if size_bytes == 0 {
            continue;
        }
        let filesystem = Filesystem {
            source,
            fstype: fstype.to_owned(),
            mount_point: target,
            size_bytes,
            kind,
        };
        match found.iter_mut().find(|(seen, _)| *seen == device) {
            Some((_, seen)) => {
                if filesystem.mount_point.len() < seen.mount_point.len() {
                    *seen = filesystem;
                }
            }
            None => found.push((device, filesystem)),
        }
    }
    found.into_iter().map(|(_, fs)| fs).collect()
}

/// /proc/mounts escapes space, tab, newline and backslash as octal.
fn unescape_mount_field(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 3 < bytes.len()
            && bytes[i + 1..i + 4]
                .iter()
                .all(|b| (b'0'..=b'7').contains(b))
        {
            let value =
                (bytes[i + 1] - b'0') * 64 + (bytes[i + 2] - b'0') * 8 + (bytes[i + 3] - b'0');
            out.push(value);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The kind of the device a filesystem is mounted from (mlc-scripts asks
/// lsblk for its ROTA and TRAN): its own rotational flag (a partition's is
/// its disk's), else the first disk below it that has one, else "SSD".
fn mounted_device_kind(root: &Path, source: &str) -> String {
    let source_name = source.rsplit('/').next().unwrap_or(source);
    let device_name = std::fs::canonicalize(under(root, source))
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| source_name.to_owned());
    let class_block = under(root, "/sys/class/block");
    let sys = class_block.join(&device_name);
    let kind = classify(source_name, &transport(&device_name), rotational(&sys), "");
    if kind != "Other" {
        return kind.to_owned();
    }
    // A device with no rotational flag of its own (a stacked device): the
    // disks below it.
    let mut pending = vec![sys];
    while let Some(dir) = pending.pop() {
        for slave in dir_names(&dir.join("slaves")) {
            let slave_sys = class_block.join(&slave);
            let kind = classify(&slave, &transport(&slave), rotational(&slave_sys), "");
            if kind != "Other" {
                return kind.to_owned();
            }
            pending.push(slave_sys);
        }
    }
    "SSD".to_owned()
}

/// queue/rotational of a block device; a partition reads its disk's.
fn rotational(sys: &Path) -> Option<bool> {
    let own = read_trimmed(&sys.join("queue/rotational"));
    let flag = own.or_else(|| {
        let canonical: PathBuf = std::fs::canonicalize(sys).ok()?;
        read_trimmed(&canonical.parent()?.join("queue/rotational"))
    })?;
    match flag.as_str() {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    }
}

fn transport(name: &str) -> String {
    if name.starts_with("nvme") {
        "nvme".to_owned()
    } else {
        String::new()
    }
}

/// mlc-scripts' `_classify_disk`.
fn classify(name: &str, transport: &str, rotational: Option<bool>, model: &str) -> &'static str {
    if name.starts_with("nvme") || transport == "nvme" {
        return "NVMe SSD";
    }
    match rotational {
        Some(false) => return "SSD",
        Some(true) => return "HDD",
        None => {}
    }
    if model.to_uppercase().contains("SSD") {
        return "SSD";
    }
    let hdd_markers = ["ST", "WD", "HGST", "Toshiba", "Seagate"];
    if model.to_uppercase().contains("HDD") || hdd_markers.iter().any(|m| model.contains(m)) {
        return "HDD";
    }
    "Other"
}

/// The whole disks of /sys/block, as `lsblk -d` types them "disk": not RAM
/// disks (major 1, which lsblk hides), loop, device-mapper, md or optical.
pub(crate) fn disks(root: &Path) -> Vec<Disk> {
    let sys_block = under(root, "/sys/block");
    dir_names(&sys_block)
        .into_iter()
        .filter(|name| {
            !["loop", "dm-", "md", "sr"]
                .iter()
                .any(|p| name.starts_with(p))
        })
        .filter_map(|name| {
            let dir = sys_block.join(&name);
            if read_trimmed(&dir.join("dev")).is_some_and(|dev| dev.starts_with("1:")) {
                return None;
            }
            if read_trimmed(&dir.join("device/type")).as_deref() == Some("5") {
                return None;
            }
            let rotational = rotational(&dir);
            let model = read_trimmed(&dir.join("device/model"));
            let kind = classify(
                &name,
                &transport(&name),
                rotational,
                model.as_deref().unwrap_or(""),
            );
            Some(Disk {
                size_bytes: read_trimmed(&dir.join("size"))
                    .and_then(|s| s.parse::<u64>().ok())
                    .map(|sectors| sectors * 512),
                rotational,
                model,
                kind: kind.to_owned(),
                name,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_like_mlc() {
        assert_eq!(classify("nvme0n1", "", Some(true), ""), "NVMe SSD");
        assert_eq!(classify("sda", "", Some(false), ""), "SSD");
        assert_eq!(classify("vda", "", Some(true), ""), "HDD");
        assert_eq!(classify("sdb", "", None, "Samsung SSD 870"), "SSD");
        assert_eq!(classify("sdc", "", None, "WDC WD40"), "HDD");
        assert_eq!(classify("sdd", "", None, ""), "Other");
    }

    #[test]
    fn mount_fields_unescape() {
        assert_eq!(unescape_mount_field("/mnt/my\\040disk"), "/mnt/my disk");
        assert_eq!(unescape_mount_field("/plain"), "/plain");
    }

    #[test]
    fn filesystems_keep_devices_and_network_mounts_once() {
        let mounts = "\
proc /proc proc rw 0 0
/dev/vda / ext4 rw 0 0
tmpfs /dev/shm tmpfs rw 0 0
/dev/vda /etc/hosts ext4 rw 0 0
server:/export /mnt/data nfs4 rw 0 0
/dev/vdb /empty ext4 rw 0 0
";
        let size_of = |path: &Path| -> Option<(u64, u64)> {
            let p = path.to_string_lossy().into_owned();
            if p.ends_with("/etc/hosts") || path == Path::new("/fake") {
                Some((252 << 30, 1))
            } else if p.ends_with("/mnt/data") {
                Some((5 << 40, 2))
            } else if p.ends_with("/empty") {
                Some((0, 3))
            } else {
                None
            }
        };
        let found = filesystems(Path::new("/fake"), mounts, &size_of);
        let summary: Vec<(&str, &str, u64)> = found
            .iter()
            .map(|f| (f.mount_point.as_str(), f.kind.as_str(), f.size_bytes))
            .collect();
        // /dev/vda has no sysfs entry under /fake: mlc's fallback kind "SSD".
        assert_eq!(
            summary,
            vec![("/", "SSD", 252 << 30), ("/mnt/data", "NFS4", 5 << 40)]
        );
    }
}

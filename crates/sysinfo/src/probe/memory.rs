//! Memory: MemTotal of /proc/meminfo.

use std::path::Path;

use super::under;
use crate::MemoryInfo;

pub fn probe(root: &Path, notes: &mut Vec<String>) -> MemoryInfo {
    let path = under(root, "/proc/meminfo");
    let total_bytes = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| mem_total_bytes(&text));
    if total_bytes.is_none() {
        notes.push(format!("memory: no MemTotal in {}", path.display()));
    }
    MemoryInfo { total_bytes }
}

/// "MemTotal:       24731400 kB" -> bytes (the kernel's kB are KiB).
fn mem_total_bytes(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mem_total() {
        let text = "MemTotal:       24731400 kB\nMemFree:        1 kB\n";
        assert_eq!(mem_total_bytes(text), Some(24_731_400 * 1024));
        assert_eq!(mem_total_bytes("MemFree: 1 kB\n"), None);
    }
}

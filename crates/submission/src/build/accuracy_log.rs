//! The accuracy log in a submission: `accuracy.txt` carries the sha256 of
//! the full `mlperf_log_accuracy.json` (`hash=...`), and the tree keeps
//! only its first and last 4 KiB, as the official truncate_accuracy_log.py
//! leaves it (the checker rejects an accuracy log over 10 KiB).

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

/// What the official tool keeps of each end.
pub const VIEWABLE_BYTES: usize = 4096;
/// The largest accuracy log the checker accepts.
pub const MAX_ACCURACY_LOG_BYTES: u64 = 10 * 1024;

/// sha256 of a file, lower-case hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The log as the tree keeps it: unchanged under 4 KiB, else its first
/// and last 4 KiB around a `...` line.
pub fn truncated(full: &[u8]) -> Vec<u8> {
    if full.len() < VIEWABLE_BYTES {
        return full.to_vec();
    }
    let mut out = Vec::with_capacity(2 * VIEWABLE_BYTES + 9);
    out.extend_from_slice(&full[..VIEWABLE_BYTES]);
    out.extend_from_slice(b"\n\n...\n\n");
    out.extend_from_slice(&full[full.len() - VIEWABLE_BYTES..]);
    out
}

/// The `hash=` value of an accuracy.txt, if it has one (the checker's
/// `^hash=([\w\d]+)$`).
pub fn recorded_hash(accuracy_txt: &str) -> Option<&str> {
    accuracy_txt.lines().find_map(|line| {
        let value = line.strip_prefix("hash=")?;
        (!value.is_empty() && value.chars().all(|c| c.is_alphanumeric() || c == '_'))
            .then_some(value)
    })
}

/// accuracy.txt with `hash=<hash>` appended when it has none, as the
/// official tool appends it.
pub fn with_hash(accuracy_txt: &str, hash: &str) -> String {
    if recorded_hash(accuracy_txt).is_some() {
        return accuracy_txt.to_string();
    }
    format!("{accuracy_txt}\nhash={hash}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_log_keeps_both_ends_and_fits_the_limit() {
        let full: Vec<u8> = (0..100_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        let t = truncated(&full);
        assert_eq!(&t[..VIEWABLE_BYTES], &full[..VIEWABLE_BYTES]);
        assert_eq!(
            &t[t.len() - VIEWABLE_BYTES..],
            &full[full.len() - VIEWABLE_BYTES..]
        );
        assert_eq!(&t[VIEWABLE_BYTES..VIEWABLE_BYTES + 7], b"\n\n...\n\n");
        assert!((t.len() as u64) < MAX_ACCURACY_LOG_BYTES);
        let small = b"[\n]\n";
        assert_eq!(truncated(small), small.to_vec());
    }

    #[test]
    fn the_hash_is_appended_once() {
        let txt = "accuracy=100.000%, good=10, total=10\n";
        let once = with_hash(txt, "abc123");
        assert_eq!(
            once,
            "accuracy=100.000%, good=10, total=10\n\nhash=abc123\n"
        );
        assert_eq!(recorded_hash(&once), Some("abc123"));
        assert_eq!(with_hash(&once, "other"), once);
        assert_eq!(recorded_hash("hash=\n"), None);
    }

    #[test]
    fn sha256_of_a_known_text() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(
            sha256_file(&p).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

//! Operating system (/etc/os-release), kernel and hostname (the files behind
//! `uname`, so that a fake tree can stand in for them).

use std::path::Path;

use super::{read_trimmed, under};
use crate::OsInfo;

pub fn probe(root: &Path, notes: &mut Vec<String>) -> OsInfo {
    let os_release_path = under(root, "/etc/os-release");
    let os_release = std::fs::read_to_string(&os_release_path)
        .or_else(|_| std::fs::read_to_string(under(root, "/usr/lib/os-release")))
        .unwrap_or_default();
    if os_release.is_empty() {
        notes.push(format!("os: cannot read {}", os_release_path.display()));
    }
    let field = |key: &str| os_release_field(&os_release, key);
    let kernel_release = read_trimmed(&under(root, "/proc/sys/kernel/osrelease"));
    if kernel_release.is_none() {
        notes.push("os: no kernel release in /proc/sys/kernel/osrelease".to_owned());
    }
    OsInfo {
        id: field("ID"),
        version_id: field("VERSION_ID"),
        pretty_name: field("PRETTY_NAME"),
        kernel_release,
        kernel_version: read_trimmed(&under(root, "/proc/sys/kernel/version")),
    }
}

pub fn hostname(root: &Path, notes: &mut Vec<String>) -> Option<String> {
    let hostname = read_trimmed(&under(root, "/proc/sys/kernel/hostname"));
    if hostname.is_none() {
        notes.push("hostname: cannot read /proc/sys/kernel/hostname".to_owned());
    }
    hostname
}

/// `KEY=value` or `KEY="value"` of os-release; None when absent or empty.
fn os_release_field(text: &str, key: &str) -> Option<String> {
    let value = text
        .lines()
        .filter_map(|line| line.trim().split_once('='))
        .find(|(k, _)| k.trim() == key)?
        .1
        .trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value);
    (!value.is_empty()).then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_quoted_and_bare_fields() {
        let text = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\nID_LIKE=\n";
        assert_eq!(os_release_field(text, "ID").as_deref(), Some("debian"));
        assert_eq!(os_release_field(text, "VERSION_ID").as_deref(), Some("12"));
        assert_eq!(
            os_release_field(text, "PRETTY_NAME").as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(os_release_field(text, "ID_LIKE"), None);
        assert_eq!(os_release_field(text, "NAME"), None);
    }
}

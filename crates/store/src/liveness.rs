//! Is the process that began a run still running it?
//!
//! A run is inserted as `running` with its process id, the process's start
//! time (Linux: field 22 of `/proc/<pid>/stat`, so a recycled pid is not
//! taken for the original process) and the host name. When the store is
//! read, a `running` row whose process is gone is reported as incomplete.

use chrono::{DateTime, Duration, Utc};

/// A run on another host that has been `running` for longer than this is
/// reported incomplete: its process cannot be asked from here, and no
/// benchmark runs this long.
pub const FOREIGN_RUN_MAX_AGE: Duration = Duration::hours(48);

/// This host's name (empty if the system will not say).
pub fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for `buf.len()` bytes; gethostname writes
    // at most that many and we read only up to the first NUL.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// The start time of process `pid` in clock ticks since boot (Linux), or
/// `None` where unknown.
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces:
    // count fields after its closing parenthesis. Field 3 is the state,
    // field 22 the start time.
    let after = stat.rsplit_once(')')?.1;
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Whether `pid` is a live (not zombie) process on this host, and, when
/// `start` is known, the same process that was recorded.
pub fn process_alive(pid: u32, start: Option<u64>) -> bool {
    let Ok(pid_t) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid_t <= 0 {
        return false;
    }
    if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        let mut fields = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace())
            .into_iter()
            .flatten();
        // A zombie has exited; only its exit status is left to collect.
        if fields.next() == Some("Z") {
            return false;
        }
        return match (start, process_start(pid)) {
            (Some(recorded), Some(now)) => recorded == now,
            _ => true,
        };
    }
    if std::path::Path::new("/proc/self/stat").exists() {
        // procfs is mounted and has no entry for the pid: it is gone.
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists and may be
    // signalled; nothing is sent.
    let rc = unsafe { libc::kill(pid_t, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Whether a row still marked `running` really is: begun on this host by a
/// process that is alive, or begun elsewhere recently.
pub fn still_running(
    pid: Option<u32>,
    pid_start: Option<u64>,
    host: Option<&str>,
    started_at: DateTime<Utc>,
    this_host: &str,
    now: DateTime<Utc>,
) -> bool {
    match (pid, host) {
        (Some(pid), Some(h)) if h == this_host => process_alive(pid, pid_start),
        (_, Some(_)) => now - started_at < FOREIGN_RUN_MAX_AGE,
        // Put with status running but no process (an import of a record
        // whose run never finished): nothing is running it.
        (_, None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_pid_reuse_is_caught() {
        let me = std::process::id();
        let start = process_start(me);
        assert!(start.is_some(), "/proc/self/stat has a start time");
        assert!(process_alive(me, start));
        assert!(process_alive(me, None));
        assert!(!process_alive(me, start.map(|s| s + 1)));
        assert!(!process_alive(0, None));
        assert!(!host_name().is_empty());
    }

    #[test]
    fn a_reaped_child_is_not_alive() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!process_alive(pid, None));
    }

    #[test]
    fn foreign_runs_expire() {
        let now = Utc::now();
        let old = now - Duration::hours(49);
        assert!(still_running(
            Some(1),
            None,
            Some("elsewhere"),
            now,
            "here",
            now
        ));
        assert!(!still_running(
            Some(1),
            None,
            Some("elsewhere"),
            old,
            "here",
            now
        ));
        assert!(!still_running(None, None, None, now, "here", now));
    }
}

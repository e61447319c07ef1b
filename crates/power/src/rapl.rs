//! Linux RAPL through the powercap sysfs tree: the package and DRAM
//! domains' energy counters, wrap-around undone.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::sampler::{PolledSource, Reading};
use crate::PowerError;

/// Where the kernel publishes powercap zones.
pub const DEFAULT_POWERCAP_ROOT: &str = "/sys/class/powercap";

/// One RAPL zone whose counter is summed into the total.
#[derive(Debug)]
struct Domain {
    /// `package-0`, `dram`, ...
    name: String,
    energy_file: PathBuf,
    /// The counter wraps to 0 after this many microjoules.
    max_range_uj: u64,
    last_raw_uj: Option<u64>,
}

/// The CPU packages' and DRAM's energy from RAPL. Core (and uncore) zones
/// lie inside their package, so they are listed but not added again.
#[derive(Debug)]
pub struct RaplSource {
    root: PathBuf,
    summed: Vec<Domain>,
    /// Zones inside a package, named for the description only.
    contained: Vec<String>,
    total_uj: u128,
}

impl RaplSource {
    /// Finds the RAPL zones under `root` (normally
    /// [`DEFAULT_POWERCAP_ROOT`]; a test points it at a fake tree) and
    /// checks that their counters can be read.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, PowerError> {
        let root = root.into();
        let entries = std::fs::read_dir(&root).map_err(|e| match e.kind() {
            ErrorKind::NotFound => unavailable(format!(
                "{} does not exist (no powercap driver: not Linux, a VM or a container without it)",
                root.display()
            )),
            ErrorKind::PermissionDenied => PowerError::Unreadable {
                path: root.clone(),
                source: e,
            },
            _ => PowerError::Io {
                path: root.clone(),
                source: e,
            },
        })?;
        let mut zones: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| is_rapl_zone(p))
            .collect();
        zones.sort();
        let mut summed = Vec::new();
        let mut contained = Vec::new();
        for zone in zones {
            let name = read_text(&zone.join("name"))?;
            if name.starts_with("package") || name == "dram" {
                let energy_file = zone.join("energy_uj");
                let max_range_uj = read_u64(&zone.join("max_energy_range_uj"))?;
                summed.push(Domain {
                    name,
                    energy_file,
                    max_range_uj,
                    last_raw_uj: None,
                });
            } else {
                // core, uncore, psys: inside a package or overlapping it.
                contained.push(name);
            }
        }
        if summed.is_empty() {
            return Err(unavailable(format!(
                "no RAPL package or dram zone under {}",
                root.display()
            )));
        }
        let mut source = RaplSource {
            root,
            summed,
            contained,
            total_uj: 0,
        };
        // Reads every counter once: an unreadable energy_uj (root-only on
        // most kernels) is reported here, before any run.
        source.read()?;
        Ok(source)
    }

    /// The zones summed into the total, e.g. `["package-0", "dram"]`.
    pub fn domains(&self) -> Vec<&str> {
        self.summed.iter().map(|d| d.name.as_str()).collect()
    }
}

impl PolledSource for RaplSource {
    fn describe(&self) -> String {
        let mut s = format!("rapl: {}", self.domains().join(" + "));
        if !self.contained.is_empty() {
            s.push_str(&format!(" (not added: {})", self.contained.join(", ")));
        }
        if self.root != Path::new(DEFAULT_POWERCAP_ROOT) {
            s.push_str(&format!(" under {}", self.root.display()));
        }
        s
    }

    fn read(&mut self) -> Result<Reading, PowerError> {
        for domain in &mut self.summed {
            let raw = read_u64(&domain.energy_file)?;
            if let Some(last) = domain.last_raw_uj {
                self.total_uj += u128::from(counter_delta(last, raw, domain.max_range_uj));
            }
            domain.last_raw_uj = Some(raw);
        }
        Ok(Reading {
            watts: None,
            energy_joules: Some(self.total_uj as f64 / 1e6),
            ..Reading::default()
        })
    }
}

/// Microjoules from `last` to `now` of a counter that wraps to 0 after
/// `max_range`: a smaller `now` means it wrapped once (at 10 Hz a wrap
/// takes hours, so more than one between reads cannot happen).
fn counter_delta(last: u64, now: u64, max_range: u64) -> u64 {
    if now >= last {
        now - last
    } else {
        max_range.saturating_sub(last) + now
    }
}

fn is_rapl_zone(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("intel-rapl:") || n.starts_with("amd-rapl:"))
}

fn unavailable(reason: String) -> PowerError {
    PowerError::Unavailable {
        source_name: "rapl".into(),
        reason,
    }
}

fn read_text(path: &Path) -> Result<String, PowerError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|e| match e.kind() {
            ErrorKind::PermissionDenied => PowerError::Unreadable {
                path: path.to_path_buf(),
                source: e,
            },
            _ => PowerError::Io {
                path: path.to_path_buf(),
                source: e,
            },
        })
}

fn read_u64(path: &Path) -> Result<u64, PowerError> {
    let text = read_text(path)?;
    text.parse().map_err(|_| PowerError::Malformed {
        path: path.to_path_buf(),
        content: text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PowerMeter, Sampler};

    fn zone(root: &Path, dir: &str, name: &str, energy: u64, max: u64) {
        let z = root.join(dir);
        std::fs::create_dir_all(&z).unwrap();
        std::fs::write(z.join("name"), format!("{name}\n")).unwrap();
        std::fs::write(z.join("energy_uj"), format!("{energy}\n")).unwrap();
        std::fs::write(z.join("max_energy_range_uj"), format!("{max}\n")).unwrap();
    }

    /// Replaces the counter file atomically, as the kernel's read is: the
    /// sampler never sees it half written.
    fn set_energy(root: &Path, dir: &str, energy: u64) {
        let tmp = root.join(dir).join("energy_uj.tmp");
        std::fs::write(&tmp, format!("{energy}\n")).unwrap();
        std::fs::rename(tmp, root.join(dir).join("energy_uj")).unwrap();
    }

    #[test]
    fn a_counter_that_wraps_mid_run_gives_the_right_joules() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // package-0 wraps at 1 J; dram does not wrap; core is inside the
        // package and must not be added.
        zone(root, "intel-rapl:0", "package-0", 700_000, 1_000_000);
        zone(root, "intel-rapl:0:0", "core", 5, 1_000_000);
        zone(root, "intel-rapl:0:1", "dram", 10_000_000, 262_143_328_850);
        std::fs::create_dir(root.join("intel-rapl")).unwrap(); // the control type, not a zone

        let mut rapl = RaplSource::open(root).unwrap();
        assert_eq!(rapl.domains(), vec!["package-0", "dram"]);
        assert!(rapl.describe().contains("not added: core"));
        // open() read once: the origin. Then the package goes
        // 700_000 -> 950_000 -> (wrap) 150_000 -> 400_000:
        // 250_000 + (50_000 + 150_000) + 250_000 = 700_000 uJ,
        // and dram 10.0 J -> 10.3 J: 300_000 uJ.
        set_energy(root, "intel-rapl:0", 950_000);
        set_energy(root, "intel-rapl:0:0", 999);
        set_energy(root, "intel-rapl:0:1", 10_100_000);
        assert_eq!(rapl.read().unwrap().energy_joules, Some(0.35));
        set_energy(root, "intel-rapl:0", 150_000);
        set_energy(root, "intel-rapl:0:1", 10_200_000);
        rapl.read().unwrap();
        set_energy(root, "intel-rapl:0", 400_000);
        set_energy(root, "intel-rapl:0:1", 10_300_000);
        let total = rapl.read().unwrap().energy_joules.unwrap();
        assert!((total - 1.0).abs() < 1e-12, "{total}");
    }

    #[test]
    fn the_sampler_over_a_wrapping_tree_counts_each_joule_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        zone(&root, "intel-rapl:0", "package-0", 900_000, 1_000_000);
        let mut meter = Sampler::new(Box::new(RaplSource::open(&root).unwrap()), 200.0);
        meter.start().unwrap();
        // Step the counter while the sampler reads it: +50 mJ each 20 ms,
        // 60 steps = 3 J, wrapping three times.
        let mut raw = 900_000u64;
        for _ in 0..60 {
            std::thread::sleep(std::time::Duration::from_millis(20));
            raw = (raw + 50_000) % 1_000_000;
            set_energy(&root, "intel-rapl:0", raw);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        let trace = meter.stop().unwrap();
        let joules = trace.counter_joules.unwrap();
        assert!((joules - 3.0).abs() < 1e-9, "{joules} J");
        // Power derived from the counter: about 2.5 W on average.
        assert!(!trace.samples.is_empty());
        assert!(trace.samples.iter().all(|s| s.watts >= 0.0));
    }

    #[test]
    fn missing_and_unreadable_trees_say_why() {
        let dir = tempfile::tempdir().unwrap();
        let err = RaplSource::open(dir.path().join("nope")).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        let err = RaplSource::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains("no RAPL package"), "{err}");
        zone(dir.path(), "intel-rapl:0", "package-0", 1, 10);
        set_energy(dir.path(), "intel-rapl:0", 0);
        std::fs::write(dir.path().join("intel-rapl:0/energy_uj"), "n/a").unwrap();
        let err = RaplSource::open(dir.path()).unwrap_err();
        assert!(matches!(err, PowerError::Malformed { .. }), "{err}");
    }

    #[test]
    fn wrap_delta() {
        assert_eq!(counter_delta(10, 30, 100), 20);
        assert_eq!(counter_delta(90, 5, 100), 15);
        assert_eq!(counter_delta(7, 7, 100), 0);
    }
}

//! The sweep: one point per GPU count, the benchmark command started with
//! that many GPUs visible, its run records collected from the point's
//! folder and tagged as the point.
//!
//! The command is any program: `yardstick run ...`, a Python harness on
//! `yardstick.loadgen`, a native workload. What it is told, per point:
//!
//! | variable | value |
//! | --- | --- |
//! | `CUDA_VISIBLE_DEVICES` | the first `n` GPUs (of the caller's own `CUDA_VISIBLE_DEVICES` if set, else `0..n-1`) |
//! | `YARDSTICK_SCALE_GPUS` | `n` |
//! | `YARDSTICK_SCALE_DIR` | the point's folder: write the logs (and `run.json`) under it |
//! | `YARDSTICK_RECORD=1`, `YARDSTICK_RECORD_STORE=0` | the Python module records each test as `run.json` beside its logs, and leaves the store to the sweep |
//! | `NCCL_NVLS_ENABLE=0`, `TORCH_SYMM_MEM_DISABLE_MULTICAST=1`, `NVSHMEM_DISABLE_NVLS=1` | NVLink multicast off, always |
//!
//! `{gpus}` and `{dir}` in the command's arguments are replaced by the same
//! values, so `-o {dir}` or `--logs {dir}` points a harness there.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

use yardstick_record::{GroupRef, RunRecord};

use crate::summary::{ScaleTag, COLLECTIVES_KEY, SCALE_KEY};
use crate::CollectiveResult;

#[derive(Debug, thiserror::Error)]
pub enum ScaleError {
    #[error("bad GPU count {text:?} in --gpus (counts are positive integers: 1,2,4,8)")]
    BadCount {
        text: String,
        #[source]
        source: Option<std::num::ParseIntError>,
    },
    #[error("--gpus names no count")]
    NoCounts,
    #[error("cannot start {program}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the run record {path}")]
    Record {
        path: PathBuf,
        #[source]
        source: yardstick_record::RecordError,
    },
    #[error("the collective probe's output is not what it should write")]
    ProbeOutput(#[source] serde_json::Error),
}

/// NVLink multicast stays off in everything the sweep starts: a program
/// that uses it can put a shared host's GPUs out of service.
pub const MULTICAST_OFF: [(&str, &str); 3] = [
    ("NCCL_NVLS_ENABLE", "0"),
    ("TORCH_SYMM_MEM_DISABLE_MULTICAST", "1"),
    ("NVSHMEM_DISABLE_NVLS", "1"),
];

/// The GPU counts of a sweep, increasing, without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuCounts(pub Vec<u32>);

impl GpuCounts {
    /// `1,2,4,8`.
    pub fn parse(text: &str) -> Result<GpuCounts, ScaleError> {
        let mut counts = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let n: u32 = part.parse().map_err(|e| ScaleError::BadCount {
                text: part.to_string(),
                source: Some(e),
            })?;
            if n == 0 {
                return Err(ScaleError::BadCount {
                    text: part.to_string(),
                    source: None,
                });
            }
            counts.push(n);
        }
        if counts.is_empty() {
            return Err(ScaleError::NoCounts);
        }
        counts.sort_unstable();
        counts.dedup();
        Ok(GpuCounts(counts))
    }

    /// The counts that fit `available` GPUs, and those skipped.
    pub fn split(&self, available: u32) -> (Vec<u32>, Vec<u32>) {
        self.0.iter().partition(|&&n| n <= available)
    }
}

/// The devices a point of `gpus` GPUs sees: the first `gpus` of the
/// caller's `CUDA_VISIBLE_DEVICES` (`inherited`) if it names any, else
/// `0..gpus-1`.
pub fn visible_devices(gpus: u32, inherited: Option<&str>) -> String {
    let listed: Vec<&str> = inherited
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if listed.is_empty() {
        (0..gpus)
            .map(|g| g.to_string())
            .collect::<Vec<_>>()
            .join(",")
    } else {
        listed
            .iter()
            .take(gpus as usize)
            .copied()
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// One point of the sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub gpus: u32,
    pub visible_devices: String,
    pub dir: PathBuf,
}

impl Point {
    pub fn new(gpus: u32, output: &Path, inherited_devices: Option<&str>) -> Point {
        Point {
            gpus,
            visible_devices: visible_devices(gpus, inherited_devices),
            dir: output.join(format!("gpus-{gpus}")),
        }
    }

    /// The environment the point's programs get (on top of the caller's).
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            (
                "CUDA_VISIBLE_DEVICES".to_string(),
                self.visible_devices.clone(),
            ),
            ("YARDSTICK_SCALE_GPUS".into(), self.gpus.to_string()),
            ("YARDSTICK_SCALE_DIR".into(), self.dir.display().to_string()),
            ("YARDSTICK_RECORD".into(), "1".into()),
            ("YARDSTICK_RECORD_STORE".into(), "0".into()),
        ];
        env.extend(
            MULTICAST_OFF
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string())),
        );
        env
    }

    /// `{gpus}` and `{dir}` replaced in each argument.
    pub fn substitute(&self, args: &[String]) -> Vec<String> {
        let dir = self.dir.display().to_string();
        args.iter()
            .map(|a| {
                a.replace("{gpus}", &self.gpus.to_string())
                    .replace("{dir}", &dir)
            })
            .collect()
    }

    /// Runs `command` (program and arguments, placeholders replaced) in
    /// this point's environment; stdout and stderr pass through.
    pub fn run(&self, command: &[String]) -> Result<ExitStatus, ScaleError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| ScaleError::Io {
            path: self.dir.clone(),
            source: e,
        })?;
        let command = self.substitute(command);
        let (program, args) = command.split_first().ok_or(ScaleError::NoCounts)?;
        Command::new(program)
            .args(args)
            .envs(self.env())
            .status()
            .map_err(|e| ScaleError::Spawn {
                program: program.clone(),
                source: e,
            })
    }

    /// Every `run.json` under the point's folder, oldest first.
    pub fn records(&self) -> Result<Vec<(PathBuf, RunRecord)>, ScaleError> {
        let mut files = Vec::new();
        find_run_json(&self.dir, &mut files)?;
        let mut out = Vec::new();
        for path in files {
            let record = yardstick_record::read_record(&path).map_err(|e| ScaleError::Record {
                path: path.clone(),
                source: e,
            })?;
            out.push((path, record));
        }
        out.sort_by_key(|(_, r)| r.started_at);
        Ok(out)
    }

    /// Marks `record` as a run of this point: its scale tag, the sweep's
    /// group, the collective bandwidths if the probe ran.
    pub fn tag(&self, record: &mut RunRecord, group: GroupRef, collectives: &[CollectiveResult]) {
        let tag = ScaleTag {
            gpus: self.gpus,
            visible_devices: self.visible_devices.clone(),
        };
        if let Ok(v) = serde_json::to_value(tag) {
            record.extra.insert(SCALE_KEY.into(), v);
        }
        if !collectives.is_empty() {
            if let Ok(v) = serde_json::to_value(collectives) {
                record.extra.insert(COLLECTIVES_KEY.into(), v);
            }
        }
        record.group = Some(group);
    }
}

fn find_run_json(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ScaleError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(ScaleError::Io {
                path: dir.to_path_buf(),
                source: e,
            })
        }
    };
    for entry in entries {
        let entry = entry.map_err(|e| ScaleError::Io {
            path: dir.to_path_buf(),
            source: e,
        })?;
        let path = entry.path();
        if path.is_dir() {
            find_run_json(&path, out)?;
        } else if path
            .file_name()
            .is_some_and(|n| n == yardstick_record::RUN_JSON)
        {
            out.push(path);
        }
    }
    Ok(())
}

/// The probe's command line: `python probe.py --out FILE` plus the sizes
/// and iteration counts.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeSpec {
    pub python: String,
    pub min_bytes: u64,
    pub max_bytes: u64,
    pub step_factor: u32,
    pub warmup: u32,
    pub iterations: u32,
}

impl ProbeSpec {
    /// Writes the probe script into the point's folder and runs it there
    /// with the point's GPUs (one process per GPU, started by the probe);
    /// returns its exit status and the output file it was told to write.
    pub fn run(&self, point: &Point) -> Result<(ExitStatus, PathBuf), ScaleError> {
        std::fs::create_dir_all(&point.dir).map_err(|e| ScaleError::Io {
            path: point.dir.clone(),
            source: e,
        })?;
        let script = point.dir.join("collectives_probe.py");
        std::fs::write(&script, crate::collectives::PROBE_SCRIPT).map_err(|e| ScaleError::Io {
            path: script.clone(),
            source: e,
        })?;
        let out = point.dir.join("collectives.json");
        let status = Command::new(&self.python)
            .arg(&script)
            .args(self.args(&out))
            .envs(point.env())
            .status()
            .map_err(|e| ScaleError::Spawn {
                program: self.python.clone(),
                source: e,
            })?;
        Ok((status, out))
    }

    pub fn args(&self, out: &Path) -> Vec<String> {
        vec![
            "--out".into(),
            out.display().to_string(),
            "--min-bytes".into(),
            self.min_bytes.to_string(),
            "--max-bytes".into(),
            self.max_bytes.to_string(),
            "--step-factor".into(),
            self.step_factor.to_string(),
            "--warmup".into(),
            self.warmup.to_string(),
            "--iters".into(),
            self.iterations.to_string(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_parse_sorted_and_split_by_what_the_machine_has() {
        let c = GpuCounts::parse("8, 1,2,4,2").unwrap();
        assert_eq!(c.0, vec![1, 2, 4, 8]);
        assert_eq!(c.split(2), (vec![1, 2], vec![4, 8]));
        assert_eq!(c.split(0), (vec![], vec![1, 2, 4, 8]));
        assert!(matches!(
            GpuCounts::parse("1,x"),
            Err(ScaleError::BadCount { .. })
        ));
        assert!(matches!(
            GpuCounts::parse("0"),
            Err(ScaleError::BadCount { .. })
        ));
        assert!(matches!(GpuCounts::parse(" , "), Err(ScaleError::NoCounts)));
    }

    #[test]
    fn a_point_sees_the_first_n_gpus_and_multicast_is_off() {
        assert_eq!(visible_devices(2, None), "0,1");
        assert_eq!(visible_devices(2, Some("4,5,6")), "4,5");
        assert_eq!(visible_devices(1, Some("")), "0");
        let p = Point::new(4, Path::new("/tmp/sweep"), None);
        let env = p.env();
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("CUDA_VISIBLE_DEVICES"), Some("0,1,2,3"));
        assert_eq!(get("NCCL_NVLS_ENABLE"), Some("0"));
        assert_eq!(get("TORCH_SYMM_MEM_DISABLE_MULTICAST"), Some("1"));
        assert_eq!(get("NVSHMEM_DISABLE_NVLS"), Some("1"));
        assert_eq!(get("YARDSTICK_RECORD"), Some("1"));
        assert_eq!(get("YARDSTICK_SCALE_DIR"), Some("/tmp/sweep/gpus-4"));
        assert_eq!(
            p.substitute(&["--logs".into(), "{dir}/x".into(), "n={gpus}".into()]),
            vec!["--logs", "/tmp/sweep/gpus-4/x", "n=4"]
        );
    }
}

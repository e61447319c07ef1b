//! Compliance test outputs (`yardstick audit`, or the official
//! run_verification.py): TESTxx folders copied as they are into the
//! result they belong to.

use std::path::{Path, PathBuf};

use yardstick_formats::mllog;

/// The LoadGen scenarios a result folder may be named after.
const SCENARIOS: &[&str] = &[
    "SingleStream",
    "MultiStream",
    "Server",
    "Offline",
    "Interactive",
];

/// One `--compliance` argument: a TESTxx folder or a folder holding
/// TESTxx folders, for a result named explicitly or found from the logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplianceInput {
    /// (benchmark, scenario), when given (`resnet50/Offline=DIR`).
    pub target: Option<(String, String)>,
    pub dir: PathBuf,
}

impl ComplianceInput {
    /// `DIR` or `BENCHMARK/SCENARIO=DIR`.
    pub fn parse(arg: &str) -> Self {
        if let Some((target, dir)) = arg.split_once('=') {
            if let Some((benchmark, scenario)) = target.split_once('/') {
                if !benchmark.is_empty() && SCENARIOS.contains(&scenario) {
                    return ComplianceInput {
                        target: Some((benchmark.to_string(), scenario.to_string())),
                        dir: PathBuf::from(dir),
                    };
                }
            }
        }
        ComplianceInput {
            target: None,
            dir: PathBuf::from(arg),
        }
    }
}

fn is_test_name(name: &str) -> bool {
    name.len() > 4 && name.starts_with("TEST") && name[4..].chars().all(|c| c.is_ascii_digit())
}

/// The TESTxx folders `dir` names: itself, or its children, sorted.
pub fn test_dirs(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    if dir
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(is_test_name)
    {
        return Ok(vec![dir.to_path_buf()]);
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir()
            && path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(is_test_name)
        {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// The `effective_scenario` of the first `mlperf_log_detail.txt` under
/// `dir` (depth first, sorted), if any.
pub fn logged_scenario(dir: &Path) -> Option<String> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    let detail = dir.join("mlperf_log_detail.txt");
    if let Ok(text) = std::fs::read_to_string(&detail) {
        for line in text.lines() {
            let Some((_, body)) = mllog::split_line(line) else {
                continue;
            };
            let Ok(record) = mllog::parse_record(body) else {
                continue;
            };
            if record.key() == Some("effective_scenario") {
                return record.value().as_str().map(str::to_string);
            }
        }
    }
    entries
        .iter()
        .filter(|p| p.is_dir())
        .find_map(|p| logged_scenario(p))
}

/// Copies `src` into `dst` (created), recursively; returns the number of
/// files copied.
pub fn copy_tree(src: &Path, dst: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dst)?;
    let mut copied = 0;
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copied += copy_tree(&from, &to)?;
        } else {
            std::fs::copy(&from, &to)?;
            copied += 1;
        }
    }
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_name_a_result_or_not() {
        assert_eq!(
            ComplianceInput::parse("resnet50/Offline=out/audit"),
            ComplianceInput {
                target: Some(("resnet50".into(), "Offline".into())),
                dir: PathBuf::from("out/audit"),
            }
        );
        // Only a LoadGen scenario after the slash names a result.
        assert_eq!(ComplianceInput::parse("out/a=b").target, None);
        assert_eq!(
            ComplianceInput::parse("out/a=b").dir,
            PathBuf::from("out/a=b")
        );
        assert_eq!(
            ComplianceInput::parse("out/audit").dir,
            PathBuf::from("out/audit")
        );
    }

    #[test]
    fn test_folders_and_their_scenario_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("TEST04/performance/run_1");
        std::fs::create_dir_all(&run).unwrap();
        std::fs::create_dir_all(dir.path().join("notes")).unwrap();
        std::fs::write(
            run.join("mlperf_log_detail.txt"),
            ":::MLLOG {\"key\": \"effective_scenario\", \"value\": \"Server\", \"time_ms\": 0.1, \"namespace\": \"mlperf::logging\", \"event_type\": \"POINT_IN_TIME\", \"metadata\": {}}\n",
        )
        .unwrap();
        let tests = test_dirs(dir.path()).unwrap();
        assert_eq!(tests, vec![dir.path().join("TEST04")]);
        assert_eq!(test_dirs(&tests[0]).unwrap(), tests);
        assert_eq!(logged_scenario(&tests[0]).as_deref(), Some("Server"));
        let copy = dir.path().join("copy");
        assert_eq!(copy_tree(&tests[0], &copy).unwrap(), 1);
        assert!(copy
            .join("performance/run_1/mlperf_log_detail.txt")
            .is_file());
    }
}

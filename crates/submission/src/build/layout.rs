//! Where each file of a result goes, round by round. The official
//! submission checker (mlcommons/inference tools/submission) reads v5.1
//! trees with `measurements/`, `compliance/` and `code/` beside `results/`;
//! from v6.0 on, the measurements and the compliance TESTxx folders sit in
//! the result's own scenario folder and the code folder is `src/`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// An MLPerf Inference round whose tree layout `build` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Round {
    V5_1,
    #[default]
    V6_0,
}

impl Round {
    pub fn as_str(self) -> &'static str {
        match self {
            Round::V5_1 => "v5.1",
            Round::V6_0 => "v6.0",
        }
    }

    /// `results/<system>/<benchmark>/<scenario>`: the logs' home.
    pub fn scenario_dir(
        self,
        root: &Path,
        system: &str,
        benchmark: &str,
        scenario: &str,
    ) -> PathBuf {
        root.join("results")
            .join(system)
            .join(benchmark)
            .join(scenario)
    }

    /// The folder of measurements JSON, user.conf, mlperf.conf and README.md.
    pub fn measurements_dir(
        self,
        root: &Path,
        system: &str,
        benchmark: &str,
        scenario: &str,
    ) -> PathBuf {
        match self {
            Round::V5_1 => root
                .join("measurements")
                .join(system)
                .join(benchmark)
                .join(scenario),
            Round::V6_0 => self.scenario_dir(root, system, benchmark, scenario),
        }
    }

    /// The measurements JSON's name: v5.1's checker takes the first file
    /// that starts with the system name and ends with `_<scenario>.json`.
    pub fn measurements_file(self, system: &str, scenario: &str) -> String {
        match self {
            Round::V5_1 => format!("{system}_{scenario}.json"),
            Round::V6_0 => "measurements.json".to_string(),
        }
    }

    /// The folder holding the TESTxx folders of one result.
    pub fn compliance_dir(
        self,
        root: &Path,
        system: &str,
        benchmark: &str,
        scenario: &str,
    ) -> PathBuf {
        match self {
            Round::V5_1 => root
                .join("compliance")
                .join(system)
                .join(benchmark)
                .join(scenario),
            Round::V6_0 => self.scenario_dir(root, system, benchmark, scenario),
        }
    }

    /// `code/<benchmark>` (v5.1) or `src/<benchmark>` (v6.0).
    pub fn code_dir(self, root: &Path, benchmark: &str) -> PathBuf {
        match self {
            Round::V5_1 => root.join("code").join(benchmark),
            Round::V6_0 => root.join("src").join(benchmark),
        }
    }

    /// `systems/<system>.json`.
    pub fn system_file(self, root: &Path, system: &str) -> PathBuf {
        root.join("systems").join(format!("{system}.json"))
    }
}

impl fmt::Display for Round {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A round `build` cannot lay out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown round {0:?}: v5.1 or v6.0")]
pub struct UnknownRound(pub String);

impl FromStr for Round {
    type Err = UnknownRound;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().trim_start_matches(['v', 'V']) {
            "5.1" => Ok(Round::V5_1),
            "6.0" | "6" => Ok(Round::V6_0),
            _ => Err(UnknownRound(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v6_keeps_measurements_and_compliance_in_the_scenario_folder() {
        let root = Path::new("closed/Acme");
        let r = Round::V6_0;
        let scenario = r.scenario_dir(root, "box", "resnet50", "Offline");
        assert_eq!(
            scenario,
            Path::new("closed/Acme/results/box/resnet50/Offline")
        );
        assert_eq!(
            r.measurements_dir(root, "box", "resnet50", "Offline"),
            scenario
        );
        assert_eq!(
            r.compliance_dir(root, "box", "resnet50", "Offline"),
            scenario
        );
        assert_eq!(
            r.code_dir(root, "resnet50"),
            Path::new("closed/Acme/src/resnet50")
        );
        assert_eq!(r.measurements_file("box", "Offline"), "measurements.json");
    }

    #[test]
    fn v5_1_has_measurements_compliance_and_code_beside_results() {
        let root = Path::new("closed/Acme");
        let r = Round::V5_1;
        assert_eq!(
            r.measurements_dir(root, "box", "resnet50", "Offline"),
            Path::new("closed/Acme/measurements/box/resnet50/Offline")
        );
        assert_eq!(
            r.compliance_dir(root, "box", "resnet50", "Offline"),
            Path::new("closed/Acme/compliance/box/resnet50/Offline")
        );
        assert_eq!(
            r.code_dir(root, "resnet50"),
            Path::new("closed/Acme/code/resnet50")
        );
        assert_eq!(r.measurements_file("box", "Offline"), "box_Offline.json");
    }

    #[test]
    fn rounds_parse_with_or_without_v() {
        assert_eq!("v5.1".parse::<Round>(), Ok(Round::V5_1));
        assert_eq!("6.0".parse::<Round>(), Ok(Round::V6_0));
        assert!("v4.1".parse::<Round>().is_err());
    }
}

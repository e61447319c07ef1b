//! The four MLPerf scenarios and the test modes, named as LoadGen names them.

use std::fmt;
use std::str::FromStr;

/// How queries arrive at the system under test.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum Scenario {
    /// One sample per query; the next query is issued when the previous completes.
    #[default]
    SingleStream,
    /// `samples_per_query` contiguous samples per query, issued back to back.
    MultiStream,
    /// One sample per query on a Poisson schedule at `target_qps`.
    Server,
    /// Every sample in one query at the start.
    Offline,
}

impl Scenario {
    pub const ALL: [Scenario; 4] = [
        Scenario::SingleStream,
        Scenario::MultiStream,
        Scenario::Server,
        Scenario::Offline,
    ];

    /// The name LoadGen prints ("SingleStream", ...), also used in config keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::SingleStream => "SingleStream",
            Scenario::MultiStream => "MultiStream",
            Scenario::Server => "Server",
            Scenario::Offline => "Offline",
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a scenario or a mode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{name}` (expected one of: {expected})")]
pub struct UnknownName {
    pub what: &'static str,
    pub name: String,
    pub expected: &'static str,
}

impl FromStr for Scenario {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm: String = s
            .chars()
            .filter(|c| *c != ' ' && *c != '-' && *c != '_')
            .collect();
        Scenario::ALL
            .into_iter()
            .find(|sc| sc.as_str().eq_ignore_ascii_case(&norm))
            .ok_or_else(|| UnknownName {
                what: "scenario",
                name: s.to_string(),
                expected: "SingleStream, MultiStream, Server, Offline",
            })
    }
}

/// What a test measures.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum Mode {
    /// Accuracy then performance.
    SubmissionRun,
    /// Every sample of the accuracy set once; responses logged.
    AccuracyOnly,
    /// Timed run on the performance sample set.
    #[default]
    PerformanceOnly,
    /// Server only: search for the highest target QPS that stays VALID.
    FindPeakPerformance,
}

impl Mode {
    pub const ALL: [Mode; 4] = [
        Mode::SubmissionRun,
        Mode::AccuracyOnly,
        Mode::PerformanceOnly,
        Mode::FindPeakPerformance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::SubmissionRun => "SubmissionRun",
            Mode::AccuracyOnly => "AccuracyOnly",
            Mode::PerformanceOnly => "PerformanceOnly",
            Mode::FindPeakPerformance => "FindPeakPerformance",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm: String = s
            .chars()
            .filter(|c| *c != ' ' && *c != '-' && *c != '_')
            .collect();
        let alias = match norm.to_ascii_lowercase().as_str() {
            "performance" | "perf" => Some(Mode::PerformanceOnly),
            "accuracy" => Some(Mode::AccuracyOnly),
            "submission" => Some(Mode::SubmissionRun),
            "findpeak" | "findpeakperformance" => Some(Mode::FindPeakPerformance),
            _ => None,
        };
        alias
            .or_else(|| Mode::ALL.into_iter().find(|m| m.as_str().eq_ignore_ascii_case(&norm)))
            .ok_or_else(|| UnknownName {
                what: "mode",
                name: s.to_string(),
                expected: "PerformanceOnly (performance), AccuracyOnly (accuracy), SubmissionRun (submission), FindPeakPerformance (find-peak)",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Scenario::ALL {
            assert_eq!(s.as_str().parse::<Scenario>().unwrap(), s);
        }
        for m in Mode::ALL {
            assert_eq!(m.as_str().parse::<Mode>().unwrap(), m);
        }
        assert_eq!(
            "single-stream".parse::<Scenario>().unwrap(),
            Scenario::SingleStream
        );
        assert_eq!("submission".parse::<Mode>().unwrap(), Mode::SubmissionRun);
        assert!("bogus".parse::<Scenario>().is_err());
    }
}

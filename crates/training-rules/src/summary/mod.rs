//! The result summarizer's score, as mlperf-logging 4.1.68's
//! `result_summarizer` computes it (training, strong scaling):
//!
//! - a run counts when its log passes the compliance checker; its
//!   time-to-train is `(run_stop - run_start) / 60 / 1000` minutes, from
//!   the timestamps of the first `run_start`/`run_stop` pair the loop over
//!   the log finds (a `run_stop` status is not looked at);
//! - non-compliant runs are dropped; more than the allowed number (1; 4 for
//!   unet3d) means no score;
//! - the olympic mean sorts the counted runs, drops the fastest `k` and the
//!   slowest `k - dropped`, and averages the rest (Python's left-to-right
//!   `sum`);
//! - the score is that mean times the set's `scaling.json` factor (1.0 when
//!   there is none).

use crate::compliance::mllog;
use crate::rcp;

pub mod rows;

/// Why a run is not counted (the summarizer's `ValueError`s).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Dropped {
    /// "Compliance check failed"
    NotCompliant,
    /// "run_start not recorded"
    NoRunStart,
    /// "run_stop not recorded"
    NoRunStop,
}

impl Dropped {
    /// The summarizer's message.
    pub fn message(&self) -> &'static str {
        match self {
            Dropped::NotCompliant => "Compliance check failed",
            Dropped::NoRunStart => "run_start not recorded",
            Dropped::NoRunStop => "run_stop not recorded",
        }
    }
}

/// One run of a set.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunScore {
    /// The result file's name, e.g. `result_0.txt`.
    pub file: String,
    /// Time-to-train in minutes, when counted.
    pub minutes: Option<f64>,
    pub dropped: Option<Dropped>,
}

/// `run_start`/`run_stop` as the summarizer's loop takes them: each key
/// updates its timestamp until both have been seen.
pub fn run_start_stop(lines: &[mllog::LogLine]) -> Result<(f64, f64), Dropped> {
    let (mut start, mut stop) = (None, None);
    for line in lines {
        match line.key.as_deref() {
            Some("run_start") => start = Some(line.timestamp),
            Some("run_stop") => stop = Some(line.timestamp),
            _ => {}
        }
        if start.is_some() && stop.is_some() {
            break;
        }
    }
    let start = start.ok_or(Dropped::NoRunStart)?;
    let stop = stop.ok_or(Dropped::NoRunStop)?;
    Ok((start, stop))
}

/// Time-to-train in minutes from run_start/run_stop in milliseconds.
pub fn minutes(start_ms: f64, stop_ms: f64) -> f64 {
    (stop_ms - start_ms) / 60.0 / 1000.0
}

/// Times one run: `compliant` is the compliance checker's verdict on its
/// log, `lines` its parsed `:::MLLOG` records.
pub fn score_run(file: &str, compliant: bool, lines: &[mllog::LogLine]) -> RunScore {
    let timed = if compliant {
        run_start_stop(lines).map(|(start, stop)| minutes(start, stop))
    } else {
        Err(Dropped::NotCompliant)
    };
    RunScore {
        file: file.to_string(),
        minutes: timed.as_ref().ok().copied(),
        dropped: timed.err(),
    }
}

/// Python's `sum(list) * 1.0 / len(list)` of the olympic slice, or `None`
/// when nothing is left.
pub fn olympic_mean(scores: &[f64], dropped: usize, max_dropped: usize) -> Option<f64> {
    let mut sorted = scores.to_vec();
    sorted.sort_by(f64::total_cmp);
    let end = sorted
        .len()
        .saturating_sub(max_dropped.saturating_sub(dropped));
    let countable = sorted.get(max_dropped..end.max(max_dropped))?;
    if countable.is_empty() {
        return None;
    }
    let sum = countable.iter().fold(0.0, |acc, x| acc + x);
    Some(sum * 1.0 / countable.len() as f64)
}

/// The score of a set.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SetScore {
    pub runs: Vec<RunScore>,
    /// Runs dropped at most (1; 4 for unet3d).
    pub max_dropped: usize,
    /// The olympic mean before scaling.
    pub olympic_mean: Option<f64>,
    /// From `scaling.json` (1.0 without one).
    pub scaling_factor: f64,
    /// Minutes; `None` when too many runs were dropped.
    pub score: Option<f64>,
    /// What the summarizer prints about the set.
    pub notes: Vec<String>,
}

impl SetScore {
    pub fn dropped(&self) -> usize {
        self.runs.iter().filter(|r| r.dropped.is_some()).count()
    }

    pub fn counted(&self) -> Vec<f64> {
        self.runs.iter().filter_map(|r| r.minutes).collect()
    }
}

/// Scores a set from its runs (see [`score_run`]); `label` names the set
/// in the notes (`<submitter> <system>/<benchmark>`), `file_label` each
/// run's file in them.
pub fn score_set(
    benchmark: &str,
    runs: Vec<RunScore>,
    scaling_factor: f64,
    label: &str,
    file_label: impl Fn(&str) -> String,
) -> SetScore {
    let max_dropped = rcp::olympic_trim(benchmark);
    let mut notes: Vec<String> = runs
        .iter()
        .filter_map(|r| {
            r.dropped
                .as_ref()
                .map(|d| format!("{} in {}", d.message(), file_label(&r.file)))
        })
        .collect();
    let dropped = notes.len();
    if dropped > max_dropped {
        notes.push(format!(
            "CRITICAL ERROR: Too many non-converging runs for {label}"
        ));
        notes.push(format!(
            "** CRITICAL ERROR ** Results in the table for {label} are NOT correct"
        ));
    } else if dropped >= 1 {
        notes.push(format!(
            "NOTICE: Dropping non-converged run(s) for {label} using olympic scoring."
        ));
    }
    let counted: Vec<f64> = runs.iter().filter_map(|r| r.minutes).collect();
    let olympic = if dropped <= max_dropped {
        olympic_mean(&counted, dropped, max_dropped)
    } else {
        None
    };
    SetScore {
        runs,
        max_dropped,
        olympic_mean: olympic,
        scaling_factor,
        score: olympic.map(|m| m * scaling_factor),
        notes,
    }
}

/// Reads `scaling.json`'s `scaling_factor` (the summarizer's
/// `_get_scaling_factor`): a number, taken as it is.
pub fn scaling_factor_from_json(text: &str) -> Result<f64, ScalingError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(ScalingError::Json)?;
    value["scaling_factor"]
        .as_f64()
        .ok_or(ScalingError::NoFactor)
}

#[derive(Debug, thiserror::Error)]
pub enum ScalingError {
    #[error("scaling.json is not JSON: {0}")]
    Json(#[source] serde_json::Error),
    #[error("scaling.json has no numeric scaling_factor")]
    NoFactor,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn olympic_mean_drops_fastest_and_slowest() {
        let scores = [5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(olympic_mean(&scores, 0, 1), Some(3.0));
        // One run already dropped (non-compliant): only the fastest goes.
        assert_eq!(olympic_mean(&[5.0, 1.0, 3.0, 2.0], 1, 1), Some(10.0 / 3.0));
        assert_eq!(olympic_mean(&[1.0], 0, 1), None);
        assert_eq!(olympic_mean(&[], 1, 1), None);
    }

    #[test]
    fn a_set_with_too_many_dropped_runs_has_no_score() {
        let run = |file: &str, minutes: Option<f64>| RunScore {
            file: file.into(),
            minutes,
            dropped: if minutes.is_none() {
                Some(Dropped::NotCompliant)
            } else {
                None
            },
        };
        let ok = score_set(
            "retinanet",
            vec![
                run("a", Some(2.0)),
                run("b", Some(4.0)),
                run("c", None),
                run("d", Some(3.0)),
            ],
            1.5,
            "X s/retinanet",
            |f| f.to_string(),
        );
        // Sorted [2, 3, 4]: the fastest goes, the slowest stays (one already dropped).
        assert_eq!(ok.olympic_mean, Some(3.5));
        assert_eq!(ok.score, Some(5.25));
        assert_eq!(ok.notes[0], "Compliance check failed in c");
        let bad = score_set(
            "retinanet",
            vec![run("a", Some(2.0)), run("b", None), run("c", None)],
            1.0,
            "X s/retinanet",
            |f| f.to_string(),
        );
        assert_eq!(bad.score, None);
        assert!(bad.notes.iter().any(|n| n.starts_with("CRITICAL ERROR")));
    }

    #[test]
    fn start_stop_takes_the_first_pair() {
        let log = b":::MLLOG {\"key\": \"run_start\", \"value\": null, \"time_ms\": 1000, \"metadata\": {}}\n:::MLLOG {\"key\": \"run_stop\", \"value\": null, \"time_ms\": 61000, \"metadata\": {\"status\": \"aborted\"}}\n:::MLLOG {\"key\": \"run_stop\", \"value\": null, \"time_ms\": 99000, \"metadata\": {}}\n";
        let parsed = mllog::parse_log(log).expect("parses");
        let (start, stop) = run_start_stop(&parsed.lines).expect("both");
        assert_eq!(minutes(start, stop), 1.0);
        let no_stop = mllog::parse_log(&log[..log.len() / 3]).expect("parses");
        assert_eq!(run_start_stop(&no_stop.lines), Err(Dropped::NoRunStop));
    }
}

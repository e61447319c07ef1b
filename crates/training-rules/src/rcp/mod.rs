//! The RCP check: a closed-division result set's mean epochs (or samples)
//! to converge against the reference convergence points (RCPs) of its
//! benchmark and batch size, as mlperf-logging 4.1.68's `rcp_checker` does
//! it (ruleset 5.1.0):
//!
//! - each RCP's mean is the olympic mean of its reference runs, its stdev
//!   the population stdev of all of them, and its minimum acceptable mean
//!   the lowest submission mean a one-sided equal-variance t-test at 5% does
//!   not reject (found by bisection to 1e-4);
//! - RCPs are pruned: those with a batch size below the fastest-converging
//!   one go, then any converging slower than the interpolation of its
//!   neighbours;
//! - a batch size between two RCPs gets an interpolated one; below the
//!   smallest, the smallest must be met; above the largest, the RCP is
//!   missing;
//! - the set passes when its olympic mean is at least the RCP's mean over
//!   its max speedup; faster than the RCP mean, its score is normalised by
//!   RCP mean / set mean (the summarizer's `scaling.json`).

mod data;
pub mod numeric;
mod reader;

pub use data::{olympic_trim, submission_runs};
pub use reader::{read_run, RunConvergence, NOT_CONVERGED};

use numeric::{np_interp, np_mean, np_std, one_sided_p_value};

/// Why the RCP check has no verdict (the official checker raises).
#[derive(Debug, thiserror::Error)]
pub enum RcpError {
    #[error("no RCPs for {usage} {ruleset} {benchmark}")]
    NoRcpFile {
        usage: String,
        ruleset: String,
        benchmark: String,
    },
    #[error("benchmark {0:?} is unknown to the RCP checker")]
    UnknownBenchmark(Option<String>),
    #[error("the RCP checker does not support {0} here")]
    Unsupported(String),
    #[error("invalid RCP file for {benchmark}: {source}")]
    RcpFile {
        benchmark: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("invalid RCP record {record}: {reason}")]
    RcpRecord { record: String, reason: String },
    #[error("an :::MLLOG line the RCP checker reads is not JSON ({line}): {source}")]
    Json {
        line: String,
        #[source]
        source: yardstick_formats::pyjson::JsonError,
    },
    #[error("{field} missing in {line}")]
    MissingField { field: String, line: String },
    #[error("run_stop with status success before any eval")]
    NoEvalBeforeStop,
}

/// One reference convergence point with the checker's statistics.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RcpRecord {
    pub name: String,
    pub benchmark: String,
    #[serde(rename = "BS")]
    pub batch_size: f64,
    /// Sorted reference epochs (or samples) to converge; empty for an
    /// interpolated record.
    #[serde(skip)]
    pub epochs: Vec<f64>,
    #[serde(rename = "RCP Mean")]
    pub mean: f64,
    #[serde(rename = "RCP Stdev")]
    pub stdev: f64,
    #[serde(rename = "Max Speedup")]
    pub max_speedup: f64,
    #[serde(rename = "Min Epochs")]
    pub min_epochs: f64,
}

/// Which RCPs a check uses (`--rcp_pass`; the tools use the pruned ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RcpPass {
    Pruned,
    Full,
}

/// The RCPs of one benchmark.
#[derive(Debug, Clone)]
pub struct BenchmarkRcps {
    ruleset: String,
    benchmark: String,
    submission_runs: usize,
    /// Sorted by batch size.
    records: Vec<RcpRecord>,
    pruned: Vec<RcpRecord>,
}

const ALPHA: f64 = 0.05;
const TOLERANCE: f64 = 0.0001;

/// The lowest mean a submission of `num_subm` runs may have against a
/// reference of `mean`/`stdev` over `num_ref` runs.
fn min_acceptable_mean(mean: f64, stdev: f64, num_ref: f64, submission_runs: usize) -> f64 {
    if stdev == 0.0 {
        return mean;
    }
    let num_subm = submission_runs as f64 - 2.0;
    let (mut low, mut high) = (0.0, mean);
    let mut mid = (low + high) / 2.0;
    while high - low > TOLERANCE {
        // The official call passes the reference count with the candidate
        // mean and the submission count with the reference mean.
        let p = one_sided_p_value((mid, stdev, num_ref), (mean, stdev, num_subm));
        if p > ALPHA {
            high = mid;
        } else {
            low = mid;
        }
        mid = (low + high) / 2.0;
    }
    mid
}

impl BenchmarkRcps {
    /// The embedded RCPs of `benchmark` for `usage`/`ruleset` (e.g.
    /// `training`/`5.1.0`).
    pub fn load(usage: &str, ruleset: &str, benchmark: &str) -> Result<Self, RcpError> {
        let submission_runs = data::submission_runs(benchmark)
            .ok_or_else(|| RcpError::UnknownBenchmark(Some(benchmark.to_string())))?;
        let text =
            data::rcp_json(usage, ruleset, benchmark).ok_or_else(|| RcpError::NoRcpFile {
                usage: usage.into(),
                ruleset: ruleset.into(),
                benchmark: benchmark.into(),
            })?;
        Self::from_json(ruleset, benchmark, submission_runs, text)
    }

    /// RCPs from an RCP file's text (the official format).
    pub fn from_json(
        ruleset: &str,
        benchmark: &str,
        submission_runs: usize,
        text: &str,
    ) -> Result<Self, RcpError> {
        let raw: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(text).map_err(|source| RcpError::RcpFile {
                benchmark: benchmark.into(),
                source,
            })?;
        let mut records = Vec::with_capacity(raw.len());
        for (name, contents) in &raw {
            let bad = |reason: &str| RcpError::RcpRecord {
                record: name.clone(),
                reason: reason.into(),
            };
            let record_benchmark = contents["Benchmark"]
                .as_str()
                .ok_or_else(|| bad("no Benchmark"))?
                .to_string();
            let unit = if matches!(record_benchmark.as_str(), "llama2_70b_lora" | "flux1") {
                "samples to converge"
            } else {
                "Epochs to converge"
            };
            let mut epochs: Vec<f64> = contents[unit]
                .as_array()
                .ok_or_else(|| bad(unit))?
                .iter()
                .map(|v| {
                    v.as_f64()
                        .ok_or_else(|| bad("non-numeric convergence point"))
                })
                .collect::<Result<_, _>>()?;
            epochs.sort_by(f64::total_cmp);
            let trim = olympic_trim(&record_benchmark);
            if epochs.len() < 2 * trim {
                return Err(bad("too few reference runs"));
            }
            let mean = np_mean(&epochs[trim..epochs.len() - trim]);
            let stdev = np_std(&epochs);
            let min_epochs = min_acceptable_mean(
                mean,
                stdev,
                (epochs.len() - 2 * trim) as f64,
                submission_runs,
            );
            records.push(RcpRecord {
                name: name.clone(),
                benchmark: record_benchmark,
                batch_size: contents["BS"].as_f64().ok_or_else(|| bad("BS"))?,
                epochs,
                mean,
                stdev,
                max_speedup: mean / min_epochs,
                min_epochs,
            });
        }
        // A stable sort, as Python's `sorted`.
        records.sort_by(|a, b| a.batch_size.total_cmp(&b.batch_size));
        let mut rcps = Self {
            ruleset: ruleset.to_string(),
            benchmark: benchmark.to_string(),
            submission_runs,
            records,
            pruned: Vec::new(),
        };
        rcps.prune();
        Ok(rcps)
    }

    fn interpolate(&self, batch_size: f64, low: &RcpRecord, high: &RcpRecord) -> RcpRecord {
        let span = (low.batch_size, high.batch_size);
        let mean = np_interp(batch_size, span, (low.mean, high.mean));
        let stdev = np_interp(batch_size, span, (low.stdev, high.stdev));
        let min_epochs = min_acceptable_mean(
            mean,
            stdev,
            (self.submission_runs * 2) as f64,
            self.submission_runs,
        );
        RcpRecord {
            name: format!("{}_interp_{}", self.benchmark, batch_size),
            benchmark: self.benchmark.clone(),
            batch_size,
            epochs: Vec::new(),
            mean,
            stdev,
            max_speedup: mean / min_epochs,
            min_epochs,
        }
    }

    fn prune(&mut self) {
        let Some(fastest) = self
            .records
            .iter()
            .reduce(|best, r| if r.mean < best.mean { r } else { best })
        else {
            return;
        };
        let fastest_bs = fastest.batch_size;
        let mut kept: Vec<&RcpRecord> = self
            .records
            .iter()
            .filter(|r| r.batch_size >= fastest_bs)
            .collect();
        let mut i = 1;
        while i + 1 < kept.len() {
            let interp = self.interpolate(kept[i].batch_size, kept[i - 1], kept[i + 1]);
            if kept[i].mean > interp.mean {
                kept.remove(i);
            } else {
                i += 1;
            }
        }
        let pruned: Vec<RcpRecord> = self
            .records
            .iter()
            .filter(|r| {
                kept.iter()
                    .any(|k| k.benchmark == r.benchmark && k.batch_size == r.batch_size)
            })
            .cloned()
            .collect();
        self.pruned = pruned;
    }

    /// All RCPs, sorted by batch size.
    pub fn records(&self) -> &[RcpRecord] {
        &self.records
    }

    /// The RCPs left after pruning.
    pub fn pruned(&self) -> &[RcpRecord] {
        &self.pruned
    }

    fn pass_records(&self, pass: RcpPass) -> &[RcpRecord] {
        match pass {
            RcpPass::Pruned => &self.pruned,
            RcpPass::Full => &self.records,
        }
    }

    /// Checks a set's epochs to converge (one per run, [`NOT_CONVERGED`]
    /// for a run that did not) at `batch_size`.
    pub fn check(&self, batch_size: f64, epochs: &[f64], pass: RcpPass) -> RcpCheck {
        let records = self.pass_records(pass);
        let exact = records.iter().find(|r| r.batch_size == batch_size);
        let below = records
            .iter()
            .filter(|r| r.batch_size < batch_size && r.batch_size > 0.0)
            .fold(None::<&RcpRecord>, |best, r| match best {
                Some(b) if r.batch_size <= b.batch_size => Some(b),
                _ => Some(r),
            });
        let above = records
            .iter()
            .filter(|r| r.batch_size > batch_size && r.batch_size < 1e9)
            .fold(None::<&RcpRecord>, |best, r| match best {
                Some(b) if r.batch_size >= b.batch_size => Some(b),
                _ => Some(r),
            });
        let evaluate = |record: &RcpRecord| self.evaluate(record.clone(), epochs);
        match (exact, below, above) {
            (Some(record), _, _) => evaluate(record).with_kind(RcpKind::Found),
            (None, Some(low), Some(high)) => {
                evaluate(&self.interpolate(batch_size, low, high)).with_kind(RcpKind::Interpolated)
            }
            (None, Some(_), None) => RcpCheck::without_record(RcpKind::Missing { batch_size }),
            (None, None, Some(_)) => {
                let smallest = records
                    .iter()
                    .fold(None::<&RcpRecord>, |best, r| match best {
                        Some(b) if r.batch_size >= b.batch_size => Some(b),
                        _ => Some(r),
                    });
                let Some(smallest) = smallest else {
                    return RcpCheck::without_record(RcpKind::NoRcps);
                };
                let check = evaluate(smallest);
                if check.passed {
                    check.with_kind(RcpKind::SlowerOnSmallerBatch)
                } else {
                    check.with_kind(RcpKind::Missing { batch_size })
                }
            }
            (None, None, None) => RcpCheck::without_record(RcpKind::NoRcps),
        }
    }

    fn evaluate(&self, mut record: RcpRecord, epochs: &[f64]) -> RcpCheck {
        if self.benchmark == "llama31_405b" && ruleset_at_least(&self.ruleset, (5, 0, 0)) {
            // The checker's adjustment for this benchmark from 5.0.0 on.
            record.max_speedup = record.mean / (record.min_epochs - 46080.0);
        }
        let mut sorted = epochs.to_vec();
        sorted.sort_by(f64::total_cmp);
        let trim = olympic_trim(&record.benchmark);
        let trimmed = if sorted.len() >= 2 * trim {
            &sorted[trim..sorted.len() - trim]
        } else {
            &[][..]
        };
        let mean = np_mean(trimmed);
        let ratio = record.mean / mean;
        // `1.0 if f < 1 else f`: NaN stays NaN.
        let norm_factor = if ratio < 1.0 { 1.0 } else { ratio };
        let passed = mean >= record.mean / record.max_speedup;
        RcpCheck {
            passed,
            kind: RcpKind::Found,
            normalized: passed && mean < record.mean,
            record: Some(record),
            submission_mean: Some(mean),
            norm_factor,
        }
    }
}

fn ruleset_at_least(ruleset: &str, min: (u32, u32, u32)) -> bool {
    let mut parts = ruleset.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let v = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    v >= min
}

/// Which RCP a check compared against.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum RcpKind {
    /// An RCP at the set's batch size.
    Found,
    /// Interpolated between the neighbouring batch sizes.
    Interpolated,
    /// Below the smallest RCP batch size, converging no faster than it.
    SlowerOnSmallerBatch,
    /// No RCP at or above this batch size (or below the smallest and
    /// faster than it).
    Missing {
        batch_size: f64,
    },
    NoRcps,
    /// The logs name no `global_batch_size`.
    NoBatchSize,
    /// More runs than allowed did not converge.
    InsufficientConvergence,
}

/// The outcome of the RCP check of a set.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RcpCheck {
    pub passed: bool,
    pub kind: RcpKind,
    /// The RCP used (interpolated or not).
    pub record: Option<RcpRecord>,
    /// The set's olympic mean epochs (or samples) to converge.
    pub submission_mean: Option<f64>,
    /// RCP mean / set mean when the set converged faster (else 1.0): the
    /// factor the score is multiplied by.
    pub norm_factor: f64,
    /// Passed faster than the RCP mean: the official checker (with
    /// `set_scaling`) writes `norm_factor` to `scaling.json`.
    pub normalized: bool,
}

impl RcpCheck {
    fn without_record(kind: RcpKind) -> Self {
        Self {
            passed: false,
            kind,
            record: None,
            submission_mean: None,
            norm_factor: 1.0,
            normalized: false,
        }
    }

    fn with_kind(mut self, kind: RcpKind) -> Self {
        self.kind = kind;
        self
    }

    /// The official message ("RCP found", "RCP Interpolation", ...).
    pub fn message(&self) -> String {
        match &self.kind {
            RcpKind::Found => "RCP found".into(),
            RcpKind::Interpolated => "RCP Interpolation".into(),
            RcpKind::SlowerOnSmallerBatch => {
                "RCP not found but slower convergence on smaller batch size".into()
            }
            RcpKind::Missing { batch_size } => format!(
                "Missing RCP, please submit RCP with BS = {}",
                batch_size_text(*batch_size)
            ),
            RcpKind::NoRcps => "Cannot find any RCPs".into(),
            RcpKind::NoBatchSize => "Could not detect global_batch_size".into(),
            RcpKind::InsufficientConvergence => "Insufficient convergence".into(),
        }
    }

    /// The summarizer's `RCP` column.
    pub fn summary_column(&self) -> &'static str {
        if self.passed {
            return "Pass";
        }
        match self.kind {
            RcpKind::Found => "Fail",
            RcpKind::Interpolated => "Interp. Fail",
            RcpKind::Missing { .. } => "Missing",
            RcpKind::NoRcps => "No RCP",
            _ => "Unknown state",
        }
    }
}

/// A batch size as the logs give it: an integer (logs log integers; a
/// float batch size would print as Python's float repr).
fn batch_size_text(batch_size: f64) -> String {
    if batch_size.fract() == 0.0 && batch_size.abs() < 1e15 {
        format!("{}", batch_size as i64)
    } else {
        crate::compliance::value::float_repr(batch_size)
    }
}

/// The runs of a set as the RCP checker gathers them.
#[derive(Debug, Clone, PartialEq)]
pub struct SetConvergence {
    /// -1 when not logged.
    pub batch_size: f64,
    pub benchmark: String,
    pub epochs: Vec<f64>,
    pub not_converged: usize,
}

/// Gathers a set's runs (`get_submission_epochs`): batch sizes and
/// benchmarks must agree.
pub fn gather(runs: &[RunConvergence]) -> Result<SetConvergence, RcpError> {
    let mut batch_size = -1.0;
    let mut benchmark: Option<&str> = None;
    for run in runs {
        if batch_size == -1.0 {
            batch_size = run.batch_size;
        } else if run.batch_size != batch_size {
            // The official checker then has no benchmark and raises KeyError.
            return Err(RcpError::UnknownBenchmark(None));
        }
        match (benchmark, run.benchmark.as_deref()) {
            (None, b) => benchmark = b,
            (Some(a), Some(b)) if a == b => {}
            _ => return Err(RcpError::UnknownBenchmark(None)),
        }
    }
    let benchmark = benchmark.ok_or(RcpError::UnknownBenchmark(None))?;
    Ok(SetConvergence {
        batch_size,
        benchmark: benchmark.to_string(),
        epochs: runs.iter().map(|r| r.epochs_to_converge).collect(),
        not_converged: runs.iter().filter(|r| !r.converged).count(),
    })
}

/// The RCP check of a set's runs (`check_directory`, without writing
/// `scaling.json`).
pub fn check_runs(
    usage: &str,
    ruleset: &str,
    runs: &[RunConvergence],
    pass: RcpPass,
) -> Result<RcpCheck, RcpError> {
    let set = gather(runs)?;
    let rcps = BenchmarkRcps::load(usage, ruleset, &set.benchmark)?;
    if set.batch_size == -1.0 {
        return Ok(RcpCheck::without_record(RcpKind::NoBatchSize));
    }
    let allowed = if set.benchmark == "unet3d" { 4 } else { 1 };
    if set.not_converged > allowed {
        return Ok(RcpCheck::without_record(RcpKind::InsufficientConvergence));
    }
    Ok(rcps.check(set.batch_size, &set.epochs, pass))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_file_loads_and_prunes() {
        for b in [
            "bert",
            "dlrm_dcnv2",
            "flux1",
            "llama2_70b_lora",
            "llama31_405b",
            "llama31_8b",
            "retinanet",
            "rgat",
        ] {
            let rcps = BenchmarkRcps::load("training", "5.1.0", b).expect(b);
            assert!(!rcps.pruned().is_empty(), "{b}");
            assert!(rcps.pruned().len() <= rcps.records().len());
            for r in rcps.records() {
                assert!(
                    r.min_epochs <= r.mean && r.max_speedup >= 1.0,
                    "{b} {}",
                    r.name
                );
            }
        }
        assert!(matches!(
            BenchmarkRcps::load("training", "5.1.0", "nope"),
            Err(RcpError::UnknownBenchmark(_))
        ));
    }

    fn rcps() -> BenchmarkRcps {
        // Two RCPs: BS 8 converging in ~3000, BS 16 in ~4000.
        let json = r#"{
          "a": {"Benchmark": "x", "BS": 8, "Hyperparams": {}, "Epochs to converge": [2900, 3000, 3000, 3000, 3100, 2950, 3050, 3000, 3000, 3000]},
          "b": {"Benchmark": "x", "BS": 16, "Hyperparams": {}, "Epochs to converge": [3900, 4000, 4000, 4000, 4100, 3950, 4050, 4000, 4000, 4000]}
        }"#;
        BenchmarkRcps::from_json("5.1.0", "x", 10, json).expect("valid")
    }

    #[test]
    fn verdicts_by_batch_size() {
        let r = rcps();
        let slow = vec![3000.0; 10];
        let found = r.check(8.0, &slow, RcpPass::Pruned);
        assert!(found.passed);
        assert_eq!(found.message(), "RCP found");
        assert_eq!(found.norm_factor, 1.0);
        let interp = r.check(12.0, &[3500.0; 10], RcpPass::Pruned);
        assert_eq!(interp.message(), "RCP Interpolation");
        assert_eq!(interp.record.as_ref().map(|r| r.mean), Some(3500.0));
        assert!(interp.passed);
        let missing = r.check(32.0, &slow, RcpPass::Pruned);
        assert!(!missing.passed);
        assert_eq!(
            missing.message(),
            "Missing RCP, please submit RCP with BS = 32"
        );
        assert_eq!(missing.summary_column(), "Missing");
        let smaller = r.check(4.0, &slow, RcpPass::Pruned);
        assert!(smaller.passed);
        assert_eq!(smaller.kind, RcpKind::SlowerOnSmallerBatch);
    }

    #[test]
    fn too_fast_fails_and_slightly_fast_is_normalised() {
        let r = rcps();
        let too_fast = r.check(8.0, &[2000.0; 10], RcpPass::Pruned);
        assert!(!too_fast.passed);
        assert_eq!(too_fast.summary_column(), "Fail");
        let min = r.records()[0].min_epochs;
        let fast = r.check(8.0, &[min + 1.0; 10], RcpPass::Pruned);
        assert!(fast.passed && fast.normalized);
        assert_eq!(fast.norm_factor, 3000.0 / (min + 1.0));
    }
}

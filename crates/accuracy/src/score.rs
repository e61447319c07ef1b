//! Scores, their check against quality targets, and `accuracy.txt`.
//!
//! accuracy.txt holds what the MLPerf accuracy script of the benchmark
//! prints, followed by `hash=<sha256 of mlperf_log_accuracy.json>`: the
//! submission checker (`tools/submission/submission_checker/checks/
//! accuracy_check.py`) reads each metric with the regular expression of its
//! key (`ACC_PATTERN` in `constants.py`) and requires the hash line. The
//! values checked here are the values as printed, as the checker sees them.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{AccuracyError, Result};
use crate::exact_match::{ExactMatchScore, Extractor};
use crate::py;
use crate::rouge::RougeScore;
use crate::squad::SquadScore;
use crate::targets::QualityTarget;
use crate::top1::Top1Score;
use crate::wer::WerScore;

/// The result of one scorer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Score {
    Top1(Top1Score),
    Squad(SquadScore),
    Rouge(RougeScore),
    Wer(WerScore),
    ExactMatch(ExactMatchScore),
}

impl Score {
    /// (checker key, value as printed in accuracy.txt) for every metric
    /// this score provides, the headline metric first.
    pub fn metrics(&self) -> Vec<(&'static str, f64)> {
        match self {
            Score::Top1(s) => vec![("acc", reparse(&format!("{:.3}", s.accuracy())))],
            Score::Squad(s) => vec![("F1", s.f1)],
            Score::Rouge(s) => {
                let mut v = vec![
                    ("ROUGE1", py::round(s.rouge1, 4)),
                    ("ROUGE2", py::round(s.rouge2, 4)),
                    ("ROUGEL", py::round(s.rouge_l, 4)),
                    ("ROUGELSUM", py::round(s.rouge_lsum, 4)),
                    ("GEN_LEN", s.gen_len as f64),
                ];
                if let Some(t) = s.tokens_per_sample() {
                    v.push(("TOKENS_PER_SAMPLE", t));
                }
                v
            }
            Score::Wer(s) => vec![("ACCURACY", s.accuracy())],
            Score::ExactMatch(s) => {
                let mut v = vec![("exact_match", s.accuracy())];
                if s.extractor == Extractor::Gsm8k {
                    v.push(("gsm8k_accuracy", s.accuracy()));
                }
                if let Some(t) = s.tokens_per_sample() {
                    v.push(("TOKENS_PER_SAMPLE", t));
                }
                v
            }
        }
    }

    /// The headline metric.
    pub fn headline(&self) -> (&'static str, f64) {
        self.metrics()[0]
    }

    /// The lines the benchmark's MLPerf script prints (without the hash).
    pub fn report(&self) -> String {
        let r = py::float_repr;
        match self {
            Score::Top1(s) => format!(
                "accuracy={:.3}%, good={}, total={}\n",
                s.accuracy(),
                s.good,
                s.total
            ),
            Score::Squad(s) => format!(
                "{{\"exact_match\": {}, \"f1\": {}}}\n",
                r(s.exact_match),
                r(s.f1)
            ),
            Score::Rouge(s) => {
                let mut d = format!(
                    "{{'rouge1': {}, 'rouge2': {}, 'rougeL': {}, 'rougeLsum': {}, 'gen_len': {}, 'gen_num': {}",
                    r(py::round(s.rouge1, 4)),
                    r(py::round(s.rouge2, 4)),
                    r(py::round(s.rouge_l, 4)),
                    r(py::round(s.rouge_lsum, 4)),
                    s.gen_len,
                    s.gen_num
                );
                if let (Some(t), Some(tps)) = (s.gen_tok_len, s.tokens_per_sample()) {
                    d += &format!(", 'gen_tok_len': {t}, 'tokens_per_sample': {}", r(tps));
                }
                format!("\nResults\n\n{d}}}\n")
            }
            Score::Wer(s) => format!(
                "Word Error Rate: {}%, accuracy={}%\n",
                r(s.wer() * 100.0),
                r(s.accuracy())
            ),
            Score::ExactMatch(s) => {
                let mut d = format!("{{'exact_match': {}", r(s.accuracy()));
                if s.extractor == Extractor::Gsm8k {
                    d += &format!(", 'gsm8k': {}", r(s.accuracy()));
                }
                d += &format!(", 'gen_num': {}", s.total);
                if let (Some(t), Some(tps)) = (s.gen_tok_len, s.tokens_per_sample()) {
                    d += &format!(", 'gen_tok_len': {t}, 'tokens_per_sample': {}", r(tps));
                }
                format!("\nResults\n\n{d}}}\n")
            }
        }
    }
}

fn reparse(s: &str) -> f64 {
    s.parse().unwrap_or(f64::NAN)
}

/// Whether a bound is a minimum or a maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundKind {
    /// value >= bound
    AtLeast,
    /// value <= bound
    AtMost,
}

/// One metric against one bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Check {
    pub key: &'static str,
    pub kind: BoundKind,
    pub bound: f64,
    /// `None`: this score does not provide the metric.
    pub value: Option<f64>,
}

impl Check {
    /// `None` when the value is missing.
    pub fn passed(&self) -> Option<bool> {
        self.value.map(|v| match self.kind {
            BoundKind::AtLeast => v >= self.bound,
            BoundKind::AtMost => v <= self.bound,
        })
    }
}

/// The overall outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail,
    /// Nothing failed, but some metric of the target was not scored (e.g.
    /// tokens per sample without token counts in the log).
    Incomplete,
}

/// All checks of a score against a target.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub checks: Vec<Check>,
}

impl Verdict {
    pub fn outcome(&self) -> Outcome {
        if self.checks.iter().any(|c| c.passed() == Some(false)) {
            Outcome::Fail
        } else if self.checks.iter().any(|c| c.passed().is_none()) {
            Outcome::Incomplete
        } else {
            Outcome::Pass
        }
    }
}

/// Checks `score` against a benchmark's target: every lower bound and upper
/// limit of the target, as the checker applies them.
pub fn check_target(score: &Score, target: &QualityTarget) -> Result<Verdict> {
    let values = score.metrics();
    let value = |k: &str| values.iter().find(|(key, _)| *key == k).map(|&(_, v)| v);
    if !target.metrics.iter().any(|m| value(m.key).is_some()) {
        return Err(AccuracyError::InvalidArgument(format!(
            "{} is judged on {}; this score provides {}",
            target.benchmark,
            target
                .metrics
                .iter()
                .map(|m| m.key)
                .collect::<Vec<_>>()
                .join(", "),
            values
                .iter()
                .map(|(k, _)| *k)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let mut checks: Vec<Check> = target
        .metrics
        .iter()
        .map(|m| Check {
            key: m.key,
            kind: BoundKind::AtLeast,
            bound: m.threshold(),
            value: value(m.key),
        })
        .collect();
    checks.extend(target.upper_limits.iter().map(|u| Check {
        key: u.key,
        kind: BoundKind::AtMost,
        bound: u.limit,
        value: value(u.key),
    }));
    Ok(Verdict { checks })
}

/// Checks the headline metric against an explicit minimum.
pub fn check_minimum(score: &Score, minimum: f64) -> Verdict {
    let (key, v) = score.headline();
    Verdict {
        checks: vec![Check {
            key,
            kind: BoundKind::AtLeast,
            bound: minimum,
            value: Some(v),
        }],
    }
}

/// Lower-case hex SHA-256 of a file, as `hashlib.sha256().hexdigest()`.
pub fn sha256_file(path: impl AsRef<Path>) -> Result<String> {
    let path = path.as_ref();
    let io = |source| AccuracyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The text of accuracy.txt: the script's report and the hash line.
pub fn accuracy_txt(score: &Score, log_sha256: &str) -> String {
    format!("{}\nhash={log_sha256}\n", score.report())
}

/// Writes accuracy.txt for `score`, hashing the accuracy log `log_path`.
pub fn write_accuracy_txt(
    out: impl AsRef<Path>,
    score: &Score,
    log_path: impl AsRef<Path>,
) -> Result<()> {
    let text = accuracy_txt(score, &sha256_file(log_path)?);
    let out = out.as_ref();
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| AccuracyError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(out, text).map_err(|source| AccuracyError::Write {
        path: out.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::quality_target;

    #[test]
    fn top1_report_and_check() {
        let s = Score::Top1(Top1Score { good: 3, total: 4 });
        assert_eq!(s.report(), "accuracy=75.000%, good=3, total=4\n");
        let v = check_target(&s, quality_target("resnet").unwrap()).unwrap();
        assert_eq!(v.outcome(), Outcome::Fail);
        assert!(check_target(&s, quality_target("bert-99").unwrap()).is_err());
        assert_eq!(check_minimum(&s, 75.0).outcome(), Outcome::Pass);
    }

    #[test]
    fn rouge_without_token_counts_is_incomplete() {
        let s = Score::Rouge(RougeScore {
            rouge1: 45.0,
            rouge2: 23.0,
            rouge_l: 30.0,
            rouge_lsum: 42.0,
            gen_len: 10,
            gen_num: 1,
            gen_tok_len: None,
        });
        let v = check_target(&s, quality_target("llama2-70b-99").unwrap()).unwrap();
        assert_eq!(v.outcome(), Outcome::Incomplete);
        assert!(s.report().contains("{'rouge1': 45.0, 'rouge2': 23.0, 'rougeL': 30.0, 'rougeLsum': 42.0, 'gen_len': 10, 'gen_num': 1}"));
    }
}

//! yardstick-accuracy: scores MLPerf accuracy logs the way the MLPerf
//! Inference reference scripts do, checks them against the benchmarks'
//! quality targets, and writes the `accuracy.txt` the submission checker
//! parses.
//!
//! ```no_run
//! use yardstick_accuracy::{read_accuracy_log, read_labels, top1, Dtype, Score, quality_target, check_target};
//! # fn main() -> yardstick_accuracy::Result<()> {
//! let log = read_accuracy_log("mlperf_log_accuracy.json")?;
//! let labels = read_labels("val_map.txt")?;
//! let score = Score::Top1(top1(&log, &labels, Dtype::Int32)?);
//! let verdict = check_target(&score, quality_target("resnet50").expect("known"))?;
//! println!("{:?} {:?}", score.headline(), verdict.outcome());
//! # Ok(()) }
//! ```
//!
//! Each scorer reproduces its reference implementation (named in its
//! module docs), including its Python semantics (Unicode lower-casing,
//! `str.split()`, `re`'s `\b`, `float()`, numpy's pairwise mean), and is
//! compared with it on fixtures in `tests/accuracy/`.

mod common;
pub mod error;
pub mod exact_match;
pub mod ground_truth;
pub mod log;
pub mod porter;
pub mod punkt;
pub mod py;
pub mod rouge;
pub mod score;
pub mod squad;
pub mod targets;
pub mod top1;
pub mod top_k;
pub mod wer;
pub mod whisper;

pub use error::{AccuracyError, Result};
pub use exact_match::{exact_match, ExactMatchScore, Extractor};
pub use ground_truth::{
    read_labels, read_squad, read_text_references, Labels, SquadReferences, TextReferences,
};
pub use log::{parse_accuracy_log, read_accuracy_log, AccuracyLog, AccuracyRecord, Dtype, Value};
pub use punkt::PunktModel;
pub use rouge::{rouge, RougeScore};
pub use score::{
    accuracy_txt, check_minimum, check_target, sha256_file, write_accuracy_txt, BoundKind, Check,
    Outcome, Score, Verdict,
};
pub use squad::{squad, SquadScore};
pub use targets::{quality_target, QualityTarget, Scorer, TargetMetric, QUALITY_TARGETS};
pub use top1::{top1, Top1Score};
pub use top_k::top_k;
pub use wer::{wer, ResponseFormat, WerMode, WerScore};

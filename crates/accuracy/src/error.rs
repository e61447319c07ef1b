//! Typed errors. Every error that comes from user data names the file it
//! came from and what is wrong with it, so a failed scoring run can be fixed
//! without reading the source.

use std::path::PathBuf;

/// Errors from reading accuracy logs and ground truth, and from scoring.
#[derive(Debug, thiserror::Error)]
pub enum AccuracyError {
    /// A file could not be opened or read.
    // The OS error is the source: anyhow's `{:#}` prints it after this.
    #[error("cannot read {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A file could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The accuracy log is not LoadGen's JSON array of records.
    #[error("{}: not a valid accuracy log: {reason}", path.display())]
    CorruptLog { path: PathBuf, reason: String },

    /// A record's response bytes do not fit the dtype they are read as.
    #[error(
        "{}: record {record} (qsl_idx {qsl_idx}) has {len} response bytes, \
         not a multiple of {width} as dtype {dtype} needs; is --dtype right?",
        path.display()
    )]
    DtypeMismatch {
        path: PathBuf,
        record: usize,
        qsl_idx: u64,
        len: usize,
        width: usize,
        dtype: &'static str,
    },

    /// A record's response is empty where a value is needed.
    #[error("{}: record {record} (qsl_idx {qsl_idx}) has an empty response", path.display())]
    EmptyResponse {
        path: PathBuf,
        record: usize,
        qsl_idx: u64,
    },

    /// A record's response is not UTF-8 text where text is needed.
    #[error(
        "{}: record {record} (qsl_idx {qsl_idx}): the response is not UTF-8 text ({reason}); \
         token ids need decoding first",
        path.display()
    )]
    NotText {
        path: PathBuf,
        record: usize,
        qsl_idx: u64,
        reason: String,
    },

    /// A record names a sample the ground truth does not have.
    #[error(
        "{}: record {record} has qsl_idx {qsl_idx}, out of range: the ground truth {} has {count} samples",
        log.display(),
        ground_truth.display()
    )]
    SampleOutOfRange {
        log: PathBuf,
        ground_truth: PathBuf,
        record: usize,
        qsl_idx: u64,
        count: usize,
    },

    /// The ground-truth file is malformed.
    #[error("{}{}: invalid ground truth: {reason}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    GroundTruth {
        path: PathBuf,
        /// 1-based line, where the format is line oriented.
        line: Option<usize>,
        reason: String,
    },

    /// The Punkt model directory is missing a file or a file is malformed.
    #[error("{}: invalid Punkt model: {reason}", path.display())]
    PunktModel { path: PathBuf, reason: String },

    /// Nothing to score: the log has no records.
    #[error("{}: the accuracy log has no records to score (was the run in accuracy mode?)", path.display())]
    NoSamples { path: PathBuf },

    /// The ground truth's references are all empty, so a rate is undefined.
    #[error("{}: {reason}", path.display())]
    Undefined { path: PathBuf, reason: String },

    /// An unknown benchmark name.
    #[error("unknown benchmark '{name}'; known: {known}")]
    UnknownBenchmark { name: String, known: String },

    /// An argument that cannot be used (unknown dtype, metric, ...).
    #[error("{0}")]
    InvalidArgument(String),
}

/// Result with [`AccuracyError`].
pub type Result<T, E = AccuracyError> = std::result::Result<T, E>;

//! The errors of this crate. Every variant names the file it concerns: a log
//! that cannot be written is almost always a path or permission problem the
//! user has to fix, so the path is the most useful part of the message.

use std::io;
use std::path::PathBuf;

/// A log file could not be created, written or flushed.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The output directory could not be created.
    #[error("cannot create log directory {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A log file could not be opened for writing.
    #[error("cannot open log file {} for writing: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Writing to (or flushing) a log file failed. Writes from the
    /// [`LogSink`](yardstick_core::log::LogSink) callbacks cannot return
    /// errors, so the first one is kept and reported by `finish`.
    #[error("cannot write log file {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

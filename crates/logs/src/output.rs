//! A buffered log file that remembers its first write error.
//!
//! The [`LogSink`](yardstick_core::log::LogSink) callbacks return nothing (a
//! SUT thread completing a sample has no use for an I/O error), so writes
//! must not fail loudly where they happen. Instead the first error is kept,
//! later writes to that file are skipped (a half-written line followed by
//! more lines would only hide the real problem), and `finish` reports it.
//! After `finish` the file is closed to writes: a late event racing the end
//! of the test must not land after the closing bytes of a JSON file.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::LogError;

/// Buffer size of the log files: large enough that the accuracy log of a
/// big run costs few system calls, small enough not to matter in memory.
const BUFFER_BYTES: usize = 1 << 20;

#[derive(Debug)]
pub(crate) struct Output {
    path: PathBuf,
    file: BufWriter<File>,
    error: Option<io::Error>,
    closed: bool,
}

impl Output {
    /// Creates (truncates) `path`.
    pub(crate) fn create(path: &Path) -> Result<Self, LogError> {
        let file = File::create(path).map_err(|source| LogError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Output {
            path: path.to_path_buf(),
            file: BufWriter::with_capacity(BUFFER_BYTES, file),
            error: None,
            closed: false,
        })
    }

    /// Writes `bytes` unless an earlier write failed or the file is closed.
    pub(crate) fn write(&mut self, bytes: &[u8]) {
        if self.error.is_none() && !self.closed {
            if let Err(e) = self.file.write_all(bytes) {
                self.error = Some(e);
            }
        }
    }

    /// Pushes the buffer to the OS, keeping any error for [`Output::finish`].
    pub(crate) fn flush(&mut self) {
        if self.error.is_none() {
            if let Err(e) = self.file.flush() {
                self.error = Some(e);
            }
        }
    }

    /// Flushes, closes the file to further writes and returns the first
    /// error it met, if any. The error is taken: a second call reports
    /// success.
    pub(crate) fn finish(&mut self) -> Result<(), LogError> {
        self.flush();
        self.closed = true;
        match self.error.take() {
            None => Ok(()),
            Some(source) => Err(LogError::Write {
                path: self.path.clone(),
                source,
            }),
        }
    }
}

//! The MLPerf power protocol (mlcommons/power-dev), both halves, written
//! from power-dev's description and its compliance checker:
//!
//! - [`open_meter`]: a direct connection to SPEC PTDaemon (TCP 8888) for a
//!   single machine, as a [`PowerMeter`](crate::PowerMeter);
//! - [`DirectorClient`] / [`run_director_session`]: a replacement for
//!   power-dev's `client.py` against its director (TCP 4950): a ranging run
//!   then a testing run of the workload, the logs downloaded into the power
//!   folders the submission checker expects;
//! - [`sim`]: a simulated PTDaemon and director, for tests and for anyone
//!   without a meter;
//! - [`check`]: the official power checker's rules (power-dev
//!   `compliance/check.py`), ported.

pub mod check;
mod clock;
mod director;
mod meter;
pub mod session;
pub mod sim;
mod spl;
mod wire;

pub use clock::{format_ptd_time, parse_ptd_time};
pub use director::{
    run_director_session, DirectorClient, DirectorOutcome, Mode, PowerFolders, WorkloadError,
    WorkloadRun, CLIENT_HELLO, CLOCK_LIMIT_MS, FETCH_FILES, LOADGEN_FILES, SERVER_HELLO,
};
pub use meter::{open_meter, PtdMeter};
pub use spl::{read_spl, SplSample};

use std::path::PathBuf;

/// The director's default port (power-dev `DEFAULT_PORT`).
pub const DIRECTOR_PORT: u16 = 4950;
/// PTDaemon's default network port.
pub const PTD_PORT: u16 = 8888;

/// Why a PTDaemon or director exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum PtdError {
    /// The TCP connection could not be made.
    #[error("cannot connect to {peer} at {addr}: {source}")]
    Connect {
        /// `PTDaemon` or `the power director`.
        peer: &'static str,
        /// host:port.
        addr: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Sending or receiving failed (not a clean close).
    #[error("{peer}: {context}: {source}")]
    Io {
        /// `PTDaemon` or `the power director`.
        peer: &'static str,
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The peer closed the connection while an answer was due.
    #[error("{peer} closed the connection during {during:?}; the power measurement is incomplete")]
    Disconnected {
        /// `PTDaemon` or `the power director`.
        peer: &'static str,
        /// The command that got no answer.
        during: String,
    },
    /// The peer is not what it should be (wrong hello).
    #[error("{peer} handshake failed: expected {expected:?}, got {got:?}")]
    Handshake {
        /// `PTDaemon` or `the power director`.
        peer: &'static str,
        /// The hello we expected.
        expected: String,
        /// What came.
        got: String,
    },
    /// The peer answered a command with something else than the protocol's
    /// success reply.
    #[error("{peer} answered {command:?} with {reply:?}")]
    Rejected {
        /// `PTDaemon` or `the power director`.
        peer: &'static str,
        /// The command.
        command: String,
        /// The reply.
        reply: String,
    },
    /// The clocks of this machine and the director differ by more than the
    /// protocol allows (power-dev's 400 ms).
    #[error("this machine's clock and the director's differ by {offset_ms:.0} ms (the limit is {limit_ms} ms): synchronise both with NTP")]
    ClockSkew {
        /// The larger of the two bounds of the difference.
        offset_ms: f64,
        /// The limit.
        limit_ms: u64,
    },
    /// A file of the power folders could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// client.json or server.json could not be written or read.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: serde_json::Error,
    },
    /// The workload of one mode failed; the session was abandoned.
    #[error("the {mode} run failed: {source}")]
    Workload {
        /// `ranging` or `testing`.
        mode: &'static str,
        /// The workload's error.
        #[source]
        source: WorkloadError,
    },
    /// The address is not `host:port`.
    #[error("{0:?} is not host:port")]
    BadAddress(String),
}

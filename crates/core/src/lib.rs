//! yardstick-core: the MLPerf LoadGen semantics, in Rust.
//!
//! This crate decides which samples a system under test (SUT) gets, when it
//! gets them, and how the measured timings become a VALID/INVALID result. It
//! owns clocks and threads only: it does no network or file I/O of its own and
//! knows nothing of HTTP, Python or models. Everything it wants written goes
//! through the [`log::LogSink`] trait, which adapters implement.
//!
//! Where a standard exists the behaviour is bit-exact with the official
//! LoadGen 6.0.x on Linux: the same loaded sample sets, the same sample indices
//! grouped into the same queries and the same Server schedule to the
//! nanosecond, for the same seeds and settings (see [`rng`]).

pub mod log;
pub mod queries;
pub mod results;
pub mod rng;
pub mod run;
pub mod sample_sets;
pub mod scenario;
pub mod settings;
pub mod sut;

pub use scenario::{Mode, Scenario};
pub use settings::TestSettings;

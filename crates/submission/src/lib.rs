//! yardstick-submission: what happens to runs after the measurement, on the
//! way to a published MLPerf Inference result.

/// Compliance audits: TEST01, TEST04, TEST06 and their `verify_*.txt`.
pub mod audit;
/// Assembling a submission tree from runs.
pub mod build;
/// Checking a submission tree, round by round, as the official checker does.
pub mod check;

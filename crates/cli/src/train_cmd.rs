//! `yardstick train`: time-to-train of a reference workload.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct TrainArgs {}

pub fn run(_args: TrainArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`yardstick train` is not available in this build")
}

//! `yardstick accuracy`: score an accuracy log.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct AccuracyArgs {}

pub fn run(_args: AccuracyArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`yardstick accuracy` is not available in this build")
}

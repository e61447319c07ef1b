//! `yardstick endpoint`, `yardstick probe`, `yardstick mock-server`.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct EndpointArgs {}

#[derive(Debug, clap::Args)]
pub struct ProbeArgs {}

#[derive(Debug, clap::Args)]
pub struct MockServerArgs {}

pub fn run_endpoint(_args: EndpointArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`yardstick endpoint` is not available in this build")
}

pub fn run_probe(_args: ProbeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`yardstick probe` is not available in this build")
}

pub fn run_mock_server(_args: MockServerArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`yardstick mock-server` is not available in this build")
}

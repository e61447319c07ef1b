//! `yardstick power-sim ptd|director`: the simulated SPEC PTDaemon and
//! MLPerf power director (yardstick-power's `ptd::sim`), served for anyone
//! without a meter: point `--power ptd://` or `--power director://` at them.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use yardstick_pipeline::power_meters::ptd::sim::{
    SimDirector, SimDirectorConfig, SimPtd, SimPtdConfig,
};
use yardstick_pipeline::power_meters::ptd::{DIRECTOR_PORT, PTD_PORT};

#[derive(Debug, Subcommand)]
pub enum PowerSimCommand {
    /// A simulated SPEC PTDaemon (port 8888 by default).
    Ptd(MeterArgs),
    /// A simulated MLPerf power director (port 4950 by default) in front
    /// of a simulated PTDaemon it starts per session.
    Director(DirectorArgs),
}

#[derive(Debug, Args)]
pub struct MeterArgs {
    /// The port to listen on [default: 8888 for ptd, 4950 for director].
    #[arg(long)]
    port: Option<u16>,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Seeds the watts: the same seed gives the same samples.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The mean load in watts (samples vary by ±3%).
    #[arg(long, default_value_t = 250.0)]
    watts: f64,
    /// Milliseconds between samples [default: Go's interval, 1000].
    #[arg(long)]
    sample_ms: Option<u64>,
    /// Drop the connection, unanswered, after this many commands.
    #[arg(long)]
    drop_after: Option<usize>,
}

#[derive(Debug, Args)]
pub struct DirectorArgs {
    #[command(flatten)]
    meter: MeterArgs,
    /// Where sessions are kept until the client's cleanup
    /// [default: a folder under the system's temp dir].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Milliseconds the meter settles around each measurement (power-dev
    /// waits 10 s).
    #[arg(long, default_value_t = 1000)]
    settle_ms: u64,
    /// Drop the client's connection on the first command containing this
    /// text (e.g. `stop,testing`).
    #[arg(long)]
    drop_on: Option<String>,
}

impl MeterArgs {
    fn config(&self) -> SimPtdConfig {
        SimPtdConfig {
            seed: self.seed,
            base_watts: self.watts,
            sample_period: self.sample_ms.map(Duration::from_millis),
            drop_after_commands: self.drop_after,
        }
    }

    fn address(&self, default_port: u16) -> String {
        format!("{}:{}", self.bind, self.port.unwrap_or(default_port))
    }
}

pub fn run(command: PowerSimCommand) -> Result<std::process::ExitCode> {
    match command {
        PowerSimCommand::Ptd(args) => {
            let addr = args.address(PTD_PORT);
            let ptd = SimPtd::start(&addr, args.config())
                .with_context(|| format!("cannot listen on {addr}"))?;
            println!(
                "yardstick: simulated PTDaemon on {} (seed {}); Ctrl-C stops it",
                ptd.addr(),
                args.seed
            );
            serve_forever()
        }
        PowerSimCommand::Director(args) => {
            let addr = args.meter.address(DIRECTOR_PORT);
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| std::env::temp_dir().join("yardstick-power-sim"));
            let mut config = SimDirectorConfig::new(out.clone());
            config.ptd = args.meter.config();
            config.settle = Duration::from_millis(args.settle_ms);
            config.drop_on = args.drop_on.clone();
            let director = SimDirector::start(&addr, config)
                .with_context(|| format!("cannot listen on {addr}"))?;
            println!(
                "yardstick: simulated power director on {} (seed {}, sessions in {}); Ctrl-C stops it",
                director.addr(),
                args.meter.seed,
                out.display()
            );
            serve_forever()
        }
    }
}

/// The servers run on their own threads until the process is stopped.
fn serve_forever() -> Result<std::process::ExitCode> {
    use std::io::Write;
    std::io::stdout().flush().context("writing to stdout")?;
    loop {
        std::thread::park();
    }
}

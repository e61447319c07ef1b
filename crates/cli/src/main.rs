//! `yardstick`: fair, fast, reproducible benchmarks for ML systems.
//!
//! A thin binary: argument parsing and wiring of the library crates.

mod bench;
mod golden_case;
mod progress;
mod report;
mod run_cmd;
mod settings_args;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "yardstick",
    version,
    about = "Fair, fast, reproducible benchmarks for ML systems (MLPerf LoadGen semantics)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a benchmark against a built-in SUT and write MLPerf logs.
    Run(Box<run_cmd::RunArgs>),
    /// Replay a reference case of ../shared/golden (gen.py's case.json) with
    /// the built-in null SUT and write the same files gen.py writes.
    GoldenCase(golden_case::GoldenCaseArgs),
    /// Benchmarks of yardstick itself.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run_cmd::run(*args),
        Command::GoldenCase(args) => golden_case::run(args),
        Command::Bench(cmd) => bench::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("yardstick: error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

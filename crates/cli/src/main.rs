//! `yardstick`: fair, fast, reproducible benchmarks for ML systems.
//!
//! A thin binary: argument parsing and wiring of the library crates.

mod accuracy_cmd;
mod audit_cmd;
mod bench;
mod check_cmd;
mod compare_cmd;
mod endpoint_cmd;
mod golden_case;
mod import_cmd;
mod power;
mod power_director;
mod power_sim;
mod progress;
mod recording;
mod report;
mod report_cmd;
mod run_cmd;
mod run_refs;
mod runs_cmd;
mod scale_cmd;
mod serve_cmd;
mod settings_args;
mod signals;
mod submission_cmd;
mod system_cmd;
mod train_builtin;
mod train_check_cmd;
mod train_cmd;
mod train_job;
mod train_package_cmd;
mod train_wrap;

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
    /// Benchmark an HTTP model server (OpenAI-compatible or plain JSON).
    Endpoint(Box<endpoint_cmd::EndpointArgs>),
    /// Check an HTTP endpoint and report what it serves.
    Probe(endpoint_cmd::ProbeArgs),
    /// A built-in OpenAI-compatible server for tests and client measurements.
    MockServer(endpoint_cmd::MockServerArgs),
    /// Score an MLPerf accuracy log against a quality target.
    Accuracy(accuracy_cmd::AccuracyArgs),
    /// Run an MLPerf Inference compliance test (TEST01, TEST04, TEST06, TEST09)
    /// against a SUT and write its official verdict files.
    Audit(Box<audit_cmd::AuditArgs>),
    /// Train a reference workload and report time-to-train.
    Train(train_check_cmd::TrainCli),
    /// One run of the built-in trainer, as `train WORKLOAD` starts it.
    #[command(hide = true)]
    TrainJob(train_builtin::TrainJobArgs),
    /// Run one benchmark on 1, 2, 4, ... GPUs of this host: throughput and
    /// scaling efficiency per GPU count, NCCL collective bandwidth.
    Scale(Box<scale_cmd::ScaleArgs>),
    /// Write one self-contained HTML report of one or more runs (overlaid).
    Report(report_cmd::ReportArgs),
    /// Compare two runs or groups of runs metric by metric (medians, 95%
    /// intervals, Mann-Whitney U; `~` = no significant difference).
    Compare(compare_cmd::CompareArgs),
    /// List, show, tag, delete and export the runs of the results store.
    Runs(runs_cmd::RunsArgs),
    /// Import runs other tools wrote (MLPerf LoadGen output, MLPerf
    /// Endpoints results, MLPerf Inference submission trees) into the store.
    Import(import_cmd::ImportArgs),
    /// A local web UI over the results store (127.0.0.1, read-only unless told otherwise).
    Serve(serve_cmd::ServeArgs),
    /// The system description: `init` writes the facts no probe can know, `show` prints it.
    #[command(subcommand)]
    System(system_cmd::SystemCommand),
    /// MLPerf Inference submissions: `build` assembles a tree from runs.
    #[command(subcommand)]
    Submission(submission_cmd::SubmissionCommand),
    /// Check an MLPerf Inference submission tree as the official submission
    /// checker of its round does (v5.1, v6.0), and more strictly where it is lax.
    Check(check_cmd::CheckArgs),
    /// A simulated SPEC PTDaemon or MLPerf power director, for runs and
    /// tests without a meter (`--power ptd://` / `director://`).
    #[command(subcommand)]
    PowerSim(power_sim::PowerSimCommand),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run_cmd::run(*args),
        Command::GoldenCase(args) => golden_case::run(args),
        Command::Bench(cmd) => bench::run(cmd),
        Command::Endpoint(args) => endpoint_cmd::run_endpoint(*args),
        Command::Probe(args) => endpoint_cmd::run_probe(args),
        Command::MockServer(args) => endpoint_cmd::run_mock_server(args),
        Command::Accuracy(args) => accuracy_cmd::run(args),
        Command::Audit(args) => audit_cmd::run(*args),
        Command::Train(cli) => train_check_cmd::run(cli),
        Command::TrainJob(args) => train_builtin::run(args),
        Command::Scale(args) => scale_cmd::run(*args),
        Command::Report(args) => report_cmd::run(args),
        Command::Compare(args) => compare_cmd::run(args),
        Command::Runs(args) => runs_cmd::run(args),
        Command::Import(args) => import_cmd::run(args),
        Command::Serve(args) => serve_cmd::run(args),
        Command::System(cmd) => system_cmd::run(cmd),
        Command::Submission(cmd) => submission_cmd::run(cmd),
        Command::Check(args) => check_cmd::run(args),
        Command::PowerSim(cmd) => power_sim::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("yardstick: error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

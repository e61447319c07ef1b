//! `yardstick submission build`: runs to an MLPerf Inference submission
//! tree (yardstick-submission's `build`). Here: naming runs, asking for
//! what submission.toml lacks on a terminal, printing.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use yardstick_pipeline::record::{read_record, RunRecord, RUN_JSON};
use yardstick_submission::build::{
    self, locate_config, BuildError, BuildOptions, ComplianceInput, RunInput, SubmissionConfig,
};
use yardstick_submission::check::Round;

use crate::run_refs::RunResolver;

#[derive(Debug, Subcommand)]
pub enum SubmissionCommand {
    /// Assemble an MLPerf Inference submission tree from runs: the LoadGen
    /// logs, accuracy.txt (hashed, the log truncated), compliance TESTxx
    /// folders, measurements, user.conf, README, systems/<system>.json and
    /// code/ (src/ from v6.0).
    Build(BuildArgs),
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The runs: each result needs a performance run and an accuracy run
    /// (or one SubmissionRun). Run ids (or unique prefixes) of the results
    /// store, run folders, run.json files, tag:NAME or group:ID.
    #[arg(required = true)]
    runs: Vec<String>,
    /// The tree's root (the folder above closed/ or open/).
    #[arg(short, long)]
    output: PathBuf,
    /// The round whose layout to write: v6.0 (results/.../measurements.json,
    /// TESTxx beside the logs, src/) or v5.1 (measurements/, compliance/, code/).
    #[arg(long, default_value = "v6.0")]
    round: String,
    /// submission.toml to read (and store answers in); by default the
    /// tree root's, else $XDG_CONFIG_HOME/yardstick/submission.toml.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Compliance output to copy in: a TESTxx folder or a folder of them
    /// (`yardstick audit` output), as DIR (its logs name the scenario) or
    /// BENCHMARK/SCENARIO=DIR. Repeatable.
    #[arg(long)]
    compliance: Vec<String>,
    /// The MLPerf benchmark name of every run, instead of each run's model.
    #[arg(long)]
    benchmark: Option<String>,
    /// Take performance runs that are not VALID (the checker refuses them).
    #[arg(long)]
    allow_invalid: bool,
    /// Replace results already in the tree.
    #[arg(long)]
    force: bool,
    /// Never ask, even on a terminal: fail naming what submission.toml lacks.
    #[arg(long)]
    no_input: bool,
    /// The results store (default: $YARDSTICK_STORE or the per-user store).
    #[arg(long)]
    store: Option<PathBuf>,
}

pub fn run(cmd: SubmissionCommand) -> Result<std::process::ExitCode> {
    match cmd {
        SubmissionCommand::Build(args) => run_build(args),
    }
}

/// The folder of a stored run's logs: where its record says they are
/// (paths as written, relative to where the run was started).
fn stored_run_dir(record: &RunRecord) -> Result<PathBuf> {
    let file = record
        .file("run_json")
        .or_else(|| record.file("summary"))
        .with_context(|| format!("run {} records no log files", record.id))?;
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    if !dir.join("mlperf_log_summary.txt").is_file() {
        bail!(
            "run {}: its logs are not in {} (paths are recorded relative to where the run was started): name the run folder instead",
            record.id,
            dir.display()
        );
    }
    Ok(dir)
}

/// Every run the arguments name, each with its folder.
fn resolve_runs(specs: &[String], store: Option<PathBuf>) -> Result<Vec<RunInput>> {
    let mut resolver = RunResolver::new(store);
    let mut runs = Vec::new();
    for spec in specs {
        let path = Path::new(spec);
        if path.is_file() {
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let dir = if dir.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                dir
            };
            runs.push(RunInput {
                record: read_record(path)?,
                dir,
            });
        } else if path.join(RUN_JSON).is_file() {
            runs.push(RunInput {
                record: read_record(path)?,
                dir: path.to_path_buf(),
            });
        } else if path.is_dir() {
            for child in crate::run_refs::run_folders_in(path)? {
                runs.push(RunInput {
                    record: read_record(&child)?,
                    dir: child,
                });
            }
        } else {
            for record in resolver.resolve(spec)? {
                let dir = stored_run_dir(&record)?;
                runs.push(RunInput { record, dir });
            }
        }
    }
    Ok(runs)
}

/// Asks each question on the terminal; an empty answer leaves the key unset.
fn ask(config: &mut SubmissionConfig, keys: &[build::MissingKey]) -> Result<()> {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    eprintln!(
        "yardstick: the submission needs {} value(s) no run can know:",
        keys.len()
    );
    for key in keys {
        eprint!("  {} [{}]: ", key.question, key.key.path());
        std::io::stderr().flush().ok();
        let Some(line) = lines.next() else { break };
        let line = line.context("reading an answer")?;
        if !line.trim().is_empty() {
            config.set(&key.key, &line);
        }
    }
    Ok(())
}

fn run_build(args: BuildArgs) -> Result<std::process::ExitCode> {
    let round = Round::builtin(&args.round)?;
    let runs = resolve_runs(&args.runs, args.store.clone())?;
    let compliance: Vec<ComplianceInput> = args
        .compliance
        .iter()
        .map(|c| ComplianceInput::parse(c))
        .collect();
    let options = BuildOptions {
        output: args.output.clone(),
        round,
        benchmark: args.benchmark.clone(),
        allow_invalid: args.allow_invalid,
        force: args.force,
    };
    let config_path = locate_config(args.config.as_deref(), &args.output);
    let mut config = SubmissionConfig::load(&config_path)?;
    let missing = build::missing_keys(&runs, &config, &options);
    let interactive =
        !args.no_input && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !missing.is_empty() && interactive {
        ask(&mut config, &missing)?;
        config.save(&config_path)?;
        eprintln!("yardstick: answers kept in {}", config_path.display());
    }
    let report = match build::build(&runs, &compliance, &config, &config_path, &options) {
        Ok(report) => report,
        Err(e @ BuildError::Missing { .. }) => {
            if let BuildError::Missing { keys, .. } = &e {
                eprintln!("yardstick: submission.toml lacks:");
                for k in keys {
                    eprintln!("  {} = ...    # {}", k.key.path(), k.question);
                }
            }
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    for note in &report.notes {
        eprintln!("yardstick: note: {note}");
    }
    println!(
        "submission tree ({}) in {}: {} files",
        args.round,
        report.submitter_dir.display(),
        report.files_written
    );
    for r in &report.results {
        let tests = if r.compliance.is_empty() {
            "no compliance tests".to_string()
        } else {
            r.compliance.join(", ")
        };
        println!(
            "  {} {}: performance {}, accuracy {}, {} -> {}",
            r.benchmark,
            r.scenario,
            r.performance_run,
            r.accuracy_run,
            tests,
            r.dir.display()
        );
    }
    println!("  system: {}", report.system_file.display());
    Ok(std::process::ExitCode::SUCCESS)
}

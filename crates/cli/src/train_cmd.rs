//! `yardstick train`: time-to-train of a training job, logged in MLPerf
//! Training's `:::MLLOG` format: `yardstick train -- CMD ARGS...` runs any
//! job; `yardstick train fashion-mnist` runs the built-in reference trainer
//! as such a job (this binary's hidden `train-job`, [`crate::train_builtin`]).
//! Both go through one wrapper ([`crate::train_wrap`]): it starts each
//! seeded run, reads its log live, times it from `run_start` to `run_stop`,
//! stops it on the time limit, checks the log's compliance, records the run
//! and scores the set.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use yardstick_pipeline::record::SutInfo;
use yardstick_workloads::model::ARCHITECTURE;

use crate::recording::RecordingArgs;
use crate::train_builtin::{resolve, BuiltinArgs};
use crate::train_wrap::{program_name, Job, RuleSet};

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// The workload: a built-in name (fashion-mnist) or a workload file
    /// (.toml). With `-- CMD`, only the name the runs are recorded under.
    pub workload: Option<String>,
    /// The training job to run instead of a built-in workload, after `--`:
    /// any command that writes `:::MLLOG` lines to stdout/stderr or to the
    /// file named by $YARDSTICK_MLLOG; it gets the run's seed as $SEED and
    /// $YARDSTICK_SEED.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
    /// The runs' seeds, comma-separated (instead of --seed and --runs).
    #[arg(long, value_delimiter = ',', value_name = "SEEDS")]
    pub seeds: Vec<u64>,
    /// Stop a run still going after this long (wall clock, e.g. 30m); it
    /// is then an incomplete run.
    #[arg(long, value_name = "DURATION")]
    pub time_limit: Option<humantime::Duration>,
    /// How long a job may go on after logging run_stop before it is
    /// stopped (its time-to-train is not affected).
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub stop_grace: humantime::Duration,
    /// The round whose compliance rules each complete run's log is checked
    /// against (training 5.1.0, 6.0.0, 6.1.0; the built-in workloads:
    /// yardstick's reference rules of 5.1.0, docs/training.md).
    #[arg(long, default_value = "5.1.0")]
    pub ruleset: String,
    /// Number of runs (MLPerf's olympic score needs at least 3).
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
    /// Seed of the first run; run i uses seed + i (see --seeds).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Quality target (top-1 fraction for the built-in workload, instead
    /// of its own; with `-- CMD`, shown beside each eval and recorded).
    #[arg(long)]
    pub target: Option<f64>,
    #[command(flatten)]
    pub builtin: BuiltinArgs,
    /// Folder for the result_<i>.txt logs.
    #[arg(long, short = 'o', default_value = "yardstick-train-out")]
    pub output: PathBuf,
    /// Do not echo the job's output (its :::MLLOG lines included).
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub recording: RecordingArgs,
    #[command(flatten)]
    pub power: crate::power::PowerArgs,
}

/// The rules a built-in reference workload's log is checked against: the
/// round's common rules with yardstick's reference-workload benchmark list
/// and rule files (training-rules' `rules/yardstick-reference_<round>/`),
/// since the reference workloads are not MLPerf benchmarks.
pub const REFERENCE_RULES: &str = "yardstick-reference";

pub fn run(args: TrainArgs) -> Result<ExitCode> {
    let job = if args.command.is_empty() {
        builtin_job(&args)?
    } else {
        command_job(&args)?
    };
    crate::train_wrap::run(&args, job)
}

/// `train -- CMD ARGS...`: the user's job, checked against MLPerf's rules.
fn command_job(args: &TrainArgs) -> Result<Job> {
    let (program, job_args) = args
        .command
        .split_first()
        .context("yardstick train --: no command given")?;
    let name = program_name(program);
    Ok(Job {
        program: program.into(),
        args: job_args.iter().map(Into::into).collect(),
        command_text: args.command.join(" "),
        workload: args.workload.clone().unwrap_or_else(|| name.clone()),
        sut: SutInfo {
            name,
            kind: "training-job".into(),
            params: [("command".to_string(), args.command.join(" "))].into(),
        },
        target: args.target,
        rules: RuleSet {
            usage: "training".into(),
            round: args.ruleset.clone(),
        },
    })
}

/// `train WORKLOAD`: the built-in trainer, one `yardstick train-job` per
/// run. Its flags and files are checked here, before any run starts.
fn builtin_job(args: &TrainArgs) -> Result<Job> {
    let Some(workload) = &args.workload else {
        anyhow::bail!("yardstick train: give a workload (fashion-mnist) or a command after `--`");
    };
    let resolved = resolve(workload, &args.builtin, args.target)?;
    let config = &resolved.config;
    let runs = crate::train_wrap::seeds(args)?.len();
    let program = std::env::current_exe().context("finding the yardstick binary")?;
    let mut job_args: Vec<std::ffi::OsString> = vec!["train-job".into(), workload.into()];
    // The resolved target and threads, so every run and the record agree.
    let mut builtin = args.builtin.clone();
    builtin.threads = Some(config.threads);
    job_args.extend(builtin.to_argv());
    job_args.extend([
        "--target".into(),
        format!("{:?}", config.target_accuracy).into(),
        "--set-size".into(),
        runs.to_string().into(),
    ]);
    let command_text = std::iter::once("yardstick".to_string())
        .chain(job_args.iter().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Job {
        program: program.into_os_string(),
        args: job_args,
        command_text: command_text.clone(),
        workload: resolved.workload.name().to_string(),
        sut: SutInfo {
            name: ARCHITECTURE.to_string(),
            kind: "training".into(),
            params: [
                ("command".to_string(), command_text),
                ("batch_size".to_string(), config.batch_size.to_string()),
                (
                    "learning_rate".to_string(),
                    config.learning_rate.to_string(),
                ),
                ("max_epochs".to_string(), config.max_epochs.to_string()),
                ("threads".to_string(), config.threads.to_string()),
            ]
            .into(),
        },
        target: Some(config.target_accuracy),
        rules: RuleSet {
            usage: REFERENCE_RULES.into(),
            round: args.ruleset.clone(),
        },
    })
}

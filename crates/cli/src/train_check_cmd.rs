//! `yardstick train check-log FILE`: a training log checked against the
//! compliance rules of an MLPerf Training round, as mlperf-logging's
//! `compliance_checker` checks it (same verdict, same messages), with each
//! message's line, key and rule.
//!
//! `train` keeps running training jobs (`train_cmd`); this module adds the
//! subcommands under it. (Other `train` subcommands, e.g. `train check DIR`,
//! register in [`TrainCommand`].)

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand as _;
use yardstick_training_rules::compliance::{check_log, Report, RuleFiles, Severity};

use crate::train_cmd;

/// `yardstick train`: a training run (`train_cmd`'s arguments), or one of
/// the subcommands. Written by hand because a flattened `Option` of
/// `TrainArgs` (which itself flattens) is never set by clap's derive.
#[derive(Debug)]
pub enum TrainCli {
    Run(Box<train_cmd::TrainArgs>),
    Command(TrainCommand),
}

impl clap::FromArgMatches for TrainCli {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Self::from_arg_matches_mut(&mut matches.clone())
    }

    fn from_arg_matches_mut(matches: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
        if matches.subcommand_name().is_some() {
            Ok(Self::Command(TrainCommand::from_arg_matches_mut(matches)?))
        } else {
            Ok(Self::Run(Box::new(
                train_cmd::TrainArgs::from_arg_matches_mut(matches)?,
            )))
        }
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl clap::Args for TrainCli {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let cmd = train_cmd::TrainArgs::augment_args(cmd);
        TrainCommand::augment_subcommands(cmd)
            .args_conflicts_with_subcommands(true)
            .subcommand_negates_reqs(true)
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum TrainCommand {
    /// Check a training log against a round's compliance rules (as
    /// mlperf-logging's compliance_checker does). Exit 0: SUCCESS, 1:
    /// FAILED, 2: no verdict (the official checker would crash).
    CheckLog(CheckLogArgs),
    /// Check a submitter's folder (results/<system>/<benchmark>/result_N.txt,
    /// systems/<system>.json) as the package checker, RCP checker and result
    /// summarizer do; print the scores. Exit 0: no errors, 1: errors.
    Check(crate::train_package_cmd::CheckArgs),
}

#[derive(Debug, clap::Args)]
pub struct CheckLogArgs {
    /// The log (`result_N.txt`, or any file with `:::MLLOG` lines).
    pub file: PathBuf,
    /// The rules' round, e.g. 5.1.0 (MLPerf Training v5.1) or 6.0.0.
    #[arg(long, default_value = "5.1.0")]
    pub ruleset: String,
    /// Whose rules: `training` (MLPerf Training's), or
    /// `yardstick-reference` (the built-in reference trainer's logs).
    #[arg(long, default_value = "training")]
    pub usage: String,
    /// The benchmark the log must be for (its submission_benchmark); the
    /// official checker takes it from the log and does not ask.
    #[arg(long)]
    pub benchmark: Option<String>,
    /// Output: text, or the whole report as JSON.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub fn run(cli: TrainCli) -> Result<ExitCode> {
    match cli {
        TrainCli::Command(TrainCommand::CheckLog(args)) => check_log_cmd(args),
        TrainCli::Command(TrainCommand::Check(args)) => crate::train_package_cmd::run(args),
        TrainCli::Run(args) => train_cmd::run(*args),
    }
}

fn check_log_cmd(args: CheckLogArgs) -> Result<ExitCode> {
    // A `.txt.xz` log (as result folders are often kept) reads as its `.txt`.
    let log = yardstick_training_rules::package::read_result_file(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let rules = RuleFiles::embedded().context("loading the embedded rule files")?;
    let report = check_log(&rules, &args.usage, &args.ruleset, &log)
        .with_context(|| format!("{}: no verdict", args.file.display()))?;
    let benchmark_mismatch = match (&args.benchmark, &report.benchmark) {
        (Some(wanted), Some(found)) if wanted != found => Some(format!(
            "the log is for benchmark '{found}', not '{wanted}'"
        )),
        (Some(wanted), None) => Some(format!("the log names no benchmark ('{wanted}' expected)")),
        _ => None,
    };
    let passed = report.passed && benchmark_mismatch.is_none();
    match args.format {
        Format::Json => {
            let mut value = serde_json::to_value(&report).context("serialising the report")?;
            if let Some(obj) = value.as_object_mut() {
                obj.insert("file".into(), args.file.display().to_string().into());
                obj.insert("ruleset".into(), args.ruleset.clone().into());
                obj.insert(
                    "benchmark_mismatch".into(),
                    benchmark_mismatch.clone().into(),
                );
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&value).context("serialising the report")?
            );
        }
        Format::Text => print_text(&args, &report, benchmark_mismatch.as_deref()),
    }
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_text(args: &CheckLogArgs, report: &Report, benchmark_mismatch: Option<&str>) {
    let verdict = if report.passed && benchmark_mismatch.is_none() {
        "SUCCESS"
    } else {
        "FAILED"
    };
    let files: Vec<&str> = report
        .configs_checked
        .iter()
        .map(|c| c.rsplit('/').next().unwrap_or(c))
        .collect();
    println!(
        "{}: {verdict} (training {} rules: {})",
        args.file.display(),
        args.ruleset,
        files.join(", ")
    );
    for message in &report.messages {
        let severity = match message.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        let mut place = Vec::new();
        if let Some(key) = &message.key {
            place.push(format!("key {key}"));
        }
        if let Some(line) = message.line {
            place.push(format!("MLLOG line {line}"));
        }
        place.push(match &message.rule {
            Some(r) => format!("rule {} {} {}", r.file, r.record, r.field),
            None => "from the log parser".into(),
        });
        println!("  {severity}: {}", message.head());
        // The reason: the failing test, where the official text names one.
        if let Some(test) = message.text.lines().find(|l| l.starts_with("failed test:")) {
            println!("      {test}");
        }
        println!("      {}", place.join(", "));
    }
    for error in &report.parse_errors {
        println!("  parse error, MLLOG line {}: {}", error.line, error.error);
    }
    if let Some(mismatch) = benchmark_mismatch {
        println!("  error: {mismatch} (--benchmark; not an official check)");
    }
}

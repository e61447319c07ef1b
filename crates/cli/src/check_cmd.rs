//! `yardstick check DIR`: an MLPerf Inference submission tree checked as the
//! official submission checker of its round does (yardstick-submission's
//! `check`). Here: flags, the CSV file, printing and the exit status.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use yardstick_submission::check::{self, CheckOptions};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The tree's root: the folder holding closed/, open/ or network/.
    pub dir: PathBuf,
    /// The round whose rules apply (v5.1, v6.0); by default the round whose
    /// seeds the tree's performance runs carry, else the newest.
    #[arg(long)]
    pub round: Option<String>,
    /// Print the report as JSON (findings with file, line, rule, reason and
    /// scope; results; the verdict) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Write the results table to this file with the official summary.csv's
    /// columns (valid results only, as the official checker writes it).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Leave the compliance folders unchecked.
    #[arg(long)]
    pub skip_compliance: bool,
}

/// Exit status 0 when the tree passes, 1 when it does not.
pub fn run(args: CheckArgs) -> Result<ExitCode> {
    let options = CheckOptions {
        round: args.round,
        skip_compliance: args.skip_compliance,
    };
    let report = check::check_tree(&args.dir, &options)
        .with_context(|| format!("checking {}", args.dir.display()))?;
    if let Some(path) = &args.csv {
        std::fs::write(path, report.summary_csv())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", check::render_text(&report));
    }
    Ok(if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

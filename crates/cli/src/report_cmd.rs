//! `yardstick report RUN...`: one self-contained HTML page for the named
//! runs (see yardstick-report), written to a file that opens offline.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use crate::run_refs::RunResolver;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Runs to show, overlaid: a run.json, a run folder, a folder of run
    /// folders, tag:NAME, group:ID, or a run id (or unique prefix) in the
    /// results store.
    #[arg(required = true, value_name = "RUN")]
    pub runs: Vec<String>,
    /// Where to write the page [default: report.html in the run's folder
    /// for one run folder, else ./report.html].
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Open the page in the default browser afterwards.
    #[arg(long)]
    pub open: bool,
    /// The page title [default: from the runs].
    #[arg(long)]
    pub title: Option<String>,
    /// The results store (SQLite) for ids, tags and groups [default:
    /// $YARDSTICK_STORE, else the per-user store].
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
}

pub fn run(args: ReportArgs) -> Result<ExitCode> {
    let mut resolver = RunResolver::new(args.store.clone());
    let runs = resolver.resolve_all(&args.runs)?;
    let options = yardstick_report::ReportOptions {
        title: args.title.clone(),
        generated_at: Some(chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string()),
    };
    let html = yardstick_report::render_html(&runs, &options);
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| default_output(&args.runs));
    std::fs::write(&output, html)
        .with_context(|| format!("writing the report {}", output.display()))?;
    let shown = std::fs::canonicalize(&output).unwrap_or(output.clone());
    println!(
        "report of {} run{}: {}",
        runs.len(),
        if runs.len() == 1 { "" } else { "s" },
        shown.display()
    );
    println!(
        "  open it: xdg-open {} (or file://{})",
        shown.display(),
        shown.display()
    );
    if args.open {
        open_in_browser(&shown);
    }
    Ok(ExitCode::SUCCESS)
}

/// `report.html` beside the run for one run folder, else in the current
/// folder.
fn default_output(specs: &[String]) -> PathBuf {
    match specs {
        [one]
            if Path::new(one)
                .join(yardstick_pipeline::record::RUN_JSON)
                .is_file() =>
        {
            Path::new(one).join("report.html")
        }
        _ => PathBuf::from("report.html"),
    }
}

/// Best effort: a missing opener is a warning, the page is written.
fn open_in_browser(path: &Path) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    match std::process::Command::new(opener).arg(path).status() {
        Ok(status) if status.success() => {}
        Ok(status) => eprintln!("yardstick: warning: {opener} exited with {status}"),
        Err(e) => eprintln!("yardstick: warning: cannot run {opener}: {e}"),
    }
}

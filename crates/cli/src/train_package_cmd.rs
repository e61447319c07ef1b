//! `yardstick train check DIR`: a training submission folder (the package
//! checker's layout: `results/<system>/<benchmark>/result_N.txt[.xz]`,
//! `systems/<system>.json`) checked as mlperf-logging's package checker,
//! RCP checker and result summarizer check it, printing the summarizer's
//! table (or its detailed CSV, or everything as JSON) and the package
//! checker's verdict. Exit 0: no errors, 1: errors.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use yardstick_training_rules::compliance::value::float_repr;
use yardstick_training_rules::compliance::RuleFiles;
use yardstick_training_rules::package::{check_submission, CheckOptions, SubmissionReport};
use yardstick_training_rules::summary::rows::{detailed_rows, Cell, Row};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The submitter's folder (holding `results/` and `systems/`).
    pub dir: PathBuf,
    /// The rules' round, e.g. 5.1.0 (MLPerf Training v5.1).
    #[arg(long, default_value = "5.1.0")]
    pub ruleset: String,
    /// table: the scores and verdicts; csv: the summarizer's
    /// summary_detailed.csv; json: the whole report.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Pass failed RCP checks with a warning (the package checker's
    /// --rcp-bypass).
    #[arg(long)]
    pub rcp_bypass: bool,
    /// Skip the seed checks (--seed-checker-bypass).
    #[arg(long)]
    pub seed_checker_bypass: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

pub fn run(args: CheckArgs) -> Result<ExitCode> {
    let rules = RuleFiles::embedded().context("loading the embedded rule files")?;
    let options = CheckOptions {
        rcp_bypass: args.rcp_bypass,
        seed_checker_bypass: args.seed_checker_bypass,
        ..CheckOptions::training(&args.ruleset)
    };
    // Messages name folders as the official tools do when run on the
    // folder's name from its parent.
    let label = args
        .dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| args.dir.display().to_string());
    let report = check_submission(&args.dir, &label, &rules, &options)
        .with_context(|| format!("checking {}", args.dir.display()))?;
    let (rows, row_errors) = detailed_rows(&report, &options.usage, &options.ruleset);
    match args.format {
        Format::Table => print_table(&report, &args.ruleset),
        Format::Csv => print_csv(&rows),
        Format::Json => {
            let value = serde_json::json!({
                "dir": args.dir.display().to_string(),
                "ruleset": args.ruleset,
                "package_checker": {
                    "passed": report.passed(),
                    "verdict": report.verdict_line(),
                    "errors": report.errors,
                    "warnings": report.warnings,
                },
                "systems": report.systems,
                "sets": report.sets,
                "summary_detailed": rows.iter().map(row_object).collect::<Vec<_>>(),
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&value).context("serialising the report")?
            );
        }
    }
    for (system, error) in &row_errors {
        eprintln!("{error} in {label}/systems/{system}.json");
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn row_object(row: &Row) -> serde_json::Value {
    serde_json::Value::Object(
        row.0
            .iter()
            .map(|(c, v)| (c.clone(), serde_json::to_value(v).unwrap_or_default()))
            .collect(),
    )
}

fn opt(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "-".into(), |v| format!("{v:.digits$}"))
}

fn print_table(report: &SubmissionReport, ruleset: &str) {
    println!(
        "Strong Scaling Scores ({}, training {ruleset}):",
        report.label
    );
    let header = [
        "system",
        "benchmark",
        "div",
        "runs",
        "dropped",
        "time_to_train_min",
        "GBS",
        "samples_to_converge",
        "RCP",
        "scaling.json",
        "RCP_norm",
    ];
    let mut lines: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for set in &report.sets {
        let score = &set.score;
        lines.push(vec![
            set.system.clone(),
            set.benchmark.clone(),
            set.division.clone(),
            score.runs.len().to_string(),
            score.dropped().to_string(),
            opt(score.score, 4),
            set.gbs.map_or_else(|| "-".into(), float_repr),
            opt(set.samples_to_converge, 4),
            set.rcp
                .as_ref()
                .map_or_else(|| "-".into(), |r| r.summary_column().to_string()),
            format!("{:.5}", score.scaling_factor),
            set.rcp
                .as_ref()
                .map_or_else(|| "-".into(), |r| format!("{:.5}", r.norm_factor)),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| lines.iter().map(|l| l[i].len()).max().unwrap_or(0))
        .collect();
    for line in &lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", cells.join("  ").trim_end());
    }
    for set in &report.sets {
        for note in &set.score.notes {
            println!("{note}");
        }
    }
    let invalid = report.systems.iter().filter(|(_, c)| !c.valid).count();
    println!(
        "system descriptions: {} checked, {invalid} invalid",
        report.systems.len()
    );
    for error in &report.errors {
        println!("ERROR - {error}");
    }
    println!(
        "package checker: {} ({} errors, {} warnings)",
        report.verdict_line(),
        report.errors.len(),
        report.warnings.len()
    );
}

/// A CSV field as pandas' `to_csv` writes it (minimal quoting, floats as
/// Python's repr, no value as an empty field).
fn csv_field(cell: &Cell) -> String {
    let text = match cell {
        Cell::Str(s) => s.clone(),
        Cell::Int(i) => i.to_string(),
        Cell::Float(None) => String::new(),
        Cell::Float(Some(f)) => float_repr(*f),
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn print_csv(rows: &[Row]) {
    let Some(first) = rows.first() else {
        return;
    };
    let header: Vec<&str> = first.0.iter().map(|(c, _)| c.as_str()).collect();
    println!("{}", header.join(","));
    for row in rows {
        let fields: Vec<String> = row.0.iter().map(|(_, c)| csv_field(c)).collect();
        println!("{}", fields.join(","));
    }
}

//! `yardstick compare A B`: metric by metric, is B different from A (see
//! yardstick-compare for the statistics)?

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use yardstick_compare::{compare, to_json, to_markdown, to_text, CompareOptions};

use crate::run_refs::RunResolver;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompareFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The baseline: a run or group of runs (a run.json, a run folder, a
    /// folder of run folders, tag:NAME, group:ID, or a stored run id).
    #[arg(value_name = "A")]
    pub a: String,
    /// The candidate, named the same ways.
    #[arg(value_name = "B")]
    pub b: String,
    #[arg(long, value_enum, default_value = "text")]
    pub format: CompareFormat,
    /// Exit with status 1 when a main or latency metric of B is
    /// significantly worse than A's by more than PCT percent (for CI).
    #[arg(long, value_name = "PCT")]
    pub fail_if_slower: Option<f64>,
    /// Seed of the bootstrap used for two single runs.
    #[arg(long, default_value_t = 0x5EED)]
    pub seed: u64,
    /// The results store (SQLite) for ids, tags and groups [default:
    /// $YARDSTICK_STORE, else the per-user store].
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
}

pub fn run(args: CompareArgs) -> Result<ExitCode> {
    if let Some(pct) = args.fail_if_slower {
        anyhow::ensure!(
            pct.is_finite() && pct >= 0.0,
            "--fail-if-slower takes a percentage of 0 or more, not {pct}"
        );
    }
    let mut resolver = RunResolver::new(args.store.clone());
    let a = resolver
        .resolve(&args.a)
        .with_context(|| format!("reading A ({})", args.a))?;
    let b = resolver
        .resolve(&args.b)
        .with_context(|| format!("reading B ({})", args.b))?;
    let options = CompareOptions {
        seed: args.seed,
        label_a: args.a.clone(),
        label_b: args.b.clone(),
        ..CompareOptions::default()
    };
    let comparison = compare(&a, &b, &options);
    match args.format {
        CompareFormat::Text => print!("{}", to_text(&comparison)),
        CompareFormat::Markdown => print!("{}", to_markdown(&comparison)),
        CompareFormat::Json => println!(
            "{}",
            to_json(&comparison).context("encoding the comparison as JSON")?
        ),
    }
    if let Some(pct) = args.fail_if_slower {
        let slower = comparison.slower_than(pct);
        if !slower.is_empty() {
            for m in &slower {
                eprintln!(
                    "yardstick: {} is {:.1}% worse in B (limit {pct}%)",
                    m.name,
                    m.worse_percent().unwrap_or(0.0)
                );
            }
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}

//! `yardstick import DIR`: put what other tools (and yardstick itself)
//! wrote into the results store, so a user's history sits in one place.
//!
//! Walks DIR recursively and, folder by folder, reads:
//! - a yardstick run folder (`run.json`), as is;
//! - MLPerf LoadGen output (`mlperf_log_summary.txt` + `_detail.txt`), the
//!   official LoadGen's or ours, inside an MLPerf Inference submission tree
//!   (`results/<system>/<benchmark>/<scenario>/...`) or not;
//! - MLPerf Endpoints results (`performance/result_summary.json`) and
//!   yardstick endpoint point folders (`result_summary.json`).
//!
//! The readers live beside the writers (`yardstick_logs::read`,
//! `yardstick_endpoint::import`); this command only walks and stores.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;
use yardstick_logs::read::{
    find_loadgen_runs, is_submission_tree, read_loadgen_run, submission_context, RunContext,
};
use yardstick_pipeline::record::{read_record, RunRecord, RUN_JSON};
use yardstick_store::imported_run_id;

use crate::runs_cmd::StoreArg;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The folder to import: a LoadGen output folder, an MLPerf Endpoints
    /// result folder, an MLPerf Inference submission tree, yardstick output,
    /// or any folder holding some of these.
    pub dir: PathBuf,
    /// Tag every imported run (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    #[command(flatten)]
    pub store: StoreArg,
}

/// One run found, before it is stored.
struct Found {
    format: &'static str,
    source: PathBuf,
    record: RunRecord,
}

#[derive(Default)]
struct Walk {
    found: Vec<Found>,
    skipped: Vec<(PathBuf, String)>,
    /// Summary files already read (an Endpoints report folder's
    /// `performance/` is reached twice: from the report folder and itself).
    consumed: HashSet<PathBuf>,
}

pub fn run(args: ImportArgs) -> Result<ExitCode> {
    let root = args
        .dir
        .canonicalize()
        .map_err(|e| anyhow::anyhow!("cannot import {}: {e}", args.dir.display()))?;
    if !root.is_dir() {
        bail!("cannot import {}: not a folder", args.dir.display());
    }
    let kind = if is_submission_tree(&root) {
        "an MLPerf Inference submission tree"
    } else if !find_loadgen_runs(&root).is_empty() {
        "an MLPerf LoadGen output folder"
    } else if yardstick_endpoint::import::find_endpoint_result(&root).is_some() {
        "an endpoint result folder"
    } else if root.join(RUN_JSON).is_file() {
        "a yardstick run folder"
    } else {
        "a folder; looking for runs inside it"
    };
    println!("{}: {kind}", root.display());
    let mut walk = Walk::default();
    visit(&root, &mut walk);
    if walk.found.is_empty() && walk.skipped.is_empty() {
        bail!(
            "nothing to import in {}: no run.json, mlperf_log_summary.txt or result_summary.json in it or below it",
            root.display()
        );
    }
    let mut store = args.store.open()?;
    let mut by_format: BTreeMap<&str, usize> = BTreeMap::new();
    for mut f in walk.found {
        for t in &args.tags {
            if !f.record.tags.contains(t) {
                f.record.tags.push(t.clone());
            }
        }
        if let Err(e) = store.put(&f.record) {
            walk.skipped
                .push((f.source.clone(), format!("cannot store it: {e:#}")));
            continue;
        }
        *by_format.entry(f.format).or_default() += 1;
        let r = &f.record;
        let metric = r
            .primary_metric()
            .map(|m| format!("{} {} {}", m.name, m.value, m.unit))
            .unwrap_or_else(|| "no metric".to_string());
        println!(
            "imported {}  {:<18} {} {} {}  {}  {metric}  from {}",
            r.id,
            f.format,
            if r.workload.name.is_empty() {
                "-"
            } else {
                &r.workload.name
            },
            r.workload.scenario.as_deref().unwrap_or("-"),
            r.workload.mode.as_deref().unwrap_or(""),
            r.validity.verdict.as_str(),
            f.source.display()
        );
    }
    for (path, why) in &walk.skipped {
        println!("skipped  {}: {why}", path.display());
    }
    let total: usize = by_format.values().sum();
    let formats: Vec<String> = by_format.iter().map(|(k, n)| format!("{n} {k}")).collect();
    println!(
        "{total} run(s) imported{} into {}; {} skipped",
        if formats.is_empty() {
            String::new()
        } else {
            format!(" ({})", formats.join(", "))
        },
        store.path().display(),
        walk.skipped.len()
    );
    Ok(if total == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Reads the runs of `dir`, then its sub-folders (symbolic links are not
/// followed, so a link cycle cannot trap the walk), in name order.
fn visit(dir: &Path, walk: &mut Walk) {
    read_folder(dir, walk);
    let Ok(entries) = std::fs::read_dir(dir) else {
        walk.skipped
            .push((dir.to_path_buf(), "cannot list the folder".to_string()));
        return;
    };
    let mut subdirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    subdirs.sort();
    for d in subdirs {
        visit(&d, walk);
    }
}

fn read_folder(dir: &Path, walk: &mut Walk) {
    // yardstick's own record says everything; the logs beside it are its files.
    let run_json = dir.join(RUN_JSON);
    if run_json.is_file() {
        match read_record(&run_json) {
            Ok(record) => walk.found.push(Found {
                format: "yardstick",
                source: dir.to_path_buf(),
                record,
            }),
            Err(e) => walk.skipped.push((run_json, error_text(&e))),
        }
        mark_consumed(dir, walk);
        return;
    }
    for files in find_loadgen_runs(dir) {
        if !walk.consumed.insert(files.summary.clone()) {
            continue;
        }
        let (format, context) = match submission_context(dir) {
            Some(ctx) if is_submission_tree(dir) => ("mlperf_submission", ctx),
            _ => (
                "mlperf_loadgen",
                RunContext {
                    format: "mlperf_loadgen".to_string(),
                    ..Default::default()
                },
            ),
        };
        match read_loadgen_run(&files, &context) {
            Ok(mut record) => {
                if record.workload.name.is_empty() {
                    // A bare LoadGen folder does not name its benchmark:
                    // the folder's name stands in.
                    record.workload.name = dir
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                }
                record.id = imported_run_id(record.started_at, &files.summary.to_string_lossy());
                walk.found.push(Found {
                    format,
                    source: files.summary.clone(),
                    record,
                });
            }
            Err(e) => walk.skipped.push((files.summary.clone(), error_text(&e))),
        }
    }
    if let Some(summary) = yardstick_endpoint::import::find_endpoint_result(dir) {
        if !walk.consumed.insert(summary.clone()) {
            return;
        }
        match yardstick_endpoint::import::read_endpoint_result(&summary) {
            Ok(mut record) => {
                record.id = imported_run_id(record.started_at, &summary.to_string_lossy());
                let format = if record.tool.name == "yardstick" {
                    "yardstick_endpoint"
                } else {
                    "mlperf_endpoints"
                };
                walk.found.push(Found {
                    format,
                    source: summary,
                    record,
                });
            }
            Err(e) => walk.skipped.push((summary, error_text(&e))),
        }
    }
}

/// A folder with run.json: its summaries are that run's, not runs of their own.
fn mark_consumed(dir: &Path, walk: &mut Walk) {
    for files in find_loadgen_runs(dir) {
        walk.consumed.insert(files.summary);
    }
    if let Some(s) = yardstick_endpoint::import::find_endpoint_result(dir) {
        walk.consumed.insert(s);
    }
}

fn error_text(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

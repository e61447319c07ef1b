//! `yardstick scale --gpus 1,2,4,8 [--collectives] [-- CMD ARGS...]`: one
//! benchmark at each GPU count of this host, and how its throughput scales
//! (yardstick-scale does the work; this is flags, wiring and printing).
//!
//! Each point runs the command with the first `n` GPUs visible and
//! recording on; the run records it leaves under the point's folder
//! (`<output>/gpus-<n>/`) are tagged with the count, grouped as one sweep,
//! rewritten and added to the store. With `--collectives` the NCCL probe
//! runs first at each point, and its bandwidths go into that point's
//! records (and `collectives.json`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use yardstick_pipeline::record::{GroupKind, GroupRef, RunRecord};
use yardstick_scale::collectives::{format_bytes, read_probe_output, CollectiveResult};
use yardstick_scale::driver::{Point, ProbeSpec};
use yardstick_scale::{summarize, Collective, CountSummary, GpuCounts};

use crate::recording::{Recording, RecordingArgs};

#[derive(Debug, Args)]
pub struct ScaleArgs {
    /// The GPU counts to run, comma-separated; counts above what the
    /// machine has are skipped (and said so).
    #[arg(long, default_value = "1,2,4,8", value_name = "N,N,...")]
    pub gpus: String,
    /// The GPUs this machine has: `auto` (the entries of
    /// $CUDA_VISIBLE_DEVICES if set, else the GPUs NVML sees) or a number.
    #[arg(long, default_value = "auto", value_name = "auto|N")]
    pub max_gpus: String,
    /// Run the NCCL collective probe (all-reduce, all-gather; algorithm and
    /// bus bandwidth as nccl-tests defines them) at every point.
    #[arg(long)]
    pub collectives: bool,
    /// The Python (with PyTorch) that runs the probe.
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// The probe's smallest message (bytes).
    #[arg(long, default_value_t = 8)]
    pub probe_min_bytes: u64,
    /// The probe's largest message (bytes) [default: 1 GiB].
    #[arg(long, default_value_t = 1 << 30)]
    pub probe_max_bytes: u64,
    /// The factor between two message sizes.
    #[arg(long, default_value_t = 4)]
    pub probe_step: u32,
    /// Untimed operations before each size.
    #[arg(long, default_value_t = 5)]
    pub probe_warmup: u32,
    /// Timed operations of each size (the time is their mean).
    #[arg(long, default_value_t = 20)]
    pub probe_iters: u32,
    /// The sweep's folder: one `gpus-<n>/` per point, and `scale.json`.
    #[arg(short, long, default_value = "scale-out")]
    pub output: PathBuf,
    #[command(flatten)]
    pub recording: RecordingArgs,
    /// The benchmark command, after `--`. It gets CUDA_VISIBLE_DEVICES,
    /// YARDSTICK_SCALE_GPUS, YARDSTICK_SCALE_DIR and YARDSTICK_RECORD=1;
    /// `{gpus}` and `{dir}` in its arguments are replaced by the count and
    /// the point's folder.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// The GPUs this machine has, for `--max-gpus auto`.
fn available_gpus(max_gpus: &str) -> Result<(u32, String)> {
    if max_gpus != "auto" {
        let n: u32 = max_gpus
            .parse()
            .with_context(|| format!("--max-gpus {max_gpus:?}: give auto or a number"))?;
        return Ok((n, "--max-gpus".into()));
    }
    if let Ok(v) = std::env::var("CUDA_VISIBLE_DEVICES") {
        let n = v.split(',').filter(|d| !d.trim().is_empty()).count();
        return Ok((
            u32::try_from(n).unwrap_or(u32::MAX),
            "CUDA_VISIBLE_DEVICES".into(),
        ));
    }
    let mut notes = Vec::new();
    let (_, gpus) = yardstick_sysinfo::probe_gpus(None, &mut notes);
    let why = if gpus.is_empty() {
        format!("NVML: {}", notes.join("; "))
    } else {
        "NVML".into()
    };
    Ok((u32::try_from(gpus.len()).unwrap_or(u32::MAX), why))
}

pub fn run(args: ScaleArgs) -> Result<ExitCode> {
    if args.command.is_empty() && !args.collectives {
        bail!("yardstick scale: give a benchmark command after `--`, or --collectives, or both");
    }
    let counts = GpuCounts::parse(&args.gpus)?;
    let (available, source) = available_gpus(&args.max_gpus)?;
    let (to_run, skipped) = counts.split(available);
    if !skipped.is_empty() {
        println!(
            "skipping {} GPU{}: this machine has {available} ({source})",
            join(&skipped),
            if skipped == [1] { "" } else { "s" }
        );
    }
    if to_run.is_empty() {
        bail!(
            "no GPU count of --gpus {} fits the {available} GPUs this machine has ({source})",
            args.gpus
        );
    }
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let recording = Recording::open(&args.recording);
    let group_id = format!(
        "g-{}",
        yardstick_pipeline::record::new_run_id(chrono::Utc::now())
    );
    let inherited = std::env::var("CUDA_VISIBLE_DEVICES").ok();
    let probe = ProbeSpec {
        python: args.python.clone(),
        min_bytes: args.probe_min_bytes,
        max_bytes: args.probe_max_bytes,
        step_factor: args.probe_step,
        warmup: args.probe_warmup,
        iterations: args.probe_iters,
    };
    let mut records: Vec<RunRecord> = Vec::new();
    let mut probes: Vec<(u32, Vec<CollectiveResult>)> = Vec::new();
    let mut failures = Vec::new();
    for &gpus in &to_run {
        let point = Point::new(gpus, &args.output, inherited.as_deref());
        println!(
            "== {gpus} GPU{} (CUDA_VISIBLE_DEVICES={}) in {}",
            if gpus == 1 { "" } else { "s" },
            point.visible_devices,
            point.dir.display()
        );
        let collectives = if args.collectives {
            match run_probe(&probe, &point) {
                Ok(results) => results,
                Err(e) => {
                    eprintln!("yardstick: {gpus} GPUs: the collective probe failed: {e:#}");
                    failures.push(format!("{gpus} GPUs: collective probe"));
                    Vec::new()
                }
            }
        } else {
            Vec::new()
        };
        if !collectives.is_empty() {
            probes.push((gpus, collectives.clone()));
        }
        if args.command.is_empty() {
            continue;
        }
        let status = point.run(&args.command)?;
        if !status.success() {
            eprintln!("yardstick: {gpus} GPUs: the command ended with {status}");
            failures.push(format!("{gpus} GPUs: command {status}"));
        }
        let found = point.records()?;
        if found.is_empty() {
            eprintln!(
                "yardstick: {gpus} GPUs: the command wrote no run.json under {} (write the logs \
                 under $YARDSTICK_SCALE_DIR or {{dir}}; a Python harness records with YARDSTICK_RECORD=1)",
                point.dir.display()
            );
            failures.push(format!("{gpus} GPUs: no run record"));
        }
        for (path, mut record) in found {
            let member = GroupRef {
                id: group_id.clone(),
                kind: GroupKind::Sweep,
                index: u32::try_from(records.len()).unwrap_or(u32::MAX),
                size: None,
                label: format!("{gpus} GPU{}", if gpus == 1 { "" } else { "s" }),
            };
            point.tag(&mut record, member, &collectives);
            fill_system(&mut record, recording.system.as_ref());
            for t in &recording.tags {
                if !record.tags.contains(t) {
                    record.tags.push(t.clone());
                }
            }
            yardstick_pipeline::record::write_record_to(&path, &record)
                .with_context(|| format!("rewriting {}", path.display()))?;
            recording.observer().run_finished(&record);
            records.push(record);
        }
    }
    let summary = summarize(&records);
    print_summary(&summary);
    print_collectives(&probes);
    let scale_json = args.output.join("scale.json");
    let doc = serde_json::json!({
        "group": if records.is_empty() { None } else { Some(&group_id) },
        "gpus_run": to_run,
        "gpus_skipped": skipped,
        "available_gpus": available,
        "available_from": source,
        "command": args.command,
        "counts": summary,
        "collectives": probes.iter().map(|(g, r)| serde_json::json!({"gpus": g, "results": r})).collect::<Vec<_>>(),
        "failures": failures,
    });
    std::fs::write(&scale_json, serde_json::to_string_pretty(&doc)?)
        .with_context(|| format!("writing {}", scale_json.display()))?;
    println!("  scaling summary         : {}", scale_json.display());
    if !records.is_empty() {
        match recording.store_path() {
            Some(_) => println!(
                "  report                  : yardstick report group:{group_id} -o report.html"
            ),
            None => println!(
                "  report                  : yardstick report {} -o report.html",
                args.output.display()
            ),
        }
    }
    if !failures.is_empty() {
        eprintln!("yardstick: failed: {}", failures.join(", "));
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The sweep's own system description where the benchmark left none, and
/// its GPU topology where the benchmark's (an older yardstick) has none.
fn fill_system(record: &mut RunRecord, sweep: Option<&serde_json::Value>) {
    let Some(sweep) = sweep else {
        return;
    };
    match record.system.as_mut().and_then(|s| s.as_object_mut()) {
        None => record.system = Some(sweep.clone()),
        Some(own) => {
            if !own.contains_key("gpu_topology") {
                if let Some(t) = sweep.get("gpu_topology") {
                    own.insert("gpu_topology".into(), t.clone());
                }
            }
        }
    }
}

fn run_probe(probe: &ProbeSpec, point: &Point) -> Result<Vec<CollectiveResult>> {
    let (status, out) = probe.run(point)?;
    if !status.success() {
        bail!("{} ended with {status}", probe.python);
    }
    let text = read(&out)?;
    let (_, results) = read_probe_output(&text)?;
    Ok(results)
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn join(counts: &[u32]) -> String {
    counts
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn cell(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.decimals$}"))
}

fn print_summary(summary: &[CountSummary]) {
    if summary.is_empty() {
        return;
    }
    println!();
    println!(
        "| GPUs | runs | Offline samples/s | efficiency | Server max VALID QPS | efficiency |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
    for c in summary {
        let offline = match (c.offline_samples_per_second, c.offline_valid) {
            (Some(v), true) => format!("{v:.1}"),
            (Some(v), false) => format!("{v:.1} (INVALID)"),
            (None, _) => "-".into(),
        };
        println!(
            "| {} | {} | {offline} | {} | {} | {} |",
            c.gpus,
            c.runs,
            cell(c.offline_efficiency, 3),
            cell(c.server_max_valid_qps, 0),
            cell(c.server_efficiency, 3),
        );
    }
    if let Some(base) = summary.iter().find_map(|c| c.base_gpus).filter(|b| *b != 1) {
        println!("efficiency relative to the {base}-GPU point (no 1-GPU point ran)");
    }
}

fn print_collectives(probes: &[(u32, Vec<CollectiveResult>)]) {
    for (gpus, results) in probes {
        println!();
        println!("collectives at {gpus} GPU{} (GB/s = 1e9 B/s; busbw as nccl-tests: all-reduce x 2(n-1)/n, all-gather x (n-1)/n)", if *gpus == 1 { "" } else { "s" });
        println!("| op | size | time (us) | algbw GB/s | busbw GB/s | check |");
        println!("| --- | ---: | ---: | ---: | ---: | --- |");
        for r in results {
            println!(
                "| {} | {} | {:.1} | {:.2} | {:.2} | {} |",
                match r.op {
                    Collective::AllReduce => "all_reduce",
                    Collective::AllGather => "all_gather",
                },
                format_bytes(r.bytes),
                r.seconds * 1e6,
                r.algbw_gb_per_s,
                r.busbw_gb_per_s,
                if r.correct { "ok" } else { "WRONG" }
            );
        }
    }
}

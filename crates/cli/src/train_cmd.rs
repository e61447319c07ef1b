//! `yardstick train`: time-to-train of a reference workload, logged in
//! MLPerf Training's `:::MLLOG` format; `yardstick train -- CMD ARGS...`
//! times any training job instead (see [`crate::train_wrap`]).
//!
//! Each run writes `<output>/result_<i>.txt` (the log lines, as MLPerf
//! Training's result files) and echoes the lines to stdout. Time-to-train is
//! `run_stop - run_start` of that log; with three or more runs the olympic
//! score (fastest and slowest dropped, the rest averaged) is printed too.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use yardstick_workloads::dataset::ImageDataset;
use yardstick_workloads::mllog::MlLogger;
use yardstick_workloads::model::ARCHITECTURE;
use yardstick_workloads::train::{olympic_score, train_run, RunReport};
use yardstick_workloads::Workload;

use crate::recording::{Group, Recording, RecordingArgs};
use yardstick_pipeline::record::{
    AccuracyVerdict, Better, GroupKind, Metric, RunKind, RunRecord, RunStatus, SutInfo, Validity,
    ValidityCheck, Verdict, WorkloadInfo,
};
use yardstick_pipeline::Recorder;

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
    /// With `-- CMD`: stop a run still going after this long (wall clock,
    /// e.g. 30m); it is then an incomplete run.
    #[arg(long, value_name = "DURATION")]
    pub time_limit: Option<humantime::Duration>,
    /// With `-- CMD`: how long a job may go on after logging run_stop before
    /// it is stopped (its time-to-train is not affected).
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub stop_grace: humantime::Duration,
    /// With `-- CMD`: the compliance rules each complete run's log is
    /// checked against (training 5.1.0, 6.0.0, 6.1.0).
    #[arg(long, default_value = "5.1.0")]
    pub ruleset: String,
    /// Number of runs (MLPerf's olympic score needs at least 3).
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
    /// Seed of the first run; run i uses seed + i (see --seeds).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Folder of the training split (train-images-idx3-ubyte[.gz] and
    /// train-labels-idx1-ubyte[.gz]); default: the workload's [training] paths.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Training images (IDX), instead of the workload's.
    #[arg(long, value_name = "FILE")]
    pub train_images: Option<PathBuf>,
    /// Training labels (IDX), instead of the workload's.
    #[arg(long, value_name = "FILE")]
    pub train_labels: Option<PathBuf>,
    /// Evaluation images (IDX), instead of the workload's [dataset].
    #[arg(long, value_name = "FILE")]
    pub eval_images: Option<PathBuf>,
    /// Evaluation labels (IDX), instead of the workload's [dataset].
    #[arg(long, value_name = "FILE")]
    pub eval_labels: Option<PathBuf>,
    /// Train on the first N training samples only (smoke tests).
    #[arg(long, value_name = "N")]
    pub train_limit: Option<usize>,
    /// Evaluate on the first N evaluation samples only (smoke tests).
    #[arg(long, value_name = "N")]
    pub eval_limit: Option<usize>,
    /// Quality target (top-1 fraction), instead of the workload's.
    #[arg(long)]
    pub target: Option<f64>,
    /// Most epochs per run, instead of the workload's.
    #[arg(long)]
    pub max_epochs: Option<usize>,
    /// Batch size, instead of the workload's.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Learning rate, instead of the workload's.
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// Data-parallel training threads (default: one per CPU core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Folder for the result_<i>.txt logs.
    #[arg(long, short = 'o', default_value = "yardstick-train-out")]
    pub output: PathBuf,
    /// Write the trained weights (safetensors) here; with several runs, run
    /// i's weights go to FILE with `-run<i>` before the extension.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Do not echo the :::MLLOG lines to stdout.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub recording: RecordingArgs,
    #[command(flatten)]
    pub power: crate::power::PowerArgs,
}

/// A required input file, or an error naming it and how to get it.
fn require(path: &Path, what: &str, hint: &str) -> Result<()> {
    anyhow::ensure!(
        path.is_file(),
        "{what} {} does not exist{hint}",
        path.display()
    );
    Ok(())
}

/// `train-images-idx3-ubyte.gz` or, when absent, the uncompressed name.
fn in_dir(dir: &Path, stem: &str) -> PathBuf {
    let gz = dir.join(format!("{stem}.gz"));
    if gz.is_file() {
        gz
    } else if dir.join(stem).is_file() {
        dir.join(stem)
    } else {
        gz
    }
}

fn run_path(save: &Path, run: usize, runs: usize) -> PathBuf {
    if runs == 1 {
        return save.to_path_buf();
    }
    let stem = save.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
    let ext = save
        .extension()
        .and_then(|s| s.to_str())
        .unwrap_or("safetensors");
    save.with_file_name(format!("{stem}-run{run}.{ext}"))
}

pub fn run(args: TrainArgs) -> Result<ExitCode> {
    if !args.command.is_empty() {
        return crate::train_wrap::run(args);
    }
    let Some(workload_name) = &args.workload else {
        anyhow::bail!("yardstick train: give a workload (fashion-mnist) or a command after `--`");
    };
    yardstick_workloads::configure_cpu_runtime();
    let workload = Workload::resolve(workload_name)?;
    let mut cfg = workload.train_config()?;
    let training = workload
        .spec
        .training
        .clone()
        .expect("train_config checked it");
    let seeds = crate::train_wrap::seeds(&args)?;
    let runs = seeds.len();
    if let Some(t) = args.target {
        anyhow::ensure!(
            t > 0.0 && t <= 1.0,
            "--target must be a fraction in (0, 1], got {t}"
        );
        cfg.target_accuracy = t;
    }
    if let Some(e) = args.max_epochs {
        anyhow::ensure!(e >= 1, "--max-epochs must be at least 1");
        cfg.max_epochs = e;
    }
    if let Some(b) = args.batch_size {
        anyhow::ensure!(b >= 1, "--batch-size must be at least 1");
        cfg.batch_size = b;
    }
    if let Some(lr) = args.learning_rate {
        anyhow::ensure!(lr > 0.0, "--learning-rate must be positive");
        cfg.learning_rate = lr;
    }
    cfg.threads = match args.threads {
        Some(0) => anyhow::bail!("--threads must be at least 1"),
        Some(n) => n,
        None => yardstick_workloads::batching::default_threads(),
    };

    // The files, checked before anything is logged (reading them is timed).
    let (train_images, train_labels) = match &args.data_dir {
        Some(dir) => (
            in_dir(dir, "train-images-idx3-ubyte"),
            in_dir(dir, "train-labels-idx1-ubyte"),
        ),
        None => (
            workload.path(&training.images),
            workload.path(&training.labels),
        ),
    };
    let train_images = args.train_images.clone().unwrap_or(train_images);
    let train_labels = args.train_labels.clone().unwrap_or(train_labels);
    let eval_images = args
        .eval_images
        .clone()
        .unwrap_or_else(|| workload.path(&workload.spec.dataset.images));
    let eval_labels = args
        .eval_labels
        .clone()
        .unwrap_or_else(|| workload.path(&workload.spec.dataset.labels));
    let hint = if args.data_dir.is_none() && args.train_images.is_none() {
        " (Debian: `apt-get install dataset-fashion-mnist` installs the Fashion-MNIST training split there; or pass --data-dir DIR or --train-images/--train-labels)"
    } else {
        ""
    };
    require(&train_images, "the training images", hint)?;
    require(&train_labels, "the training labels", hint)?;
    require(&eval_images, "the evaluation images", "")?;
    require(&eval_labels, "the evaluation labels", "")?;
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;

    let classes = workload.classes();
    let sample_count = workload.spec.dataset.sample_count;
    let root = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    let recording = Recording::open(&args.recording);
    let observers = [recording.observer()];
    let recorder = Recorder::new(&observers);
    let group = Group::new(GroupKind::Training, runs);
    let mut reports: Vec<RunReport> = Vec::new();
    for (i, &seed) in seeds.iter().enumerate() {
        let mut run_cfg = cfg.clone();
        run_cfg.seed = seed;
        let log_path = args.output.join(format!("result_{i}.txt"));
        let mut record = RunRecord::new(
            RunKind::Training,
            chrono::Utc::now(),
            WorkloadInfo {
                name: workload.name().to_string(),
                sut: SutInfo {
                    name: ARCHITECTURE.to_string(),
                    kind: "training".into(),
                    params: [
                        ("seed".to_string(), run_cfg.seed.to_string()),
                        ("batch_size".to_string(), run_cfg.batch_size.to_string()),
                        (
                            "learning_rate".to_string(),
                            run_cfg.learning_rate.to_string(),
                        ),
                        ("max_epochs".to_string(), run_cfg.max_epochs.to_string()),
                        ("threads".to_string(), run_cfg.threads.to_string()),
                    ]
                    .into(),
                },
                ..WorkloadInfo::default()
            },
        );
        record.group = Some(group.member(i, format!("seed {}", run_cfg.seed)));
        recording.stamp(&mut record);
        recorder.started(&record);
        let file = File::create(&log_path)
            .with_context(|| format!("cannot create {}", log_path.display()))?;
        let mut outputs: Vec<Box<dyn Write + Send>> = vec![Box::new(BufWriter::new(file))];
        if !args.quiet {
            outputs.push(Box::new(std::io::stdout()));
        }
        let logger = MlLogger::new(outputs).with_root_dir(root.clone());
        eprintln!(
            "yardstick: train {} run {}/{} (seed {}): log {}",
            workload.name(),
            i + 1,
            runs,
            run_cfg.seed,
            log_path.display()
        );
        let mut load = || -> Result<(ImageDataset, ImageDataset), _> {
            let mut train = ImageDataset::load_idx(&train_images, &train_labels, classes)?;
            let mut eval = ImageDataset::load_idx(&eval_images, &eval_labels, classes)?;
            if args.eval_images.is_none() && args.eval_limit.is_none() {
                eval.check(&eval_images, sample_count, None)?;
            }
            if let Some(n) = args.train_limit {
                train = train.truncated(n);
            }
            if let Some(n) = args.eval_limit {
                eval = eval.truncated(n);
            }
            Ok((train, eval))
        };
        let mut power = crate::power::OwnLoadPower::begin(&args.power);
        let report = train_run(&run_cfg, &logger, &mut load, &mut |line| {
            eprintln!("yardstick:   {line}")
        });
        power.end();
        drop(logger);
        let report = match report {
            Ok(r) => r,
            Err(e) => {
                record.status = RunStatus::Failed;
                record.notes.push(format!("{e:#}"));
                record.add_file("training_log", &log_path);
                let _ = recorder.finished_as(&run_json_path(&args.output, i), &mut record);
                return Err(e)
                    .with_context(|| format!("training run {} (seed {})", i + 1, run_cfg.seed));
            }
        };
        let ttt = report.time_to_train_ms();
        fill_training_record(&mut record, &report, run_cfg.target_accuracy, &log_path);
        power.finish(
            &mut record,
            0,
            0,
            &args.output.join(format!("power_trace_{i}.csv")),
        );
        let record_path = recorder
            .finished_as(&run_json_path(&args.output, i), &mut record)
            .context("writing the run record")?;
        eprintln!(
            "yardstick: run record {} (run {})",
            record_path.display(),
            record.id
        );
        println!(
            "run {}/{} (seed {}): {}, eval top-1 {:.4} after {} epoch{}, time-to-train {}.{:03} s (run_stop - run_start)",
            i + 1,
            runs,
            run_cfg.seed,
            if report.success { "success" } else { "aborted (target not reached)" },
            report.final_accuracy(),
            report.epochs.len(),
            if report.epochs.len() == 1 { "" } else { "s" },
            ttt / 1000,
            ttt % 1000
        );
        if let Some(save) = &args.save {
            let path = run_path(save, i, runs);
            let meta = HashMap::from([
                ("architecture".to_string(), ARCHITECTURE.to_string()),
                ("workload".to_string(), workload.name().to_string()),
                ("seed".to_string(), run_cfg.seed.to_string()),
                ("epochs".to_string(), report.epochs.len().to_string()),
                (
                    "eval_top1".to_string(),
                    format!("{:.4}", report.final_accuracy()),
                ),
                (
                    "status".to_string(),
                    if report.success { "success" } else { "aborted" }.to_string(),
                ),
                (
                    "command".to_string(),
                    std::iter::once("yardstick".to_string())
                        .chain(std::env::args().skip(1))
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                (
                    "yardstick_version".to_string(),
                    env!("CARGO_PKG_VERSION").to_string(),
                ),
            ]);
            report.model.save(&path, &meta)?;
            eprintln!("yardstick: weights written to {}", path.display());
        }
        reports.push(report);
    }

    if let Some(store) = recording.store_path() {
        println!(
            "training set {} ({} runs) in the results store {}: yardstick report group:{} -o report.html",
            group.id,
            runs,
            store.display(),
            group.id
        );
    }
    let times: Vec<Option<u64>> = reports
        .iter()
        .map(|r| r.success.then(|| r.time_to_train_ms()))
        .collect();
    if runs >= 3 {
        match olympic_score(&times) {
            Some(ms) => println!(
                "olympic score ({} runs, fastest and slowest dropped): {:.3} s ({:.2} min)",
                runs,
                ms / 1000.0,
                ms / 60000.0
            ),
            None => println!(
                "olympic score: none ({} of {} runs did not reach the target)",
                times.iter().filter(|t| t.is_none()).count(),
                runs
            ),
        }
    }
    Ok(if reports.iter().all(|r| r.success) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `<output>/result_<i>.run.json`: the record of run `i`, beside its log
/// (MLPerf Training keeps every run's log in one folder).
fn run_json_path(output: &Path, i: usize) -> PathBuf {
    output.join(format!("result_{i}.run.json"))
}

/// A training run's record: time-to-train, the quality reached, and the
/// verdict (the target reached or not).
fn fill_training_record(record: &mut RunRecord, report: &RunReport, target: f64, log: &Path) {
    let ttt_s = report.time_to_train_ms() as f64 / 1000.0;
    record.status = RunStatus::Completed;
    record.metrics = vec![
        Metric::new("time_to_train", ttt_s, "s", Better::Lower),
        Metric::new(
            "eval_accuracy",
            report.final_accuracy(),
            "1",
            Better::Higher,
        ),
        Metric::new("epochs", report.epochs.len() as f64, "1", Better::Neither),
    ];
    record.accuracy = Some(AccuracyVerdict {
        metric: "eval_accuracy".into(),
        value: report.final_accuracy(),
        target: Some(target),
        passed: Some(report.success),
        detail: format!(
            "top-1 {:.4} after {} epochs, target {target}",
            report.final_accuracy(),
            report.epochs.len()
        ),
    });
    record.validity = Validity {
        verdict: if report.success {
            Verdict::Valid
        } else {
            Verdict::Invalid
        },
        checks: vec![ValidityCheck {
            name: "quality_target".into(),
            passed: report.success,
            detail: if report.success {
                format!(
                    "reached {:.4} >= {target} in {:.3} s (run_stop - run_start)",
                    report.final_accuracy(),
                    ttt_s
                )
            } else {
                format!(
                    "stopped at {:.4} < {target} after {} epochs",
                    report.final_accuracy(),
                    report.epochs.len()
                )
            },
        }],
    };
    record.add_file("training_log", log);
}

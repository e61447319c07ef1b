//! The built-in reference trainer as a training job: `yardstick train
//! fashion-mnist` starts this same binary as `yardstick train-job
//! fashion-mnist ...` (hidden) once per seeded run, exactly as it starts a
//! user's `train -- CMD`, so one wrapper streams, times, stops, checks,
//! records and scores both (`crate::train_wrap`).
//!
//! The job reads its seed from `$YARDSTICK_SEED` and its run index from
//! `$YARDSTICK_RUN_INDEX`, and logs its `:::MLLOG` lines as mllog does: to
//! the file named by `$YARDSTICK_MLLOG` and to stdout. A run that does not
//! reach the target ends with `run_stop` status `aborted` and exit 0 (a
//! complete run); a data or model error ends with `run_stop` aborted and a
//! nonzero exit (an incomplete run).

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use yardstick_workloads::dataset::ImageDataset;
use yardstick_workloads::mllog::MlLogger;
use yardstick_workloads::model::ARCHITECTURE;
use yardstick_workloads::train::{train_run, TrainConfig};
use yardstick_workloads::Workload;

use crate::train_job::MLLOG_ENV;

/// The built-in trainer's flags: given to `train fashion-mnist`, passed on
/// unchanged to each run's `train-job` (see [`BuiltinArgs::to_argv`]).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BuiltinArgs {
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
    /// Write the trained weights (safetensors) here; with several runs, run
    /// i's weights go to FILE with `-run<i>` before the extension.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
}

impl BuiltinArgs {
    /// The flags as a command line, for the run's `train-job`.
    pub fn to_argv(&self) -> Vec<OsString> {
        let mut argv = Vec::new();
        let mut flag = |name: &str, value: OsString| {
            argv.push(OsString::from(name));
            argv.push(value);
        };
        let paths = [
            ("--data-dir", &self.data_dir),
            ("--train-images", &self.train_images),
            ("--train-labels", &self.train_labels),
            ("--eval-images", &self.eval_images),
            ("--eval-labels", &self.eval_labels),
            ("--save", &self.save),
        ];
        for (name, path) in paths {
            if let Some(p) = path {
                flag(name, p.clone().into_os_string());
            }
        }
        let counts = [
            ("--train-limit", self.train_limit),
            ("--eval-limit", self.eval_limit),
            ("--max-epochs", self.max_epochs),
            ("--batch-size", self.batch_size),
            ("--threads", self.threads),
        ];
        for (name, n) in counts {
            if let Some(n) = n {
                flag(name, n.to_string().into());
            }
        }
        if let Some(lr) = self.learning_rate {
            // `{:?}` keeps every digit of the float (shortest round trip).
            flag("--learning-rate", format!("{lr:?}").into());
        }
        argv
    }
}

/// `yardstick train-job WORKLOAD`: one run of the built-in trainer (hidden;
/// `yardstick train WORKLOAD` starts it).
#[derive(Debug, clap::Args)]
pub struct TrainJobArgs {
    /// The workload: a built-in name (fashion-mnist) or a workload file.
    pub workload: String,
    #[command(flatten)]
    pub builtin: BuiltinArgs,
    /// Quality target (top-1 fraction), instead of the workload's.
    #[arg(long)]
    pub target: Option<f64>,
    /// How many runs the set has (names the --save file of each run).
    #[arg(long, default_value_t = 1)]
    pub set_size: usize,
}

/// What a run of the built-in trainer uses: the workload, its
/// hyperparameters with the flags applied, and the files (checked to exist).
pub struct Resolved {
    pub workload: Workload,
    pub config: TrainConfig,
    pub train_images: PathBuf,
    pub train_labels: PathBuf,
    pub eval_images: PathBuf,
    pub eval_labels: PathBuf,
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

/// The workload, its training configuration with the flags applied, and
/// its files. Both the parent (before any run starts: a missing file is an
/// error, not a failed run) and each run's job call it.
pub fn resolve(workload: &str, args: &BuiltinArgs, target: Option<f64>) -> Result<Resolved> {
    let workload = Workload::resolve(workload)?;
    let mut config = workload.train_config()?;
    let training = workload
        .spec
        .training
        .clone()
        .context("the workload has no [training] section")?;
    if let Some(t) = target {
        anyhow::ensure!(
            t > 0.0 && t <= 1.0,
            "--target must be a fraction in (0, 1], got {t}"
        );
        config.target_accuracy = t;
    }
    if let Some(e) = args.max_epochs {
        anyhow::ensure!(e >= 1, "--max-epochs must be at least 1");
        config.max_epochs = e;
    }
    if let Some(b) = args.batch_size {
        anyhow::ensure!(b >= 1, "--batch-size must be at least 1");
        config.batch_size = b;
    }
    if let Some(lr) = args.learning_rate {
        anyhow::ensure!(lr > 0.0, "--learning-rate must be positive");
        config.learning_rate = lr;
    }
    config.threads = match args.threads {
        Some(0) => anyhow::bail!("--threads must be at least 1"),
        Some(n) => n,
        None => yardstick_workloads::batching::default_threads(),
    };
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
    Ok(Resolved {
        workload,
        config,
        train_images,
        train_labels,
        eval_images,
        eval_labels,
    })
}

/// Where run `run` of `runs` saves its weights: FILE itself for one run,
/// else FILE with `-run<i>` before the extension.
pub fn save_path(save: &Path, run: usize, runs: usize) -> PathBuf {
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

/// An environment variable the wrapper sets, parsed.
fn env_number<T: std::str::FromStr>(name: &str) -> Result<Option<T>>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    match std::env::var(name) {
        Ok(text) => {
            Ok(Some(text.parse().with_context(|| {
                format!("${name} is not a number: {text:?}")
            })?))
        }
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading ${name}")),
    }
}

/// One run: trains, logs, saves the weights when asked.
pub fn run(args: TrainJobArgs) -> Result<ExitCode> {
    yardstick_workloads::configure_cpu_runtime();
    let resolved = resolve(&args.workload, &args.builtin, args.target)?;
    let mut config = resolved.config.clone();
    config.seed = env_number("YARDSTICK_SEED")?.unwrap_or(config.seed);
    let run_index: usize = env_number("YARDSTICK_RUN_INDEX")?.unwrap_or(0);

    // mllog's way: the file the wrapper names, and stdout.
    let mut outputs: Vec<Box<dyn Write + Send>> = vec![Box::new(std::io::stdout())];
    if let Some(path) = std::env::var_os(MLLOG_ENV) {
        let file = File::create(&path)
            .with_context(|| format!("cannot create {}", Path::new(&path).display()))?;
        outputs.push(Box::new(BufWriter::new(file)));
    }
    let root = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    let logger = MlLogger::new(outputs).with_root_dir(root);
    let classes = resolved.workload.classes();
    let sample_count = resolved.workload.spec.dataset.sample_count;
    let check_eval_count = args.builtin.eval_images.is_none() && args.builtin.eval_limit.is_none();
    let mut load = || -> Result<(ImageDataset, ImageDataset), _> {
        let mut train =
            ImageDataset::load_idx(&resolved.train_images, &resolved.train_labels, classes)?;
        let mut eval =
            ImageDataset::load_idx(&resolved.eval_images, &resolved.eval_labels, classes)?;
        if check_eval_count {
            eval.check(&resolved.eval_images, sample_count, None)?;
        }
        if let Some(n) = args.builtin.train_limit {
            train = train.truncated(n);
        }
        if let Some(n) = args.builtin.eval_limit {
            eval = eval.truncated(n);
        }
        Ok((train, eval))
    };
    let report = train_run(&config, &logger, &mut load, &mut |line| {
        eprintln!("yardstick-train-job: {line}")
    });
    drop(logger);
    let report =
        report.with_context(|| format!("training {} (seed {})", args.workload, config.seed))?;
    if let Some(save) = &args.builtin.save {
        let path = save_path(save, run_index, args.set_size);
        let meta = HashMap::from([
            ("architecture".to_string(), ARCHITECTURE.to_string()),
            ("workload".to_string(), resolved.workload.name().to_string()),
            ("seed".to_string(), config.seed.to_string()),
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
                "yardstick_version".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            ),
        ]);
        report.model.save(&path, &meta)?;
        eprintln!("yardstick-train-job: weights written to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

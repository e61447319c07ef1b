//! `yardstick run`: a benchmark of a built-in SUT, with MLPerf logs.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use yardstick_core::run::{LiveProgress, RunOptions};
use yardstick_core::settings::{ConfigWarning, ResolvedSettings};
use yardstick_core::sut::{QuerySampleLibrary, SystemUnderTest};
use yardstick_pipeline::record::{GroupKind, GroupRef, RunKind, SutInfo, WorkloadInfo};
use yardstick_pipeline::{execute, FinishedRun, RunSpec};
use yardstick_suts::{NullSut, ServiceTime, SleepSut, SyntheticLibrary};

use crate::recording::{print_record_lines, Group, Recording, RecordingArgs};
use crate::signals::Interrupts;

use crate::settings_args::{self, ComposedMlperfConf, FrontEndDefaults, SettingsArgs};
use crate::{progress, report};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SutKind {
    /// Answers every sample at once (measures the harness itself).
    Null,
    /// Answers after a service time on N parallel workers.
    Sleep,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// The system under test [default: sleep]; not with --workload, which
    /// brings its own.
    #[arg(long, value_enum)]
    pub sut: Option<SutKind>,
    /// Sleep SUT service time: `2ms`, `uniform:1ms..3ms` or `exp:2ms` (exponential, that mean).
    #[arg(long, default_value = "1ms")]
    pub service_time: String,
    /// Sleep SUT parallel workers.
    #[arg(long, default_value_t = 4)]
    pub workers: usize,
    /// Seed of the sleep SUT's random service times (logged in the summary).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The null SUT reports tokens (2 + index % 7) and a first token, like an LLM.
    #[arg(long)]
    pub tokens: bool,
    /// Samples in the sample library.
    #[arg(long, default_value_t = 50_000)]
    pub total_samples: usize,
    /// Samples that fit in memory at once (the performance set).
    #[arg(long, default_value_t = 1024)]
    pub performance_samples: usize,
    /// Folder for the mlperf_log_* files.
    #[arg(long, short = 'o', default_value = "yardstick-out")]
    pub output: PathBuf,
    /// Write every issued query (scheduled time, sample indices) as JSONL.
    #[arg(long, value_name = "FILE")]
    pub record_queries: Option<PathBuf>,
    /// Also write a Chrome trace (mlperf_log_trace.json).
    #[arg(long)]
    pub trace: bool,
    /// End the run when the SUT answers nothing for this long, e.g. 60s.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "60s")]
    pub stall_timeout: Duration,
    /// Print every effective setting and where it came from (config file
    /// and line, flag, or default), then exit without running.
    #[arg(long)]
    pub print_settings: bool,
    /// Run the test N times (a group of runs for `yardstick compare`); run
    /// i writes its files to <output>/repeat_<i>.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub repeat: usize,
    #[command(flatten)]
    pub recording: RecordingArgs,
    #[command(flatten)]
    pub power: crate::power::PowerArgs,
    /// Run a workload: a built-in name (fashion-mnist) or a workload file
    /// (.toml). Its SUT and sample library replace --sut; its scenario
    /// settings apply as mlperf.conf lines; the scenario, mode (submission)
    /// and model default to the workload's; an accuracy or submission run
    /// ends with its accuracy scored into accuracy.txt (PASS or FAIL).
    #[arg(long, value_name = "NAME|FILE")]
    pub workload: Option<String>,
    /// Workload SUT: worker threads (default: the workload's; 0 = one per core).
    #[arg(long, value_name = "N")]
    pub sut_threads: Option<usize>,
    /// Workload SUT: largest batch per worker (default: the workload's).
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// Run this ONNX model: with --workload, on the workload's data instead
    /// of its model (its inputs and outputs must be what the workload
    /// declares); without, on --dataset (a workload made from the model's
    /// own inputs and outputs).
    #[arg(long, value_name = "FILE")]
    pub onnx: Option<PathBuf>,
    /// With --onnx and no --workload: the samples, a folder of JPEG/PNG
    /// images, a .npy/.npz file, a .jsonl file of token ids or an IDX file.
    #[arg(
        long,
        value_name = "PATH",
        requires = "onnx",
        conflicts_with = "workload"
    )]
    pub dataset: Option<PathBuf>,
    /// With --dataset: the samples' class labels (text, .npy or IDX); the
    /// run then scores top-1 or --top-k (default mode submission; without labels,
    /// performance).
    #[arg(long, value_name = "FILE", requires = "dataset")]
    pub labels: Option<PathBuf>,
    /// Scores top-K accuracy: the model answers its K best classes per
    /// sample (int32, best first, in the accuracy log) and a sample is good
    /// when its label is among them [default: the workload's `[accuracy]
    /// top_k`, else 1].
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(usize))]
    pub top_k: Option<usize>,
    /// ONNX Runtime's library (libonnxruntime.so.*) [default: ORT_DYLIB_PATH,
    /// else the active Python's onnxruntime package].
    #[arg(long, value_name = "FILE")]
    pub ort_lib: Option<PathBuf>,
    /// ONNX Runtime execution providers, in order of preference: cpu, cuda,
    /// tensorrt [default: the workload's].
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub ep: Option<Vec<String>>,
    /// ONNX Runtime intra-op threads per session (0: its default).
    #[arg(long, value_name = "N")]
    pub intra_op_threads: Option<usize>,
    /// ONNX Runtime inter-op threads per session (0: its default).
    #[arg(long, value_name = "N")]
    pub inter_op_threads: Option<usize>,
    /// Batching SUT: how long a worker waits to fill a batch (Server and
    /// streams), e.g. 500us [default: the workload's].
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub max_wait: Option<Duration>,
    /// A misbehaving built-in SUT, for proving the compliance audits fail
    /// (`yardstick audit`): cache or wrong-repeat.
    #[arg(long, value_enum, hide = true, conflicts_with = "workload")]
    pub fault: Option<crate::audit_cmd::fault_sut::Fault>,
    /// Test only, hidden: multiplies the rate that target_qps "auto"
    /// measures before the test (e.g. 0.02), so that an end-to-end test can
    /// size an Offline query too short on any machine and see it re-sized
    /// from the run's own rate. Never for real runs: it skews the sizing.
    #[arg(long, hide = true, value_name = "FACTOR", value_parser = parse_positive_factor)]
    pub test_only_measured_qps_scale: Option<f64>,
}

/// A finite factor above zero.
fn parse_positive_factor(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() && f > 0.0 => Ok(f),
        _ => Err(format!("`{text}` is not a number above 0")),
    }
}

/// A workload's SUT and sample library: the batching SUT over its model
/// (the built-in CNN, or an ONNX model run by ONNX Runtime).
struct Served(yardstick_workloads::Instance);

impl Served {
    fn open(workload: &yardstick_workloads::Workload, args: &RunArgs) -> Result<Served> {
        use yardstick_workloads::spec::SutKind;
        if workload.spec.sut.kind == SutKind::Onnx || args.onnx.is_some() {
            return Ok(Served(workload.instantiate_onnx(&onnx_options(args))?));
        }
        Ok(Served(
            workload.instantiate(args.sut_threads, args.batch_size)?,
        ))
    }

    fn sut(&self) -> &dyn SystemUnderTest {
        &self.0.sut
    }

    fn library(&self) -> &dyn QuerySampleLibrary {
        self.0.library.as_ref()
    }

    fn measure_throughput(&self, d: Duration) -> Result<f64> {
        self.0
            .sut
            .measure_throughput(d)
            .map_err(|e| anyhow::anyhow!(e))
    }

    /// The data file and every sample's class label, for the scorers.
    fn labels(&self) -> Result<(PathBuf, Vec<i128>)> {
        use yardstick_workloads::sample::Label;
        let source = self.0.library.source();
        let labels = (0..source.len())
            .map(|k| match source.label(k) {
                Label::Class(c) => Ok(i128::from(c)),
                Label::None => Err(anyhow::anyhow!(
                    "{}: sample {k} has no label to score against",
                    source.origin().display()
                )),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((source.origin().to_path_buf(), labels))
    }
}

/// The ONNX flags of `run`.
fn onnx_options(args: &RunArgs) -> yardstick_workloads::instance::OnnxRunOptions {
    yardstick_workloads::instance::OnnxRunOptions {
        library: args.ort_lib.clone(),
        model: args.onnx.clone(),
        threads: args.sut_threads,
        batch_size: args.batch_size,
        execution_providers: args.ep.clone(),
        intra_op_threads: args.intra_op_threads,
        inter_op_threads: args.inter_op_threads,
        max_wait: args.max_wait,
    }
}

pub fn parse_service_time(text: &str) -> Result<ServiceTime> {
    let parse = |s: &str| {
        humantime::parse_duration(s.trim())
            .with_context(|| format!("bad duration `{s}` in --service-time"))
    };
    if let Some(rest) = text.strip_prefix("exp:") {
        return Ok(ServiceTime::Exponential { mean: parse(rest)? });
    }
    if let Some(rest) = text.strip_prefix("uniform:") {
        let (a, b) = rest
            .split_once("..")
            .with_context(|| format!("--service-time `{text}`: expected uniform:MIN..MAX"))?;
        let (min, max) = (parse(a)?, parse(b)?);
        anyhow::ensure!(min <= max, "--service-time `{text}`: MIN is above MAX");
        return Ok(ServiceTime::Uniform { min, max });
    }
    Ok(ServiceTime::Fixed(parse(text)?))
}

pub fn run(args: RunArgs) -> Result<ExitCode> {
    if let Some(name) = args.workload.clone() {
        anyhow::ensure!(
            args.sut.is_none(),
            "--sut cannot be combined with --workload: the workload brings its own SUT \
             (--sut-threads and --batch-size tune it)"
        );
        yardstick_workloads::configure_cpu_runtime();
        let mut workload = yardstick_workloads::Workload::resolve(&name)?;
        if let Some(k) = args.top_k {
            workload.set_top_k(k)?;
        }
        return run_workload(args, workload, true);
    }
    if let Some(model) = args.onnx.clone() {
        anyhow::ensure!(
            args.sut.is_none(),
            "--sut cannot be combined with --onnx: the model is the SUT"
        );
        let dataset = args
            .dataset
            .clone()
            .context("--onnx needs --dataset PATH (the samples) or --workload (a workload file)")?;
        yardstick_workloads::configure_cpu_runtime();
        let form = yardstick_workloads::short_form::ShortForm {
            model,
            dataset,
            labels: args.labels.clone(),
            top_k: args.top_k.unwrap_or(1),
        };
        let workload = yardstick_workloads::short_form::onnx_workload(&form, &onnx_options(&args))?;
        let labelled = form.labels.is_some();
        return run_workload(args, workload, labelled);
    }
    anyhow::ensure!(
        args.top_k.is_none(),
        "--top-k scores a classifier's accuracy: give it with --workload or --onnx"
    );
    let resolved = args.settings.build()?;
    print_config_warnings(&resolved.warnings);
    if args.print_settings {
        settings_args::print_settings(&resolved);
        return Ok(ExitCode::SUCCESS);
    }
    anyhow::ensure!(args.total_samples > 0, "--total-samples must be at least 1");
    anyhow::ensure!(
        args.performance_samples > 0,
        "--performance-samples must be at least 1"
    );
    anyhow::ensure!(args.repeat >= 1, "--repeat must be at least 1");

    let kind = args.sut.unwrap_or(SutKind::Sleep);
    let service_time = parse_service_time(&args.service_time)?;
    let sut: Box<dyn SystemUnderTest> = match kind {
        SutKind::Null => Box::new(if args.tokens {
            NullSut::with_tokens()
        } else {
            NullSut::new()
        }),
        SutKind::Sleep => Box::new(SleepSut::new(service_time, args.workers, args.seed)?),
    };
    let sut = crate::audit_cmd::fault_sut::wrap(sut, args.fault);
    let qsl = SyntheticLibrary::new("SyntheticQSL", args.total_samples, args.performance_samples);
    let mut params = std::collections::BTreeMap::new();
    let kind_name = match kind {
        SutKind::Null => "null",
        SutKind::Sleep => {
            params.insert("service_time".to_string(), args.service_time.clone());
            params.insert("workers".to_string(), args.workers.to_string());
            params.insert("seed".to_string(), args.seed.to_string());
            "sleep"
        }
    };
    if args.tokens {
        params.insert("tokens".to_string(), "true".to_string());
    }
    params.insert("total_samples".to_string(), args.total_samples.to_string());
    params.insert(
        "performance_samples".to_string(),
        args.performance_samples.to_string(),
    );
    let workload = WorkloadInfo {
        name: kind_name.to_string(),
        model: Some(args.settings.model().to_string()),
        sut: SutInfo {
            name: sut.name().to_string(),
            kind: kind_name.to_string(),
            params,
        },
        ..WorkloadInfo::default()
    };
    let recording = Recording::open(&args.recording);
    let group = (args.repeat > 1).then(|| Group::new(GroupKind::Repeat, args.repeat));
    let interrupts = Interrupts::install()?;
    let mut all_valid = true;
    for i in 0..args.repeat {
        let (output, member) = match &group {
            Some(g) => (
                args.output.join(format!("repeat_{i}")),
                Some(g.member(i, format!("repeat {i}"))),
            ),
            None => (args.output.clone(), None),
        };
        let ctx = RunContext {
            recording: &recording,
            output,
            group: member,
            workload: workload.clone(),
            interrupts: &interrupts,
        };
        let mut run = run_logged(sut.as_ref(), &qsl, &resolved, &args, &ctx)?;
        all_valid &= run.outcome.is_valid();
        save_and_print(&mut run, &recording)?;
        if interrupts.is_requested() {
            break;
        }
    }
    if let Some(g) = &group {
        println!(
            "{} repeats in group {}: yardstick compare group:{} <other group>",
            args.repeat, g.id, g.id
        );
    }
    Ok(exit_code(all_valid && !interrupts.is_requested()))
}

/// Where one test of a `run` goes and what describes it.
struct RunContext<'a> {
    recording: &'a Recording,
    output: PathBuf,
    group: Option<GroupRef>,
    workload: WorkloadInfo,
    interrupts: &'a Interrupts,
}

/// Writes run.json, tells the store, prints where both are.
fn save_and_print(run: &mut FinishedRun, recording: &Recording) -> Result<()> {
    let path = run
        .save(&[recording.observer()])
        .context("writing the run record")?;
    print_record_lines(&run.record, path.as_deref(), recording);
    Ok(())
}

/// Whether a run's only failed validity check is `min_duration`.
fn ended_only_too_short(record: &yardstick_pipeline::record::RunRecord) -> bool {
    let failed: Vec<&str> = record
        .validity
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.as_str())
        .collect();
    failed == ["min_duration"]
}

fn exit_code(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn print_config_warnings(warnings: &[ConfigWarning]) {
    for w in warnings {
        eprintln!(
            "yardstick: warning: {}:{}: {}",
            w.source_name, w.line, w.message
        );
    }
}

/// The test with what every `run` has around it: the pipeline (log files
/// with their header, the run, the record), live progress on the terminal,
/// Ctrl-C handling, and the closing summary. The record is not saved yet:
/// the caller may add to it (an accuracy verdict) first.
fn run_logged(
    sut: &dyn SystemUnderTest,
    qsl: &dyn QuerySampleLibrary,
    resolved: &ResolvedSettings,
    args: &RunArgs,
    ctx: &RunContext<'_>,
) -> Result<FinishedRun> {
    let live = Arc::new(LiveProgress::new());
    let mut spec = RunSpec::new(
        RunKind::Loadgen,
        resolved.clone(),
        &ctx.output,
        ctx.workload.clone(),
    );
    spec.log.enable_trace = args.trace;
    spec.record_queries = args.record_queries.clone();
    spec.options = RunOptions {
        stall_timeout: args.stall_timeout,
        progress: Some(Arc::clone(&live)),
        stop: Some(ctx.interrupts.stop_request()),
        ..RunOptions::default()
    };
    spec.group = ctx.group.clone();
    spec.tags = ctx.recording.tags.clone();
    spec.system = ctx.recording.system.clone();
    spec.write_record = !ctx.recording.disabled;
    spec.power = args.power.open();
    // director://: power-dev's protocol runs the test twice, ranging first.
    let mut director = crate::power_director::DirectorRun::begin(&args.power, &ctx.output);
    if let Some(d) = director.as_mut() {
        d.ranging(&spec, sut, qsl);
        d.start_testing();
    }
    let display = progress::ProgressDisplay::start(Arc::clone(&live));
    let run = execute(&spec, sut, qsl, &[ctx.recording.observer()]);
    display.stop();
    let mut run = run?;
    if let Some(d) = director {
        d.finish(&mut run);
    }
    ctx.recording.stamp(&mut run.record);
    report::print_human_summary(&run.outcome, &ctx.output);
    if let Some(power) = &run.record.power {
        crate::power::print_power_summary(power);
    }
    Ok(run)
}

// ---------------------------------------------------------------------------
// `--workload`: a workload file's SUT, sample library, settings and accuracy.

/// Whether a config text sets `target_qps` on some line.
fn sets_target_qps(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start();
        !l.starts_with('#')
            && l.split('=')
                .next()
                .is_some_and(|k| k.trim().ends_with(".target_qps"))
    })
}

/// Runs `workload`; `labelled`: its samples have labels to score (else
/// the mode defaults to performance).
fn run_workload(
    args: RunArgs,
    workload: yardstick_workloads::Workload,
    labelled: bool,
) -> Result<ExitCode> {
    use yardstick_core::Mode;

    // The workload's defaults for what the user did not give.
    let mut sa = args.settings.clone();
    sa.defaults = FrontEndDefaults {
        scenario: Some(workload.default_scenario),
        mode: Some(if labelled {
            Mode::SubmissionRun
        } else {
            Mode::PerformanceOnly
        }),
        source: Some(format!("workload {}", workload.name())),
    };
    sa.model
        .get_or_insert_with(|| workload.model_name().to_string());
    workload.check_scenario(sa.scenario())?;

    // The benchmark's rules: mlperf.conf (official or the user's) followed
    // by the workload's scenario settings, written beside the logs.
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let base = match &sa.mlperf_conf {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?
        }
        None => yardstick_core::settings::MLPERF_CONF.to_string(),
    };
    let base_lines = base.lines().count();
    let conf_path = args.output.join("mlperf.conf");
    let conf_text = format!(
        "{}{}\n{}",
        base,
        if base.ends_with('\n') { "" } else { "\n" },
        workload.config_lines()
    );
    std::fs::write(&conf_path, &conf_text)
        .with_context(|| format!("cannot write {}", conf_path.display()))?;
    let user_sets_qps = match &sa.user_conf {
        Some(p) => sets_target_qps(
            &std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?,
        ),
        None => false,
    };
    // Provenance names the base file's lines and the workload, not the
    // combined file written above.
    let composed = ComposedMlperfConf {
        combined_name: conf_path.display().to_string(),
        text: conf_text,
        base_name: sa.mlperf_conf.as_ref().map(|p| p.display().to_string()),
        base_lines,
        appended_source: yardstick_core::settings::SettingSource::api(format!(
            "workload {}",
            workload.name()
        )),
    };
    let resolved = sa.resolve_full(Vec::new(), Some(&composed))?;
    print_config_warnings(&resolved.warnings);
    let auto_qps = workload.target_qps_auto(resolved.settings.scenario)
        && sa.target_qps.is_none()
        && !user_sets_qps;
    if args.print_settings {
        settings_args::print_settings(&resolved);
        if auto_qps {
            eprintln!(
                "yardstick: target_qps \"auto\": measured from the SUT when a timed run starts"
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut resolved = resolved;

    eprintln!(
        "yardstick: workload {} ({}): loading data and model",
        workload.name(),
        workload.origin
    );
    let inst = Served::open(&workload, &args)?;
    let mode = resolved.settings.mode;
    let scoring = matches!(mode, Mode::SubmissionRun | Mode::AccuracyOnly);
    let timed = !matches!(mode, Mode::AccuracyOnly);
    if timed && auto_qps {
        let settings = &resolved.settings;
        // Size the test from the SUT's measured speed (untimed), so that the
        // Offline query lasts at least min_duration on any machine.
        let secs = (settings.min_duration_ms as f64 / 1000.0 / 5.0).clamp(0.5, 2.0);
        let measured = inst
            .measure_throughput(Duration::from_secs_f64(secs))
            .context("measuring the SUT for target_qps = \"auto\"")?
            * args.test_only_measured_qps_scale.unwrap_or(1.0);
        if let Some(scale) = args.test_only_measured_qps_scale {
            eprintln!("yardstick: test only: the measured rate is scaled by {scale}");
        }
        let (factor, what) = match settings.scenario {
            yardstick_core::Scenario::Server => (0.5, "Server target QPS"),
            _ => (2.0, "Offline expected QPS"),
        };
        let qps = (measured * factor).max(1.0);
        // Resolved again with the measured rate as the front end's own
        // override, so that an audit.config still wins over it.
        let auto = yardstick_core::settings::Override::new(
            yardstick_core::settings::SettingSource::api("target_qps auto (measured)"),
            [
                yardstick_core::settings::SettingValue::OfflineExpectedQps(qps),
                yardstick_core::settings::SettingValue::ServerTargetQps(qps),
            ],
        );
        resolved = sa.resolve_full(vec![auto], Some(&composed))?;
        eprintln!(
            "yardstick: target_qps \"auto\": the SUT ran {measured:.0} samples/s over {secs:.1} s; {what} set to {qps:.0} (x{factor}); --target-qps overrides"
        );
    }

    let recording = Recording::open(&args.recording);
    let interrupts = Interrupts::install()?;
    let mut params = std::collections::BTreeMap::new();
    params.insert("origin".to_string(), workload.origin.to_string());
    if let Some(t) = args.sut_threads {
        params.insert("sut_threads".to_string(), t.to_string());
    }
    if let Some(b) = args.batch_size {
        params.insert("batch_size".to_string(), b.to_string());
    }
    if let Some(m) = &args.onnx {
        params.insert("onnx".to_string(), m.display().to_string());
    }
    if let Some(ep) = &args.ep {
        params.insert("execution_providers".to_string(), ep.join(","));
    }
    for (key, value) in [
        ("intra_op_threads", args.intra_op_threads),
        ("inter_op_threads", args.inter_op_threads),
    ] {
        if let Some(v) = value {
            params.insert(key.to_string(), v.to_string());
        }
    }
    let ctx = RunContext {
        recording: &recording,
        output: args.output.clone(),
        group: None,
        workload: WorkloadInfo {
            name: workload.name().to_string(),
            model: Some(sa.model().to_string()),
            sut: SutInfo {
                name: inst.sut().name().to_string(),
                kind: "workload".to_string(),
                params,
            },
            ..WorkloadInfo::default()
        },
        interrupts: &interrupts,
    };
    let mut run = run_logged(inst.sut(), inst.library(), &resolved, &args, &ctx)?;
    // target_qps "auto" sized the Offline query from a short measurement. A
    // SUT that then runs much faster (the machine was busy while it was
    // measured) finishes the query before min_duration: re-size it from
    // the rate the run itself reached and run again, at most twice. The
    // short run is kept, marked as superseded.
    let mut resized = 0;
    while timed
        && auto_qps
        && resized < 2
        && resolved.settings.scenario == yardstick_core::Scenario::Offline
        && !interrupts.is_requested()
        && ended_only_too_short(&run.record)
    {
        let Some(reached) = run
            .record
            .metrics
            .iter()
            .find(|m| m.name == "samples_per_second")
            .map(|m| m.value)
            .filter(|v| v.is_finite() && *v > 0.0)
        else {
            break;
        };
        let qps = reached * 2.0;
        eprintln!(
            "yardstick: target_qps \"auto\": the run reached {reached:.0} samples/s, faster than measured, and its query ended before min_duration; running again with Offline expected QPS {qps:.0}"
        );
        run.record.notes.push(format!(
            "superseded: target_qps auto re-sized the Offline query to {qps:.0} samples/s and ran again"
        ));
        save_and_print(&mut run, &recording)?;
        let auto = yardstick_core::settings::Override::new(
            yardstick_core::settings::SettingSource::api("target_qps auto (re-sized from the run)"),
            [
                yardstick_core::settings::SettingValue::OfflineExpectedQps(qps),
                yardstick_core::settings::SettingValue::ServerTargetQps(qps),
            ],
        );
        resolved = sa.resolve_full(vec![auto], Some(&composed))?;
        run = run_logged(inst.sut(), inst.library(), &resolved, &args, &ctx)?;
        resized += 1;
    }

    let mut ok = run.outcome.is_valid() && !interrupts.is_requested();
    if scoring && !interrupts.is_requested() {
        let verdict = score_accuracy(&workload, &inst.labels()?, &args.output)?;
        ok &= verdict.passed == Some(true);
        run.record
            .add_file("accuracy_txt", args.output.join("accuracy.txt"));
        if run.record.validity.verdict == yardstick_pipeline::record::Verdict::NotApplicable {
            // Accuracy-only: the accuracy verdict is the run's.
            run.record.validity.verdict = if verdict.passed == Some(true) {
                yardstick_pipeline::record::Verdict::Valid
            } else {
                yardstick_pipeline::record::Verdict::Invalid
            };
        }
        run.record
            .validity
            .checks
            .push(yardstick_pipeline::record::ValidityCheck {
                name: "accuracy".into(),
                passed: verdict.passed == Some(true),
                detail: verdict.detail.clone(),
            });
        run.record.accuracy = Some(verdict);
    } else if !scoring {
        println!(
            "  accuracy                : not measured in {mode} mode (--mode submission or accuracy scores it)"
        );
    }
    save_and_print(&mut run, &recording)?;
    Ok(exit_code(ok))
}

/// Scores `<output>/mlperf_log_accuracy.json` (top-1, or top-k with
/// `[accuracy] top_k`, of the int32 class responses against the library's
/// labels), writes `<output>/accuracy.txt` with the verdict, prints it, and
/// returns whether it passed: the accuracy at least the workload's
/// threshold, over every sample of the data set.
fn score_accuracy(
    workload: &yardstick_workloads::Workload,
    (source, all_labels): &(PathBuf, Vec<i128>),
    out: &std::path::Path,
) -> Result<yardstick_pipeline::record::AccuracyVerdict> {
    use yardstick_accuracy::{
        check_minimum, read_accuracy_log, top1, top_k, write_accuracy_txt, Dtype, Labels, Outcome,
        Score,
    };
    let log_path = out.join("mlperf_log_accuracy.json");
    let log = read_accuracy_log(&log_path)?;
    let labels = Labels {
        path: source.clone(),
        labels: all_labels.clone(),
    };
    // Top-k responses hold k classes each, best first.
    let k = workload.top_k();
    let top = format!("top-{k}");
    let t = if k == 1 {
        top1(&log, &labels, Dtype::Int32)?
    } else {
        top_k(&log, &labels, Dtype::Int32)?
    };
    let score = Score::Top1(t);
    let complete = t.total == all_labels.len();
    let target = workload.accuracy_threshold().map(|threshold| {
        let threshold = threshold * 100.0;
        let reference = workload.spec.accuracy.reference.unwrap_or(0.0) * 100.0;
        let fraction = workload.spec.accuracy.target_fraction;
        let pass = check_minimum(&score, threshold).outcome() == Outcome::Pass && complete;
        (threshold, reference, fraction, pass)
    });
    // Without a target (no reference), a complete log passes: the score is
    // reported, not judged.
    let pass = target.map_or(complete, |(.., pass)| pass);
    let verdict_word = if pass { "PASS" } else { "FAIL" };
    let txt_path = out.join("accuracy.txt");
    write_accuracy_txt(&txt_path, &score, &log_path)?;
    let (mut verdict_line, printed_target) = match target {
        Some((threshold, reference, fraction, _)) => (
            format!(
                "{} {top} target: >= {threshold:.3}% ({}% of the reference {reference:.3}%): {verdict_word}",
                workload.name(),
                fraction * 100.0,
            ),
            format!(
                "target >= {threshold:.3}% ({}% of {reference:.3}%): {verdict_word}",
                fraction * 100.0
            ),
        ),
        None => (
            format!(
                "{} {top}: no target (the workload gives no reference accuracy)",
                workload.name()
            ),
            "no target".to_string(),
        ),
    };
    if !complete {
        verdict_line.push_str(&format!(
            " (the accuracy log covers {} of the {} samples)",
            t.total,
            all_labels.len()
        ));
    }
    let mut text = std::fs::read_to_string(&txt_path)
        .with_context(|| format!("cannot read {}", txt_path.display()))?;
    text.push_str(&verdict_line);
    text.push('\n');
    std::fs::write(&txt_path, text)
        .with_context(|| format!("cannot write {}", txt_path.display()))?;
    println!(
        "  accuracy                : {top} {:.3}% ({} of {}), {printed_target}",
        t.accuracy(),
        t.good,
        t.total,
    );
    println!("  accuracy report         : {}", txt_path.display());
    Ok(yardstick_pipeline::record::AccuracyVerdict {
        metric: top.replace('-', ""),
        value: t.accuracy(),
        target: target.map(|(threshold, ..)| threshold),
        passed: Some(pass),
        detail: verdict_line,
    })
}

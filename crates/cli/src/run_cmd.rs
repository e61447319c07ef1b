//! `yardstick run`: a benchmark of a built-in SUT, with MLPerf logs.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use yardstick_core::run::{start_test, LiveProgress, RunOptions};
use yardstick_core::sut::{QuerySampleLibrary, SystemUnderTest};
use yardstick_suts::{NullSut, ServiceTime, SleepSut, SyntheticLibrary};

use crate::settings_args::SettingsArgs;
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
    /// The system under test.
    #[arg(long, value_enum, default_value = "sleep")]
    pub sut: SutKind,
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
    let (settings, warnings) = args.settings.build()?;
    for w in &warnings {
        eprintln!(
            "yardstick: warning: {}:{}: {}",
            w.source_name, w.line, w.message
        );
    }
    anyhow::ensure!(args.total_samples > 0, "--total-samples must be at least 1");
    anyhow::ensure!(
        args.performance_samples > 0,
        "--performance-samples must be at least 1"
    );

    let sut: Box<dyn SystemUnderTest> = match args.sut {
        SutKind::Null => Box::new(if args.tokens {
            NullSut::with_tokens()
        } else {
            NullSut::new()
        }),
        SutKind::Sleep => Box::new(SleepSut::new(
            parse_service_time(&args.service_time)?,
            args.workers,
            args.seed,
        )?),
    };
    let qsl = SyntheticLibrary::new("SyntheticQSL", args.total_samples, args.performance_samples);

    let logs = crate::report::open_logs(&args.output, args.trace, args.record_queries.as_deref())?;
    logs.header(sut.name(), &qsl as &dyn QuerySampleLibrary, &warnings);

    let live = Arc::new(LiveProgress::new());
    let options = RunOptions {
        stall_timeout: args.stall_timeout,
        progress: Some(Arc::clone(&live)),
        ..RunOptions::default()
    };
    let display = progress::ProgressDisplay::start(Arc::clone(&live));
    let outcome = start_test(sut.as_ref(), &qsl, &settings, logs.sink(), &options);
    display.stop();
    let outcome = outcome.context("the test could not run")?;
    logs.finish().context("writing the logs")?;
    report::print_human_summary(&outcome, &args.output);
    Ok(if outcome.is_valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

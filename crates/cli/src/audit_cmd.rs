//! `yardstick audit TEST01|TEST04|TEST06|TEST09`: the MLPerf Inference compliance
//! tests. The runs they need go through `yardstick run` or `yardstick
//! endpoint` (the command after `--`), each in its own folder, the
//! compliance run with the test's audit.config; the verdicts come from
//! yardstick-submission's verifiers and land in the official layout,
//! `<output>/compliance/TESTxx/`.

pub mod fault_sut;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use yardstick_core::Mode;
use yardstick_submission::audit::{
    audit_config, layout, test09, AnswerEncoding, AuditPaths, AuditTest, Dtype,
};

use crate::{endpoint_cmd, run_cmd};

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The test: TEST01 (accuracy-log sampling in a performance run),
    /// TEST04 (the same sample over and over: no caching), TEST06 (LLM
    /// output consistency), TEST09 (mean output length within the
    /// benchmark's bounds, from the audit.config's test09_* keys).
    #[arg(value_parser = parse_test)]
    pub test: AuditTest,
    /// Output folder: results/ (the submitted runs, unless --results),
    /// audit/TESTxx/ (the compliance run, with its audit.config) and
    /// compliance/TESTxx/ (the verdicts, as run_verification.py writes them).
    #[arg(long, short = 'o', default_value = "yardstick-out/audit")]
    pub output: PathBuf,
    /// Submitted results to compare with instead of running them: a folder
    /// with accuracy/ (TEST01) and performance/run_1/ (TEST01, TEST04), as
    /// in a submission's results/<system>/<benchmark>/<scenario>/.
    #[arg(long, value_name = "DIR")]
    pub results: Option<PathBuf>,
    /// Verify the logs of a compliance run made elsewhere (a Python SUT
    /// run in a folder holding the test's audit.config, say) instead of
    /// running one; no command after `--` is needed then.
    #[arg(long, value_name = "DIR")]
    pub compliance_dir: Option<PathBuf>,
    /// Use this audit.config instead of the official one of the test.
    #[arg(long, value_name = "FILE")]
    pub audit_config: Option<PathBuf>,
    /// Print the test's official audit.config and exit (put it in the
    /// working folder of a SUT that runs LoadGen itself).
    #[arg(long)]
    pub print_config: bool,
    /// Benchmark name that picks TEST01's sampling target (retinanet: 256,
    /// 3d-unet: 64, ...) [default: the run's --model or --workload].
    #[arg(long)]
    pub model: Option<String>,
    /// How answers are decoded: byte, int16, int32, int64, float32 (TEST01
    /// default byte, TEST06 default int32), or text (TEST06 over an HTTP
    /// endpoint, whose answers are text: the default with `endpoint`).
    #[arg(long, value_name = "DTYPE")]
    pub dtype: Option<String>,
    /// TEST06: the EOS token id (int dtypes).
    #[arg(long, default_value_t = 2)]
    pub eos_token_id: i64,
    /// TEST06 with --dtype text: the EOS text.
    #[arg(long, default_value = "</s>")]
    pub eos_text: String,
    /// The audited run: `run ...` (built-in SUT or --workload) or
    /// `endpoint ...` (an HTTP server, --load scenario), with the flags
    /// those commands take; -o, --mode and --audit-conf are set per run.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

fn parse_test(text: &str) -> Result<AuditTest, String> {
    AuditTest::parse(text)
        .ok_or_else(|| format!("unknown test `{text}`: TEST01, TEST04, TEST06 or TEST09"))
}

/// The command after `--`, parsed as the binary parses it.
#[derive(Debug, Parser)]
#[command(name = "yardstick", no_binary_name = true)]
struct Audited {
    #[command(subcommand)]
    command: AuditedCommand,
}

#[derive(Debug, Subcommand)]
enum AuditedCommand {
    Run(Box<run_cmd::RunArgs>),
    Endpoint(Box<endpoint_cmd::EndpointArgs>),
}

impl AuditedCommand {
    fn parse(words: &[String]) -> Result<AuditedCommand> {
        Audited::try_parse_from(words)
            .map(|a| a.command)
            .map_err(|e| anyhow::anyhow!("the command after `--`: {e}"))
    }

    fn model(&self) -> Option<String> {
        match self {
            AuditedCommand::Run(a) => a.settings.model.clone().or_else(|| a.workload.clone()),
            AuditedCommand::Endpoint(a) => a.settings.model.clone(),
        }
    }

    fn is_endpoint(&self) -> bool {
        matches!(self, AuditedCommand::Endpoint(_))
    }
}

/// One run of the audit: the command after `--` with its output folder,
/// mode and audit.config set. A run that is INVALID or fails its accuracy
/// still leaves its logs, which the verifiers judge, so only an error that
/// leaves none stops the audit.
fn run_once(words: &[String], dir: &Path, mode: Mode, audit_conf: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    match AuditedCommand::parse(words)? {
        AuditedCommand::Run(mut args) => {
            args.output = dir.to_path_buf();
            args.repeat = 1;
            args.settings.mode = Some(mode);
            args.settings.audit_conf = audit_conf.to_path_buf();
            run_cmd::run(*args)?;
        }
        AuditedCommand::Endpoint(mut args) => {
            // The endpoint writes a point's logs into a folder of its own;
            // they are copied up so `dir` holds them as a LoadGen run's.
            let staging = dir.join("endpoint");
            args.output = staging.clone();
            args.settings.mode = Some(mode);
            args.settings.audit_conf = audit_conf.to_path_buf();
            endpoint_cmd::run_endpoint(*args)?;
            let point = find_logs(&staging)?;
            for entry in std::fs::read_dir(&point)
                .with_context(|| format!("cannot read {}", point.display()))?
            {
                let path = entry?.path();
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                if name.starts_with("mlperf_log_") {
                    std::fs::copy(&path, dir.join(path.file_name().unwrap_or_default()))
                        .with_context(|| format!("cannot copy {}", path.display()))?;
                }
            }
        }
    }
    anyhow::ensure!(
        dir.join("mlperf_log_detail.txt").is_file(),
        "the run wrote no mlperf_log_detail.txt in {}",
        dir.display()
    );
    Ok(())
}

/// The folder under `root` (itself or one level down) holding a detail log.
fn find_logs(root: &Path) -> Result<PathBuf> {
    if root.join("mlperf_log_detail.txt").is_file() {
        return Ok(root.to_path_buf());
    }
    for entry in
        std::fs::read_dir(root).with_context(|| format!("cannot read {}", root.display()))?
    {
        let path = entry?.path();
        if path.join("mlperf_log_detail.txt").is_file() {
            return Ok(path);
        }
    }
    anyhow::bail!(
        "no MLPerf logs under {} (use --load scenario)",
        root.display()
    )
}

/// The effective scenario a detail log names.
fn detail_scenario(dir: &Path) -> Result<String> {
    let path = dir.join("mlperf_log_detail.txt");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    yardstick_submission::audit::detail_scenario(&text)
        .with_context(|| format!("{}: no effective_scenario", path.display()))
}

fn encoding(args: &AuditArgs, endpoint: bool) -> Result<(Option<Dtype>, AnswerEncoding)> {
    let name = args.dtype.clone().unwrap_or_else(|| {
        match (args.test, endpoint) {
            (AuditTest::Test06, true) => "text",
            (AuditTest::Test06, false) => "int32",
            _ => "byte",
        }
        .to_string()
    });
    if name == "text" {
        anyhow::ensure!(
            args.test == AuditTest::Test06,
            "--dtype text is for TEST06 only"
        );
        return Ok((
            None,
            AnswerEncoding::Text {
                eos_text: args.eos_text.clone(),
            },
        ));
    }
    let dtype = Dtype::parse(&name)
        .with_context(|| format!("--dtype `{name}`: byte, int16, int32, int64, float32 or text"))?;
    Ok((
        Some(dtype),
        AnswerEncoding::Tokens {
            dtype,
            eos_token_id: args.eos_token_id,
        },
    ))
}

/// Python's logging time stamp, `2026-12-06 10:00:00,123`.
fn log_time() -> String {
    chrono::Local::now()
        .format("%Y-%m-%d %H:%M:%S,%3f")
        .to_string()
}

pub fn run(args: AuditArgs) -> Result<ExitCode> {
    let test = args.test;
    let audited = if args.command.is_empty() {
        None
    } else {
        Some(AuditedCommand::parse(&args.command)?)
    };
    let model = args
        .model
        .clone()
        .or_else(|| audited.as_ref().and_then(AuditedCommand::model))
        .unwrap_or_else(|| "resnet50".to_string());
    let config = match &args.audit_config {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?
        }
        None => audit_config(test, &model),
    };
    if args.print_config {
        print!("{config}");
        return Ok(ExitCode::SUCCESS);
    }
    let endpoint = audited.as_ref().is_some_and(AuditedCommand::is_endpoint);
    let (dtype, answers) = encoding(&args, endpoint)?;
    let out = &args.output;
    // TEST06 and TEST09 judge the compliance run alone.
    let needs_results = !matches!(test, AuditTest::Test06 | AuditTest::Test09);
    // TEST09's bounds, known before any run: as the official script, none
    // is an error.
    let test09_bounds = match test09::thresholds(&config) {
        (Some(min), Some(max)) => Some((min, max)),
        _ if test == AuditTest::Test09 => anyhow::bail!(
            "TEST09: the audit.config sets no test09_min_output_tokens and \
             test09_max_output_tokens (the official files have them for gpt-oss-120b \
             and e2e-rag-qna: --model); give an --audit-config with both"
        ),
        _ => None,
    };
    if audited.is_none() {
        anyhow::ensure!(
            args.compliance_dir.is_some() && (args.results.is_some() || !needs_results),
            "give the audited run after `--` (`-- run ...` or `-- endpoint ...`), or \
             --compliance-dir{} to verify logs made elsewhere",
            if needs_results { " and --results" } else { "" }
        );
    }
    // The reference runs read no audit.config, whatever the working
    // folder holds: their --audit-conf names a file that is not there.
    let no_audit = out.join("results").join("no-audit.config");
    let results = match (&args.results, needs_results) {
        (Some(r), _) => r.clone(),
        (None, false) => out.join("results"),
        (None, true) => {
            let results = out.join("results");
            if test == AuditTest::Test01 {
                eprintln!("yardstick audit: {test}: the accuracy run");
                run_once(
                    &args.command,
                    &results.join("accuracy"),
                    Mode::AccuracyOnly,
                    &no_audit,
                )?;
            }
            eprintln!("yardstick audit: {test}: the performance run");
            run_once(
                &args.command,
                &results.join("performance").join("run_1"),
                Mode::PerformanceOnly,
                &no_audit,
            )?;
            results
        }
    };
    let compliance = match &args.compliance_dir {
        Some(d) => d.clone(),
        None => {
            let dir = out.join("audit").join(test.name());
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let conf = dir.join("audit.config");
            std::fs::write(&conf, &config)
                .with_context(|| format!("cannot write {}", conf.display()))?;
            eprintln!(
                "yardstick audit: {test}: the compliance run ({})",
                conf.display()
            );
            run_once(&args.command, &dir, Mode::PerformanceOnly, &conf)?;
            dir
        }
    };
    let paths = AuditPaths {
        results,
        compliance,
        output: out.join("compliance"),
    };
    let dir = paths.test_dir(test);
    let mut checks: Vec<(&str, bool)> = Vec::new();
    match test {
        AuditTest::Test01 => {
            let (accuracy, performance) =
                layout::write_test01(&paths, dtype.unwrap_or(Dtype::Byte), &log_time())?;
            checks.push(("accuracy", accuracy.passed()));
            checks.push(("performance", performance.passed()));
        }
        AuditTest::Test04 => {
            checks.push(("performance", layout::write_test04(&paths)?.passed()));
        }
        AuditTest::Test06 => {
            let scenario = detail_scenario(&paths.compliance)?;
            let v = layout::write_test06(&paths, &scenario, &answers)?;
            let word = |b: bool| if b { "PASS" } else { "FAIL" };
            match v.first_token_pass {
                Some(b) => println!("  first token             : {}", word(b)),
                None => println!("  first token             : skipped ({scenario})"),
            }
            println!("  EOS                     : {}", word(v.eos_pass));
            println!("  output length           : {}", word(v.sample_len_pass));
            if v.verify_file.is_none() {
                eprint!("{}", v.output.merged());
                println!(
                    "  (the official script ends before writing verify_accuracy.txt on these answers)"
                );
            }
            checks.push(("output consistency", v.passed()));
        }
        AuditTest::Test09 => {
            let (min, max) = test09_bounds.context("TEST09 has its bounds")?;
            let v = layout::write_test09(&paths, min, max)?;
            println!(
                "  mean output tokens      : {:.2} over {} answers (bounds {min}..{max})",
                v.mean_tokens, v.samples
            );
            checks.push(("output length", v.passed));
        }
    }
    let mut all = true;
    for (name, passed) in &checks {
        println!(
            "{test} {name:<20}: {}",
            if *passed { "PASS" } else { "FAIL" }
        );
        all &= passed;
    }
    println!("{test} verdicts       : {}", dir.display());
    Ok(if all {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

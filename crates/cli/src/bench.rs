//! `yardstick bench harness`: how fast is the load generator itself?
//!
//! Each measurement runs in a fresh child process (`yardstick bench child`,
//! or the official LoadGen wheel through `bench/loadgen_null_sut.py`) so
//! that peak RSS belongs to that measurement alone. Both sides use a null
//! SUT that answers inside `issue_query`, write their MLPerf logs, and report
//! one JSON line; the parent compares them side by side.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use yardstick_core::run::{start_test, RunOptions};
use yardstick_core::{Mode, Scenario, TestSettings};
use yardstick_suts::{NullSut, SyntheticLibrary};

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Measure the harness against the official LoadGen wheel, side by side.
    Harness(HarnessArgs),
    /// One measurement in this process (used by `harness`); prints one JSON line.
    Child(ChildArgs),
}

#[derive(Debug, Clone, Args)]
pub struct HarnessArgs {
    /// Python with the official wheel (`mlcommons-loadgen`) installed.
    #[arg(long, default_value = ".venv-ref/bin/python")]
    pub python: PathBuf,
    /// The official side's driver script.
    #[arg(long, default_value = "bench/loadgen_null_sut.py")]
    pub driver: PathBuf,
    /// Seconds of each Server trial in the QPS search.
    #[arg(long, default_value_t = 5)]
    pub trial_secs: u64,
    /// Seconds of the confirming Server run and of the latency run.
    #[arg(long, default_value_t = 10)]
    pub run_secs: u64,
    /// Offline samples.
    #[arg(long, default_value_t = 5_500_000)]
    pub offline_samples: u64,
    /// Queries of the memory run (yardstick; the official side runs a tenth).
    #[arg(long, default_value_t = 20_000_000)]
    pub memory_queries: u64,
    /// Skip the official wheel (yardstick figures only).
    #[arg(long)]
    pub no_official: bool,
    /// Write the results table (Markdown) to this file.
    #[arg(long)]
    pub markdown: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ChildArgs {
    #[arg(long)]
    pub scenario: Scenario,
    #[arg(long, default_value_t = 1.0)]
    pub target_qps: f64,
    #[arg(long, default_value_t = 1000)]
    pub duration_ms: u64,
    #[arg(long, default_value_t = 1024)]
    pub total: usize,
    #[arg(long, default_value_t = 1024)]
    pub perf: usize,
    /// Offline: samples in the one query.
    #[arg(long)]
    pub samples: Option<u64>,
    /// Folder for the logs (a temporary one by default).
    #[arg(long)]
    pub logs: Option<PathBuf>,
}

/// One measurement, as both drivers print it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measurement {
    #[serde(rename = "impl")]
    pub implementation: String,
    pub scenario: String,
    pub target_qps: f64,
    pub valid: bool,
    pub completed_samples_per_s: f64,
    pub p99_latency_ns: f64,
    pub samples: u64,
    pub peak_rss_bytes: u64,
    pub wall_s: f64,
}

pub fn run(cmd: BenchCommand) -> Result<ExitCode> {
    match cmd {
        BenchCommand::Child(args) => {
            let m = child(&args)?;
            println!("{}", serde_json::to_string(&m)?);
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Harness(args) => harness(&args),
    }
}

/// Peak resident set size of this process (VmHWM), bytes.
fn peak_rss_bytes() -> Result<u64> {
    let status =
        std::fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .context("no VmHWM in /proc/self/status")?;
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .context("malformed VmHWM line")?
        .parse()
        .context("malformed VmHWM value")?;
    Ok(kb * 1024)
}

fn child_settings(args: &ChildArgs) -> TestSettings {
    let mut s = TestSettings {
        scenario: args.scenario,
        mode: Mode::PerformanceOnly,
        min_duration_ms: args.duration_ms,
        min_query_count: 1,
        // The official seeds, so both sides issue the same queries.
        qsl_rng_seed: 2_085_463_073_848_966_840,
        sample_index_rng_seed: 2_747_215_439_041_700_203,
        schedule_rng_seed: 16_159_082_839_903_944_936,
        ..TestSettings::default()
    };
    match args.scenario {
        Scenario::Server => {
            s.server_target_qps = args.target_qps;
            s.server_target_latency_ns = 15_000_000;
        }
        Scenario::Offline => {
            let samples = args.samples.unwrap_or(1_000_000);
            // One query of exactly `samples`: min_query_count * samples_per_query.
            s.offline_expected_qps = 1.0;
            s.min_duration_ms = 0;
            s.min_query_count = samples;
        }
        Scenario::SingleStream | Scenario::MultiStream => {
            // LoadGen pre-generates 2 x duration x (1 / expected latency)
            // queries: the expected rate must exceed the achieved one or the
            // run ends early, INVALID.
            s.single_stream_expected_latency_ns = 1e9 / args.target_qps.max(1.0);
        }
    }
    s
}

fn child(args: &ChildArgs) -> Result<Measurement> {
    let settings = child_settings(args);
    let dir = match &args.logs {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("yardstick-bench-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let logs = yardstick_pipeline::open_logs(
        &yardstick_logs::LogOutputSettings {
            outdir: dir.clone(),
            ..Default::default()
        },
        None,
        Vec::new(),
    )?;
    let sut = NullSut::new();
    let qsl = SyntheticLibrary::new("SyntheticQSL", args.total, args.perf);
    logs.header("NullSUT", &qsl, &[]);
    let t0 = Instant::now();
    let outcome = start_test(&sut, &qsl, &settings, logs.sink(), &RunOptions::default())?;
    let wall_s = t0.elapsed().as_secs_f64();
    logs.finish()?;
    let Some(result) = outcome.result() else {
        bail!("the benchmark run produced no performance result");
    };
    let m = Measurement {
        implementation: "yardstick".into(),
        scenario: args.scenario.to_string(),
        target_qps: args.target_qps,
        valid: outcome.is_valid(),
        completed_samples_per_s: match args.scenario {
            Scenario::Server => result.completed_samples_per_sec,
            Scenario::Offline => result.samples_per_second,
            Scenario::SingleStream | Scenario::MultiStream => result.qps_with_loadgen_overhead,
        },
        p99_latency_ns: result
            .latency_percentiles
            .iter()
            .find(|p| p.percentile == 0.99)
            .map_or(0.0, |p| p.sample_latency as f64),
        samples: result.pr.sample_latencies.len() as u64,
        peak_rss_bytes: peak_rss_bytes()?,
        wall_s,
    };
    if args.logs.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(m)
}

/// Runs one measurement in a child process and parses its JSON line.
fn measure(cmd: &mut Command) -> Result<Measurement> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .context("no JSON line in the output")?;
    serde_json::from_str(line).with_context(|| format!("bad measurement line: {line}"))
}

struct Side {
    official: bool,
    python: PathBuf,
    driver: PathBuf,
}

impl Side {
    fn run(
        &self,
        scenario: Scenario,
        qps: f64,
        duration_ms: u64,
        samples: Option<u64>,
    ) -> Result<Measurement> {
        let mut cmd = if self.official {
            let mut c = Command::new(&self.python);
            c.arg(&self.driver);
            c
        } else {
            let mut c = Command::new(std::env::current_exe()?);
            c.args(["bench", "child"]);
            c
        };
        cmd.args(["--scenario", scenario.as_str()])
            .args(["--target-qps", &qps.to_string()])
            .args(["--duration-ms", &duration_ms.to_string()])
            .args(["--total", "1024", "--perf", "1024"]);
        if let Some(n) = samples {
            cmd.args(["--samples", &n.to_string()]);
        }
        let m = measure(&mut cmd)?;
        eprintln!(
            "  {:<10} {:<12} target {:>10.0}  {:>5}  {:>12.0} samples/s  p99 {:>10.0} ns  rss {:>6.1} MiB",
            m.implementation,
            m.scenario,
            m.target_qps,
            if m.valid { "VALID" } else { "INVALID" },
            m.completed_samples_per_s,
            m.p99_latency_ns,
            m.peak_rss_bytes as f64 / 1048576.0
        );
        Ok(m)
    }

    /// Highest Server QPS that stays VALID: double from `start` until a
    /// trial fails, then bisect to within 5%, then confirm with a full run.
    fn peak_server_qps(
        &self,
        start: f64,
        trial_ms: u64,
        run_ms: u64,
    ) -> Result<(f64, Measurement)> {
        let mut lo = 0.0;
        let mut hi = start;
        loop {
            let m = self.run(Scenario::Server, hi, trial_ms, None)?;
            if !m.valid {
                break;
            }
            lo = hi;
            hi *= 2.0;
            if hi > 64e6 {
                break;
            }
        }
        while lo > 0.0 && hi / lo > 1.05 || lo == 0.0 && hi > start / 64.0 {
            let mid = if lo == 0.0 { hi / 2.0 } else { (lo + hi) / 2.0 };
            if self.run(Scenario::Server, mid, trial_ms, None)?.valid {
                lo = mid;
            } else {
                hi = mid;
            }
            if lo == 0.0 && hi <= start / 64.0 {
                break;
            }
        }
        // Confirm at the found rate for the full duration; step down if needed.
        let mut qps = lo.max(1.0);
        for _ in 0..4 {
            let m = self.run(Scenario::Server, qps, run_ms, None)?;
            if m.valid {
                return Ok((qps, m));
            }
            qps *= 0.9;
        }
        let m = self.run(Scenario::Server, qps, run_ms, None)?;
        Ok((qps, m))
    }
}

struct Figures {
    server_peak_qps: f64,
    server_peak: Measurement,
    offline: Measurement,
    single_stream: Measurement,
    memory: Measurement,
    latency_100k: Measurement,
}

fn figures(
    side: &Side,
    args: &HarnessArgs,
    start_qps: f64,
    single_stream_qps: f64,
    memory_queries: u64,
) -> Result<Figures> {
    let trial_ms = args.trial_secs * 1000;
    let run_ms = args.run_secs * 1000;
    let (server_peak_qps, server_peak) = side.peak_server_qps(start_qps, trial_ms, run_ms)?;
    let offline = side.run(Scenario::Offline, 1.0, 0, Some(args.offline_samples))?;
    let single_stream = side.run(Scenario::SingleStream, single_stream_qps, 1000, None)?;
    // The memory run: `memory_queries` Server queries at the peak rate.
    let mem_qps = server_peak_qps.max(1.0);
    let mem_ms = ((memory_queries as f64 / mem_qps) * 1000.0).ceil() as u64;
    let memory = side.run(Scenario::Server, mem_qps, mem_ms, None)?;
    let latency_100k = side.run(Scenario::Server, 100_000.0, run_ms, None)?;
    Ok(Figures {
        server_peak_qps,
        server_peak,
        offline,
        single_stream,
        memory,
        latency_100k,
    })
}

fn bytes_per_query(m: &Measurement) -> f64 {
    m.peak_rss_bytes as f64 / m.samples.max(1) as f64
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!("{cpu}, {cores} cores available")
}

fn table(ours: &Figures, official: Option<&Figures>) -> String {
    let mut t = String::new();
    t.push_str("| figure | yardstick | official LoadGen 6.0.17 (Python null SUT) | ratio |\n|---|---:|---:|---:|\n");
    let mut row = |name: &str, a: f64, b: Option<f64>, higher_is_better: bool, unit: &str| {
        let ratio = b.map(|b| if higher_is_better { a / b } else { b / a });
        t.push_str(&format!(
            "| {name} | {a:.1} {unit} | {} | {} |\n",
            b.map(|b| format!("{b:.1} {unit}"))
                .unwrap_or_else(|| "-".into()),
            ratio
                .map(|r| format!("{r:.1}x"))
                .unwrap_or_else(|| "-".into())
        ));
    };
    row(
        "highest VALID Server QPS (null SUT)",
        ours.server_peak_qps,
        official.map(|o| o.server_peak_qps),
        true,
        "QPS",
    );
    row(
        "Server completed samples/s at that rate",
        ours.server_peak.completed_samples_per_s,
        official.map(|o| o.server_peak.completed_samples_per_s),
        true,
        "/s",
    );
    row(
        "Offline samples/s",
        ours.offline.completed_samples_per_s,
        official.map(|o| o.offline.completed_samples_per_s),
        true,
        "/s",
    );
    row(
        "SingleStream queries/s",
        ours.single_stream.completed_samples_per_s,
        official.map(|o| o.single_stream.completed_samples_per_s),
        true,
        "/s",
    );
    row(
        "memory per query (peak RSS / queries)",
        bytes_per_query(&ours.memory),
        official.map(|o| bytes_per_query(&o.memory)),
        false,
        "B",
    );
    row(
        "harness p99 latency at 100k QPS",
        ours.latency_100k.p99_latency_ns / 1000.0,
        official.map(|o| o.latency_100k.p99_latency_ns / 1000.0),
        false,
        "µs",
    );
    t.push_str(&format!(
        "\nMemory runs: yardstick {} queries (peak RSS {:.0} MiB){}.\n",
        ours.memory.samples,
        ours.memory.peak_rss_bytes as f64 / 1048576.0,
        official
            .map(|o| format!(
                ", official {} queries (peak RSS {:.0} MiB)",
                o.memory.samples,
                o.memory.peak_rss_bytes as f64 / 1048576.0
            ))
            .unwrap_or_default()
    ));
    t.push_str(&format!(
        "Validity: yardstick peak run {}, 100k-QPS run {}{}.\n",
        if ours.server_peak.valid {
            "VALID"
        } else {
            "INVALID"
        },
        if ours.latency_100k.valid {
            "VALID"
        } else {
            "INVALID"
        },
        official
            .map(|o| format!(
                "; official 100k-QPS run {}",
                if o.latency_100k.valid {
                    "VALID"
                } else {
                    "INVALID"
                }
            ))
            .unwrap_or_default()
    ));
    t
}

fn harness(args: &HarnessArgs) -> Result<ExitCode> {
    eprintln!("machine: {}", machine());
    eprintln!("yardstick:");
    let ours = Side {
        official: false,
        python: PathBuf::new(),
        driver: PathBuf::new(),
    };
    let our_figs = figures(&ours, args, 1_000_000.0, 20_000_000.0, args.memory_queries)?;
    let official_figs = if args.no_official {
        None
    } else {
        check_official(&args.python, &args.driver)?;
        eprintln!("official LoadGen (Python null SUT):");
        let side = Side {
            official: true,
            python: args.python.clone(),
            driver: args.driver.clone(),
        };
        Some(figures(
            &side,
            args,
            100_000.0,
            400_000.0,
            args.memory_queries / 10,
        )?)
    };
    let md = format!(
        "Machine: {}\n\nCommand: `yardstick bench harness --trial-secs {} --run-secs {} --offline-samples {} --memory-queries {}`\n\n{}",
        machine(),
        args.trial_secs,
        args.run_secs,
        args.offline_samples,
        args.memory_queries,
        table(&our_figs, official_figs.as_ref())
    );
    println!("{md}");
    if let Some(p) = &args.markdown {
        std::fs::write(p, &md).with_context(|| format!("cannot write {}", p.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn check_official(python: &Path, driver: &Path) -> Result<()> {
    if !python.exists() {
        bail!(
            "{} not found: run .ci/setup-python.sh to install the official wheel, or pass --no-official",
            python.display()
        );
    }
    if !driver.exists() {
        bail!(
            "{} not found (run from the repository root)",
            driver.display()
        );
    }
    Ok(())
}

//! `yardstick endpoint`'s own open-loop arrivals (`--load gamma`, `trace`,
//! `ramp`) and the SLO search (`--slo-search rate|concurrency`): schedules
//! from `yardstick_endpoint::arrivals`, each point a run record like the
//! other loads.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use yardstick_endpoint::arrivals::{parse_ramp, Limits, Schedule, TraceFormat};
use yardstick_endpoint::bench::{point_label, SampleOrder};
use yardstick_endpoint::slo_search::{
    search, trial_attainment, SearchAxis, SearchConfig, TrialCount,
};
use yardstick_endpoint::{Bench, Dataset, PointResult, TokenCounter};
use yardstick_pipeline::record::{
    GroupKind, RunRecord, SettingRecord, SettingSource as RecordSource,
};
use yardstick_pipeline::Recorder;

use super::{add_point_files, print_point, save_point, EndpointArgs, LoadArg};
use crate::recording::{print_record_lines, Group, Recording};
use crate::signals::Interrupts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TraceFormatArg {
    /// JSONL: timestamp (ms), input_length, output_length, hash_ids.
    Mooncake,
    /// CSV: TIMESTAMP,ContextTokens,GeneratedTokens (Azure LLM inference).
    Azure,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SloSearchArg {
    /// The highest open-loop request rate (--load constant, gamma or
    /// poisson as gamma with burstiness 1).
    Rate,
    /// The highest closed-loop concurrency.
    Concurrency,
}

/// Arrival and SLO-search flags of `yardstick endpoint`.
#[derive(Debug, Args)]
pub struct ArrivalArgs {
    /// --load gamma (and --ramp): gamma-distributed gaps, shape B, mean
    /// 1/rate (vLLM's --burstiness: 1 is Poisson, below 1 burstier).
    #[arg(long, value_name = "B")]
    pub burstiness: Option<f64>,
    /// --load trace: the trace to replay (Mooncake JSONL or the Azure LLM
    /// inference CSV); its lengths size synthetic prompts and max_tokens.
    #[arg(long, value_name = "FILE")]
    pub trace_file: Option<PathBuf>,
    /// Trace format (default: .csv is azure, anything else mooncake).
    #[arg(long, value_enum)]
    pub trace_format: Option<TraceFormatArg>,
    /// Multiplies the trace's time stamps (2 = half the rate).
    #[arg(long, default_value_t = 1.0, value_name = "F")]
    pub time_scale: f64,
    /// --load ramp: stages RATE:DURATION,..., e.g. 10:30s,50:30s,100:30s.
    #[arg(long, value_name = "STAGES")]
    pub ramp: Option<String>,
    /// Search the highest rate or concurrency at which --slo-attainment of
    /// the requests meet --slo-ttft/--slo-tpot/--slo-e2e: doubling from
    /// --rate (or --concurrency), then bisecting; one point per trial.
    #[arg(long, value_enum)]
    pub slo_search: Option<SloSearchArg>,
    /// Fraction of requests that must meet the SLOs.
    #[arg(long, default_value_t = 0.99)]
    pub slo_attainment: f64,
    /// The search stops when the bracket is this close (relative).
    #[arg(long, default_value_t = 0.02)]
    pub slo_precision: f64,
    /// Most trials of a search.
    #[arg(long, default_value_t = 30)]
    pub slo_max_trials: usize,
}

/// The seed of arrival draws: --seed (recorded as endpoint.arrival_seed;
/// the draws use their own generator, not the prompt order's).
fn arrival_seed(args: &EndpointArgs) -> u64 {
    args.seed
}

/// Reads `--trace-file` for `--load trace` (cut to --requests and an
/// explicit --duration); prints what it skipped.
pub fn load_trace(args: &EndpointArgs) -> Result<Option<Schedule>> {
    let a = &args.arrivals;
    if args.load != LoadArg::Trace {
        if a.trace_file.is_some() {
            bail!("--trace-file goes with --load trace");
        }
        return Ok(None);
    }
    let Some(path) = &a.trace_file else {
        bail!("--load trace needs --trace-file FILE");
    };
    let format = match a.trace_format {
        Some(TraceFormatArg::Mooncake) => TraceFormat::Mooncake,
        Some(TraceFormatArg::Azure) => TraceFormat::Azure,
        None => TraceFormat::from_path(path),
    };
    let mut s = Schedule::from_trace_file(path, format, a.time_scale)
        .with_context(|| format!("loading the trace {}", path.display()))?;
    s.truncate(Limits {
        duration: args.settings.duration,
        max_requests: args.requests,
    });
    let messages = s.skip_messages();
    for m in messages.iter().take(20) {
        eprintln!("yardstick: warning: {m}");
    }
    if messages.len() > 20 {
        eprintln!(
            "yardstick: warning: ... and {} more skipped line(s)",
            messages.len() - 20
        );
    }
    if !messages.is_empty() {
        eprintln!(
            "yardstick: warning: {}: {} malformed line(s) skipped, {} requests replayed",
            path.display(),
            messages.len(),
            s.len()
        );
    }
    Ok(Some(s))
}

/// Notes for the run record: the skipped trace lines (the first 100) and
/// their count.
pub fn trace_notes(trace: Option<&Schedule>) -> Vec<String> {
    let Some(s) = trace else { return Vec::new() };
    if s.skipped.is_empty() {
        return Vec::new();
    }
    let mut notes = vec![format!(
        "trace {}: {} malformed line(s) skipped",
        s.source.as_deref().unwrap_or("-"),
        s.skipped.len()
    )];
    notes.extend(s.skip_messages().into_iter().take(100));
    notes
}

/// With a trace and no --dataset: one synthetic prompt per trace request,
/// at the trace's lengths (--input-tokens/--output-tokens, when fixed,
/// fill lengths the trace leaves out; else 128).
pub fn trace_dataset(
    args: &EndpointArgs,
    trace: Option<&Schedule>,
    tok: Option<&TokenCounter>,
) -> Result<Option<Dataset>> {
    let Some(s) = trace else { return Ok(None) };
    if args.dataset.is_some() {
        eprintln!("yardstick: note: --dataset given: the trace's times are replayed with the dataset's prompts (the trace's lengths are not used)");
        return Ok(None);
    }
    let fixed = |v: &str| v.trim().parse::<u32>().ok();
    let (isl, osl) = (
        fixed(&args.input_tokens).unwrap_or(128),
        fixed(&args.output_tokens).unwrap_or(128),
    );
    let lengths: Vec<(u32, u32)> = s
        .lengths
        .iter()
        .map(|l| {
            (
                l.input_tokens.unwrap_or(isl),
                l.output_tokens.unwrap_or(osl),
            )
        })
        .collect();
    let name = s
        .source
        .as_deref()
        .map(|p| {
            Path::new(p)
                .file_stem()
                .map_or(p.to_string(), |n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "trace".into());
    Dataset::synthetic_with_lengths(&format!("trace-{name}"), &lengths, tok, args.seed)
        .map(Some)
        .context("building the trace's prompts")
}

/// The group of the points: a find-peak for a search (its size unknown),
/// a sweep for several points.
pub fn group(args: &EndpointArgs, point_count: usize) -> Option<Group> {
    if args.arrivals.slo_search.is_some() {
        Some(Group::new(GroupKind::FindPeak, 0))
    } else {
        (point_count > 1).then(|| Group::new(GroupKind::Sweep, point_count))
    }
}

/// What a point of this module needs from `run_endpoint`.
pub struct PointCtx<'a> {
    pub args: &'a EndpointArgs,
    pub bench: &'a Bench,
    pub duration: Option<Duration>,
    pub new_record: &'a dyn Fn(usize, &str) -> RunRecord,
    pub recorder: &'a Recorder<'a>,
    pub recording: &'a Recording,
    pub interrupts: &'a Interrupts,
    pub out: &'a Path,
    /// The server's own metrics, scraped during each point.
    pub server_scrape: &'a super::server_scrape::ServerScrape,
}

impl PointCtx<'_> {
    fn settings(&self, schedule: Option<&Schedule>) -> Vec<SettingRecord> {
        let typed =
            |flag: &str| std::env::args().any(|a| a == flag || a.starts_with(&format!("{flag}=")));
        let setting = |key: &str, value: String, flag: &str| SettingRecord {
            key: key.into(),
            value,
            source: if typed(flag) {
                RecordSource::Flag { name: flag.into() }
            } else {
                RecordSource::Default
            },
        };
        let a = &self.args.arrivals;
        let mut out = Vec::new();
        if let Some(s) = schedule {
            out.push(setting("endpoint.arrival", s.arrival.clone(), "--load"));
            out.push(setting(
                "endpoint.scheduled_requests",
                s.len().to_string(),
                "--requests",
            ));
            if let Some(seed) = s.seed {
                out.push(setting("endpoint.arrival_seed", seed.to_string(), "--seed"));
            }
            if let Some(src) = &s.source {
                out.push(setting("endpoint.trace_file", src.clone(), "--trace-file"));
                out.push(setting(
                    "endpoint.time_scale",
                    a.time_scale.to_string(),
                    "--time-scale",
                ));
                out.push(setting(
                    "endpoint.trace_skipped_lines",
                    s.skipped.len().to_string(),
                    "--trace-file",
                ));
            }
        }
        if let Some(b) = a.burstiness {
            out.push(setting(
                "endpoint.burstiness",
                b.to_string(),
                "--burstiness",
            ));
        }
        if let Some(r) = &a.ramp {
            out.push(setting("endpoint.ramp", r.clone(), "--ramp"));
        }
        if let Some(axis) = a.slo_search {
            out.push(setting(
                "endpoint.slo_search",
                format!("{axis:?}").to_lowercase(),
                "--slo-search",
            ));
            out.push(setting(
                "endpoint.slo_attainment",
                a.slo_attainment.to_string(),
                "--slo-attainment",
            ));
            out.push(setting(
                "endpoint.slo_precision",
                a.slo_precision.to_string(),
                "--slo-precision",
            ));
        }
        out
    }

    /// Runs one point and records it (folder, record, printed lines).
    fn point(
        &self,
        index: usize,
        label: &str,
        schedule: Option<&Schedule>,
        extra_notes: &[String],
        run: impl FnOnce() -> Result<PointResult>,
    ) -> Result<PointResult> {
        let mut record = (self.new_record)(index, label);
        if let Some(g) = &mut record.group {
            if g.kind == GroupKind::FindPeak {
                g.size = None;
            }
        }
        record.settings.extend(self.settings(schedule));
        record.notes.extend(extra_notes.iter().cloned());
        self.recorder.started(&record);
        let scrape = self.server_scrape.start();
        let mut p = run()?;
        let scraped = scrape.stop();
        p.summary.label = label.to_string();
        let dir = save_point(self.out, &p)?;
        print_point(&p.summary);
        scraped.save(&dir, &mut record);
        yardstick_endpoint::run_record::fill_point_record(&mut record, &p, None);
        add_point_files(&mut record, &dir);
        record.status = yardstick_pipeline::record::RunStatus::Completed;
        let path = self
            .recorder
            .finished(&dir, &mut record)
            .context("writing the run record")?;
        print_record_lines(&record, Some(&path), self.recording);
        Ok(p)
    }

    fn limits(&self) -> Limits {
        Limits {
            duration: self.duration,
            max_requests: self.args.requests,
        }
    }

    /// The open-loop schedule of one rate for `--load constant|gamma|poisson`.
    fn rate_schedule(&self, rate: f64) -> Result<Schedule> {
        let args = self.args;
        let s = match args.load {
            LoadArg::Gamma => Schedule::gamma(
                rate,
                args.arrivals.burstiness.unwrap_or(1.0),
                arrival_seed(args),
                self.limits(),
            )?,
            // The client's own Poisson arrivals (gamma of shape 1), not
            // the core's Server scenario: a trial is one open-loop point.
            LoadArg::Poisson => Schedule::gamma(rate, 1.0, arrival_seed(args), self.limits())?,
            _ => Schedule::constant(rate, self.limits())?,
        };
        Ok(s)
    }
}

fn rate_label(schedule: &Schedule, rate: f64, burstiness: Option<f64>) -> String {
    match (schedule.arrival.as_str(), burstiness) {
        ("gamma", Some(b)) => format!("gamma-{rate}-b{b}"),
        (a, _) => point_label(a, None, Some(rate)),
    }
}

/// `--load gamma` (one point per --rate), `--load trace`, `--load ramp`.
pub fn run_arrivals(
    ctx: &PointCtx<'_>,
    trace: Option<&Schedule>,
    points: &mut Vec<PointResult>,
) -> Result<()> {
    let args = ctx.args;
    let a = &args.arrivals;
    match args.load {
        LoadArg::Gamma => {
            anyhow::ensure!(!args.rate.is_empty(), "--load gamma needs --rate");
            for (index, &rate) in args.rate.iter().enumerate() {
                let schedule = ctx.rate_schedule(rate)?;
                let label = rate_label(&schedule, rate, a.burstiness);
                let p = ctx.point(index, &label, Some(&schedule), &[], || {
                    ctx.bench
                        .run_schedule(&schedule, SampleOrder::Shuffled)
                        .with_context(|| format!("running gamma arrivals at {rate}/s"))
                })?;
                points.push(p);
                if ctx.interrupts.is_requested() {
                    eprintln!("yardstick: interrupted: stopping the sweep after {label}; the finished points are kept");
                    break;
                }
            }
        }
        LoadArg::Trace => {
            let Some(schedule) = trace else {
                bail!("--load trace needs --trace-file FILE");
            };
            anyhow::ensure!(
                !schedule.is_empty(),
                "--requests/--duration left no request of the trace"
            );
            let order = if args.dataset.is_none() {
                SampleOrder::InOrder
            } else {
                SampleOrder::Shuffled
            };
            let p = ctx.point(0, "trace", Some(schedule), &[], || {
                ctx.bench
                    .run_schedule(schedule, order)
                    .context("replaying the trace")
            })?;
            points.push(p);
        }
        LoadArg::Ramp => {
            let Some(spec) = &a.ramp else {
                bail!("--load ramp needs --ramp RATE:DURATION,... (e.g. 10:30s,50:30s)");
            };
            let stages = parse_ramp(spec)?;
            let schedule =
                Schedule::ramp(&stages, a.burstiness, arrival_seed(args), args.requests)?;
            let p = ctx.point(0, "ramp", Some(&schedule), &[], || {
                ctx.bench
                    .run_schedule(&schedule, SampleOrder::Shuffled)
                    .context("running the ramp")
            })?;
            points.push(p);
        }
        other => bail!("--load {other:?} is not an arrival schedule"),
    }
    Ok(())
}

/// `--slo-search rate|concurrency`: one point per trial, each recorded in
/// a find-peak group; prints every verdict and the answer.
pub fn run_slo_search(ctx: &PointCtx<'_>, points: &mut Vec<PointResult>) -> Result<()> {
    let args = ctx.args;
    let a = &args.arrivals;
    let Some(axis_arg) = a.slo_search else {
        bail!("no --slo-search given");
    };
    let slo = ctx.bench.config.slo;
    anyhow::ensure!(
        !slo.is_empty() || !ctx.bench.config.class_slos.is_empty(),
        "--slo-search needs at least one of --slo-ttft, --slo-tpot, --slo-e2e, --slo-class"
    );
    anyhow::ensure!(
        a.slo_attainment > 0.0 && a.slo_attainment <= 1.0,
        "--slo-attainment must be within (0, 1], got {}",
        a.slo_attainment
    );
    anyhow::ensure!(
        a.slo_precision > 0.0 && a.slo_precision.is_finite(),
        "--slo-precision must be positive, got {}",
        a.slo_precision
    );
    let (axis, start) = match axis_arg {
        SloSearchArg::Rate => {
            anyhow::ensure!(
                matches!(
                    args.load,
                    LoadArg::Constant | LoadArg::Gamma | LoadArg::Poisson | LoadArg::Concurrency
                ),
                "--slo-search rate runs --load constant, gamma or poisson"
            );
            (SearchAxis::Rate, args.rate.first().copied().unwrap_or(1.0))
        }
        SloSearchArg::Concurrency => {
            anyhow::ensure!(
                args.load == LoadArg::Concurrency,
                "--slo-search concurrency runs --load concurrency"
            );
            (
                SearchAxis::Concurrency,
                args.concurrency.first().copied().unwrap_or(1).max(1) as f64,
            )
        }
    };
    let config = SearchConfig {
        axis,
        start,
        attainment: a.slo_attainment,
        precision: a.slo_precision,
        max_trials: a.slo_max_trials.max(1),
    };
    println!(
        "SLO search ({}): at least {:.2}% of requests within {}; from {start}, doubling then bisecting to {:.1}%",
        format!("{axis_arg:?}").to_lowercase(),
        a.slo_attainment * 100.0,
        slo_text(&slo),
        a.slo_precision * 100.0
    );
    let outcome = search(&config, |value, index| -> Result<TrialCount> {
        if ctx.interrupts.is_requested() {
            bail!("interrupted");
        }
        let (label, p) = match axis {
            SearchAxis::Rate => {
                let schedule = ctx.rate_schedule(value)?;
                let label = format!(
                    "trial{index:02}-{}",
                    rate_label(&schedule, value, a.burstiness)
                );
                let p = ctx.point(index, &label, Some(&schedule), &[], || {
                    ctx.bench
                        .run_schedule(&schedule, SampleOrder::Shuffled)
                        .with_context(|| format!("running {value} requests/s"))
                })?;
                (label, p)
            }
            SearchAxis::Concurrency => {
                let c = value as usize;
                let label = format!("trial{index:02}-c{c}");
                let p = ctx.point(index, &label, None, &[], || {
                    ctx.bench
                        .run_concurrency(c, ctx.duration, args.requests, args.warmup)
                        .with_context(|| format!("running concurrency {c}"))
                })?;
                (label, p)
            }
        };
        // With request classes the worst class decides: every class must
        // meet its own objectives (--slo-class, else the run's).
        let (count, worst_class) = trial_attainment(&p.records, &slo, &ctx.bench.config.class_slos);
        let share = if count.issued > 0 {
            count.met as f64 / count.issued as f64
        } else {
            0.0
        };
        println!(
            "  trial {index} ({label}): {} of {} requests{} met the SLOs ({:.2}%): {}",
            count.met,
            count.issued,
            worst_class
                .as_deref()
                .map(|c| format!(" of class {c} (the worst class)"))
                .unwrap_or_default(),
            share * 100.0,
            if count.issued > 0 && share >= a.slo_attainment {
                "PASS"
            } else {
                "FAIL"
            }
        );
        points.push(p);
        Ok(count)
    });
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) if ctx.interrupts.is_requested() => {
            eprintln!(
                "yardstick: interrupted: the search stopped ({e:#}); the finished trials are kept"
            );
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let unit = match axis {
        SearchAxis::Rate => " requests/s",
        SearchAxis::Concurrency => " concurrent requests",
    };
    match outcome.answer {
        Some(v) => println!(
            "SLO search: {v:.3}{unit} is the highest that met the SLOs{} ({} trials{})",
            outcome
                .lowest_failure
                .map(|f| format!("; {f:.3} did not"))
                .unwrap_or_default(),
            outcome.trials.len(),
            if outcome.converged {
                String::new()
            } else {
                format!(
                    "; not converged to {:.1}%: --slo-max-trials ran out",
                    a.slo_precision * 100.0
                )
            }
        ),
        None => println!(
            "SLO search: no trial met the SLOs (lowest tried {:.3}{unit})",
            outcome
                .trials
                .iter()
                .map(|t| t.value)
                .fold(f64::INFINITY, f64::min)
        ),
    }
    Ok(())
}

fn slo_text(slo: &yardstick_endpoint::Slo) -> String {
    let mut parts = Vec::new();
    if let Some(v) = slo.ttft_ms {
        parts.push(format!("TTFT {v} ms"));
    }
    if let Some(v) = slo.tpot_ms {
        parts.push(format!("TPOT {v} ms"));
    }
    if let Some(v) = slo.e2e_ms {
        parts.push(format!("E2E {v} ms"));
    }
    parts.join(", ")
}

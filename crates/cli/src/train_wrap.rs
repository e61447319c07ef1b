//! `yardstick train [FLAGS] -- CMD ARGS...` and `yardstick train WORKLOAD`:
//! time-to-train of any training job that writes MLPerf Training `:::MLLOG`
//! lines; the built-in trainer is one such job (`crate::train_builtin`).
//!
//! Each run starts the command with `SEED`/`YARDSTICK_SEED` (the run's
//! seed), `YARDSTICK_RUN_INDEX` and `YARDSTICK_MLLOG` (a file it may log
//! to) set, reads its log live (progress: epoch or block, eval accuracy so
//! far against the target, elapsed time), stops it once it has logged
//! `run_stop` (after a grace period) or at `--time-limit`, and writes the
//! log as `<output>/result_<i>.txt`. Time-to-train is `run_stop - run_start`
//! of the log, as the rules define it. A job that fails (nonzero exit, a
//! signal, no `run_stop`, the time limit) is an incomplete run: recorded
//! and reported as such, never as a result. Each complete run's log is
//! checked against the round's compliance rules (training-rules); the set
//! is scored as the result summarizer scores it.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use yardstick_formats::mllog::{keys, LogLine};
use yardstick_pipeline::power_meters::read_trace_csv;
use yardstick_pipeline::record::{
    AccuracyVerdict, Better, GroupKind, Metric, RunKind, RunRecord, RunStatus, SutInfo, Validity,
    ValidityCheck, Verdict as RecordVerdict, WorkloadInfo,
};
use yardstick_pipeline::Recorder;
use yardstick_training_rules::compliance::{check_log, RuleFiles};
use yardstick_training_rules::power::{node_energy_joules, node_log_path, NodePowerLog};
use yardstick_training_rules::rcp::submission_runs;
use yardstick_training_rules::summary::{score_set, Dropped, RunScore};

use crate::recording::{Group, Recording};
use crate::train_cmd::TrainArgs;
use crate::train_job::{run_job, verdict, JobOutcome, JobSpec, RunLog, Verdict};

/// One run of the set, once it ended.
struct RunResult {
    seed: u64,
    outcome: JobOutcome,
    verdict: Verdict,
    /// The compliance verdict (complete runs only): passed, first messages.
    compliance: Option<(bool, Vec<String>)>,
}

/// The seeds of the set: `--seeds`, else `--seed` + i for `--runs` runs.
pub(crate) fn seeds(args: &TrainArgs) -> Result<Vec<u64>> {
    if args.seeds.is_empty() {
        anyhow::ensure!(args.runs >= 1, "--runs must be at least 1");
        return Ok((0..args.runs)
            .map(|i| args.seed.wrapping_add(i as u64))
            .collect());
    }
    anyhow::ensure!(
        args.runs == 1 || args.runs == args.seeds.len(),
        "--runs {} and --seeds ({} seeds) disagree",
        args.runs,
        args.seeds.len()
    );
    Ok(args.seeds.clone())
}

fn secs(ms: f64) -> String {
    format!("{:.3} s", ms / 1000.0)
}

/// The progress line of an eval (and of the first record of each block or
/// epoch when no eval has come yet).
fn progress(run: &str, record: &LogLine, log: &RunLog, target: Option<f64>) -> Option<String> {
    let elapsed = match (log.run_start_ms, record.record.time_ms()) {
        (Some(start), Some(now)) => format!("{:.1} s since run_start", (now - start) / 1000.0),
        _ => "before run_start".into(),
    };
    let position = match (log.epoch, log.block) {
        (Some(e), _) => format!("epoch {e}"),
        (None, Some(b)) => format!("block {b}"),
        (None, None) => "-".into(),
    };
    let target = target.map_or_else(|| "no target given".into(), |t| format!("target {t}"));
    match record.record.key()? {
        keys::EVAL_ACCURACY => {
            let eval = log.evals.last()?;
            Some(format!(
                "{run} {position}: eval_accuracy {} (best {}, {target}), {elapsed}",
                eval.accuracy,
                log.best_accuracy().unwrap_or(eval.accuracy)
            ))
        }
        keys::RUN_START => Some(format!("{run} run_start")),
        keys::RUN_STOP => Some(format!(
            "{run} run_stop ({}), {elapsed}",
            log.status.as_deref().unwrap_or("no status")
        )),
        _ => None,
    }
}

/// What the wrapper runs: a user's command or the built-in trainer.
pub(crate) struct Job {
    pub program: OsString,
    pub args: Vec<OsString>,
    /// The command line as shown and recorded.
    pub command_text: String,
    /// The name the runs are recorded under.
    pub workload: String,
    /// The record's SUT (each run adds its seed).
    pub sut: SutInfo,
    /// The quality target shown beside each eval and judged in the record.
    pub target: Option<f64>,
    pub rules: RuleSet,
}

/// The compliance rules a log is checked against: `<usage>_<round>/` of
/// training-rules (`training` 5.1.0: MLPerf Training v5.1's).
pub(crate) struct RuleSet {
    pub usage: String,
    pub round: String,
}

impl std::fmt::Display for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} rules", self.usage, self.round)
    }
}

pub(crate) fn run(args: &TrainArgs, job: Job) -> Result<ExitCode> {
    let seeds = seeds(args)?;
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let rules = RuleFiles::embedded().context("loading the embedded compliance rules")?;
    let recording = Recording::open(&args.recording);
    let observers = [recording.observer()];
    let recorder = Recorder::new(&observers);
    let group = Group::new(GroupKind::Training, seeds.len());
    let mut results = Vec::new();
    let mut last = None;
    for (i, &seed) in seeds.iter().enumerate() {
        let run_label = format!("[run {}/{} seed {seed}]", i + 1, seeds.len());
        let log_path = args.output.join(format!("result_{i}.txt"));
        let mut sut = job.sut.clone();
        sut.params.insert("seed".to_string(), seed.to_string());
        let mut record = RunRecord::new(
            RunKind::Training,
            chrono::Utc::now(),
            WorkloadInfo {
                name: job.workload.clone(),
                sut,
                ..WorkloadInfo::default()
            },
        );
        record.group = Some(group.member(i, format!("seed {seed}")));
        recording.stamp(&mut record);
        recorder.started(&record);
        eprintln!("yardstick: train {run_label}: {}", job.command_text);
        let spec = JobSpec {
            program: job.program.clone(),
            args: job.args.clone(),
            env: vec![
                ("SEED".into(), seed.to_string()),
                ("YARDSTICK_SEED".into(), seed.to_string()),
                ("YARDSTICK_RUN_INDEX".into(), i.to_string()),
            ],
            mllog_file: args.output.join(format!(".result_{i}.mllog")),
            time_limit: args.time_limit.map(Duration::from),
            stop_grace: Duration::from(args.stop_grace),
            echo: !args.quiet,
        };
        let mut power = crate::power::OwnLoadPower::begin(&args.power);
        let outcome = run_job(&spec, &mut |line, log| {
            if let Some(p) = progress(&run_label, line, log, job.target) {
                eprintln!("yardstick:   {p}");
            }
        })
        .with_context(|| format!("cannot start {}", job.command_text))?;
        power.end();
        let _ = std::fs::remove_file(&spec.mllog_file);
        let mut text = outcome.log.lines.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        std::fs::write(&log_path, &text)
            .with_context(|| format!("cannot write {}", log_path.display()))?;
        let verdict = verdict(&outcome);
        let compliance = match &verdict {
            Verdict::Complete { .. } => Some(compliance(&rules, &job.rules, text.as_bytes())),
            Verdict::Incomplete(_) => None,
        };
        let result = RunResult {
            seed,
            outcome,
            verdict,
            compliance,
        };
        print_run(&run_label, &result, &job.rules, &log_path);
        fill_record(&mut record, &result, job.target, &log_path);
        // Energy-to-train: over run_start..run_stop (the log's wall-clock
        // stamps), the window time-to-train is measured over.
        let log = &result.outcome.log;
        let train_window = log.run_start_ms.zip(log.run_stop_ms).map(|(a, b)| {
            let at =
                |ms: f64| std::time::UNIX_EPOCH + Duration::from_secs_f64(ms.max(0.0) / 1000.0);
            (at(a), at(b))
        });
        let trace_path = args.output.join(format!("power_trace_{i}.csv"));
        power.finish_in(&mut record, train_window, 0, 0, &trace_path);
        if let Some(joules) = record
            .power
            .as_ref()
            .filter(|_| train_window.is_some())
            .and_then(|p| p.joules)
        {
            record
                .metrics
                .push(Metric::new("energy_to_train", joules, "J", Better::Lower));
            if let Some(window) = log.run_start_ms.zip(log.run_stop_ms) {
                power_log(&mut record, &args.output, i, &trace_path, window);
            }
        }
        let json_path = args.output.join(format!("result_{i}.run.json"));
        results.push(result);
        if i + 1 == seeds.len() {
            // The last run's record waits for the set's score (below).
            last = Some((json_path, record));
        } else {
            recorder
                .finished_as(&json_path, &mut record)
                .context("writing the run record")?;
        }
    }
    let (scored, set_summary) = print_score(&results);
    if let Some((json_path, mut record)) = last {
        record.extra.insert("training_set".into(), set_summary);
        recorder
            .finished_as(&json_path, &mut record)
            .context("writing the run record")?;
    }
    if let Some(store) = recording.store_path() {
        println!(
            "training set {} ({} runs) in the results store {}: yardstick report group:{} -o report.html",
            group.id,
            seeds.len(),
            store.display(),
            group.id
        );
    }
    let all_good = results.iter().all(|r| {
        matches!(r.verdict, Verdict::Complete { success: true, .. })
            && r.compliance.as_ref().is_some_and(|(passed, _)| *passed)
    });
    Ok(if all_good && scored {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// MLPerf Training's power layout beside the result: the samples between
/// run_start and run_stop as `<output>/power/result_<i>/node_0.txt`
/// (`power_reading` lines, training-rules' `power`), and the energy the
/// result summarizer computes from it kept in the record
/// (`extra.training_power`). A trace that cannot be read back is a note.
fn power_log(
    record: &mut RunRecord,
    output: &Path,
    run: usize,
    trace_path: &Path,
    (start_ms, stop_ms): (f64, f64),
) {
    let trace = match read_trace_csv(trace_path) {
        Ok(trace) => trace,
        Err(e) => {
            record.notes.push(format!("no MLPerf power log: {e}"));
            return;
        }
    };
    let ms = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    };
    let (start, stop) = (start_ms.max(0.0) as u64, stop_ms.max(0.0) as u64);
    // A wall-socket meter (SPEC PTDaemon, directly or through the power
    // director) measures AC; NVML and RAPL read the components (DC).
    let wall_meter = ["ptd", "director"]
        .iter()
        .any(|m| trace.source.starts_with(m));
    let node = NodePowerLog {
        host: "node_0".into(),
        conversion_eff: 1.0,
        measurement_type: if wall_meter { "AC" } else { "DC" }.into(),
        start_ms: start,
        stop_ms: stop,
        readings: trace
            .samples
            .iter()
            .map(|s| (ms(s.wall), s.watts))
            .filter(|&(t, _)| (start..=stop).contains(&t))
            .collect(),
    };
    let path = node_log_path(output, &format!("result_{run}"), 0);
    let text = node.to_text();
    let written = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&path, &text));
    if let Err(e) = written {
        record
            .notes
            .push(format!("no MLPerf power log: {}: {e}", path.display()));
        return;
    }
    let summarizer_joules = node_energy_joules(text.as_bytes(), stop_ms - start_ms);
    match &summarizer_joules {
        Ok(j) => println!(
            "energy-to-train as the MLPerf result summarizer computes it from {}: {j:.3} J ({} readings)",
            path.display(),
            node.readings.len()
        ),
        Err(e) => println!("MLPerf power log {}: no energy: {e}", path.display()),
    }
    record.add_file("power_log", &path);
    record.extra.insert(
        "training_power".into(),
        serde_json::json!({
            "power_log": path.display().to_string(),
            "readings": node.readings.len(),
            "measurement_type": node.measurement_type,
            "summarizer_joules": summarizer_joules.as_ref().ok(),
            "why_none": summarizer_joules.as_ref().err().map(ToString::to_string),
        }),
    );
}

pub(crate) fn program_name(program: &str) -> String {
    Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| program.to_string())
}

/// The compliance checker's verdict on a log: passed, and the messages
/// (or why there is no verdict).
fn compliance(rules: &RuleFiles, set: &RuleSet, log: &[u8]) -> (bool, Vec<String>) {
    match check_log(rules, &set.usage, &set.round, log) {
        Ok(report) => {
            let mut messages: Vec<String> = report
                .messages
                .iter()
                .map(|m| m.head().to_string())
                .collect();
            messages.extend(
                report
                    .parse_errors
                    .iter()
                    .map(|e| format!("parse error, MLLOG line {}: {}", e.line, e.error)),
            );
            (report.passed, messages)
        }
        Err(e) => (false, vec![format!("no verdict: {e}")]),
    }
}

fn print_run(label: &str, result: &RunResult, rules: &RuleSet, log_path: &Path) {
    let log = &result.outcome.log;
    let evals = log.evals.len();
    let best = log
        .best_accuracy()
        .map_or_else(|| "no eval".into(), |a| format!("best eval_accuracy {a}"));
    match &result.verdict {
        Verdict::Complete {
            time_to_train_ms,
            success,
        } => println!(
            "{label} {}: time-to-train {} (run_stop - run_start), {best} after {evals} evals; log {}",
            if *success { "success" } else { "aborted" },
            secs(*time_to_train_ms),
            log_path.display()
        ),
        Verdict::Incomplete(why) => println!(
            "{label} INCOMPLETE, not a result: {why}; {best} after {evals} evals; log {}",
            log_path.display()
        ),
    }
    if let Some((passed, messages)) = &result.compliance {
        println!(
            "{label} compliance ({rules}): {}",
            if *passed { "PASS" } else { "FAIL" }
        );
        for m in messages.iter().take(5) {
            println!("    {m}");
        }
        if messages.len() > 5 {
            println!(
                "    ... {} more (yardstick train check-log --usage {} --ruleset {} {})",
                messages.len() - 5,
                rules.usage,
                rules.round,
                log_path.display()
            );
        }
    }
}

/// The set's score as the result summarizer computes it (olympic mean in
/// minutes over the compliant runs, the benchmark's trim): printed, and
/// returned as whether there is one and the summary the last run's record
/// keeps (`extra.training_set`).
fn print_score(results: &[RunResult]) -> (bool, serde_json::Value) {
    let none = |why: String| {
        println!("score: none ({why})");
        (
            false,
            serde_json::json!({ "score_minutes": null, "why_none": why }),
        )
    };
    let incomplete: Vec<String> = results
        .iter()
        .filter_map(|r| match &r.verdict {
            Verdict::Incomplete(why) => Some(format!("seed {}: {why}", r.seed)),
            Verdict::Complete { .. } => None,
        })
        .collect();
    if !incomplete.is_empty() {
        return none(format!(
            "{} of {} runs incomplete: {}",
            incomplete.len(),
            results.len(),
            incomplete.join("; ")
        ));
    }
    let benchmark = results
        .iter()
        .find_map(|r| r.outcome.log.benchmark.clone())
        .unwrap_or_default();
    let runs: Vec<RunScore> = results
        .iter()
        .map(|r| {
            let compliant = r.compliance.as_ref().is_some_and(|(p, _)| *p);
            let success = matches!(r.verdict, Verdict::Complete { success: true, .. });
            let minutes = match r.outcome.log.time_to_train_ms() {
                Some(ms) if compliant && success => Some(ms / 60_000.0),
                _ => None,
            };
            RunScore {
                file: format!("seed {}", r.seed),
                minutes,
                dropped: minutes.is_none().then_some(Dropped::NotCompliant),
            }
        })
        .collect();
    if results.len() < 3 {
        let counted: Vec<f64> = runs.iter().filter_map(|r| r.minutes).collect();
        if counted.len() == results.len() {
            let mean = counted.iter().sum::<f64>() / counted.len() as f64;
            println!(
                "mean time-to-train over {} run(s): {:.3} min (no olympic score: it needs at least 3 runs)",
                counted.len(),
                mean
            );
            return (
                false,
                serde_json::json!({
                    "score_minutes": null,
                    "mean_minutes": mean,
                    "why_none": format!("{} run(s); an olympic score needs at least 3", counted.len()),
                }),
            );
        }
        return none("a run did not succeed or failed compliance".into());
    }
    let set = score_set(&benchmark, runs, 1.0, &benchmark, |f| f.to_string());
    for note in &set.notes {
        println!("  {note}");
    }
    let required = submission_runs(&benchmark)
        .map(|n| format!("; {benchmark} submissions need {n} runs"))
        .unwrap_or_default();
    match set.score {
        Some(minutes) => {
            let how = format!(
                "{} runs, olympic mean dropping the {} fastest and slowest{required}",
                results.len(),
                set.max_dropped
            );
            println!("score ({how}): {minutes:.4} min ({:.3} s)", minutes * 60.0);
            (
                true,
                serde_json::json!({ "score_minutes": minutes, "how": how, "notes": set.notes }),
            )
        }
        None => none(format!(
            "too many runs failed or did not converge{required}"
        )),
    }
}

/// The record of a run: time-to-train, accuracy over time against the
/// target, the compliance verdict; an incomplete run is `Failed` with why.
fn fill_record(record: &mut RunRecord, result: &RunResult, target: Option<f64>, log: &Path) {
    let run_log = &result.outcome.log;
    let start = run_log.run_start_ms;
    let curve: Vec<serde_json::Value> = run_log
        .evals
        .iter()
        .map(|e| {
            serde_json::json!({
                "seconds_since_run_start": start.map(|s| (e.time_ms - s) / 1000.0),
                "epoch": e.epoch,
                "samples": e.samples,
                "accuracy": e.accuracy,
            })
        })
        .collect();
    record.extra.insert(
        "training".into(),
        serde_json::json!({
            "seed": result.seed,
            "target": target,
            "run_stop_status": run_log.status,
            "process_end": result.outcome.end.to_string(),
            "log_source": result.outcome.source,
            "parse_errors": run_log.parse_errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
            "evals": curve,
        }),
    );
    if let Some(best) = run_log.best_accuracy() {
        record.accuracy = Some(AccuracyVerdict {
            metric: "eval_accuracy".into(),
            value: best,
            target,
            passed: target.map(|t| best >= t),
            detail: format!("best of {} evals", run_log.evals.len()),
        });
        record
            .metrics
            .push(Metric::new("eval_accuracy", best, "1", Better::Higher));
    }
    record.add_file("training_log", log);
    match &result.verdict {
        Verdict::Incomplete(why) => {
            record.status = RunStatus::Failed;
            record
                .notes
                .push(format!("incomplete run, not a result: {why}"));
            record.validity = Validity {
                verdict: RecordVerdict::Invalid,
                checks: vec![ValidityCheck {
                    name: "complete_run".into(),
                    passed: false,
                    detail: why.clone(),
                }],
            };
        }
        Verdict::Complete {
            time_to_train_ms,
            success,
        } => {
            record.status = RunStatus::Completed;
            record.metrics.insert(
                0,
                Metric::new(
                    "time_to_train",
                    time_to_train_ms / 1000.0,
                    "s",
                    Better::Lower,
                ),
            );
            let mut checks = vec![ValidityCheck {
                name: "run_stop_status".into(),
                passed: *success,
                detail: format!(
                    "run_stop status {}",
                    run_log.status.as_deref().unwrap_or("missing")
                ),
            }];
            if let Some((passed, messages)) = &result.compliance {
                checks.push(ValidityCheck {
                    name: "compliance".into(),
                    passed: *passed,
                    detail: if messages.is_empty() {
                        "the round's compliance rules pass".into()
                    } else {
                        messages.join("; ")
                    },
                });
            }
            record.validity = Validity {
                verdict: if checks.iter().all(|c| c.passed) {
                    RecordVerdict::Valid
                } else {
                    RecordVerdict::Invalid
                },
                checks,
            };
        }
    }
}

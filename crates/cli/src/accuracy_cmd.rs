//! `yardstick accuracy`: score an MLPerf accuracy log, check it against a
//! quality target, and write the accuracy.txt the submission checker reads.
//!
//! Exit status: 0 when the target is met (or none was given), 1 when it is
//! not met or a metric of the target could not be scored, 2 on errors.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use yardstick_accuracy::targets::{benchmark_names, quality_target, Scorer, QUALITY_TARGETS};
use yardstick_accuracy::{
    check_minimum, check_target, exact_match, read_accuracy_log, read_labels, read_squad,
    read_text_references, rouge, squad, top1, wer, write_accuracy_txt, BoundKind, Dtype, Extractor,
    Outcome, PunktModel, QualityTarget, ResponseFormat, Score, Verdict, WerMode,
};

use crate::recording::{print_record_lines, Recording, RecordingArgs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MetricArg {
    /// Top-1 classification accuracy (labels file).
    Top1,
    /// SQuAD v1.1 exact match and F1 (answer texts; SQuAD JSON or JSONL).
    Squad,
    /// ROUGE-1/2/L/Lsum (generated texts; references).
    Rouge,
    /// Word error rate with Whisper's normaliser (transcripts).
    Wer,
    /// Exact match of an extracted final answer (reference answers).
    ExactMatch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResponseArg {
    /// UTF-8 text.
    Text,
    /// Indices into the Whisper benchmark's 42-character alphabet, one
    /// element of --dtype (default int64) per character.
    WhisperLabels,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExtractArg {
    /// GSM8K: the number after "The answer is", else the last number.
    Gsm8k,
    /// AIME: the last \boxed{N}, else "Answer: N" (0..=999).
    Aime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WerModeArg {
    /// MLPerf's: words that differ only by spacing are aligned first.
    Mlperf,
    /// Plain word-level Levenshtein distance (jiwer).
    Standard,
}

#[derive(Debug, Args)]
#[command(after_long_help = GROUND_TRUTH_HELP)]
pub struct AccuracyArgs {
    /// The accuracy log (mlperf_log_accuracy.json).
    #[arg(long, value_name = "FILE", required_unless_present = "list_targets")]
    pub log: Option<PathBuf>,
    /// What to compute; defaults to the benchmark's metric with --benchmark.
    #[arg(long, value_enum)]
    pub metric: Option<MetricArg>,
    /// The dataset's ground truth (see the formats below).
    #[arg(long, value_name = "FILE", required_unless_present = "list_targets")]
    pub ground_truth: Option<PathBuf>,
    /// Element type of the response bytes: int8, uint8, int16, uint16,
    /// int32, uint32, int64, uint64, float16, float32, float64. Required for
    /// top1 (the log does not record it).
    #[arg(long, value_name = "DTYPE")]
    pub dtype: Option<String>,
    /// The MLPerf benchmark whose quality target applies (e.g. resnet50,
    /// bert-99, llama2-70b-99.9, whisper); see --list-targets.
    #[arg(long, value_name = "NAME", conflicts_with = "target")]
    pub benchmark: Option<String>,
    /// An explicit minimum for the headline metric instead of a benchmark's
    /// target, in the unit accuracy.txt prints it (top-1 in percent: 90 for
    /// 90%).
    #[arg(long, value_name = "MIN")]
    pub target: Option<f64>,
    /// How responses encode text (wer).
    #[arg(long, value_enum, default_value = "text")]
    pub response: ResponseArg,
    /// Answer extraction (exact-match).
    #[arg(long, value_enum, default_value = "gsm8k")]
    pub extract: ExtractArg,
    /// WER flavour (wer).
    #[arg(long, value_enum, default_value = "mlperf")]
    pub wer_mode: WerModeArg,
    /// NLTK's punkt_tab/english directory for ROUGE-Lsum sentence splitting;
    /// by default looked up where NLTK looks ($NLTK_DATA, ~/nltk_data,
    /// /usr/share/nltk_data, ...).
    #[arg(long, value_name = "DIR")]
    pub punkt_dir: Option<PathBuf>,
    /// Where to write accuracy.txt (default: beside the log).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Do not write accuracy.txt.
    #[arg(long, conflicts_with = "output")]
    pub no_accuracy_txt: bool,
    /// Print the quality-target table and exit.
    #[arg(long)]
    pub list_targets: bool,
    #[command(flatten)]
    pub recording: RecordingArgs,
}

const GROUND_TRUTH_HELP: &str = "\
Ground truth (entry i is the sample with qsl_idx i):
  top1         text: one integer label per line, or ImageNet's val_map.txt
               (`name label`); JSON: [labels] or {\"labels\": [...]}
  rouge, wer,  .jsonl: per line a JSON string or an object with one of
  exact-match  reference/target/output/gt_output/answer/transcript/text;
               .json: an array of those; otherwise one reference per line
  squad        SQuAD's dev-v1.1.json (questions in file order), or .jsonl of
               {\"id\": ..., \"answers\": [\"...\"]}

Responses: top1 reads the first element of each response as --dtype; the
other metrics read UTF-8 text (wer also Whisper label ids). Token ids must be
decoded to text before scoring.";

pub fn run(args: AccuracyArgs) -> Result<ExitCode> {
    if args.list_targets {
        print!("{}", targets_table());
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(log_path), Some(gt_path)) = (args.log.as_deref(), args.ground_truth.as_deref())
    else {
        bail!("--log and --ground-truth are required");
    };
    let target = match &args.benchmark {
        Some(name) => Some(quality_target(name).with_context(|| {
            format!(
                "unknown benchmark '{name}'; known: {}",
                benchmark_names().join(", ")
            )
        })?),
        None => None,
    };
    let metric = match (args.metric, target) {
        (Some(m), _) => m,
        (None, Some(t)) => default_metric(t)?,
        (None, None) => bail!("give --metric (or --benchmark, whose metric is then used)"),
    };
    let dtype = args.dtype.as_deref().map(str::parse::<Dtype>).transpose()?;

    let started_at = chrono::Utc::now();
    let log = read_accuracy_log(log_path)?;
    let mut notes = Vec::new();
    let score = match metric {
        MetricArg::Top1 => {
            let dtype = dtype.context(
                "--dtype is required for top1: the log does not record the element type (resnet50 harnesses use int32 or int64)",
            )?;
            Score::Top1(top1(&log, &read_labels(gt_path)?, dtype)?)
        }
        MetricArg::Squad => Score::Squad(squad(&log, &read_squad(gt_path)?)?),
        MetricArg::Rouge => {
            let refs = read_text_references(gt_path)?;
            let punkt = match args
                .punkt_dir
                .clone()
                .or_else(|| PunktModel::find_nltk("english"))
            {
                Some(dir) => {
                    notes.push(format!(
                        "sentences split with NLTK's Punkt model in {}",
                        dir.display()
                    ));
                    PunktModel::from_dir(&dir)?
                }
                None => {
                    notes.push(
                        "NLTK's punkt_tab/english was not found (--punkt-dir, $NLTK_DATA): sentences are split \
                         without its abbreviation list, so ROUGE-Lsum may differ slightly from MLPerf's; \
                         ROUGE-1/2/L are unaffected"
                            .to_string(),
                    );
                    PunktModel::empty()
                }
            };
            Score::Rouge(rouge(&log, &refs, &punkt)?)
        }
        MetricArg::Wer => {
            let format = match args.response {
                ResponseArg::Text => ResponseFormat::Text,
                ResponseArg::WhisperLabels => {
                    ResponseFormat::WhisperLabels(dtype.unwrap_or(Dtype::Int64))
                }
            };
            let mode = match args.wer_mode {
                WerModeArg::Mlperf => WerMode::Mlperf,
                WerModeArg::Standard => WerMode::Standard,
            };
            Score::Wer(wer(&log, &read_text_references(gt_path)?, format, mode)?)
        }
        MetricArg::ExactMatch => {
            let extractor = match args.extract {
                ExtractArg::Gsm8k => Extractor::Gsm8k,
                ExtractArg::Aime => Extractor::Aime,
            };
            Score::ExactMatch(exact_match(
                &log,
                &read_text_references(gt_path)?,
                extractor,
            )?)
        }
    };

    let verdict = match (target, args.target) {
        (Some(t), _) => Some(check_target(&score, t)?),
        (None, Some(min)) => Some(check_minimum(&score, min)),
        (None, None) => None,
    };

    println!("{}", describe(&score, log_path, log.records.len()));
    for note in &notes {
        println!("  note: {note}");
    }
    match &verdict {
        Some(v) => print!("{}", verdict_lines(v, target)),
        None => {
            for (key, value) in score.metrics() {
                println!("  {key:<18} {}", fmt_value(value));
            }
            println!("  no target given (--benchmark NAME or --target MIN)");
        }
    }

    let mut record = accuracy_record(
        started_at,
        &score,
        verdict.as_ref(),
        args.benchmark.as_deref(),
        metric,
        log_path,
        gt_path,
    );
    record.notes = notes;
    let out = args
        .output
        .clone()
        .unwrap_or_else(|| beside(log_path, "accuracy.txt"));
    if !args.no_accuracy_txt {
        write_accuracy_txt(&out, &score, log_path)?;
        println!("  wrote {}", out.display());
        record.add_file("accuracy_txt", &out);
    }
    // Beside accuracy.txt, under its own name: the folder may hold the
    // run.json of the LoadGen run that wrote the log.
    let recording = Recording::open(&args.recording);
    recording.stamp(&mut record);
    let observers = [recording.observer()];
    let recorder = yardstick_pipeline::Recorder::new(&observers);
    recorder.started(&record);
    let record_path = out.with_file_name("accuracy.run.json");
    let written = recorder
        .finished_as(&record_path, &mut record)
        .context("writing the run record")?;
    print_record_lines(&record, Some(&written), &recording);

    Ok(match verdict.map(|v| v.outcome()) {
        None | Some(Outcome::Pass) => ExitCode::SUCCESS,
        Some(Outcome::Fail | Outcome::Incomplete) => ExitCode::from(1),
    })
}

/// The metric that scores a benchmark.
fn default_metric(t: &QualityTarget) -> Result<MetricArg> {
    Ok(match t.scorer {
        Scorer::Top1 => MetricArg::Top1,
        Scorer::Squad => MetricArg::Squad,
        Scorer::Rouge => MetricArg::Rouge,
        Scorer::Wer => MetricArg::Wer,
        Scorer::ExactMatch => MetricArg::ExactMatch,
        Scorer::External => bail!(
            "{} is judged on {}, which yardstick does not compute",
            t.benchmark,
            t.metrics
                .iter()
                .map(|m| m.key)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

fn beside(path: &Path, name: &str) -> PathBuf {
    path.parent()
        .map_or_else(|| PathBuf::from(name), |p| p.join(name))
}

fn describe(score: &Score, log: &Path, records: usize) -> String {
    let what = match score {
        Score::Top1(s) => format!("top-1 accuracy, {} samples ({} correct)", s.total, s.good),
        Score::Squad(s) => format!(
            "SQuAD v1.1, {} of {} questions answered, exact match {:.4}",
            s.answered, s.total, s.exact_match
        ),
        Score::Rouge(s) => format!("ROUGE, {} samples", s.gen_num),
        Score::Wer(s) => format!(
            "word error rate {:.4}% ({} errors in {} reference words, {} samples)",
            s.wer() * 100.0,
            s.errors,
            s.words,
            s.samples
        ),
        Score::ExactMatch(s) => {
            format!("exact match, {} of {} samples correct", s.correct, s.total)
        }
    };
    format!(
        "yardstick accuracy: {} ({records} records): {what}",
        log.display()
    )
}

/// Up to four decimals, without trailing zeros.
fn fmt_value(v: f64) -> String {
    let s = format!("{v:.4}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn verdict_lines(v: &Verdict, target: Option<&QualityTarget>) -> String {
    let mut out = String::new();
    for c in &v.checks {
        let rel = match c.kind {
            BoundKind::AtLeast => ">=",
            BoundKind::AtMost => "<=",
        };
        let origin = target
            .and_then(|t| {
                t.metrics
                    .iter()
                    .find(|m| m.key == c.key && c.kind == BoundKind::AtLeast)
            })
            .map(|m| format!(" ({} x {})", fmt_value(m.reference), m.fraction))
            .unwrap_or_default();
        let (value, status) = match (c.value, c.passed()) {
            (Some(x), Some(true)) => (fmt_value(x), "PASS"),
            (Some(x), _) => (fmt_value(x), "FAIL"),
            (None, _) => ("-".to_string(), "NOT SCORED"),
        };
        out += &format!(
            "  {:<18} {value:>14}   target {rel} {}{origin}   {status}\n",
            c.key,
            fmt_value(c.bound)
        );
    }
    let name = target.map_or_else(
        || "the given minimum".to_string(),
        |t| t.benchmark.to_string(),
    );
    out += &match v.outcome() {
        Outcome::Pass => format!("  PASS: meets {name}\n"),
        Outcome::Fail => format!("  FAIL: does not meet {name}\n"),
        Outcome::Incomplete => format!(
            "  FAIL: incomplete: {name} also needs the metrics marked NOT SCORED (e.g. token counts in the log)\n"
        ),
    };
    out
}

/// `--list-targets`.
fn targets_table() -> String {
    let mut out = String::from(
        "MLPerf Inference quality targets (submission checker, constants.py)\n\
         benchmark                    round  metric >= threshold (reference x fraction); upper limits; latency bounds\n",
    );
    for t in QUALITY_TARGETS {
        let metrics: Vec<String> = t
            .metrics
            .iter()
            .map(|m| {
                format!(
                    "{} >= {} ({} x {})",
                    m.key,
                    fmt_value(m.threshold()),
                    fmt_value(m.reference),
                    m.fraction
                )
            })
            .collect();
        let mut extra: Vec<String> = t
            .upper_limits
            .iter()
            .map(|u| format!("{} <= {}", u.key, fmt_value(u.limit)))
            .collect();
        if let Some(ns) = t.server_latency_ns {
            extra.push(format!("Server p99 <= {} ms", ns / 1_000_000));
        }
        extra.extend(t.llm_latency.iter().map(|l| {
            format!(
                "{} TTFT <= {} ms, TPOT <= {} ms",
                l.scenario,
                l.ttft_ns / 1_000_000,
                l.tpot_ns / 1_000_000
            )
        }));
        let scorer = if t.scorer == Scorer::External {
            " [not computed by yardstick]"
        } else {
            ""
        };
        out += &format!(
            "{:<28} {:<6} {}{scorer}\n",
            t.benchmark,
            t.round,
            metrics.join("; ")
        );
        if !extra.is_empty() {
            out += &format!("{:<35} {}\n", "", extra.join("; "));
        }
    }
    out
}

/// The record of one scoring: the metrics, the verdict and every check.
fn accuracy_record(
    started_at: chrono::DateTime<chrono::Utc>,
    score: &Score,
    verdict: Option<&Verdict>,
    benchmark: Option<&str>,
    metric: MetricArg,
    log: &Path,
    ground_truth: &Path,
) -> yardstick_pipeline::record::RunRecord {
    use yardstick_pipeline::record::{
        AccuracyVerdict, Better, Metric, RunKind, RunRecord, RunStatus, SutInfo, Validity,
        ValidityCheck, Verdict as RecordVerdict, WorkloadInfo,
    };
    let metric_name = format!("{metric:?}").to_lowercase();
    let mut r = RunRecord::new(
        RunKind::Accuracy,
        started_at,
        WorkloadInfo {
            name: benchmark.unwrap_or(&metric_name).to_string(),
            mode: Some("AccuracyOnly".into()),
            sut: SutInfo {
                name: "accuracy log".into(),
                kind: "accuracy".into(),
                params: [
                    ("log".to_string(), log.display().to_string()),
                    (
                        "ground_truth".to_string(),
                        ground_truth.display().to_string(),
                    ),
                    ("metric".to_string(), metric_name.clone()),
                ]
                .into(),
            },
            ..WorkloadInfo::default()
        },
    );
    r.status = RunStatus::Completed;
    r.add_file("accuracy_log", log);
    r.add_file("ground_truth", ground_truth);
    for (key, value) in score.metrics() {
        // WER is the one metric where lower is better.
        let better = if key.eq_ignore_ascii_case("wer") {
            Better::Lower
        } else {
            Better::Higher
        };
        r.metrics.push(Metric::new(key, value, "", better));
    }
    let (headline_key, headline) = score.headline();
    let checks: Vec<ValidityCheck> = verdict
        .map(|v| {
            v.checks
                .iter()
                .map(|c| {
                    let op = match c.kind {
                        BoundKind::AtLeast => ">=",
                        BoundKind::AtMost => "<=",
                    };
                    ValidityCheck {
                        name: c.key.to_string(),
                        passed: c.passed() == Some(true),
                        detail: match c.value {
                            Some(v) => format!(
                                "{} = {} (must be {op} {})",
                                c.key,
                                fmt_value(v),
                                fmt_value(c.bound)
                            ),
                            None => format!(
                                "{} was not scored (must be {op} {})",
                                c.key,
                                fmt_value(c.bound)
                            ),
                        },
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let outcome = verdict.map(|v| v.outcome());
    r.validity = Validity {
        verdict: match outcome {
            None => RecordVerdict::NotApplicable,
            Some(Outcome::Pass) => RecordVerdict::Valid,
            Some(Outcome::Fail | Outcome::Incomplete) => RecordVerdict::Invalid,
        },
        checks,
    };
    r.accuracy = Some(AccuracyVerdict {
        metric: headline_key.to_string(),
        value: headline,
        target: verdict
            .and_then(|v| v.checks.iter().find(|c| c.key == headline_key))
            .map(|c| c.bound),
        passed: outcome.map(|o| o == Outcome::Pass),
        detail: match outcome {
            None => "no target given".into(),
            Some(Outcome::Pass) => "PASS".into(),
            Some(Outcome::Fail) => "FAIL".into(),
            Some(Outcome::Incomplete) => "INCOMPLETE: a metric of the target was not scored".into(),
        },
    });
    r
}

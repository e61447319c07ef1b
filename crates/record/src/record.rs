//! The types of `run.json`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::LatencyHistogram;

/// Everything known about one finished (or interrupted) run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunRecord {
    /// [`crate::SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    /// Unique, sorts by start time (`20261206-032700-4f2a9c`).
    pub id: String,
    /// The group this run belongs to: the points of a sweep, the repeats of
    /// `--repeat N`, the seeded runs of a training set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupRef>,
    pub kind: RunKind,
    pub status: RunStatus,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    /// The command line that started the run (argv, program first).
    #[serde(default)]
    pub command_line: Vec<String>,
    /// The yardstick that wrote the record (`0.1.0`, and the git commit
    /// where known).
    pub tool: ToolInfo,
    pub workload: WorkloadInfo,
    /// Every effective setting and where it came from.
    #[serde(default)]
    pub settings: Vec<SettingRecord>,
    /// The system description (yardstick-sysinfo's), as captured at the
    /// start of the run; absent when withheld.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<serde_json::Value>,
    /// Named measurements, the main one first.
    #[serde(default)]
    pub metrics: Vec<Metric>,
    pub validity: Validity,
    /// Latency distributions by name: `query` (LoadGen's per-query latency
    /// for the scenario), `ttft`, `tpot`, `e2e`, `itl`, ...
    #[serde(default)]
    pub latencies: BTreeMap<String, LatencyDistribution>,
    /// Issued and completed counts over time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<RateTimeline>,
    /// The load of a sweep point (concurrency or rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadPoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<AccuracyVerdict>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interruption: Option<Interruption>,
    /// Every file the run wrote, by role.
    #[serde(default)]
    pub files: Vec<FileRecord>,
    /// Free-form remarks worth keeping (warnings, skipped work).
    #[serde(default)]
    pub notes: Vec<String>,
    /// Tags given by the user (`--tag`, `yardstick runs tag`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Front-end specific data that has no field of its own yet.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, serde_json::Value>,
    /// The server's own Prometheus metrics, scraped during the run
    /// (endpoint runs; absent when scraping was off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_metrics: Option<crate::ServerMetrics>,
    /// Power and energy over the measured window (absent when not
    /// measured: `--power off`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power: Option<crate::PowerRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GroupRef {
    pub id: String,
    pub kind: GroupKind,
    /// Position in the group, from 0.
    pub index: u32,
    /// How many runs the group was meant to have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u32>,
    /// This member's label (`c4`, `rate 100/s`, `seed 3`, `repeat 2`).
    pub label: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    Sweep,
    Repeat,
    Training,
    FindPeak,
    Import,
}

/// Which front end made the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// A LoadGen test of a built-in SUT or a workload (`yardstick run`).
    Loadgen,
    /// An HTTP endpoint point (`yardstick endpoint`).
    Endpoint,
    /// A training run (`yardstick train`).
    Training,
    /// Scoring of an accuracy log (`yardstick accuracy`).
    Accuracy,
    /// A test started by a Python harness through `yardstick.loadgen`.
    Python,
    /// Results written by another tool and imported.
    Imported,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Started, not finished: in the store, a run whose process died
    /// stays so and is shown as incomplete.
    Running,
    Completed,
    /// Stopped by a signal; what it measured is kept.
    Interrupted,
    /// Ended by an error before a result.
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
}

/// What was run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct WorkloadInfo {
    /// The workload or benchmark name (`fashion-mnist`, `resnet50`,
    /// `llama3.1-8b`, `sleep`).
    pub name: String,
    /// LoadGen scenario, where there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// LoadGen mode, where there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The model key used for mlperf.conf look-ups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub sut: SutInfo,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct SutInfo {
    /// The SUT's own name (LoadGen's `sut_name`).
    pub name: String,
    /// `null`, `sleep`, `workload`, `http`, `python`, ...
    pub kind: String,
    /// Parameters that describe it (service time, workers, URL, API, batch
    /// size, ...), as text.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}

/// One effective setting and its origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SettingRecord {
    /// LoadGen's key name (`target_qps`, `min_duration`) or the front end's
    /// own option name.
    pub key: String,
    /// The effective value, as text.
    pub value: String,
    pub source: SettingSource,
}

/// Where a setting's effective value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SettingSource {
    /// LoadGen's built-in default.
    Default,
    /// A line of mlperf.conf.
    MlperfConf {
        file: String,
        line: u32,
        key: String,
    },
    /// A line of user.conf.
    UserConf {
        file: String,
        line: u32,
        key: String,
    },
    /// A command-line flag.
    Flag { name: String },
    /// A line of audit.config (compliance tests; wins over everything).
    AuditConf {
        file: String,
        line: u32,
        key: String,
    },
    /// Set through an API (the Python `TestSettings`, a workload file).
    Api { name: String },
}

impl SettingSource {
    /// `user.conf:3 (resnet50.Server.target_qps)`, `flag --target-qps`.
    pub fn describe(&self) -> String {
        match self {
            SettingSource::Default => "default".to_string(),
            SettingSource::MlperfConf { file, line, key }
            | SettingSource::UserConf { file, line, key }
            | SettingSource::AuditConf { file, line, key } => format!("{file}:{line} ({key})"),
            SettingSource::Flag { name } => format!("flag {name}"),
            SettingSource::Api { name } => name.clone(),
        }
    }
}

/// Which way is better for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
    /// Neither (a count, a setting echoed as a metric).
    Neither,
}

/// One named measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Metric {
    /// Stable dotted name (`samples_per_second`, `latency.p99`,
    /// `ttft.p50`, `tokens_per_second`), the key `compare` matches on.
    pub name: String,
    pub value: f64,
    /// `samples/s`, `ns`, `tokens/s`, `s`, `%`, `1`.
    pub unit: String,
    pub better: Better,
}

impl Metric {
    pub fn new(
        name: impl Into<String>,
        value: f64,
        unit: impl Into<String>,
        better: Better,
    ) -> Self {
        Metric {
            name: name.into(),
            value,
            unit: unit.into(),
            better,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    Valid,
    Invalid,
    /// No validity rules apply (an accuracy-only run, a training run that
    /// reached its target is `Valid`).
    NotApplicable,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "VALID",
            Verdict::Invalid => "INVALID",
            Verdict::NotApplicable => "N/A",
        }
    }
}

/// The verdict and every check behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Validity {
    pub verdict: Verdict,
    pub checks: Vec<ValidityCheck>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ValidityCheck {
    /// `min_duration`, `min_queries`, `latency`, `early_stopping`,
    /// `sut_faults`, `interrupted`, `failed_requests`, ...
    pub name: String,
    pub passed: bool,
    /// Why, in words ("3,512 ms >= 10,000 ms required").
    pub detail: String,
}

/// A latency distribution: a summary for humans and a histogram that merges
/// exactly across runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LatencyDistribution {
    /// Unit of every value (`ns`).
    pub unit: String,
    pub count: u64,
    pub min: u64,
    pub max: u64,
    pub mean: f64,
    /// Exact percentiles as the tool computed them from every value
    /// (LoadGen's for LoadGen runs), not the histogram's approximation.
    pub percentiles: Vec<Percentile>,
    pub histogram: LatencyHistogram,
    /// The raw per-query file, where one was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Percentile {
    /// 0..=100.
    pub percent: f64,
    pub value: u64,
}

impl LatencyDistribution {
    /// From every value, exact: the percentiles use nearest-rank on the
    /// sorted values.
    pub fn from_values(unit: &str, values: &[u64], percents: &[f64]) -> Self {
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        Self::from_sorted(unit, &sorted, percents)
    }

    /// As [`from_values`](Self::from_values), for values already sorted.
    pub fn from_sorted(unit: &str, sorted: &[u64], percents: &[f64]) -> Self {
        Self::from_sorted_by(unit, sorted.len(), percents, |i| sorted[i])
    }

    /// As [`from_sorted`](Self::from_sorted), reading the `i`-th smallest
    /// of `n` values through `value(i)`: no copy of a large vector kept in
    /// another type.
    pub fn from_sorted_by(
        unit: &str,
        n: usize,
        percents: &[f64],
        value: impl Fn(usize) -> u64,
    ) -> Self {
        let percentiles = percents
            .iter()
            .map(|&p| {
                let v = if n == 0 {
                    0
                } else {
                    let rank = ((p / 100.0) * n as f64).ceil() as usize;
                    value(rank.clamp(1, n) - 1)
                };
                Percentile {
                    percent: p,
                    value: v,
                }
            })
            .collect();
        let mut sum: u128 = 0;
        let mut histogram = LatencyHistogram::new();
        for i in 0..n {
            let v = value(i);
            sum += v as u128;
            histogram.record(v);
        }
        LatencyDistribution {
            unit: unit.to_string(),
            count: n as u64,
            min: if n == 0 { 0 } else { value(0) },
            max: if n == 0 { 0 } else { value(n - 1) },
            mean: if n == 0 { 0.0 } else { sum as f64 / n as f64 },
            percentiles,
            histogram,
            raw_file: None,
        }
    }

    /// The recorded percentile `percent`, if it was recorded.
    pub fn percentile(&self, percent: f64) -> Option<u64> {
        self.percentiles
            .iter()
            .find(|p| (p.percent - percent).abs() < 1e-9)
            .map(|p| p.value)
    }
}

/// The percentiles every distribution records.
pub const STANDARD_PERCENTS: [f64; 9] = [50.0, 80.0, 90.0, 95.0, 97.0, 99.0, 99.9, 99.99, 100.0];

/// Queries (or requests) issued and completed per time bucket, from the
/// start of the measured window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RateTimeline {
    /// Width of a bucket, seconds.
    pub bucket_seconds: f64,
    pub issued: Vec<u64>,
    pub completed: Vec<u64>,
}

impl RateTimeline {
    /// Buckets issue and completion offsets (ns from the window's start).
    pub fn from_offsets(issued_ns: &[u64], completed_ns: &[u64], max_buckets: usize) -> Self {
        let end = issued_ns
            .iter()
            .chain(completed_ns)
            .copied()
            .max()
            .unwrap_or(0);
        // Round bucket widths to 1, 2 or 5 x 10^k ms so the axis reads well.
        let target = (end as f64 / max_buckets.max(1) as f64).max(1e6);
        let mag = 10f64.powf(target.log10().floor());
        let width_ns = [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * mag)
            .find(|w| *w >= target)
            .unwrap_or(10.0 * mag);
        let buckets = ((end as f64 / width_ns).floor() as usize) + 1;
        let count = |offsets: &[u64]| {
            let mut v = vec![0u64; buckets];
            for &o in offsets {
                let i = ((o as f64 / width_ns) as usize).min(buckets - 1);
                v[i] += 1;
            }
            v
        };
        RateTimeline {
            bucket_seconds: width_ns / 1e9,
            issued: count(issued_ns),
            completed: count(completed_ns),
        }
    }
}

/// The load of one sweep point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LoadPoint {
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u64>,
    /// Requests or queries per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AccuracyVerdict {
    /// `top1`, `rouge1`, `f1`, `wer`, `eval_accuracy`, ...
    pub metric: String,
    pub value: f64,
    /// The quality target, where one applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    pub passed: Option<bool>,
    #[serde(default)]
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Interruption {
    pub at: DateTime<Utc>,
    /// `interrupted at 2026-12-06T03:27:03Z, 1,500 of 10,000 queries issued`.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FileRecord {
    /// `summary`, `detail`, `accuracy_log`, `trace`, `queries`,
    /// `accuracy_txt`, `requests`, `endpoint_summary`, `training_log`,
    /// `run_json`.
    pub role: String,
    pub path: PathBuf,
}

impl RunRecord {
    /// A record with the required parts and nothing measured yet.
    pub fn new(kind: RunKind, started_at: DateTime<Utc>, workload: WorkloadInfo) -> Self {
        RunRecord {
            schema_version: crate::SCHEMA_VERSION,
            id: crate::new_run_id(started_at),
            group: None,
            kind,
            status: RunStatus::Running,
            started_at,
            ended_at: None,
            command_line: std::env::args().collect(),
            tool: ToolInfo {
                name: "yardstick".to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
                git_commit: None,
            },
            workload,
            settings: Vec::new(),
            system: None,
            metrics: Vec::new(),
            validity: Validity {
                verdict: Verdict::NotApplicable,
                checks: Vec::new(),
            },
            latencies: BTreeMap::new(),
            timeline: None,
            load: None,
            accuracy: None,
            interruption: None,
            files: Vec::new(),
            notes: Vec::new(),
            tags: Vec::new(),
            extra: BTreeMap::new(),
            server_metrics: None,
            power: None,
        }
    }

    /// The metric named `name`, if recorded.
    pub fn metric(&self, name: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.name == name)
    }

    /// The main metric: the first one.
    pub fn primary_metric(&self) -> Option<&Metric> {
        self.metrics.first()
    }

    pub fn file(&self, role: &str) -> Option<&std::path::Path> {
        self.files
            .iter()
            .find(|f| f.role == role)
            .map(|f| f.path.as_path())
    }

    pub fn add_file(&mut self, role: &str, path: impl Into<PathBuf>) {
        self.files.push(FileRecord {
            role: role.to_string(),
            path: path.into(),
        });
    }

    pub fn is_valid(&self) -> bool {
        self.validity.verdict == Verdict::Valid
    }
}

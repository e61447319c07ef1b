//! A LoadGen output folder (ours or the official LoadGen's) as a
//! [`RunRecord`], with the metric names yardstick's own records use
//! (`samples_per_second`, `completed_samples_per_second`, `latency.p90`,
//! `query_latency.p99`, `tokens_per_second`, `ttft.p50`, ...).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::json;
use yardstick_record::{
    Better, LatencyDistribution, LatencyHistogram, Metric, Percentile, RunKind, RunRecord,
    RunStatus, SettingRecord, SettingSource, SutInfo, ToolInfo, Validity, ValidityCheck, Verdict,
    WorkloadInfo,
};

use super::detail::{read_detail, DetailLog};
use super::summary::{read_summary, LatencyTable, SummaryLog, SummaryReadError};

/// The log files of one LoadGen run in a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadgenFiles {
    pub summary: PathBuf,
    pub detail: Option<PathBuf>,
    pub accuracy: Option<PathBuf>,
}

/// The LoadGen runs in `dir` (not below it): every `*summary.txt` whose
/// name starts with `mlperf_log_` (any prefix/suffix/date LoadGen was told
/// to use), with the detail and accuracy logs of the same name.
pub fn find_loadgen_runs(dir: &Path) -> Vec<LoadgenFiles> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut runs: Vec<LoadgenFiles> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let pos = name.rfind("summary")?;
            if !name.contains("mlperf_log") || !name[pos..].ends_with(".txt") {
                return None;
            }
            let sibling = |kind: &str, ext: &str| {
                let stem = format!("{}{kind}{}", &name[..pos], &name[pos + 7..]);
                let p = dir.join(stem.replace(".txt", ext));
                p.is_file().then_some(p)
            };
            Some(LoadgenFiles {
                summary: e.path(),
                detail: sibling("detail", ".txt"),
                accuracy: sibling("accuracy", ".json"),
            })
        })
        .collect();
    runs.sort_by(|a, b| a.summary.cmp(&b.summary));
    runs
}

/// What the folder's place tells about a run (an MLPerf submission tree
/// knows the system and benchmark; a bare folder does not).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunContext {
    /// The benchmark (`resnet50`); `None` lets the importer name it.
    pub benchmark: Option<String>,
    /// The system under test's name in a submission (`results/<system>`).
    pub system: Option<String>,
    /// The submission's system description (`systems/<system>.json`).
    pub system_description: Option<serde_json::Value>,
    /// What the import reads it as (`mlperf_loadgen`, `mlperf_submission`).
    pub format: String,
    /// More facts to keep (division, submitter, phase), as text.
    pub extra: BTreeMap<String, String>,
}

/// Why a LoadGen run cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum LoadgenImportError {
    #[error(transparent)]
    Summary(#[from] SummaryReadError),
    #[error(transparent)]
    Detail(#[from] super::detail::DetailReadError),
}

/// Reads one LoadGen run into a record (kind `imported`; the caller gives
/// it its id).
pub fn read_loadgen_run(
    files: &LoadgenFiles,
    context: &RunContext,
) -> Result<RunRecord, LoadgenImportError> {
    let summary = read_summary(&files.summary)?;
    let detail = match &files.detail {
        Some(p) => Some(read_detail(p)?),
        None => None,
    };
    let mtime = std::fs::metadata(&files.summary)
        .and_then(|m| m.modified())
        .ok()
        .map(DateTime::<Utc>::from);
    Ok(loadgen_record(
        &summary,
        detail.as_ref(),
        files,
        context,
        mtime,
    ))
}

/// `11-22-2026 12:01:36.091` (LoadGen's `power_begin`, UTC).
fn power_time(text: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text, "%m-%d-%Y %H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

/// Builds the record from the parsed logs.
pub fn loadgen_record(
    summary: &SummaryLog,
    detail: Option<&DetailLog>,
    files: &LoadgenFiles,
    context: &RunContext,
    file_time: Option<DateTime<Utc>>,
) -> RunRecord {
    let d = |key: &str| detail.and_then(|d| d.get_str(key));
    let started_at = d("power_begin")
        .and_then(power_time)
        .or_else(|| {
            d("test_datetime").and_then(|t| {
                DateTime::parse_from_rfc3339(t)
                    .ok()
                    .map(|t| t.with_timezone(&Utc))
            })
        })
        .or(file_time)
        .unwrap_or_else(Utc::now);
    let scenario = summary
        .scenario
        .clone()
        .or_else(|| d("effective_scenario").map(str::to_string));
    let mode = summary
        .mode
        .clone()
        .or_else(|| d("effective_test_mode").map(str::to_string));
    let sut_name = context
        .system
        .clone()
        .or_else(|| summary.sut_name.clone())
        .or_else(|| d("sut_name").map(str::to_string))
        .unwrap_or_default();
    let mut sut_params = BTreeMap::new();
    if let Some(n) = summary
        .sut_name
        .clone()
        .or_else(|| d("sut_name").map(str::to_string))
    {
        sut_params.insert("loadgen_sut_name".to_string(), n);
    }
    let workload = WorkloadInfo {
        name: context.benchmark.clone().unwrap_or_default(),
        scenario: scenario.clone(),
        mode,
        model: context.benchmark.clone(),
        sut: SutInfo {
            name: sut_name,
            kind: "external".to_string(),
            params: sut_params,
        },
    };
    let mut record = RunRecord::new(RunKind::Imported, started_at, workload);
    record.command_line = Vec::new();
    record.status = RunStatus::Completed;
    record.ended_at = d("power_end").and_then(power_time);
    let version = d("loadgen_version").unwrap_or("unknown");
    let (version_number, commit) = match version.split_once(" @ ") {
        Some((v, c)) => (v.trim().to_string(), Some(c.trim().to_string())),
        None => (version.to_string(), None),
    };
    record.tool = ToolInfo {
        name: "mlperf_loadgen".to_string(),
        version: version_number,
        git_commit: commit,
    };
    record.system = context.system_description.clone();
    record.settings = settings(summary, detail, &files.summary);
    let (metrics, latencies) = measurements(summary, scenario.as_deref(), detail);
    record.metrics = metrics;
    record.latencies = latencies;
    record.validity = validity(summary);
    record.add_file("summary", &files.summary);
    if let Some(p) = &files.detail {
        record.add_file("detail", p);
    }
    if let Some(p) = &files.accuracy {
        record.add_file("accuracy_log", p);
    }
    if let Some(dir) = files.summary.parent() {
        let txt = dir.join("accuracy.txt");
        if txt.is_file() {
            record.add_file("accuracy_txt", txt);
        }
    }
    if let (Some(w), Some(e)) = (summary.warnings, summary.errors) {
        if w + e > 0 {
            record
                .notes
                .push(format!("LoadGen logged {w} warning(s) and {e} error(s)"));
        }
    }
    if !record.latencies.is_empty() {
        record.notes.push(
            "imported: latency percentiles are LoadGen's from the summary; no per-query values, so no histogram".to_string(),
        );
    }
    let mut import = serde_json::Map::new();
    import.insert("format".into(), json!(context.format));
    import.insert("source".into(), json!(files.summary.parent()));
    for (k, v) in &context.extra {
        import.insert(k.clone(), json!(v));
    }
    record.extra.insert("import".into(), import.into());
    record
}

fn settings(summary: &SummaryLog, detail: Option<&DetailLog>, path: &Path) -> Vec<SettingRecord> {
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !summary.parameters.is_empty() {
        return summary
            .parameters
            .iter()
            .map(|(k, v)| SettingRecord {
                key: k.clone(),
                value: v.clone(),
                source: SettingSource::Api {
                    name: format!("{file} (Test Parameters Used)"),
                },
            })
            .collect();
    }
    // An accuracy run's summary has no parameters; the detail log has them.
    let Some(detail) = detail else {
        return Vec::new();
    };
    detail
        .entries
        .iter()
        .filter_map(|e| {
            let key = e.key.strip_prefix("effective_")?;
            let value = match &e.value {
                serde_json::Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            Some(SettingRecord {
                key: key.to_string(),
                value,
                source: SettingSource::Api {
                    name: "mlperf_log_detail.txt (effective_*)".to_string(),
                },
            })
        })
        .collect()
}

/// `90.0th percentile latency (ns)` -> 90.0.
fn headline_percent(label: &str) -> Option<f64> {
    label.split_once("th ")?.0.trim().parse().ok()
}

/// `99.0` -> `99`, `99.9` -> `99.9`: the names yardstick's records use.
fn percent_name(p: f64) -> String {
    let t = format!("{p:.2}");
    t.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn measurements(
    s: &SummaryLog,
    scenario: Option<&str>,
    detail: Option<&DetailLog>,
) -> (Vec<Metric>, BTreeMap<String, LatencyDistribution>) {
    let mut m = Vec::new();
    let mut latencies = BTreeMap::new();
    let lower = Better::Lower;
    let higher = Better::Higher;
    let headline_latency = s
        .results
        .iter()
        .find(|n| n.label.ends_with("percentile latency (ns)") && !n.label.contains("token"));
    match scenario {
        Some("Server") => {
            if let Some(v) = s.result("Completed samples per second") {
                m.push(Metric::new(
                    "completed_samples_per_second",
                    v,
                    "samples/s",
                    higher,
                ));
            }
        }
        Some("Offline") => {
            if let Some(v) = s.result("Samples per second") {
                m.push(Metric::new("samples_per_second", v, "samples/s", higher));
            }
        }
        Some(sc @ ("SingleStream" | "MultiStream")) => {
            if let Some(n) = headline_latency {
                let p = headline_percent(&n.label).unwrap_or(90.0);
                let base = if sc == "MultiStream" {
                    "query_latency"
                } else {
                    "latency"
                };
                m.push(Metric::new(
                    format!("{base}.p{}", percent_name(p)),
                    n.value,
                    "ns",
                    lower,
                ));
            }
        }
        _ => {}
    }
    if let Some(v) = s.stat("Scheduled samples per second") {
        m.push(Metric::new(
            "scheduled_samples_per_second",
            v,
            "samples/s",
            Better::Neither,
        ));
    }
    let query_count = detail.and_then(|d| d.get_u64("result_query_count"));
    if let Some(table) = &s.latency {
        for p in [50.0, 90.0, 99.0, 99.9] {
            if let Some(v) = table.percentile(p) {
                let name = format!("latency.p{}", percent_name(p));
                if m.iter().all(|x| x.name != name) {
                    m.push(Metric::new(name, v as f64, "ns", lower));
                }
            }
        }
        if let Some(mean) = table.mean {
            m.push(Metric::new("latency.mean", mean as f64, "ns", lower));
        }
        let name = if scenario == Some("MultiStream") {
            "query"
        } else {
            "sample"
        };
        // One sample per query except in Offline (one query) and
        // MultiStream (whose table is per query anyway).
        let count = query_count.filter(|_| scenario != Some("Offline"));
        latencies.insert(name.to_string(), distribution(table, count));
    }
    if let Some(q) = query_count {
        m.push(Metric::new("queries", q as f64, "1", Better::Neither));
    }
    for (label, name) in [
        ("QPS w/ loadgen overhead", "qps_with_loadgen_overhead"),
        ("QPS w/o loadgen overhead", "qps_without_loadgen_overhead"),
    ] {
        if let Some(v) = s.stat(label) {
            m.push(Metric::new(name, v, "queries/s", Better::Neither));
        }
    }
    let tokens = s
        .result("Completed tokens per second")
        .or_else(|| s.result("Tokens per second"));
    if let Some(v) = tokens {
        m.push(Metric::new("tokens_per_second", v, "tokens/s", higher));
    }
    for (name, table) in [
        ("ttft", &s.first_token_latency),
        ("tpot", &s.time_per_output_token),
    ] {
        let Some(table) = table else { continue };
        for p in [50.0, 90.0, 99.0] {
            if let Some(v) = table.percentile(p) {
                m.push(Metric::new(
                    format!("{name}.p{}", percent_name(p)),
                    v as f64,
                    "ns",
                    lower,
                ));
            }
        }
        latencies.insert(name.to_string(), distribution(table, None));
    }
    (m, latencies)
}

/// A distribution from a summary table: no per-query values, so the
/// histogram is empty and the count unknown (0).
fn distribution(table: &LatencyTable, count: Option<u64>) -> LatencyDistribution {
    let u = |v: Option<i64>| v.map_or(0, |v| v.max(0) as u64);
    LatencyDistribution {
        unit: "ns".to_string(),
        count: count.unwrap_or(0),
        min: u(table.min),
        max: u(table.max),
        mean: table.mean.map_or(0.0, |v| v as f64),
        percentiles: table
            .percentiles
            .iter()
            .map(|&(percent, value)| Percentile {
                percent,
                value: value.max(0) as u64,
            })
            .collect(),
        histogram: LatencyHistogram::new(),
        raw_file: None,
    }
}

fn validity(s: &SummaryLog) -> Validity {
    let verdict = match s.valid {
        Some(true) => Verdict::Valid,
        Some(false) => Verdict::Invalid,
        None => Verdict::NotApplicable,
    };
    let recommendations = s.recommendations.join(" ");
    let checks = s
        .checks
        .iter()
        .map(|c| {
            let name = match c.name.as_str() {
                "Min duration" => "min_duration",
                "Min queries" => "min_queries",
                "Performance constraints" => "latency_constraint",
                "Early stopping" => "early_stopping",
                other => other,
            };
            let detail = if c.satisfied {
                format!("{} satisfied", c.name)
            } else if name == "early_stopping" {
                s.early_stopping
                    .iter()
                    .map(|(_, t)| t.as_str())
                    .collect::<Vec<_>>()
                    .join("\n")
            } else if recommendations.is_empty() {
                format!("{} not satisfied", c.name)
            } else {
                format!("{} not satisfied: {recommendations}", c.name)
            };
            ValidityCheck {
                name: name.to_string(),
                passed: c.satisfied,
                detail,
            }
        })
        .collect();
    Validity { verdict, checks }
}

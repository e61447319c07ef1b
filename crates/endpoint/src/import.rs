//! Reading endpoint result folders back as run records: the official MLPerf
//! Endpoints tool's (`inference-endpoint benchmark`: `<report
//! dir>/performance/result_summary.json`, `config.yaml`, `report.txt`,
//! `events.jsonl`) and yardstick's own (`<out>/<point>/result_summary.json`,
//! see [`crate::output`]). `yardstick import` uses it.
//!
//! Metric names follow yardstick's records: `tokens_per_second` (system
//! output tokens/s, the main one), `requests_per_second`, `tps_per_user`,
//! `ttft.p50`, `tpot.p90`, `latency.p99` (end to end), all latencies in ns.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use yardstick_record::{
    Better, LatencyDistribution, LatencyHistogram, LoadPoint, Metric, Percentile, RunKind,
    RunRecord, RunStatus, SettingRecord, SettingSource, SutInfo, ToolInfo, Validity, ValidityCheck,
    Verdict, WorkloadInfo,
};

/// Why an endpoint result cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum EndpointImportError {
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not JSON")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path} is not an endpoint result summary: {reason}")]
    NotASummary { path: PathBuf, reason: String },
}

/// Who wrote a `result_summary.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointResultKind {
    /// The MLPerf Endpoints tool (`inference-endpoint`).
    MlperfEndpoints,
    /// `yardstick endpoint`.
    Yardstick,
}

/// The summary file of an endpoint result in `dir` (not below it): the
/// official tool's `performance/result_summary.json`, or yardstick's
/// `result_summary.json` of one point.
pub fn find_endpoint_result(dir: &Path) -> Option<PathBuf> {
    let official = dir.join("performance").join("result_summary.json");
    if official.is_file() {
        return Some(official);
    }
    let own = dir.join("result_summary.json");
    own.is_file().then_some(own)
}

/// Which tool wrote the summary `v`.
pub fn result_kind(v: &Value) -> Option<EndpointResultKind> {
    if v.get("tool").and_then(Value::as_str) == Some("yardstick") && v.get("label").is_some() {
        Some(EndpointResultKind::Yardstick)
    } else if v.get("n_samples_issued").is_some() && v.get("state").is_some() {
        Some(EndpointResultKind::MlperfEndpoints)
    } else {
        None
    }
}

/// Reads the result whose summary is `summary_path` into a record (kind
/// `imported`; the caller gives it its id).
pub fn read_endpoint_result(summary_path: &Path) -> Result<RunRecord, EndpointImportError> {
    let text = std::fs::read_to_string(summary_path).map_err(|source| EndpointImportError::Io {
        path: summary_path.to_path_buf(),
        source,
    })?;
    let v: Value = serde_json::from_str(&text).map_err(|source| EndpointImportError::Json {
        path: summary_path.to_path_buf(),
        source,
    })?;
    let mtime = std::fs::metadata(summary_path)
        .and_then(|m| m.modified())
        .ok()
        .map(DateTime::<Utc>::from)
        .unwrap_or_else(Utc::now);
    match result_kind(&v) {
        Some(EndpointResultKind::MlperfEndpoints) => Ok(official_record(&v, summary_path, mtime)),
        Some(EndpointResultKind::Yardstick) => Ok(own_record(&v, summary_path, mtime)),
        None => Err(EndpointImportError::NotASummary {
            path: summary_path.to_path_buf(),
            reason: "neither MLPerf Endpoints' fields (n_samples_issued, state) nor yardstick's (tool, label)".to_string(),
        }),
    }
}

fn f(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

/// A statistics object (`{min, max, avg, percentiles: {"50.0": ...}}`) as
/// a distribution in ns; `scale` converts its unit to ns.
fn distribution(stats: &Value, count: Option<u64>, scale: f64) -> Option<LatencyDistribution> {
    let obj = stats.as_object().filter(|o| !o.is_empty())?;
    let ns = |x: Option<f64>| x.map_or(0, |x| (x * scale).max(0.0).round() as u64);
    let mut percentiles: Vec<Percentile> = obj
        .get("percentiles")
        .and_then(Value::as_object)
        .map(|p| {
            p.iter()
                .filter_map(|(k, v)| {
                    Some(Percentile {
                        percent: k.trim_start_matches('p').parse().ok()?,
                        value: ns(v.as_f64()),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    percentiles.sort_by(|a, b| a.percent.total_cmp(&b.percent));
    Some(LatencyDistribution {
        unit: "ns".to_string(),
        count: obj
            .get("count")
            .and_then(Value::as_u64)
            .or(count)
            .unwrap_or(0),
        min: ns(stats.get("min").and_then(Value::as_f64)),
        max: ns(stats.get("max").and_then(Value::as_f64)),
        mean: stats.get("avg").and_then(Value::as_f64).unwrap_or(0.0) * scale,
        percentiles,
        histogram: LatencyHistogram::new(),
        raw_file: None,
    })
}

/// `ttft.p50`, `ttft.p90`, `ttft.p99` from a distribution.
fn percentile_metrics(out: &mut Vec<Metric>, name: &str, d: &LatencyDistribution) {
    for p in [50.0, 90.0, 99.0] {
        if let Some(v) = d.percentile(p) {
            out.push(Metric::new(
                format!("{name}.p{}", p as u32),
                v as f64,
                "ns",
                Better::Lower,
            ));
        }
    }
}

fn base_record(started_at: DateTime<Utc>, model: &str, sut: SutInfo) -> RunRecord {
    let mut r = RunRecord::new(
        RunKind::Imported,
        started_at,
        WorkloadInfo {
            name: model.to_string(),
            scenario: None,
            mode: None,
            model: Some(model.to_string()).filter(|m| !m.is_empty()),
            sut,
        },
    );
    r.command_line = Vec::new();
    r
}

/// `model_params: name:` of the official tool's `config.yaml`, read
/// line by line (no YAML parser for one value).
fn config_model_name(config_yaml: &Path) -> Option<String> {
    let text = std::fs::read_to_string(config_yaml).ok()?;
    let mut in_model = false;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() {
            in_model = line.trim_end() == "model_params:";
            continue;
        }
        if in_model {
            if let Some(v) = line.trim().strip_prefix("name:") {
                return Some(v.trim().trim_matches(['"', '\'']).to_string());
            }
        }
    }
    None
}

fn official_record(v: &Value, path: &Path, mtime: DateTime<Utc>) -> RunRecord {
    // `<report dir>/performance/result_summary.json`.
    let report_dir = path
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let model = config_model_name(&report_dir.join("config.yaml")).unwrap_or_default();
    let run_config = v.get("run_config").cloned().unwrap_or(Value::Null);
    let pattern = &run_config["load_pattern"];
    let pattern_type = pattern["type"].as_str().unwrap_or("").to_string();
    // `test_started_at` is 0 in current releases; the file time stands in.
    let started_ns = v
        .get("test_started_at")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let started_at = if started_ns > 0 {
        DateTime::from_timestamp_nanos(started_ns)
    } else {
        mtime
    };
    let mut r = base_record(
        started_at,
        &model,
        SutInfo {
            name: String::new(),
            kind: "http".to_string(),
            params: BTreeMap::new(),
        },
    );
    r.workload.scenario = Some(pattern_type.clone()).filter(|s| !s.is_empty());
    r.tool = ToolInfo {
        name: "inference-endpoint".to_string(),
        version: v["version"].as_str().unwrap_or("unknown").to_string(),
        git_commit: v["git_sha"].as_str().map(str::to_string),
    };
    r.status = match v["state"].as_str() {
        Some("complete") => RunStatus::Completed,
        Some("interrupted") => RunStatus::Interrupted,
        _ => RunStatus::Failed,
    };
    if let Some(d) = v.get("duration_ns").and_then(Value::as_u64) {
        r.ended_at = Some(started_at + chrono::Duration::nanoseconds(d as i64));
    }
    let completed = v["n_samples_completed"].as_u64();
    let failed = v["n_samples_failed"].as_u64().unwrap_or(0);
    let mut m = Vec::new();
    if let Some(tps) = f(v, "tps") {
        m.push(Metric::new(
            "tokens_per_second",
            tps,
            "tokens/s",
            Better::Higher,
        ));
    }
    if let Some(qps) = f(v, "qps") {
        m.push(Metric::new(
            "requests_per_second",
            qps,
            "requests/s",
            Better::Higher,
        ));
    }
    for (key, name) in [("ttft", "ttft"), ("tpot", "tpot"), ("latency", "latency")] {
        if let Some(d) = distribution(&v[key], completed, 1.0) {
            percentile_metrics(&mut m, name, &d);
            if name == "tpot" {
                if let Some(p90) = d.percentile(90.0).filter(|&p| p > 0) {
                    // MLPerf Endpoints v1.0: tokens/s per user = 1000 / TPOT p90 (ms).
                    m.push(Metric::new(
                        "tps_per_user",
                        1e9 / p90 as f64,
                        "tokens/s",
                        Better::Higher,
                    ));
                }
            }
            r.latencies.insert(name.to_string(), d);
        }
    }
    for (key, name) in [
        ("n_samples_issued", "requests_issued"),
        ("n_samples_completed", "requests_completed"),
        ("n_samples_failed", "requests_failed"),
    ] {
        if let Some(x) = f(v, key) {
            m.push(Metric::new(name, x, "1", Better::Neither));
        }
    }
    r.metrics = m;
    r.load = Some(LoadPoint {
        label: pattern_type.clone(),
        concurrency: pattern["target_concurrency"].as_u64(),
        rate: pattern["target_qps"].as_f64(),
    });
    if let Some(cfg) = run_config.as_object() {
        r.settings = flatten_settings(cfg, "", "result_summary.json run_config");
    }
    r.validity = failures_validity(failed, v["complete"].as_bool() == Some(false));
    r.add_file("endpoint_summary", path);
    for (role, name) in [
        ("report", "report.txt"),
        ("config", "config.yaml"),
        ("events", "events.jsonl"),
    ] {
        let p = report_dir.join(name);
        if p.is_file() {
            r.add_file(role, p);
        }
    }
    r.extra.insert(
        "import".into(),
        json!({"format": "mlperf_endpoints", "source": report_dir}),
    );
    r
}

fn own_record(v: &Value, path: &Path, mtime: DateTime<Utc>) -> RunRecord {
    let mut params = BTreeMap::new();
    for key in ["url", "api", "streaming", "dataset"] {
        if let Some(x) = v.get(key) {
            params.insert(
                key.to_string(),
                x.as_str().map_or_else(|| x.to_string(), str::to_string),
            );
        }
    }
    let model = v["model"].as_str().unwrap_or("");
    let mut r = base_record(
        mtime,
        model,
        SutInfo {
            name: v["url"].as_str().unwrap_or("").to_string(),
            kind: "http".to_string(),
            params,
        },
    );
    let pattern = v["load_pattern"].as_str().unwrap_or("").to_string();
    r.workload.scenario = Some(pattern.clone()).filter(|s| !s.is_empty());
    r.tool = ToolInfo {
        name: "yardstick".to_string(),
        version: v["version"].as_str().unwrap_or("unknown").to_string(),
        git_commit: None,
    };
    r.status = RunStatus::Completed;
    let completed = v["n_samples_completed"].as_u64();
    let failed = v["n_samples_failed"].as_u64().unwrap_or(0);
    let mut m = Vec::new();
    if let Some(x) = f(v, "system_tps") {
        m.push(Metric::new(
            "tokens_per_second",
            x,
            "tokens/s",
            Better::Higher,
        ));
    }
    if let Some(x) = f(v, "qps") {
        m.push(Metric::new(
            "requests_per_second",
            x,
            "requests/s",
            Better::Higher,
        ));
    }
    if let Some(x) = f(v, "tps_per_user") {
        m.push(Metric::new("tps_per_user", x, "tokens/s", Better::Higher));
    }
    for (key, name) in [("ttft", "ttft"), ("tpot", "tpot"), ("latency", "latency")] {
        if let Some(d) = distribution(&v[key], completed, 1.0) {
            percentile_metrics(&mut m, name, &d);
            r.latencies.insert(name.to_string(), d);
        }
    }
    for (key, name) in [
        ("n_samples_issued", "requests_issued"),
        ("n_samples_completed", "requests_completed"),
        ("n_samples_failed", "requests_failed"),
    ] {
        if let Some(x) = f(v, key) {
            m.push(Metric::new(name, x, "1", Better::Neither));
        }
    }
    r.metrics = m;
    r.load = Some(LoadPoint {
        label: v["label"].as_str().unwrap_or("").to_string(),
        concurrency: v["concurrency"].as_u64(),
        rate: f(v, "target_rate"),
    });
    r.validity = failures_validity(failed, false);
    if let Some(ml) = v.get("mlperf").filter(|x| !x.is_null()) {
        r.workload.scenario = ml["scenario"].as_str().map(str::to_string);
        r.workload.mode = ml["mode"].as_str().map(str::to_string);
        r.validity.verdict = if ml["valid"].as_bool() == Some(true) {
            Verdict::Valid
        } else {
            Verdict::Invalid
        };
    }
    if let Some(w) = v["warnings"].as_array() {
        r.notes
            .extend(w.iter().filter_map(Value::as_str).map(str::to_string));
    }
    r.add_file("endpoint_summary", path);
    if let Some(dir) = path.parent() {
        for (role, name) in [
            ("requests", "requests.jsonl"),
            ("requests_csv", "requests.csv"),
        ] {
            let p = dir.join(name);
            if p.is_file() {
                r.add_file(role, p);
            }
        }
    }
    r.extra.insert(
        "import".into(),
        json!({"format": "yardstick_endpoint", "source": path.parent()}),
    );
    r
}

/// Endpoint runs have no LoadGen verdict: a run with failed requests (or
/// cut short) is INVALID, else VALID.
fn failures_validity(failed: u64, incomplete: bool) -> Validity {
    let mut checks = vec![ValidityCheck {
        name: "failed_requests".to_string(),
        passed: failed == 0,
        detail: format!("{failed} failed request(s)"),
    }];
    if incomplete {
        checks.push(ValidityCheck {
            name: "complete".to_string(),
            passed: false,
            detail: "the tool marked its metrics incomplete".to_string(),
        });
    }
    let verdict = if checks.iter().all(|c| c.passed) {
        Verdict::Valid
    } else {
        Verdict::Invalid
    };
    Validity { verdict, checks }
}

/// `{"load_pattern": {"type": "poisson"}}` -> `load_pattern.type = poisson`.
fn flatten_settings(
    obj: &serde_json::Map<String, Value>,
    prefix: &str,
    source: &str,
) -> Vec<SettingRecord> {
    let mut out = Vec::new();
    for (k, v) in obj {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Object(inner) => out.extend(flatten_settings(inner, &key, source)),
            Value::Null => {}
            Value::String(s) => out.push(setting(key, s.clone(), source)),
            other => out.push(setting(key, other.to_string(), source)),
        }
    }
    out
}

fn setting(key: String, value: String, source: &str) -> SettingRecord {
    SettingRecord {
        key,
        value,
        source: SettingSource::Api {
            name: source.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `result_summary.json` as `inference-endpoint` 0.x writes it
    /// (`Report.to_json`: msgspec field order, percentiles keyed by
    /// `str(float)`), with its report folder.
    fn official_folder(dir: &Path) -> PathBuf {
        let perf = dir.join("performance");
        std::fs::create_dir_all(&perf).unwrap();
        let stats = |scale: f64| {
            json!({
                "total": 1000.0 * scale, "min": 1.0 * scale, "max": 9.0 * scale,
                "median": 5.0 * scale, "avg": 5.0 * scale, "std_dev": 1.0,
                "percentiles": {"50.0": 5.0 * scale, "90.0": 8.0 * scale, "99.0": 9.0 * scale, "99.9": 9.0 * scale},
                "histogram": {"buckets": [[0, 10]], "counts": [100]}
            })
        };
        let summary = json!({
            "version": "0.4.1", "git_sha": "abc123", "test_started_at": 0,
            "n_samples_issued": 100, "n_samples_completed": 98, "n_samples_failed": 2,
            "duration_ns": 10_000_000_000u64, "state": "complete", "complete": true,
            "ttft": stats(1e6), "tpot": stats(1e5), "latency": stats(1e7),
            "output_sequence_lengths": stats(1.0), "input_sequence_lengths": {},
            "legacy_loadgen_window_duration_ns": null,
            "qps": 9.8, "tps": 1234.5,
            "finish_reason_counts": {"stop": 98},
            "run_config": {"load_pattern": {"type": "concurrency", "target_qps": null, "target_concurrency": 16},
                            "scheduler_random_seed": 42, "dataloader_random_seed": 7}
        });
        let p = perf.join("result_summary.json");
        std::fs::write(&p, serde_json::to_string_pretty(&summary).unwrap()).unwrap();
        std::fs::write(
            dir.join("config.yaml"),
            "name: test\nmodel_params:\n  name: \"Qwen/Qwen3-8B\"\n  temperature: 0\n",
        )
        .unwrap();
        std::fs::write(dir.join("report.txt"), "report\n").unwrap();
        p
    }

    #[test]
    fn official_result_folder() {
        let dir = std::env::temp_dir().join(format!("ys-endpoint-import-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let p = official_folder(&dir);
        assert_eq!(find_endpoint_result(&dir), Some(p.clone()));
        let r = read_endpoint_result(&p).unwrap();
        let m = |n: &str| r.metric(n).unwrap_or_else(|| panic!("no {n}")).value;
        assert_eq!(r.primary_metric().unwrap().name, "tokens_per_second");
        assert_eq!(m("tokens_per_second"), 1234.5);
        assert_eq!(m("requests_per_second"), 9.8);
        assert_eq!(m("ttft.p90"), 8e6);
        assert_eq!(m("tpot.p50"), 5e5);
        assert_eq!(m("latency.p99"), 9e7);
        assert_eq!(m("tps_per_user"), 1e9 / 8e5);
        assert_eq!(m("requests_failed"), 2.0);
        assert_eq!(r.workload.name, "Qwen/Qwen3-8B");
        assert_eq!(r.workload.scenario.as_deref(), Some("concurrency"));
        assert_eq!(r.load.as_ref().unwrap().concurrency, Some(16));
        assert_eq!(r.tool.name, "inference-endpoint");
        assert_eq!(r.validity.verdict, Verdict::Invalid, "2 requests failed");
        assert!(r
            .settings
            .iter()
            .any(|s| s.key == "scheduler_random_seed" && s.value == "42"));
        assert!(r.file("report").is_some() && r.file("config").is_some());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn not_a_summary_is_refused() {
        let dir =
            std::env::temp_dir().join(format!("ys-endpoint-import-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("result_summary.json");
        std::fs::write(&p, "{\"hello\": 1}").unwrap();
        assert!(matches!(
            read_endpoint_result(&p),
            Err(EndpointImportError::NotASummary { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

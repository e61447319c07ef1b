//! Golden tests: for every reference case the official LoadGen 6.0.17
//! produced (../shared/golden/loadgen-6.0.17), yardstick must load the same
//! sample sets, issue the same sample indices grouped into the same queries,
//! keep the same Server schedule to the nanosecond, and log the same
//! accuracy entries and generated-query counts.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use yardstick_core::log::{AccuracyEntry, DetailEvent, LogSink, MemorySink};
use yardstick_core::results::PerformanceSummary;
use yardstick_core::run::{start_test, RunOptions, RunTimeline};
use yardstick_core::sut::{
    BoxError, Completer, QuerySample, QuerySampleLibrary, QuerySampleResponse, SampleIndex,
    SystemUnderTest,
};
use yardstick_core::{Mode, Scenario, TestSettings};

fn golden_root() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/golden/loadgen-6.0.17");
    assert!(
        p.is_dir(),
        "golden reference outputs missing at {} (shared/ must sit beside the checkout)",
        p.display()
    );
    p
}

struct Sut {
    tokens: bool,
    issued: Mutex<Vec<Vec<usize>>>,
}

impl SystemUnderTest for Sut {
    fn name(&self) -> &str {
        "PySUT"
    }
    fn issue_query(&self, samples: &[QuerySample], c: &Completer) -> Result<(), BoxError> {
        self.issued
            .lock()
            .unwrap()
            .push(samples.iter().map(|s| s.index).collect());
        let data: Vec<[u8; 4]> = samples
            .iter()
            .map(|s| (s.index as u32).to_le_bytes())
            .collect();
        if self.tokens {
            let r: Vec<_> = samples
                .iter()
                .zip(&data)
                .map(|(s, d)| QuerySampleResponse::new(s.id, d))
                .collect();
            c.first_token(&r)?;
        }
        let r: Vec<_> = samples
            .iter()
            .zip(&data)
            .map(|(s, d)| QuerySampleResponse {
                id: s.id,
                data: d,
                n_tokens: self.tokens.then(|| 2 + (s.index % 7) as u64),
            })
            .collect();
        c.complete(&r)?;
        Ok(())
    }
}

struct Qsl {
    total: usize,
    perf: usize,
    loaded: Mutex<Vec<Vec<usize>>>,
}

impl QuerySampleLibrary for Qsl {
    fn name(&self) -> &str {
        "PyQSL"
    }
    fn total_sample_count(&self) -> usize {
        self.total
    }
    fn performance_sample_count(&self) -> usize {
        self.perf
    }
    fn load_samples_to_ram(&self, i: &[SampleIndex]) -> Result<(), BoxError> {
        self.loaded.lock().unwrap().push(i.to_vec());
        Ok(())
    }
    fn unload_samples_from_ram(&self, _: &[SampleIndex]) -> Result<(), BoxError> {
        Ok(())
    }
}

/// Keeps details/accuracy in memory and the Server schedule of each run.
#[derive(Default)]
struct Tap {
    mem: MemorySink,
    schedule: Mutex<Vec<i64>>,
}

impl LogSink for Tap {
    fn detail(&self, e: DetailEvent) {
        self.mem.detail(e)
    }
    fn accuracy(&self, e: AccuracyEntry<'_>) {
        self.mem.accuracy(e)
    }
    fn summary(&self, s: &PerformanceSummary) {
        self.mem.summary(s)
    }
    fn wants_timeline(&self) -> bool {
        true
    }
    fn timeline(&self, t: &RunTimeline<'_>) {
        if t.scenario() == Scenario::Server {
            let mut out = self.schedule.lock().unwrap();
            for q in 0..t.query_count() {
                if t.issued_ns(q).is_some() {
                    out.push(t.scheduled_ns(q));
                }
            }
        }
    }
}

fn read_jsonl(p: &Path) -> Vec<Vec<usize>> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Values of a key in the golden detail log, in order.
fn golden_values(detail: &str, key: &str) -> Vec<Value> {
    let needle = format!("\"key\": \"{key}\"");
    detail
        .lines()
        .filter(|l| l.contains(&needle))
        .map(|l| {
            let v: Value = serde_json::from_str(l.trim_start_matches(":::MLLOG ")).unwrap();
            v["value"].clone()
        })
        .collect()
}

fn settings_for(case: &Value, dir: &Path) -> TestSettings {
    let scenario: Scenario = case["scenario"].as_str().unwrap().parse().unwrap();
    let mode: Mode = case["mode"].as_str().unwrap().parse().unwrap();
    let mut s = match case.get("model").and_then(Value::as_str) {
        Some(model) => {
            let user = std::fs::read_to_string(dir.join("user.conf")).unwrap();
            TestSettings::from_config("user.conf", &user, model, scenario.as_str())
                .unwrap()
                .0
        }
        None => TestSettings::default(),
    };
    if let Some(fields) = case.get("settings").and_then(Value::as_object) {
        let mut v = serde_json::to_value(&s).unwrap();
        for (k, x) in fields {
            v[k] = x.clone();
        }
        s = serde_json::from_value(v).unwrap();
    }
    s.scenario = scenario;
    s.mode = mode;
    s
}

fn check_case(dir: &Path) {
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let case: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
    let settings = settings_for(&case, dir);
    let sut = Sut {
        tokens: case["tokens"].as_bool().unwrap_or(false),
        issued: Mutex::new(vec![]),
    };
    let qsl = Qsl {
        total: case["total"].as_u64().unwrap() as usize,
        perf: case["perf"].as_u64().unwrap() as usize,
        loaded: Mutex::new(vec![]),
    };
    let tap = Arc::new(Tap::default());
    let outcome = start_test(&sut, &qsl, &settings, tap.clone(), &RunOptions::default()).unwrap();
    assert!(
        outcome.faults.is_empty(),
        "{name}: faults {:?}",
        outcome.faults
    );

    let loaded = qsl.loaded.lock().unwrap();
    assert_eq!(
        *loaded,
        read_jsonl(&dir.join("loaded.jsonl")),
        "{name}: loaded sets differ"
    );
    let issued = sut.issued.lock().unwrap();
    let want = read_jsonl(&dir.join("issued.jsonl"));
    assert_eq!(issued.len(), want.len(), "{name}: number of issued queries");
    for (i, (a, b)) in issued.iter().zip(&want).enumerate() {
        assert_eq!(a, b, "{name}: query {i} differs");
    }

    let sched_path = dir.join("schedule_ns.txt");
    if sched_path.exists() {
        let want: Vec<i64> = std::fs::read_to_string(&sched_path)
            .unwrap()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        let got = tap.schedule.lock().unwrap();
        let t0 = got[0];
        let got: Vec<i64> = got.iter().map(|t| t - t0).collect();
        assert_eq!(got, want, "{name}: Server schedule differs");
    }

    let detail = std::fs::read_to_string(dir.join("mlperf_log_detail.txt")).unwrap();
    for key in [
        "generated_query_count",
        "generated_samples_per_query",
        "generated_query_duration",
    ] {
        let ours: Vec<Value> = tap
            .mem
            .details
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.key == key)
            .map(|e| e.value.clone())
            .collect();
        assert_eq!(ours, golden_values(&detail, key), "{name}: {key}");
    }

    // Accuracy log: same (seq_id, qsl_idx, data) entries.
    let acc: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("mlperf_log_accuracy.json")).unwrap(),
    )
    .unwrap();
    let mut want: Vec<(u64, u64, String)> = acc
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["seq_id"].as_u64().unwrap(),
                e["qsl_idx"].as_u64().unwrap(),
                e["data"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    want.sort();
    let mut got: Vec<(u64, u64, String)> = tap
        .mem
        .accuracy
        .lock()
        .unwrap()
        .iter()
        .map(|(s, q, d, _)| (*s, *q, d.iter().map(|b| format!("{b:02X}")).collect()))
        .collect();
    got.sort();
    assert_eq!(got, want, "{name}: accuracy log entries differ");
}

#[test]
fn every_golden_case_matches_the_official_loadgen() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(golden_root())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty());
    for d in dirs {
        check_case(&d);
    }
}

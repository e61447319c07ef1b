//! Per GPU count, from the records of a scaling sweep: throughput, the
//! highest VALID Server QPS and the scaling efficiency of each.
//!
//! Efficiency is `value(n) / (n x value(1))`: 1.0 is perfect linear
//! scaling. Where the sweep has no 1-GPU point, the smallest count `m` is
//! the base (`value(n) x m / (n x value(m))`), and [`CountSummary::base_gpus`]
//! says so.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use yardstick_record::{RunRecord, RunStatus, Verdict};

use crate::collectives::CollectiveResult;

/// The key of a point's tag in `RunRecord::extra`.
pub const SCALE_KEY: &str = "scale";
/// The key of a point's collective bandwidths in `RunRecord::extra`.
pub const COLLECTIVES_KEY: &str = "collectives";

/// What the driver writes into each record of a point (`extra.scale`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaleTag {
    /// GPUs the point ran on.
    pub gpus: u32,
    /// `CUDA_VISIBLE_DEVICES` as the command saw it ("0,1").
    pub visible_devices: String,
}

impl ScaleTag {
    /// The tag of a record, if it is a point of a scaling sweep.
    pub fn of(record: &RunRecord) -> Option<ScaleTag> {
        serde_json::from_value(record.extra.get(SCALE_KEY)?.clone()).ok()
    }
}

/// One GPU count of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountSummary {
    pub gpus: u32,
    /// Records of this count.
    pub runs: usize,
    /// Offline samples/s: the median over the count's completed Offline
    /// records.
    pub offline_samples_per_second: Option<f64>,
    /// Whether every Offline record of the count was VALID.
    pub offline_valid: bool,
    /// `offline(n) / (n x offline(base))`.
    pub offline_efficiency: Option<f64>,
    /// The highest `server_target_qps` among the count's VALID Server
    /// records (a find-peak search's trials, or single Server runs).
    pub server_max_valid_qps: Option<f64>,
    /// Server trials of the count (VALID or not).
    pub server_trials: usize,
    pub server_efficiency: Option<f64>,
    /// The count the efficiencies are relative to (1 unless the sweep had
    /// no 1-GPU point).
    pub base_gpus: Option<u32>,
    /// The point's collective bandwidths, if the probe ran.
    pub collectives: Vec<CollectiveResult>,
}

fn metric(record: &RunRecord, name: &str) -> Option<f64> {
    record
        .metrics
        .iter()
        .find(|m| m.name == name)
        .map(|m| m.value)
        .filter(|v| v.is_finite())
}

fn setting(record: &RunRecord, key: &str) -> Option<f64> {
    record
        .settings
        .iter()
        .find(|s| s.key == key)
        .and_then(|s| s.value.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite())
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

fn is_scenario(record: &RunRecord, scenario: &str) -> bool {
    record.workload.scenario.as_deref() == Some(scenario)
}

/// `value(n) x base / (n x value(base))`.
pub fn efficiency(value: f64, gpus: u32, base_value: f64, base_gpus: u32) -> Option<f64> {
    if gpus == 0 || base_gpus == 0 || base_value <= 0.0 || !base_value.is_finite() {
        return None;
    }
    Some(value * f64::from(base_gpus) / (f64::from(gpus) * base_value))
}

/// One summary per GPU count found among `records` (those without a scale
/// tag are ignored), in increasing count.
pub fn summarize(records: &[RunRecord]) -> Vec<CountSummary> {
    let mut by_count: BTreeMap<u32, Vec<&RunRecord>> = BTreeMap::new();
    for r in records {
        if let Some(tag) = ScaleTag::of(r) {
            by_count.entry(tag.gpus).or_default().push(r);
        }
    }
    let mut out: Vec<CountSummary> = by_count
        .iter()
        .map(|(&gpus, runs)| {
            let offline: Vec<&&RunRecord> = runs
                .iter()
                .filter(|r| is_scenario(r, "Offline") && r.status == RunStatus::Completed)
                .collect();
            let server: Vec<&&RunRecord> =
                runs.iter().filter(|r| is_scenario(r, "Server")).collect();
            let collectives = runs
                .iter()
                .find_map(|r| {
                    serde_json::from_value::<Vec<CollectiveResult>>(
                        r.extra.get(COLLECTIVES_KEY)?.clone(),
                    )
                    .ok()
                })
                .unwrap_or_default();
            CountSummary {
                gpus,
                runs: runs.len(),
                offline_samples_per_second: median(
                    offline
                        .iter()
                        .filter_map(|r| metric(r, "samples_per_second"))
                        .collect(),
                ),
                offline_valid: !offline.is_empty()
                    && offline.iter().all(|r| r.validity.verdict == Verdict::Valid),
                offline_efficiency: None,
                server_max_valid_qps: server
                    .iter()
                    .filter(|r| r.validity.verdict == Verdict::Valid)
                    .filter_map(|r| setting(r, "server_target_qps"))
                    .max_by(f64::total_cmp),
                server_trials: server.len(),
                server_efficiency: None,
                base_gpus: None,
                collectives,
            }
        })
        .collect();
    let base = |get: fn(&CountSummary) -> Option<f64>| {
        out.iter()
            .find_map(|c| get(c).filter(|v| *v > 0.0).map(|v| (c.gpus, v)))
    };
    let offline_base = base(|c| c.offline_samples_per_second);
    let server_base = base(|c| c.server_max_valid_qps);
    for c in &mut out {
        if let (Some(v), Some((bg, bv))) = (c.offline_samples_per_second, offline_base) {
            c.offline_efficiency = efficiency(v, c.gpus, bv, bg);
            c.base_gpus = Some(bg);
        }
        if let (Some(v), Some((bg, bv))) = (c.server_max_valid_qps, server_base) {
            c.server_efficiency = efficiency(v, c.gpus, bv, bg);
            c.base_gpus = c.base_gpus.or(Some(bg));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use yardstick_record::{Better, Metric, RunKind, SettingRecord, SettingSource, WorkloadInfo};

    pub(crate) fn point(gpus: u32, scenario: &str, verdict: Verdict) -> RunRecord {
        let mut r = RunRecord::new(
            RunKind::Python,
            chrono::Utc::now(),
            WorkloadInfo {
                name: "resnet50".into(),
                scenario: Some(scenario.into()),
                ..Default::default()
            },
        );
        r.status = RunStatus::Completed;
        r.validity.verdict = verdict;
        r.extra.insert(
            SCALE_KEY.into(),
            serde_json::to_value(ScaleTag {
                gpus,
                visible_devices: (0..gpus)
                    .map(|g| g.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            })
            .unwrap(),
        );
        r
    }

    fn offline(gpus: u32, samples_per_second: f64) -> RunRecord {
        let mut r = point(gpus, "Offline", Verdict::Valid);
        r.metrics.push(Metric::new(
            "samples_per_second",
            samples_per_second,
            "samples/s",
            Better::Higher,
        ));
        r
    }

    fn server(gpus: u32, qps: f64, verdict: Verdict) -> RunRecord {
        let mut r = point(gpus, "Server", verdict);
        r.settings.push(SettingRecord {
            key: "server_target_qps".into(),
            value: qps.to_string(),
            source: SettingSource::Default,
        });
        r
    }

    #[test]
    fn efficiency_is_throughput_over_n_times_the_one_gpu_figure() {
        let records = vec![offline(1, 1000.0), offline(2, 1900.0), offline(4, 3000.0)];
        let s = summarize(&records);
        assert_eq!(s.iter().map(|c| c.gpus).collect::<Vec<_>>(), vec![1, 2, 4]);
        assert_eq!(s[0].offline_efficiency, Some(1.0));
        assert!((s[1].offline_efficiency.unwrap() - 0.95).abs() < 1e-12);
        assert!((s[2].offline_efficiency.unwrap() - 0.75).abs() < 1e-12);
        assert!(s.iter().all(|c| c.base_gpus == Some(1) && c.offline_valid));
    }

    #[test]
    fn without_a_one_gpu_point_the_smallest_count_is_the_base() {
        let s = summarize(&[offline(2, 2000.0), offline(8, 6000.0)]);
        assert_eq!(s[0].base_gpus, Some(2));
        assert_eq!(s[0].offline_efficiency, Some(1.0));
        // 6000 x 2 / (8 x 2000)
        assert!((s[1].offline_efficiency.unwrap() - 0.75).abs() < 1e-12);
    }

    #[test]
    fn offline_is_the_median_of_repeats_and_server_the_highest_valid_qps() {
        let records = vec![
            offline(1, 900.0),
            offline(1, 1000.0),
            offline(1, 1300.0),
            server(1, 800.0, Verdict::Valid),
            server(1, 1600.0, Verdict::Invalid),
            server(1, 1200.0, Verdict::Valid),
            server(2, 2400.0, Verdict::Valid),
            server(2, 4800.0, Verdict::Invalid),
            offline(2, 2000.0),
        ];
        let s = summarize(&records);
        assert_eq!(s[0].offline_samples_per_second, Some(1000.0));
        assert_eq!(s[0].server_max_valid_qps, Some(1200.0));
        assert_eq!(s[0].server_trials, 3);
        assert_eq!(s[1].server_max_valid_qps, Some(2400.0));
        assert_eq!(s[1].server_efficiency, Some(1.0));
        assert_eq!(s[1].offline_efficiency, Some(1.0));
        assert_eq!(s[0].runs, 6);
    }

    #[test]
    fn an_invalid_offline_run_is_flagged_and_untagged_records_are_ignored() {
        let mut bad = offline(1, 500.0);
        bad.validity.verdict = Verdict::Invalid;
        let mut untagged = offline(1, 1.0);
        untagged.extra.clear();
        let s = summarize(&[bad, untagged]);
        assert_eq!(s.len(), 1);
        assert!(!s[0].offline_valid);
        assert_eq!(s[0].offline_samples_per_second, Some(500.0));
        assert_eq!(s[0].runs, 1);
    }
}

//! MLPerf Training's power layout, readers beside writers.
//!
//! A training result with power (mlperf-logging 4.1.68, every training
//! ruleset it ships, 5.1.0 included) keeps, beside the result logs of a
//! set, `power/result_<n>/node_<k>.txt` per node (and `sw_<k>.txt` per
//! interconnect switch): `:::MLLOG` logs of their own with the keys
//! `power_measurement_start`, `conversion_eff`, `power_reading` (watts,
//! `metadata.host`), `power_measurement_stop` (switches:
//! `interconnect_power_est`). No compliance rule file checks these logs: the
//! package checker only checks the folder (one per result, `node_<k>` /
//! `sw_<k>` names numbered 0.., the same count in every run), and the result
//! summarizer turns them into the set's `Energy` column
//! (`_compute_total_power`): per node, `conversion_eff * sum(watts_i *
//! (t_i - t_{i-1})) * time_to_train / (stop - start) / 1000` joules.

use std::path::{Path, PathBuf};

use yardstick_formats::mllog::{read_log, EventType, Record};
use yardstick_formats::pyjson::JsonValue;

pub const POWER_MEASUREMENT_START: &str = "power_measurement_start";
pub const POWER_MEASUREMENT_STOP: &str = "power_measurement_stop";
pub const POWER_READING: &str = "power_reading";
pub const CONVERSION_EFF: &str = "conversion_eff";
pub const INTERCONNECT_POWER_EST: &str = "interconnect_power_est";

/// `<set folder>/power/<result name>/node_<node>.txt`, where the package
/// checker and the summarizer look for a run's node power log
/// (`result name`: `result_0` for `result_0.txt`).
pub fn node_log_path(set_dir: &Path, result_name: &str, node: usize) -> PathBuf {
    set_dir
        .join("power")
        .join(result_name)
        .join(format!("node_{node}.txt"))
}

/// One node's power over a run, as the power log records it.
#[derive(Debug, Clone, PartialEq)]
pub struct NodePowerLog {
    /// `metadata.host` of each reading (`node_0`).
    pub host: String,
    /// AC-to-DC (or meter) conversion factor the energy is multiplied by.
    pub conversion_eff: f64,
    /// `AC` or `DC`.
    pub measurement_type: String,
    /// `power_measurement_start` and `_stop`, ms since the epoch.
    pub start_ms: u64,
    pub stop_ms: u64,
    /// (time_ms, watts), in time order.
    pub readings: Vec<(u64, f64)>,
}

impl NodePowerLog {
    /// The log's lines, as mllog writes them (each ends with `\n`).
    pub fn to_text(&self) -> String {
        let meta = |extra: Vec<(String, JsonValue)>| {
            let mut m: Vec<(String, JsonValue)> = vec![
                ("file".into(), "yardstick".into()),
                ("lineno".into(), 0u64.into()),
            ];
            m.extend(extra);
            m
        };
        let mut records = vec![
            Record::training(
                "",
                self.start_ms,
                EventType::IntervalStart,
                POWER_MEASUREMENT_START,
                JsonValue::Null,
                meta(vec![]),
            ),
            Record::training(
                "",
                self.start_ms,
                EventType::PointInTime,
                CONVERSION_EFF,
                self.conversion_eff.into(),
                meta(vec![(
                    "measurement_type".into(),
                    self.measurement_type.as_str().into(),
                )]),
            ),
        ];
        records.extend(self.readings.iter().map(|&(time_ms, watts)| {
            Record::training(
                "",
                time_ms,
                EventType::PointInTime,
                POWER_READING,
                watts.into(),
                meta(vec![("host".into(), self.host.as_str().into())]),
            )
        }));
        records.push(Record::training(
            "",
            self.stop_ms,
            EventType::IntervalEnd,
            POWER_MEASUREMENT_STOP,
            JsonValue::Null,
            meta(vec![]),
        ));
        records
            .iter()
            .map(|r| format!("{}\n", r.to_line()))
            .collect()
    }
}

/// Why the summarizer gets no energy from a node log.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PowerLogError {
    /// The summarizer raises `ValueError("Power start timestamp not found")`.
    #[error("Power start timestamp not found")]
    NoStart,
    /// `power_stop - power_start` is 0: the summarizer divides by it.
    #[error("the power measurement window is empty (start {0} ms = stop)")]
    EmptyWindow(f64),
    /// A `power_reading` or `conversion_eff` whose value is not a number.
    #[error("line {line}: {key} has no numeric value")]
    NotANumber { line: usize, key: String },
}

/// The energy in joules the result summarizer computes from one node power
/// log for a run of `time_to_train_ms` (its `_compute_power_node`): the
/// readings between start and stop, each weighted by the time since the
/// one before, scaled to the time-to-train; a log with no stop ends at its
/// last reading, as the summarizer's does (it warns).
pub fn node_energy_joules(log: &[u8], time_to_train_ms: f64) -> Result<f64, PowerLogError> {
    let mut lines = read_log(log).lines;
    // Python's list.sort: stable, by timestamp.
    lines.sort_by(|a, b| {
        let (ta, tb) = (a.record.time_ms(), b.record.time_ms());
        ta.partial_cmp(&tb).unwrap_or(std::cmp::Ordering::Equal)
    });
    let number = |line: &yardstick_formats::mllog::LogLine, key: &str| {
        line.record
            .value()
            .as_f64()
            .ok_or_else(|| PowerLogError::NotANumber {
                line: line.line_number,
                key: key.to_string(),
            })
    };
    let (mut start, mut stop) = (None::<f64>, None::<f64>);
    let (mut previous, mut last) = (0.0f64, 0.0f64);
    let mut watt_ms = 0.0;
    let mut conversion_eff = 1.0;
    for line in &lines {
        let time = line.record.time_ms().unwrap_or(0.0);
        match line.record.key() {
            Some(POWER_MEASUREMENT_START) => {
                start = Some(time);
                previous = time;
            }
            Some(POWER_READING) if stop.is_none() && start.is_some() => {
                watt_ms += number(line, POWER_READING)? * (time - previous);
                previous = time;
                last = last.max(time);
            }
            Some(POWER_MEASUREMENT_STOP) => stop = Some(time),
            Some(CONVERSION_EFF) => conversion_eff = number(line, CONVERSION_EFF)?,
            _ => {}
        }
    }
    let start = start.ok_or(PowerLogError::NoStart)?;
    let stop = stop.unwrap_or(last);
    if stop == start {
        return Err(PowerLogError::EmptyWindow(start));
    }
    Ok(conversion_eff * watt_ms * time_to_train_ms / (stop - start) / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log() -> NodePowerLog {
        NodePowerLog {
            host: "node_0".into(),
            conversion_eff: 1.0,
            measurement_type: "DC".into(),
            start_ms: 1000,
            stop_ms: 3000,
            readings: vec![(1500, 100.0), (2000, 200.0), (3000, 300.0)],
        }
    }

    #[test]
    fn the_summarizers_energy_of_a_written_log() {
        let text = log().to_text();
        assert_eq!(text.lines().count(), 6);
        assert!(text.starts_with(":::MLLOG {\"namespace\": \"\", \"time_ms\": 1000, \"event_type\": \"INTERVAL_START\", \"key\": \"power_measurement_start\", \"value\": null, \"metadata\": {\"file\": \"yardstick\", \"lineno\": 0}}\n"), "{text}");
        assert!(text.contains("\"key\": \"power_reading\", \"value\": 200.0, \"metadata\": {\"file\": \"yardstick\", \"lineno\": 0, \"host\": \"node_0\"}}"), "{text}");
        // 100 W x 0.5 s + 200 W x 0.5 s + 300 W x 1 s = 450 J over the 2 s
        // window; scaled to a 4 s time-to-train: 900 J.
        let joules = node_energy_joules(text.as_bytes(), 2000.0).unwrap();
        assert!((joules - 450.0).abs() < 1e-9, "{joules}");
        let joules = node_energy_joules(text.as_bytes(), 4000.0).unwrap();
        assert!((joules - 900.0).abs() < 1e-9, "{joules}");
        // The conversion factor multiplies it.
        let eff = NodePowerLog {
            conversion_eff: 0.5,
            ..log()
        };
        let joules = node_energy_joules(eff.to_text().as_bytes(), 2000.0).unwrap();
        assert!((joules - 225.0).abs() < 1e-9, "{joules}");
    }

    #[test]
    fn readings_outside_the_measurement_do_not_count() {
        let mut outside = log();
        outside.readings.insert(0, (500, 1e6));
        outside.readings.push((4000, 1e6));
        let joules = node_energy_joules(outside.to_text().as_bytes(), 2000.0).unwrap();
        assert!((joules - 450.0).abs() < 1e-9, "{joules}");
        let no_start: String = log()
            .to_text()
            .lines()
            .filter(|l| !l.contains(POWER_MEASUREMENT_START))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(
            node_energy_joules(no_start.as_bytes(), 2000.0),
            Err(PowerLogError::NoStart)
        );
    }

    #[test]
    fn the_layout_path() {
        assert_eq!(
            node_log_path(Path::new("results/sys/bert"), "result_3", 0),
            Path::new("results/sys/bert/power/result_3/node_0.txt")
        );
    }
}

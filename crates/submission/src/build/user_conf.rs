//! `user.conf` of a result: the submitter's settings, in LoadGen's config
//! syntax. The run's own user.conf when it read one and it is still there;
//! else written from the run's settings that did not come from LoadGen's
//! defaults or mlperf.conf (flags, API calls), under LoadGen's key names
//! and units.

use std::path::PathBuf;

use yardstick_record::{RunRecord, SettingSource};

/// A TestSettings field and the config key that sets it; `scale` divides
/// the field's value into the key's unit (ns -> ms).
struct KeyMap {
    field: &'static str,
    key: &'static str,
    scale: u64,
    /// The scenario the field belongs to, where it belongs to one.
    scenario: Option<&'static str>,
}

const KEYS: &[KeyMap] = &[
    KeyMap {
        field: "min_duration_ms",
        key: "min_duration",
        scale: 1,
        scenario: None,
    },
    KeyMap {
        field: "max_duration_ms",
        key: "max_duration",
        scale: 1,
        scenario: None,
    },
    KeyMap {
        field: "min_query_count",
        key: "min_query_count",
        scale: 1,
        scenario: None,
    },
    KeyMap {
        field: "max_query_count",
        key: "max_query_count",
        scale: 1,
        scenario: None,
    },
    KeyMap {
        field: "performance_sample_count_override",
        key: "performance_sample_count_override",
        scale: 1,
        scenario: None,
    },
    KeyMap {
        field: "offline_expected_qps",
        key: "target_qps",
        scale: 1,
        scenario: Some("Offline"),
    },
    KeyMap {
        field: "server_target_qps",
        key: "target_qps",
        scale: 1,
        scenario: Some("Server"),
    },
    KeyMap {
        field: "server_target_latency_ns",
        key: "target_latency",
        scale: 1_000_000,
        scenario: Some("Server"),
    },
    KeyMap {
        field: "server_coalesce_queries",
        key: "coalesce_queries",
        scale: 1,
        scenario: Some("Server"),
    },
    KeyMap {
        field: "server_max_async_queries",
        key: "max_async_queries",
        scale: 1,
        scenario: Some("Server"),
    },
    KeyMap {
        field: "single_stream_expected_latency_ns",
        key: "target_latency",
        scale: 1_000_000,
        scenario: Some("SingleStream"),
    },
    KeyMap {
        field: "multi_stream_expected_latency_ns",
        key: "target_latency",
        scale: 1_000_000,
        scenario: Some("MultiStream"),
    },
    KeyMap {
        field: "multi_stream_samples_per_query",
        key: "samples_per_query",
        scale: 1,
        scenario: Some("MultiStream"),
    },
    KeyMap {
        field: "sample_concatenate_permutation",
        key: "sample_concatenate_permutation",
        scale: 1,
        scenario: None,
    },
];

/// The user.conf file the run read, if it recorded one that still exists.
pub fn original_user_conf(record: &RunRecord) -> Option<PathBuf> {
    record.settings.iter().find_map(|s| match &s.source {
        SettingSource::UserConf { file, .. } => {
            let p = PathBuf::from(file);
            p.is_file().then_some(p)
        }
        _ => None,
    })
}

fn value_in_unit(value: &str, scale: u64) -> Option<String> {
    if scale == 1 {
        return Some(match value {
            "true" => "1".to_string(),
            "false" => "0".to_string(),
            v => v.to_string(),
        });
    }
    let n: f64 = value.parse().ok()?;
    let scaled = n / scale as f64;
    Some(if scaled.fract() == 0.0 {
        format!("{}", scaled as u64)
    } else {
        format!("{scaled}")
    })
}

/// user.conf text for `record`'s settings, keyed `model.scenario.key`.
pub fn generated_user_conf(record: &RunRecord, model: &str, scenario: &str) -> String {
    let mut out = String::new();
    out.push_str("# user.conf written by yardstick submission build from the settings of run ");
    out.push_str(&record.id);
    out.push_str(
        "\n# (those not from LoadGen's defaults or mlperf.conf). Times in milliseconds.\n",
    );
    for setting in &record.settings {
        if matches!(
            setting.source,
            SettingSource::Default | SettingSource::MlperfConf { .. }
        ) {
            continue;
        }
        let Some(map) = KEYS.iter().find(|k| k.field == setting.key) else {
            continue;
        };
        if map.scenario.is_some_and(|s| s != scenario) {
            continue;
        }
        if let Some(value) = value_in_unit(&setting.value, map.scale) {
            out.push_str(&format!(
                "{model}.{scenario}.{} = {value}    # {}\n",
                map.key,
                setting.source.describe()
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use yardstick_record::{RunKind, SettingRecord, WorkloadInfo};

    fn setting(key: &str, value: &str, source: SettingSource) -> SettingRecord {
        SettingRecord {
            key: key.into(),
            value: value.into(),
            source,
        }
    }

    #[test]
    fn flags_become_loadgen_keys_in_loadgen_units() {
        let mut r = RunRecord::new(
            RunKind::Loadgen,
            chrono::Utc::now(),
            WorkloadInfo::default(),
        );
        r.settings = vec![
            setting(
                "min_duration_ms",
                "100",
                SettingSource::Flag {
                    name: "--duration".into(),
                },
            ),
            setting(
                "offline_expected_qps",
                "2000000",
                SettingSource::Flag {
                    name: "--target-qps".into(),
                },
            ),
            setting(
                "server_target_qps",
                "5",
                SettingSource::Flag {
                    name: "--target-qps".into(),
                },
            ),
            setting(
                "server_target_latency_ns",
                "15000000",
                SettingSource::Api { name: "x".into() },
            ),
            setting(
                "min_query_count",
                "24576",
                SettingSource::MlperfConf {
                    file: "mlperf.conf".into(),
                    line: 3,
                    key: "resnet50.Offline.min_query_count".into(),
                },
            ),
            setting("qsl_rng_seed", "1", SettingSource::Default),
        ];
        let text = generated_user_conf(&r, "resnet50", "Offline");
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines,
            vec![
                "resnet50.Offline.min_duration = 100    # flag --duration",
                "resnet50.Offline.target_qps = 2000000    # flag --target-qps",
            ]
        );
        let server = generated_user_conf(&r, "resnet50", "Server");
        assert!(
            server.contains("resnet50.Server.target_qps = 5 "),
            "{server}"
        );
        assert!(
            server.contains("resnet50.Server.target_latency = 15 "),
            "{server}"
        );
    }
}

//! Settings are resolved in LoadGen's order (mlperf.conf, user.conf, flags,
//! audit.config) and every effective value names where it came from.

use yardstick_core::settings::{
    ConfigKind, ConfigText, MlperfConfText, Override, ResolvedSettings, SettingSource,
    SettingValue, SettingsPlan, SettingsResolver, MLPERF_CONF,
};
use yardstick_core::{Mode, Scenario, TestSettings};

/// The 1-based line of `needle` in the embedded mlperf.conf.
fn mlperf_conf_line(needle: &str) -> usize {
    MLPERF_CONF
        .split('\n')
        .position(|l| l.starts_with(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("`{needle}` is not in the embedded mlperf.conf"))
}

fn source(r: &ResolvedSettings, field: &str) -> SettingSource {
    r.origin(field)
        .unwrap_or_else(|| panic!("no origin for {field}"))
        .source
        .clone()
}

fn value(r: &ResolvedSettings, field: &str) -> String {
    r.origin(field)
        .unwrap_or_else(|| panic!("no origin for {field}"))
        .value
        .clone()
}

const USER_CONF: &str = "# submitter's settings\n\
                         *.*.min_query_count = 5\n\
                         *.Offline.target_qps = 250\n\
                         *.*.min_duration = 1000\n";

fn plan() -> SettingsPlan<'static> {
    let mut p = SettingsPlan::new(
        "resnet50",
        Scenario::Offline,
        SettingSource::flag("--scenario"),
    );
    p.user_conf = Some(ConfigText {
        name: "conf/user.conf",
        text: USER_CONF,
    });
    p
}

#[test]
fn user_conf_wins_over_mlperf_conf_and_names_its_line() {
    let r = plan().resolve().expect("resolves");
    // mlperf.conf says resnet50.Offline.min_query_count = 24576.
    assert_eq!(r.settings.min_query_count, 5);
    assert_eq!(
        source(&r, "min_query_count"),
        SettingSource::UserConf {
            file: "conf/user.conf".into(),
            line: 2,
            key: "*.*.min_query_count".into()
        }
    );
    assert_eq!(value(&r, "min_query_count"), "5");
    assert_eq!(value(&r, "min_duration_ms"), "1000");
    assert_eq!(value(&r, "offline_expected_qps"), "250");
    // What user.conf leaves alone still comes from mlperf.conf, by line.
    let line = mlperf_conf_line("resnet50.*.performance_sample_count_override");
    assert_eq!(r.settings.performance_sample_count_override, 1024);
    assert_eq!(
        source(&r, "performance_sample_count_override"),
        SettingSource::MlperfConf {
            file: "mlperf.conf (embedded)".into(),
            line,
            key: "resnet50.*.performance_sample_count_override".into()
        }
    );
    assert_eq!(
        source(&r, "qsl_rng_seed"),
        SettingSource::MlperfConf {
            file: "mlperf.conf (embedded)".into(),
            line: mlperf_conf_line("*.*.qsl_rng_seed"),
            key: "*.*.qsl_rng_seed".into()
        }
    );
    assert_eq!(source(&r, "print_timestamps"), SettingSource::Default);
    assert_eq!(source(&r, "scenario"), SettingSource::flag("--scenario"));
}

#[test]
fn resolution_gives_loadgen_settings() {
    // The same values as applying the files one after the other.
    let r = plan().resolve().expect("resolves");
    let (expected, _) =
        TestSettings::from_config("conf/user.conf", USER_CONF, "resnet50", "Offline")
            .expect("applies");
    assert_eq!(r.settings, expected);
}

#[test]
fn a_flag_wins_over_user_conf() {
    let mut p = plan();
    p.overrides.push(Override::flag(
        "--target-qps",
        [
            SettingValue::ServerTargetQps(40.0),
            SettingValue::OfflineExpectedQps(40.0),
        ],
    ));
    let r = p.resolve().expect("resolves");
    assert_eq!(r.settings.offline_expected_qps, 40.0);
    assert_eq!(
        source(&r, "offline_expected_qps"),
        SettingSource::flag("--target-qps")
    );
    assert_eq!(
        source(&r, "server_target_qps"),
        SettingSource::flag("--target-qps")
    );
    assert_eq!(value(&r, "offline_expected_qps"), "40");
}

#[test]
fn audit_config_wins_over_a_flag() {
    let mut p = plan();
    p.overrides.push(Override::flag(
        "--mode",
        [SettingValue::Mode(Mode::AccuracyOnly)],
    ));
    p.overrides.push(Override::flag(
        "--min-query-count",
        [SettingValue::MinQueryCount(77)],
    ));
    p.audit_conf = Some(ConfigText {
        name: "audit.config",
        text: "# TEST-like\n*.*.mode = 2\n*.*.accuracy_log_sampling_target = 64\n",
    });
    let r = p.resolve().expect("resolves");
    assert_eq!(r.settings.mode, Mode::PerformanceOnly);
    assert_eq!(
        source(&r, "mode"),
        SettingSource::AuditConf {
            file: "audit.config".into(),
            line: 2,
            key: "*.*.mode".into()
        }
    );
    assert_eq!(value(&r, "mode"), "PerformanceOnly");
    assert_eq!(r.settings.accuracy_log_sampling_target, 64);
    // The flag audit.config does not touch keeps its source.
    assert_eq!(r.settings.min_query_count, 77);
    assert_eq!(
        source(&r, "min_query_count"),
        SettingSource::flag("--min-query-count")
    );
}

#[test]
fn audit_config_is_read_with_model_star() {
    let mut p = plan();
    p.audit_conf = Some(ConfigText {
        name: "audit.config",
        text: "resnet50.*.min_query_count = 9\n*.*.max_query_count = 11\n",
    });
    let r = p.resolve().expect("resolves");
    // LoadGen reads audit.config with model `*`: a model-specific line is
    // not for it.
    assert_eq!(r.settings.min_query_count, 5);
    assert_eq!(r.settings.max_query_count, 11);
    assert!(matches!(
        source(&r, "max_query_count"),
        SettingSource::AuditConf { line: 2, .. }
    ));
}

#[test]
fn every_non_default_field_names_a_source() {
    let mut p = SettingsPlan::new(
        "llama2-70b",
        Scenario::Server,
        SettingSource::flag("--scenario"),
    );
    p.user_conf = Some(ConfigText {
        name: "user.conf",
        text: "*.Server.target_qps = 3\n",
    });
    p.overrides.push(Override::flag(
        "--issue-threads",
        [SettingValue::ServerNumIssueQueryThreads(2)],
    ));
    let r = p.resolve().expect("resolves");
    let defaults = SettingsResolver::new().finish();
    let mut non_default = 0;
    for (o, d) in r.provenance.iter().zip(&defaults.provenance) {
        assert_eq!(o.field, d.field);
        if o.value != d.value {
            non_default += 1;
            assert_ne!(
                o.source,
                SettingSource::Default,
                "{} = {}",
                o.field,
                o.value
            );
        }
    }
    // Seeds, token latencies, counts, the user's QPS, the flag, the scenario.
    assert!(non_default >= 10, "{non_default}");
    assert_eq!(
        source(&r, "server_ttft_latency")
            .to_string()
            .split(':')
            .next(),
        Some("mlperf.conf (embedded)")
    );
}

#[test]
fn a_field_set_twice_names_the_last_layer_even_with_the_same_value() {
    let mut r = SettingsResolver::new();
    r.apply_config(
        ConfigKind::UserConf,
        "user.conf",
        "*.*.min_query_count = 7\n",
        "m",
        Scenario::Offline,
    )
    .expect("applies");
    r.set(
        SettingSource::flag("--min-query-count"),
        SettingValue::MinQueryCount(7),
    );
    let r = r.finish();
    assert_eq!(
        source(&r, "min_query_count"),
        SettingSource::flag("--min-query-count")
    );
}

#[test]
fn a_bad_audit_config_is_an_error_naming_its_line() {
    let mut p = plan();
    p.audit_conf = Some(ConfigText {
        name: "audit.config",
        text: "*.*.mode = 2\n*.*.min_duration=5\n",
    });
    let e = p.resolve().expect_err("rejected");
    assert_eq!((e.source_name.as_str(), e.line), ("audit.config", 2));
}

#[test]
fn a_combined_mlperf_conf_can_name_the_real_origin_of_its_lines() {
    let base_lines = MLPERF_CONF.split('\n').count();
    let text = format!("{MLPERF_CONF}\nresnet50.Offline.min_query_count = 33\n");
    let mut p = SettingsPlan::new(
        "resnet50",
        Scenario::Offline,
        SettingSource::api("workload w"),
    );
    p.mlperf_conf = MlperfConfText::File(ConfigText {
        name: "out/mlperf.conf",
        text: &text,
    });
    let r = p
        .resolve_labelled(|line, _| (line > base_lines).then(|| SettingSource::api("workload w")))
        .expect("resolves");
    assert_eq!(r.settings.min_query_count, 33);
    assert_eq!(
        source(&r, "min_query_count"),
        SettingSource::api("workload w")
    );
    assert!(matches!(
        source(&r, "qsl_rng_seed"),
        SettingSource::MlperfConf { ref file, .. } if file == "out/mlperf.conf"
    ));
}

#[test]
fn resolved_settings_round_trip_through_json() {
    let mut p = plan();
    p.overrides.push(Override::flag(
        "--duration",
        [SettingValue::MinDurationMs(2000)],
    ));
    let r = p.resolve().expect("resolves");
    let json = serde_json::to_string(&r).expect("serializes");
    assert!(
        json.contains(r#""source":{"kind":"flag","name":"--duration"}"#),
        "{json}"
    );
    assert!(
        json.contains(r#""kind":"user_conf","file":"conf/user.conf","line":2"#),
        "{json}"
    );
    let back: ResolvedSettings = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(back.settings, r.settings);
    assert_eq!(back.provenance, r.provenance);
}

#[test]
fn describe_lists_each_field_with_its_source() {
    let r = plan().resolve().expect("resolves");
    let text = r.describe();
    let line = text
        .lines()
        .find(|l| l.starts_with("min_query_count = 5"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.ends_with("# conf/user.conf:2 (*.*.min_query_count)"),
        "{line}"
    );
    assert_eq!(text.lines().count(), r.provenance.len());
}

//! Builds from synthetic runs: a 600 s VALID performance run and its
//! accuracy run written as LoadGen writes them (the logs generated here,
//! so the tests take no 600 s), in both rounds' layouts, and the refusals.

use std::path::{Path, PathBuf};

use chrono::Utc;
use yardstick_record::{
    AccuracyVerdict, RunKind, RunRecord, RunStatus, SettingRecord, SettingSource, SutInfo,
    Validity, ValidityCheck, Verdict, WorkloadInfo,
};

use super::*;

const SUMMARY_VALID: &str = "================================================\n\
MLPerf Results Summary\n\
================================================\n\
SUT name : SyntheticSUT\n\
Scenario : Offline\n\
Mode     : PerformanceOnly\n\
Samples per second: 25000.5\n\
Result is : VALID\n\
  Min duration satisfied : Yes\n\
  Min queries satisfied : Yes\n\
  Early stopping satisfied: Yes\n";

fn mllog(key: &str, value: &str) -> String {
    format!(
        ":::MLLOG {{\"key\": \"{key}\", \"value\": {value}, \"time_ms\": 0.5, \"namespace\": \"mlperf::logging\", \"event_type\": \"POINT_IN_TIME\", \"metadata\": {{\"is_error\": false, \"is_warning\": false, \"file\": \"synthetic\", \"line_no\": 1, \"pid\": 1, \"tid\": 1}}}}\n"
    )
}

fn detail(mode: &str) -> String {
    [
        mllog("loadgen_version", "\"6.0.17 @ yardstick-0.1.0\""),
        mllog("effective_scenario", "\"Offline\""),
        mllog("effective_test_mode", &format!("\"{mode}\"")),
        mllog("effective_min_duration_ms", "600000"),
        mllog("effective_min_query_count", "24576"),
        mllog("effective_qsl_rng_seed", "2085463073848966840"),
        mllog("effective_sample_index_rng_seed", "2747215439041700203"),
        mllog("effective_schedule_rng_seed", "16159082839903944936"),
        mllog("effective_performance_sample_count", "1024"),
        mllog("effective_samples_per_query", "25000"),
        mllog("qsl_reported_total_count", "50000"),
        mllog("result_validity", "\"VALID\""),
        mllog("result_samples_per_second", "25000.5"),
    ]
    .concat()
}

fn record(mode: &str, verdict: Verdict) -> RunRecord {
    let mut r = RunRecord::new(
        RunKind::Loadgen,
        Utc::now(),
        WorkloadInfo {
            name: "synthetic".into(),
            scenario: Some("Offline".into()),
            mode: Some(mode.into()),
            model: Some("resnet50".into()),
            sut: SutInfo {
                name: "SyntheticSUT".into(),
                kind: "null".into(),
                params: Default::default(),
            },
        },
    );
    r.id = format!("synthetic-{mode}");
    r.status = RunStatus::Completed;
    r.command_line = vec![
        "target/debug/yardstick".into(),
        "run".into(),
        "--mode".into(),
        mode.into(),
    ];
    r.validity = Validity {
        verdict,
        checks: vec![ValidityCheck {
            name: "min_duration".into(),
            passed: verdict == Verdict::Valid,
            detail: "600.0 s >= 600.0 s required".into(),
        }],
    };
    r.settings = vec![SettingRecord {
        key: "offline_expected_qps".into(),
        value: "25000".into(),
        source: SettingSource::Flag {
            name: "--target-qps".into(),
        },
    }];
    r
}

/// A performance run folder and an accuracy run folder under `dir`.
fn synthetic_runs(dir: &Path, accuracy_log: &[u8]) -> Vec<RunInput> {
    let perf = dir.join("perf");
    let acc = dir.join("acc");
    for d in [&perf, &acc] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(perf.join("mlperf_log_summary.txt"), SUMMARY_VALID).unwrap();
    std::fs::write(
        perf.join("mlperf_log_detail.txt"),
        detail("PerformanceOnly"),
    )
    .unwrap();
    std::fs::write(perf.join("mlperf_log_accuracy.json"), "[\n]\n").unwrap();
    std::fs::write(
        acc.join("mlperf_log_summary.txt"),
        "No warnings encountered during test.\n",
    )
    .unwrap();
    std::fs::write(acc.join("mlperf_log_detail.txt"), detail("AccuracyOnly")).unwrap();
    std::fs::write(acc.join("mlperf_log_accuracy.json"), accuracy_log).unwrap();
    std::fs::write(
        acc.join("accuracy.txt"),
        "accuracy=76.500%, good=38250, total=50000\n",
    )
    .unwrap();
    let mut acc_record = record("AccuracyOnly", Verdict::NotApplicable);
    acc_record.accuracy = Some(AccuracyVerdict {
        metric: "acc".into(),
        value: 76.5,
        target: Some(75.6954),
        passed: Some(true),
        detail: String::new(),
    });
    vec![
        RunInput {
            record: record("PerformanceOnly", Verdict::Valid),
            dir: perf,
        },
        RunInput {
            record: acc_record,
            dir: acc,
        },
    ]
}

fn big_accuracy_log() -> Vec<u8> {
    let mut s = String::from("[\n");
    for i in 0..2000 {
        s.push_str(&format!(
            "{{ \"seq_id\" : {i}, \"qsl_idx\" : {i}, \"data\" : \"{:08X}\" }},\n",
            i
        ));
    }
    s.push_str("{ \"seq_id\" : 2000, \"qsl_idx\" : 0, \"data\" : \"00000000\" }\n]\n");
    s.into_bytes()
}

fn full_config() -> SubmissionConfig {
    let mut c = SubmissionConfig {
        submitter: Some("Acme".into()),
        division: Some("closed".into()),
        system: Some("acme_box".into()),
        ..Default::default()
    };
    for f in MEANINGFUL_FIELDS {
        c.set(&ConfigKey::SystemField(f.to_string()), "N/A");
    }
    c.set(&ConfigKey::SystemField("status".into()), "available");
    c.set(&ConfigKey::SystemField("system_type".into()), "edge");
    c.set(&ConfigKey::SystemField("number_of_nodes".into()), "1");
    for (f, _) in MEASUREMENT_FIELDS {
        c.set(
            &ConfigKey::Measurement {
                benchmark: "resnet50".into(),
                field: f.to_string(),
            },
            "int8",
        );
    }
    c
}

fn options(out: &Path, round: &str) -> BuildOptions {
    BuildOptions {
        output: out.to_path_buf(),
        round: Round::builtin(round).unwrap(),
        benchmark: None,
        allow_invalid: false,
        force: false,
    }
}

fn read(p: PathBuf) -> String {
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn a_valid_length_run_builds_a_v6_tree() {
    let dir = tempfile::tempdir().unwrap();
    let log = big_accuracy_log();
    let runs = synthetic_runs(dir.path(), &log);
    // A compliance output as `yardstick audit` leaves it.
    let audit = dir.path().join("audit/TEST04/performance/run_1");
    std::fs::create_dir_all(&audit).unwrap();
    std::fs::write(
        audit.join("mlperf_log_detail.txt"),
        detail("PerformanceOnly"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("audit/TEST04/verify_performance.txt"),
        "TEST PASS\n",
    )
    .unwrap();
    let out = dir.path().join("tree");
    let report = build(
        &runs,
        &[ComplianceInput::parse(
            &dir.path().join("audit").to_string_lossy(),
        )],
        &full_config(),
        Path::new("submission.toml"),
        &options(&out, "v6.0"),
    )
    .unwrap();

    let root = out.join("closed/Acme");
    let result = root.join("results/acme_box/resnet50/Offline");
    assert_eq!(report.submitter_dir, root);
    assert_eq!(report.results.len(), 1);
    assert_eq!(
        report.results[0].performance_run,
        "synthetic-PerformanceOnly"
    );
    assert_eq!(report.results[0].accuracy_run, "synthetic-AccuracyOnly");
    assert_eq!(report.results[0].compliance, vec!["TEST04".to_string()]);
    // The logs, verbatim.
    assert_eq!(
        read(result.join("performance/run_1/mlperf_log_summary.txt")),
        SUMMARY_VALID
    );
    assert_eq!(
        read(result.join("performance/run_1/mlperf_log_detail.txt")),
        detail("PerformanceOnly")
    );
    assert_eq!(
        read(result.join("accuracy/mlperf_log_detail.txt")),
        detail("AccuracyOnly")
    );
    // accuracy.txt carries the full log's sha256; the log is truncated.
    let full = dir.path().join("acc/mlperf_log_accuracy.json");
    let hash = accuracy_log::sha256_file(&full).unwrap();
    assert_eq!(
        read(result.join("accuracy/accuracy.txt")),
        format!("accuracy=76.500%, good=38250, total=50000\n\nhash={hash}\n")
    );
    let kept = std::fs::read(result.join("accuracy/mlperf_log_accuracy.json")).unwrap();
    assert_eq!(kept, accuracy_log::truncated(&log));
    assert!((kept.len() as u64) < accuracy_log::MAX_ACCURACY_LOG_BYTES);
    assert!(log.len() > 40_000);
    // Compliance beside the logs (v6.0).
    assert_eq!(
        read(result.join("TEST04/verify_performance.txt")),
        "TEST PASS\n"
    );
    assert!(result
        .join("TEST04/performance/run_1/mlperf_log_detail.txt")
        .is_file());
    // Measurements, user.conf, README.
    let m: serde_json::Value =
        serde_json::from_str(&read(result.join("measurements.json"))).unwrap();
    for (f, _) in MEASUREMENT_FIELDS {
        assert_eq!(m[*f], "int8", "{f}");
    }
    assert!(read(result.join("user.conf")).contains("resnet50.Offline.target_qps = 25000"));
    let readme = read(result.join("README.md"));
    assert!(
        readme.contains("synthetic-PerformanceOnly") && readme.contains("verdict VALID"),
        "{readme}"
    );
    assert!(
        readme.contains("yardstick run --mode PerformanceOnly"),
        "{readme}"
    );
    assert!(read(root.join("src/resnet50/README.md")).contains("yardstick submission build"));
    // The systems JSON: every field the checker requires, submitter and division as the folders.
    let system: serde_json::Value =
        serde_json::from_str(&read(root.join("systems/acme_box.json"))).unwrap();
    for f in yardstick_sysinfo::MLPERF_REQUIRED_FIELDS {
        assert!(system.get(*f).is_some(), "{f} missing");
    }
    assert_eq!(system["submitter"], "Acme");
    assert_eq!(system["division"], "closed");
    assert_eq!(system["system_type"], "edge");
    assert_eq!(system["number_of_nodes"], 1);
    assert!(report
        .notes
        .iter()
        .any(|n| n.contains("no system description")));

    // Again: refused without --force, replaced with it.
    let again = build(
        &runs,
        &[],
        &full_config(),
        Path::new("s.toml"),
        &options(&out, "v6.0"),
    );
    assert!(matches!(again, Err(BuildError::Exists { .. })), "{again:?}");
    let mut force = options(&out, "v6.0");
    force.force = true;
    build(&runs, &[], &full_config(), Path::new("s.toml"), &force).unwrap();
    assert!(!result.join("TEST04").exists());
}

#[test]
fn the_v5_1_layout_puts_measurements_and_code_beside_results() {
    let dir = tempfile::tempdir().unwrap();
    let runs = synthetic_runs(dir.path(), b"[\n]\n");
    let out = dir.path().join("tree");
    build(
        &runs,
        &[],
        &full_config(),
        Path::new("s.toml"),
        &options(&out, "v5.1"),
    )
    .unwrap();
    let root = out.join("closed/Acme");
    let measurements = root.join("measurements/acme_box/resnet50/Offline");
    assert!(measurements.join("acme_box_Offline.json").is_file());
    assert!(measurements.join("user.conf").is_file());
    assert!(measurements.join("README.md").is_file());
    assert!(root.join("code/resnet50/README.md").is_file());
    let result = root.join("results/acme_box/resnet50/Offline");
    assert!(!result.join("measurements.json").exists());
    // A small log stays whole.
    assert_eq!(
        read(result.join("accuracy/mlperf_log_accuracy.json")),
        "[\n]\n"
    );
}

#[test]
fn what_cannot_be_known_is_named_with_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let runs = synthetic_runs(dir.path(), b"[]");
    let mut config = full_config();
    config.division = None;
    config.measurements.clear();
    let err = build(
        &runs,
        &[],
        &config,
        Path::new("/x/submission.toml"),
        &options(dir.path(), "v6.0"),
    )
    .unwrap_err();
    let BuildError::Missing { keys, file } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(file, Path::new("/x/submission.toml"));
    let paths: Vec<String> = keys.iter().map(|k| k.key.path()).collect();
    assert_eq!(paths[0], "division");
    assert!(
        paths.contains(&"measurements.resnet50.retraining".to_string()),
        "{paths:?}"
    );
    assert!(err.to_string().contains("/x/submission.toml"));
    assert!(!dir.path().join("closed").exists(), "nothing written");
}

#[test]
fn an_invalid_run_an_unpaired_run_and_a_wrong_hash_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut runs = synthetic_runs(dir.path(), b"[]");
    let out = dir.path().join("tree");
    let config = full_config();

    runs[0].record.validity.verdict = Verdict::Invalid;
    runs[0].record.validity.checks[0].passed = false;
    let err = build(&runs, &[], &config, Path::new("s"), &options(&out, "v6.0")).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("INVALID") && text.contains("600.0 s"),
        "{text}"
    );
    let mut allow = options(&out, "v6.0");
    allow.allow_invalid = true;
    build(&runs, &[], &config, Path::new("s"), &allow).unwrap();
    runs[0].record.validity.verdict = Verdict::Valid;

    let err = build(
        &runs[..1],
        &[],
        &config,
        Path::new("s"),
        &options(&out, "v6.0"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("no accuracy run"), "{err}");

    std::fs::write(
        runs[1].dir.join("accuracy.txt"),
        "accuracy=1%\nhash=deadbeef\n",
    )
    .unwrap();
    let mut force = options(&out, "v6.0");
    force.force = true;
    let err = build(&runs, &[], &config, Path::new("s"), &force).unwrap_err();
    assert!(
        matches!(err, BuildError::HashMismatch { ref recorded, .. } if recorded == "deadbeef"),
        "{err:?}"
    );

    let mut bad = config.clone();
    bad.set(&ConfigKey::SystemField("status".into()), "soon");
    let err = build(&runs, &[], &bad, Path::new("s"), &force).unwrap_err();
    assert!(err.to_string().contains("status = \"soon\""), "{err}");
}

/// The tree `build` writes from a 600 s VALID run passes `yardstick
/// check` (the library behind it) except for rules no build can meet
/// from these runs, each named: `tree.calibration` (the closed division's
/// calibration.md, written by the submitter), `tree.required-scenarios`
/// (only Offline was run), `comp.missing-test` (no audit given) and
/// `perf.seed` (LoadGen 6.0.17's mlperf.conf seeds are not the v6.0
/// checker table's). Every other rule (layout, accuracy.txt and its hash,
/// the truncated log, measurements, systems JSON, durations, counts)
/// passes.
#[test]
fn a_built_tree_passes_check_but_for_what_the_runs_cannot_give() {
    let dir = tempfile::tempdir().unwrap();
    let runs = synthetic_runs(dir.path(), &big_accuracy_log());
    let out = dir.path().join("tree");
    build(
        &runs,
        &[],
        &full_config(),
        Path::new("s"),
        &options(&out, "v6.0"),
    )
    .unwrap();
    let options = crate::check::CheckOptions {
        round: Some("v6.0".into()),
        ..Default::default()
    };
    let report = crate::check::check_tree(&out, &options).unwrap();
    let mut rules: Vec<&str> = report.errors().map(|f| f.rule).collect();
    rules.sort_unstable();
    rules.dedup();
    let all: Vec<String> = report
        .errors()
        .map(|f| format!("{} [{}] {}", f.rule, f.file, f.reason))
        .collect();
    assert_eq!(
        rules,
        vec![
            "comp.missing-test",
            "perf.seed",
            "tree.calibration",
            "tree.required-scenarios"
        ],
        "{all:#?}"
    );
}

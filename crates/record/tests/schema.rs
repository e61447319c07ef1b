//! The JSON Schema of run.json is generated from the types and checked in
//! (docs/run-record.schema.json) so other tools can read the format; this
//! test fails when the types change without the file. Regenerate with
//! `YARDSTICK_BLESS=1 cargo test -p yardstick-record --test schema`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use yardstick_record::*;

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/run-record.schema.json")
}

#[test]
fn checked_in_schema_matches_the_types() {
    let generated = serde_json::to_string_pretty(&json_schema()).unwrap() + "\n";
    let path = schema_path();
    if std::env::var_os("YARDSTICK_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (bless it: YARDSTICK_BLESS=1)", path.display()));
    assert_eq!(
        checked_in, generated,
        "docs/run-record.schema.json is stale: regenerate with YARDSTICK_BLESS=1"
    );
    let schema: serde_json::Value = serde_json::from_str(&checked_in).unwrap();
    let required = schema["required"].as_array().unwrap();
    for field in [
        "schema_version",
        "id",
        "kind",
        "status",
        "started_at",
        "validity",
    ] {
        assert!(required.iter().any(|r| r == field), "{field} not required");
    }
}

fn sample() -> RunRecord {
    let t = chrono::DateTime::parse_from_rfc3339("2026-12-06T03:27:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let mut r = RunRecord::new(
        RunKind::Loadgen,
        t,
        WorkloadInfo {
            name: "sleep".into(),
            scenario: Some("Server".into()),
            mode: Some("PerformanceOnly".into()),
            model: Some("resnet50".into()),
            sut: SutInfo {
                name: "SleepSUT".into(),
                kind: "sleep".into(),
                params: BTreeMap::from([("workers".into(), "4".into())]),
            },
        },
    );
    r.status = RunStatus::Completed;
    r.settings.push(SettingRecord {
        key: "target_qps".into(),
        value: "2000".into(),
        source: SettingSource::UserConf {
            file: "user.conf".into(),
            line: 3,
            key: "resnet50.Server.target_qps".into(),
        },
    });
    r.metrics.push(Metric::new(
        "completed_samples_per_second",
        1999.5,
        "samples/s",
        Better::Higher,
    ));
    r.validity = Validity {
        verdict: Verdict::Valid,
        checks: vec![ValidityCheck {
            name: "min_duration".into(),
            passed: true,
            detail: "10,012 ms >= 10,000 ms".into(),
        }],
    };
    let lat: Vec<u64> = (1..=1000).map(|i| i * 1000).collect();
    r.latencies.insert(
        "query".into(),
        LatencyDistribution::from_values("ns", &lat, &STANDARD_PERCENTS),
    );
    r.timeline = Some(RateTimeline::from_offsets(
        &[0, 5_000_000],
        &[1_000_000, 9_000_000],
        10,
    ));
    r.add_file("summary", "out/mlperf_log_summary.txt");
    r
}

#[test]
fn a_record_round_trips_through_run_json() {
    let dir = tempfile::tempdir().unwrap();
    let r = sample();
    let path = write_record(dir.path(), &r).unwrap();
    assert_eq!(path.file_name().unwrap(), RUN_JSON);
    let back = read_record(dir.path()).unwrap();
    assert_eq!(back, r);
    let q = &back.latencies["query"];
    assert_eq!(q.percentile(50.0), Some(500_000));
    assert_eq!(q.percentile(99.0), Some(990_000));
    assert_eq!(q.count, 1000);
    assert_eq!(
        back.settings[0].source.describe(),
        "user.conf:3 (resnet50.Server.target_qps)"
    );
}

#[test]
fn a_newer_schema_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = serde_json::to_value(sample()).unwrap();
    v["schema_version"] = serde_json::json!(SCHEMA_VERSION + 1);
    v["some_new_field"] = serde_json::json!(1);
    let path = dir.path().join(RUN_JSON);
    std::fs::write(&path, v.to_string()).unwrap();
    let err = read_record(&path).unwrap_err().to_string();
    assert!(err.contains("newer yardstick"), "{err}");
    assert!(
        err.contains(&format!("schema {}", SCHEMA_VERSION + 1)),
        "{err}"
    );
}

#[test]
fn garbage_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(RUN_JSON);
    std::fs::write(&path, "{\"schema_version\": 1, \"id\": 3").unwrap();
    let err = read_record(&path).unwrap_err();
    assert!(err.to_string().contains("run.json"), "{err}");
}

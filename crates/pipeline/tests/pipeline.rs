//! The pipeline end to end on the built-in SUTs: logs and run.json
//! written, the record's numbers equal to the core's outcome, provenance
//! carried, observers told before and after.

use std::sync::Mutex;
use std::time::Duration;

use yardstick_core::settings::{Override, SettingSource, SettingValue, SettingsPlan};
use yardstick_core::Scenario;
use yardstick_pipeline::record::{
    read_record, RunKind, RunRecord, RunStatus, SutInfo, Verdict, WorkloadInfo,
};
use yardstick_pipeline::{execute, RunObserver, RunSpec};
use yardstick_suts::{NullSut, ServiceTime, SleepSut, SyntheticLibrary};

#[derive(Default)]
struct Seen(Mutex<Vec<(String, RunStatus)>>);

impl RunObserver for Seen {
    fn run_started(&self, r: &RunRecord) {
        self.0.lock().unwrap().push(("started".into(), r.status));
    }
    fn run_finished(&self, r: &RunRecord) {
        self.0.lock().unwrap().push(("finished".into(), r.status));
    }
}

fn workload() -> WorkloadInfo {
    WorkloadInfo {
        name: "sleep".into(),
        sut: SutInfo {
            kind: "sleep".into(),
            ..SutInfo::default()
        },
        ..WorkloadInfo::default()
    }
}

#[test]
fn a_server_run_ends_in_a_record_equal_to_its_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let mut plan = SettingsPlan::new(
        "resnet50",
        Scenario::Server,
        SettingSource::flag("--scenario"),
    );
    plan.overrides.push(Override::flag(
        "--target-qps",
        [SettingValue::ServerTargetQps(2000.0)],
    ));
    plan.overrides.push(Override::flag(
        "--duration",
        [
            SettingValue::MinDurationMs(300),
            SettingValue::MinQueryCount(100),
        ],
    ));
    let resolved = plan.resolve().unwrap();
    let spec = RunSpec::new(RunKind::Loadgen, resolved, dir.path(), workload());
    let sut = SleepSut::new(ServiceTime::Fixed(Duration::from_micros(200)), 4, 1).unwrap();
    let qsl = SyntheticLibrary::new("q", 1000, 100);
    let seen = Seen::default();
    let mut run = execute(&spec, &sut, &qsl, &[&seen]).unwrap();
    let path = run.save(&[&seen]).unwrap().unwrap();
    assert_eq!(
        *seen.0.lock().unwrap(),
        vec![
            ("started".to_string(), RunStatus::Running),
            ("finished".to_string(), RunStatus::Completed)
        ]
    );
    let rec = read_record(&path).unwrap();
    let s = run.outcome.result().unwrap();
    assert_eq!(rec.status, RunStatus::Completed);
    assert_eq!(rec.workload.scenario.as_deref(), Some("Server"));
    assert_eq!(
        rec.validity.verdict == Verdict::Valid,
        run.outcome.is_valid()
    );
    let primary = rec.primary_metric().unwrap();
    assert_eq!(primary.name, "completed_samples_per_second");
    assert_eq!(primary.value, s.completed_samples_per_sec);
    let sample = &rec.latencies["sample"];
    assert_eq!(sample.count, s.sample_count);
    // The record's p99 is LoadGen's p99 (the same sorted vector, rank rule).
    let lg_p99 = s
        .latency_percentiles
        .iter()
        .find(|e| e.percentile == 0.99)
        .unwrap()
        .sample_latency as u64;
    assert_eq!(sample.percentile(99.0), Some(lg_p99));
    assert_eq!(sample.histogram.len(), s.sample_count);
    // Provenance: the flag that set the rate.
    let qps = rec
        .settings
        .iter()
        .find(|x| x.key == "server_target_qps")
        .unwrap();
    assert_eq!(qps.source.describe(), "flag --target-qps");
    // The timeline counts every completed sample once.
    let t = rec.timeline.as_ref().unwrap();
    assert_eq!(t.completed.iter().sum::<u64>(), s.sample_count);
    assert!(t.issued.iter().sum::<u64>() >= s.sample_count);
    for role in ["summary", "detail", "accuracy_log", "run_json"] {
        let f = rec.file(role).unwrap_or_else(|| panic!("no {role} file"));
        assert!(f.exists(), "{role}: {}", f.display());
    }
    let names: Vec<_> = rec
        .validity
        .checks
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    for n in [
        "min_duration",
        "min_queries",
        "latency_constraint",
        "early_stopping",
        "sut_faults",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
}

#[test]
fn an_offline_run_that_is_too_short_is_invalid_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut plan = SettingsPlan::new(
        "resnet50",
        Scenario::Offline,
        SettingSource::flag("--scenario"),
    );
    plan.overrides.push(Override::flag(
        "--target-qps",
        [SettingValue::OfflineExpectedQps(10.0)],
    ));
    let resolved = plan.resolve().unwrap();
    let spec = RunSpec::new(RunKind::Loadgen, resolved, dir.path(), workload());
    let mut run = execute(
        &spec,
        &NullSut::new(),
        &SyntheticLibrary::new("q", 100, 10),
        &[],
    )
    .unwrap();
    run.save(&[]).unwrap();
    let rec = read_record(dir.path()).unwrap();
    assert_eq!(rec.validity.verdict, Verdict::Invalid);
    let d = rec
        .validity
        .checks
        .iter()
        .find(|c| c.name == "min_duration")
        .unwrap();
    assert!(!d.passed);
    assert!(!d.detail.is_empty());
    assert_eq!(rec.primary_metric().unwrap().name, "samples_per_second");
}

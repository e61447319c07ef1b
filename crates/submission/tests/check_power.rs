//! `check` on a result with power: the published v5.1 tree's Offline
//! result measured again through a power session (yardstick-power's
//! director client against its simulated director and PTDaemon, the
//! layout power-dev leaves: performance/power, ranging, run_1), so the
//! Power WG's rules run on real folders; then a broken spl.txt.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use yardstick_power::ptd::sim::{SimDirector, SimDirectorConfig, SimPtdConfig};
use yardstick_power::ptd::{
    format_ptd_time, run_director_session, Mode, WorkloadError, WorkloadRun,
};
use yardstick_submission::check::{check_tree, CheckOptions, CheckReport, Severity};

const RESULT: &str = "closed/Lenovo/results/SE100_RTX2000E_Ada_16GBx1_TRT/resnet50/Offline";
const MEASUREMENTS: &str =
    "closed/Lenovo/measurements/SE100_RTX2000E_Ada_16GBx1_TRT/resnet50/Offline";

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn power_event(key: &str, at: SystemTime) -> String {
    format!(
        ":::MLLOG {{\"key\": \"{key}\", \"value\": \"{}\", \"time_ms\": 0.0, \"namespace\": \"mlperf::logging\", \"event_type\": \"POINT_IN_TIME\", \"metadata\": {{\"is_error\": false, \"is_warning\": false, \"file\": \"loadgen.cc\", \"line_no\": 1, \"pid\": 1, \"tid\": 1}}}}\n",
        format_ptd_time(at)
    )
}

/// The published run's logs, as LoadGen would have written them with a
/// power window of 200 ms now.
fn replay_run(published: &Path, work: &Path, mode: Mode) -> Result<WorkloadRun<()>, WorkloadError> {
    let logs = work.join(format!("loadgen_{}", mode.name()));
    std::fs::create_dir_all(&logs)?;
    std::thread::sleep(Duration::from_millis(30));
    let begin = SystemTime::now();
    std::thread::sleep(Duration::from_millis(200));
    let end = SystemTime::now();
    // LoadGen logs the power window at the end of the run: the published
    // run's marks are replaced by this one's.
    let detail: String = std::fs::read_to_string(published.join("mlperf_log_detail.txt"))?
        .lines()
        .map(|line| {
            if line.contains(r#""key": "power_begin""#) {
                power_event("power_begin", begin)
            } else if line.contains(r#""key": "power_end""#) {
                power_event("power_end", end)
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    assert!(
        detail.contains(&format_ptd_time(begin)),
        "no power_begin to replace"
    );
    std::fs::write(logs.join("mlperf_log_detail.txt"), detail)?;
    std::fs::copy(
        published.join("mlperf_log_summary.txt"),
        logs.join("mlperf_log_summary.txt"),
    )?;
    std::thread::sleep(Duration::from_millis(30));
    Ok(WorkloadRun {
        loadgen_logs: logs,
        result: (),
    })
}

/// The valid tree with its Offline result's performance/ replaced by a
/// power session's folders, and the measurements' power files.
fn tree_with_power(scratch: &Path) -> PathBuf {
    let tree = scratch.join("tree");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/check/valid"),
        &tree,
    );
    let performance = tree.join(RESULT).join("performance");
    let published = scratch.join("published_run_1");
    copy_tree(&performance.join("run_1"), &published);
    std::fs::remove_dir_all(performance.join("run_1")).unwrap();

    let mut config = SimDirectorConfig::new(scratch.join("director"));
    config.ptd = SimPtdConfig {
        seed: 11,
        sample_period: Some(Duration::from_millis(10)),
        ..SimPtdConfig::default()
    };
    config.settle = Duration::from_millis(20);
    let director = SimDirector::start("127.0.0.1:0", config).unwrap();
    let outcome = run_director_session(
        &director.addr().to_string(),
        "check-power",
        &scratch.join("client"),
        |mode| replay_run(&published, scratch, mode),
    );
    let session = outcome.power.expect("the power session succeeds").root;
    for folder in ["power", "ranging", "run_1"] {
        copy_tree(&session.join(folder), &performance.join(folder));
    }
    // PTDaemon's own output stays out of the tree, as in published power
    // results (the official file lists have no place for it).
    for folder in ["ranging", "run_1"] {
        let _ = std::fs::remove_file(performance.join(folder).join("ptd_out.txt"));
    }
    let measurements = tree.join(MEASUREMENTS);
    std::fs::write(
        measurements.join("analyzer_table.md"),
        "| Yokogawa WT310E | simulated |\n",
    )
    .unwrap();
    std::fs::write(
        measurements.join("power_settings.md"),
        "Default BIOS power settings.\n",
    )
    .unwrap();
    tree
}

fn error_rules(report: &CheckReport) -> Vec<&str> {
    let mut rules: Vec<&str> = report.errors().map(|f| f.rule).collect();
    rules.sort_unstable();
    rules.dedup();
    rules
}

#[test]
fn a_simulated_power_session_passes_and_a_broken_spl_fails_its_rule() {
    let scratch = tempfile::tempdir().unwrap();
    let tree = tree_with_power(scratch.path());
    let report = check_tree(&tree, &CheckOptions::default()).unwrap();
    let problems: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error || f.rule.starts_with("power."))
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
    let offline = report
        .results
        .iter()
        .find(|r| r.scenario == "Offline")
        .unwrap();
    assert!(offline.valid && offline.has_power, "{offline:?}");
    // The simulated meter reads watts around its set point: Offline's
    // power metric is their average over LoadGen's window.
    let watts = offline.power_metric.expect("a power metric");
    assert!(watts > 1.0 && watts < 10_000.0, "{watts}");
    assert_eq!(offline.power_units.as_deref(), Some("Watts"));
    // The summary has the official power row: the Offline result again,
    // the average watts as its Result, "Watts" as its Units.
    let csv = report.summary_csv();
    let offline_rows: Vec<&str> = csv.lines().filter(|l| l.contains(",Offline,")).collect();
    assert_eq!(offline_rows.len(), 2, "{csv}");
    assert!(offline_rows[0].contains(",True,"), "{csv}");
    assert!(offline_rows[1].ends_with(",True,Watts,\"int8\""), "{csv}");

    // One reading of the testing spl.txt altered: the files no longer have
    // the SHA-1s the client and the server recorded.
    let spl = tree.join(RESULT).join("performance/run_1/spl.txt");
    let text = std::fs::read_to_string(&spl).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("Time,"))
        .expect("a reading");
    let fields: Vec<&str> = line.split(',').collect();
    let watts: f64 = fields[3].parse().unwrap();
    let mut altered = fields.clone();
    let raised = format!("{:.6}", watts + 0.5);
    altered[3] = &raised;
    std::fs::write(&spl, text.replacen(line, &altered.join(","), 1)).unwrap();
    let report = check_tree(&tree, &CheckOptions::default()).unwrap();
    let errors = error_rules(&report);
    assert!(
        errors.contains(&"power.results-checksum"),
        "{:#?}",
        report.findings
    );
    // Only the power rules (and the scenario it strikes) say so.
    assert!(
        errors
            .iter()
            .all(|r| r.starts_with("power.") || *r == "tree.required-scenarios"),
        "{errors:?}"
    );
    let finding = report
        .errors()
        .find(|f| f.rule == "power.results-checksum")
        .unwrap();
    assert!(
        finding.reason.starts_with("Check results checksum: ")
            && finding.reason.contains("run_1/spl.txt"),
        "{finding:?}"
    );
    assert!(!report
        .results
        .iter()
        .any(|r| r.scenario == "Offline" && r.valid));
}

//! `yardstick submission build` end to end: real runs of the built-in null
//! and sleep SUTs (short settings, so the test takes seconds: min_duration 50 ms, the
//! rest as mlperf.conf has it), their accuracy logs scored by `yardstick
//! accuracy`, then the tree, checked file by file against what the official
//! submission checker (mlcommons/inference tools/submission, v6.0) reads.
//! The 600 s rules are the only ones such runs cannot meet; a VALID-length
//! run is built from synthetic logs in yardstick-submission's own tests.

mod common;

use std::path::{Path, PathBuf};

use common::{bin, read_json, stderr, stdout, target_scratch, text};

fn ys(dir: &Path, args: &[&str]) -> std::process::Output {
    bin()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let o = ys(dir, args);
    assert!(o.status.success(), "yardstick {args:?}: {}", text(&o));
    stdout(&o)
}

/// The run id a run command printed (`results store : run ID in ...`).
fn stored_id(out: &str) -> String {
    out.lines()
        .find_map(|l| {
            l.split("results store")
                .nth(1)?
                .split("run ")
                .nth(1)?
                .split_whitespace()
                .next()
        })
        .unwrap_or_else(|| panic!("no stored run id in {out}"))
        .to_string()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A performance run (`perf_flags` name the SUT), an accuracy run of the
/// null SUT and its score for `scenario`;
/// returns (performance run id, accuracy run id).
fn runs_for(dir: &Path, scenario: &str, perf_flags: &[&str]) -> (String, String) {
    let perf_dir = format!("perf-{scenario}");
    let acc_dir = format!("acc-{scenario}");
    let mut args = vec![
        "run",
        "--scenario",
        scenario,
        "--mode",
        "performance",
        "--duration",
        "50ms",
        "-o",
        &perf_dir,
    ];
    args.extend_from_slice(perf_flags);
    let perf = ok(dir, &args);
    assert!(
        perf.contains("VALID") && !perf.contains("INVALID"),
        "{perf}"
    );
    let acc = ok(
        dir,
        &[
            "run",
            "--sut",
            "null",
            "--scenario",
            scenario,
            "--mode",
            "accuracy",
            "-o",
            &acc_dir,
        ],
    );
    // The null SUT answers each sample with its index: labels 0..N score 100%.
    let log = format!("{acc_dir}/mlperf_log_accuracy.json");
    ok(
        dir,
        &[
            "accuracy",
            "--log",
            &log,
            "--ground-truth",
            "labels.txt",
            "--metric",
            "top1",
            "--dtype",
            "int32",
            "--benchmark",
            "resnet50",
        ],
    );
    (stored_id(&perf), stored_id(&acc))
}

const CONFIG: &str = r#"
submitter = "Acme"
division = "closed"
system = "acme_null-yardstick"

[system_json]
system_name = "Acme null SUT (yardstick)"
status = "available"
system_type = "edge"
host_memory_configuration = "undisclosed"
host_networking_topology = "N/A"
accelerators_per_node = "0"
accelerator_model_name = "N/A"
accelerator_memory_capacity = "N/A"
accelerator_host_interconnect = "N/A"
accelerator_memory_configuration = "N/A"
accelerator_interconnect = "N/A"
cooling = "air"
framework = "yardstick null SUT"
other_software_stack = "yardstick"
host_networking = "N/A"
host_network_card_count = "0"
host_storage_type = "N/A"
host_storage_capacity = "N/A"
host_processor_model_name = "probed"

[measurements.resnet50]
input_data_types = "int32"
retraining = "no"
starting_weights_filename = "none: the null SUT answers with the sample index"
weight_data_types = "none"
weight_transformations = "none"
"#;

#[test]
fn runs_become_a_tree_the_official_checker_reads() {
    let dir = target_scratch("submission_build", "e2e");
    let labels: String = (0..50_000).map(|i| format!("{i}\n")).collect();
    std::fs::write(dir.join("labels.txt"), labels).unwrap();
    let (offline_perf, offline_acc) = runs_for(
        &dir,
        "Offline",
        &["--sut", "null", "--target-qps", "20000000"],
    );
    // The null SUT answers SingleStream queries faster than LoadGen plans
    // them; the sleep SUT's 100 us keeps the run VALID.
    runs_for(
        &dir,
        "SingleStream",
        &[
            "--sut",
            "sleep",
            "--service-time",
            "100us",
            "--expected-latency",
            "100us",
        ],
    );

    // Nothing known yet: without a terminal, the error names every key and the file.
    let o = ys(
        &dir,
        &[
            "submission",
            "build",
            &offline_perf,
            &offline_acc,
            "perf-SingleStream",
            "acc-SingleStream",
            "-o",
            "tree",
            "--no-input",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = stderr(&o);
    for key in [
        "submitter",
        "division",
        "system_json.system_name",
        "system_json.cooling",
        "measurements.resnet50.retraining",
    ] {
        assert!(
            err.contains(&format!("  {key} = ")),
            "{key} not asked for: {err}"
        );
    }
    assert!(err.contains("tree/submission.toml"), "{err}");
    assert!(!dir.join("tree/closed").exists());

    // Stored once in the tree root, then built: Offline by store id, SingleStream by folder.
    std::fs::create_dir_all(dir.join("tree")).unwrap();
    std::fs::write(dir.join("tree/submission.toml"), CONFIG).unwrap();
    let out = ok(
        &dir,
        &[
            "submission",
            "build",
            &offline_perf,
            &offline_acc,
            "perf-SingleStream",
            "acc-SingleStream",
            "-o",
            "tree",
        ],
    );
    assert!(
        out.contains("resnet50 Offline: performance ") && out.contains("resnet50 SingleStream"),
        "{out}"
    );

    let root = dir.join("tree/closed/Acme");
    for scenario in ["Offline", "SingleStream"] {
        let result = root
            .join("results/acme_null-yardstick/resnet50")
            .join(scenario);
        let perf: PathBuf = dir.join(format!("perf-{scenario}"));
        let acc: PathBuf = dir.join(format!("acc-{scenario}"));
        // performance/run_1: the LoadGen logs, verbatim (REQUIRED_PERF_FILES).
        for f in ["mlperf_log_summary.txt", "mlperf_log_detail.txt"] {
            assert_eq!(
                read(&result.join("performance/run_1").join(f)),
                read(&perf.join(f)),
                "{scenario} {f}"
            );
        }
        assert!(
            read(&result.join("performance/run_1/mlperf_log_summary.txt"))
                .contains("Result is : VALID")
        );
        // accuracy/: REQUIRED_ACC_FILES; accuracy.txt as `yardstick accuracy` wrote it,
        // with the hash of the full log; the log truncated under the checker's 10 KiB.
        for f in ["mlperf_log_summary.txt", "mlperf_log_detail.txt"] {
            assert_eq!(
                read(&result.join("accuracy").join(f)),
                read(&acc.join(f)),
                "{scenario} {f}"
            );
        }
        let accuracy_txt = read(&result.join("accuracy/accuracy.txt"));
        assert_eq!(accuracy_txt, read(&acc.join("accuracy.txt")));
        assert!(
            accuracy_txt.starts_with("accuracy=100.000%, good=50000, total=50000\n"),
            "{accuracy_txt}"
        );
        assert!(
            accuracy_txt
                .lines()
                .any(|l| l.starts_with("hash=") && l.len() == 5 + 64),
            "{accuracy_txt}"
        );
        let full = std::fs::read(acc.join("mlperf_log_accuracy.json")).unwrap();
        let kept = std::fs::read(result.join("accuracy/mlperf_log_accuracy.json")).unwrap();
        assert!(
            kept.len() < 10 * 1024 && full.len() > 100_000,
            "{} of {}",
            kept.len(),
            full.len()
        );
        assert_eq!(&kept[..4096], &full[..4096]);
        assert_eq!(&kept[kept.len() - 4096..], &full[full.len() - 4096..]);
        // Measurements (v6.0: in the scenario folder): the JSON's required fields, user.conf, README.md.
        let m = read_json(&result.join("measurements.json"));
        assert_eq!(m["retraining"], "no");
        assert_eq!(m["input_data_types"], "int32");
        let user_conf = read(&result.join("user.conf"));
        assert!(
            user_conf.contains(&format!("resnet50.{scenario}.min_duration = 50 ")),
            "{user_conf}"
        );
        let readme = read(&result.join("README.md"));
        assert!(
            readme.contains(&format!(
                "yardstick run --scenario {scenario} --mode performance --duration 50ms"
            )),
            "{readme}"
        );
    }
    assert!(
        read(&root.join("results/acme_null-yardstick/resnet50/Offline/user.conf"))
            .contains("resnet50.Offline.target_qps = 20000000")
    );
    assert!(read(&root.join("src/resnet50/README.md")).contains("## SingleStream"));

    // systems/<system>.json: probed fields (this machine's), submission.toml's over them.
    let system = read_json(&root.join("systems/acme_null-yardstick.json"));
    assert_eq!(system["submitter"], "Acme");
    assert_eq!(system["division"], "closed");
    assert_eq!(system["status"], "available");
    assert_eq!(system["system_type"], "edge");
    assert_eq!(system["number_of_nodes"], 1);
    assert!(
        system["host_processor_core_count"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{system}"
    );
    assert!(
        system["operating_system"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{system}"
    );
    for field in [
        "host_processor_frequency",
        "accelerator_frequency",
        "hw_notes",
        "sw_notes",
        "system_type_detail",
    ] {
        assert!(system.get(field).is_some(), "{field} missing: {system}");
    }

    // A second build of the same results is refused; --force replaces them.
    let again = ys(
        &dir,
        &[
            "submission",
            "build",
            "perf-Offline",
            "acc-Offline",
            "-o",
            "tree",
        ],
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("--force"), "{}", text(&again));
    ok(
        &dir,
        &[
            "submission",
            "build",
            "perf-Offline",
            "acc-Offline",
            "-o",
            "tree",
            "--force",
            "--round",
            "v6.0",
        ],
    );
}

/// The v6.0 checker's seeds in LoadGen's own mlperf.conf (LoadGen reads
/// sample_index_rng_seed and schedule_rng_seed from mlperf.conf only):
/// what a v6.0 submitter's LoadGen carried.
fn mlperf_conf_with_v6_seeds() -> String {
    let conf =
        read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/src/settings/mlperf.conf"));
    let mut replaced = conf.clone();
    for (today, v6) in [
        ("2085463073848966840", "2465351861681999779"),
        ("2747215439041700203", "14276810075590677512"),
        ("16159082839903944936", "3936089224930324775"),
    ] {
        assert!(replaced.contains(today), "mlperf.conf has no seed {today}");
        replaced = replaced.replace(today, v6);
    }
    replaced
}

/// Real short runs through every step a submitter takes: performance and
/// accuracy runs of resnet50's three edge scenarios, their accuracy
/// scored, TEST01 and TEST04 audited against them, `submission build`,
/// then `yardstick check` on the tree. 50 ms runs cannot meet the rules
/// that need a long run, so the check must fail with exactly those and
/// nothing else (errors and warnings alike): any other defect of the
/// chain (layout, accuracy.txt, hashes, truncation, systems JSON, seeds,
/// measurements, compliance files) fails this test.
#[test]
fn short_runs_built_and_checked_fail_only_the_rules_that_need_a_long_run() {
    let dir = target_scratch("submission_build", "runs_to_check");
    let labels: String = (0..50_000).map(|i| format!("{i}\n")).collect();
    std::fs::write(dir.join("labels.txt"), labels).unwrap();
    std::fs::write(dir.join("mlperf.conf"), mlperf_conf_with_v6_seeds()).unwrap();
    // Kept outside the tree: a file beside closed/ is one the checker refuses.
    std::fs::write(dir.join("submission.toml"), CONFIG).unwrap();
    let conf = dir.join("mlperf.conf");
    let conf = conf.to_str().unwrap();

    // The sleep SUT keeps SingleStream and MultiStream VALID (the null SUT
    // answers faster than LoadGen plans queries).
    let scenarios: [(&str, &[&str]); 3] = [
        ("Offline", &["--sut", "null", "--target-qps", "20000000"]),
        (
            "SingleStream",
            &[
                "--sut",
                "sleep",
                "--service-time",
                "100us",
                "--expected-latency",
                "100us",
            ],
        ),
        (
            "MultiStream",
            &[
                "--sut",
                "sleep",
                "--service-time",
                "100us",
                "--workers",
                "8",
                "--expected-latency",
                "100us",
            ],
        ),
    ];
    let mut build_args: Vec<String> = ["submission", "build"].map(String::from).to_vec();
    // The audits' performance verdicts compare two 50 ms runs' timings
    // (TEST01: within 10%, TEST04: not 10% faster): on a loaded machine
    // they come out either way, so the check is expected to repeat each
    // one the audit wrote.
    let mut failed_timing: Vec<String> = Vec::new();
    for (scenario, sut) in scenarios {
        // The run folders laid out as a result folder, so the audits read
        // them with --results (TEST01 needs the full accuracy log).
        let perf_dir = format!("{scenario}/performance/run_1");
        let acc_dir = format!("{scenario}/accuracy");
        let run_flags = |extra: &[&str]| -> Vec<String> {
            let mut v: Vec<String> = [
                "--scenario",
                scenario,
                "--duration",
                "50ms",
                "--mlperf-conf",
                conf,
            ]
            .map(String::from)
            .to_vec();
            v.extend(extra.iter().map(|s| s.to_string()));
            v
        };
        let mut perf = vec!["run".to_string()];
        perf.extend(run_flags(sut));
        perf.extend(["--mode", "performance", "-o", &perf_dir].map(String::from));
        let perf = ok(&dir, &perf.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(
            perf.contains("VALID") && !perf.contains("INVALID"),
            "{perf}"
        );
        let mut acc = vec!["run".to_string()];
        acc.extend(run_flags(&["--sut", "null"]));
        acc.extend(["--mode", "accuracy", "-o", &acc_dir].map(String::from));
        ok(&dir, &acc.iter().map(String::as_str).collect::<Vec<_>>());
        let log = format!("{acc_dir}/mlperf_log_accuracy.json");
        ok(
            &dir,
            &[
                "accuracy",
                "--log",
                &log,
                "--ground-truth",
                "labels.txt",
                "--metric",
                "top1",
                "--dtype",
                "int32",
                "--benchmark",
                "resnet50",
            ],
        );
        let audit_out = format!("audit-{scenario}");
        for test in ["TEST01", "TEST04"] {
            let mut audit: Vec<String> = [
                "audit",
                test,
                "--results",
                scenario,
                "-o",
                &audit_out,
                "--",
                "run",
            ]
            .map(String::from)
            .to_vec();
            audit.extend(run_flags(sut));
            let o = ys(&dir, &audit.iter().map(String::as_str).collect::<Vec<_>>());
            assert!(
                matches!(o.status.code(), Some(0 | 1)),
                "{test}: {}",
                text(&o)
            );
            let verdicts = dir.join(&audit_out).join("compliance").join(test);
            if test == "TEST01" {
                // Not a matter of timing: the sampled answers match.
                let accuracy = read(&verdicts.join("verify_accuracy.txt"));
                assert!(accuracy.ends_with("TEST PASS\n\n"), "{accuracy}");
            }
            if !read(&verdicts.join("verify_performance.txt")).contains("TEST PASS") {
                failed_timing.push(format!("{scenario}/{test}"));
            }
        }
        build_args.extend([perf_dir, acc_dir]);
        build_args.extend([
            "--compliance".to_string(),
            format!("{audit_out}/compliance"),
        ]);
    }
    build_args
        .extend(["-o", "tree", "--config", "submission.toml", "--no-input"].map(String::from));
    ok(
        &dir,
        &build_args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    // The closed division's calibration.md is the submitter's prose.
    std::fs::write(
        dir.join("tree/closed/Acme/calibration.md"),
        "# Calibration\n\nNone: the null and sleep SUTs run no model.\n",
    )
    .unwrap();

    let o = ys(&dir, &["check", "tree", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    // The runs carry the v6.0 seeds, so the tree is judged as v6.0 by them.
    assert_eq!(report["round"], "v6.0", "{report}");
    assert_eq!(report["round_from"], "seeds", "{report}");
    let mut found: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap_or("").to_string(),
                f["rule"].as_str().unwrap_or("").to_string(),
                f["file"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    found.sort();

    let model = "closed/Acme/results/acme_null-yardstick/resnet50";
    let error = |rule: &str, file: String| ("error".to_string(), rule.to_string(), file);
    let mut expected = Vec::new();
    for (scenario, _) in scenarios {
        // min_duration >= 600 s, in the result and in each audit's
        // performance run.
        for run in [
            "performance/run_1",
            "TEST01/performance/run_1",
            "TEST04/performance/run_1",
        ] {
            expected.push(error(
                "perf.min-duration",
                format!("{model}/{scenario}/{run}/mlperf_log_detail.txt"),
            ));
        }
    }
    for scenario_test in &failed_timing {
        expected.push(error(
            "comp.verify-performance",
            format!("{model}/{scenario_test}/verify_performance.txt"),
        ));
    }
    // A scenario with a performance finding is not there for the
    // required-scenarios rule (as the official checker counts them).
    expected.push(error("tree.required-scenarios", model.to_string()));
    expected.sort();
    assert_eq!(
        found, expected,
        "failed timing audits: {failed_timing:?}\n{report:#}"
    );

    // Every result was read whole: its score, its accuracy, its units.
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "{report:#}");
    for r in results {
        assert_eq!(r["accuracy"], "acc: 100.000", "{r}");
        assert!(r["result"].as_f64().is_some_and(|v| v > 0.0), "{r}");
    }
}

//! yardstick's own rules for its built-in reference trainer
//! (`rules/yardstick-reference_5.1.0/`): the official common rules of the
//! round with the reference workloads' benchmark list; a log as the trainer
//! writes it passes, and each rule of ours fails a log that breaks it.

use yardstick_training_rules::compliance::{check_log, RuleFiles};

const RULES: &str = "yardstick-reference";

fn rules_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")
}

/// One `:::MLLOG` line as mllog writes it.
fn line(time: u64, event: &str, key: &str, value: &str, meta: &str) -> String {
    format!(
        ":::MLLOG {{\"namespace\": \"\", \"time_ms\": {time}, \"event_type\": \"{event}\", \"key\": \"{key}\", \"value\": {value}, \"metadata\": {{\"file\": \"train.rs\", \"lineno\": 1{meta}}}}}"
    )
}

/// The lines `yardstick train fashion-mnist` logs for a two-epoch run,
/// with `change` applied to (key, value) pairs.
fn trainer_log(change: impl Fn(&str, &str) -> Option<String>) -> Vec<u8> {
    let p = "POINT_IN_TIME";
    let mut lines = vec![
        (p, "cache_clear", "false", String::new()),
        ("INTERVAL_START", "init_start", "null", String::new()),
        (
            p,
            "submission_benchmark",
            "\"fashion-mnist\"",
            String::new(),
        ),
        (p, "submission_org", "\"yardstick\"", String::new()),
        (p, "submission_division", "\"open\"", String::new()),
        (p, "submission_status", "\"onprem\"", String::new()),
        (
            p,
            "submission_platform",
            "\"CPU, 2 threads\"",
            String::new(),
        ),
        (p, "seed", "5", String::new()),
        (p, "global_batch_size", "64", String::new()),
        (p, "opt_name", "\"adamw\"", String::new()),
        (p, "opt_base_learning_rate", "0.001", String::new()),
        ("INTERVAL_END", "init_stop", "null", String::new()),
        ("INTERVAL_START", "run_start", "null", String::new()),
        (p, "train_samples", "1024", String::new()),
        (p, "eval_samples", "500", String::new()),
    ];
    for epoch in 1..=2 {
        let e = format!(", \"epoch_num\": {epoch}");
        lines.extend([
            (
                "INTERVAL_START",
                "block_start",
                "null",
                format!(", \"first_epoch_num\": {epoch}, \"epoch_count\": 1"),
            ),
            ("INTERVAL_START", "epoch_start", "null", e.clone()),
            ("INTERVAL_END", "epoch_stop", "null", e.clone()),
            ("INTERVAL_START", "eval_start", "null", e.clone()),
            (p, "eval_accuracy", "0.75", e.clone()),
            ("INTERVAL_END", "eval_stop", "null", e.clone()),
            (
                "INTERVAL_END",
                "block_stop",
                "null",
                format!(", \"first_epoch_num\": {epoch}"),
            ),
        ]);
    }
    lines.push((
        "INTERVAL_END",
        "run_stop",
        "null",
        ", \"status\": \"success\"".into(),
    ));
    let mut out = String::new();
    for (i, (event, key, value, meta)) in lines.into_iter().enumerate() {
        let value = change(key, value).unwrap_or_else(|| value.to_string());
        out.push_str(&line(1000 + i as u64, event, key, &value, &meta));
        out.push('\n');
    }
    out.into_bytes()
}

fn check(log: &[u8]) -> (bool, Vec<String>, Vec<String>) {
    let rules = RuleFiles::embedded().expect("embedded rules");
    let report = check_log(&rules, RULES, "5.1.0", log).expect("a verdict");
    let heads = report
        .messages
        .iter()
        .map(|m| m.head().to_string())
        .collect();
    (report.passed, heads, report.configs_checked)
}

#[test]
fn the_trainers_log_passes_the_reference_rules() {
    let (passed, messages, configs) = check(&trainer_log(|_, _| None));
    assert!(passed, "{messages:?}");
    assert_eq!(
        configs,
        [
            "yardstick-reference_5.1.0/common.yaml",
            "yardstick-reference_5.1.0/open_common.yaml",
            "yardstick-reference_5.1.0/open_fashion-mnist.yaml",
        ]
    );
    // The same log is not an MLPerf benchmark's: MLPerf's rules refuse it.
    let rules = RuleFiles::embedded().expect("embedded rules");
    let official = check_log(&rules, "training", "5.1.0", &trainer_log(|_, _| None));
    assert!(!official.is_ok_and(|r| r.passed));
}

#[test]
fn each_reference_rule_fails_a_log_that_breaks_it() {
    for (key, value, rule) in [
        (
            "submission_benchmark",
            "\"retinanet\"",
            "submission_benchmark",
        ),
        ("opt_name", "\"sgd\"", "opt_name"),
        ("global_batch_size", "0", "global_batch_size"),
        ("opt_base_learning_rate", "0.0", "opt_base_learning_rate"),
        ("eval_accuracy", "1.5", "eval_accuracy"),
        // The round's common rules, kept.
        ("submission_org", "\"\"", "submission_org"),
        ("eval_samples", "\"\"", "eval_samples"),
    ] {
        let log = trainer_log(|k, _| (k == key).then(|| value.to_string()));
        let rules = RuleFiles::embedded().expect("embedded rules");
        match check_log(&rules, RULES, "5.1.0", &log) {
            Ok(report) => {
                assert!(!report.passed, "{key} = {value} passed");
                let named = report.messages.iter().any(|m| {
                    m.rule.as_ref().is_some_and(|r| r.record == rule) || m.text.contains(rule)
                });
                assert!(named, "{key} = {value}: {:?}", report.messages);
            }
            // retinanet is not a reference workload: there is no rule file
            // for it, and the official checker would stop (no verdict).
            Err(e) => assert!(
                key == "submission_benchmark" && e.to_string().contains("open_retinanet.yaml"),
                "{key} = {value}: {e}"
            ),
        }
    }
}

#[test]
fn the_reference_common_rules_are_the_official_ones_but_one_line() {
    let official =
        std::fs::read_to_string(rules_dir().join("training_5.1.0/common.yaml")).expect("official");
    let ours = std::fs::read_to_string(rules_dir().join("yardstick-reference_5.1.0/common.yaml"))
        .expect("ours");
    let ours: Vec<&str> = ours.lines().skip_while(|l| l.starts_with('#')).collect();
    let official: Vec<&str> = official
        .lines()
        .skip_while(|l| l.starts_with('#'))
        .collect();
    assert_eq!(ours.len(), official.len());
    let differing: Vec<(&str, &str)> = official
        .iter()
        .zip(&ours)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| (*a, *b))
        .collect();
    assert_eq!(differing.len(), 1, "{differing:#?}");
    assert_eq!(
        differing[0].1,
        differing[0].0.replace(
            "'training_5.1.0/{}_common.yaml'",
            "'yardstick-reference_5.1.0/{}_common.yaml'"
        )
    );
}

//! `yardstick compare` on real runs of the sleep SUT: two groups of 5 whose
//! service times differ by 10 % are reported as significantly different
//! with the right sign (and fail `--fail-if-slower 5`); two groups with the
//! same settings are reported as `~`. Groups are named every supported way:
//! a folder of `--repeat` run folders, `tag:`, `group:` and a single run's
//! folder.

mod common;

use std::path::Path;
use std::process::Output;
use std::sync::Mutex;

use common::{bin, stderr, stdout, target_scratch, text};
use serde_json::Value;

/// The tests of this file run the sleep SUT one at a time: three at once
/// on a small machine would add the noise they are trying to see through.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// `yardstick run` of the sleep SUT in SingleStream: 32 queries of
/// `service_time` each (50 ms: long enough that late wake-ups on a busy
/// machine, up to a few ms, stay well below a 10 % change), `repeat` times
/// into `out` (as `repeat_<i>` folders when repeated), tagged `tag`.
fn sleep_runs(out: &Path, service_time: &str, repeat: u32, tag: &str) -> Output {
    // A failed test elsewhere poisons the lock; the runs are still valid.
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let o = bin()
        .args([
            "run",
            "--sut",
            "sleep",
            "--service-time",
            service_time,
            "--scenario",
            "SingleStream",
            "--duration",
            "100ms",
            "--min-query-count",
            "32",
            "--max-query-count",
            "32",
            "--tag",
            tag,
        ])
        .arg("--repeat")
        .arg(repeat.to_string())
        .arg("-o")
        .arg(out)
        .output()
        .expect("yardstick runs");
    // 32 queries are too few for early stopping, so the runs are INVALID
    // (exit status 1); that is all right here, any other failure is not.
    let invalid_only = o.status.code() == Some(1)
        && stdout(&o).contains("validity                : INVALID")
        && !stderr(&o).contains("error");
    assert!(o.status.success() || invalid_only, "{}", text(&o));
    o
}

fn compare(args: &[&str]) -> Output {
    bin()
        .arg("compare")
        .args(args)
        .output()
        .expect("yardstick runs")
}

fn compare_json(a: &str, b: &str) -> Value {
    let o = compare(&[a, b, "--format", "json"]);
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}: {}", text(&o)))
}

fn metric<'a>(comparison: &'a Value, name: &str) -> &'a Value {
    comparison["metrics"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["name"] == name))
        .unwrap_or_else(|| panic!("no {name} in {comparison:#}"))
}

#[test]
fn ten_percent_slower_service_is_significant_with_the_right_sign() {
    let scratch = target_scratch("compare_cli", "ten_percent");
    let fast = scratch.join("fast");
    let slow = scratch.join("slow");
    sleep_runs(&fast, "50ms", 5, "cmp-fast");
    let said = stdout(&sleep_runs(&slow, "55ms", 5, "cmp-slow"));
    // The run names its group for compare.
    let group = said
        .split_whitespace()
        .find_map(|w| w.strip_prefix("group:"))
        .unwrap_or_else(|| panic!("no group:ID in {said}"))
        .to_string();

    // A folder of repeat folders against a tag, and against the group.
    let fast_dir = fast.display().to_string();
    for b in ["tag:cmp-slow".to_string(), format!("group:{group}")] {
        let c = compare_json(&fast_dir, &b);
        assert_eq!(c["method"], "groups");
        assert_eq!(c["a"]["run_ids"].as_array().map(Vec::len), Some(5));
        assert_eq!(c["b"]["run_ids"].as_array().map(Vec::len), Some(5));
        let p50 = metric(&c, "latency.p50");
        assert_eq!(p50["significant"], true, "{p50:#}");
        assert_eq!(p50["change"], "worse", "{p50:#}");
        assert_eq!(p50["test"]["kind"], "mann_whitney");
        assert!(p50["test"]["p_value"].as_f64().unwrap_or(1.0) < 0.05);
        let ratio = p50["ratio"].as_f64().unwrap_or(0.0);
        assert!((1.04..1.2).contains(&ratio), "p50 ratio {ratio}");
        // The main metric (p90 of SingleStream) moves the same way.
        let p90 = metric(&c, "latency.p90");
        assert_eq!(p90["primary"], true);
        assert!(p90["ratio"].as_f64().unwrap_or(0.0) > 1.0, "{p90:#}");
    }

    // The text table says slower, with the test.
    let o = compare(&[&fast_dir, "tag:cmp-slow"]);
    assert!(o.status.success(), "{}", text(&o));
    let table = stdout(&o);
    let p50 = table
        .lines()
        .find(|l| l.starts_with("latency.p50"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(p50.contains("slower") && p50.contains("n=5+5"), "{p50}");

    // The CI gate: B is 10 % slower, so a 5 % limit fails and names the
    // metric; the other way round B is faster and passes.
    let gate = compare(&[&fast_dir, "tag:cmp-slow", "--fail-if-slower", "5"]);
    assert_eq!(gate.status.code(), Some(1), "{}", text(&gate));
    assert!(stderr(&gate).contains("latency.p50 is"), "{}", text(&gate));
    let reverse = compare(&["tag:cmp-slow", &fast_dir, "--fail-if-slower", "5"]);
    assert_eq!(reverse.status.code(), Some(0), "{}", text(&reverse));
    let reverse_json = compare_json("tag:cmp-slow", &fast_dir);
    assert_eq!(metric(&reverse_json, "latency.p50")["change"], "better");

    // Two single runs: the bootstrap, marked weaker.
    let single = compare_json(
        &fast.join("repeat_0").display().to_string(),
        &slow.join("repeat_0").display().to_string(),
    );
    assert_eq!(single["method"], "single_runs");
    let p50 = metric(&single, "latency.p50");
    assert_eq!(p50["test"]["kind"], "bootstrap");
    assert_eq!(p50["change"], "worse", "{p50:#}");
    assert!(single["notes"][0]
        .as_str()
        .unwrap_or_default()
        .contains("weaker"));

    // Markdown.
    let md = compare(&[&fast_dir, "tag:cmp-slow", "--format", "markdown"]);
    assert!(md.status.success());
    assert!(stdout(&md).contains("| latency.p90 * |"), "{}", stdout(&md));
    assert!(stdout(&md).contains("| latency.p50 |"), "{}", stdout(&md));
}

#[test]
fn same_settings_are_not_significantly_different() {
    // Under the null hypothesis the exact 5 + 5 test still rejects with
    // probability 2/252 + ... = 0.032 at alpha 0.05 (p = 0.008, 0.016,
    // 0.032 are reachable): that is the test working, not a bug. So a
    // `~` is required in at least one of two independent attempts (a false
    // alarm in both: about 0.1 %). Runs alternate between the sides so that
    // a change in machine load hits both alike.
    let mut outcomes = Vec::new();
    for attempt in 0..2 {
        let scratch = target_scratch("compare_cli", &format!("same_{attempt}"));
        let (tag_a, tag_b) = (format!("same-a-{attempt}"), format!("same-b-{attempt}"));
        for i in 0..5 {
            sleep_runs(&scratch.join(format!("a{i}")), "50ms", 1, &tag_a);
            sleep_runs(&scratch.join(format!("b{i}")), "50ms", 1, &tag_b);
        }
        let c = compare_json(&format!("tag:{tag_a}"), &format!("tag:{tag_b}"));
        assert_eq!(c["a"]["run_ids"].as_array().map(Vec::len), Some(5));
        let p90 = metric(&c, "latency.p90");
        assert_eq!(p90["test"]["kind"], "mann_whitney");
        let ratio = metric(&c, "latency.p50")["ratio"].as_f64().unwrap_or(0.0);
        assert!(
            (0.97..1.03).contains(&ratio),
            "same settings, ratio {ratio}"
        );
        let o = compare(&[&format!("tag:{tag_a}"), &format!("tag:{tag_b}")]);
        let table = stdout(&o);
        let line = table
            .lines()
            .find(|l| l.starts_with("latency.p90"))
            .unwrap_or_else(|| panic!("{table}"))
            .to_string();
        let same = p90["significant"] == false && p90["change"] == "same";
        assert_eq!(line.contains(" ~ "), same, "{line}");
        outcomes.push((same, line));
        if same {
            break;
        }
    }
    assert!(
        outcomes.iter().any(|(same, _)| *same),
        "same settings reported as different twice: {outcomes:#?}"
    );
}

#[test]
fn too_few_runs_are_not_tested_and_bad_arguments_are_refused() {
    let scratch = target_scratch("compare_cli", "few");
    sleep_runs(&scratch.join("a"), "50ms", 2, "few-a");
    sleep_runs(&scratch.join("b"), "50ms", 2, "few-b");
    let o = compare(&["tag:few-a", "tag:few-b"]);
    assert!(o.status.success(), "{}", text(&o));
    let table = stdout(&o);
    assert!(table.contains("too few runs to test"), "{table}");
    assert!(table.contains("fewer than 4 runs per side"), "{table}");
    let missing = compare(&["tag:no-such-tag", "tag:few-b"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("no-such-tag"),
        "{}",
        text(&missing)
    );
    let bad = compare(&["tag:few-a", "tag:few-b", "--fail-if-slower", "-3"]);
    assert_eq!(bad.status.code(), Some(2));
}

//! Checks training logs against a round's compliance rules and prints one
//! verdict per file (`pass`, `fail` or `crash`), for the side-by-side
//! benchmark against the official checker (bench/training/compliance.py).
//!
//! Usage: check_logs RULESET FILE...

use std::process::ExitCode;
use std::time::Instant;

use yardstick_training_rules::compliance::{check_log, RuleFiles};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(ruleset) = args.next() else {
        eprintln!("usage: check_logs RULESET FILE...");
        return ExitCode::from(2);
    };
    let started = Instant::now();
    let rules = match RuleFiles::embedded() {
        Ok(rules) => rules,
        Err(e) => {
            eprintln!("check_logs: {e}");
            return ExitCode::from(2);
        }
    };
    let mut failures = 0;
    for file in args {
        let verdict = match std::fs::read(&file) {
            Err(e) => format!("unreadable ({e})"),
            Ok(log) => match check_log(&rules, "training", &ruleset, &log) {
                Ok(report) if report.passed => "pass".to_string(),
                Ok(_) => "fail".to_string(),
                Err(_) => "crash".to_string(),
            },
        };
        if verdict != "pass" {
            failures += 1;
        }
        println!("{verdict}\t{file}");
    }
    eprintln!("checked in {:.3} s", started.elapsed().as_secs_f64());
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

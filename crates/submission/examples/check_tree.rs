//! `yardstick check` without the binary's other crates, for timing:
//! `check_tree DIR [ROUND]` prints the verdict and the time the check took
//! (exit 0 on a passing tree, 1 otherwise). bench/submission/check_time.py
//! runs it beside the official checker.

use std::process::ExitCode;
use std::time::Instant;

use yardstick_submission::check::{check_tree, CheckOptions};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: check_tree DIR [ROUND]");
        return ExitCode::from(2);
    };
    let options = CheckOptions {
        round: args.next(),
        ..CheckOptions::default()
    };
    let started = Instant::now();
    match check_tree(std::path::Path::new(&dir), &options) {
        Ok(report) => {
            let seconds = started.elapsed().as_secs_f64();
            let valid = report.results.iter().filter(|r| r.valid).count();
            println!(
                "{} results, {valid} valid, {} errors, {}, {seconds:.3} s",
                report.results.len(),
                report.errors().count(),
                if report.passed { "PASS" } else { "FAIL" }
            );
            if report.passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("check_tree: {e}");
            ExitCode::from(2)
        }
    }
}

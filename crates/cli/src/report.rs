//! The short human summary printed at the end of a run.

use std::path::Path;

use yardstick_core::run::TestOutcome;

pub fn print_human_summary(outcome: &TestOutcome, dir: &Path) {
    let s = &outcome.settings;
    println!();
    println!("{} / {}", s.scenario, s.mode);
    if outcome.accuracy_samples > 0 {
        println!("  accuracy samples issued : {}", outcome.accuracy_samples);
    }
    if let Some(r) = outcome.result() {
        println!("  samples completed       : {}", r.sample_count);
        println!("  result                  : {}", r.result_metric());
        let p = |q: f64| {
            r.latency_percentiles
                .iter()
                .find(|e| e.percentile == q)
                .map_or(0.0, |e| e.sample_latency as f64 / 1e6)
        };
        println!(
            "  latency p50 / p90 / p99 : {:.3} / {:.3} / {:.3} ms",
            p(0.5),
            p(0.9),
            p(0.99)
        );
        if !r.is_valid() {
            let reason = r.invalid_reason();
            let reason = if r.sample_count == 0 {
                "no samples completed (were any queries generated? see the detail log)".to_string()
            } else if reason.trim().is_empty() {
                "early stopping: see the summary's Early Stopping Result".to_string()
            } else {
                reason
            };
            println!("  why INVALID             : {reason}");
        }
    }
    for f in &outcome.faults {
        println!("  SUT fault               : {f}");
    }
    println!(
        "  validity                : {}",
        if outcome.is_valid() {
            "VALID"
        } else {
            "INVALID"
        }
    );
    println!("  logs                    : {}", dir.display());
}

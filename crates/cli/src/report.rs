//! Log files and the short human summary printed at the end of a run.

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use yardstick_core::log::{LogSink, NullSink};
use yardstick_core::run::TestOutcome;
use yardstick_core::settings::ConfigWarning;
use yardstick_core::sut::QuerySampleLibrary;

/// The MLPerf log files of one test.
pub struct Logs {
    sink: Arc<dyn LogSink>,
}

pub fn open_logs(dir: &Path, trace: bool, record_queries: Option<&Path>) -> Result<Logs> {
    let _ = (dir, trace, record_queries);
    Ok(Logs { sink: Arc::new(NullSink) })
}

impl Logs {
    pub fn header(&self, sut_name: &str, qsl: &dyn QuerySampleLibrary, warnings: &[ConfigWarning]) {
        let _ = (sut_name, qsl, warnings);
    }

    pub fn sink(&self) -> Arc<dyn LogSink> {
        Arc::clone(&self.sink)
    }

    pub fn finish(self) -> Result<()> {
        Ok(())
    }
}

pub fn print_human_summary(outcome: &TestOutcome, dir: &Path) {
    let s = &outcome.settings;
    println!();
    println!("{} / {}", s.scenario, s.mode);
    if outcome.accuracy_samples > 0 {
        println!("  accuracy samples issued : {}", outcome.accuracy_samples);
    }
    if let Some(r) = outcome.result() {
        let pr = &r.pr;
        let n = pr.sample_latencies.len();
        let secs = pr.final_query_all_samples_done_time.max(1e-9);
        println!("  samples completed       : {n}");
        println!("  completed samples/s     : {:.2}", n as f64 / secs);
        let (ok, why) = r.perf_constraints_met();
        println!("  performance constraints : {}{}", if ok { "met" } else { "NOT met: " }, if ok { String::new() } else { why });
    }
    for f in &outcome.faults {
        println!("  SUT fault               : {f}");
    }
    println!("  result                  : {}", if outcome.is_valid() { "VALID" } else { "INVALID" });
    println!("  logs                    : {}", dir.display());
}

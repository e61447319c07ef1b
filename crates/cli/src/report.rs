//! Log files and the short human summary printed at the end of a run.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use yardstick_core::log::{DetailEvent, LogSink};
use yardstick_core::run::TestOutcome;
use yardstick_core::settings::ConfigWarning;
use yardstick_core::sut::QuerySampleLibrary;
use yardstick_logs::{
    header_events, CompositeSink, LogOutputSettings, MlperfLogWriter, QueryRecordWriter, TestHeader,
};

/// The MLPerf log files of one test, and the optional query records.
pub struct Logs {
    writer: Arc<MlperfLogWriter>,
    records: Option<Arc<QueryRecordWriter>>,
    sink: Arc<dyn LogSink>,
}

pub fn open_logs(dir: &Path, trace: bool, record_queries: Option<&Path>) -> Result<Logs> {
    let settings = LogOutputSettings {
        outdir: PathBuf::from(dir),
        enable_trace: trace,
        ..LogOutputSettings::default()
    };
    let writer = Arc::new(MlperfLogWriter::create(&settings)?);
    let records = match record_queries {
        Some(p) => Some(Arc::new(QueryRecordWriter::create(p)?)),
        None => None,
    };
    let sink: Arc<dyn LogSink> = match &records {
        Some(r) => Arc::new(CompositeSink::new(vec![writer.clone(), r.clone()])),
        None => writer.clone(),
    };
    Ok(Logs {
        writer,
        records,
        sink,
    })
}

impl Logs {
    /// LoadGen's opening events, and config warnings as detail warnings.
    pub fn header(&self, sut_name: &str, qsl: &dyn QuerySampleLibrary, warnings: &[ConfigWarning]) {
        let t = Instant::now();
        let name = sut_name.to_string();
        let header = TestHeader {
            test_datetime: self.writer.test_datetime().to_string(),
            get_sut_name_duration_ns: t.elapsed().as_nanos() as u64,
            sut_name: name,
            qsl_name: qsl.name().to_string(),
            qsl_reported_total_count: qsl.total_sample_count() as u64,
            qsl_reported_performance_count: qsl.performance_sample_count() as u64,
        };
        for e in header_events(&header) {
            self.sink.detail(e);
        }
        for w in warnings {
            self.sink.detail(DetailEvent::warning(
                "warning_generic_message",
                w.to_string(),
            ));
        }
    }

    pub fn sink(&self) -> Arc<dyn LogSink> {
        Arc::clone(&self.sink)
    }

    pub fn finish(self) -> Result<()> {
        self.writer.finish().context("writing the MLPerf logs")?;
        if let Some(r) = &self.records {
            r.finish()
                .with_context(|| format!("writing {}", r.path().display()))?;
        }
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

//! yardstick-record: the run record.
//!
//! Every yardstick run, whatever front end started it (`run`, `run
//! --workload`, `endpoint`, `train`, `accuracy`, the Python module), ends in
//! one [`RunRecord`]: what was run, with which settings and where each came
//! from, on which system, what it measured, whether the result is valid and
//! why, the latency distributions as mergeable histograms, and every file
//! written. `run.json` beside the logs is this record; the results store,
//! the HTML report and `compare` read nothing else.
//!
//! The crate is plain data: it knows nothing of the core, HTTP or models,
//! so the store, report and comparison stay leaves that any tool can reuse.
//! Its JSON format is versioned ([`SCHEMA_VERSION`]) and described by a
//! JSON Schema generated from these types ([`json_schema`]).

mod histogram;
mod id;
mod io;
mod power;
mod record;
mod server_metrics;

pub use histogram::{HistogramError, LatencyHistogram};
pub use id::new_run_id;
pub use io::{read_record, write_record, write_record_to, RecordError, RUN_JSON};
pub use power::PowerRecord;
pub use record::*;
pub use server_metrics::{
    ServerCounter, ServerGauge, ServerMetrics, ServerMetricsSeries, ServerMetricsStatus,
};

/// The version of the `run.json` format. A reader refuses a newer major
/// version rather than misreading it.
pub const SCHEMA_VERSION: u32 = 1;

/// Told of a run before it starts and after it ends; never during it (the
/// results store is one).
pub trait RunObserver {
    /// The run is about to start (status `running`).
    fn run_started(&self, _record: &RunRecord) {}
    /// The run ended and its record is final.
    fn run_finished(&self, _record: &RunRecord) {}
}

/// The JSON Schema of `run.json`, generated from the types.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(RunRecord);
    serde_json::to_value(&schema).unwrap_or(serde_json::Value::Null)
}

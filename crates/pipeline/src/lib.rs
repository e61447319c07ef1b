//! yardstick-pipeline: the one path every front end runs a test through.
//!
//! A front end (the `yardstick` binary's `run`, `run --workload`,
//! `endpoint`, the Python module's `StartTest`) resolves its settings once
//! (yardstick-core's `SettingsPlan`, which keeps each value's provenance),
//! describes the workload and SUT, and calls [`execute`]: the pipeline opens
//! the MLPerf log files, writes their header, runs the test on the core,
//! closes the logs, and turns the outcome into one [`RunRecord`]. The front
//! end may add what only it knows (an accuracy verdict, endpoint metrics)
//! and then [`FinishedRun::save`]s it: `run.json` beside the logs, and every
//! [`RunObserver`] (the results store) told.
//!
//! Recording stays off the hot path: the record is built after the test
//! from what the core already keeps (the sorted latencies, the per-query
//! timeline), and observers see a run only before it starts and after it
//! ends.

mod from_outcome;
mod logs;
mod power;
mod power_source;
mod recorder;
mod run;
mod timeline;

pub use from_outcome::{record_settings, validity_of, RecordInputs};
pub use logs::{open_logs, Logs};
pub use power::{fill_power, PowerHook, POWER_TRACE_CSV};
pub use power_source::{
    open_power, power_opened_line, power_summary_lines, PowerChoice, PowerChoiceError,
    PowerUnavailable,
};
pub use recorder::Recorder;
pub use run::{
    execute, fill_from_outcome, finish_record, FinishedRun, PipelineError, RunObserver, RunSpec,
};
pub use timeline::TimelineCapture;

pub use yardstick_power as power_meters;
pub use yardstick_record as record;

//! Readers of the files this crate writes, and of the same files written
//! by the official LoadGen: the summary, the detail log, a LoadGen output
//! folder as a run record, and the layout of an MLPerf Inference submission
//! tree. `yardstick import` uses them; they live here, beside the writers,
//! so a format change is made in one place.

pub mod detail;
pub mod record;
pub mod submission;
pub mod summary;

pub use detail::{parse_detail, read_detail, DetailEntry, DetailLog, DetailReadError};
pub use record::{
    find_loadgen_runs, loadgen_record, read_loadgen_run, LoadgenFiles, LoadgenImportError,
    RunContext,
};
pub use submission::{is_submission_tree, submission_context};
pub use summary::{
    parse_summary, read_summary, LatencyTable, SummaryCheck, SummaryLog, SummaryNumber,
    SummaryReadError,
};

//! Running a test: issuing queries to the SUT per scenario and collecting
//! completions.

pub mod completion;

/// The per-sample timeline of one run, for traces and query records.
#[derive(Debug)]
pub struct RunTimeline<'a> {
    pub marker: std::marker::PhantomData<&'a ()>,
}

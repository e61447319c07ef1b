//! The two things a benchmark plugs into the core: the system under test
//! ([`SystemUnderTest`]) and the sample library ([`QuerySampleLibrary`]), and
//! the handle through which the SUT answers ([`Completer`], in `run`).

pub use crate::run::completion::{Completer, CompletionError};

/// Identifies one issued sample; the SUT hands it back when it answers.
/// Opaque to the SUT (it encodes the run and the sample's position).
pub type ResponseId = u64;

/// A sample's index in the sample library.
pub type SampleIndex = usize;

/// One sample of a query, as the SUT receives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QuerySample {
    pub id: ResponseId,
    pub index: SampleIndex,
}

/// One answer from the SUT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuerySampleResponse<'a> {
    pub id: ResponseId,
    /// The response bytes; copied only when the accuracy log wants them.
    pub data: &'a [u8],
    /// Output tokens of this sample, for token-latency tests (LLMs).
    pub n_tokens: Option<u64>,
}

impl<'a> QuerySampleResponse<'a> {
    pub fn new(id: ResponseId, data: &'a [u8]) -> Self {
        QuerySampleResponse {
            id,
            data,
            n_tokens: None,
        }
    }

    pub fn with_tokens(id: ResponseId, data: &'a [u8], n_tokens: u64) -> Self {
        QuerySampleResponse {
            id,
            data,
            n_tokens: Some(n_tokens),
        }
    }
}

/// An error a SUT or a sample library reports to the core; it ends the run.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A system under test. `issue_query` must not block for long: it hands the
/// samples to the SUT's own workers, which answer later through the
/// [`Completer`] (which can be cloned and sent to any thread). A SUT may also
/// answer inline, before returning.
pub trait SystemUnderTest: Send + Sync {
    fn name(&self) -> &str;
    /// Issue a query: one or more samples (many in Offline and MultiStream).
    fn issue_query(&self, samples: &[QuerySample], completer: &Completer) -> Result<(), BoxError>;
    /// No more queries will come in this run; a batching SUT should flush.
    fn flush_queries(&self) {}
}

/// A library of samples the SUT can be asked about. Loading happens before
/// timing starts, so it may be slow; it must be complete when it returns.
pub trait QuerySampleLibrary: Send + Sync {
    fn name(&self) -> &str;
    fn total_sample_count(&self) -> usize;
    /// How many samples fit in memory at once (the performance set size).
    fn performance_sample_count(&self) -> usize;
    fn load_samples_to_ram(&self, indices: &[SampleIndex]) -> Result<(), BoxError>;
    fn unload_samples_from_ram(&self, indices: &[SampleIndex]) -> Result<(), BoxError>;
}

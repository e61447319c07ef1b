//! The completion handle.

/// Handle through which a SUT answers samples, from any thread.
#[derive(Debug, Clone)]
pub struct Completer {}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompletionError {
    #[error("unknown response id {0}")]
    UnknownId(u64),
}

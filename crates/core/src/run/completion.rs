//! Recording completions: the [`Completer`] a SUT answers through, and the
//! per-run state it writes into.
//!
//! The hot path (one `complete` per sample) is lock-free: a compare-and-swap
//! on the sample's completion slot, which also catches a sample answered
//! twice, and one counter increment. Nothing is allocated unless the
//! accuracy log wants the response bytes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::Thread;
use std::time::Instant;

use crate::log::event::{AccuracyEntry, DetailEvent};
use crate::log::LogSink;
use crate::queries::QueryPlan;
use crate::sut::{QuerySampleResponse, ResponseId};

/// Bits of a [`ResponseId`] that hold the sample's position in its run; the
/// bits above identify the run, so an id from another run is recognised.
const POS_BITS: u32 = 40;
const POS_MASK: u64 = (1 << POS_BITS) - 1;

/// Process-wide run counter: ids of an earlier test are never valid later.
static NEXT_EPOCH: AtomicU64 = AtomicU64::new(1);

/// Marks a query that was never issued.
pub(crate) const NOT_ISSUED: i64 = i64::MIN;

/// Why a completion was refused. The run records each refusal as an error in
/// the detail log and in the test outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum CompletionError {
    #[error("response id {id:#x} was never issued in this run")]
    UnknownId { id: ResponseId },
    #[error("sample {sample_index} (response id {id:#x}) was completed twice")]
    Duplicate { id: ResponseId, sample_index: usize },
    #[error(
        "first token reported for sample {sample_index} (response id {id:#x}) after it completed"
    )]
    FirstTokenAfterCompletion { id: ResponseId, sample_index: usize },
    #[error("the run has already ended; response id {id:#x} arrived too late")]
    RunEnded { id: ResponseId },
}

/// A misbehaviour of the SUT or sample library seen during a test.
#[derive(Debug, Clone, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum Fault {
    #[error(transparent)]
    Completion(#[from] CompletionError),
    #[error("the SUT panicked in issue_query: {0}")]
    IssuePanicked(String),
    #[error("the SUT failed in issue_query: {0}")]
    IssueFailed(String),
    #[error("{count} more faults of the SUT were counted but not kept")]
    More { count: u64 },
    #[error("the SUT never answered {outstanding} of {issued} issued samples (no completion for {waited_s:.1} s; first missing sample indices: {first_missing:?})")]
    Stalled {
        outstanding: u64,
        issued: u64,
        waited_s: f64,
        first_missing: Vec<usize>,
    },
}

/// Faults of a whole test, shared by all its runs.
#[derive(Debug, Default)]
pub(crate) struct FaultLog {
    faults: Mutex<Vec<Fault>>,
    /// Faults beyond [`MAX_KEPT_FAULTS`], counted only.
    dropped: AtomicU64,
    /// Set by faults after which issuing must stop (panic, failure).
    fatal: AtomicBool,
}

/// At most this many faults of one kind are kept and logged; the rest are
/// counted. A SUT that answers every sample twice must not flood the log.
const MAX_LOGGED_FAULTS: usize = 64;

/// At most this many faults are kept for the outcome: a SUT answering
/// millions of samples twice must not grow memory without bound.
const MAX_KEPT_FAULTS: usize = 1000;

impl FaultLog {
    pub(crate) fn record(&self, fault: Fault, fatal: bool, sink: &dyn LogSink) {
        if fatal {
            self.fatal.store(true, Ordering::Release);
        }
        let mut faults = self.faults.lock().unwrap_or_else(|e| e.into_inner());
        if faults.len() < MAX_LOGGED_FAULTS {
            sink.detail(DetailEvent::error("error_runtime", fault.to_string()));
        }
        if faults.len() < MAX_KEPT_FAULTS {
            faults.push(fault);
        } else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn is_fatal(&self) -> bool {
        self.fatal.load(Ordering::Acquire)
    }

    pub(crate) fn take(&self) -> Vec<Fault> {
        let mut faults =
            std::mem::take(&mut *self.faults.lock().unwrap_or_else(|e| e.into_inner()));
        let count = self.dropped.swap(0, Ordering::Relaxed);
        if count > 0 {
            faults.push(Fault::More { count });
        }
        faults
    }
}

/// Which responses go to the accuracy log.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AccuracyPolicy {
    /// Accuracy mode: every response.
    pub log_all: bool,
    /// Performance mode: responses whose (value + offset) mod 1 <= probability.
    pub probability: f64,
    pub offset: f64,
    pub use_tokens: bool,
    pub needs_first_token: bool,
}

/// Everything one run records, shared by the issuing thread(s) and every
/// [`Completer`] clone.
pub(crate) struct RunState {
    epoch: u64,
    pub(crate) start: Instant,
    pub(crate) plan: QueryPlan,
    /// Per sample: completion time in ns since `start`, plus one; 0 = pending.
    pub(crate) complete_ns: Box<[AtomicU64]>,
    /// Per sample, token runs only: first-token time, same encoding.
    pub(crate) first_token_ns: Option<Box<[AtomicU64]>>,
    /// Per sample, token runs only: output token count.
    pub(crate) n_tokens: Option<Box<[AtomicI64]>>,
    /// Per query: when it was issued, ns since `start` ([`NOT_ISSUED`] if not).
    pub(crate) issued_ns: Box<[AtomicI64]>,
    /// Samples completed so far.
    pub(crate) completed: AtomicU64,
    /// Samples issued so far (for progress and stall reports).
    pub(crate) issued_samples: AtomicU64,
    waiter: Thread,
    waiting: AtomicBool,
    accuracy: AccuracyPolicy,
    /// First-token bytes of samples whose response will be logged.
    token_data: Mutex<HashMap<usize, Vec<u8>>>,
    pub(crate) sink: Arc<dyn LogSink>,
    pub(crate) faults: Arc<FaultLog>,
    ended: AtomicBool,
    /// Token-latency answers with fewer than two tokens.
    token_errors: std::sync::atomic::AtomicUsize,
    /// A stall of this run has been recorded (it is reported once).
    pub(crate) stall_recorded: AtomicBool,
}

fn atomic_slice<T, F: Fn() -> T>(n: usize, f: F) -> Box<[T]> {
    (0..n).map(|_| f()).collect()
}

impl RunState {
    pub(crate) fn new(
        plan: QueryPlan,
        use_tokens: bool,
        accuracy: AccuracyPolicy,
        sink: Arc<dyn LogSink>,
        faults: Arc<FaultLog>,
    ) -> Self {
        let n = plan.total_samples();
        let q = plan.len();
        RunState {
            epoch: NEXT_EPOCH.fetch_add(1, Ordering::Relaxed) & ((1 << (64 - POS_BITS)) - 1),
            start: Instant::now(),
            complete_ns: atomic_slice(n, || AtomicU64::new(0)),
            first_token_ns: use_tokens.then(|| atomic_slice(n, || AtomicU64::new(0))),
            n_tokens: use_tokens.then(|| atomic_slice(n, || AtomicI64::new(0))),
            issued_ns: atomic_slice(q, || AtomicI64::new(NOT_ISSUED)),
            plan,
            completed: AtomicU64::new(0),
            issued_samples: AtomicU64::new(0),
            waiter: std::thread::current(),
            waiting: AtomicBool::new(false),
            accuracy,
            token_data: Mutex::new(HashMap::new()),
            sink,
            faults,
            ended: AtomicBool::new(false),
            token_errors: std::sync::atomic::AtomicUsize::new(0),
            stall_recorded: AtomicBool::new(false),
        }
    }

    /// Restart the clock: issuing begins now.
    pub(crate) fn mark_start(&mut self) {
        self.start = Instant::now();
    }

    #[inline]
    pub(crate) fn id_of(&self, pos: usize) -> ResponseId {
        (self.epoch << POS_BITS) | pos as u64
    }

    #[inline]
    fn pos_of(&self, id: ResponseId) -> Result<usize, CompletionError> {
        let pos = (id & POS_MASK) as usize;
        if id >> POS_BITS != self.epoch || pos >= self.complete_ns.len() {
            return Err(CompletionError::UnknownId { id });
        }
        Ok(pos)
    }

    #[inline]
    pub(crate) fn elapsed_ns(&self) -> u64 {
        super::clock::ns_since(self.start, Instant::now())
    }

    pub(crate) fn end(&self) {
        self.ended.store(true, Ordering::Release);
    }

    fn wake_waiter(&self) {
        if self.waiting.load(Ordering::Acquire) {
            self.waiter.unpark();
        }
    }

    /// Parks the waiting (issuing) thread until a completion arrives or
    /// `timeout` passes. Only the thread that created the run may call it.
    pub(crate) fn park(&self, target: u64, timeout: std::time::Duration) {
        self.waiting.store(true, Ordering::SeqCst);
        if self.completed.load(Ordering::SeqCst) < target {
            std::thread::park_timeout(timeout);
        }
        self.waiting.store(false, Ordering::Release);
    }

    fn should_log(&self, pos: usize) -> bool {
        if self.accuracy.log_all {
            return true;
        }
        match &self.plan.accuracy_log_values {
            Some(values) => {
                let v = values[pos] + self.accuracy.offset;
                let v = if v < 1.0 { v } else { v - 1.0 };
                v <= self.accuracy.probability
            }
            None => false,
        }
    }

    /// Nanoseconds since the run's start at `at`, never later than now:
    /// a SUT that stamped an event earlier (at a socket read, say) may say
    /// when it happened, but not claim a time that has not come yet.
    fn ns_at(&self, at: Option<Instant>) -> u64 {
        let now = self.elapsed_ns();
        match at {
            Some(at) => super::clock::ns_since(self.start, at).min(now),
            None => now,
        }
    }

    fn complete(
        &self,
        responses: &[QuerySampleResponse<'_>],
        at: Option<Instant>,
    ) -> Result<(), CompletionError> {
        // One time stamp for the batch, taken first, as LoadGen does.
        let now = self.ns_at(at);
        let mut first_err = None;
        for r in responses {
            if let Err(e) = self.complete_one(r, now) {
                self.faults.record(e.clone().into(), false, &*self.sink);
                first_err.get_or_insert(e);
            }
        }
        self.wake_waiter();
        first_err.map_or(Ok(()), Err)
    }

    #[inline]
    fn complete_one(&self, r: &QuerySampleResponse<'_>, now: u64) -> Result<(), CompletionError> {
        let pos = self.pos_of(r.id)?;
        if self.ended.load(Ordering::Relaxed) {
            return Err(CompletionError::RunEnded { id: r.id });
        }
        if self.complete_ns[pos]
            .compare_exchange(0, now + 1, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return Err(CompletionError::Duplicate {
                id: r.id,
                sample_index: self.plan.samples()[pos] as usize,
            });
        }
        let n_tokens = r.n_tokens.map(|n| n as i64).unwrap_or(0);
        if let Some(tokens) = &self.n_tokens {
            tokens[pos].store(n_tokens, Ordering::Relaxed);
            // TPOT divides by n_tokens - 1: LoadGen reports answers without
            // at least two tokens as errors; so do we (capped, not per sample).
            if n_tokens <= 1
                && self.token_errors.fetch_add(1, Ordering::Relaxed) < MAX_LOGGED_FAULTS
            {
                let message = if n_tokens == 0 {
                    "n_tokens argument missing or attempted to record 0 as number of tokens"
                } else {
                    "Number of tokens need to be greater than 1"
                };
                self.sink
                    .detail(DetailEvent::error("error_runtime", message));
            }
        }
        if self.should_log(pos) {
            let token_data = if self.accuracy.use_tokens && self.accuracy.needs_first_token {
                self.token_data
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&pos)
            } else {
                None
            };
            self.sink.accuracy(AccuracyEntry {
                seq_id: self.plan.first_sample_id + pos as u64,
                qsl_idx: self.plan.samples()[pos] as u64,
                data: r.data,
                token_count: self.accuracy.use_tokens.then_some(n_tokens),
                token_data: if self.accuracy.use_tokens && self.accuracy.needs_first_token {
                    Some(token_data.as_deref().unwrap_or(&[]))
                } else {
                    None
                },
            });
        }
        self.completed.fetch_add(1, Ordering::Release);
        Ok(())
    }

    fn first_token(
        &self,
        responses: &[QuerySampleResponse<'_>],
        at: Option<Instant>,
    ) -> Result<(), CompletionError> {
        let now = self.ns_at(at);
        let mut first_err = None;
        for r in responses {
            let res = self.pos_of(r.id).and_then(|pos| {
                if self.complete_ns[pos].load(Ordering::Acquire) != 0 {
                    return Err(CompletionError::FirstTokenAfterCompletion {
                        id: r.id,
                        sample_index: self.plan.samples()[pos] as usize,
                    });
                }
                if let Some(ft) = &self.first_token_ns {
                    // A repeated first token keeps the earliest time stamp.
                    let _ =
                        ft[pos].compare_exchange(0, now + 1, Ordering::AcqRel, Ordering::Relaxed);
                    if self.accuracy.needs_first_token && self.should_log(pos) {
                        self.token_data
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(pos, r.data.to_vec());
                    }
                }
                Ok(())
            });
            if let Err(e) = res {
                self.faults.record(e.clone().into(), false, &*self.sink);
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

/// The handle a SUT answers through. Cheap to clone and `Send`: hand it to
/// worker threads. Each run has its own; ids from another run are refused.
#[derive(Clone)]
pub struct Completer {
    pub(crate) state: Arc<RunState>,
}

impl std::fmt::Debug for Completer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completer")
            .field("epoch", &self.state.epoch)
            .finish()
    }
}

impl Completer {
    /// Samples are done (LoadGen's `QuerySamplesComplete`). All responses in
    /// one call share one completion time stamp. An id that is unknown or
    /// already completed is refused, recorded as a fault of the test, and
    /// the rest of the batch is still recorded.
    pub fn complete(&self, responses: &[QuerySampleResponse<'_>]) -> Result<(), CompletionError> {
        self.state.complete(responses, None)
    }

    /// As [`Completer::complete`], with the completion time stamped by the
    /// SUT at `at` (when the answer's last byte was read off the socket,
    /// say) instead of at this call; a time after now counts as now, and
    /// one before the run's start as its start.
    pub fn complete_at(
        &self,
        responses: &[QuerySampleResponse<'_>],
        at: Instant,
    ) -> Result<(), CompletionError> {
        self.state.complete(responses, Some(at))
    }

    /// One sample is done, with its response bytes.
    pub fn complete_one(&self, id: ResponseId, data: &[u8]) -> Result<(), CompletionError> {
        self.state
            .complete(&[QuerySampleResponse::new(id, data)], None)
    }

    /// The first token of these samples is ready (LoadGen's
    /// `FirstTokenComplete`); only meaningful with token latencies.
    pub fn first_token(
        &self,
        responses: &[QuerySampleResponse<'_>],
    ) -> Result<(), CompletionError> {
        self.state.first_token(responses, None)
    }

    /// As [`Completer::first_token`], stamped by the SUT at `at` (clamped
    /// like [`Completer::complete_at`]).
    pub fn first_token_at(
        &self,
        responses: &[QuerySampleResponse<'_>],
        at: Instant,
    ) -> Result<(), CompletionError> {
        self.state.first_token(responses, Some(at))
    }
}

//! `QuerySamplesComplete` and `FirstTokenComplete`: the SUT's answers, from
//! any Python thread.
//!
//! The official API has no handle in these calls, so the completion handle
//! of the run in progress lives in a process-wide slot: the SUT adapter
//! stores the core's [`Completer`] there before every `IssueQuery` callback
//! (the core makes one per run), and `StartTest` clears it when the test
//! ends. A completion is then one lock of that slot, a reference-count
//! increment, and the core's lock-free completion of each sample.
//!
//! The response bytes are not copied: each response becomes a slice over
//! its `data` address, which the core reads only for responses that go to
//! the accuracy log.

use std::cell::RefCell;
use std::sync::Mutex;

use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use yardstick_core::log::{AccuracyEntry, LogSink};
use yardstick_core::sut::{Completer, CompletionError, QuerySampleResponse as CoreResponse};

use crate::rawtypes;
use crate::samples::ResponseFields;

pyo3::create_exception!(
    _loadgen,
    CompletionFailed,
    PyValueError,
    "A response was refused: its id is unknown in this run, it was already completed, \
     or the run has ended. The refusal is also logged as an error of the test (INVALID)."
);

/// The completion handle of the run in progress (`None` between tests).
static CURRENT: Mutex<Option<Completer>> = Mutex::new(None);

/// Makes `completer` the one `QuerySamplesComplete` uses.
pub fn set_current(completer: Option<&Completer>) {
    let mut slot = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
    *slot = completer.cloned();
}

fn current() -> PyResult<Completer> {
    CURRENT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .ok_or_else(|| {
            PyRuntimeError::new_err(
                "QuerySamplesComplete / FirstTokenComplete called while no test is running \
                 (before StartTest, or after it returned)",
            )
        })
}

/// Responses per call into the core. Bounds the memory a huge batch takes
/// (40 bytes a response here, instead of 220 MB for an Offline query of 5.5
/// million samples); each chunk gets its own completion time stamp, taken
/// after the previous chunks were recorded, so the batch's last time stamp
/// is, as in LoadGen, taken after the whole list has been read.
const CHUNK: usize = 16 * 1024;

/// A slice over the response bytes.
///
/// # Safety
/// As in the official module, `data` must point to `size` readable bytes
/// that stay valid and unchanged until the `QuerySamplesComplete` call
/// returns; only the caller (the SUT author) can guarantee that.
unsafe fn response_bytes<'a>(f: &ResponseFields) -> PyResult<&'a [u8]> {
    if f.size == 0 {
        return Ok(&[]);
    }
    if f.data == 0 {
        return Err(PyValueError::new_err(format!(
            "QuerySampleResponse(id={:#x}) has size {} but data address 0",
            f.id, f.size
        )));
    }
    let size = usize::try_from(f.size)
        .ok()
        .filter(|&s| s <= isize::MAX as usize)
        .ok_or_else(|| {
            PyValueError::new_err(format!(
                "QuerySampleResponse(id={:#x}) has an impossible size {}",
                f.id, f.size
            ))
        })?;
    // SAFETY: non-null, size checked; validity is the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(f.data as usize as *const u8, size) })
}

fn response_fields(item: &Bound<'_, PyAny>) -> PyResult<ResponseFields> {
    match rawtypes::response_fields(item) {
        Some(f) => Ok(f),
        None => Err(PyTypeError::new_err(format!(
            "expected QuerySampleResponse objects, got {}",
            item.get_type().name()?
        ))),
    }
}

/// Calls `f` with every item of `responses` (a list, a tuple or any
/// iterable), in order.
fn for_each_item<'py>(
    responses: &Bound<'py, PyAny>,
    mut f: impl FnMut(&Bound<'py, PyAny>) -> PyResult<()>,
) -> PyResult<()> {
    if let Ok(list) = responses.cast::<PyList>() {
        // Index rather than iterate: the list may be changed by `f`'s Python
        // callbacks; indexing past the end simply stops.
        let mut i = 0;
        while i < list.len() {
            f(&list.get_item(i)?)?;
            i += 1;
        }
        return Ok(());
    }
    if let Ok(tuple) = responses.cast::<PyTuple>() {
        for item in tuple.iter() {
            f(&item)?;
        }
        return Ok(());
    }
    for item in responses.try_iter()? {
        f(&item?)?;
    }
    Ok(())
}

/// What the core refused, as a Python exception.
fn completion_error(e: CompletionError) -> PyErr {
    CompletionFailed::new_err(e.to_string())
}

/// Which of the core's entry points a batch goes to.
#[derive(Clone, Copy)]
enum Kind {
    Complete,
    FirstToken,
}

fn submit(
    completer: &Completer,
    kind: Kind,
    batch: &[CoreResponse<'_>],
) -> Result<(), CompletionError> {
    match kind {
        Kind::Complete => completer.complete(batch),
        Kind::FirstToken => completer.first_token(batch),
    }
}

/// Reads `responses` in chunks and hands them to the core. Every valid
/// response is recorded; the first problem (a malformed item, or a response
/// the core refused) is raised afterwards.
fn complete_all(responses: &Bound<'_, PyAny>, kind: Kind) -> PyResult<()> {
    let completer = current()?;
    let mut first_err: Option<PyErr> = None;
    let cap = responses.len().unwrap_or(CHUNK).min(CHUNK);
    let mut batch: Vec<CoreResponse<'static>> = Vec::with_capacity(cap);
    let flush = |batch: &mut Vec<CoreResponse<'static>>, first_err: &mut Option<PyErr>| {
        if let Err(e) = submit(&completer, kind, batch) {
            first_err.get_or_insert_with(|| completion_error(e));
        }
        batch.clear();
    };
    for_each_item(responses, |item| {
        let parsed = response_fields(item).and_then(|f| {
            // SAFETY: the caller's contract (see `response_bytes`); the
            // slice is used only until this call returns.
            let data = unsafe { response_bytes(&f) }?;
            Ok(CoreResponse {
                id: f.id,
                data,
                n_tokens: Some(f.n_tokens as u64),
            })
        });
        match parsed {
            Ok(r) => {
                batch.push(r);
                if batch.len() == CHUNK {
                    flush(&mut batch, &mut first_err);
                }
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
        Ok(())
    })?;
    if !batch.is_empty() {
        flush(&mut batch, &mut first_err);
    }
    first_err.map_or(Ok(()), Err)
}

/// A response callback waiting for the core to log the response it is
/// attached to (see [`HookSink`]).
struct Hook {
    callback: Py<PyAny>,
    response: Py<PyAny>,
    error: Option<PyErr>,
}

thread_local! {
    /// Set by `QuerySamplesComplete(..., response_cb)` around the core call
    /// for one response; the core logs accuracy entries on the calling
    /// thread, so `HookSink::accuracy` finds it here.
    static HOOK: RefCell<Option<Hook>> = const { RefCell::new(None) };
}

/// `QuerySamplesComplete` with a response callback: LoadGen calls the
/// callback for each response that goes to the accuracy log, before it
/// copies the bytes (so the callback may move them to the host first). The
/// core only tells which responses it logs while logging them, so each
/// response is completed on its own here, with the callback waiting in
/// [`HOOK`] for [`HookSink`] to run it. (The responses then get one time
/// stamp each instead of one for the batch, nanoseconds apart.)
fn complete_with_callback(
    responses: &Bound<'_, PyAny>,
    callback: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let completer = current()?;
    let mut first_err: Option<PyErr> = None;
    for_each_item(responses, |item| {
        let one = (|| -> PyResult<()> {
            let fields = response_fields(item)?;
            let response = item.clone().unbind();
            // SAFETY: the caller's contract, as in `complete_all`.
            let data = unsafe { response_bytes(&fields) }?;
            HOOK.with(|h| {
                *h.borrow_mut() = Some(Hook {
                    callback: callback.clone().unbind(),
                    response,
                    error: None,
                })
            });
            let r = completer.complete(&[CoreResponse {
                id: fields.id,
                data,
                n_tokens: Some(fields.n_tokens as u64),
            }]);
            let hook = HOOK.with(|h| h.borrow_mut().take());
            if let Some(Hook { error: Some(e), .. }) = hook {
                return Err(e);
            }
            r.map_err(completion_error)
        })();
        if let Err(e) = one {
            first_err.get_or_insert(e);
        }
        Ok(())
    })?;
    first_err.map_or(Ok(()), Err)
}

/// Samples are done (LoadGen's `QuerySamplesComplete`), from any thread.
///
/// `responses` is a list (or any iterable) of `QuerySampleResponse`. The
/// bytes at each response's `data` address are read during this call, and
/// only for responses that go to the accuracy log. `response_cb`, if given,
/// is called with each such response before its bytes are read.
///
/// Raises `CompletionFailed` (a `ValueError`) for a response id that is
/// unknown in this run or completed twice, after recording the other
/// responses; the test records the error and is INVALID.
#[pyfunction(name = "QuerySamplesComplete")]
#[pyo3(signature = (responses, response_cb = None))]
pub fn query_samples_complete(
    responses: &Bound<'_, PyAny>,
    response_cb: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    match response_cb {
        Some(cb) if !cb.is_none() => complete_with_callback(responses, cb),
        _ => complete_all(responses, Kind::Complete),
    }
}

/// The first token of these samples is ready (LoadGen's
/// `FirstTokenComplete`); for token-latency tests. As in LoadGen,
/// `response_cb` is accepted and not called.
#[pyfunction(name = "FirstTokenComplete")]
#[pyo3(signature = (responses, response_cb = None))]
pub fn first_token_complete(
    responses: &Bound<'_, PyAny>,
    response_cb: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let _ = response_cb;
    complete_all(responses, Kind::FirstToken)
}

/// The log sink of a Python test: passes everything on to the log writer,
/// and runs a pending response callback ([`HOOK`]) before an accuracy entry
/// is written, taking the bytes from the response as the callback left it.
pub struct HookSink {
    pub inner: std::sync::Arc<yardstick_logs::MlperfLogWriter>,
}

impl LogSink for HookSink {
    fn detail(&self, event: yardstick_core::log::DetailEvent) {
        self.inner.detail(event)
    }

    fn accuracy(&self, entry: AccuracyEntry<'_>) {
        let hook = HOOK.with(|h| h.borrow_mut().take());
        let Some(mut hook) = hook else {
            return self.inner.accuracy(entry);
        };
        Python::attach(|py| {
            let response = hook.response.bind(py);
            let called = hook.callback.bind(py).call1((response.clone(),));
            // SAFETY: the caller's contract, as in `complete_all`: the
            // callback has made the response's bytes readable.
            match called
                .and_then(|_| response_fields(response))
                .and_then(|f| unsafe { response_bytes(&f) })
            {
                Ok(data) => self.inner.accuracy(AccuracyEntry { data, ..entry }),
                Err(e) => {
                    // The original address may not be readable (device
                    // memory): log the response without its bytes.
                    self.inner.accuracy(AccuracyEntry { data: &[], ..entry });
                    hook.error.get_or_insert(e);
                }
            }
        });
        HOOK.with(|h| *h.borrow_mut() = Some(hook));
    }

    fn summary(&self, summary: &yardstick_core::results::PerformanceSummary) {
        self.inner.summary(summary)
    }

    fn timeline(&self, timeline: &yardstick_core::run::RunTimeline<'_>) {
        self.inner.timeline(timeline)
    }

    fn error_count(&self) -> usize {
        self.inner.error_count()
    }

    fn wants_timeline(&self) -> bool {
        self.inner.wants_timeline()
    }
}

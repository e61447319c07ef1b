//! `ConstructSUT` / `ConstructFastSUT` / `ConstructQDL` / `ConstructQSL` and
//! their `Destroy*`, and the adapters that let the core call the Python
//! callbacks.
//!
//! As in the official module the constructors return an integer handle.
//! Handles index a process-wide registry; a test holds its own reference to
//! the callbacks, so destroying a handle during a test is harmless.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyList;

use yardstick_core::log::{DetailEvent, LogSink};
use yardstick_core::sut::{
    BoxError, Completer, QuerySample, QuerySampleLibrary, SampleIndex, SystemUnderTest,
};

use crate::complete;
use crate::samples::QuerySampleList;

/// How a Python SUT wants its queries.
#[derive(Debug)]
pub enum IssueStyle {
    /// `issue(samples: QuerySampleList)` (`ConstructSUT`, `ConstructQDL`).
    Samples(Py<PyAny>),
    /// `issue(ids: list[int], indices: list[int])` (`ConstructFastSUT`).
    Fast(Py<PyAny>),
}

/// A SUT made from Python callbacks.
#[derive(Debug)]
pub struct PySutDef {
    pub issue: IssueStyle,
    pub flush: Py<PyAny>,
    /// `ConstructQDL`'s name callback; otherwise the name is fixed.
    pub name_cb: Option<Py<PyAny>>,
    /// "PySUT", "PyFastSUT" or "PyQDL" (the official names).
    pub fixed_name: &'static str,
}

/// A sample library made from Python callbacks.
#[derive(Debug)]
pub struct PyQslDef {
    pub total: usize,
    pub performance: usize,
    pub load: Py<PyAny>,
    pub unload: Py<PyAny>,
}

#[derive(Debug, Clone)]
enum Entry {
    Sut(Arc<PySutDef>),
    Qsl(Arc<PyQslDef>),
}

static REGISTRY: Mutex<Option<HashMap<u64, Entry>>> = Mutex::new(None);
/// Handles are never reused; they start far from small integers so that a
/// QSL's sample count passed by mistake is not a valid handle.
static NEXT_HANDLE: AtomicU64 = AtomicU64::new(0x7953_0000_0001);

fn with_registry<R>(f: impl FnOnce(&mut HashMap<u64, Entry>) -> R) -> R {
    let mut guard = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(HashMap::new))
}

fn register(entry: Entry) -> u64 {
    let h = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
    with_registry(|r| r.insert(h, entry));
    h
}

/// The SUT of a handle, or a clear error.
pub fn sut(handle: u64) -> PyResult<Arc<PySutDef>> {
    match with_registry(|r| r.get(&handle).cloned()) {
        Some(Entry::Sut(s)) => Ok(s),
        Some(Entry::Qsl(_)) => Err(PyValueError::new_err(format!(
            "handle {handle:#x} is a QSL, where a SUT (ConstructSUT) was expected"
        ))),
        None => Err(PyValueError::new_err(format!(
            "{handle:#x} is not a live SUT handle (not made by ConstructSUT, or destroyed)"
        ))),
    }
}

/// The sample library of a handle, or a clear error.
pub fn qsl(handle: u64) -> PyResult<Arc<PyQslDef>> {
    match with_registry(|r| r.get(&handle).cloned()) {
        Some(Entry::Qsl(q)) => Ok(q),
        Some(Entry::Sut(_)) => Err(PyValueError::new_err(format!(
            "handle {handle:#x} is a SUT, where a QSL (ConstructQSL) was expected"
        ))),
        None => Err(PyValueError::new_err(format!(
            "{handle:#x} is not a live QSL handle (not made by ConstructQSL, or destroyed)"
        ))),
    }
}

fn destroy(handle: u64, want_sut: bool) -> PyResult<()> {
    with_registry(|r| match r.get(&handle) {
        Some(Entry::Sut(_)) if want_sut => {
            r.remove(&handle);
            Ok(())
        }
        Some(Entry::Qsl(_)) if !want_sut => {
            r.remove(&handle);
            Ok(())
        }
        _ => Err(PyValueError::new_err(format!(
            "{handle:#x} is not a live {} handle",
            if want_sut { "SUT" } else { "QSL" }
        ))),
    })
}

/// Construct the system under test: `issue_cb(samples)` gets each query's
/// samples (a `QuerySampleList` of `QuerySample`), `flush_queries_cb()` is
/// called when no more queries will come in a run. Returns a handle.
#[pyfunction(name = "ConstructSUT")]
pub fn construct_sut(issue_cb: Py<PyAny>, flush_queries_cb: Py<PyAny>) -> u64 {
    register(Entry::Sut(Arc::new(PySutDef {
        issue: IssueStyle::Samples(issue_cb),
        flush: flush_queries_cb,
        name_cb: None,
        fixed_name: "PySUT",
    })))
}

/// Construct the system under test, fast issue: `fast_issue_cb(ids,
/// indices)` gets two lists of int per query.
#[pyfunction(name = "ConstructFastSUT")]
pub fn construct_fast_sut(fast_issue_cb: Py<PyAny>, flush_queries_cb: Py<PyAny>) -> u64 {
    register(Entry::Sut(Arc::new(PySutDef {
        issue: IssueStyle::Fast(fast_issue_cb),
        flush: flush_queries_cb,
        name_cb: None,
        fixed_name: "PyFastSUT",
    })))
}

/// Construct a query dispatch library: a SUT whose name comes from
/// `name_cb()` (asked once per test here).
#[pyfunction(name = "ConstructQDL")]
pub fn construct_qdl(issue_cb: Py<PyAny>, flush_queries_cb: Py<PyAny>, name_cb: Py<PyAny>) -> u64 {
    register(Entry::Sut(Arc::new(PySutDef {
        issue: IssueStyle::Samples(issue_cb),
        flush: flush_queries_cb,
        name_cb: Some(name_cb),
        fixed_name: "PyQDL",
    })))
}

/// Destroy the object created by ConstructSUT.
#[pyfunction(name = "DestroySUT")]
pub fn destroy_sut(sut: u64) -> PyResult<()> {
    destroy(sut, true)
}

/// Destroy the object created by ConstructFastSUT.
#[pyfunction(name = "DestroyFastSUT")]
pub fn destroy_fast_sut(sut: u64) -> PyResult<()> {
    destroy(sut, true)
}

/// Destroy the object created by ConstructQDL.
#[pyfunction(name = "DestroyQDL")]
pub fn destroy_qdl(qdl: u64) -> PyResult<()> {
    destroy(qdl, true)
}

/// Construct the query sample library: `total_sample_count` samples, of
/// which `performance_sample_count` fit in memory at once;
/// `load_samples_to_ram_cb(indices)` and `unload_samples_from_ram_cb(indices)`
/// get lists of int.
#[pyfunction(name = "ConstructQSL")]
pub fn construct_qsl(
    total_sample_count: usize,
    performance_sample_count: usize,
    load_samples_to_ram_cb: Py<PyAny>,
    unload_samples_from_ram_cb: Py<PyAny>,
) -> u64 {
    register(Entry::Qsl(Arc::new(PyQslDef {
        total: total_sample_count,
        performance: performance_sample_count,
        load: load_samples_to_ram_cb,
        unload: unload_samples_from_ram_cb,
    })))
}

/// Destroy the object created by ConstructQSL.
#[pyfunction(name = "DestroyQSL")]
pub fn destroy_qsl(qsl: u64) -> PyResult<()> {
    destroy(qsl, false)
}

/// What one test shares between its callbacks: the first Python exception
/// raised by a callback (re-raised by `StartTest`), and the log sink.
pub struct TestContext {
    error: Mutex<Option<PyErr>>,
    pub sink: Arc<dyn LogSink>,
}

impl TestContext {
    pub fn new(sink: Arc<dyn LogSink>) -> Self {
        TestContext {
            error: Mutex::new(None),
            sink,
        }
    }

    /// Keeps the first exception; returns the message the core logs.
    fn fail(&self, py: Python<'_>, callback: &str, err: PyErr) -> String {
        let message = format!("the {callback} callback raised {}", describe(py, &err));
        let mut slot = self.error.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert(err);
        message
    }

    /// The first exception a callback raised, if any.
    pub fn take_error(&self) -> Option<PyErr> {
        self.error.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// `TypeName: message` of an exception.
pub fn describe(py: Python<'_>, err: &PyErr) -> String {
    let ty = err
        .get_type(py)
        .qualname()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "Exception".into());
    let msg = err
        .value(py)
        .str()
        .map(|s| s.to_string())
        .unwrap_or_default();
    if msg.is_empty() {
        ty
    } else {
        format!("{ty}: {msg}")
    }
}

fn boxed(message: String) -> BoxError {
    message.into()
}

/// The core's view of a Python SUT during one test.
pub struct SutAdapter<'a> {
    pub def: &'a PySutDef,
    pub name: String,
    pub ctx: &'a TestContext,
}

impl SystemUnderTest for SutAdapter<'_> {
    fn name(&self) -> &str {
        &self.name
    }

    fn issue_query(&self, samples: &[QuerySample], completer: &Completer) -> Result<(), BoxError> {
        Python::attach(|py| {
            complete::set_current(Some(completer));
            let called = match &self.def.issue {
                IssueStyle::Samples(cb) => Bound::new(py, QuerySampleList::from_core(samples))
                    .and_then(|list| cb.bind(py).call1((list,))),
                IssueStyle::Fast(cb) => {
                    let ids = PyList::new(py, samples.iter().map(|s| s.id));
                    let idx = PyList::new(py, samples.iter().map(|s| s.index));
                    ids.and_then(|ids| idx.and_then(|idx| cb.bind(py).call1((ids, idx))))
                }
            };
            called
                .map(drop)
                .map_err(|e| boxed(self.ctx.fail(py, "IssueQuery", e)))
        })
    }

    fn flush_queries(&self) {
        Python::attach(|py| {
            if let Err(e) = self.def.flush.bind(py).call0() {
                let message = self.ctx.fail(py, "FlushQueries", e);
                self.ctx
                    .sink
                    .detail(DetailEvent::error("error_runtime", message));
            }
        })
    }
}

/// The core's view of a Python sample library during one test.
pub struct QslAdapter<'a> {
    pub def: &'a PyQslDef,
    pub ctx: &'a TestContext,
}

impl QslAdapter<'_> {
    fn call(&self, what: &str, cb: &Py<PyAny>, indices: &[SampleIndex]) -> Result<(), BoxError> {
        Python::attach(|py| {
            PyList::new(py, indices)
                .and_then(|list| cb.bind(py).call1((list,)))
                .map(drop)
                .map_err(|e| boxed(self.ctx.fail(py, what, e)))
        })
    }
}

impl QuerySampleLibrary for QslAdapter<'_> {
    fn name(&self) -> &str {
        "PyQSL"
    }

    fn total_sample_count(&self) -> usize {
        self.def.total
    }

    fn performance_sample_count(&self) -> usize {
        self.def.performance
    }

    fn load_samples_to_ram(&self, indices: &[SampleIndex]) -> Result<(), BoxError> {
        self.call("LoadSamplesToRam", &self.def.load, indices)
    }

    fn unload_samples_from_ram(&self, indices: &[SampleIndex]) -> Result<(), BoxError> {
        self.call("UnloadSamplesFromRam", &self.def.unload, indices)
    }
}

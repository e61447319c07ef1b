//! `yardstick._loadgen`: the official `mlperf_loadgen` Python API over the
//! yardstick core, built as an abi3 extension module with PyO3 and maturin
//! (see `python/pyproject.toml`; `pip install ./python`).
//!
//! Same names, signatures and behaviour as `mlperf_loadgen` 6.0.17, so a
//! harness ports by changing its import; the differences are listed in
//! `python/README.md`. What is cheaper than the official module:
//!
//! * `StartTest` releases the interpreter for the whole test; the core
//!   takes it only to run a Python callback (`IssueQuery`, `FlushQueries`,
//!   the QSL's load/unload).
//! * `IssueQuery` gets a compact `QuerySampleList` (4 bytes a sample)
//!   that makes `QuerySample` objects only as they are read.
//! * `QuerySamplesComplete` reads each response's fields and hands the core
//!   a slice over the response bytes (no copy unless the accuracy log wants
//!   them); it keeps the interpreter, since recording a completion takes
//!   nanoseconds.
//! * `QuerySample` and `QuerySampleResponse` are small types outside
//!   Python's cyclic GC (`rawtypes`), so harnesses that build millions of
//!   them do not pay for collections.
//!
//! Modules: `settings` (enums, `TestSettings`, log settings), `rawtypes` and
//! `samples` (samples, responses, the sample list), `sut` (handles and the
//! adapters the core calls), `complete` (completions and the log sink that
//! runs response callbacks), `test` (`StartTest`), `power` (`set_power`,
//! `YARDSTICK_POWER`: energy over the test's window).

mod complete;
mod power;
mod rawtypes;
mod recording;
mod samples;
mod settings;
mod sut;
mod test;

use pyo3::prelude::*;

/// The module: every class and function of `mlperf_loadgen`, plus a few
/// extensions in snake_case.
#[pymodule]
fn _loadgen(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add(
        "__doc__",
        "MLPerf Inference load generator (yardstick core).",
    )?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("LOADGEN_COMPAT_VERSION", "6.0.17")?;

    m.add_class::<settings::PyTestScenario>()?;
    m.add_class::<settings::PyTestMode>()?;
    m.add_class::<settings::PyLoggingMode>()?;
    m.add_class::<settings::PyTestSettings>()?;
    m.add_class::<settings::PyLogOutputSettings>()?;
    m.add_class::<settings::PyLogSettings>()?;
    rawtypes::register(m)?;
    m.add_class::<samples::QuerySampleList>()?;
    m.add_class::<samples::QuerySampleListIter>()?;
    m.add(
        "CompletionFailed",
        py.get_type::<complete::CompletionFailed>(),
    )?;

    m.add_function(wrap_pyfunction!(sut::construct_sut, m)?)?;
    m.add_function(wrap_pyfunction!(sut::destroy_sut, m)?)?;
    m.add_function(wrap_pyfunction!(sut::construct_fast_sut, m)?)?;
    m.add_function(wrap_pyfunction!(sut::destroy_fast_sut, m)?)?;
    m.add_function(wrap_pyfunction!(sut::construct_qdl, m)?)?;
    m.add_function(wrap_pyfunction!(sut::destroy_qdl, m)?)?;
    m.add_function(wrap_pyfunction!(sut::construct_qsl, m)?)?;
    m.add_function(wrap_pyfunction!(sut::destroy_qsl, m)?)?;
    m.add_function(wrap_pyfunction!(test::start_test, m)?)?;
    m.add_function(wrap_pyfunction!(test::start_test_with_log_settings, m)?)?;
    m.add_function(wrap_pyfunction!(complete::query_samples_complete, m)?)?;
    m.add_function(wrap_pyfunction!(complete::first_token_complete, m)?)?;
    m.add_function(wrap_pyfunction!(test::last_test_outcome, m)?)?;
    m.add_function(wrap_pyfunction!(test::set_stall_timeout, m)?)?;
    m.add_function(wrap_pyfunction!(power::set_power, m)?)?;
    Ok(())
}

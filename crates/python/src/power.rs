//! Power and energy around a harness's test, as `yardstick run --power`
//! measures them: the meter opened before `StartTest` runs the test,
//! started just before it and stopped just after, its trace cut to the
//! test's measured window (yardstick-pipeline's `PowerHook`).
//!
//! Off unless asked for, so an unchanged harness behaves as before: by
//! `yardstick.loadgen.set_power("rapl")` (a bad value raises `ValueError`)
//! or, for a harness that cannot be changed, the `YARDSTICK_POWER`
//! environment variable (a bad value is a `UserWarning`, and no meter).
//! `set_power` wins over the variable. A source that is missing is a line
//! on stderr, never a failed test.

use std::sync::Mutex;

use pyo3::exceptions::{PyUserWarning, PyValueError};
use pyo3::prelude::*;

use yardstick_pipeline::power_meters::DEFAULT_SAMPLE_HZ;
use yardstick_pipeline::record::PowerRecord;
use yardstick_pipeline::{
    open_power, power_opened_line, power_summary_lines, PowerChoice, PowerHook,
};

/// The environment variable an unchanged harness is measured with.
pub const POWER_ENV: &str = "YARDSTICK_POWER";

/// What `set_power` chose (source, readings a second); `None`: the
/// environment decides.
static CHOSEN: Mutex<Option<(PowerChoice, f64)>> = Mutex::new(None);

/// Why the module does not take `director://`.
const NO_DIRECTOR: &str = "director:// runs the test twice (a ranging run, then the testing run) and a harness's StartTest runs it once; use `yardstick run --power director://host:port`, or ptd://host:port for a direct PTDaemon connection";

/// Extension (not in the official API): measure the power and energy of
/// the following tests with `source` (`auto`, `off`, `nvml`,
/// `rapl[:ROOT]`, `ptd://host:port`), sampling NVML and RAPL `sample_hz`
/// times a second; `None` goes back to `$YARDSTICK_POWER` (off if unset).
/// The figures land in the run record (`YARDSTICK_RECORD=1`), in
/// `last_test_outcome()["power"]` and in lines printed after the test.
#[pyfunction]
#[pyo3(signature = (source = None, sample_hz = DEFAULT_SAMPLE_HZ))]
pub fn set_power(source: Option<&str>, sample_hz: f64) -> PyResult<()> {
    if !(sample_hz.is_finite() && sample_hz > 0.0) {
        return Err(PyValueError::new_err(format!(
            "sample_hz must be a positive number of readings a second, not {sample_hz}"
        )));
    }
    let chosen = match source {
        None => None,
        Some(text) => Some((parse(text).map_err(PyValueError::new_err)?, sample_hz)),
    };
    *CHOSEN.lock().unwrap_or_else(|e| e.into_inner()) = chosen;
    Ok(())
}

/// A setting the module can run, or why not.
fn parse(text: &str) -> Result<PowerChoice, String> {
    match text.parse::<PowerChoice>() {
        Ok(PowerChoice::Director(_)) => Err(NO_DIRECTOR.to_string()),
        Ok(choice) => Ok(choice),
        Err(e) => Err(format!("power: {e}")),
    }
}

/// The meter for the next test, opened (not started), or `None`: off, or
/// unavailable (said on stderr), or a bad `YARDSTICK_POWER` (a warning).
pub fn open_for_test(py: Python<'_>) -> Option<PowerHook> {
    let chosen = CHOSEN.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let (choice, hz) = match chosen {
        Some(c) => c,
        None => {
            let text = std::env::var(POWER_ENV).ok()?;
            match parse(&text) {
                Ok(choice) => (choice, DEFAULT_SAMPLE_HZ),
                Err(why) => {
                    let message = format!("{POWER_ENV}={text:?} is not used: {why}");
                    let category = py.get_type::<PyUserWarning>();
                    // An environment variable holds no NUL byte.
                    let text = std::ffi::CString::new(message.clone()).unwrap_or_default();
                    if PyErr::warn(py, category.as_any(), &text, 1).is_err() {
                        eprintln!("yardstick: warning: {message}");
                    }
                    return None;
                }
            }
        }
    };
    match open_power(&choice, hz) {
        Ok(Some(hook)) => {
            eprintln!("yardstick: {}", power_opened_line(&hook));
            Some(hook)
        }
        Ok(None) => None,
        Err(e) => {
            eprintln!("yardstick: power: not measured: {e}");
            None
        }
    }
}

/// Prints the summary's power lines on Python's stdout (where the harness
/// sees them, in order with its own prints).
pub fn print_summary(py: Python<'_>, power: &PowerRecord) {
    let text = power_summary_lines(power).join("\n") + "\n";
    let written = py
        .import("sys")
        .and_then(|sys| sys.getattr("stdout"))
        .and_then(|out| out.call_method1("write", (text.as_str(),)));
    if written.is_err() {
        print!("{text}");
    }
}

/// The power record as a Python dict (its run.json form).
pub fn to_py<'py>(py: Python<'py>, power: &PowerRecord) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_string(power)
        .map_err(|e| PyValueError::new_err(format!("the power record: {e}")))?;
    py.import("json")?.call_method1("loads", (json,))
}

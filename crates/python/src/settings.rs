//! `TestScenario`, `TestMode`, `LoggingMode`, `TestSettings` (with
//! `FromConfig`), `LogOutputSettings` and `LogSettings`, with the official
//! module's names, defaults and attribute types.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyString;

use yardstick_core::settings::config::scenario_argument;
use yardstick_core::settings::resolve::field_values;
use yardstick_core::settings::{
    ConfigKind, ConfigWarning, SettingOrigin, SettingSource, SettingsResolver, TestSettings,
};
use yardstick_core::{Mode, Scenario};

/// Declares a LoadGen enum as pybind11 shows it: a frozen, hashable class
/// whose members compare with ints and have `name`, `value` and
/// `__index__`; with `core = Type`, also the conversions both ways to the
/// core's enum of the same member names.
macro_rules! loadgen_enum {
    (
        $(#[$doc:meta])*
        $py:ident as $name:literal, core = $core:ident {
            $($member:ident = $value:literal),+ $(,)?
        }
    ) => {
        loadgen_enum! { $(#[$doc])* $py as $name { $($member = $value),+ } }

        impl From<$py> for $core {
            fn from(v: $py) -> $core {
                match v {
                    $($py::$member => $core::$member),+
                }
            }
        }

        impl From<$core> for $py {
            fn from(v: $core) -> $py {
                match v {
                    $($core::$member => $py::$member),+
                }
            }
        }
    };
    (
        $(#[$doc:meta])*
        $py:ident as $name:literal {
            $($member:ident = $value:literal),+ $(,)?
        }
    ) => {
        $(#[$doc])*
        #[pyclass(
            module = "yardstick._loadgen",
            name = $name,
            eq,
            eq_int,
            hash,
            frozen,
            from_py_object
        )]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $py {
            $($member = $value),+
        }

        #[pymethods]
        impl $py {
            /// The member's name, as pybind11 enums have it.
            #[getter]
            fn name(&self) -> &'static str {
                match self {
                    $($py::$member => stringify!($member)),+
                }
            }
            /// The member's number (LoadGen's enum value).
            #[getter]
            fn value(&self) -> i32 {
                *self as i32
            }
            fn __index__(&self) -> i32 {
                *self as i32
            }
        }
    };
}

loadgen_enum! {
    /// How queries arrive (LoadGen's `TestScenario`).
    PyTestScenario as "TestScenario", core = Scenario {
        SingleStream = 0,
        MultiStream = 1,
        Server = 2,
        Offline = 3,
    }
}

loadgen_enum! {
    /// What a test measures (LoadGen's `TestMode`).
    PyTestMode as "TestMode", core = Mode {
        SubmissionRun = 0,
        AccuracyOnly = 1,
        PerformanceOnly = 2,
        FindPeakPerformance = 3,
    }
}

loadgen_enum! {
    /// LoadGen's `LoggingMode`. Accepted for compatibility; yardstick's log
    /// writer buffers and writes from the threads that log, whatever the mode.
    PyLoggingMode as "LoggingMode" {
        AsyncPoll = 0,
        EndOfTestOnly = 1,
        Synchronous = 2,
    }
}

/// A boolean attribute that, like pybind11's `bool` in conversion mode,
/// accepts any object with a truth value (`True`, `1`, `numpy.bool_`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flag(pub bool);

impl<'a, 'py> FromPyObject<'a, 'py> for Flag {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Ok(Flag(obj.is_truthy()?))
    }
}

impl<'py> IntoPyObject<'py> for Flag {
    type Target = pyo3::types::PyBool;
    type Output = Borrowed<'py, 'py, pyo3::types::PyBool>;
    type Error = std::convert::Infallible;
    fn into_pyobject(self, py: Python<'py>) -> Result<Self::Output, Self::Error> {
        self.0.into_pyobject(py)
    }
}

/// Declares `PyTestSettings` with one Python attribute per LoadGen field,
/// and the conversions to and from the core's `TestSettings`.
macro_rules! test_settings {
    ($( $(#[$doc:meta])* $py:ident : $ty:ty => $core:ident ),* $(,)?) => {
        /// The settings of a test, field for field the official module's
        /// `TestSettings` (same names, units and defaults).
        #[pyclass(module = "yardstick._loadgen", name = "TestSettings", from_py_object)]
        #[derive(Debug, Clone)]
        pub struct PyTestSettings {
            $( $(#[$doc])* #[pyo3(get, set)] pub $py: $ty, )*
            /// Where the values came from, as of the last `FromConfig` (not
            /// a Python attribute).
            pub origins: ConfigOrigins,
        }

        impl PyTestSettings {
            /// The core's settings with these values.
            pub fn to_core(&self) -> TestSettings {
                TestSettings {
                    $( $core: conv::to_core(self.$py), )*
                }
            }

            /// Python settings with the core's values.
            pub fn from_core(s: &TestSettings) -> Self {
                PyTestSettings {
                    $( $py: conv::from_core(s.$core), )*
                    origins: ConfigOrigins::unset(s.clone()),
                }
            }

            /// Takes every value from the core's settings, and their
            /// origins.
            pub fn set_resolved(&mut self, s: &TestSettings, provenance: Vec<SettingOrigin>) {
                $( self.$py = conv::from_core(s.$core); )*
                self.origins = ConfigOrigins {
                    snapshot: s.clone(),
                    provenance,
                };
            }

            /// The Python attribute names, in declaration order.
            pub const FIELD_NAMES: &'static [&'static str] = &[$( stringify!($py), )*];

            /// The Python attribute setting each core field.
            fn attribute_of(core_field: &str) -> &'static str {
                $( if core_field == stringify!($core) { return stringify!($py); } )*
                "?"
            }
        }
    };
}

/// Field conversions between the Python attribute types and the core's.
mod conv {
    use super::*;

    pub trait Conv<C> {
        fn to(self) -> C;
        fn from(c: C) -> Self;
    }
    impl<T: Copy> Conv<T> for T {
        fn to(self) -> T {
            self
        }
        fn from(c: T) -> T {
            c
        }
    }
    impl Conv<bool> for Flag {
        fn to(self) -> bool {
            self.0
        }
        fn from(c: bool) -> Flag {
            Flag(c)
        }
    }
    impl Conv<Scenario> for PyTestScenario {
        fn to(self) -> Scenario {
            self.into()
        }
        fn from(c: Scenario) -> Self {
            c.into()
        }
    }
    impl Conv<Mode> for PyTestMode {
        fn to(self) -> Mode {
            self.into()
        }
        fn from(c: Mode) -> Self {
            c.into()
        }
    }
    pub fn to_core<P: Conv<C>, C>(p: P) -> C {
        p.to()
    }
    pub fn from_core<P: Conv<C>, C>(c: C) -> P {
        P::from(c)
    }
}

test_settings! {
    scenario: PyTestScenario => scenario,
    mode: PyTestMode => mode,
    single_stream_expected_latency_ns: f64 => single_stream_expected_latency_ns,
    single_stream_target_latency_percentile: f64 => single_stream_target_latency_percentile,
    multi_stream_expected_latency_ns: f64 => multi_stream_expected_latency_ns,
    multi_stream_target_latency_percentile: f64 => multi_stream_target_latency_percentile,
    multi_stream_samples_per_query: u64 => multi_stream_samples_per_query,
    server_target_qps: f64 => server_target_qps,
    server_target_latency_ns: u64 => server_target_latency_ns,
    server_target_latency_percentile: f64 => server_target_latency_percentile,
    server_coalesce_queries: Flag => server_coalesce_queries,
    server_find_peak_qps_decimals_of_precision: i32 => server_find_peak_qps_decimals_of_precision,
    server_find_peak_qps_boundary_step_size: f64 => server_find_peak_qps_boundary_step_size,
    server_max_async_queries: u64 => server_max_async_queries,
    server_num_issue_query_threads: u64 => server_num_issue_query_threads,
    offline_expected_qps: f64 => offline_expected_qps,
    sample_concatenate_permutation: Flag => sample_concatenate_permutation,
    min_duration_ms: u64 => min_duration_ms,
    max_duration_ms: u64 => max_duration_ms,
    min_query_count: u64 => min_query_count,
    max_query_count: u64 => max_query_count,
    qsl_rng_seed: u64 => qsl_rng_seed,
    sample_index_rng_seed: u64 => sample_index_rng_seed,
    schedule_rng_seed: u64 => schedule_rng_seed,
    accuracy_log_rng_seed: u64 => accuracy_log_rng_seed,
    accuracy_log_probability: f64 => accuracy_log_probability,
    accuracy_log_sampling_target: u64 => accuracy_log_sampling_target,
    test05: Flag => test05,
    test05_qsl_rng_seed: u64 => test05_qsl_rng_seed,
    test05_sample_index_rng_seed: u64 => test05_sample_index_rng_seed,
    test05_schedule_rng_seed: u64 => test05_schedule_rng_seed,
    print_timestamps: Flag => print_timestamps,
    performance_issue_unique: Flag => performance_issue_unique,
    performance_issue_same: Flag => performance_issue_same,
    performance_issue_same_index: u64 => performance_issue_same_index,
    performance_sample_count_override: u64 => performance_sample_count_override,
    accuracy_sample_count_override: u64 => accuracy_sample_count_override,
    use_token_latencies: Flag => use_token_latencies,
    /// The Server time-to-first-token bound in ns (LoadGen's
    /// `server_ttft_latency`; the official module names it so).
    ttft_latency: u64 => server_ttft_latency,
    /// The Server time-per-output-token bound in ns (LoadGen's
    /// `server_tpot_latency`).
    tpot_latency: u64 => server_tpot_latency,
    infer_token_latencies: Flag => infer_token_latencies,
    token_latency_scaling_factor: u64 => token_latency_scaling_factor,
}

/// The values of a `TestSettings` as the last `FromConfig` left them, and
/// where each came from. A field whose value differs now was set through
/// its attribute since (attribute sets are not intercepted one by one:
/// comparing is exact and costs nothing on the harness's path).
#[derive(Debug, Clone)]
pub struct ConfigOrigins {
    snapshot: TestSettings,
    provenance: Vec<SettingOrigin>,
}

impl ConfigOrigins {
    /// Nothing set yet: every field is its default.
    fn unset(settings: TestSettings) -> Self {
        ConfigOrigins {
            snapshot: settings,
            provenance: Vec::new(),
        }
    }
}

impl PyTestSettings {
    /// Every field's effective value and source: the config line that set
    /// it, `Api { "TestSettings.<attribute>" }` when the harness assigned a
    /// different value since, or `Default`.
    pub fn settings_provenance(&self) -> Vec<SettingOrigin> {
        let now = self.to_core();
        let before = field_values(&self.origins.snapshot);
        field_values(&now)
            .into_iter()
            .zip(before)
            .map(|((field, value), (_, old))| {
                let source = if value != old {
                    SettingSource::api(format!("TestSettings.{}", Self::attribute_of(field)))
                } else {
                    self.origins
                        .provenance
                        .iter()
                        .find(|o| o.field == field)
                        .map_or(SettingSource::Default, |o| o.source.clone())
                };
                SettingOrigin {
                    field: field.to_string(),
                    value,
                    source,
                }
            })
            .collect()
    }

    /// Takes the resolver's settings and origins.
    fn take_resolved(&mut self, resolver: SettingsResolver) {
        let resolved = resolver.finish();
        self.set_resolved(&resolved.settings, resolved.provenance);
    }

    /// A resolver that continues from these settings and their origins.
    pub fn resolver(&self) -> SettingsResolver {
        SettingsResolver::from_settings(self.to_core(), self.settings_provenance())
    }
}

/// A provenance list as Python sees it: one dict per field, `field`,
/// `value` (text, as effective) and `source` (a dict with `kind` and the
/// source's details: `file`, `line`, `key`, or `name`).
pub fn provenance_to_py<'py>(
    py: Python<'py>,
    provenance: &[SettingOrigin],
) -> PyResult<Bound<'py, pyo3::types::PyList>> {
    use pyo3::types::{PyDict, PyList};
    let list = PyList::empty(py);
    for o in provenance {
        let source = PyDict::new(py);
        match &o.source {
            SettingSource::Default => source.set_item("kind", "default")?,
            SettingSource::MlperfConf { file, line, key }
            | SettingSource::UserConf { file, line, key }
            | SettingSource::AuditConf { file, line, key } => {
                let kind = match &o.source {
                    SettingSource::MlperfConf { .. } => "mlperf_conf",
                    SettingSource::UserConf { .. } => "user_conf",
                    _ => "audit_conf",
                };
                source.set_item("kind", kind)?;
                source.set_item("file", file)?;
                source.set_item("line", line)?;
                source.set_item("key", key)?;
            }
            SettingSource::Flag { name } => {
                source.set_item("kind", "flag")?;
                source.set_item("name", name)?;
            }
            SettingSource::Api { name } => {
                source.set_item("kind", "api")?;
                source.set_item("name", name)?;
            }
        }
        let d = PyDict::new(py);
        d.set_item("field", &o.field)?;
        d.set_item("value", &o.value)?;
        d.set_item("source", source)?;
        list.append(d)?;
    }
    Ok(list)
}

/// How many `FromConfig(..., conf_type=1)` calls this process has made.
/// LoadGen applies its built-in mlperf.conf before the first one only (a
/// function-local static in `TestSettings::FromConfig`); we do the same.
static USER_CONF_COUNT: AtomicUsize = AtomicUsize::new(0);

fn warn(py: Python<'_>, message: &str) -> PyResult<()> {
    let category = py.get_type::<pyo3::exceptions::PyUserWarning>();
    PyErr::warn(
        py,
        &category,
        &std::ffi::CString::new(message).unwrap_or_default(),
        1,
    )
}

fn warn_all(py: Python<'_>, warnings: &[ConfigWarning]) -> PyResult<()> {
    for w in warnings {
        warn(py, &w.to_string())?;
    }
    Ok(())
}

#[pymethods]
impl PyTestSettings {
    #[new]
    fn py_new() -> Self {
        let mut s = PyTestSettings::from_core(&TestSettings::default());
        // LoadGen leaves this field without an initialiser; pybind11's
        // `new TestSettings()` value-initialises it to 0, so Python sees 0.
        s.token_latency_scaling_factor = 0;
        s.origins = ConfigOrigins::unset(s.to_core());
        s
    }

    /// Applies a config file as LoadGen's `TestSettings::FromConfig` does
    /// and returns 0.
    ///
    /// `conf_type` 1 (the default) reads a user.conf at `path`; before the
    /// first such call of the process the built-in mlperf.conf (LoadGen
    /// 6.0.17's) is applied, as LoadGen does. `conf_type` 0 applies only the
    /// built-in mlperf.conf (`path` is ignored), 2 an audit.config at
    /// `path`. `scenario` is spelt as in config keys ("SingleStream",
    /// "MultiStream", "Server", "Offline"); like LoadGen this does not set
    /// `self.scenario`.
    ///
    /// Where LoadGen returns an error code and logs, this raises:
    /// `FileNotFoundError` for a missing file, `ValueError` (naming the file
    /// and line) for a line LoadGen rejects or would misread. Lines LoadGen
    /// would silently ignore (unknown keys, say) give a `UserWarning`.
    #[pyo3(name = "FromConfig", signature = (path, model, scenario, conf_type = 1))]
    fn apply_config_file(
        &mut self,
        py: Python<'_>,
        path: PathBuf,
        model: &str,
        scenario: &str,
        conf_type: i32,
    ) -> PyResult<i32> {
        // Through the core's resolver, which records the line behind every
        // value it sets; values the harness assigned since the last call
        // keep their `TestSettings.<attribute>` origin.
        let mut resolver = self.resolver();
        let value_error =
            |e: yardstick_core::settings::ConfigError| PyValueError::new_err(e.to_string());
        let apply_mlperf_conf = |resolver: &mut SettingsResolver| {
            let sc = scenario_argument("mlperf.conf", scenario).map_err(value_error)?;
            resolver
                .apply_config(
                    ConfigKind::MlperfConf,
                    yardstick_core::settings::resolve::EMBEDDED_MLPERF_CONF_NAME,
                    yardstick_core::settings::MLPERF_CONF,
                    model,
                    sc,
                )
                .map(|_| ())
                .map_err(value_error)
        };
        let kind = match conf_type {
            0 => {
                apply_mlperf_conf(&mut resolver)?;
                self.take_resolved(resolver);
                return Ok(0);
            }
            1 => ConfigKind::UserConf,
            2 => ConfigKind::AuditConf,
            other => {
                return Err(PyValueError::new_err(format!(
                "conf_type must be 0 (mlperf.conf), 1 (user.conf) or 2 (audit.config), not {other}"
            )))
            }
        };
        if kind == ConfigKind::UserConf {
            if USER_CONF_COUNT.fetch_add(1, Ordering::Relaxed) == 0 {
                apply_mlperf_conf(&mut resolver)?;
                // LoadGen keeps what mlperf.conf set even when the user.conf
                // then fails to open or parse.
                self.take_resolved(resolver.clone());
            } else {
                warn(
                    py,
                    "Multiple conf files are used. This is not valid for official submission \
                     (LoadGen applies its mlperf.conf before the first user.conf of a process only).",
                )?;
            }
        }
        let name = path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(PyFileNotFoundError::new_err(format!(
                    "FromConfig: can't open file {name}"
                )))
            }
            Err(e) => {
                return Err(PyOSError::new_err(format!(
                    "FromConfig: can't read {name}: {e}"
                )))
            }
        };
        let sc = scenario_argument(&name, scenario).map_err(value_error)?;
        let warnings = resolver
            .apply_config(kind, &name, &text, model, sc)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        self.take_resolved(resolver);
        warn_all(py, &warnings)?;
        Ok(0)
    }

    /// Extension (not in the official API): every field's effective value
    /// and where it came from, as a list of dicts `{"field", "value",
    /// "source"}`, `field` being LoadGen's `TestSettings` member name and
    /// `source` `{"kind": "default" | "mlperf_conf" | "user_conf" |
    /// "audit_conf" | "api", ...}` with `file`, `line` and `key` for a
    /// config line, `name` for an attribute (`TestSettings.<attribute>`).
    /// An audit.config is applied at `StartTest`: see
    /// `last_test_outcome()["settings_provenance"]`.
    fn provenance<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyList>> {
        provenance_to_py(py, &self.settings_provenance())
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let mut parts = Vec::with_capacity(Self::FIELD_NAMES.len());
        for name in Self::FIELD_NAMES {
            let v = slf.getattr(*name)?;
            parts.push(format!("{name}={}", v.repr()?));
        }
        Ok(format!("TestSettings({})", parts.join(", ")))
    }

    fn __copy__(&self) -> Self {
        self.clone()
    }

    #[pyo3(signature = (_memo = None))]
    fn __deepcopy__(&self, _memo: Option<&Bound<'_, PyAny>>) -> Self {
        self.clone()
    }
}

/// Where the log files go (LoadGen's `LogOutputSettings`).
#[pyclass(
    module = "yardstick._loadgen",
    name = "LogOutputSettings",
    from_py_object
)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyLogOutputSettings {
    /// Directory of the log files (default "."); created if missing (LoadGen
    /// refuses to run instead).
    pub outdir: String,
    /// Start of every file name (default "mlperf_log_").
    #[pyo3(get, set)]
    pub prefix: String,
    /// End of every file name before the extension (default "").
    #[pyo3(get, set)]
    pub suffix: String,
    #[pyo3(get, set)]
    pub prefix_with_datetime: Flag,
    #[pyo3(get, set)]
    pub copy_detail_to_stdout: Flag,
    #[pyo3(get, set)]
    pub copy_summary_to_stdout: Flag,
}

impl Default for PyLogOutputSettings {
    fn default() -> Self {
        PyLogOutputSettings {
            outdir: ".".into(),
            prefix: "mlperf_log_".into(),
            suffix: String::new(),
            prefix_with_datetime: Flag(false),
            copy_detail_to_stdout: Flag(false),
            copy_summary_to_stdout: Flag(false),
        }
    }
}

#[pymethods]
impl PyLogOutputSettings {
    #[new]
    fn py_new() -> Self {
        Self::default()
    }

    /// The log directory (a `str`; any path-like object is accepted).
    #[getter]
    fn outdir(&self) -> &str {
        &self.outdir
    }

    #[setter]
    fn set_outdir(&mut self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.outdir = if let Ok(s) = value.cast::<PyString>() {
            s.to_cow()?.into_owned()
        } else {
            let p: PathBuf = value.extract()?;
            p.to_string_lossy().into_owned()
        };
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!(
            "LogOutputSettings(outdir={:?}, prefix={:?}, suffix={:?}, prefix_with_datetime={}, copy_detail_to_stdout={}, copy_summary_to_stdout={})",
            self.outdir,
            self.prefix,
            self.suffix,
            py_bool(self.prefix_with_datetime.0),
            py_bool(self.copy_detail_to_stdout.0),
            py_bool(self.copy_summary_to_stdout.0)
        )
    }
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// Logging options (LoadGen's `LogSettings`). `log_output` is held by
/// reference, so `ls.log_output.outdir = d` changes `ls`; assigning a
/// `LogOutputSettings` to it copies it, as the official module does.
#[pyclass(module = "yardstick._loadgen", name = "LogSettings")]
#[derive(Debug)]
pub struct PyLogSettings {
    log_output: Py<PyLogOutputSettings>,
    /// Accepted for compatibility; it changes nothing.
    #[pyo3(get, set)]
    pub log_mode: PyLoggingMode,
    /// Accepted for compatibility (LoadGen does not use it either).
    #[pyo3(get, set)]
    pub log_mode_async_poll_interval_ms: u64,
    /// Write `mlperf_log_trace.json` (default True, as LoadGen). The trace
    /// keeps every sample's timestamps in memory until the run ends.
    #[pyo3(get, set)]
    pub enable_trace: Flag,
}

#[pymethods]
impl PyLogSettings {
    #[new]
    fn py_new(py: Python<'_>) -> PyResult<Self> {
        Ok(PyLogSettings {
            log_output: Py::new(py, PyLogOutputSettings::default())?,
            log_mode: PyLoggingMode::AsyncPoll,
            log_mode_async_poll_interval_ms: 1000,
            enable_trace: Flag(true),
        })
    }

    #[getter]
    fn log_output(&self, py: Python<'_>) -> Py<PyLogOutputSettings> {
        self.log_output.clone_ref(py)
    }

    #[setter]
    fn set_log_output(&mut self, py: Python<'_>, value: PyLogOutputSettings) -> PyResult<()> {
        self.log_output = Py::new(py, value)?;
        Ok(())
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "LogSettings(log_output={}, log_mode=LoggingMode.{}, log_mode_async_poll_interval_ms={}, enable_trace={})",
            self.log_output.bind(py).borrow().__repr__(),
            self.log_mode.name(),
            self.log_mode_async_poll_interval_ms,
            py_bool(self.enable_trace.0)
        )
    }
}

/// The log options of one test, read from a `LogSettings`.
#[derive(Debug, Clone)]
pub struct LogOptions {
    pub output: PyLogOutputSettings,
    pub enable_trace: bool,
}

impl LogOptions {
    /// The official `StartTest`'s defaults (`LogSettings()`).
    pub fn default_settings() -> Self {
        LogOptions {
            output: PyLogOutputSettings::default(),
            enable_trace: true,
        }
    }

    pub fn from_py(py: Python<'_>, ls: &PyLogSettings) -> Self {
        LogOptions {
            output: ls.log_output.bind(py).borrow().clone(),
            enable_trace: ls.enable_trace.0,
        }
    }

    /// The log writer's settings.
    pub fn writer_settings(&self) -> yardstick_logs::LogOutputSettings {
        yardstick_logs::LogOutputSettings {
            outdir: PathBuf::from(&self.output.outdir),
            prefix: self.output.prefix.clone(),
            suffix: self.output.suffix.clone(),
            prefix_with_datetime: self.output.prefix_with_datetime.0,
            copy_detail_to_stdout: self.output.copy_detail_to_stdout.0,
            copy_summary_to_stdout: self.output.copy_summary_to_stdout.0,
            enable_trace: self.enable_trace,
        }
    }
}

//! Resolving settings once, in LoadGen's order, with provenance.
//!
//! LoadGen builds a test's settings in layers: its defaults, mlperf.conf,
//! the submitter's user.conf, whatever the harness sets (here: command-line
//! flags, or the Python module's attribute sets), and last the
//! audit.config of a compliance test, which therefore wins over everything.
//! [`SettingsResolver`] applies those layers and records, for every field
//! of [`TestSettings`], the layer that set it last: a config file and line,
//! a flag, or an API call. [`SettingsPlan`] is the whole recipe at once, so
//! that every front end resolves in the same order.
//!
//! No I/O: callers pass file texts.

use std::fmt;

use super::config::{AppliedConfig, ConfigError, ConfigKind, ConfigWarning, MLPERF_CONF};
use super::TestSettings;
use crate::{Mode, Scenario};

/// The name the embedded official mlperf.conf goes by in provenance and
/// warnings.
pub const EMBEDDED_MLPERF_CONF_NAME: &str = "mlperf.conf (embedded)";

/// Where an effective setting came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SettingSource {
    /// LoadGen's default: nothing set it.
    Default,
    MlperfConf {
        file: String,
        line: usize,
        key: String,
    },
    UserConf {
        file: String,
        line: usize,
        key: String,
    },
    /// A command-line flag, e.g. `--target-qps`.
    Flag { name: String },
    AuditConf {
        file: String,
        line: usize,
        key: String,
    },
    /// Set through an API rather than a file or flag: a Python attribute
    /// (`TestSettings.min_query_count`), a workload file's settings, a
    /// front end's own choice.
    Api { name: String },
}

impl SettingSource {
    pub fn flag(name: impl Into<String>) -> Self {
        SettingSource::Flag { name: name.into() }
    }

    pub fn api(name: impl Into<String>) -> Self {
        SettingSource::Api { name: name.into() }
    }

    /// The source of a config line of this kind of file.
    pub fn config_line(kind: ConfigKind, file: &str, line: usize, key: &str) -> Self {
        let (file, key) = (file.to_string(), key.to_string());
        match kind {
            ConfigKind::MlperfConf => SettingSource::MlperfConf { file, line, key },
            ConfigKind::UserConf => SettingSource::UserConf { file, line, key },
            ConfigKind::AuditConf => SettingSource::AuditConf { file, line, key },
        }
    }
}

impl fmt::Display for SettingSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingSource::Default => f.write_str("default"),
            SettingSource::MlperfConf { file, line, key }
            | SettingSource::UserConf { file, line, key }
            | SettingSource::AuditConf { file, line, key } => {
                write!(f, "{file}:{line} ({key})")
            }
            SettingSource::Flag { name } => write!(f, "flag {name}"),
            SettingSource::Api { name } => write!(f, "api {name}"),
        }
    }
}

/// One effective setting and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SettingOrigin {
    /// The [`TestSettings`] field (LoadGen's `TestSettings` member name),
    /// e.g. `server_target_qps`.
    pub field: String,
    /// The effective value, as text (the field's unit: ns, ms, a fraction
    /// for percentiles).
    pub value: String,
    pub source: SettingSource,
}

/// What a resolution gives: the settings a test runs with, where each field
/// came from (every field of [`TestSettings`], in declaration order), and
/// the config files' warnings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ResolvedSettings {
    pub settings: TestSettings,
    pub provenance: Vec<SettingOrigin>,
    /// Config lines LoadGen would accept but ignore; not serialized (they
    /// are shown to the user and logged as they are found).
    #[serde(skip)]
    pub warnings: Vec<ConfigWarning>,
}

impl ResolvedSettings {
    /// The origin of one field, by its [`TestSettings`] name.
    pub fn origin(&self, field: &str) -> Option<&SettingOrigin> {
        self.provenance.iter().find(|o| o.field == field)
    }

    /// The settings and warnings, for callers that do not need provenance.
    pub fn into_parts(self) -> (TestSettings, Vec<ConfigWarning>) {
        (self.settings, self.warnings)
    }

    /// One line per field, `field = value  # source`, for people.
    pub fn describe(&self) -> String {
        let width = self
            .provenance
            .iter()
            .map(|o| o.field.len() + o.value.len() + 3)
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for o in &self.provenance {
            let assignment = format!("{} = {}", o.field, o.value);
            out.push_str(&format!("{assignment:<width$}  # {}\n", o.source));
        }
        out
    }
}

/// Declares [`SettingValue`] (one typed variant per field of
/// [`TestSettings`]) and the field table behind provenance.
macro_rules! setting_fields {
    ($( $variant:ident($ty:ty) => $field:ident ),* $(,)?) => {
        /// A typed value for one field of [`TestSettings`], for a layer that
        /// sets fields directly (a flag, an API call).
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub enum SettingValue {
            $( $variant($ty), )*
        }

        impl SettingValue {
            /// The [`TestSettings`] field this value sets.
            pub fn field(&self) -> &'static str {
                match self {
                    $( SettingValue::$variant(_) => stringify!($field), )*
                }
            }

            fn apply_to(self, settings: &mut TestSettings) {
                match self {
                    $( SettingValue::$variant(v) => settings.$field = v, )*
                }
            }
        }

        /// Every field of [`TestSettings`], in declaration order.
        pub const FIELD_NAMES: &[&str] = &[ $( stringify!($field), )* ];

        /// A field's value as text.
        fn field_text(settings: &TestSettings, index: usize) -> String {
            let mut i = 0;
            $(
                if i == index {
                    return settings.$field.to_string();
                }
                i += 1;
            )*
            let _ = i;
            String::new()
        }
    };
}

setting_fields! {
    Scenario(Scenario) => scenario,
    Mode(Mode) => mode,
    SingleStreamExpectedLatencyNs(f64) => single_stream_expected_latency_ns,
    SingleStreamTargetLatencyPercentile(f64) => single_stream_target_latency_percentile,
    MultiStreamExpectedLatencyNs(f64) => multi_stream_expected_latency_ns,
    MultiStreamTargetLatencyPercentile(f64) => multi_stream_target_latency_percentile,
    MultiStreamSamplesPerQuery(u64) => multi_stream_samples_per_query,
    ServerTargetQps(f64) => server_target_qps,
    ServerTargetLatencyNs(u64) => server_target_latency_ns,
    ServerTargetLatencyPercentile(f64) => server_target_latency_percentile,
    ServerCoalesceQueries(bool) => server_coalesce_queries,
    ServerFindPeakQpsDecimalsOfPrecision(i32) => server_find_peak_qps_decimals_of_precision,
    ServerFindPeakQpsBoundaryStepSize(f64) => server_find_peak_qps_boundary_step_size,
    ServerMaxAsyncQueries(u64) => server_max_async_queries,
    ServerNumIssueQueryThreads(u64) => server_num_issue_query_threads,
    OfflineExpectedQps(f64) => offline_expected_qps,
    SampleConcatenatePermutation(bool) => sample_concatenate_permutation,
    MinDurationMs(u64) => min_duration_ms,
    MaxDurationMs(u64) => max_duration_ms,
    MinQueryCount(u64) => min_query_count,
    MaxQueryCount(u64) => max_query_count,
    QslRngSeed(u64) => qsl_rng_seed,
    SampleIndexRngSeed(u64) => sample_index_rng_seed,
    ScheduleRngSeed(u64) => schedule_rng_seed,
    AccuracyLogRngSeed(u64) => accuracy_log_rng_seed,
    AccuracyLogProbability(f64) => accuracy_log_probability,
    AccuracyLogSamplingTarget(u64) => accuracy_log_sampling_target,
    Test05(bool) => test05,
    Test05QslRngSeed(u64) => test05_qsl_rng_seed,
    Test05SampleIndexRngSeed(u64) => test05_sample_index_rng_seed,
    Test05ScheduleRngSeed(u64) => test05_schedule_rng_seed,
    PrintTimestamps(bool) => print_timestamps,
    PerformanceIssueUnique(bool) => performance_issue_unique,
    PerformanceIssueSame(bool) => performance_issue_same,
    PerformanceIssueSameIndex(u64) => performance_issue_same_index,
    PerformanceSampleCountOverride(u64) => performance_sample_count_override,
    AccuracySampleCountOverride(u64) => accuracy_sample_count_override,
    UseTokenLatencies(bool) => use_token_latencies,
    ServerTtftLatency(u64) => server_ttft_latency,
    ServerTpotLatency(u64) => server_tpot_latency,
    InferTokenLatencies(bool) => infer_token_latencies,
    TokenLatencyScalingFactor(u64) => token_latency_scaling_factor,
}

/// Every field of `settings` with its value as text (as in
/// [`SettingOrigin::value`]), in declaration order.
pub fn field_values(settings: &TestSettings) -> Vec<(&'static str, String)> {
    FIELD_NAMES
        .iter()
        .enumerate()
        .map(|(i, field)| (*field, field_text(settings, i)))
        .collect()
}

fn field_index(field: &str) -> Option<usize> {
    FIELD_NAMES.iter().position(|f| *f == field)
}

/// Applies layers to [`TestSettings`] and keeps, per field, the source of
/// the last layer that set it. Layers apply in the order they are given;
/// [`SettingsPlan`] gives them in LoadGen's order.
#[derive(Debug, Clone)]
pub struct SettingsResolver {
    settings: TestSettings,
    /// Indexed like [`FIELD_NAMES`].
    sources: Vec<SettingSource>,
    warnings: Vec<ConfigWarning>,
}

impl Default for SettingsResolver {
    fn default() -> Self {
        SettingsResolver::new()
    }
}

impl SettingsResolver {
    /// LoadGen's defaults, every field from [`SettingSource::Default`].
    pub fn new() -> Self {
        SettingsResolver::from_settings(TestSettings::default(), Vec::new())
    }

    /// Continues from settings resolved earlier: `provenance` names the
    /// source of some fields; fields it does not name are from
    /// [`SettingSource::Default`]. (The Python module keeps a
    /// `TestSettings` object between calls.)
    pub fn from_settings(settings: TestSettings, provenance: Vec<SettingOrigin>) -> Self {
        let mut sources = vec![SettingSource::Default; FIELD_NAMES.len()];
        for origin in provenance {
            if let Some(i) = field_index(&origin.field) {
                sources[i] = origin.source;
            }
        }
        SettingsResolver {
            settings,
            sources,
            warnings: Vec::new(),
        }
    }

    /// The settings so far.
    pub fn settings(&self) -> &TestSettings {
        &self.settings
    }

    /// Applies one config text as LoadGen applies a file of `kind` (see
    /// [`TestSettings::apply_config`]); every field a line sets names that
    /// line. Returns the text's warnings (also kept for
    /// [`SettingsResolver::finish`]). On error nothing is applied.
    pub fn apply_config(
        &mut self,
        kind: ConfigKind,
        file: &str,
        text: &str,
        model: &str,
        scenario: Scenario,
    ) -> Result<Vec<ConfigWarning>, ConfigError> {
        self.apply_config_labelled(kind, file, text, model, scenario, |line, key| {
            SettingSource::config_line(kind, file, line, key)
        })
    }

    /// [`SettingsResolver::apply_config`] with the source of each line
    /// chosen by `label(line, key)`: for a text put together from several
    /// origins (a workload's settings appended to mlperf.conf), so that
    /// provenance names the real origin rather than the combined text.
    pub fn apply_config_labelled(
        &mut self,
        kind: ConfigKind,
        file: &str,
        text: &str,
        model: &str,
        scenario: Scenario,
        label: impl Fn(usize, &str) -> SettingSource,
    ) -> Result<Vec<ConfigWarning>, ConfigError> {
        let AppliedConfig {
            warnings,
            fields_set,
        } = self
            .settings
            .apply_config_traced(file, text, model, scenario.as_str(), kind)?;
        for set in fields_set {
            if let Some(i) = field_index(set.field) {
                self.sources[i] = label(set.line, &set.key);
            }
        }
        self.warnings.extend(warnings.iter().cloned());
        Ok(warnings)
    }

    /// The embedded official mlperf.conf. Its warnings (two lines LoadGen
    /// never reads) are not the user's to fix, so they are dropped.
    pub fn apply_embedded_mlperf_conf(
        &mut self,
        model: &str,
        scenario: Scenario,
    ) -> Result<(), ConfigError> {
        let kept = self.warnings.len();
        self.apply_config(
            ConfigKind::MlperfConf,
            EMBEDDED_MLPERF_CONF_NAME,
            MLPERF_CONF,
            model,
            scenario,
        )?;
        self.warnings.truncate(kept);
        Ok(())
    }

    /// Sets one field from `source` (a flag, an API call).
    pub fn set(&mut self, source: SettingSource, value: SettingValue) {
        if let Some(i) = field_index(value.field()) {
            self.sources[i] = source;
        }
        value.apply_to(&mut self.settings);
    }

    /// Applies an [`Override`]: each of its values, all from its source.
    pub fn apply_override(&mut self, o: &Override) {
        for v in &o.values {
            self.set(o.source.clone(), *v);
        }
    }

    /// The settings, the source of every field, and the warnings.
    pub fn finish(self) -> ResolvedSettings {
        let provenance = FIELD_NAMES
            .iter()
            .zip(self.sources)
            .enumerate()
            .map(|(i, (field, source))| SettingOrigin {
                field: field.to_string(),
                value: field_text(&self.settings, i),
                source,
            })
            .collect();
        ResolvedSettings {
            settings: self.settings,
            provenance,
            warnings: self.warnings,
        }
    }
}

/// Fields set together from one source, e.g. `--target-qps` sets both
/// `server_target_qps` and `offline_expected_qps`.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub source: SettingSource,
    pub values: Vec<SettingValue>,
}

impl Override {
    pub fn new(source: SettingSource, values: impl IntoIterator<Item = SettingValue>) -> Self {
        Override {
            source,
            values: values.into_iter().collect(),
        }
    }

    /// A command-line flag's override.
    pub fn flag(name: &str, values: impl IntoIterator<Item = SettingValue>) -> Self {
        Override::new(SettingSource::flag(name), values)
    }
}

/// A config file's name (for provenance and messages) and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigText<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

/// Which mlperf.conf a plan starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MlperfConfText<'a> {
    /// The official file compiled into yardstick ([`MLPERF_CONF`]).
    Embedded,
    /// A file of the user's.
    File(ConfigText<'a>),
}

/// The whole recipe of a test's settings, resolved in LoadGen's order by
/// [`SettingsPlan::resolve`]: defaults, mlperf.conf, user.conf, the
/// scenario and `overrides` (flags, in the order given), then audit.config
/// (read with model `*`, as LoadGen does), which wins over everything.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsPlan<'a> {
    /// The model name config keys are looked up with (`model.scenario.key`).
    pub model: &'a str,
    /// The scenario config keys are looked up for; also the effective
    /// `scenario`, named by `scenario_source`.
    pub scenario: Scenario,
    pub scenario_source: SettingSource,
    pub mlperf_conf: MlperfConfText<'a>,
    /// A front end's own defaults (an endpoint load test's duration, say):
    /// above mlperf.conf, below user.conf, so a submitter's file still
    /// decides what it sets.
    pub front_end_defaults: Vec<Override>,
    pub user_conf: Option<ConfigText<'a>>,
    pub overrides: Vec<Override>,
    pub audit_conf: Option<ConfigText<'a>>,
}

impl<'a> SettingsPlan<'a> {
    /// A plan with the embedded mlperf.conf and nothing else.
    pub fn new(model: &'a str, scenario: Scenario, scenario_source: SettingSource) -> Self {
        SettingsPlan {
            model,
            scenario,
            scenario_source,
            mlperf_conf: MlperfConfText::Embedded,
            front_end_defaults: Vec::new(),
            user_conf: None,
            overrides: Vec::new(),
            audit_conf: None,
        }
    }

    pub fn resolve(&self) -> Result<ResolvedSettings, ConfigError> {
        self.resolve_labelled(|_, _| None)
    }

    /// [`SettingsPlan::resolve`], with `mlperf_conf_label(line, key)`
    /// naming the source of an mlperf.conf line where the text was put
    /// together from several origins (`None`: the file's own line).
    pub fn resolve_labelled(
        &self,
        mlperf_conf_label: impl Fn(usize, &str) -> Option<SettingSource>,
    ) -> Result<ResolvedSettings, ConfigError> {
        let mut r = SettingsResolver::new();
        match self.mlperf_conf {
            MlperfConfText::Embedded => r.apply_embedded_mlperf_conf(self.model, self.scenario)?,
            MlperfConfText::File(conf) => {
                r.apply_config_labelled(
                    ConfigKind::MlperfConf,
                    conf.name,
                    conf.text,
                    self.model,
                    self.scenario,
                    |line, key| {
                        mlperf_conf_label(line, key).unwrap_or_else(|| {
                            SettingSource::config_line(ConfigKind::MlperfConf, conf.name, line, key)
                        })
                    },
                )?;
            }
        }
        for o in &self.front_end_defaults {
            r.apply_override(o);
        }
        if let Some(conf) = self.user_conf {
            r.apply_config(
                ConfigKind::UserConf,
                conf.name,
                conf.text,
                self.model,
                self.scenario,
            )?;
        }
        r.set(
            self.scenario_source.clone(),
            SettingValue::Scenario(self.scenario),
        );
        for o in &self.overrides {
            r.apply_override(o);
        }
        if let Some(conf) = self.audit_conf {
            r.apply_config(
                ConfigKind::AuditConf,
                conf.name,
                conf.text,
                "*",
                self.scenario,
            )?;
        }
        Ok(r.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_table_covers_every_field_of_test_settings() {
        // Serde sees every field; the table must name the same ones in the
        // same order, or provenance would miss a field.
        let json = serde_json::to_value(TestSettings::default()).expect("serializes");
        let serde_fields: Vec<&str> = json
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut table: Vec<&str> = FIELD_NAMES.to_vec();
        let mut from_serde = serde_fields.clone();
        table.sort_unstable();
        from_serde.sort_unstable();
        assert_eq!(table, from_serde);
    }

    #[test]
    fn defaults_name_default_and_show_values() {
        let r = SettingsResolver::new().finish();
        assert_eq!(r.provenance.len(), FIELD_NAMES.len());
        let o = r.origin("min_duration_ms").expect("field exists");
        assert_eq!(o.value, "10000");
        assert_eq!(o.source, SettingSource::Default);
        assert_eq!(
            r.origin("scenario").map(|o| o.value.as_str()),
            Some("SingleStream")
        );
    }
}

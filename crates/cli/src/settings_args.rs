//! Building `TestSettings` from config files and command-line flags, in
//! LoadGen's order: mlperf.conf, user.conf, flags, then audit.config, once,
//! through the core's [`SettingsPlan`], which records where every effective
//! value came from.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use yardstick_core::settings::{
    ConfigText, MlperfConfText, Override, ResolvedSettings, SettingSource, SettingValue,
    SettingsPlan,
};
use yardstick_core::{Mode, Scenario};

#[derive(Debug, Clone, Args)]
pub struct SettingsArgs {
    // Scenario, mode and model are options rather than defaulted values so a
    // caller can tell a flag the user typed from a default (a workload
    // supplies its own); the accessors below give the defaults.
    /// Scenario: SingleStream, MultiStream, Server or Offline [default: Offline].
    #[arg(long, short = 's')]
    pub scenario: Option<Scenario>,
    /// Mode: performance, accuracy, submission or find-peak [default: performance].
    #[arg(long, short = 'm')]
    pub mode: Option<Mode>,
    /// Model name used to look up mlperf.conf/user.conf keys (model.scenario.key)
    /// [default: resnet50].
    #[arg(long)]
    pub model: Option<String>,
    /// mlperf.conf to use instead of the embedded official one.
    #[arg(long, value_name = "FILE")]
    pub mlperf_conf: Option<PathBuf>,
    /// user.conf with the submitter's settings.
    #[arg(long, value_name = "FILE")]
    pub user_conf: Option<PathBuf>,
    /// audit.config (compliance tests); LoadGen reads ./audit.config when present.
    #[arg(long, value_name = "FILE", default_value = "audit.config")]
    pub audit_conf: PathBuf,
    /// Target QPS (Server: the Poisson rate; Offline: expected QPS).
    #[arg(long)]
    pub target_qps: Option<f64>,
    /// Expected latency per query (SingleStream/MultiStream), e.g. 2ms.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub expected_latency: Option<Duration>,
    /// Latency bound of the Server scenario, e.g. 15ms.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub target_latency: Option<Duration>,
    /// Minimum test duration, e.g. 10s (min_duration_ms).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,
    /// Maximum test duration, e.g. 60s (max_duration_ms).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub max_duration: Option<Duration>,
    #[arg(long)]
    pub min_query_count: Option<u64>,
    #[arg(long)]
    pub max_query_count: Option<u64>,
    /// MultiStream samples per query.
    #[arg(long)]
    pub samples_per_query: Option<u64>,
    /// Server: issue queries already due in one call.
    #[arg(long)]
    pub coalesce_queries: bool,
    /// Server: number of issuing threads.
    #[arg(long)]
    pub issue_threads: Option<u64>,
    /// Server: end the run when more queries than this are outstanding.
    #[arg(long)]
    pub max_async_queries: Option<u64>,
    /// Report token latencies (TTFT, TPOT); the SUT must report tokens.
    #[arg(long)]
    pub token_latencies: bool,
    /// Scenario and mode a front end supplies when the flags are not given
    /// (a workload's), and who supplies them, for provenance. Not flags.
    #[arg(skip)]
    pub defaults: FrontEndDefaults,
}

/// A front end's own defaults for `--scenario` and `--mode` (a workload's
/// scenario, say), named in provenance by `source`.
#[derive(Debug, Clone, Default)]
pub struct FrontEndDefaults {
    pub scenario: Option<Scenario>,
    pub mode: Option<Mode>,
    /// E.g. `workload fashion-mnist`; `None`: yardstick's own defaults.
    pub source: Option<String>,
}

/// An mlperf.conf put together by a front end: a base file (the official
/// one or the user's) followed by lines of another origin (a workload's
/// settings). Provenance names the base file's lines by file and line, and
/// the appended lines by `appended_source`, not by the combined text.
#[derive(Debug, Clone)]
pub struct ComposedMlperfConf {
    /// Where the combined text was written (errors and warnings name it:
    /// it is the file LoadGen would read).
    pub combined_name: String,
    /// The combined text, as LoadGen reads it.
    pub text: String,
    /// The base file's name (the embedded official file's when `None`).
    pub base_name: Option<String>,
    /// Lines 1 to `base_lines` are the base file's.
    pub base_lines: usize,
    pub appended_source: SettingSource,
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// The embedded official mlperf.conf's name in provenance and warnings.
const EMBEDDED_NAME: &str = yardstick_core::settings::resolve::EMBEDDED_MLPERF_CONF_NAME;

impl SettingsArgs {
    pub fn scenario(&self) -> Scenario {
        self.scenario
            .or(self.defaults.scenario)
            .unwrap_or(Scenario::Offline)
    }

    pub fn mode(&self) -> Mode {
        self.mode
            .or(self.defaults.mode)
            .unwrap_or(Mode::PerformanceOnly)
    }

    pub fn model(&self) -> &str {
        self.model.as_deref().unwrap_or("resnet50")
    }

    /// Where a value the user did not type comes from.
    fn default_source(&self, flag: &str, front_end_has_one: bool) -> SettingSource {
        match &self.defaults.source {
            Some(source) if front_end_has_one => SettingSource::api(source.clone()),
            _ => SettingSource::api(format!("default of {flag}")),
        }
    }

    /// The flags as typed overrides, each named by its flag, in the order
    /// they apply (after user.conf, before audit.config).
    pub fn flag_overrides(&self) -> Result<Vec<Override>> {
        let mut out = Vec::new();
        // The mode is always set, as a harness sets it: typed, or the
        // front end's default.
        let mode_source = match self.mode {
            Some(_) => SettingSource::flag("--mode"),
            None => self.default_source("--mode", self.defaults.mode.is_some()),
        };
        out.push(Override::new(
            mode_source,
            [SettingValue::Mode(self.mode())],
        ));
        if let Some(q) = self.target_qps {
            anyhow::ensure!(
                q > 0.0 && q.is_finite(),
                "--target-qps must be a positive number, got {q}"
            );
            out.push(Override::flag(
                "--target-qps",
                [
                    SettingValue::ServerTargetQps(q),
                    SettingValue::OfflineExpectedQps(q),
                ],
            ));
        }
        if let Some(l) = self.expected_latency {
            let ns = l.as_nanos() as f64;
            out.push(Override::flag(
                "--expected-latency",
                [
                    SettingValue::SingleStreamExpectedLatencyNs(ns),
                    SettingValue::MultiStreamExpectedLatencyNs(ns),
                ],
            ));
        }
        if let Some(l) = self.target_latency {
            out.push(Override::flag(
                "--target-latency",
                [SettingValue::ServerTargetLatencyNs(l.as_nanos() as u64)],
            ));
        }
        if let Some(d) = self.duration {
            out.push(Override::flag(
                "--duration",
                [SettingValue::MinDurationMs(ms(d))],
            ));
        }
        if let Some(d) = self.max_duration {
            out.push(Override::flag(
                "--max-duration",
                [SettingValue::MaxDurationMs(ms(d))],
            ));
        }
        if let Some(n) = self.min_query_count {
            out.push(Override::flag(
                "--min-query-count",
                [SettingValue::MinQueryCount(n)],
            ));
        }
        if let Some(n) = self.max_query_count {
            out.push(Override::flag(
                "--max-query-count",
                [SettingValue::MaxQueryCount(n)],
            ));
        }
        if let Some(n) = self.samples_per_query {
            anyhow::ensure!(n > 0, "--samples-per-query must be at least 1");
            out.push(Override::flag(
                "--samples-per-query",
                [SettingValue::MultiStreamSamplesPerQuery(n)],
            ));
        }
        if self.coalesce_queries {
            out.push(Override::flag(
                "--coalesce-queries",
                [SettingValue::ServerCoalesceQueries(true)],
            ));
        }
        if let Some(n) = self.issue_threads {
            out.push(Override::flag(
                "--issue-threads",
                [SettingValue::ServerNumIssueQueryThreads(n)],
            ));
        }
        if let Some(n) = self.max_async_queries {
            out.push(Override::flag(
                "--max-async-queries",
                [SettingValue::ServerMaxAsyncQueries(n)],
            ));
        }
        if self.token_latencies {
            out.push(Override::flag(
                "--token-latencies",
                [SettingValue::UseTokenLatencies(true)],
            ));
        }
        Ok(out)
    }

    /// The settings, where each came from, and any config warnings
    /// (unknown keys and the like).
    pub fn build(&self) -> Result<ResolvedSettings> {
        self.resolve_with(Vec::new())
    }

    /// [`SettingsArgs::build`] with a front end's own overrides, applied
    /// after the flags and before audit.config (so a compliance test's
    /// audit.config still wins over them, as in LoadGen). Name each by the
    /// flag or choice behind it.
    pub fn resolve_with(&self, extra: Vec<Override>) -> Result<ResolvedSettings> {
        self.resolve_full(extra, None)
    }

    /// [`SettingsArgs::resolve_with`], reading mlperf.conf from `composed`
    /// rather than `--mlperf-conf` or the embedded file.
    pub fn resolve_full(
        &self,
        extra: Vec<Override>,
        composed: Option<&ComposedMlperfConf>,
    ) -> Result<ResolvedSettings> {
        self.resolve_layers(Vec::new(), extra, composed)
    }

    /// [`SettingsArgs::resolve_full`] with a front end's own defaults too:
    /// `defaults` sit above mlperf.conf and below user.conf (a user.conf
    /// line still wins over them), `extra` after the flags.
    pub fn resolve_layers(
        &self,
        defaults: Vec<Override>,
        extra: Vec<Override>,
        composed: Option<&ComposedMlperfConf>,
    ) -> Result<ResolvedSettings> {
        let scenario = self.scenario();
        let scenario_source = match self.scenario {
            Some(_) => SettingSource::flag("--scenario"),
            None => self.default_source("--scenario", self.defaults.scenario.is_some()),
        };
        let mut plan = SettingsPlan::new(self.model(), scenario, scenario_source);

        let mlperf_conf_file = match (&self.mlperf_conf, composed) {
            (Some(p), None) => Some((p.display().to_string(), read(p)?)),
            _ => None,
        };
        plan.mlperf_conf = match (composed, &mlperf_conf_file) {
            (Some(c), _) => MlperfConfText::File(ConfigText {
                name: &c.combined_name,
                text: &c.text,
            }),
            (None, Some((name, text))) => MlperfConfText::File(ConfigText { name, text }),
            (None, None) => MlperfConfText::Embedded,
        };

        let user_conf = match &self.user_conf {
            Some(p) => Some((p.display().to_string(), read(p)?)),
            None => None,
        };
        plan.user_conf = user_conf
            .as_ref()
            .map(|(name, text)| ConfigText { name, text });

        plan.front_end_defaults = defaults;
        plan.overrides = self.flag_overrides()?;
        plan.overrides.extend(extra);

        // LoadGen reads ./audit.config when it is there.
        let audit_conf = if self.audit_conf.exists() {
            Some((
                self.audit_conf.display().to_string(),
                read(&self.audit_conf)?,
            ))
        } else {
            None
        };
        plan.audit_conf = audit_conf
            .as_ref()
            .map(|(name, text)| ConfigText { name, text });

        // A composed file's lines name their real origin: the base file's
        // line (the same number in both), or the appended part's source.
        let mut resolved = plan.resolve_labelled(|line, key| {
            composed.map(|c| {
                if line > c.base_lines {
                    c.appended_source.clone()
                } else {
                    SettingSource::MlperfConf {
                        file: c.base_name.as_deref().unwrap_or(EMBEDDED_NAME).to_string(),
                        line,
                        key: key.to_string(),
                    }
                }
            })
        })?;
        if let Some(c) = composed.filter(|c| c.base_name.is_none()) {
            // The official file has two lines LoadGen never reads; they are
            // not the user's to fix (as for the embedded file).
            resolved
                .warnings
                .retain(|w| !(w.source_name == c.combined_name && w.line <= c.base_lines));
        }
        Ok(resolved)
    }
}

/// Prints every effective setting and its source, one per line.
pub fn print_settings(resolved: &ResolvedSettings) {
    print!("{}", resolved.describe());
}

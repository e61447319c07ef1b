//! Building `TestSettings` from config files and command-line flags, in
//! LoadGen's order: mlperf.conf, user.conf, flags, then audit.config.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use yardstick_core::settings::{ConfigKind, ConfigWarning, MLPERF_CONF};
use yardstick_core::{Mode, Scenario, TestSettings};

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
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

impl SettingsArgs {
    pub fn scenario(&self) -> Scenario {
        self.scenario.unwrap_or(Scenario::Offline)
    }

    pub fn mode(&self) -> Mode {
        self.mode.unwrap_or(Mode::PerformanceOnly)
    }

    pub fn model(&self) -> &str {
        self.model.as_deref().unwrap_or("resnet50")
    }

    /// The settings and any config warnings (unknown keys and the like).
    pub fn build(&self) -> Result<(TestSettings, Vec<ConfigWarning>)> {
        let mut s = TestSettings::default();
        let scenario = self.scenario().as_str();
        let model = self.model();
        let mut warnings = Vec::new();
        match &self.mlperf_conf {
            Some(p) => {
                let text = read(p)?;
                let name = p.display().to_string();
                warnings.extend(s.apply_config(
                    &name,
                    &text,
                    model,
                    scenario,
                    ConfigKind::MlperfConf,
                )?);
            }
            None => {
                // The official file has two lines LoadGen never reads; they
                // are not the user's to fix, so their warnings are dropped.
                s.apply_config(
                    "mlperf.conf (embedded)",
                    MLPERF_CONF,
                    model,
                    scenario,
                    ConfigKind::MlperfConf,
                )?;
            }
        }
        if let Some(p) = &self.user_conf {
            let text = read(p)?;
            warnings.extend(s.apply_config(
                &p.display().to_string(),
                &text,
                model,
                scenario,
                ConfigKind::UserConf,
            )?);
        }
        s.scenario = self.scenario();
        s.mode = self.mode();
        if let Some(q) = self.target_qps {
            anyhow::ensure!(
                q > 0.0 && q.is_finite(),
                "--target-qps must be a positive number, got {q}"
            );
            s.server_target_qps = q;
            s.offline_expected_qps = q;
        }
        if let Some(l) = self.expected_latency {
            s.single_stream_expected_latency_ns = l.as_nanos() as f64;
            s.multi_stream_expected_latency_ns = l.as_nanos() as f64;
        }
        if let Some(l) = self.target_latency {
            s.server_target_latency_ns = l.as_nanos() as u64;
        }
        if let Some(d) = self.duration {
            s.min_duration_ms = ms(d);
        }
        if let Some(d) = self.max_duration {
            s.max_duration_ms = ms(d);
        }
        if let Some(n) = self.min_query_count {
            s.min_query_count = n;
        }
        if let Some(n) = self.max_query_count {
            s.max_query_count = n;
        }
        if let Some(n) = self.samples_per_query {
            anyhow::ensure!(n > 0, "--samples-per-query must be at least 1");
            s.multi_stream_samples_per_query = n;
        }
        if self.coalesce_queries {
            s.server_coalesce_queries = true;
        }
        if let Some(n) = self.issue_threads {
            s.server_num_issue_query_threads = n;
        }
        if let Some(n) = self.max_async_queries {
            s.server_max_async_queries = n;
        }
        if self.token_latencies {
            s.use_token_latencies = true;
        }
        if self.audit_conf.exists() {
            let text = read(&self.audit_conf)?;
            warnings.extend(s.apply_config(
                &self.audit_conf.display().to_string(),
                &text,
                "*",
                scenario,
                ConfigKind::AuditConf,
            )?);
        }
        Ok((s, warnings))
    }
}

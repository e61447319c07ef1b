//! mlperf.conf / user.conf / audit.config parsing (LoadGen's `FromConfig`).

/// The official mlperf.conf shipped with LoadGen 6.0.17.
pub const MLPERF_CONF: &str = "";

/// Which file a config text comes from (LoadGen's `conf_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigKind {
    MlperfConf,
    UserConf,
    AuditConf,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{source_name}:{line}: {reason}")]
pub struct ConfigError {
    pub source_name: String,
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigWarning {
    pub source_name: String,
    pub line: usize,
    pub message: String,
}

//! The MLPerf Training compliance checker, natively: a log is checked
//! against the official rule files of a round (`rules/<usage>_<ruleset>/`,
//! embedded) exactly as mlperf-logging 4.1.68's `compliance_checker` does,
//! by interpreting the rules' small Python expressions ([`expr`], [`eval`]).
//!
//! The verdict, the messages (and their order) and the crashes are the
//! official ones; each message also says which line, key and rule it is
//! about.

pub mod checker;
pub mod eval;
pub mod expr;
pub mod mllog;
pub mod pyset;
pub mod rules;
pub mod value;

pub use checker::{CheckCrash, Message, Outcome, RuleRef, Severity};
pub use mllog::{ParseCrash, ParseError};
pub use rules::{RuleFileError, RuleFiles};

/// Why a log got no verdict.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("no rules for {usage} {ruleset} (there are rules for: {known})")]
    UnknownRuleset {
        usage: String,
        ruleset: String,
        known: String,
    },
    /// The official parser would stop on this log (KeyError/TypeError).
    #[error(transparent)]
    Parse(#[from] ParseCrash),
    /// The official checker would stop on this log (e.g. a benchmark with
    /// no rule file).
    #[error(transparent)]
    Check(#[from] CheckCrash),
}

/// The check of one log.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// `true`: the official checker says SUCCESS.
    pub passed: bool,
    /// Rule files applied, in order.
    pub configs_checked: Vec<String>,
    /// In the official order.
    pub messages: Vec<Message>,
    /// `:::MLLOG` lines that did not parse.
    pub parse_errors: Vec<ParseErrorReport>,
    /// The first `submission_benchmark` value the log gives, as `str()`.
    pub benchmark: Option<String>,
    /// The first `submission_division` value the log gives, as `str()`.
    pub division: Option<String>,
}

/// A line that did not parse, for the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ParseErrorReport {
    pub line: usize,
    pub text: String,
    pub error: String,
}

/// Checks a training log (its raw bytes) against `usage`/`ruleset`, e.g.
/// `training`/`5.1.0`.
pub fn check_log(
    rules: &RuleFiles,
    usage: &str,
    ruleset: &str,
    log: &[u8],
) -> Result<Report, CheckError> {
    let folder = format!("{usage}_{ruleset}");
    if !rules.rulesets().contains(&folder) {
        return Err(CheckError::UnknownRuleset {
            usage: usage.to_string(),
            ruleset: ruleset.to_string(),
            known: rules.rulesets().join(", "),
        });
    }
    let parsed = mllog::parse_log_keeping(log, |key| rules.names_key(key))?;
    let outcome = checker::check(rules, &format!("{folder}/common.yaml"), &parsed)?;
    let first_value = |key: &str| {
        parsed
            .lines
            .iter()
            .find(|l| l.key.as_deref() == Some(key))
            .map(|l| l.record_value().py_str())
    };
    Ok(Report {
        benchmark: first_value("submission_benchmark"),
        division: first_value("submission_division"),
        passed: outcome.passed(),
        configs_checked: outcome.configs_checked,
        messages: outcome.messages,
        parse_errors: parsed
            .errors
            .into_iter()
            .map(|e| ParseErrorReport {
                line: e.lineno,
                text: e.line,
                error: e.error,
            })
            .collect(),
    })
}

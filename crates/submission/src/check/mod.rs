//! `check DIR`: a submission tree checked as the official submission checker
//! of its round does (mlcommons/inference `tools/submission`), and more
//! strictly where it is lax: each such rule says so (`rules::Rule::stricter`).
//!
//! The rules of a round are data (`rounds/<round>.toml`, see [`round`]).
//! Every failure is a [`Finding`]: file, line where there is one, rule id
//! and reason, scoped to the result, system or submitter it strikes.

mod compliance;
pub mod detail;
mod logs;
mod power;
pub mod round;
pub mod rules;
mod table;
mod tree;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use round::{round_names, Round};
pub use rules::{Area, Rule};
pub use table::SUMMARY_COLUMNS;

/// Why a check could not run (a failed check is a [`CheckReport`], not this).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("unknown round {name:?} (known: {known})")]
    UnknownRound { name: String, known: String },
    #[error("round file {source_name}: {source}")]
    RoundFile {
        source_name: String,
        #[source]
        source: Box<toml::de::Error>,
    },
    #[error("round file {source_name}: {field}: {reason}")]
    RoundValue {
        source_name: String,
        field: String,
        reason: String,
    },
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a submission tree: no closed/, open/ or network/ division in it")]
    NotATree { path: PathBuf },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One broken rule.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub area: Area,
    pub severity: Severity,
    /// The file, relative to the tree's root, `/`-separated.
    pub file: String,
    pub line: Option<usize>,
    pub reason: String,
    /// What it strikes: a result (`closed/Org/results/sys/model/Scenario`),
    /// a system, a submitter, or the whole tree (`.`).
    pub scope: String,
    /// Set where the official checker lets this pass: why yardstick fails it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stricter: Option<&'static str>,
}

/// One result (system, model, scenario) and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct ResultEntry {
    /// `division/submitter/results/system/model/scenario`.
    pub path: String,
    pub division: String,
    pub submitter: String,
    pub system: String,
    pub model: String,
    pub mlperf_model: String,
    pub scenario: String,
    pub valid: bool,
    /// The official metric: samples/s, tokens/s, or latency in ms.
    pub result: Option<f64>,
    pub units: String,
    /// Accuracy as the official summary writes it (`acc: 76.078`).
    pub accuracy: String,
    pub inferred: bool,
    pub has_power: bool,
    /// The Power WG's metric: average watts (Offline, Server, Interactive)
    /// or millijoules per query (SingleStream, MultiStream).
    pub power_metric: Option<f64>,
    /// The power metric's units as the official summary spells them
    /// (POWER_UNIT_DICT): `Watts` or `millijoules`.
    pub power_units: Option<String>,
    pub compliance: bool,
    #[serde(skip)]
    pub(crate) row: Option<table::Row>,
}

/// What `check` found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub round: String,
    /// How the round was chosen: `given`, or `seeds` (read from the tree).
    pub round_from: &'static str,
    pub passed: bool,
    pub results: Vec<ResultEntry>,
    pub findings: Vec<Finding>,
    /// The round's summary CSV format.
    #[serde(skip)]
    summary: round::SummaryFormat,
}

impl CheckReport {
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }

    /// The results table as the official `summary.csv` writes it: valid
    /// results only, the official columns.
    pub fn summary_csv(&self) -> String {
        table::summary_csv(&self.round, &self.summary, &self.results)
    }
}

/// How to check.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// `v5.1`, `v6.0`; `None` reads it from the tree (the seeds of its runs).
    pub round: Option<String>,
    /// Leave the compliance folders unchecked (`--skip_compliance`).
    pub skip_compliance: bool,
}

/// Checks the tree under `root` (the folder holding `closed/`, `open/`, ...).
pub fn check_tree(root: &Path, options: &CheckOptions) -> Result<CheckReport, CheckError> {
    let (round, round_from) = match &options.round {
        Some(name) => (Round::builtin(name)?, "given"),
        None => (tree::round_from_seeds(root)?, "seeds"),
    };
    let mut walk = tree::Walk::new(root, &round, options.skip_compliance);
    walk.run()?;
    let tree::Walk {
        mut findings,
        mut results,
        ..
    } = walk;
    // Results in the official order of checks: per scope, areas in order.
    findings.sort_by(|a, b| a.scope.cmp(&b.scope).then(a.area.cmp(&b.area)));
    for result in &mut results {
        let struck = findings
            .iter()
            .any(|f| f.severity == Severity::Error && strikes(&f.scope, result));
        result.valid = !struck;
    }
    let passed = !findings.iter().any(|f| f.severity == Severity::Error);
    Ok(CheckReport {
        round: round.name.clone(),
        round_from,
        passed,
        results,
        findings,
        summary: round.summary.clone(),
    })
}

/// Whether a finding strikes a result out, as the official checker's
/// results table does: a finding on the result itself, its system (whose
/// results the official checker then skips), or the submitter's, division's
/// or tree's files. A finding on the model (a required scenario missing) or
/// on the submitter's `results` (calibration) fails the tree but leaves the
/// other results standing, as there.
fn strikes(scope: &str, result: &ResultEntry) -> bool {
    scope == "."
        || scope == result.path
        || scope == result.division
        || scope == format!("{}/{}", result.division, result.submitter)
        || scope
            == format!(
                "{}/{}/results/{}",
                result.division, result.submitter, result.system
            )
}

/// The report as text: one line per finding, then the results.
pub fn render_text(report: &CheckReport) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let at = match f.line {
            Some(line) => format!("{}:{line}", f.file),
            None => f.file.clone(),
        };
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!("{level} [{}] {at}: {}", f.rule, f.reason));
        if f.stricter.is_some() {
            out.push_str(" (stricter than the official checker)");
        }
        out.push('\n');
    }
    let valid = report.results.iter().filter(|r| r.valid).count();
    out.push_str(&format!(
        "round {} ({}): {} of {} results valid, {} errors, {} warnings: {}\n",
        report.round,
        report.round_from,
        valid,
        report.results.len(),
        report.errors().count(),
        report.findings.len() - report.errors().count(),
        if report.passed { "PASS" } else { "FAIL" }
    ));
    out
}

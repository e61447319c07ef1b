//! Reading `mlperf_log_summary.txt` (LoadGen's, or ours: the same text).
//!
//! The file is lines of `label : value` under three sections (the results,
//! `Additional Stats`, `Test Parameters Used`), then the warning and error
//! counts. Labels are kept as written; the typed accessors know LoadGen's
//! wording (see [`crate::summary`], which writes it).

use std::path::{Path, PathBuf};

/// Why a summary cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SummaryReadError {
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not an MLPerf LoadGen summary: {reason}")]
    NotASummary { path: PathBuf, reason: String },
}

/// A `label : value` line with a number.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryNumber {
    /// As written, trimmed (`Samples per second`, `99.00 percentile latency (ns)`).
    pub label: String,
    pub value: f64,
    /// The value as written (`2064.20`).
    pub text: String,
}

/// One of the `... satisfied : Yes/NO` lines under `Result is`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryCheck {
    /// `Performance constraints`, `Min duration`, `Min queries`, `Early stopping`.
    pub name: String,
    pub satisfied: bool,
}

/// A latency table: min, max, mean and the percentiles, in ns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LatencyTable {
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub mean: Option<i64>,
    /// (percent 0..=100, ns), in file order.
    pub percentiles: Vec<(f64, i64)>,
}

impl LatencyTable {
    pub fn percentile(&self, percent: f64) -> Option<i64> {
        self.percentiles
            .iter()
            .find(|(p, _)| (p - percent).abs() < 1e-9)
            .map(|&(_, v)| v)
    }

    fn is_empty(&self) -> bool {
        self.min.is_none() && self.max.is_none() && self.percentiles.is_empty()
    }
}

/// What a summary file says.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SummaryLog {
    pub sut_name: Option<String>,
    pub scenario: Option<String>,
    pub mode: Option<String>,
    /// The headline lines between `Mode` and `Result is`, in order
    /// (`Samples per second`, `90.0th percentile latency (ns)`,
    /// `Completed tokens per second`, ...).
    pub results: Vec<SummaryNumber>,
    /// `Result is : VALID` (true) or `INVALID`; `None` where the run
    /// measured no performance (an accuracy run).
    pub valid: Option<bool>,
    pub checks: Vec<SummaryCheck>,
    /// The `Recommendations:` bullets, without the `* `.
    pub recommendations: Vec<String>,
    /// The `Early Stopping Result:` text (and the TTFT/TPOT ones), one
    /// entry per heading, lines joined with `\n`.
    pub early_stopping: Vec<(String, String)>,
    /// Every numeric line of `Additional Stats` outside the latency tables
    /// (`QPS w/ loadgen overhead`, `Scheduled samples per second`, ...).
    pub stats: Vec<SummaryNumber>,
    /// The sample latency table (MultiStream: the per-query one).
    pub latency: Option<LatencyTable>,
    pub first_token_latency: Option<LatencyTable>,
    pub time_per_output_token: Option<LatencyTable>,
    /// `Test Parameters Used`, as written (`target_qps`, `2000`), labels
    /// without their unit (`min_duration (ms)` is `min_duration`).
    pub parameters: Vec<(String, String)>,
    pub warnings: Option<usize>,
    pub errors: Option<usize>,
}

impl SummaryLog {
    /// The headline value whose label is `label` (exactly).
    pub fn result(&self, label: &str) -> Option<f64> {
        self.results
            .iter()
            .find(|n| n.label == label)
            .map(|n| n.value)
    }

    /// The `Additional Stats` value whose label is `label` (exactly).
    pub fn stat(&self, label: &str) -> Option<f64> {
        self.stats
            .iter()
            .find(|n| n.label == label)
            .map(|n| n.value)
    }

    pub fn parameter(&self, key: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn check(&self, name: &str) -> Option<bool> {
        self.checks
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.satisfied)
    }
}

/// Reads and parses a summary file.
pub fn read_summary(path: &Path) -> Result<SummaryLog, SummaryReadError> {
    let text = std::fs::read_to_string(path).map_err(|source| SummaryReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_summary(&text).map_err(|reason| SummaryReadError::NotASummary {
        path: path.to_path_buf(),
        reason,
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Section {
    Results,
    Stats,
    Parameters,
}

/// Parses summary text. An accuracy run's summary (only the warning and
/// error counts) parses to a log without results.
pub fn parse_summary(text: &str) -> Result<SummaryLog, String> {
    let mut log = SummaryLog::default();
    let mut section = Section::Results;
    let mut saw_anything = false;
    // Open free-text block: early stopping or recommendations.
    let mut block: Option<Block> = None;
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let raw = lines[i];
        i += 1;
        let line = raw.trim_end();
        let trimmed = line.trim();
        if trimmed.chars().all(|c| c == '=') && !trimmed.is_empty() {
            // A section header: rule, title, rule.
            if let Some(title) = lines.get(i) {
                match title.trim() {
                    "MLPerf Results Summary" => section = Section::Results,
                    "Additional Stats" => section = Section::Stats,
                    "Test Parameters Used" => section = Section::Parameters,
                    _ => {}
                }
                saw_anything = true;
                i += 2;
            }
            block = None;
            continue;
        }
        if trimmed.is_empty() {
            block = None;
            continue;
        }
        if let Some(n) = count_line(trimmed, "warning") {
            log.warnings = Some(n);
            saw_anything = true;
            block = None;
            continue;
        }
        if let Some(n) = count_line(trimmed, "error") {
            log.errors = Some(n);
            saw_anything = true;
            block = None;
            continue;
        }
        match section {
            Section::Results => {
                if let Some(heading) = trimmed.strip_suffix("Early Stopping Result:") {
                    let name = format!("{}Early Stopping", heading);
                    log.early_stopping
                        .push((name.trim().to_string(), String::new()));
                    block = Some(Block::EarlyStopping);
                    continue;
                }
                if trimmed == "Recommendations:" {
                    block = Some(Block::Recommendations);
                    continue;
                }
                match block {
                    Some(Block::EarlyStopping) => {
                        if let Some((_, text)) = log.early_stopping.last_mut() {
                            if !text.is_empty() {
                                text.push('\n');
                            }
                            text.push_str(trimmed);
                        }
                        continue;
                    }
                    Some(Block::Recommendations) => {
                        if let Some(bullet) = trimmed.strip_prefix("* ") {
                            log.recommendations.push(bullet.to_string());
                        } else if let Some(last) = log.recommendations.last_mut() {
                            last.push(' ');
                            last.push_str(trimmed);
                        }
                        continue;
                    }
                    None => {}
                }
                let Some((label, value)) = split_label(trimmed) else {
                    continue;
                };
                match label {
                    "SUT name" => log.sut_name = Some(value.to_string()),
                    "Scenario" => log.scenario = Some(value.to_string()),
                    "Mode" => log.mode = Some(value.to_string()),
                    "Result is" => {
                        log.valid = Some(match value {
                            "VALID" => true,
                            "INVALID" => false,
                            other => return Err(format!("unknown result {other:?}")),
                        })
                    }
                    _ => {
                        if let Some(name) = label.strip_suffix(" satisfied") {
                            log.checks.push(SummaryCheck {
                                name: name.to_string(),
                                satisfied: value == "Yes",
                            });
                        } else if let Some(n) = number(label, value) {
                            log.results.push(n);
                        }
                    }
                }
                saw_anything = true;
            }
            Section::Stats => {
                // `Per-query latency:` (MultiStream) heads the one table.
                if trimmed.starts_with("Per-query latency") {
                    continue;
                }
                let Some((label, value)) = split_label(trimmed) else {
                    continue;
                };
                let Some(n) = number(label, value) else {
                    continue;
                };
                if let Some((kind, field)) = table_field(label) {
                    let table = match kind {
                        TableKind::Sample => &mut log.latency,
                        TableKind::FirstToken => &mut log.first_token_latency,
                        TableKind::Tpot => &mut log.time_per_output_token,
                    }
                    .get_or_insert_with(LatencyTable::default);
                    let v = n.value as i64;
                    match field {
                        TableField::Min => table.min = Some(v),
                        TableField::Max => table.max = Some(v),
                        TableField::Mean => table.mean = Some(v),
                        TableField::Percentile(p) => table.percentiles.push((p, v)),
                    }
                } else {
                    log.stats.push(n);
                }
            }
            Section::Parameters => {
                if trimmed.starts_with("WARNING") {
                    continue;
                }
                if let Some((label, value)) = split_label(trimmed) {
                    let key = label
                        .split_once(" (")
                        .map_or(label, |(k, _)| k)
                        .trim()
                        .to_string();
                    log.parameters.push((key, value.to_string()));
                }
            }
        }
    }
    for t in [
        &mut log.latency,
        &mut log.first_token_latency,
        &mut log.time_per_output_token,
    ] {
        if t.as_ref().is_some_and(LatencyTable::is_empty) {
            *t = None;
        }
    }
    if !saw_anything {
        return Err("no summary lines found".to_string());
    }
    Ok(log)
}

#[derive(Clone, Copy)]
enum Block {
    EarlyStopping,
    Recommendations,
}

#[derive(Clone, Copy)]
enum TableKind {
    Sample,
    FirstToken,
    Tpot,
}

enum TableField {
    Min,
    Max,
    Mean,
    Percentile(f64),
}

/// Which latency table a stats label belongs to, and which field.
fn table_field(label: &str) -> Option<(TableKind, TableField)> {
    let (kind, rest) = if let Some(r) = label.strip_suffix("First Token latency (ns)") {
        (TableKind::FirstToken, r)
    } else if let Some(r) = label.strip_suffix("first token latency (ns)") {
        (TableKind::FirstToken, r)
    } else if let Some(r) = label.strip_suffix("Time per Output Token (ns)") {
        (TableKind::Tpot, r)
    } else if let Some(r) = label.strip_suffix("time to output token (ns)") {
        (TableKind::Tpot, r)
    } else if let Some(r) = label.strip_suffix("latency (ns)") {
        (TableKind::Sample, r)
    } else {
        return None;
    };
    let rest = rest.trim();
    let field = match rest {
        "Min" => TableField::Min,
        "Max" => TableField::Max,
        "Mean" => TableField::Mean,
        _ => TableField::Percentile(rest.strip_suffix(" percentile")?.trim().parse().ok()?),
    };
    Some((kind, field))
}

/// `label : value`, split at the first ` : ` (LoadGen pads labels with
/// spaces; a few lines have `label: value`).
fn split_label(line: &str) -> Option<(&str, &str)> {
    let (label, value) = line.split_once(':')?;
    Some((label.trim(), value.trim()))
}

fn number(label: &str, value: &str) -> Option<SummaryNumber> {
    let v = match value {
        "inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        "nan" | "-nan" => f64::NAN,
        _ => value.parse().ok()?,
    };
    Some(SummaryNumber {
        label: label.to_string(),
        value: v,
        text: value.to_string(),
    })
}

/// `No warnings encountered during test.`, `1 warning encountered. ...`,
/// `3 ERRORS encountered. ...`.
fn count_line(line: &str, what: &str) -> Option<usize> {
    let lower = line.to_ascii_lowercase();
    if !lower.contains("encountered") {
        return None;
    }
    let mut words = lower.split_whitespace();
    let first = words.next()?;
    let noun = words.next()?;
    if !noun.starts_with(what) {
        return None;
    }
    if first == "no" {
        Some(0)
    } else {
        first.parse().ok()
    }
}

//! mlperf.conf / user.conf / audit.config parsing with the semantics of
//! LoadGen 6.0.17's `TestSettings::FromConfig`.
//!
//! # The format
//!
//! One `model.scenario.key = value` per line, tokens separated by
//! whitespace (LoadGen needs the spaces around `=`), `#` followed by a space
//! starts a comment line. `model` and `scenario` may be `*`. The value is a
//! number; booleans are `0`/`1`; times are in milliseconds except where a key
//! says otherwise, and percentiles are in percent.
//!
//! For each setting LoadGen looks the key up as `model.scenario.key`, then
//! `*.scenario.key`, then `model.*.key`, then `*.*.key`, and the first one
//! present wins. Later lines with the very same key replace earlier ones.
//! Precedence is per file: every key a user.conf sets (even as `*.*.key`)
//! overrides the same setting from mlperf.conf (even `model.scenario.key`),
//! because LoadGen applies the files one after the other.
//!
//! Some keys are always looked up under a fixed scenario, whatever scenario
//! is being configured: `target_latency` under SingleStream, MultiStream and
//! Server (it feeds three different fields), `target_qps` under Server and
//! Offline, `samples_per_query` under MultiStream, and `coalesce_queries`,
//! `max_async_queries`, `ttft_latency` and `tpot_latency` under Server. So a
//! `*.*.target_latency` line sets the SingleStream, MultiStream and Server
//! latencies at once, as in LoadGen.
//!
//! # Where yardstick is stricter than LoadGen
//!
//! LoadGen logs an error and drops the whole file for some mistakes, and
//! silently ignores others (a key it does not know, `key=value` without
//! spaces, `1.5` for an integer key, which it truncates to 1). Here every
//! mistake that LoadGen rejects, or that would make LoadGen silently read
//! something other than what the line says, is a [`ConfigError`] naming the
//! line; and every line LoadGen would silently ignore is a [`ConfigWarning`].
//! For every text accepted without error the resulting [`TestSettings`] are
//! exactly LoadGen's.

use std::collections::HashMap;
use std::fmt;

use super::TestSettings;
use crate::{Mode, Scenario};

/// The official mlperf.conf shipped with LoadGen 6.0.17 (MLCommons,
/// Apache-2.0), byte for byte; LoadGen compiles the same text into itself
/// and applies it before every user.conf.
pub const MLPERF_CONF: &str = include_str!("mlperf.conf");

/// The source name [`TestSettings::from_config`] gives [`MLPERF_CONF`] in
/// errors.
pub const MLPERF_CONF_NAME: &str = "mlperf.conf";

/// Which file a config text comes from (LoadGen's `conf_type`). It decides
/// which keys are read: the RNG seeds, `accuracy_log_probability` and the
/// `test05*` keys are read from mlperf.conf only, so that a submission cannot
/// choose its own seeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigKind {
    /// The official mlperf.conf (`conf_type` 0).
    MlperfConf,
    /// A submitter's user.conf (`conf_type` 1).
    UserConf,
    /// A compliance test's audit.config (`conf_type` 2); LoadGen reads it
    /// with model `*`.
    AuditConf,
}

impl ConfigKind {
    /// LoadGen's number for this kind.
    pub fn conf_type(self) -> i32 {
        match self {
            ConfigKind::MlperfConf => 0,
            ConfigKind::UserConf => 1,
            ConfigKind::AuditConf => 2,
        }
    }

    fn file_name(self) -> &'static str {
        match self {
            ConfigKind::MlperfConf => "mlperf.conf",
            ConfigKind::UserConf => "user.conf",
            ConfigKind::AuditConf => "audit.config",
        }
    }
}

/// A config text that cannot be applied. Nothing of the text is applied
/// then (LoadGen also drops the whole file on a syntax error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}{}: {reason}", line_suffix(*.line))]
pub struct ConfigError {
    pub source_name: String,
    /// 1-based; 0 when the error is not about one line (a bad scenario name
    /// passed by the caller).
    pub line: usize,
    pub reason: String,
}

fn line_suffix(line: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(":{line}")
    }
}

/// A line LoadGen would accept but ignore (an unknown key, a key not read
/// from this kind of file or for this scenario, ...): the run is still
/// exactly LoadGen's, but the user probably meant something else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    pub source_name: String,
    /// 1-based.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: warning: {}",
            self.source_name, self.line, self.message
        )
    }
}

impl TestSettings {
    /// Applies one config text the way LoadGen's `FromConfig(path, model,
    /// scenario, conf_type)` applies a file, except that it does not apply
    /// mlperf.conf first (see [`TestSettings::from_config`]) and reports
    /// mistakes instead of logging them.
    ///
    /// `scenario` is the scenario being configured, spelt as LoadGen spells
    /// it in config keys ("SingleStream", "MultiStream", "Server",
    /// "Offline"). Like LoadGen this does not set `self.scenario`.
    ///
    /// On error `self` is left unchanged.
    pub fn apply_config(
        &mut self,
        source_name: &str,
        text: &str,
        model: &str,
        scenario: &str,
        kind: ConfigKind,
    ) -> Result<Vec<ConfigWarning>, ConfigError> {
        self.apply_config_traced(source_name, text, model, scenario, kind)
            .map(|applied| applied.warnings)
    }

    /// [`TestSettings::apply_config`], also telling which line set which
    /// field (for provenance; see [`super::resolve`]).
    pub fn apply_config_traced(
        &mut self,
        source_name: &str,
        text: &str,
        model: &str,
        scenario: &str,
        kind: ConfigKind,
    ) -> Result<AppliedConfig, ConfigError> {
        let run_scenario = scenario_argument(source_name, scenario)?;
        let mut parsed = ParsedConfig::parse(source_name, text, kind)?;
        let mut next = self.clone();
        let resolver = Resolver {
            entries: &parsed.entries,
            source_name,
            model,
            run_scenario,
            kind,
            fields_set: std::cell::RefCell::new(Vec::new()),
        };
        resolver.apply(&mut next, &mut parsed.warnings)?;
        *self = next;
        parsed.warnings.sort_by_key(|w| w.line);
        Ok(AppliedConfig {
            warnings: parsed.warnings,
            fields_set: resolver.fields_set.into_inner(),
        })
    }

    /// What the Python `TestSettings().FromConfig(user_conf, model,
    /// scenario)` gives (conf_type 1): LoadGen's defaults, then the official
    /// mlperf.conf ([`MLPERF_CONF`]), then the user.conf text.
    ///
    /// Unlike LoadGen this also sets `scenario`, since the result was
    /// resolved for it. The warnings are the user.conf's only: those of the
    /// official file (it sets `target_duration`, which LoadGen never reads)
    /// are nothing a user can act on.
    pub fn from_config(
        user_conf_name: &str,
        user_conf_text: &str,
        model: &str,
        scenario: &str,
    ) -> Result<(TestSettings, Vec<ConfigWarning>), ConfigError> {
        let run_scenario = scenario_argument(user_conf_name, scenario)?;
        let mut settings = TestSettings::default();
        settings.apply_config(
            MLPERF_CONF_NAME,
            MLPERF_CONF,
            model,
            scenario,
            ConfigKind::MlperfConf,
        )?;
        let warnings = settings.apply_config(
            user_conf_name,
            user_conf_text,
            model,
            scenario,
            ConfigKind::UserConf,
        )?;
        settings.scenario = run_scenario;
        Ok((settings, warnings))
    }
}

/// What applying one config text did: its warnings, and every field a line
/// set, in the order LoadGen sets them (a field may appear more than once
/// when two keys feed it; the last one is the effective one).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppliedConfig {
    pub warnings: Vec<ConfigWarning>,
    pub fields_set: Vec<FieldSet>,
}

/// One field of [`TestSettings`] set from one config line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSet {
    /// The [`TestSettings`] field name (LoadGen's `TestSettings` member).
    pub field: &'static str,
    /// 1-based line of the text that set it.
    pub line: usize,
    /// The key as the line spells it, e.g. `*.Server.target_qps`.
    pub key: String,
}

/// Shorthand for [`TestSettings::from_config`].
pub fn from_config(
    user_conf_name: &str,
    user_conf_text: &str,
    model: &str,
    scenario: &str,
) -> Result<(TestSettings, Vec<ConfigWarning>), ConfigError> {
    TestSettings::from_config(user_conf_name, user_conf_text, model, scenario)
}

/// The scenario argument of a config text (`source_name` names it in the
/// error). LoadGen matches it against key text verbatim, so a misspelt
/// scenario ("server") would silently miss every scenario-specific line;
/// refuse it instead.
pub fn scenario_argument(source_name: &str, scenario: &str) -> Result<Scenario, ConfigError> {
    Scenario::ALL
        .into_iter()
        .find(|s| s.as_str() == scenario)
        .ok_or_else(|| ConfigError {
            source_name: source_name.to_string(),
            line: 0,
            reason: format!(
                "scenario `{scenario}` is not one of SingleStream, MultiStream, Server, Offline \
                 (config keys spell it exactly so)"
            ),
        })
}

// ---------------------------------------------------------------------------
// Keys

/// How a key's value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueKind {
    /// A non-negative integer (LoadGen's `strtoull`).
    Uint,
    /// Any number (LoadGen's `strtod`).
    Float,
    /// `0` or `1`. (LoadGen reads some flags as `== 1` and others as
    /// `!= 0`; allowing only 0 and 1 makes the difference moot.)
    Bool,
    /// LoadGen's `TestMode` number, 0 to 3.
    Mode,
}

/// One key LoadGen's `FromConfig` reads.
struct KeySpec {
    name: &'static str,
    kind: ValueKind,
    /// The scenarios LoadGen looks the key up under; `None`: the scenario
    /// being configured.
    scenarios: Option<&'static [&'static str]>,
    /// Read from mlperf.conf only.
    official_only: bool,
    /// Largest value accepted for an integer key, before scaling. (A larger
    /// one would overflow LoadGen's arithmetic.)
    max: u64,
}

const MS_TO_NS: u64 = 1_000_000;
const SERVER: &[&str] = &["Server"];

const fn key(name: &'static str, kind: ValueKind) -> KeySpec {
    KeySpec {
        name,
        kind,
        scenarios: None,
        official_only: false,
        max: u64::MAX,
    }
}

const fn official(name: &'static str, kind: ValueKind) -> KeySpec {
    KeySpec {
        official_only: true,
        ..key(name, kind)
    }
}

const fn fixed(name: &'static str, kind: ValueKind, scenarios: &'static [&'static str]) -> KeySpec {
    KeySpec {
        scenarios: Some(scenarios),
        ..key(name, kind)
    }
}

/// Every key LoadGen 6.0.17 reads.
const KEYS: &[KeySpec] = &[
    key("mode", ValueKind::Mode),
    official("qsl_rng_seed", ValueKind::Uint),
    official("sample_index_rng_seed", ValueKind::Uint),
    official("schedule_rng_seed", ValueKind::Uint),
    official("accuracy_log_probability", ValueKind::Float),
    official("test05", ValueKind::Bool),
    official("test05_qsl_rng_seed", ValueKind::Uint),
    official("test05_sample_index_rng_seed", ValueKind::Uint),
    official("test05_schedule_rng_seed", ValueKind::Uint),
    key("use_token_latencies", ValueKind::Bool),
    KeySpec {
        max: u64::MAX / MS_TO_NS,
        ..fixed("ttft_latency", ValueKind::Uint, SERVER)
    },
    KeySpec {
        max: u64::MAX / MS_TO_NS,
        ..fixed("tpot_latency", ValueKind::Uint, SERVER)
    },
    key("infer_token_latencies", ValueKind::Bool),
    key("token_latency_scaling_factor", ValueKind::Uint),
    fixed(
        "target_latency_percentile",
        ValueKind::Float,
        &["SingleStream", "MultiStream", "Server"],
    ),
    fixed("samples_per_query", ValueKind::Uint, &["MultiStream"]),
    // A float for SingleStream/MultiStream, whole ms for Server: see
    // `line_kind`.
    KeySpec {
        max: u64::MAX / MS_TO_NS,
        ..fixed(
            "target_latency",
            ValueKind::Float,
            &["SingleStream", "MultiStream", "Server"],
        )
    },
    key("performance_issue_unique", ValueKind::Bool),
    key("performance_issue_same", ValueKind::Bool),
    key("performance_issue_same_index", ValueKind::Uint),
    key("sample_concatenate_permutation", ValueKind::Bool),
    fixed("coalesce_queries", ValueKind::Bool, SERVER),
    // LoadGen stores it through an `int`.
    KeySpec {
        max: i32::MAX as u64,
        ..fixed("max_async_queries", ValueKind::Uint, SERVER)
    },
    key("min_duration", ValueKind::Uint),
    key("max_duration", ValueKind::Uint),
    key("min_query_count", ValueKind::Uint),
    key("max_query_count", ValueKind::Uint),
    key("performance_sample_count_override", ValueKind::Uint),
    key("accuracy_sample_count_override", ValueKind::Uint),
    fixed("target_qps", ValueKind::Float, &["Server", "Offline"]),
    key("print_timestamps", ValueKind::Bool),
    key("accuracy_log_rng_seed", ValueKind::Uint),
    key("accuracy_log_sampling_target", ValueKind::Uint),
];

fn key_spec(name: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.name == name)
}

/// The type a line's value must have. `target_latency` is the one key whose
/// type depends on the scenario: LoadGen reads it as whole ms for Server and
/// as a float for the others, so a `*` line is only checked as a number here
/// and again when it is read for Server (see [`Resolver::read_u64`]).
fn line_kind(spec: &KeySpec, scenario: &str) -> ValueKind {
    if spec.name == "target_latency" && scenario == "Server" {
        ValueKind::Uint
    } else {
        spec.kind
    }
}

fn is_scenario_name(s: &str) -> bool {
    Scenario::ALL.iter().any(|sc| sc.as_str() == s)
}

// ---------------------------------------------------------------------------
// Values

/// A value token that passed [`parse_number`].
#[derive(Debug, Clone, Copy, PartialEq)]
enum Number {
    /// An integer literal, within ±`u64::MAX`.
    Int(i128),
    Float(f64),
}

impl Number {
    /// What LoadGen's `strtod` gives for the token.
    fn to_f64(self) -> f64 {
        match self {
            // Rounds to nearest, like strtod.
            Number::Int(v) => v as f64,
            Number::Float(v) => v,
        }
    }
}

/// Parses a value the way LoadGen's `strtoul(.., 0)`/`strtod` do, refusing
/// what they would read surprisingly: a leading `0` (octal to `strtoul`,
/// decimal to `strtod`), values out of range (clamped by LoadGen), and
/// `inf`/`nan`/hex floats.
fn parse_number(token: &str) -> Result<Number, String> {
    let (negative, unsigned) = match token.as_bytes().first() {
        Some(b'-') => (true, &token[1..]),
        Some(b'+') => (false, &token[1..]),
        _ => (false, token),
    };
    let hex = unsigned
        .strip_prefix("0x")
        .or_else(|| unsigned.strip_prefix("0X"));
    let magnitude = match hex {
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(u128::from_str_radix(digits, 16).ok())
        }
        Some(_) => None,
        None if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) => {
            if unsigned.len() > 1 && unsigned.starts_with('0') {
                return Err(format!(
                    "`{token}` has a leading zero, which LoadGen reads as octal for integer keys \
                     but as decimal for others; drop the leading zero"
                ));
            }
            Some(unsigned.parse::<u128>().ok())
        }
        None => None,
    };
    if let Some(magnitude) = magnitude {
        return match magnitude {
            Some(m) if m <= u128::from(u64::MAX) => {
                let m = m as i128;
                Ok(Number::Int(if negative { -m } else { m }))
            }
            _ => Err(format!("`{token}` is out of range")),
        };
    }
    let decimal_float = unsigned.bytes().any(|b| b.is_ascii_digit())
        && unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    match token.parse::<f64>() {
        Ok(v) if decimal_float && v.is_finite() => Ok(Number::Float(v)),
        Ok(_) if decimal_float => Err(format!("`{token}` is out of range")),
        _ => Err(format!("`{token}` is not a number")),
    }
}

/// Whether LoadGen's syntax check accepts the token (all of it parses with
/// `strtoul` or `strtod`). Only used for lines LoadGen treats as
/// commented-out keys, where it still checks the value; hex floats are not
/// recognised.
fn loadgen_accepts_number(token: &str) -> bool {
    match parse_number(token) {
        Ok(_) => true,
        Err(_) => {
            let unsigned = token.trim_start_matches(['+', '-']);
            (!unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()))
                || token.parse::<f64>().is_ok()
        }
    }
}

/// What LoadGen's `strtoull(text, nullptr, 0)` returns for a token that
/// passed [`parse_number`]: the integer prefix (octal after a leading `0`,
/// `ULLONG_MAX` on overflow, negated modulo 2^64 after a `-`).
fn c_strtoull(text: &str) -> u64 {
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let bytes = rest.as_bytes();
    let (radix, digits) = if bytes.len() > 2
        && bytes[0] == b'0'
        && matches!(bytes[1], b'x' | b'X')
        && bytes[2].is_ascii_hexdigit()
    {
        (16, &rest[2..])
    } else if bytes.first() == Some(&b'0') {
        (8, rest)
    } else {
        (10, rest)
    };
    let mut value: u64 = 0;
    for c in digits.chars() {
        let Some(d) = c.to_digit(radix) else { break };
        match value
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
        {
            Some(v) => value = v,
            None => return u64::MAX,
        }
    }
    if negative {
        value.wrapping_neg()
    } else {
        value
    }
}

/// Checks a value against the type its key needs on this line.
fn check_value(spec: &KeySpec, kind: ValueKind, number: Number) -> Result<(), String> {
    let int = match number {
        Number::Int(v) => Some(v),
        Number::Float(_) => None,
    };
    match kind {
        ValueKind::Float => Ok(()),
        ValueKind::Bool => match int {
            Some(0 | 1) => Ok(()),
            _ => Err(format!("`{}` must be 0 or 1", spec.name)),
        },
        ValueKind::Mode => match int {
            Some(0..=3) => Ok(()),
            _ => Err(
                "`mode` must be 0 (SubmissionRun), 1 (AccuracyOnly), 2 (PerformanceOnly) \
                 or 3 (FindPeakPerformance)"
                    .to_string(),
            ),
        },
        ValueKind::Uint => match int {
            Some(v) if v < 0 => Err(format!("`{}` must not be negative", spec.name)),
            Some(v) if v > i128::from(spec.max) => {
                Err(format!("`{}` must be at most {}", spec.name, spec.max))
            }
            Some(_) => Ok(()),
            None => Err(format!(
                "`{}` must be a whole number (LoadGen would drop the fraction)",
                spec.name
            )),
        },
    }
}

// ---------------------------------------------------------------------------
// Parsing

/// One `model.scenario.key = value` line that passed the checks.
#[derive(Debug, Clone)]
struct Entry {
    /// The key as the line spells it (`model.scenario.key`).
    key: String,
    text: String,
    value: Number,
    line: usize,
}

/// `(model, scenario, key)`, the three parts of a config key.
type EntryKey = (String, String, String);

struct ParsedConfig {
    entries: HashMap<EntryKey, Entry>,
    warnings: Vec<ConfigWarning>,
}

/// What one line holds, per LoadGen's tokenizer.
enum Line<'a> {
    /// Blank, a comment, or a commented-out key.
    Nothing,
    KeyValue {
        key: &'a str,
        value: &'a str,
    },
}

impl ParsedConfig {
    fn parse(source_name: &str, text: &str, kind: ConfigKind) -> Result<Self, ConfigError> {
        let mut parsed = ParsedConfig {
            entries: HashMap::new(),
            warnings: Vec::new(),
        };
        // LoadGen reads with std::getline, so only '\n' ends a line; a '\r'
        // before it is whitespace to its tokenizer, as here.
        for (index, raw) in text.split('\n').enumerate() {
            let line = index + 1;
            let error = |reason: String| ConfigError {
                source_name: source_name.to_string(),
                line,
                reason,
            };
            let Line::KeyValue { key, value } = tokenize(raw).map_err(error)? else {
                continue;
            };
            parsed
                .add(source_name, line, key, value, kind)
                .map_err(error)?;
        }
        Ok(parsed)
    }

    fn add(
        &mut self,
        source_name: &str,
        line: usize,
        full_key: &str,
        text: &str,
        kind: ConfigKind,
    ) -> Result<(), String> {
        let mut warn = |message: String| {
            self.warnings.push(ConfigWarning {
                source_name: source_name.to_string(),
                line,
                message,
            })
        };
        // Split from the right: model names may contain dots
        // ("wan-2.2-t2v-a14b"), scenarios and keys never do.
        let parts = full_key
            .rsplit_once('.')
            .and_then(|(rest, name)| rest.rsplit_once('.').map(|(m, s)| (m, s, name)));
        let Some((model, scenario, name)) =
            parts.filter(|(m, s, n)| !m.is_empty() && !s.is_empty() && !n.is_empty())
        else {
            return Err(format!(
                "key `{full_key}` is not of the form `model.scenario.key` (model and scenario may be `*`)"
            ));
        };
        let number = parse_number(text)?;

        let Some(spec) = key_spec(name) else {
            warn(format!("unknown key `{name}`: LoadGen does not read it"));
            return Ok(());
        };
        check_value(spec, line_kind(spec, scenario), number)?;

        if scenario != "*" && !is_scenario_name(scenario) {
            warn(format!(
                "unknown scenario `{scenario}` (expected SingleStream, MultiStream, Server, \
                 Offline or *; case matters): LoadGen never reads this line"
            ));
            return Ok(());
        }
        if spec.official_only && kind != ConfigKind::MlperfConf {
            warn(format!(
                "`{name}` is only read from mlperf.conf; LoadGen ignores it in a {}",
                kind.file_name()
            ));
            return Ok(());
        }
        if let Some(read_for) = spec.scenarios {
            if scenario != "*" && !read_for.contains(&scenario) {
                warn(format!(
                    "`{name}` is only read for {}; this line has no effect",
                    read_for.join(", ")
                ));
                return Ok(());
            }
        }

        let entry_key = (model.to_string(), scenario.to_string(), name.to_string());
        let entry = Entry {
            key: full_key.to_string(),
            text: text.to_string(),
            value: number,
            line,
        };
        if let Some(previous) = self.entries.insert(entry_key, entry) {
            warn(format!(
                "`{full_key}` is set again (first on line {}); this later value wins",
                previous.line
            ));
        }
        Ok(())
    }
}

/// LoadGen's tokenizer: whitespace-separated tokens `key`, `=`, `value`,
/// where a first token of `#` makes a comment. Where LoadGen would silently
/// skip a line that looks like a setting (`key=value`, `key =`), this is an
/// error; a first token starting with `#` is a commented-out key (LoadGen
/// stores it under a name nothing looks up), but LoadGen still rejects it
/// when the rest is not `= number`, so it is still checked.
fn tokenize(raw: &str) -> Result<Line<'_>, String> {
    // C's isspace: split_ascii_whitespace would miss the vertical tab.
    let tokens: Vec<&str> = raw
        .split([' ', '\t', '\n', '\x0b', '\x0c', '\r'])
        .filter(|t| !t.is_empty())
        .collect();
    let Some(&first) = tokens.first() else {
        return Ok(Line::Nothing);
    };
    if first == "#" {
        return Ok(Line::Nothing);
    }
    let commented = first.starts_with('#');
    match tokens.get(1).copied() {
        None | Some("#") if commented => Ok(Line::Nothing),
        None if first.contains('=') => Err(format!(
            "expected `key = value`, found `{first}`: LoadGen needs spaces around `=` \
             and would ignore this line"
        )),
        None | Some("#") => Err(format!("expected `key = value`, found only `{first}`")),
        Some("=") => {
            let values = &tokens[2..];
            if commented {
                return match values.iter().find(|v| !loadgen_accepts_number(v)) {
                    Some(_) => Err(format!(
                        "`{first}` is not a comment to LoadGen (it needs a space after `#`), \
                         and LoadGen rejects the whole file for this line"
                    )),
                    None => Ok(Line::Nothing),
                };
            }
            match values {
                [] => Err(format!("`{first}` has no value after `=`")),
                [value] => Ok(Line::KeyValue { key: first, value }),
                [_, second, ..] if second.starts_with('#') => Err(
                    "a comment after the value is not allowed (LoadGen rejects the whole file \
                     for it); put it on a line of its own"
                        .to_string(),
                ),
                _ => Err(format!(
                    "`{first}` has more than one value: {}",
                    values.join(" ")
                )),
            }
        }
        Some(other) if commented => Err(format!(
            "`{first}` is not a comment to LoadGen (it needs a space after `#`): LoadGen reads \
             `{first}` as a key, expects `=` instead of `{other}` and rejects the whole file"
        )),
        Some(other) => Err(format!(
            "expected `=` after the key, found `{other}` (LoadGen needs spaces around `=`)"
        )),
    }
}

// ---------------------------------------------------------------------------
// Resolution

/// Reads the settings from the parsed entries in the order, and with the
/// lookups, of LoadGen's `FromConfig`.
struct Resolver<'a> {
    entries: &'a HashMap<EntryKey, Entry>,
    source_name: &'a str,
    model: &'a str,
    run_scenario: Scenario,
    kind: ConfigKind,
    /// Which line set which field, in order (a `RefCell` because the
    /// setters below are shared closures).
    fields_set: std::cell::RefCell<Vec<FieldSet>>,
}

impl Resolver<'_> {
    fn record(&self, field: &'static str, entry: &Entry) {
        self.fields_set.borrow_mut().push(FieldSet {
            field,
            line: entry.line,
            key: entry.key.clone(),
        });
    }

    /// LoadGen's lookup order: `model.scenario.key`, `*.scenario.key`,
    /// `model.*.key`, `*.*.key`.
    fn find(&self, scenario: &str, name: &str) -> Option<&Entry> {
        [
            (self.model, scenario),
            ("*", scenario),
            (self.model, "*"),
            ("*", "*"),
        ]
        .into_iter()
        .find_map(|(m, s)| {
            self.entries
                .get(&(m.to_string(), s.to_string(), name.to_string()))
        })
    }

    fn error(&self, entry: &Entry, reason: String) -> ConfigError {
        ConfigError {
            source_name: self.source_name.to_string(),
            line: entry.line,
            reason,
        }
    }

    /// An integer setting, times `scale`. Lines were checked for their own
    /// scenario; the one case left is a `target_latency` line for `*` with
    /// a fraction, read for Server: an error when configuring Server, and
    /// when configuring another scenario (where that Server field is unused)
    /// LoadGen's truncating `strtoull` result, so that the settings still
    /// equal LoadGen's. A value found is recorded as setting `field`.
    fn read_u64(
        &self,
        field: &'static str,
        scenario: &str,
        name: &str,
        scale: u64,
    ) -> Result<Option<u64>, ConfigError> {
        let Some(entry) = self.find(scenario, name) else {
            return Ok(None);
        };
        let spec = key_spec(name).expect("read_u64 is only called with known keys");
        let value = match (entry.value, check_value(spec, ValueKind::Uint, entry.value)) {
            (Number::Int(v), Ok(())) => (v as u64) * scale,
            (_, Err(reason)) if scenario == self.run_scenario.as_str() => {
                return Err(self.error(entry, reason))
            }
            _ => c_strtoull(&entry.text).wrapping_mul(scale),
        };
        self.record(field, entry);
        Ok(Some(value))
    }

    fn read_f64(&self, field: &'static str, scenario: &str, name: &str, scale: f64) -> Option<f64> {
        let entry = self.find(scenario, name)?;
        self.record(field, entry);
        Some(entry.value.to_f64() * scale)
    }

    fn read_bool(&self, field: &'static str, scenario: &str, name: &str) -> Option<bool> {
        let entry = self.find(scenario, name)?;
        self.record(field, entry);
        // Lines were checked to be 0 or 1.
        Some(entry.value != Number::Int(0))
    }

    /// A key LoadGen only reads when a flag is on: warn when the line that
    /// would be read is skipped.
    fn skipped(&self, scenario: &str, name: &str, flag: &str, warnings: &mut Vec<ConfigWarning>) {
        if let Some(entry) = self.find(scenario, name) {
            warnings.push(ConfigWarning {
                source_name: self.source_name.to_string(),
                line: entry.line,
                message: format!("`{name}` is ignored because `{flag}` is off for this model"),
            });
        }
    }

    fn apply(
        &self,
        s: &mut TestSettings,
        warnings: &mut Vec<ConfigWarning>,
    ) -> Result<(), ConfigError> {
        let scen = self.run_scenario.as_str();
        // Each setter names the TestSettings field it sets (for provenance);
        // `stringify!` keeps the name and the field in step.
        macro_rules! set_u64 {
            ($field:ident, $scenario:expr, $name:expr) => {
                if let Some(v) = self.read_u64(stringify!($field), $scenario, $name, 1)? {
                    s.$field = v;
                }
            };
        }
        macro_rules! set_bool {
            ($field:ident, $scenario:expr, $name:expr) => {
                if let Some(v) = self.read_bool(stringify!($field), $scenario, $name) {
                    s.$field = v;
                }
            };
        }
        macro_rules! set_f64 {
            ($field:ident, $scenario:expr, $name:expr, $scale:expr) => {
                if let Some(v) = self.read_f64(stringify!($field), $scenario, $name, $scale) {
                    s.$field = v;
                }
            };
        }

        if let Some(entry) = self.find(scen, "mode") {
            self.record("mode", entry);
            s.mode = match entry.value {
                Number::Int(0) => Mode::SubmissionRun,
                Number::Int(1) => Mode::AccuracyOnly,
                Number::Int(2) => Mode::PerformanceOnly,
                _ => Mode::FindPeakPerformance,
            };
        }

        if self.kind == ConfigKind::MlperfConf {
            set_u64!(qsl_rng_seed, scen, "qsl_rng_seed");
            set_u64!(sample_index_rng_seed, scen, "sample_index_rng_seed");
            set_u64!(schedule_rng_seed, scen, "schedule_rng_seed");
            // In percent.
            set_f64!(
                accuracy_log_probability,
                scen,
                "accuracy_log_probability",
                0.01
            );
            set_bool!(test05, scen, "test05");
            set_u64!(test05_qsl_rng_seed, scen, "test05_qsl_rng_seed");
            set_u64!(
                test05_sample_index_rng_seed,
                scen,
                "test05_sample_index_rng_seed"
            );
            set_u64!(test05_schedule_rng_seed, scen, "test05_schedule_rng_seed");
        }

        // Token latencies: the targets are read only when the flag is on
        // (as set by this file or anything before it).
        set_bool!(use_token_latencies, scen, "use_token_latencies");
        if s.use_token_latencies {
            set_u64_scaled(
                self,
                &mut s.server_ttft_latency,
                "server_ttft_latency",
                "ttft_latency",
            )?;
            set_u64_scaled(
                self,
                &mut s.server_tpot_latency,
                "server_tpot_latency",
                "tpot_latency",
            )?;
        } else {
            self.skipped("Server", "ttft_latency", "use_token_latencies", warnings);
            self.skipped("Server", "tpot_latency", "use_token_latencies", warnings);
        }
        set_bool!(infer_token_latencies, scen, "infer_token_latencies");
        if s.infer_token_latencies {
            set_u64!(
                token_latency_scaling_factor,
                scen,
                "token_latency_scaling_factor"
            );
        } else {
            self.skipped(
                scen,
                "token_latency_scaling_factor",
                "infer_token_latencies",
                warnings,
            );
        }

        // Percentiles are in percent.
        set_f64!(
            single_stream_target_latency_percentile,
            "SingleStream",
            "target_latency_percentile",
            0.01
        );
        set_f64!(
            multi_stream_target_latency_percentile,
            "MultiStream",
            "target_latency_percentile",
            0.01
        );
        set_u64!(
            multi_stream_samples_per_query,
            "MultiStream",
            "samples_per_query"
        );
        set_f64!(
            server_target_latency_percentile,
            "Server",
            "target_latency_percentile",
            0.01
        );
        if let Some(v) = self.read_u64(
            "server_target_latency_ns",
            "Server",
            "target_latency",
            MS_TO_NS,
        )? {
            s.server_target_latency_ns = v;
        }

        set_bool!(performance_issue_unique, scen, "performance_issue_unique");
        set_bool!(performance_issue_same, scen, "performance_issue_same");
        set_u64!(
            performance_issue_same_index,
            scen,
            "performance_issue_same_index"
        );
        set_bool!(
            sample_concatenate_permutation,
            scen,
            "sample_concatenate_permutation"
        );
        set_bool!(server_coalesce_queries, "Server", "coalesce_queries");
        if let Some(v) =
            self.read_u64("server_max_async_queries", "Server", "max_async_queries", 1)?
        {
            // Through an `int`, as LoadGen does (a no-op for checked values).
            s.server_max_async_queries = v as i32 as u64;
        }

        set_u64!(min_duration_ms, scen, "min_duration");
        set_u64!(max_duration_ms, scen, "max_duration");
        set_u64!(min_query_count, scen, "min_query_count");
        set_u64!(max_query_count, scen, "max_query_count");
        set_u64!(
            performance_sample_count_override,
            scen,
            "performance_sample_count_override"
        );
        set_u64!(
            accuracy_sample_count_override,
            scen,
            "accuracy_sample_count_override"
        );
        // Expected latencies are given in ms, kept in ns, as floats.
        set_f64!(
            single_stream_expected_latency_ns,
            "SingleStream",
            "target_latency",
            MS_TO_NS as f64
        );
        set_f64!(
            multi_stream_expected_latency_ns,
            "MultiStream",
            "target_latency",
            MS_TO_NS as f64
        );
        set_f64!(server_target_qps, "Server", "target_qps", 1.0);
        set_f64!(offline_expected_qps, "Offline", "target_qps", 1.0);
        set_bool!(print_timestamps, scen, "print_timestamps");

        // The keys compliance tests set in audit.config.
        set_u64!(accuracy_log_rng_seed, scen, "accuracy_log_rng_seed");
        set_u64!(
            accuracy_log_sampling_target,
            scen,
            "accuracy_log_sampling_target"
        );
        Ok(())
    }
}

/// A Server token-latency target, given in ms and kept in ns.
fn set_u64_scaled(
    resolver: &Resolver<'_>,
    target: &mut u64,
    field: &'static str,
    name: &str,
) -> Result<(), ConfigError> {
    if let Some(v) = resolver.read_u64(field, "Server", name, MS_TO_NS)? {
        *target = v;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(text: &str, model: &str, scenario: &str) -> (TestSettings, Vec<ConfigWarning>) {
        TestSettings::from_config("user.conf", text, model, scenario).expect("config applies")
    }

    fn apply(
        text: &str,
        model: &str,
        scenario: &str,
        kind: ConfigKind,
    ) -> Result<(TestSettings, Vec<ConfigWarning>), ConfigError> {
        let mut s = TestSettings::default();
        let w = s.apply_config("test.conf", text, model, scenario, kind)?;
        Ok((s, w))
    }

    fn err(text: &str) -> ConfigError {
        apply(text, "resnet50", "Server", ConfigKind::UserConf).expect_err("config is rejected")
    }

    #[test]
    fn official_mlperf_conf_is_embedded_verbatim_and_applies() {
        assert!(MLPERF_CONF.contains("*.*.qsl_rng_seed = 2085463073848966840"));
        let (s, warnings) =
            apply(MLPERF_CONF, "resnet50", "Offline", ConfigKind::MlperfConf).unwrap();
        assert_eq!(s.qsl_rng_seed, 2085463073848966840);
        assert_eq!(s.sample_index_rng_seed, 2747215439041700203);
        assert_eq!(s.schedule_rng_seed, 16159082839903944936);
        assert_eq!(s.test05_schedule_rng_seed, 15816800565822761601);
        assert_eq!(s.performance_sample_count_override, 1024);
        assert_eq!(s.min_query_count, 24576);
        assert_eq!(s.min_duration_ms, 600_000);
        assert_eq!(s.server_target_latency_ns, 15_000_000);
        // The two lines of the official file LoadGen never reads.
        let messages: Vec<_> = warnings
            .iter()
            .map(|w| (w.line, w.message.as_str()))
            .collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].1.contains("unknown key `target_duration`"));
        assert!(messages[1]
            .1
            .contains("`target_latency_percentile` is only read for"));
    }

    #[test]
    fn model_names_may_contain_dots() {
        let (s, _) = user("", "wan-2.2-t2v-a14b", "Offline");
        assert_eq!(s.performance_sample_count_override, 248);
        assert_eq!(s.min_query_count, 248);
    }

    #[test]
    fn lookup_order_is_exact_then_any_model_then_any_scenario_then_both() {
        let text = "*.*.min_query_count = 4\n\
                    m.*.min_query_count = 3\n\
                    *.Server.min_query_count = 2\n\
                    m.Server.min_query_count = 1\n";
        let lines: Vec<&str> = text.lines().collect();
        for (dropped, expected) in [(0, 1), (1, 2), (2, 3), (3, 4)] {
            // Drop the most specific lines one by one.
            let kept: String = lines[..lines.len() - dropped]
                .iter()
                .map(|l| format!("{l}\n"))
                .collect();
            let (s, w) = apply(&kept, "m", "Server", ConfigKind::UserConf).unwrap();
            assert_eq!(s.min_query_count, expected, "with:\n{kept}");
            assert!(w.is_empty());
        }
        // Another model or scenario does not match.
        let (s, _) = apply(
            "x.*.min_query_count = 9\nm.Offline.min_query_count = 9\n",
            "m",
            "Server",
            ConfigKind::UserConf,
        )
        .unwrap();
        assert_eq!(s.min_query_count, TestSettings::default().min_query_count);
    }

    #[test]
    fn user_conf_overrides_mlperf_conf_whatever_the_specificity() {
        // mlperf.conf: resnet50.Offline.min_query_count = 24576.
        let (s, _) = user("*.*.min_query_count = 5\n", "resnet50", "Offline");
        assert_eq!(s.min_query_count, 5);
        assert_eq!(s.scenario, Scenario::Offline);
    }

    #[test]
    fn units_and_fixed_scenarios() {
        let (s, w) = user(
            "*.*.target_latency = 2.5\n\
             *.Server.target_latency = 7\n\
             *.Server.target_latency_percentile = 99.9\n\
             *.Offline.target_qps = 123.5\n\
             *.Server.target_qps = 7.25\n\
             *.MultiStream.samples_per_query = 4\n\
             *.Server.max_async_queries = 3\n\
             *.Server.coalesce_queries = 1\n\
             *.*.mode = 1\n",
            "resnet50",
            "SingleStream",
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(s.single_stream_expected_latency_ns, 2.5e6);
        assert_eq!(s.multi_stream_expected_latency_ns, 2.5e6);
        assert_eq!(s.server_target_latency_ns, 7_000_000);
        assert_eq!(s.server_target_latency_percentile, 99.9 * 0.01);
        assert_eq!(s.offline_expected_qps, 123.5);
        assert_eq!(s.server_target_qps, 7.25);
        assert_eq!(s.multi_stream_samples_per_query, 4);
        assert_eq!(s.server_max_async_queries, 3);
        assert!(s.server_coalesce_queries);
        assert_eq!(s.mode, Mode::AccuracyOnly);
        assert_eq!(s.single_stream_target_latency_percentile, 90.0 * 0.01);
    }

    #[test]
    fn star_target_latency_fraction_truncates_for_server_only_when_unused() {
        // LoadGen reads `*.*.target_latency = 2.5` as 2 ms for the Server
        // field; harmless when configuring SingleStream...
        let (s, _) = apply(
            "*.*.target_latency = 2.5\n",
            "m",
            "SingleStream",
            ConfigKind::UserConf,
        )
        .unwrap();
        assert_eq!(s.server_target_latency_ns, 2_000_000);
        assert_eq!(s.single_stream_expected_latency_ns, 2.5e6);
        // ...an error when configuring Server.
        let e = apply(
            "\n*.*.target_latency = 2.5\n",
            "m",
            "Server",
            ConfigKind::UserConf,
        )
        .unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.reason.contains("whole number"), "{e}");
    }

    #[test]
    fn token_latency_keys() {
        let (s, w) = user(
            "whisper.Server.ttft_latency = 2000\nwhisper.Server.tpot_latency = 200\n",
            "whisper",
            "Server",
        );
        assert!(w.is_empty());
        assert!(s.use_token_latencies && s.sample_concatenate_permutation);
        assert_eq!(s.server_ttft_latency, 2_000_000_000);
        assert_eq!(s.server_tpot_latency, 200_000_000);
        let (s, _) = user("", "llama2-70b", "Server");
        assert_eq!(
            (s.server_ttft_latency, s.server_tpot_latency),
            (2_000_000_000, 200_000_000)
        );
        assert_eq!(s.server_target_latency_ns, 0);
        let (s, _) = user("", "gptj", "Offline");
        assert!(s.infer_token_latencies);
        assert_eq!(s.token_latency_scaling_factor, 69);

        // Without use_token_latencies the targets are skipped, with a warning.
        let (s, w) = user("\n*.Server.ttft_latency = 5\n", "resnet50", "Server");
        assert_eq!(
            s.server_ttft_latency,
            TestSettings::default().server_ttft_latency
        );
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].line, 2);
        assert!(w[0].message.contains("use_token_latencies"));
    }

    #[test]
    fn official_only_keys_warn_in_user_and_audit_conf() {
        for kind in [ConfigKind::UserConf, ConfigKind::AuditConf] {
            let (s, w) = apply(
                "*.*.qsl_rng_seed = 5\n*.*.accuracy_log_probability = 10\n*.*.test05 = 1\n",
                "*",
                "Server",
                kind,
            )
            .unwrap();
            assert_eq!(s, TestSettings::default());
            assert_eq!(w.iter().map(|w| w.line).collect::<Vec<_>>(), vec![1, 2, 3]);
            assert!(
                w[0].message.contains("only read from mlperf.conf"),
                "{}",
                w[0]
            );
        }
        let (s, w) = apply(
            "*.*.accuracy_log_probability = 10\n*.*.test05 = 1\n",
            "m",
            "Server",
            ConfigKind::MlperfConf,
        )
        .unwrap();
        assert!(w.is_empty());
        assert_eq!(s.accuracy_log_probability, 10.0 * 0.01);
        assert!(s.test05);
        // What an audit.config sets.
        let (s, w) = apply("*.*.accuracy_log_rng_seed = 720381539243781796\n*.*.accuracy_log_sampling_target = 1024\n*.*.mode = 2\n", "*", "Offline", ConfigKind::AuditConf).unwrap();
        assert!(w.is_empty());
        assert_eq!(s.accuracy_log_rng_seed, 720381539243781796);
        assert_eq!(s.accuracy_log_sampling_target, 1024);
    }

    #[test]
    fn unknown_and_ineffective_lines_warn() {
        let text = "*.*.target_qpss = 5\n\
                    *.server.target_qps = 5\n\
                    *.SingleStream.target_qps = 5\n\
                    other.*.bogus = 1\n\
                    *.*.min_duration = 1\n\
                    *.*.min_duration = 2\n";
        let (s, w) = apply(text, "m", "Server", ConfigKind::UserConf).unwrap();
        assert_eq!(s.min_duration_ms, 2);
        assert_eq!(s.server_target_qps, 1.0);
        let got: Vec<(usize, &str)> = w.iter().map(|w| (w.line, w.message.as_str())).collect();
        assert_eq!(got.len(), 5, "{got:?}");
        assert!(got[0].1.starts_with("unknown key `target_qpss`"));
        assert!(got[1].1.starts_with("unknown scenario `server`"));
        assert!(got[2].1.contains("only read for Server, Offline"));
        assert!(got[3].1.starts_with("unknown key `bogus`"));
        assert_eq!(got[4].0, 6);
        assert!(got[4].1.contains("first on line 5"));
        assert_eq!(w[0].source_name, "test.conf");
    }

    #[test]
    fn comments_and_whitespace() {
        let text = "# a comment\n\
                    \t  # indented comment\n\
                    \n   \n\
                    #*.*.min_duration = 5\n\
                    #disabled\n\
                    #k # note\n\
                    \t*.*.min_query_count\t=\t7   \r\n";
        let (s, w) = apply(text, "m", "Server", ConfigKind::UserConf).unwrap();
        assert!(w.is_empty());
        assert_eq!(s.min_query_count, 7);
        assert_eq!(s.min_duration_ms, TestSettings::default().min_duration_ms);
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let cases: &[(&str, &str)] = &[
            ("*.*.min_duration=5", "spaces around `=`"),
            ("*.*.min_duration", "expected `key = value`"),
            ("*.*.min_duration # x", "expected `key = value`"),
            ("*.*.min_duration =", "no value"),
            ("*.*.min_duration =5", "expected `=`"),
            ("*.*.min_duration : 5", "expected `=`"),
            ("*.*.min_duration = 5 # five", "comment after the value"),
            ("*.*.min_duration = 5 6", "more than one value"),
            ("#this is a note", "not a comment to LoadGen"),
            ("#k = abc", "not a comment to LoadGen"),
        ];
        for (line, expected) in cases {
            let e = err(&format!("# header\n{line}\n"));
            assert_eq!((e.source_name.as_str(), e.line), ("test.conf", 2), "{line}");
            assert!(e.reason.contains(expected), "{line}: {e}");
            assert!(e.to_string().starts_with("test.conf:2: "), "{e}");
        }
    }

    #[test]
    fn key_shape_errors() {
        for key in [
            "min_duration",
            "Server.min_duration",
            ".Server.min_duration",
            "m..min_duration",
            "m.Server.",
        ] {
            let e = err(&format!("{key} = 5"));
            assert_eq!(e.line, 1);
            assert!(e.reason.contains("model.scenario.key"), "{key}: {e}");
        }
    }

    #[test]
    fn value_errors() {
        let cases: &[(&str, &str)] = &[
            ("*.*.min_duration = abc", "not a number"),
            ("*.*.min_duration = 1.5", "whole number"),
            ("*.*.min_duration = 1e3", "whole number"),
            ("*.*.min_duration = -1", "negative"),
            ("*.*.min_duration = 010", "leading zero"),
            ("*.*.min_duration = 18446744073709551616", "out of range"),
            ("*.*.target_qps = inf", "not a number"),
            ("*.*.target_qps = nan", "not a number"),
            ("*.*.target_qps = 1e999", "out of range"),
            ("*.*.print_timestamps = 2", "0 or 1"),
            ("*.*.mode = 4", "`mode` must be"),
            ("*.Server.target_latency = 1.5", "whole number"),
            ("*.Server.ttft_latency = 18446744073710", "at most"),
            ("*.Server.max_async_queries = 2147483648", "at most"),
            // Other models' lines are checked too.
            ("other.Offline.min_query_count = 1.5", "whole number"),
            ("*.*.bogus_key = x", "not a number"),
        ];
        for (line, expected) in cases {
            let e = err(line);
            assert_eq!(e.line, 1, "{line}");
            assert!(e.reason.contains(expected), "{line}: {e}");
        }
    }

    #[test]
    fn accepted_number_forms() {
        let (s, _) = apply(
            "*.*.min_duration = 0x10\n*.*.max_duration = +7\n*.*.target_qps = .5\n*.*.min_query_count = 0\n*.SingleStream.target_latency = 1E-1\n",
            "m",
            "Offline",
            ConfigKind::UserConf,
        )
        .unwrap();
        assert_eq!(
            (s.min_duration_ms, s.max_duration_ms, s.min_query_count),
            (16, 7, 0)
        );
        assert_eq!(s.offline_expected_qps, 0.5);
        assert_eq!(s.single_stream_expected_latency_ns, 0.1 * 1e6);
    }

    #[test]
    fn errors_leave_settings_unchanged() {
        let mut s = TestSettings::default();
        let e = s
            .apply_config(
                "u.conf",
                "*.*.min_duration = 5\n*.*.min_query_count = x\n",
                "m",
                "Server",
                ConfigKind::UserConf,
            )
            .unwrap_err();
        assert_eq!(e.line, 2);
        assert_eq!(s, TestSettings::default());
    }

    #[test]
    fn bad_scenario_argument_is_an_error() {
        let e = TestSettings::from_config("user.conf", "", "resnet50", "server").unwrap_err();
        assert_eq!(e.line, 0);
        assert!(
            e.to_string().starts_with("user.conf: scenario `server`"),
            "{e}"
        );
    }

    #[test]
    fn strtoull_emulation() {
        assert_eq!(c_strtoull("2.5"), 2);
        assert_eq!(c_strtoull("0.5"), 0);
        assert_eq!(c_strtoull("1e3"), 1);
        assert_eq!(c_strtoull("-1.5"), u64::MAX);
        assert_eq!(c_strtoull("0x1F"), 31);
        assert_eq!(c_strtoull("017"), 15);
        assert_eq!(c_strtoull(".5"), 0);
        assert_eq!(c_strtoull("99999999999999999999.5"), u64::MAX);
    }
}

//! The official power checker's rules (power-dev `compliance/check.py`),
//! ported: each of its checks of a session's power folders, under its own
//! description, with its pass, warning and failure conditions, plus one
//! rule of ours (samples inside the measured window) marked as such.
//!
//! One deliberate difference: the official sources check accepts only the
//! SHA-1s of power-dev's own Python files, so a yardstick session can never
//! pass it; here the accepted sources are a parameter
//! ([`CheckOptions::known_sources`], by default yardstick's own).

use super::clock::{find_time, parse_ptd_time};
use super::director::{GO_REPLY_TEXT, STOP_REPLY_TEXT};
use super::session::{hash_dir, yardstick_sources};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// PTDaemon versions the checker supports.
pub const SUPPORTED_VERSIONS: [&str; 1] = ["1.11.1"];
/// Meter models the checker supports, with their PTDaemon device numbers.
pub const SUPPORTED_MODELS: [(&str, i64); 11] = [
    ("YokogawaWT210", 8),
    ("YokogawaWT500", 35),
    ("YokogawaWT500_multichannel", 48),
    ("YokogawaWT310", 49),
    ("YokogawaWT310E", 49),
    ("YokogawaWT330", 52),
    ("YokogawaWT330E", 52),
    ("YokogawaWT330_multichannel", 77),
    ("YokogawaWT210_DC", 508),
    ("YokogawaWT310_DC", 549),
    ("YokogawaWT330_DC", 586),
];
/// The files a session folder must hold.
pub const RESULT_PATHS: [&str; 11] = [
    "power/client.json",
    "power/client.log",
    "power/ptd_logs.txt",
    "power/server.json",
    "power/server.log",
    "ranging/mlperf_log_detail.txt",
    "ranging/mlperf_log_summary.txt",
    "ranging/spl.txt",
    "run_1/mlperf_log_detail.txt",
    "run_1/mlperf_log_summary.txt",
    "run_1/spl.txt",
];
const COMMON_ERROR_RANGING: [&str; 6] = [
    "Can't evaluate uncertainty of this sample!",
    "Bad watts reading nan from ",
    "Bad amps reading nan from ",
    "Bad pf reading nan from ",
    "Bad volts reading nan from ",
    "Current appears to be too high for set range",
];
const COMMON_ERROR_TESTING: [&str; 1] = ["USB."];
/// The checker's `TIME_DELTA_TOLERANCE`, milliseconds.
const TIME_DELTA_TOLERANCE_MS: f64 = 800.0;

/// One rule of the checker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// client.json and server.json exist, parse and hold the required
    /// fields (the checker stops here when they do not).
    Descriptors,
    /// client.json's sources are known.
    ClientSources,
    /// server.json's sources are known.
    ServerSources,
    /// PTDaemon's version, model and replies; ranges restored.
    PtdMessages,
    /// Client and server agree on the UUIDs.
    Uuid,
    /// Client and server agree on the session name.
    SessionName,
    /// Clocks, LoadGen's window inside each mode, durations, testing power
    /// not below ranging power.
    TimeDifference,
    /// Client and server recorded the same exchange, same protocol version.
    ClientServerMessages,
    /// Files' SHA-1s match both summaries; every required file is there.
    ResultsChecksum,
    /// PTDaemon's log: ranging found, uncertainty checking on, no errors
    /// or warnings where they matter.
    PtdLogs,
    /// A supported meter, multi-channel set up as two channels.
    PtdConfig,
    /// The director did not run in debug mode.
    Debug,
    /// Not in the official checker: each mode's spl.txt has samples inside
    /// LoadGen's window, all carrying the mode's mark.
    SamplesInWindow,
}

impl Rule {
    /// The checker's own description of the rule.
    pub fn description(self) -> &'static str {
        match self {
            Rule::Descriptors => "Load client.json and server.json",
            Rule::ClientSources => "Check client sources checksum",
            Rule::ServerSources => "Check server sources checksum",
            Rule::PtdMessages => "Check PTD commands and replies",
            Rule::Uuid => "Check UUID",
            Rule::SessionName => "Check session name",
            Rule::TimeDifference => "Check time difference",
            Rule::ClientServerMessages => "Check client server messages",
            Rule::ResultsChecksum => "Check results checksum",
            Rule::PtdLogs => "Check errors and warnings from PTD logs",
            Rule::PtdConfig => "Check PTD configuration",
            Rule::Debug => "Check debug is disabled on server-side",
            Rule::SamplesInWindow => "Check samples within the measured window (yardstick)",
        }
    }

    /// Whether the rule is the official checker's (not ours).
    pub fn is_official(self) -> bool {
        self != Rule::SamplesInWindow
    }
}

/// How a rule came out.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Accepted.
    Pass,
    /// Accepted, but for an auditor to look at (the checker's warnings).
    Warning(String),
    /// Rejected, and why.
    Fail(String),
}

/// One rule's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleOutcome {
    /// The rule.
    pub rule: Rule,
    /// How it came out.
    pub verdict: Verdict,
}

/// Every rule's outcome for one session folder.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerCheckReport {
    /// In the checker's order.
    pub outcomes: Vec<RuleOutcome>,
}

impl PowerCheckReport {
    /// No rule failed.
    pub fn passed(&self) -> bool {
        self.failures().is_empty()
    }

    /// The failed rules.
    pub fn failures(&self) -> Vec<&RuleOutcome> {
        self.outcomes
            .iter()
            .filter(|outcome| matches!(outcome.verdict, Verdict::Fail(_)))
            .collect()
    }

    /// The verdict on `rule`, if it ran.
    pub fn verdict(&self, rule: Rule) -> Option<&Verdict> {
        self.outcomes
            .iter()
            .find(|outcome| outcome.rule == rule)
            .map(|outcome| &outcome.verdict)
    }
}

impl std::fmt::Display for PowerCheckReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for outcome in &self.outcomes {
            match &outcome.verdict {
                Verdict::Pass => writeln!(f, "[x] {}", outcome.rule.description())?,
                Verdict::Warning(why) => {
                    writeln!(f, "[x] {} (warning: {why})", outcome.rule.description())?
                }
                Verdict::Fail(why) => writeln!(f, "[ ] {}: {why}", outcome.rule.description())?,
            }
        }
        Ok(())
    }
}

/// What the checker accepts.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// The `sources` maps accepted in client.json and server.json.
    pub known_sources: Vec<BTreeMap<String, String>>,
}

impl Default for CheckOptions {
    /// yardstick's own sources.
    fn default() -> Self {
        Self {
            known_sources: vec![yardstick_sources()],
        }
    }
}

/// A rule's result: `Ok(None)` passes, `Ok(Some(_))` warns, `Err(_)` fails.
type RuleResult = Result<Option<String>, String>;

/// Check the session folder `root` (holding power/, ranging/, run_1/).
pub fn check_power_folders(root: &Path, options: &CheckOptions) -> PowerCheckReport {
    let (client, server) = match (
        load_descriptor(root, "client.json"),
        load_descriptor(root, "server.json"),
    ) {
        (Ok(client), Ok(server)) => (client, server),
        (Err(why), _) | (_, Err(why)) => {
            return PowerCheckReport {
                outcomes: vec![RuleOutcome {
                    rule: Rule::Descriptors,
                    verdict: Verdict::Fail(why),
                }],
            }
        }
    };
    let session = Session {
        root: root.to_path_buf(),
        client,
        server,
    };
    let rules: [(Rule, &dyn Fn() -> RuleResult); 13] = [
        (Rule::Descriptors, &|| Ok(None)),
        (Rule::ClientSources, &|| {
            sources_check(&session.client, options)
        }),
        (Rule::ServerSources, &|| {
            sources_check(&session.server, options)
        }),
        (Rule::PtdMessages, &|| ptd_messages_check(&session.server)),
        (Rule::Uuid, &|| uuid_check(&session)),
        (Rule::SessionName, &|| session_name_check(&session)),
        (Rule::TimeDifference, &|| phases_check(&session)),
        (Rule::ClientServerMessages, &|| messages_check(&session)),
        (Rule::ResultsChecksum, &|| results_check(&session)),
        (Rule::PtdLogs, &|| ptd_logs_check(&session)),
        (Rule::PtdConfig, &|| ptd_config_check(&session.server)),
        (Rule::Debug, &|| debug_check(&session.server)),
        (Rule::SamplesInWindow, &|| samples_in_window_check(&session)),
    ];
    let outcomes = rules
        .iter()
        .map(|(rule, check)| RuleOutcome {
            rule: *rule,
            verdict: match check() {
                Ok(None) => Verdict::Pass,
                Ok(Some(warning)) => Verdict::Warning(warning),
                Err(failure) => Verdict::Fail(failure),
            },
        })
        .collect();
    PowerCheckReport { outcomes }
}

struct Session {
    root: PathBuf,
    client: Value,
    server: Value,
}

const REQUIRED_FIELDS: [&str; 9] = [
    "version",
    "timezone",
    "modules",
    "sources",
    "messages",
    "uuid",
    "session_name",
    "results",
    "phases",
];

fn load_descriptor(root: &Path, name: &str) -> Result<Value, String> {
    let path = root.join("power").join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let absent: Vec<&str> = REQUIRED_FIELDS
        .iter()
        .copied()
        .filter(|field| value.get(field).is_none())
        .collect();
    if !absent.is_empty() {
        return Err(format!(
            "Required fields {:?} does not exist in {:?}",
            absent.join(", "),
            path.display().to_string()
        ));
    }
    Ok(value)
}

fn field<'a>(value: &'a Value, path: &[&str]) -> Result<&'a Value, String> {
    let mut at = value;
    for key in path {
        at = at
            .get(key)
            .ok_or_else(|| format!("no {:?} field", path.join(".")))?;
    }
    Ok(at)
}

fn text<'a>(value: &'a Value, path: &[&str]) -> Result<&'a str, String> {
    field(value, path)?
        .as_str()
        .ok_or_else(|| format!("{:?} is not a string", path.join(".")))
}

fn list<'a>(value: &'a Value, path: &[&str]) -> Result<&'a Vec<Value>, String> {
    field(value, path)?
        .as_array()
        .ok_or_else(|| format!("{:?} is not a list", path.join(".")))
}

fn sources_check(descriptor: &Value, options: &CheckOptions) -> RuleResult {
    let sources = field(descriptor, &["sources"])?;
    let known = options
        .known_sources
        .iter()
        .any(|known| serde_json::to_value(known).is_ok_and(|known| &known == sources));
    if known {
        Ok(None)
    } else {
        Err(format!(
            "{sources} do not exist in the known sources checksums"
        ))
    }
}

fn ptd_messages_check(server: &Value) -> RuleResult {
    let messages = list(server, &["ptd_messages"])?;
    let pairs: Vec<(&str, &str)> = messages
        .iter()
        .map(|message| Ok((text(message, &["cmd"])?, text(message, &["reply"])?)))
        .collect::<Result<_, String>>()?;
    let answer = |command: &str| {
        pairs
            .iter()
            .find(|(cmd, _)| *cmd == command)
            .map_or("", |(_, reply)| *reply)
    };
    let identify = answer("Identify");
    if identify.is_empty() {
        return Err("There is no answer to the 'Identify' command for PTD.".into());
    }
    let model = identify.split(',').next().unwrap_or("");
    let version = identify
        .find("version=")
        .map(|at| &identify[at + "version=".len()..])
        .and_then(|rest| {
            rest.get(1..)
                .and_then(|tail| tail.find('-'))
                .map(|dash| &rest[..dash + 1])
        })
        .unwrap_or("");
    if !SUPPORTED_VERSIONS.contains(&version) {
        return Err(format!("PTD version {version:?} is not supported. Supported versions are {SUPPORTED_VERSIONS:?}"));
    }
    if !SUPPORTED_MODELS.iter().any(|(name, _)| *name == model) {
        return Err(format!("Power meter {model:?} is not supported."));
    }
    let check_reply = |prefix: &str, expected: &str| -> Result<(), String> {
        let mut expected = expected.to_string();
        let mut stops = 0;
        for (cmd, reply) in &pairs {
            if !cmd.starts_with(prefix) {
                continue;
            }
            if *cmd == "Stop" {
                // In the normal flow the third Stop finds nothing to stop.
                if stops == 2 {
                    expected = "Error: no measurement to stop".into();
                }
                stops += 1;
            }
            if *reply != expected {
                return Err(format!(
                    "Wrong reply for {cmd:?} command. Expected {expected:?}, but got {reply:?}"
                ));
            }
        }
        Ok(())
    };
    check_reply("SR,A", "Range A changed")?;
    check_reply("SR,V", "Range V changed")?;
    check_reply("Go,1000,", GO_REPLY_TEXT)?;
    check_reply("Stop", STOP_REPLY_TEXT)?;

    let ranges = pairs.get(2).map_or("", |(_, reply)| *reply);
    let initial = |index: usize| -> Result<String, String> {
        let fields: Vec<&str> = ranges.split(',').collect();
        let fail = || format!("Can not get power meters initial values from {ranges:?}");
        if *fields.get(index).ok_or_else(fail)? == "0" {
            let range: f64 = fields
                .get(index + 1)
                .and_then(|r| r.parse().ok())
                .ok_or_else(fail)?;
            if range > 0.0 {
                return Ok(fields[index + 1].to_string());
            }
        }
        Ok("Auto".into())
    };
    let (initial_amps, initial_volts) = (initial(1)?, initial(3)?);
    let nth = |prefix: &str, number: usize| -> Result<&str, String> {
        pairs
            .iter()
            .filter(|(cmd, _)| cmd.starts_with(prefix))
            .nth(number - 1)
            .map(|(cmd, _)| *cmd)
            .ok_or_else(|| format!("Can not find the {number} command starting with {prefix:?}."))
    };
    let (amps_3, amps_4, volts_3) = (nth("SR,A", 3)?, nth("SR,A", 4)?, nth("SR,V", 3)?);
    let amps = format!("SR,A,{initial_amps}");
    if amps_3 != amps && amps_4 != amps {
        return Err(format!(
            "Do not set Amps range as initial. Expected {amps:?}, got {amps_3:?} and {amps_4:?}."
        ));
    }
    let volts = format!("SR,V,{initial_volts}");
    if volts_3 != volts {
        return Err(format!(
            "Do not set Volts range as initial. Expected {volts:?}, got {volts_3:?}."
        ));
    }
    Ok(None)
}

/// A UUID's 32 hex digits, lower case, as Python's `uuid.UUID` reads it.
fn uuid_digits(text: &str) -> Option<String> {
    let trimmed = text.trim_start_matches("urn:").trim_start_matches("uuid:");
    let digits: String = trimmed
        .chars()
        .filter(|c| !matches!(c, '{' | '}' | '-'))
        .collect();
    (digits.len() == 32 && digits.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| digits.to_ascii_lowercase())
}

fn uuid_check(session: &Session) -> RuleResult {
    for side in ["client", "server"] {
        let parse = |value: &Value| {
            text(value, &["uuid", side]).and_then(|t| {
                uuid_digits(t).ok_or_else(|| format!("badly formed hexadecimal UUID string {t:?}"))
            })
        };
        if parse(&session.client)? != parse(&session.server)? {
            return Err(format!("'{side} uuid' is not equal."));
        }
    }
    Ok(None)
}

fn session_name_check(session: &Session) -> RuleResult {
    let client = text(&session.client, &["session_name"])?;
    let server = text(&session.server, &["session_name"])?;
    if client != server {
        return Err(format!(
            "Session name is not equal. Client session name is {client:?}. Server session name is {server:?}"
        ));
    }
    Ok(None)
}

/// power_begin and power_end of the LoadGen detail log in `folder`.
fn loadgen_window(root: &Path, folder: &str) -> Result<(SystemTime, SystemTime), String> {
    let path = root.join(folder).join("mlperf_log_detail.txt");
    let content = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (mut begin, mut end) = (None, None);
    for line in content.lines() {
        let lower = line.to_lowercase();
        let slot = if lower.contains("power_begin") {
            &mut begin
        } else if lower.contains("power_end") {
            &mut end
        } else {
            continue;
        };
        *slot = Some(
            find_time(line).ok_or_else(|| format!("{:?} in {}.", line.trim(), path.display()))?,
        );
        if begin.is_some() && end.is_some() {
            break;
        }
    }
    let begin = begin.ok_or_else(|| {
        format!(
            "Can not get power_begin time from {:?}",
            path.display().to_string()
        )
    })?;
    let end = end.ok_or_else(|| {
        format!(
            "Can not get power_end time from {:?}",
            path.display().to_string()
        )
    })?;
    Ok((begin, end))
}

fn seconds(t: SystemTime) -> f64 {
    super::clock::unix_seconds(t)
}

/// `[[wall, monotonic], ...]` walls.
fn phase_walls(value: &Value, mode: &str) -> Result<Vec<f64>, String> {
    list(value, &["phases", mode])?
        .iter()
        .map(|pair| {
            pair.get(0)
                .and_then(Value::as_f64)
                .ok_or_else(|| format!("a {mode} phase is not [time, monotonic]"))
        })
        .collect()
}

/// Mean watts and power factor of the positive samples strictly inside
/// `begin..end` (-1 when none), as the checker averages them.
fn average_power(path: &Path, begin: SystemTime, end: SystemTime) -> Result<(f64, f64), String> {
    let content = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (mut watts, mut pfs) = (Vec::new(), Vec::new());
    for line in content.lines().filter(|line| line.starts_with("Time")) {
        let fields: Vec<&str> = line.split(',').collect();
        let stamp = fields
            .get(1)
            .and_then(|t| parse_ptd_time(t))
            .ok_or_else(|| format!("bad time in {line:?}"))?;
        if stamp > begin && stamp < end {
            let number = |at: usize| {
                fields
                    .get(at)
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .ok_or_else(|| format!("bad number in {line:?}"))
            };
            let (power, pf) = (number(3)?, number(9)?);
            if power > 0.0 {
                watts.push(power);
            }
            if pf > 0.0 {
                pfs.push(pf);
            }
        }
    }
    let mean = |values: &[f64]| {
        if values.is_empty() {
            -1.0
        } else {
            values.iter().sum::<f64>() / values.len() as f64
        }
    };
    Ok((mean(&watts), mean(&pfs)))
}

fn round_to(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

fn phases_check(session: &Session) -> RuleResult {
    let tolerance = TIME_DELTA_TOLERANCE_MS / 1000.0;
    let ranging_c = phase_walls(&session.client, "ranging")?;
    let testing_c = phase_walls(&session.client, "testing")?;
    for (mode, label) in [("ranging", "ranging"), ("testing", "run_1")] {
        let client = phase_walls(&session.client, mode)?;
        let server = phase_walls(&session.server, mode)?;
        if client.len() != server.len() {
            return Err(format!("Phases amount is not equal for {label} mode."));
        }
        for (index, (c, s)) in client.iter().zip(&server).enumerate() {
            let difference = (c - s).abs();
            if difference > tolerance {
                return Err(format!(
                    "The time difference for {} phase of {label} mode is more than {TIME_DELTA_TOLERANCE_MS}ms.Observed difference is {}ms",
                    index + 1,
                    difference * 1000.0
                ));
            }
        }
    }
    let within = |t: f64, phases: &[f64]| {
        // The checker's daylight-saving workaround: an hour off also passes.
        phases.len() > 2
            && ((phases[1] < t && t < phases[2])
                || (phases[1] < t - 3600.0 && t - 3600.0 < phases[2]))
    };
    let (begin_r, end_r) = loadgen_window(&session.root, "ranging")?;
    let (begin_t, end_t) = loadgen_window(&session.root, "run_1")?;
    for (begin, end, phases, mode) in [
        (begin_r, end_r, &ranging_c, "ranging"),
        (begin_t, end_t, &testing_c, "testing"),
    ] {
        if !within(seconds(begin), phases) {
            return Err(format!(
                "Loadgen test begin time is not within {mode} mode time interval."
            ));
        }
        if !within(seconds(end), phases) {
            return Err(format!(
                "Loadgen test end time is not within {mode} mode time interval."
            ));
        }
    }
    let ranging_duration = seconds(end_r) - seconds(begin_r);
    let testing_duration = seconds(end_t) - seconds(begin_t);
    let shortfall = (ranging_duration - testing_duration) / ranging_duration;
    if shortfall > 0.5 {
        // The checker warns here and skips the power comparison.
        return Ok(Some(format!(
            "Duration of the testing mode ({testing_duration:.2}) is lower than that of ranging mode ({ranging_duration:.2}) by {:.2} percent",
            shortfall * 100.0
        )));
    }
    let (ranging_watts, _) = average_power(
        &session.root.join("ranging").join("spl.txt"),
        begin_r,
        end_r,
    )?;
    let (testing_watts, _) =
        average_power(&session.root.join("run_1").join("spl.txt"), begin_t, end_t)?;
    let (ranging_watts, testing_watts) = (round_to(ranging_watts, 5), round_to(testing_watts, 5));
    let delta = round_to((testing_watts / ranging_watts - 1.0) * 100.0, 2);
    if delta.is_nan() || delta <= -5.0 {
        return Err(format!(
            "Average power during the testing mode run is lower than that during the ranging run by more than 5%. Observed delta is {delta}% with avg. ranging power {ranging_watts}, avg.testing power {testing_watts}"
        ));
    }
    Ok(None)
}

fn messages_check(session: &Session) -> RuleResult {
    let client = list(&session.client, &["messages"])?;
    let server = list(&session.server, &["messages"])?;
    if client.len() != server.len() {
        return Err(format!(
            "Client commands list length ({}) should be equal to server commands list length ({}). ",
            client.len(),
            server.len()
        ));
    }
    for (index, (c, s)) in client.iter().zip(server).enumerate() {
        let (c_cmd, s_cmd) = (field(c, &["cmd"])?, field(s, &["cmd"])?);
        if c_cmd != s_cmd {
            return Err(format!("Commands {index} are different. Server command is {s_cmd}. Client command is {c_cmd}."));
        }
        if c_cmd.as_str() != Some("time") {
            let (c_reply, s_reply) = (field(c, &["reply"])?, field(s, &["reply"])?);
            if c_reply != s_reply {
                return Err(format!(
                    "Replies on command {c_cmd} are different. Server reply is {s_reply}. Client command is {c_reply}."
                ));
            }
        }
    }
    let first = server
        .first()
        .ok_or("Server version is not defined in:''")?;
    let version = |line: &str, prefix: &str| -> Result<String, String> {
        line.rfind(prefix)
            .map(|at| &line[at + prefix.len()..])
            .filter(|digits| !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()))
            .map(str::to_string)
            .ok_or_else(|| format!("Server version is not defined in:'{line}'"))
    };
    let client_version = version(text(first, &["cmd"])?, "mlcommons/power client v")?;
    let server_version = version(text(first, &["reply"])?, "mlcommons/power server v")?;
    if client_version != server_version {
        return Err(format!(
            "Client.py version ({client_version}) is not equal server.py version ({server_version})."
        ));
    }
    Ok(None)
}

fn results_map(value: &Value) -> Result<BTreeMap<String, String>, String> {
    let object = field(value, &["results"])?
        .as_object()
        .ok_or("\"results\" is not an object")?;
    Ok(object
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
        .collect())
}

fn results_check(session: &Session) -> RuleResult {
    let mut actual = hash_dir(&session.root).map_err(|e| e.to_string())?;
    for summary in ["power/server.json", "power/client.json"] {
        actual
            .remove(summary)
            .ok_or_else(|| format!("{summary} is absent"))?;
    }
    let required: Vec<&str> = RESULT_PATHS
        .iter()
        .copied()
        .filter(|p| !p.ends_with(".json"))
        .collect();
    let keep = |map: BTreeMap<String, String>| -> BTreeMap<String, String> {
        map.into_iter()
            .filter(|(path, _)| required.contains(&path.as_str()))
            .collect()
    };
    let server = keep(results_map(&session.server)?);
    let client = keep(results_map(&session.client)?);
    let actual = keep(actual);
    for (path, hash) in &server {
        if let Some(other) = client.get(path) {
            if other != hash {
                return Err(format!("server.json and client.json results checksum comparison: Expected {hash}, but got {other} for {path}"));
            }
        }
    }
    let mut recorded = client.clone();
    recorded.extend(server);
    let missing: Vec<&str> = recorded
        .keys()
        .filter(|k| !actual.contains_key(*k))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "results checksum values and calculated content checksum comparison: Missing {:?}",
            missing.join(", ")
        ));
    }
    let extra: Vec<&str> = actual
        .keys()
        .filter(|k| !recorded.contains_key(*k))
        .map(String::as_str)
        .collect();
    if !extra.is_empty() {
        return Err(format!(
            "results checksum values and calculated content checksum comparison: Extra {:?}",
            extra.join(", ")
        ));
    }
    for (path, hash) in &recorded {
        if actual.get(path) != Some(hash) {
            return Err(format!(
                "Expected {hash}, but got {} for {path}",
                actual.get(path).map_or("", String::as_str)
            ));
        }
    }
    let absent: Vec<&str> = required
        .iter()
        .copied()
        .filter(|p| !recorded.contains_key(*p))
        .collect();
    if !absent.is_empty() {
        return Err(format!(
            "There are absent files {:?} in the results",
            absent.join(", ")
        ));
    }
    Ok(None)
}

/// A PTDaemon log line's leading `MM-DD-YYYY HH:MM:SS.mmm` and the rest.
fn ptd_log_stamp(line: &str) -> Option<(SystemTime, &str)> {
    let head = line.get(..23)?;
    let bytes = head.as_bytes();
    let digits = [0, 1, 3, 4, 6, 7, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22];
    let shape = digits.iter().all(|&at| bytes[at].is_ascii_digit())
        && bytes[2] == b'-'
        && bytes[5] == b'-'
        && bytes[10] == b' '
        && bytes[13] == b':'
        && bytes[16] == b':';
    if !shape {
        return None;
    }
    Some((parse_ptd_time(head)?, &line[23..]))
}

fn ptd_logs_check(session: &Session) -> RuleResult {
    let ranging_mark = format!("{}_ranging", text(&session.server, &["session_name"])?);
    let (load_begin, load_end) = loadgen_window(&session.root, "run_1")?;
    let path = session.root.join("power").join("ptd_logs.txt");
    let content = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let lines: Vec<&str> = content.lines().collect();

    let go_line = format!(": Go with mark '{ranging_mark}'");
    let (mut ranging_begin, mut ranging_end) = (None, None);
    for line in &lines {
        let Some((stamp, rest)) = ptd_log_stamp(line) else {
            continue;
        };
        let message = rest.trim();
        if ranging_begin.is_none() && message == go_line {
            ranging_begin = Some(stamp);
        }
        if ranging_end.is_none() && ranging_begin.is_some() && message == ": Completed test" {
            ranging_end = Some(stamp);
            break;
        }
    }
    let (Some(ranging_begin), Some(ranging_end)) = (ranging_begin, ranging_end) else {
        return Err("Can not find ranging time in ptd_logs.txt.".into());
    };

    let activation = lines.iter().find(|line| {
        line.find("Uncertainty checking for Yokogawa")
            .is_some_and(|at| {
                let rest = &line[at + "Uncertainty checking for Yokogawa".len()..];
                let model_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                model_end > 0 && rest[model_end..].starts_with(" is activated")
            })
    });
    let Some(activation) = activation else {
        return Err(
            "ptd_logs.txt: Line 'Uncertainty checking for Yokogawa... is activated' is not found."
                .into(),
        );
    };
    let activated = find_stamp_anywhere(activation).ok_or(
        "ptd_logs.txt: Can not get timestamp for 'Uncertainty checking for Yokogawa... is activated' message.",
    )?;
    if activated >= ranging_begin {
        return Err("ptd_logs.txt: Uncertainty checking Yokogawa... was activated after ranging mode was started.".into());
    }

    let tolerance = Duration::from_secs_f64(TIME_DELTA_TOLERANCE_MS);
    for line in &lines {
        for (marker, is_error) in [("WARNING:", false), ("ERROR:", true)] {
            let Some(at) = line.find(marker) else {
                continue;
            };
            let problem = &line[at + marker.len()..];
            if problem.is_empty() {
                continue;
            }
            let (stamp, _) =
                ptd_log_stamp(line).ok_or_else(|| format!("{:?} in ptd_logs.txt.", line.trim()))?;
            let problem = problem.trim();
            if is_error {
                if COMMON_ERROR_TESTING.contains(&problem) {
                    return Ok(Some(format!(
                        "{:?} in ptd_log.txt during testing stage but it is accepted.",
                        line.trim()
                    )));
                }
                if !(ranging_begin < stamp && stamp < ranging_end) {
                    return Err(format!("{:?} in ptd_log.txt", line.trim()));
                }
                if !COMMON_ERROR_RANGING
                    .iter()
                    .any(|common| problem.starts_with(common))
                {
                    return Ok(Some(format!(
                        "{:?} in ptd_log.txt during ranging stage.",
                        line.trim()
                    )));
                }
            } else {
                // As the checker: its 800 "ms" tolerance is added to
                // seconds here, so only warnings deep inside a long run count.
                let inside = load_begin + tolerance < stamp && stamp + tolerance < load_end;
                if inside {
                    if is_uncertainty_over_limit(problem) {
                        return Err(format!("{:?} during testing phase.", line.trim()));
                    }
                    return Ok(Some(format!(
                        "{:?} in ptd_log.txt during load stage",
                        line.trim()
                    )));
                }
            }
        }
    }
    Ok(None)
}

/// `Uncertainty \d+.\d+%, which is above 1.00% limit for the last sample!`
fn is_uncertainty_over_limit(problem: &str) -> bool {
    let Some(rest) = problem
        .find("Uncertainty ")
        .map(|at| &problem[at + "Uncertainty ".len()..])
    else {
        return false;
    };
    let Some(percent) = rest.find('%') else {
        return false;
    };
    let number = &rest[..percent];
    number.split_once('.').is_some_and(|(whole, fraction)| {
        !whole.is_empty()
            && !fraction.is_empty()
            && whole
                .chars()
                .chain(fraction.chars())
                .all(|c| c.is_ascii_digit())
    }) && rest[percent..].starts_with("%, which is above 1.00% limit for the last sample!")
}

/// The checker reads this line's time with its line-start pattern.
fn find_stamp_anywhere(line: &str) -> Option<SystemTime> {
    ptd_log_stamp(line).map(|(stamp, _)| stamp)
}

fn ptd_config_check(server: &Value) -> RuleResult {
    for analyzer in list(server, &["ptd_config"])? {
        let device = field(analyzer, &["device_type"])?.as_i64().unwrap_or(-1);
        if !SUPPORTED_MODELS.iter().any(|(_, number)| *number == device) {
            return Err(format!("Device number {device} is not supported."));
        }
        if device == 77 {
            let command = list(analyzer, &["command"])?;
            let channels = command
                .iter()
                .position(|arg| arg.as_str() == Some("-c"))
                .and_then(|at| command.get(at + 1))
                .and_then(Value::as_str)
                .unwrap_or("");
            let two = analyzer
                .get("channel")
                .and_then(Value::as_array)
                .is_some_and(|c| c.len() == 2);
            if channels.split(',').count() != 2 || !two {
                return Err(
                    "Expected multichannel mode for YokogawaWT330_multichannel, but got 1-channel."
                        .into(),
                );
            }
        }
    }
    Ok(None)
}

fn debug_check(server: &Value) -> RuleResult {
    match server.get("debug") {
        None | Some(Value::Bool(false)) => Ok(None),
        Some(_) => Err("Server was running in debug mode".into()),
    }
}

fn samples_in_window_check(session: &Session) -> RuleResult {
    let name = text(&session.server, &["session_name"])?;
    for (folder, mode) in [("ranging", "ranging"), ("run_1", "testing")] {
        let (begin, end) = loadgen_window(&session.root, folder)?;
        let samples = super::spl::read_spl(&session.root.join(folder).join("spl.txt"))
            .map_err(|e| e.to_string())?;
        let mark = format!("{name}_{mode}");
        if let Some(stray) = samples.iter().find(|sample| sample.mark != mark) {
            return Err(format!(
                "{folder}/spl.txt: a sample is marked {:?}, not {mark:?}",
                stray.mark
            ));
        }
        let inside = samples
            .iter()
            .filter(|s| s.wall > begin && s.wall < end && s.watts > 0.0)
            .count();
        if inside == 0 {
            return Err(format!(
                "{folder}/spl.txt: no sample inside LoadGen's power_begin..power_end"
            ));
        }
    }
    Ok(None)
}

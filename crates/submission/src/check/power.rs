//! The Power WG's checker on a result's power folders: power-dev's
//! `compliance/check.py`, which the official submission checker runs as
//! `power_checker.py` on each `performance/` holding `power/`, `ranging/`
//! and `run_1/`. The rules are yardstick-power's port
//! ([`yardstick_power::ptd::check`]), used as they are; here they become
//! findings with ids of their own.
//!
//! The sources rule accepts what the official checker accepts, power-dev's
//! own sources (`rounds/power_sources_checksums.json`, reproduced from
//! mlcommons/inference `tools/submission/submission_checker/checks/power/
//! sources_checksums.json`, Apache-2.0; the same file at the v5.1 tag), and
//! also yardstick's director client's sources.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use yardstick_power::ptd::check::{check_power_folders, CheckOptions, Rule as PowerRule, Verdict};
use yardstick_power::ptd::session::yardstick_sources;

use super::rules::{self, Rule};
use super::tree::Walk;

/// power-dev's sources (the SHA-1 of each file) the official checker accepts.
const OFFICIAL_SOURCES: &str = include_str!("../../rounds/power_sources_checksums.json");

/// The accepted sources: power-dev's and yardstick's. The official list is
/// compiled in and checked by a test, so it cannot fail to parse here; were
/// it ever unreadable, only yardstick's sources would be accepted (and a
/// power-dev session fails the sources rules, visibly).
fn options() -> &'static CheckOptions {
    static OPTIONS: OnceLock<CheckOptions> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let mut known_sources: Vec<BTreeMap<String, String>> =
            serde_json::from_str(OFFICIAL_SOURCES).unwrap_or_default();
        known_sources.push(yardstick_sources());
        CheckOptions { known_sources }
    })
}

/// The finding's rule and the file it is about, relative to `performance/`.
fn rule_and_file(rule: PowerRule) -> (Rule, &'static str) {
    match rule {
        PowerRule::Descriptors => (rules::POWER_DESCRIPTORS, "power"),
        PowerRule::ClientSources => (rules::POWER_CLIENT_SOURCES, "power/client.json"),
        PowerRule::ServerSources => (rules::POWER_SERVER_SOURCES, "power/server.json"),
        PowerRule::PtdMessages => (rules::POWER_PTD_MESSAGES, "power/server.json"),
        PowerRule::Uuid => (rules::POWER_UUID, "power/client.json"),
        PowerRule::SessionName => (rules::POWER_SESSION_NAME, "power/client.json"),
        PowerRule::TimeDifference => (rules::POWER_TIME_DIFFERENCE, "run_1/spl.txt"),
        PowerRule::ClientServerMessages => {
            (rules::POWER_CLIENT_SERVER_MESSAGES, "power/client.json")
        }
        PowerRule::ResultsChecksum => (rules::POWER_RESULTS_CHECKSUM, "power"),
        PowerRule::PtdLogs => (rules::POWER_PTD_LOGS, "power/ptd_logs.txt"),
        PowerRule::PtdConfig => (rules::POWER_PTD_CONFIG, "power/server.json"),
        PowerRule::Debug => (rules::POWER_DEBUG, "power/server.json"),
        PowerRule::SamplesInWindow => (rules::POWER_SAMPLES_IN_WINDOW, "run_1/spl.txt"),
    }
}

/// Runs the Power WG's rules on `performance` (the folder holding
/// `power/`, `ranging/`, `run_1/`), in their order: a failure is an error
/// that strikes the result, as the official checker's "Power WG
/// power_checker.py did not pass"; a warning stays a warning. Returns
/// whether every rule passed.
pub(crate) fn check(walk: &mut Walk<'_>, performance: &Path, scope: &str) -> bool {
    let report = check_power_folders(performance, options());
    for outcome in &report.outcomes {
        let (rule, file) = rule_and_file(outcome.rule);
        let what = outcome.rule.description();
        match &outcome.verdict {
            Verdict::Pass => {}
            Verdict::Warning(why) => walk.warn(
                rule,
                &performance.join(file),
                None,
                scope,
                format!("{what}: {why}"),
            ),
            Verdict::Fail(why) => walk.fail(
                rule,
                &performance.join(file),
                None,
                scope,
                format!("{what}: {why}"),
            ),
        }
    }
    report.passed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_official_sources_parse_and_yardsticks_are_added() {
        let official: Vec<BTreeMap<String, String>> =
            serde_json::from_str(OFFICIAL_SOURCES).expect("the official list parses");
        assert!(!official.is_empty());
        assert!(official[0].contains_key("client.py"));
        assert_eq!(options().known_sources.len(), official.len() + 1);
    }
}

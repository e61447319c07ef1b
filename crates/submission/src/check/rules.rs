//! Every rule `check` applies, by id. A rule the official checker does not
//! enforce (it logs and keeps the result, or does not look) says why
//! yardstick is stricter; the others follow the official checker.

use serde::Serialize;

/// The part of a submission a rule looks at, in the order results are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Area {
    Tree,
    Performance,
    Accuracy,
    System,
    Measurements,
    Power,
    Compliance,
}

/// One rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub area: Area,
    /// `Some(why)` where yardstick fails what the official checker lets pass.
    pub stricter: Option<&'static str>,
}

const fn same(id: &'static str, area: Area) -> Rule {
    Rule {
        id,
        area,
        stricter: None,
    }
}

const fn stricter(id: &'static str, area: Area, why: &'static str) -> Rule {
    Rule {
        id,
        area,
        stricter: Some(why),
    }
}

use Area::*;

pub const TREE_INVALID_DIVISION: Rule = same("tree.invalid-division", Tree);
pub const TREE_ROOT_FILES: Rule = same("tree.root-files", Tree);
pub const TREE_DIVISION_FILES: Rule = same("tree.division-files", Tree);
pub const TREE_BROKEN_LINK: Rule = same("tree.broken-link", Tree);
pub const TREE_FILE_TOO_LARGE: Rule = same("tree.file-too-large", Tree);
pub const TREE_HIDDEN_NAME: Rule = same("tree.hidden-name", Tree);
pub const TREE_SPACE_IN_NAME: Rule = same("tree.space-in-name", Tree);
pub const TREE_PYCACHE: Rule = same("tree.pycache", Tree);
pub const TREE_EMPTY_DIR: Rule = same("tree.empty-dir", Tree);
pub const TREE_UNMATCHED_SYSTEM: Rule = same("tree.unmatched-system", Tree);
pub const TREE_CALIBRATION: Rule = same("tree.calibration", Tree);
pub const TREE_INVALID_MODEL: Rule = same("tree.invalid-model", Tree);
pub const TREE_UNEXPECTED_SCENARIO: Rule = same("tree.unexpected-scenario", Tree);
pub const TREE_REQUIRED_SCENARIOS: Rule = same("tree.required-scenarios", Tree);

pub const PERF_MISSING_RUN: Rule = same("perf.missing-run", Performance);
pub const PERF_FILE_LIST: Rule = same("perf.file-list", Performance);
pub const PERF_UNREADABLE: Rule = same("perf.unreadable-log", Performance);
pub const PERF_RESULT_VALIDITY: Rule = same("perf.result-validity", Performance);
pub const PERF_LOADGEN_ERROR: Rule = same("perf.loadgen-error", Performance);
pub const PERF_LOADGEN_ERROR_UNCOUNTED: Rule = stricter(
    "perf.loadgen-error-uncounted",
    Performance,
    "the official parser believes the num_errors record; a line LoadGen marked is_error fails the run even when num_errors says 0",
);
pub const PERF_EQUAL_ISSUE: Rule = same("perf.equal-issue", Performance);
pub const PERF_SAMPLE_COUNT: Rule = same("perf.performance-sample-count", Performance);
pub const PERF_SEED: Rule = same("perf.seed", Performance);
pub const PERF_TOKEN_LATENCIES_OFF: Rule = same("perf.token-latencies-off", Performance);
pub const PERF_TOKEN_LATENCY_BOUND: Rule = same("perf.token-latency-bound", Performance);
pub const PERF_EARLY_STOPPING: Rule = stricter(
    "perf.early-stopping",
    Performance,
    "the official checker logs 'Early stopping condition was not met' and keeps the result",
);
pub const PERF_LATENCY_BOUND: Rule = same("perf.latency-bound", Performance);
pub const PERF_MIN_QUERY_COUNT: Rule = same("perf.min-query-count", Performance);
pub const PERF_OFFLINE_SAMPLES: Rule = same("perf.offline-samples-per-query", Performance);
pub const PERF_MIN_DURATION: Rule = same("perf.min-duration", Performance);
pub const PERF_SCENARIO: Rule = same("perf.scenario", Performance);
pub const PERF_MISSING_VALUE: Rule = same("perf.missing-value", Performance);

pub const ACC_MISSING_TXT: Rule = same("acc.missing-accuracy-txt", Accuracy);
pub const ACC_FILE_LIST: Rule = same("acc.file-list", Accuracy);
pub const ACC_TARGET: Rule = same("acc.target", Accuracy);
pub const ACC_METRIC_MISSING: Rule = same("acc.metric-missing", Accuracy);
pub const ACC_UPPER_LIMIT: Rule = same("acc.upper-limit", Accuracy);
pub const ACC_HASH: Rule = same("acc.hash", Accuracy);
pub const ACC_LOG_MISSING: Rule = same("acc.log-missing", Accuracy);
pub const ACC_LOG_NOT_TRUNCATED: Rule = same("acc.log-not-truncated", Accuracy);
pub const ACC_LOADGEN_ERROR: Rule = same("acc.loadgen-error", Accuracy);
pub const ACC_DATASET_COVERAGE: Rule = stricter(
    "acc.dataset-coverage",
    Accuracy,
    "the official checker logs 'accuracy run does not cover all dataset' and keeps the result",
);
pub const ACC_EXTRA_FILES: Rule = same("acc.extra-files", Accuracy);

pub const SYS_MISSING: Rule = same("sys.missing-description", System);
pub const SYS_UNREADABLE: Rule = same("sys.unreadable", System);
pub const SYS_REQUIRED_FIELD: Rule = same("sys.required-field", System);
pub const SYS_MEANINGFUL_FIELD: Rule = same("sys.meaningful-field", System);
pub const SYS_NUMERIC_FIELD: Rule = same("sys.numeric-field", System);
pub const SYS_UNKNOWN_FIELD: Rule = same("sys.unknown-field", System);
pub const SYS_SUBMITTER: Rule = same("sys.submitter", System);
pub const SYS_DIVISION: Rule = same("sys.division", System);
pub const SYS_STATUS: Rule = same("sys.status", System);
pub const SYS_SYSTEM_TYPE: Rule = same("sys.system-type", System);

pub const MEAS_MISSING_DIR: Rule = same("meas.missing-dir", Measurements);
pub const MEAS_REQUIRED_FILE: Rule = same("meas.required-file", Measurements);
pub const MEAS_EMPTY_FILE: Rule = same("meas.empty-file", Measurements);
pub const MEAS_POWER_FILE: Rule = same("meas.power-file", Measurements);
pub const MEAS_IMPLEMENTATION_JSON: Rule = same("meas.implementation-json", Measurements);
pub const MEAS_IMPLEMENTATION_FIELD: Rule = same("meas.implementation-field", Measurements);
pub const MEAS_CODE_DIR: Rule = same("meas.code-dir", Measurements);

pub const POWER_FILES: Rule = same("power.files", Power);
pub const POWER_NO_SAMPLES: Rule = same("power.no-samples", Power);
pub const POWER_UNREADABLE: Rule = same("power.unreadable", Power);
// The Power WG's checker (power-dev compliance/check.py, run by the
// official checker as power_checker.py), one id per check it makes.
pub const POWER_DESCRIPTORS: Rule = same("power.descriptors", Power);
pub const POWER_CLIENT_SOURCES: Rule = same("power.client-sources", Power);
pub const POWER_SERVER_SOURCES: Rule = same("power.server-sources", Power);
pub const POWER_PTD_MESSAGES: Rule = same("power.ptd-messages", Power);
pub const POWER_UUID: Rule = same("power.uuid", Power);
pub const POWER_SESSION_NAME: Rule = same("power.session-name", Power);
pub const POWER_TIME_DIFFERENCE: Rule = same("power.time-difference", Power);
pub const POWER_CLIENT_SERVER_MESSAGES: Rule = same("power.client-server-messages", Power);
pub const POWER_RESULTS_CHECKSUM: Rule = same("power.results-checksum", Power);
pub const POWER_PTD_LOGS: Rule = same("power.ptd-logs", Power);
pub const POWER_PTD_CONFIG: Rule = same("power.ptd-config", Power);
pub const POWER_DEBUG: Rule = same("power.debug", Power);
pub const POWER_SAMPLES_IN_WINDOW: Rule = stricter(
    "power.samples-in-window",
    Power,
    "the Power WG checker does not look whether each mode's spl.txt has samples inside LoadGen's window, all carrying the mode's mark",
);

pub const COMP_MISSING_DIR: Rule = same("comp.missing-dir", Compliance);
pub const COMP_MISSING_TEST: Rule = same("comp.missing-test", Compliance);
pub const COMP_VERIFY_MISSING: Rule = same("comp.verify-missing", Compliance);
pub const COMP_VERIFY_PERFORMANCE: Rule = same("comp.verify-performance", Compliance);
pub const COMP_PERF_FILES: Rule = same("comp.perf-files", Compliance);
pub const COMP_ACC_FILES: Rule = same("comp.acc-files", Compliance);
pub const COMP_TEST01_ACCURACY: Rule = same("comp.test01-accuracy", Compliance);
pub const COMP_TEST06: Rule = same("comp.test06", Compliance);
pub const COMP_VERDICT: Rule = same("comp.verdict", Compliance);

/// Every rule, for documentation and `--json` consumers.
pub const ALL: &[Rule] = &[
    TREE_INVALID_DIVISION,
    TREE_ROOT_FILES,
    TREE_DIVISION_FILES,
    TREE_BROKEN_LINK,
    TREE_FILE_TOO_LARGE,
    TREE_HIDDEN_NAME,
    TREE_SPACE_IN_NAME,
    TREE_PYCACHE,
    TREE_EMPTY_DIR,
    TREE_UNMATCHED_SYSTEM,
    TREE_CALIBRATION,
    TREE_INVALID_MODEL,
    TREE_UNEXPECTED_SCENARIO,
    TREE_REQUIRED_SCENARIOS,
    PERF_MISSING_RUN,
    PERF_FILE_LIST,
    PERF_UNREADABLE,
    PERF_RESULT_VALIDITY,
    PERF_LOADGEN_ERROR,
    PERF_LOADGEN_ERROR_UNCOUNTED,
    PERF_EQUAL_ISSUE,
    PERF_SAMPLE_COUNT,
    PERF_SEED,
    PERF_TOKEN_LATENCIES_OFF,
    PERF_TOKEN_LATENCY_BOUND,
    PERF_EARLY_STOPPING,
    PERF_LATENCY_BOUND,
    PERF_MIN_QUERY_COUNT,
    PERF_OFFLINE_SAMPLES,
    PERF_MIN_DURATION,
    PERF_SCENARIO,
    PERF_MISSING_VALUE,
    ACC_MISSING_TXT,
    ACC_FILE_LIST,
    ACC_TARGET,
    ACC_METRIC_MISSING,
    ACC_UPPER_LIMIT,
    ACC_HASH,
    ACC_LOG_MISSING,
    ACC_LOG_NOT_TRUNCATED,
    ACC_LOADGEN_ERROR,
    ACC_DATASET_COVERAGE,
    ACC_EXTRA_FILES,
    SYS_MISSING,
    SYS_UNREADABLE,
    SYS_REQUIRED_FIELD,
    SYS_MEANINGFUL_FIELD,
    SYS_NUMERIC_FIELD,
    SYS_UNKNOWN_FIELD,
    SYS_SUBMITTER,
    SYS_DIVISION,
    SYS_STATUS,
    SYS_SYSTEM_TYPE,
    MEAS_MISSING_DIR,
    MEAS_REQUIRED_FILE,
    MEAS_EMPTY_FILE,
    MEAS_POWER_FILE,
    MEAS_IMPLEMENTATION_JSON,
    MEAS_IMPLEMENTATION_FIELD,
    MEAS_CODE_DIR,
    POWER_FILES,
    POWER_NO_SAMPLES,
    POWER_UNREADABLE,
    POWER_DESCRIPTORS,
    POWER_CLIENT_SOURCES,
    POWER_SERVER_SOURCES,
    POWER_PTD_MESSAGES,
    POWER_UUID,
    POWER_SESSION_NAME,
    POWER_TIME_DIFFERENCE,
    POWER_CLIENT_SERVER_MESSAGES,
    POWER_RESULTS_CHECKSUM,
    POWER_PTD_LOGS,
    POWER_PTD_CONFIG,
    POWER_DEBUG,
    POWER_SAMPLES_IN_WINDOW,
    COMP_MISSING_DIR,
    COMP_MISSING_TEST,
    COMP_VERIFY_MISSING,
    COMP_VERIFY_PERFORMANCE,
    COMP_PERF_FILES,
    COMP_ACC_FILES,
    COMP_TEST01_ACCURACY,
    COMP_TEST06,
    COMP_VERDICT,
];

/// A rule by id.
pub fn by_id(id: &str) -> Option<&'static Rule> {
    ALL.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<_> = ALL.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len());
    }
}

//! The official `audit.config` files of the compliance tests, as data.
//!
//! Reproduced from mlcommons/inference `compliance/TEST01/<model>/`,
//! `compliance/TEST04/` and `compliance/TEST06/` (commit b66003e, Apache
//! License 2.0, © MLCommons). A run reads the file last, after mlperf.conf,
//! user.conf and the flags, so what it sets wins: that makes the run the
//! compliance run.

use std::fmt;

/// A compliance test yardstick runs and verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditTest {
    /// Accuracy-log sampling in performance mode: the sampled answers must
    /// match the accuracy run's, and the performance must match the run's.
    Test01,
    /// The same sample issued again and again must not be much faster
    /// (caching).
    Test04,
    /// LLM output consistency: first token, EOS, output length.
    Test06,
    /// Output length in performance mode: the mean answer length within
    /// the benchmark's bounds (v6.0).
    Test09,
}

impl AuditTest {
    pub fn name(self) -> &'static str {
        match self {
            AuditTest::Test01 => "TEST01",
            AuditTest::Test04 => "TEST04",
            AuditTest::Test06 => "TEST06",
            AuditTest::Test09 => "TEST09",
        }
    }

    pub fn parse(name: &str) -> Option<AuditTest> {
        match name.to_ascii_uppercase().as_str() {
            "TEST01" => Some(AuditTest::Test01),
            "TEST04" => Some(AuditTest::Test04),
            "TEST06" => Some(AuditTest::Test06),
            "TEST09" => Some(AuditTest::Test09),
            _ => None,
        }
    }
}

impl fmt::Display for AuditTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The accuracy-log seed of TEST01 and TEST06.
pub const ACCURACY_LOG_RNG_SEED: u64 = 720381539243781796;

/// TEST01's `accuracy_log_sampling_target` per benchmark folder of the
/// official tree; 4096 for every other benchmark (the resnet50, bert,
/// dlrm, gpt-j, rgat, rnnt and whisper files say 4096).
const TEST01_SAMPLING_TARGETS: &[(&str, u64)] = &[
    ("3d-unet", 64),
    ("pointpainting", 256),
    ("retinanet", 256),
    ("stable-diffusion-xl", 128),
    ("yolo", 64),
];

const HEADER: &str = "\
# The format of this config file is 'key = value'.
# The key has the format 'model.scenario.key'. Value is mostly int64_t.
# Model maybe '*' as wildcard. In that case the value applies to all models.
# All times are in milli seconds

# mode dictionary (0 = submission, 1 = accuracy, 2 = performance, 3 = find peak perf)
";

const TEST04: &str = "\
*.SingleStream.performance_issue_same = 1
*.SingleStream.performance_issue_same_index = 3
*.Server.mode = 2
*.Server.performance_issue_unique = 0
*.Server.performance_issue_same = 1
*.Server.performance_issue_same_index = 3
stable-diffusion-xl.Offline.min_query_count = 500
wan-2.2-t2v-a14b.Offline.min_query_count = 20
wan-2.2-t2v-a14b.SingleStream.min_query_count = 20
";

/// TEST09's bounds per benchmark (`compliance/TEST09/<model>/audit.config`):
/// (benchmark, queries = its dataset, min tokens, max tokens).
const TEST09_BOUNDS: &[(&str, u64, &str, &str)] = &[
    ("gpt-oss-120b", 6396, "1150.38", "1406.02"),
    ("e2e-rag-qna", 824, "246.43", "301.19"),
];

/// The official audit.config of `test` for the benchmark `model` (TEST01's
/// sampling target and TEST09's bounds depend on it; TEST09 for another
/// benchmark has no bounds: give them with `--audit-config`).
pub fn audit_config(test: AuditTest, model: &str) -> String {
    match test {
        AuditTest::Test01 => {
            let target = TEST01_SAMPLING_TARGETS
                .iter()
                .find(|(m, _)| model.starts_with(m))
                .map_or(4096, |&(_, t)| t);
            format!(
                "{HEADER}*.*.mode = 2\n*.*.accuracy_log_rng_seed = {ACCURACY_LOG_RNG_SEED}\n*.*.accuracy_log_sampling_target = {target}\n"
            )
        }
        AuditTest::Test04 => TEST04.to_string(),
        AuditTest::Test06 => format!(
            "{HEADER}*.*.mode = 2\n*.*.accuracy_log_rng_seed = {ACCURACY_LOG_RNG_SEED}\n\
             *.*.accuracy_log_sampling_target = 100\n*.*.min_query_count = 100\n\
             *.*.min_duration = 0\n# Turn off equal issue mode for TEST06\n\
             *.*.sample_concatenate_permutation = 0\n"
        ),
        AuditTest::Test09 => {
            let bounds = TEST09_BOUNDS.iter().find(|(m, ..)| model.starts_with(m));
            let queries = bounds.map_or(String::new(), |(_, q, ..)| {
                format!("*.*.min_query_count = {q}\n")
            });
            let limits = bounds.map_or(String::new(), |(_, _, min, max)| {
                format!(
                    "*.*.test09_min_output_tokens = {min}\n*.*.test09_max_output_tokens = {max}\n"
                )
            });
            format!(
                "{HEADER}\n# TEST09: Verify output token length in performance mode\n\
                 *.*.mode = 2\n*.*.accuracy_log_rng_seed = {ACCURACY_LOG_RNG_SEED}\n\
                 *.*.accuracy_log_sampling_target = 10000\n{queries}*.*.min_duration = 0\n\
                 *.*.performance_issue_unique = 1\n*.*.sample_concatenate_permutation = 0\n{limits}"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test01_target_follows_the_benchmark() {
        let resnet = audit_config(AuditTest::Test01, "resnet50");
        assert!(resnet.contains("*.*.accuracy_log_sampling_target = 4096\n"));
        assert!(resnet.contains("*.*.accuracy_log_rng_seed = 720381539243781796\n"));
        assert!(resnet.contains("*.*.mode = 2\n"));
        assert!(audit_config(AuditTest::Test01, "retinanet")
            .contains("*.*.accuracy_log_sampling_target = 256\n"));
        assert!(audit_config(AuditTest::Test04, "resnet50")
            .contains("*.SingleStream.performance_issue_same = 1\n"));
        assert!(
            audit_config(AuditTest::Test06, "llama2-70b").contains("*.*.min_query_count = 100\n")
        );
        assert_eq!(AuditTest::parse("test04"), Some(AuditTest::Test04));
        assert_eq!(AuditTest::parse("TEST05"), None);
        let gpt = audit_config(AuditTest::Test09, "gpt-oss-120b");
        assert!(gpt.contains("*.*.min_query_count = 6396\n"), "{gpt}");
        assert_eq!(
            crate::audit::test09::thresholds(&gpt),
            (Some(1150.38), Some(1406.02))
        );
        assert_eq!(
            crate::audit::test09::thresholds(&audit_config(AuditTest::Test09, "resnet50")),
            (None, None)
        );
    }
}

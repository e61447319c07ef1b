//! A round's rules, read from its TOML file (`crates/submission/rounds/`).
//! Adding a round is adding a file: nothing here names a model.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;

use super::CheckError;

/// The rounds built in, by name: (`v5.1`, text of `rounds/v5.1.toml`), ...
const ROUNDS: &[(&str, &str)] = &[
    ("v5.1", include_str!("../../rounds/v5.1.toml")),
    ("v6.0", include_str!("../../rounds/v6.0.toml")),
];

/// The names of the rounds built in, oldest first.
pub fn round_names() -> Vec<&'static str> {
    ROUNDS.iter().map(|(name, _)| *name).collect()
}

/// One accuracy metric and the value it must reach.
#[derive(Debug, Clone, Deserialize)]
pub struct AccuracyTarget {
    pub metric: String,
    pub target: f64,
}

/// One accuracy metric and the value it must not pass.
#[derive(Debug, Clone, Deserialize)]
pub struct AccuracyLimit {
    pub metric: String,
    pub limit: f64,
}

/// Time to first token and time per output token, 99th percentile bounds.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct TokenLatencyLimit {
    pub ttft: u64,
    pub tpot: u64,
}

/// What the round asks of one benchmark.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelRules {
    /// Folder names that stand for this model (`resnet50` for `resnet`).
    #[serde(default)]
    pub aliases: Vec<String>,
    pub accuracy: Vec<AccuracyTarget>,
    #[serde(default)]
    pub accuracy_upper_limit: Vec<AccuracyLimit>,
    /// TEST01's allowed accuracy difference, per metric, in percent.
    #[serde(default)]
    pub accuracy_delta_percent: BTreeMap<String, f64>,
    pub performance_sample_count: u64,
    pub dataset_size: u64,
    pub offline_min_samples_per_query: Option<u64>,
    #[serde(default)]
    pub min_queries: BTreeMap<String, u64>,
    #[serde(default)]
    pub latency_constraint_ns: BTreeMap<String, u64>,
    #[serde(default)]
    pub token_latency_limits_ns: BTreeMap<String, TokenLatencyLimit>,
    /// Detail-log keys of the result, per scenario, where they differ from
    /// the round's.
    #[serde(default)]
    pub result_field: BTreeMap<String, String>,
    #[serde(default)]
    pub units: BTreeMap<String, String>,
    pub token_latencies_required: bool,
    pub equal_issue: bool,
    pub compliance_tests: Vec<String>,
    /// Extra files the accuracy folder must hold: folder -> file stems.
    #[serde(default)]
    pub accuracy_extra_files: BTreeMap<String, Vec<String>>,
}

/// The three seeds every performance run must use.
#[derive(Debug, Clone, Deserialize)]
pub struct Seeds {
    qsl_rng_seed: String,
    sample_index_rng_seed: String,
    schedule_rng_seed: String,
}

/// The system description's rules.
#[derive(Debug, Clone, Deserialize)]
pub struct SystemRules {
    pub required_fields: Vec<String>,
    pub meaningful_fields: Vec<String>,
    #[serde(default)]
    pub numeric_fields: Vec<String>,
    pub power_fields: Vec<String>,
    pub network_fields: Vec<String>,
    pub network_sut_name_substring: String,
    pub implementation_fields: Vec<String>,
}

impl SystemRules {
    /// A systems JSON field the round's checker knows (required or power).
    pub fn is_known(&self, field: &str) -> bool {
        self.required_fields
            .iter()
            .chain(&self.power_fields)
            .any(|f| f == field)
    }
}

/// Required and optional scenarios per model for one system type.
#[derive(Debug, Clone, Deserialize)]
pub struct ScenarioRules {
    pub required: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub optional: BTreeMap<String, Vec<String>>,
}

/// Where a result's parts live, relative to `<division>/<submitter>`;
/// `{system}`, `{model}`, `{scenario}` stand for the folder names.
#[derive(Debug, Clone, Deserialize)]
pub struct Layout {
    pub measurements: String,
    /// The implementation description's file name; `None`: the measurements
    /// folder's `<system>_<scenario>.json`, else `<system>*.json` (v5.1).
    pub implementation_json: Option<String>,
    pub compliance: String,
    /// The code folder (`code`, `src` from v6.0).
    pub code: String,
    /// Whether the code is per model and implementation (`code/<model>/<impl>`).
    pub code_per_model: bool,
}

impl Layout {
    /// A layout path for one result.
    pub fn at(template: &str, system: &str, model: &str, scenario: &str) -> String {
        template
            .replace("{system}", system)
            .replace("{model}", model)
            .replace("{scenario}", scenario)
    }

    /// `results/<system>/<model>/<scenario>` under `base` (`<division>/<submitter>`):
    /// the logs' home, the same in every round.
    pub fn results_dir(base: &Path, system: &str, model: &str, scenario: &str) -> PathBuf {
        base.join("results").join(system).join(model).join(scenario)
    }

    /// The folder of the measurements JSON, user.conf and README.md.
    pub fn measurements_dir(
        &self,
        base: &Path,
        system: &str,
        model: &str,
        scenario: &str,
    ) -> PathBuf {
        base.join(Self::at(&self.measurements, system, model, scenario))
    }

    /// The measurements JSON's name: the round's fixed name, else
    /// `<system>_<scenario>.json` (the first name the v5.1 checker tries).
    pub fn measurements_file(&self, system: &str, scenario: &str) -> String {
        match &self.implementation_json {
            Some(name) => name.clone(),
            None => format!("{system}_{scenario}.json"),
        }
    }

    /// The folder holding one result's TESTxx folders.
    pub fn compliance_dir(
        &self,
        base: &Path,
        system: &str,
        model: &str,
        scenario: &str,
    ) -> PathBuf {
        base.join(Self::at(&self.compliance, system, model, scenario))
    }

    /// One model's code folder (`code/<model>`, `src/<model>`).
    pub fn code_dir(&self, base: &Path, model: &str) -> PathBuf {
        base.join(&self.code).join(model)
    }

    /// `systems/<system>.json`, the same in every round.
    pub fn system_file(base: &Path, system: &str) -> PathBuf {
        base.join("systems").join(format!("{system}.json"))
    }
}

/// The summary CSV the round's checker writes: its columns, in order, and
/// whether every value is quoted (v6.0's ResultExporter) or only free text
/// (v5.1's checker, which also spells `compliance` and `Location` its way).
#[derive(Debug, Clone, Deserialize)]
pub struct SummaryFormat {
    pub columns: Vec<String>,
    pub quote_all: bool,
}

#[derive(Debug, Clone, Deserialize)]
struct RoundFile {
    round: String,
    test_duration_ms: u64,
    max_accuracy_log_bytes: u64,
    file_size_limit_bytes: u64,
    early_stopping_scenarios: Vec<String>,
    valid_divisions: Vec<String>,
    valid_availabilities: Vec<String>,
    valid_system_types: Vec<String>,
    result_field: BTreeMap<String, String>,
    summary: SummaryFormat,
    layout: Layout,
    seeds: Seeds,
    system: SystemRules,
    accuracy_patterns: BTreeMap<String, String>,
    scenarios: BTreeMap<String, ScenarioRules>,
    models: BTreeMap<String, ModelRules>,
}

/// A round, parsed and ready: its regexes compiled, its seeds numbers.
#[derive(Debug, Clone)]
pub struct Round {
    pub name: String,
    pub test_duration_ms: u64,
    pub max_accuracy_log_bytes: u64,
    pub file_size_limit_bytes: u64,
    pub early_stopping_scenarios: Vec<String>,
    pub valid_divisions: Vec<String>,
    pub valid_availabilities: Vec<String>,
    pub valid_system_types: Vec<String>,
    pub result_field: BTreeMap<String, String>,
    pub summary: SummaryFormat,
    pub layout: Layout,
    pub qsl_rng_seed: u64,
    pub sample_index_rng_seed: u64,
    pub schedule_rng_seed: u64,
    pub system: SystemRules,
    /// Python `re.match` patterns, anchored at the start as `re.match` is.
    pub accuracy_patterns: BTreeMap<String, Regex>,
    pub scenarios: BTreeMap<String, ScenarioRules>,
    pub models: BTreeMap<String, ModelRules>,
}

impl Round {
    /// A round built in, by name (`v5.1`, `v6.0`).
    pub fn builtin(name: &str) -> Result<Round, CheckError> {
        let (_, text) =
            ROUNDS
                .iter()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| CheckError::UnknownRound {
                    name: name.to_string(),
                    known: round_names().join(", "),
                })?;
        Round::parse(name, text)
    }

    /// Every round built in.
    pub fn all() -> Result<Vec<Round>, CheckError> {
        ROUNDS.iter().map(|(n, t)| Round::parse(n, t)).collect()
    }

    /// A round from its TOML text (`source` names it in errors).
    pub fn parse(source: &str, text: &str) -> Result<Round, CheckError> {
        let file: RoundFile = toml::from_str(text).map_err(|e| CheckError::RoundFile {
            source_name: source.to_string(),
            source: Box::new(e),
        })?;
        let seed = |field: &str, value: &str| {
            value.parse::<u64>().map_err(|_| CheckError::RoundValue {
                source_name: source.to_string(),
                field: field.to_string(),
                reason: format!("{value:?} is not an unsigned 64-bit seed"),
            })
        };
        let mut accuracy_patterns = BTreeMap::new();
        for (metric, pattern) in &file.accuracy_patterns {
            let anchored = format!("^(?:{})", python_braces(pattern));
            let regex = Regex::new(&anchored).map_err(|e| CheckError::RoundValue {
                source_name: source.to_string(),
                field: format!("accuracy_patterns.{metric}"),
                reason: e.to_string(),
            })?;
            accuracy_patterns.insert(metric.clone(), regex);
        }
        for (model, rules) in &file.models {
            for metric in rules
                .accuracy
                .iter()
                .map(|t| &t.metric)
                .chain(rules.accuracy_upper_limit.iter().map(|l| &l.metric))
            {
                if !accuracy_patterns.contains_key(metric) {
                    return Err(CheckError::RoundValue {
                        source_name: source.to_string(),
                        field: format!("models.{model}.accuracy"),
                        reason: format!("metric {metric} has no accuracy pattern"),
                    });
                }
            }
        }
        Ok(Round {
            name: file.round,
            test_duration_ms: file.test_duration_ms,
            max_accuracy_log_bytes: file.max_accuracy_log_bytes,
            file_size_limit_bytes: file.file_size_limit_bytes,
            early_stopping_scenarios: file.early_stopping_scenarios,
            valid_divisions: file.valid_divisions,
            valid_availabilities: file.valid_availabilities,
            valid_system_types: file.valid_system_types,
            result_field: file.result_field,
            summary: file.summary,
            layout: file.layout,
            qsl_rng_seed: seed("seeds.qsl_rng_seed", &file.seeds.qsl_rng_seed)?,
            sample_index_rng_seed: seed(
                "seeds.sample_index_rng_seed",
                &file.seeds.sample_index_rng_seed,
            )?,
            schedule_rng_seed: seed("seeds.schedule_rng_seed", &file.seeds.schedule_rng_seed)?,
            system: file.system,
            accuracy_patterns,
            scenarios: file.scenarios,
            models: file.models,
        })
    }

    /// The round's name of a model folder: the name itself or the model it
    /// is an alias of; `None` when the round does not know it.
    pub fn mlperf_model(&self, folder: &str) -> Option<&str> {
        if let Some((name, _)) = self.models.get_key_value(folder) {
            return Some(name);
        }
        self.models
            .iter()
            .find(|(_, rules)| rules.aliases.iter().any(|a| a == folder))
            .map(|(name, _)| name.as_str())
    }

    /// The detail-log key holding a model's result in a scenario.
    pub fn result_key(&self, model: &ModelRules, scenario: &str) -> Option<String> {
        model
            .result_field
            .get(scenario)
            .or_else(|| self.result_field.get(scenario))
            .cloned()
    }

    pub fn uses_early_stopping(&self, scenario: &str) -> bool {
        self.early_stopping_scenarios.iter().any(|s| s == scenario)
    }

    /// The unit of a result, as the official summary names it.
    pub fn unit(&self, model: &ModelRules, scenario: &str) -> String {
        if let Some(unit) = model.units.get(scenario) {
            return unit.clone();
        }
        match scenario {
            "SingleStream" | "MultiStream" => "Latency (ms)",
            "Offline" => "Samples/s",
            _ => "Queries/s",
        }
        .to_string()
    }
}

/// Python's `re` reads a `{` that does not open a `{m}`/`{m,n}` repetition
/// as a literal brace; Rust's regex refuses it. Escapes such braces (and
/// the `}` closing them), leaving escapes and character classes alone.
fn python_braces(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut in_class = false;
    let mut literal_open = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                out.push(c);
                if let Some(next) = chars.get(i + 1) {
                    out.push(*next);
                }
                i += 2;
                continue;
            }
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            '{' if !in_class => {
                let rest: String = chars[i + 1..].iter().collect();
                let is_repetition = rest.split_once('}').is_some_and(|(inside, _)| {
                    let (low, high) = inside.split_once(',').unwrap_or((inside, ""));
                    !low.is_empty()
                        && low.chars().all(|d| d.is_ascii_digit())
                        && high.chars().all(|d| d.is_ascii_digit())
                });
                if !is_repetition {
                    out.push_str("\\{");
                    literal_open += 1;
                    i += 1;
                    continue;
                }
            }
            '}' if !in_class && literal_open > 0 => {
                out.push_str("\\}");
                literal_open -= 1;
                i += 1;
                continue;
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_round_parses_and_knows_resnet() {
        for round in Round::all().expect("built-in rounds parse") {
            let resnet = round.mlperf_model("resnet50").expect("resnet50 alias");
            assert_eq!(resnet, "resnet");
            let rules = &round.models["resnet"];
            assert_eq!(rules.offline_min_samples_per_query, Some(24_576));
            assert_eq!(rules.min_queries["MultiStream"], 270_336);
            assert!((rules.accuracy[0].target - 76.46 * 0.99).abs() < 1e-12);
            assert_eq!(round.test_duration_ms, 600_000);
        }
    }

    #[test]
    fn seeds_are_the_rounds_own() {
        let v51 = Round::builtin("v5.1").unwrap();
        assert_eq!(v51.qsl_rng_seed, 1_780_908_523_862_526_354);
        assert_eq!(v51.sample_index_rng_seed, 14_771_362_308_971_278_857);
        let v60 = Round::builtin("v6.0").unwrap();
        assert_eq!(v60.schedule_rng_seed, 3_936_089_224_930_324_775);
    }

    #[test]
    fn accuracy_pattern_matches_as_python_re_match() {
        let round = Round::builtin("v5.1").unwrap();
        let acc = &round.accuracy_patterns["acc"];
        let caps = acc
            .captures("accuracy=76.078%, good=38039, total=50000")
            .unwrap();
        assert_eq!(&caps[1], "76.078");
        // re.match anchors at the start: a prefix makes it miss.
        assert!(acc.captures("x accuracy=76.0").is_none());
    }

    #[test]
    fn python_literal_braces_are_escaped() {
        assert_eq!(python_braces("^{[a]x}"), "^\\{[a]x\\}");
        assert_eq!(python_braces("a{2,3}"), "a{2,3}");
        let round = Round::builtin("v5.1").unwrap();
        let f1 = &round.accuracy_patterns["F1"];
        let caps = f1
            .captures("{\"exact_match\": 83.6, \"f1\": 90.9}")
            .unwrap();
        assert_eq!(&caps[1], "90.9");
    }

    /// One table for every round: where `build` writes and `check` reads
    /// each part of one result.
    #[test]
    fn each_round_lays_a_result_out_as_its_checker_reads_it() {
        let base = Path::new("closed/Acme");
        // round, measurements dir, measurements file, compliance dir, code dir
        let table = [
            (
                "v5.1",
                "closed/Acme/measurements/box/resnet50/Offline",
                "box_Offline.json",
                "closed/Acme/compliance/box/resnet50/Offline",
                "closed/Acme/code/resnet50",
            ),
            (
                "v6.0",
                "closed/Acme/results/box/resnet50/Offline",
                "measurements.json",
                "closed/Acme/results/box/resnet50/Offline",
                "closed/Acme/src/resnet50",
            ),
        ];
        for (name, measurements, file, compliance, code) in table {
            let layout = Round::builtin(name).unwrap().layout;
            let at = |p: PathBuf| p.to_string_lossy().into_owned();
            assert_eq!(
                at(layout.measurements_dir(base, "box", "resnet50", "Offline")),
                measurements,
                "{name}"
            );
            assert_eq!(layout.measurements_file("box", "Offline"), file, "{name}");
            assert_eq!(
                at(layout.compliance_dir(base, "box", "resnet50", "Offline")),
                compliance,
                "{name}"
            );
            assert_eq!(at(layout.code_dir(base, "resnet50")), code, "{name}");
        }
        assert_eq!(
            Layout::results_dir(base, "box", "resnet50", "Offline"),
            Path::new("closed/Acme/results/box/resnet50/Offline")
        );
    }

    #[test]
    fn unknown_round_is_refused_with_the_known_ones() {
        let err = Round::builtin("v4.0").unwrap_err();
        assert!(err.to_string().contains("v5.1, v6.0"), "{err}");
    }
}

//! `submission build`: an MLPerf Inference submission tree from runs.
//!
//! Each result (benchmark x scenario) takes one performance run and one
//! accuracy run (or one SubmissionRun for both), found by their records:
//! `results/<system>/<benchmark>/<scenario>/performance/run_1` and
//! `accuracy/` get their LoadGen logs, accuracy.txt gets the accuracy
//! log's hash and the log is truncated as the official tool truncates it;
//! the compliance TESTxx folders, the measurements JSON, user.conf,
//! mlperf.conf and README.md go where the round's checker reads them
//! (the round's [`Layout`], read from its rules file); `systems/<system>.json` comes from the captured system
//! description; `code/` (`src/` from v6.0) says how it was made. What no
//! run can know comes from [`SubmissionConfig`]; [`missing_keys`] lists
//! what it still lacks, so a front end can ask.

mod accuracy_log;
mod compliance;
mod config;
mod system;
mod user_conf;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use yardstick_record::{RunRecord, RunStatus, Verdict};

use crate::check::round::Layout;
use crate::check::Round;

pub use compliance::ComplianceInput;
pub use config::{
    locate_config, user_config_path, ConfigError, ConfigKey, MissingKey, SubmissionConfig,
    CONFIG_FILE,
};
pub use system::MEANINGFUL_FIELDS;

/// The fields the checker requires in each measurements JSON
/// (SYSTEM_IMP_REQUIRED_FILES), non-empty.
pub const MEASUREMENT_FIELDS: &[(&str, &str)] = &[
    ("input_data_types", "input data types, e.g. int8"),
    ("retraining", "retraining: yes | no"),
    (
        "starting_weights_filename",
        "starting weights file name or URL",
    ),
    ("weight_data_types", "weight data types, e.g. int8"),
    (
        "weight_transformations",
        "weight transformations, e.g. quantization | none",
    ),
];

/// A run to put in the tree: its record and the folder of its logs.
#[derive(Debug, Clone)]
pub struct RunInput {
    pub record: RunRecord,
    pub dir: PathBuf,
}

/// How to build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The tree's root (above `<division>/`).
    pub output: PathBuf,
    /// The round whose layout to write (its rules file's `[layout]`).
    pub round: Round,
    /// The MLPerf benchmark name for every run, instead of each record's
    /// model (`resnet50`, `llama3.1-8b`).
    pub benchmark: Option<String>,
    /// Take performance runs that are not VALID (the checker will refuse
    /// them; for trying the tree out).
    pub allow_invalid: bool,
    /// Replace results already in the tree.
    pub force: bool,
}

/// One result written.
#[derive(Debug, Clone, PartialEq)]
pub struct BuiltResult {
    pub benchmark: String,
    pub scenario: String,
    pub performance_run: String,
    pub accuracy_run: String,
    /// TESTxx folders copied.
    pub compliance: Vec<String>,
    /// `results/<system>/<benchmark>/<scenario>`.
    pub dir: PathBuf,
}

/// What a build wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildReport {
    /// `<output>/<division>/<submitter>`.
    pub submitter_dir: PathBuf,
    pub system_file: PathBuf,
    pub results: Vec<BuiltResult>,
    pub files_written: usize,
    /// Things worth saying (a run without a system description, ...).
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{} lacks {}: put {} in {} (or run `yardstick submission build` on a terminal to be asked)",
        file.display(),
        if keys.len() == 1 { "a value" } else { "values" },
        keys.iter().map(|k| k.key.path()).collect::<Vec<_>>().join(", "),
        file.display())]
    Missing {
        keys: Vec<MissingKey>,
        file: PathBuf,
    },
    #[error("{key} = {value:?} is not allowed (one of: {})", allowed.join(", "))]
    InvalidValue {
        key: String,
        value: String,
        allowed: Vec<String>,
    },
    #[error("run {run}: {reason}")]
    UnusableRun { run: String, reason: String },
    #[error("{benchmark} {scenario}: {reason}")]
    Result {
        benchmark: String,
        scenario: String,
        reason: String,
    },
    #[error("no runs to build a submission from")]
    NoRuns,
    #[error("run {run}: {} is missing", path.display())]
    MissingFile { run: String, path: PathBuf },
    #[error("{}: its hash={recorded} is not the sha256 of {} ({actual}): accuracy.txt scores another log", accuracy_txt.display(), log.display())]
    HashMismatch {
        accuracy_txt: PathBuf,
        log: PathBuf,
        recorded: String,
        actual: String,
    },
    #[error("{} already exists: --force replaces it", path.display())]
    Exists { path: PathBuf },
    #[error("compliance {}: {reason}", dir.display())]
    Compliance { dir: PathBuf, reason: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("writing {}: {source}", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
    move |source| BuildError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What a run is for in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Performance,
    Accuracy,
    /// LoadGen's SubmissionRun: accuracy then performance, in one folder.
    Both,
}

struct Classified<'a> {
    run: &'a RunInput,
    benchmark: String,
    scenario: String,
    role: Role,
}

fn classify<'a>(run: &'a RunInput, options: &BuildOptions) -> Result<Classified<'a>, BuildError> {
    let r = &run.record;
    let unusable = |reason: String| BuildError::UnusableRun {
        run: r.id.clone(),
        reason,
    };
    let scenario = r.workload.scenario.clone().ok_or_else(|| {
        unusable(
            "it has no LoadGen scenario (name the LoadGen run, not a scoring or endpoint point)"
                .into(),
        )
    })?;
    let role = match r.workload.mode.as_deref() {
        Some("PerformanceOnly") => Role::Performance,
        Some("AccuracyOnly") => Role::Accuracy,
        Some("SubmissionRun") => Role::Both,
        other => {
            return Err(unusable(format!(
                "its mode is {}, not PerformanceOnly, AccuracyOnly or SubmissionRun",
                other.unwrap_or("unknown")
            )))
        }
    };
    if r.status != RunStatus::Completed {
        return Err(unusable(format!(
            "it is {}, not completed",
            r.status.as_str()
        )));
    }
    let benchmark = options
        .benchmark
        .clone()
        .or_else(|| r.workload.model.clone())
        .unwrap_or_else(|| r.workload.name.clone());
    Ok(Classified {
        run,
        benchmark,
        scenario,
        role,
    })
}

/// The runs of one result.
struct Pair<'a> {
    performance: &'a RunInput,
    accuracy: &'a RunInput,
}

fn pair_runs<'a>(
    runs: &'a [RunInput],
    options: &BuildOptions,
) -> Result<BTreeMap<(String, String), Pair<'a>>, BuildError> {
    let mut groups: BTreeMap<(String, String), Vec<Classified<'a>>> = BTreeMap::new();
    for run in runs {
        let c = classify(run, options)?;
        groups
            .entry((c.benchmark.clone(), c.scenario.clone()))
            .or_default()
            .push(c);
    }
    let mut pairs = BTreeMap::new();
    for ((benchmark, scenario), members) in groups {
        let result_err = |reason: String| BuildError::Result {
            benchmark: benchmark.clone(),
            scenario: scenario.clone(),
            reason,
        };
        let ids = |role: Role| -> Vec<&Classified> {
            members.iter().filter(|c| c.role == role).collect()
        };
        let (perf, acc, both) = (ids(Role::Performance), ids(Role::Accuracy), ids(Role::Both));
        let one =
            |list: &[&Classified<'a>], what: &str| -> Result<Option<&'a RunInput>, BuildError> {
                match list {
                    [] => Ok(None),
                    [c] => Ok(Some(c.run)),
                    many => Err(result_err(format!(
                        "{} {what} runs ({}): name one",
                        many.len(),
                        many.iter()
                            .map(|c| c.run.record.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))),
                }
            };
        let both = one(&both, "SubmissionRun")?;
        let performance = one(&perf, "performance")?.or(both).ok_or_else(|| {
            result_err(
                "no performance run (PerformanceOnly or SubmissionRun) among the runs given".into(),
            )
        })?;
        let accuracy = one(&acc, "accuracy")?.or(both).ok_or_else(|| {
            result_err(
                "no accuracy run (AccuracyOnly or SubmissionRun) among the runs given".into(),
            )
        })?;
        let verdict = performance.record.validity.verdict;
        if verdict != Verdict::Valid && !options.allow_invalid {
            let why: Vec<&str> = performance
                .record
                .validity
                .checks
                .iter()
                .filter(|c| !c.passed)
                .map(|c| c.detail.as_str())
                .collect();
            return Err(result_err(format!(
                "performance run {} is {}{} (--allow-invalid takes it anyway)",
                performance.record.id,
                verdict.as_str(),
                if why.is_empty() {
                    String::new()
                } else {
                    format!(": {}", why.join("; "))
                }
            )));
        }
        pairs.insert(
            (benchmark, scenario),
            Pair {
                performance,
                accuracy,
            },
        );
    }
    Ok(pairs)
}

/// What `config` still lacks for a build of `runs`, in the order a
/// prompt asks: submitter, division, system, the systems JSON's fields,
/// each benchmark's measurements fields.
pub fn missing_keys(
    runs: &[RunInput],
    config: &SubmissionConfig,
    options: &BuildOptions,
) -> Vec<MissingKey> {
    let mut missing = Vec::new();
    let blank = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
    if blank(&config.submitter) {
        missing.push(MissingKey {
            key: ConfigKey::Submitter,
            question: "submitter: the submitting organisation (the folder name)".into(),
        });
    }
    if blank(&config.division) {
        missing.push(MissingKey {
            key: ConfigKey::Division,
            question: "division: closed | open | network".into(),
        });
    }
    if blank(&config.system) {
        missing.push(MissingKey {
            key: ConfigKey::System,
            question: "system: the system's folder name, e.g. 1xH100_yardstick".into(),
        });
    }
    let first_perf = runs
        .iter()
        .find(|r| r.record.workload.mode.as_deref() != Some("AccuracyOnly"))
        .or(runs.first());
    if let Some(run) = first_perf {
        let (probed, _) = system::probed_fields(&run.record);
        missing.extend(system::missing_fields(&system::system_json(
            &probed, config,
        )));
    }
    let mut benchmarks: Vec<String> = runs
        .iter()
        .filter_map(|r| classify(r, options).ok().map(|c| c.benchmark))
        .collect();
    benchmarks.sort();
    benchmarks.dedup();
    for benchmark in benchmarks {
        let have = config.measurements.get(&benchmark);
        for (field, what) in MEASUREMENT_FIELDS {
            let set = have
                .and_then(|m| m.get(*field))
                .is_some_and(|v| !v.trim().is_empty());
            if !set {
                missing.push(MissingKey {
                    key: ConfigKey::Measurement {
                        benchmark: benchmark.clone(),
                        field: field.to_string(),
                    },
                    question: format!("{benchmark} measurements: {what}"),
                });
            }
        }
    }
    missing
}

/// A folder name that stays one path component.
fn check_component(key: &str, value: &str) -> Result<(), BuildError> {
    let bad =
        value.is_empty() || value == "." || value == ".." || value.contains(['/', '\\', '\0']);
    if bad {
        return Err(BuildError::InvalidValue {
            key: key.to_string(),
            value: value.to_string(),
            allowed: vec!["a non-empty folder name without / or \\".into()],
        });
    }
    Ok(())
}

struct Writer {
    written: usize,
}

impl Writer {
    fn write(&mut self, path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io_at(dir))?;
        }
        std::fs::write(path, bytes).map_err(io_at(path))?;
        self.written += 1;
        Ok(())
    }

    fn copy(
        &mut self,
        run: &RunInput,
        name: &str,
        to_dir: &Path,
        required: bool,
    ) -> Result<bool, BuildError> {
        let from = run.dir.join(name);
        if !from.is_file() {
            if required {
                return Err(BuildError::MissingFile {
                    run: run.record.id.clone(),
                    path: from,
                });
            }
            return Ok(false);
        }
        std::fs::create_dir_all(to_dir).map_err(io_at(to_dir))?;
        let to = to_dir.join(name);
        std::fs::copy(&from, &to).map_err(io_at(&from))?;
        self.written += 1;
        Ok(true)
    }
}

/// Builds the tree. Fails before writing anything when `config` lacks a
/// value ([`BuildError::Missing`], naming `config_file`), a value is not
/// one the checker allows, or the runs do not pair into results.
pub fn build(
    runs: &[RunInput],
    compliance: &[ComplianceInput],
    config: &SubmissionConfig,
    config_file: &Path,
    options: &BuildOptions,
) -> Result<BuildReport, BuildError> {
    if runs.is_empty() {
        return Err(BuildError::NoRuns);
    }
    let missing = missing_keys(runs, config, options);
    if !missing.is_empty() {
        return Err(BuildError::Missing {
            keys: missing,
            file: config_file.to_path_buf(),
        });
    }
    // Present: missing_keys checked them.
    let submitter = config.submitter.clone().unwrap_or_default();
    let division = config.division.clone().unwrap_or_default();
    let system_id = config.system.clone().unwrap_or_default();
    check_component("submitter", &submitter)?;
    check_component("system", &system_id)?;
    let pairs = pair_runs(runs, options)?;
    let mut notes = Vec::new();

    let (first_key, first_pair) = pairs.iter().next().ok_or(BuildError::NoRuns)?;
    let (mut probed, note) = system::probed_fields(&first_pair.performance.record);
    notes.extend(note);
    // The probe fills what mlperf-sysinfo fills; what the round's checker
    // does not know would only draw its warnings.
    let unknown: Vec<String> = probed
        .keys()
        .filter(|k| !options.round.system.is_known(k))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        probed.retain(|k, _| options.round.system.is_known(k));
        notes.push(format!(
            "probed fields the {} checker does not know, left out of the systems JSON: {}",
            options.round.name,
            unknown.join(", ")
        ));
    }
    let system_json = system::system_json(&probed, config);
    if let Some((key, value, allowed)) = system::disallowed_value(&system_json) {
        return Err(BuildError::InvalidValue {
            key,
            value,
            allowed,
        });
    }
    let _ = first_key;

    // Compliance folders, each to its result, before anything is written.
    let mut tests_for: BTreeMap<(String, String), Vec<PathBuf>> = BTreeMap::new();
    for input in compliance {
        let bad = |reason: String| BuildError::Compliance {
            dir: input.dir.clone(),
            reason,
        };
        let tests = compliance::test_dirs(&input.dir).map_err(|e| bad(e.to_string()))?;
        if tests.is_empty() {
            return Err(bad("holds no TESTxx folder".into()));
        }
        let target = match &input.target {
            Some(t) => t.clone(),
            None => {
                let scenario = compliance::logged_scenario(&input.dir).ok_or_else(|| {
                    bad(
                        "no mlperf_log_detail.txt names its scenario: write BENCHMARK/SCENARIO=DIR"
                            .into(),
                    )
                })?;
                let candidates: Vec<&(String, String)> =
                    pairs.keys().filter(|(_, s)| *s == scenario).collect();
                match candidates.as_slice() {
                    [one] => (*one).clone(),
                    [] => return Err(bad(format!("its logs are {scenario}, and no result is"))),
                    _ => {
                        return Err(bad(format!(
                            "several benchmarks have a {scenario} result: write BENCHMARK/{scenario}=DIR"
                        )))
                    }
                }
            }
        };
        if !pairs.contains_key(&target) {
            return Err(bad(format!(
                "no result {} {} is being built",
                target.0, target.1
            )));
        }
        tests_for.entry(target).or_default().extend(tests);
    }

    let layout = &options.round.layout;
    let root = options.output.join(&division).join(&submitter);
    let mut w = Writer { written: 0 };
    let mut results = Vec::new();
    for ((benchmark, scenario), pair) in &pairs {
        let scenario_dir = Layout::results_dir(&root, &system_id, benchmark, scenario);
        let measurements_dir = layout.measurements_dir(&root, &system_id, benchmark, scenario);
        let compliance_dir = layout.compliance_dir(&root, &system_id, benchmark, scenario);
        for dir in [&scenario_dir, &measurements_dir, &compliance_dir] {
            if dir.exists() {
                if !options.force {
                    return Err(BuildError::Exists { path: dir.clone() });
                }
                std::fs::remove_dir_all(dir).map_err(io_at(dir))?;
            }
        }

        // performance/run_1: the LoadGen logs as written.
        let perf_dir = scenario_dir.join("performance").join("run_1");
        w.copy(pair.performance, "mlperf_log_summary.txt", &perf_dir, true)?;
        w.copy(pair.performance, "mlperf_log_detail.txt", &perf_dir, true)?;
        w.copy(
            pair.performance,
            "mlperf_log_accuracy.json",
            &perf_dir,
            false,
        )?;

        // accuracy/: the logs, accuracy.txt with the full log's hash, the
        // log truncated.
        write_accuracy(&mut w, pair.accuracy, &scenario_dir.join("accuracy"))?;

        // Compliance TESTxx folders.
        let mut tests = Vec::new();
        for test in tests_for
            .get(&(benchmark.clone(), scenario.clone()))
            .into_iter()
            .flatten()
        {
            let name = test
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let to = compliance_dir.join(&name);
            w.written += compliance::copy_tree(test, &to).map_err(io_at(test))?;
            truncate_test_accuracy(&to)?;
            tests.push(name);
        }

        // Measurements: the JSON, user.conf, mlperf.conf, README.md.
        let fields = config
            .measurements
            .get(benchmark)
            .cloned()
            .unwrap_or_default();
        let measurements: serde_json::Map<String, serde_json::Value> = MEASUREMENT_FIELDS
            .iter()
            .map(|(f, _)| {
                (
                    f.to_string(),
                    serde_json::Value::String(fields.get(*f).cloned().unwrap_or_default()),
                )
            })
            .collect();
        let json_path = measurements_dir.join(layout.measurements_file(&system_id, scenario));
        let text =
            serde_json::to_string_pretty(&measurements).map_err(|source| BuildError::Json {
                path: json_path.clone(),
                source,
            })?;
        w.write(&json_path, format!("{text}\n").as_bytes())?;

        let perf = &pair.performance.record;
        let model = perf
            .workload
            .model
            .clone()
            .unwrap_or_else(|| benchmark.clone());
        let user_conf = match user_conf::original_user_conf(perf) {
            Some(path) => std::fs::read(&path).map_err(io_at(&path))?,
            None => user_conf::generated_user_conf(perf, &model, scenario).into_bytes(),
        };
        w.write(&measurements_dir.join("user.conf"), &user_conf)?;
        if !w.copy(pair.performance, "mlperf.conf", &measurements_dir, false)? {
            w.copy(pair.accuracy, "mlperf.conf", &measurements_dir, false)?;
        }
        let readme = result_readme(benchmark, scenario, pair, &system_id);
        w.write(&measurements_dir.join("README.md"), readme.as_bytes())?;

        results.push(BuiltResult {
            benchmark: benchmark.clone(),
            scenario: scenario.clone(),
            performance_run: pair.performance.record.id.clone(),
            accuracy_run: pair.accuracy.record.id.clone(),
            compliance: tests,
            dir: scenario_dir,
        });
    }

    // code/ (src/ from v6.0): how each benchmark's results were made.
    let mut benchmarks: Vec<&String> = pairs.keys().map(|(b, _)| b).collect();
    benchmarks.dedup();
    for benchmark in benchmarks {
        let readme = code_readme(benchmark, &pairs);
        w.write(
            &layout.code_dir(&root, benchmark).join("README.md"),
            readme.as_bytes(),
        )?;
    }

    let system_file = Layout::system_file(&root, &system_id);
    let text = serde_json::to_string_pretty(&system_json).map_err(|source| BuildError::Json {
        path: system_file.clone(),
        source,
    })?;
    w.write(&system_file, format!("{text}\n").as_bytes())?;

    Ok(BuildReport {
        submitter_dir: root,
        system_file,
        results,
        files_written: w.written,
        notes,
    })
}

fn write_accuracy(w: &mut Writer, run: &RunInput, to_dir: &Path) -> Result<(), BuildError> {
    w.copy(run, "mlperf_log_summary.txt", to_dir, true)?;
    w.copy(run, "mlperf_log_detail.txt", to_dir, true)?;
    let log = run.dir.join("mlperf_log_accuracy.json");
    let txt = run.dir.join("accuracy.txt");
    for path in [&log, &txt] {
        if !path.is_file() {
            return Err(BuildError::MissingFile {
                run: run.record.id.clone(),
                path: path.clone(),
            });
        }
    }
    let hash = accuracy_log::sha256_file(&log).map_err(io_at(&log))?;
    let text = std::fs::read_to_string(&txt).map_err(io_at(&txt))?;
    if let Some(recorded) = accuracy_log::recorded_hash(&text) {
        if recorded != hash {
            return Err(BuildError::HashMismatch {
                accuracy_txt: txt,
                log,
                recorded: recorded.to_string(),
                actual: hash,
            });
        }
    }
    w.write(
        &to_dir.join("accuracy.txt"),
        accuracy_log::with_hash(&text, &hash).as_bytes(),
    )?;
    let full = std::fs::read(&log).map_err(io_at(&log))?;
    w.write(
        &to_dir.join("mlperf_log_accuracy.json"),
        &accuracy_log::truncated(&full),
    )?;
    Ok(())
}

/// TEST01 keeps an accuracy log of the performance run: hashed into its
/// accuracy.txt and truncated as the result's own. As the official
/// truncate_accuracy_log.py, a compliance folder without accuracy.txt gets
/// one holding only the hash (the checker requires it beside a passing
/// TEST01's log), and a small log that already has its hash is left alone.
fn truncate_test_accuracy(test_dir: &Path) -> Result<(), BuildError> {
    let log = test_dir.join("accuracy").join("mlperf_log_accuracy.json");
    let Ok(meta) = std::fs::metadata(&log) else {
        return Ok(());
    };
    let txt = test_dir.join("accuracy").join("accuracy.txt");
    let text = if txt.is_file() {
        std::fs::read_to_string(&txt).map_err(io_at(&txt))?
    } else {
        String::new()
    };
    let small = meta.len() < accuracy_log::MAX_ACCURACY_LOG_BYTES;
    if small && accuracy_log::recorded_hash(&text).is_some() {
        return Ok(());
    }
    let hash = accuracy_log::sha256_file(&log).map_err(io_at(&log))?;
    std::fs::write(&txt, accuracy_log::with_hash(&text, &hash)).map_err(io_at(&txt))?;
    if !small {
        let full = std::fs::read(&log).map_err(io_at(&log))?;
        std::fs::write(&log, accuracy_log::truncated(&full)).map_err(io_at(&log))?;
    }
    Ok(())
}

fn tool_line(r: &RunRecord) -> String {
    match &r.tool.git_commit {
        Some(c) => format!("{} {} (commit {c})", r.tool.name, r.tool.version),
        None => format!("{} {}", r.tool.name, r.tool.version),
    }
}

fn command(r: &RunRecord) -> String {
    if r.command_line.is_empty() {
        return "(not recorded)".into();
    }
    let mut args = r.command_line.clone();
    // The program as typed may be a build path; the command is `yardstick`.
    args[0] = "yardstick".into();
    args.join(" ")
}

fn result_readme(benchmark: &str, scenario: &str, pair: &Pair, system: &str) -> String {
    let perf = &pair.performance.record;
    let acc = &pair.accuracy.record;
    let mut s = format!(
        "# {benchmark} {scenario} on {system}\n\nMeasured with {}.\n\n",
        tool_line(perf)
    );
    s.push_str("## Performance run\n\n");
    s.push_str(&format!(
        "Run {} ({}), verdict {}",
        perf.id,
        perf.started_at.to_rfc3339(),
        perf.validity.verdict.as_str()
    ));
    if let Some(m) = perf.primary_metric() {
        s.push_str(&format!(", {} = {} {}", m.name, m.value, m.unit));
    }
    s.push_str(&format!(
        ".\n\n```sh\n{}\n```\n\n## Accuracy run\n\nRun {} ({}).\n\n```sh\n{}\n```\n",
        command(perf),
        acc.id,
        acc.started_at.to_rfc3339(),
        command(acc)
    ));
    if let Some(a) = &acc.accuracy {
        s.push_str(&format!(
            "\nAccuracy: {} = {}{}.\n",
            a.metric,
            a.value,
            a.target
                .map(|t| format!(" (target {t})"))
                .unwrap_or_default()
        ));
    }
    s
}

fn code_readme(benchmark: &str, pairs: &BTreeMap<(String, String), Pair>) -> String {
    let mut s = format!(
        "# {benchmark}\n\nThe results of {benchmark} in this submission were measured with yardstick\n\
         (MLPerf LoadGen semantics, one `yardstick` binary) and assembled with\n\
         `yardstick submission build`. The commands of each run:\n\n"
    );
    for ((b, scenario), pair) in pairs {
        if b != benchmark {
            continue;
        }
        let perf = &pair.performance.record;
        s.push_str(&format!(
            "## {scenario}\n\n{}\n\n```sh\n{}\n{}\n```\n\n",
            tool_line(perf),
            command(perf),
            command(&pair.accuracy.record)
        ));
    }
    s
}

#[cfg(test)]
mod tests;

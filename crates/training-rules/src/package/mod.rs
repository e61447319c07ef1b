//! The package checker (`package_checker`, training) over a submitter's
//! folder, and the per-set work the result summarizer shares with it.
//!
//! Layout: `results/<system>/<benchmark>/result_<n>.txt` (also read as
//! `result_<n>.txt.xz`, counted as the `.txt` it decompresses to) and
//! `systems/<system>.json`. Per set the checker wants exactly the number of
//! runs the benchmark needs, warns about other files (`scaling.json`
//! included), checks every log's compliance (one non-compliant log is
//! accepted under olympic scoring, more fail the set), and for the closed
//! division the seeds and the RCPs. Every system description is checked.
//! Its verdict is its last line: "PACKAGE CHECKER FOUND NO ERRORS" unless
//! an error was logged.
//!
//! Nothing here writes: the official RCP pass rewrites `scaling.json`; this
//! reports the factor instead ([`crate::rcp::RcpCheck::norm_factor`]).

pub mod seeds;
pub mod system_desc;

use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::compliance::{self, mllog, RuleFiles};
use crate::rcp::{self, RcpCheck, RcpError, RcpKind, RcpPass, RunConvergence};
use crate::summary::{self, RunScore, SetScore};
use system_desc::SystemDescCheck;

/// Why a folder could not be checked (the official tools would raise).
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not JSON: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: {source}")]
    Scaling {
        path: PathBuf,
        #[source]
        source: summary::ScalingError,
    },
    /// The official tools stop on this log.
    #[error("{file}: {source}")]
    Log {
        file: String,
        #[source]
        source: compliance::CheckError,
    },
    #[error("RCP check of {set}: {source}")]
    Rcp {
        set: String,
        #[source]
        source: RcpError,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> PackageError + '_ {
    move |source| PackageError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Benchmarks of a round (`benchmark_meta`'s allowed list), training.
pub fn allowed_benchmarks(ruleset: &str) -> &'static [&'static str] {
    match ruleset.get(..3) {
        Some("5.1") => &[
            "llama31_8b",
            "dlrm_dcnv2",
            "retinanet",
            "flux1",
            "llama2_70b_lora",
            "rgat",
            "llama31_405b",
        ],
        Some("6.0") => &[
            "llama31_8b",
            "dlrm_dcnv2",
            "flux1",
            "llama2_70b_lora",
            "llama31_405b",
            "gpt_oss_20b",
            "deepseekv3_671b",
        ],
        _ => &[],
    }
}

/// Result files a set must have (`benchmark_meta`'s counts, training).
pub fn required_result_files(benchmark: &str) -> Option<usize> {
    rcp::submission_runs(benchmark)
}

/// What the checks are run with.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub usage: String,
    pub ruleset: String,
    /// `--rcp-bypass`: a failed RCP check passes with a warning.
    pub rcp_bypass: bool,
    pub seed_checker_bypass: bool,
}

impl CheckOptions {
    /// Training 5.1.0, no bypasses.
    pub fn training(ruleset: &str) -> Self {
        Self {
            usage: "training".into(),
            ruleset: ruleset.into(),
            rcp_bypass: false,
            seed_checker_bypass: false,
        }
    }
}

/// One `result_<n>.txt` (or `.txt.xz`) of a set.
#[derive(Debug, Clone)]
pub struct ResultFile {
    /// The name the checkers see: `result_<n>.txt`.
    pub name: String,
    pub path: PathBuf,
}

/// Reads a result log, decompressing `.xz`.
pub fn read_result_file(path: &Path) -> Result<Vec<u8>, PackageError> {
    let file = std::fs::File::open(path).map_err(io_error(path))?;
    let mut bytes = Vec::new();
    if path.extension().is_some_and(|e| e == "xz") {
        liblzma::read::XzDecoder::new(file)
            .read_to_end(&mut bytes)
            .map_err(io_error(path))?;
    } else {
        std::io::BufReader::new(file)
            .read_to_end(&mut bytes)
            .map_err(io_error(path))?;
    }
    Ok(bytes)
}

/// A `results/<system>/<benchmark>` folder.
#[derive(Debug, Clone)]
pub struct SetDir {
    pub system: String,
    pub benchmark: String,
    pub dir: PathBuf,
    /// The folder as the official tools print it (`<Submitter>/results/...`).
    pub label: String,
    /// Sorted by name.
    pub result_files: Vec<ResultFile>,
    /// Entries in the folder (the checker's `glob('*')`).
    pub entries: usize,
    /// `package_checker_params` lines.
    pub params: Option<Vec<String>>,
    pub scaling_json: Option<PathBuf>,
}

fn sorted_entries(dir: &Path) -> Result<Vec<(String, PathBuf)>, PackageError> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error(dir))? {
        let entry = entry.map_err(io_error(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        entries.push((name, entry.path()));
    }
    entries.sort();
    Ok(entries)
}

fn params_lines(path: &Path) -> Result<Option<Vec<String>>, PackageError> {
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    // `readlines()` keeps the newline: only a last line without one can
    // equal "rcp-bypass", as in the official checker.
    Ok(Some(
        text.split_inclusive('\n').map(str::to_string).collect(),
    ))
}

fn read_set_dir(
    system: &str,
    benchmark: &str,
    dir: &Path,
    label: String,
) -> Result<SetDir, PackageError> {
    let entries = sorted_entries(dir)?;
    let visible = entries.iter().filter(|(n, _)| !n.starts_with('.')).count();
    let result_files = entries
        .iter()
        .filter_map(|(name, path)| {
            let txt = name.strip_suffix(".xz").unwrap_or(name);
            (txt.starts_with("result_") && txt.ends_with(".txt") && path.is_file()).then(|| {
                ResultFile {
                    name: txt.to_string(),
                    path: path.clone(),
                }
            })
        })
        .collect();
    let scaling = dir.join("scaling.json");
    Ok(SetDir {
        system: system.into(),
        benchmark: benchmark.into(),
        dir: dir.into(),
        label,
        result_files,
        entries: visible,
        params: params_lines(&dir.join("package_checker_params"))?,
        scaling_json: scaling.is_file().then_some(scaling),
    })
}

/// Every set of a submitter folder (`results/<system>/<benchmark>`),
/// systems and benchmarks in name order.
pub fn find_sets(root: &Path, label: &str) -> Result<Vec<SetDir>, PackageError> {
    let results = root.join("results");
    let mut sets = Vec::new();
    for (system, system_dir) in sorted_entries(&results)? {
        if !system_dir.is_dir() {
            continue;
        }
        for (benchmark, dir) in sorted_entries(&system_dir)? {
            if dir.is_dir() {
                let set_label = format!("{label}/results/{system}/{benchmark}");
                sets.push(read_set_dir(&system, &benchmark, &dir, set_label)?);
            }
        }
    }
    Ok(sets)
}

/// Everything read from one result log.
#[derive(Debug, Clone)]
pub struct RunFacts {
    pub compliance: compliance::Report,
    pub score: RunScore,
    pub convergence: Result<RunConvergence, String>,
    pub seeds: Result<Vec<seeds::SeedRecord>, String>,
}

/// Reads and checks one result log.
pub fn run_facts(
    rules: &RuleFiles,
    options: &CheckOptions,
    file: &ResultFile,
    label: &str,
) -> Result<RunFacts, PackageError> {
    let bytes = read_result_file(&file.path)?;
    let log_error = |source| PackageError::Log {
        file: label.to_string(),
        source,
    };
    let report = compliance::check_log(rules, &options.usage, &options.ruleset, &bytes)
        .map_err(log_error)?;
    let parsed =
        mllog::parse_log(&bytes).map_err(|e| log_error(compliance::CheckError::Parse(e)))?;
    Ok(RunFacts {
        score: summary::score_run(&file.name, report.passed, &parsed.lines),
        compliance: report,
        convergence: rcp::read_run(&bytes).map_err(|e| e.to_string()),
        seeds: seeds::seed_records(&parsed),
    })
}

/// A set checked: what the summarizer and the package checker say of it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SetReport {
    pub system: String,
    pub benchmark: String,
    pub label: String,
    pub division: String,
    pub score: SetScore,
    /// The RCP check (closed division).
    pub rcp: Option<RcpCheck>,
    /// The RCP checker's warnings (a run that did not converge).
    pub rcp_warnings: Vec<String>,
    /// `global_batch_size` (closed division).
    pub gbs: Option<f64>,
    /// The olympic mean epochs/samples to converge (closed division).
    pub samples_to_converge: Option<f64>,
    /// The package checker's messages for the set.
    pub warnings: Vec<String>,
    pub errors: Vec<String>,
    /// "RCP Test Passed: ..." / "RCP Test Failed: ...".
    pub rcp_line: Option<String>,
}

/// A submitter folder checked.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SubmissionReport {
    pub label: String,
    /// `(systems/<x>.json as printed, check)`, in name order.
    pub systems: Vec<(String, SystemDescCheck)>,
    /// Parsed system descriptions by system name (file stem).
    #[serde(skip)]
    pub descriptions: Vec<(String, Json)>,
    pub sets: Vec<SetReport>,
    /// All the package checker's warnings and errors, in order.
    pub warnings: Vec<String>,
    pub errors: Vec<String>,
}

impl SubmissionReport {
    /// The package checker's verdict.
    pub fn passed(&self) -> bool {
        self.errors.is_empty()
    }

    /// Its last line.
    pub fn verdict_line(&self) -> &'static str {
        if self.passed() {
            "PACKAGE CHECKER FOUND NO ERRORS, SUCCESS !"
        } else {
            "PACKAGE CHECKER FOUND ERRORS, LOOK INTO ERROR LOG LINES AND FIX THEM."
        }
    }

    pub fn description(&self, system: &str) -> Option<&Json> {
        self.descriptions
            .iter()
            .find(|(s, _)| s == system)
            .map(|(_, d)| d)
    }
}

fn read_json(path: &Path) -> Result<Json, PackageError> {
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    serde_json::from_str(&text).map_err(|source| PackageError::Json {
        path: path.into(),
        source,
    })
}

/// Runs `work` over `items` on all cores, keeping the order.
fn parallel_map<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(items.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<R>> = Vec::new();
    results.resize_with(items.len(), || None);
    let slots = std::sync::Mutex::new(results);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let result = work(item);
                if let Ok(mut slots) = slots.lock() {
                    slots[i] = Some(result);
                }
            });
        }
    });
    slots
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

/// Checks a submitter folder: system descriptions, and per set the
/// compliance of each log, the score, the seeds and the RCPs.
pub fn check_submission(
    root: &Path,
    label: &str,
    rules: &RuleFiles,
    options: &CheckOptions,
) -> Result<SubmissionReport, PackageError> {
    let mut report = SubmissionReport {
        label: label.into(),
        systems: Vec::new(),
        descriptions: Vec::new(),
        sets: Vec::new(),
        warnings: Vec::new(),
        errors: Vec::new(),
    };
    let systems_dir = root.join("systems");
    let mut any_invalid = false;
    if systems_dir.is_dir() {
        for (name, path) in sorted_entries(&systems_dir)? {
            let Some(stem) = name.strip_suffix(".json") else {
                continue;
            };
            let desc = read_json(&path)?;
            let check = system_desc::check_system_desc(&desc, &options.usage, &options.ruleset);
            if !check.valid {
                any_invalid = true;
                report.errors.push(check.message().trim().to_string());
            }
            report
                .systems
                .push((format!("{label}/systems/{name}"), check));
            report.descriptions.push((stem.to_string(), desc));
        }
    }
    if any_invalid {
        report
            .errors
            .push("System description file checker failed".into());
    }

    let sets = find_sets(root, label)?;
    let files: Vec<(usize, &ResultFile)> = sets
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.result_files.iter().map(move |f| (i, f)))
        .collect();
    let facts = parallel_map(&files, |(i, f)| {
        run_facts(rules, options, f, &format!("{}/{}", sets[*i].label, f.name))
    });
    let mut facts = facts.into_iter();
    for set in &sets {
        let runs: Vec<RunFacts> = facts
            .by_ref()
            .take(set.result_files.len())
            .collect::<Result<_, _>>()?;
        let set_report = check_set(&report, root, set, runs, options)?;
        report.warnings.extend(set_report.warnings.iter().cloned());
        report.errors.extend(set_report.errors.iter().cloned());
        report.sets.push(set_report);
    }
    Ok(report)
}

fn has_param(params: &Option<Vec<String>>, name: &str) -> bool {
    params
        .as_ref()
        .is_some_and(|lines| lines.iter().any(|l| l == name))
}

fn check_set(
    report: &SubmissionReport,
    root: &Path,
    set: &SetDir,
    runs: Vec<RunFacts>,
    options: &CheckOptions,
) -> Result<SetReport, PackageError> {
    let division = match report.description(&set.system) {
        Some(desc) => desc["division"].as_str().unwrap_or("").to_string(),
        None => read_json(&root.join("systems").join(format!("{}.json", set.system)))?["division"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    };
    let closed = division == "closed";
    let system_params = params_lines(
        &root
            .join("results")
            .join(&set.system)
            .join("package_checker_params"),
    )?;
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    let allowed = allowed_benchmarks(&options.ruleset).contains(&set.benchmark.as_str());

    // Score (the summarizer's view).
    let scaling_factor = match &set.scaling_json {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(io_error(path))?;
            summary::scaling_factor_from_json(&text).map_err(|source| PackageError::Scaling {
                path: path.clone(),
                source,
            })?
        }
        None => 1.0,
    };
    let submitter = report
        .description(&set.system)
        .and_then(|d| d["submitter"].as_str())
        .unwrap_or("None")
        .to_string();
    let score = summary::score_set(
        &set.benchmark,
        runs.iter().map(|r| r.score.clone()).collect(),
        scaling_factor,
        &format!("{submitter} {}/{}", set.system, set.benchmark),
        |f| format!("{}/{f}", set.label),
    );

    if !allowed {
        warnings.push(format!("Skipping benchmark: {}", set.benchmark));
    } else {
        let required = required_result_files(&set.benchmark).unwrap_or(0);
        let params_count = usize::from(set.params.is_some());
        if set.result_files.len() != required {
            errors.push(format!(
                "Incorrect number of files in dir, or wrong file names in directory {}, found {}, expected {}",
                set.label,
                set.result_files.len(),
                required
            ));
        }
        if set.entries > set.result_files.len() + params_count {
            warnings.push(format!(
                "Detected {} total files in directory {}, but some do not conform to naming convention, should you rename them to result_*.txt ?",
                set.entries, set.label
            ));
        }
        if set.result_files.len() < set.entries {
            warnings.push(format!("Unknown files in result directory: {}", set.label));
        }
        let mut failing = 0;
        for run in &runs {
            let c = &run.compliance;
            if !c.parse_errors.is_empty() {
                warnings.push("Found parsing errors:".into());
                for e in &c.parse_errors {
                    warnings.push(e.text.clone());
                    warnings.push(format!("^^  {}", e.error));
                }
            }
            let joined = c
                .messages
                .iter()
                .map(|m| m.text.as_str())
                .collect::<Vec<_>>()
                .join(&format!("\n{}\n", "-".repeat(30)));
            if !joined.is_empty() {
                warnings.push(joined.trim().to_string());
            }
            if !c.passed {
                failing += 1;
            }
        }
        if failing == 1 && set.benchmark != "unet3d" {
            warnings.push("1 file does not comply, accepting this under olympic scoring".into());
        } else if failing > 0 && failing <= 4 && set.benchmark == "unet3d" {
            warnings.push(format!(
                "{failing} files do not comply, accepting this under olympic scoring"
            ));
        } else if failing > 0 {
            errors.push(format!(
                "{failing} files do not comply, directory cannot be accepted"
            ));
        }
    }

    let mut rcp_check = None;
    let mut rcp_warnings = Vec::new();
    let mut gbs = None;
    let mut samples_to_converge = None;
    let mut rcp_line = None;
    if allowed && closed {
        // Seeds.
        let seed_bypass = options.seed_checker_bypass
            || has_param(&system_params, "seed-checker-bypass")
            || has_param(&set.params, "seed-checker-bypass");
        if !seed_bypass {
            let seed_runs: Vec<(String, Result<Vec<seeds::SeedRecord>, String>)> = set
                .result_files
                .iter()
                .zip(&runs)
                .map(|(f, r)| (format!("{}/{}", set.label, f.name), r.seeds.clone()))
                .collect();
            let seed_check = seeds::check_seeds(&seed_runs);
            warnings.extend(seed_check.warnings.iter().cloned());
            if !seed_check.errors.is_empty() {
                errors.push(format!(
                    "Seed checker failed and found the following errors: {}",
                    seed_check.errors.join("\n")
                ));
                errors.push("Seed checker failed".into());
            }
        }
        // RCPs.
        let convergence: Vec<RunConvergence> = runs
            .iter()
            .map(|r| r.convergence.clone())
            .collect::<Result<_, _>>()
            .map_err(|e| PackageError::Rcp {
                set: set.label.clone(),
                source: RcpError::Unsupported(e),
            })?;
        for run in &convergence {
            if !run.converged {
                rcp_warnings
                    .push("Run incomplete or did not converge. Marking as infinite.".to_string());
            }
        }
        warnings.extend(rcp_warnings.iter().cloned());
        let mut check = rcp::check_runs(
            &options.usage,
            &options.ruleset,
            &convergence,
            RcpPass::Pruned,
        )
        .map_err(|source| PackageError::Rcp {
            set: set.label.clone(),
            source,
        })?;
        let bypass = options.rcp_bypass
            || has_param(&system_params, "rcp-bypass")
            || has_param(&set.params, "rcp-bypass");
        let mut message = check.message();
        if bypass
            && !check.passed
            && matches!(
                check.kind,
                RcpKind::Found | RcpKind::Interpolated | RcpKind::Missing { .. }
            )
        {
            message.push_str(" passed using rcp_bypass");
            warnings.push("RCP test failed but allowed to proceed with RCP bypass.".into());
            warnings
                .push("Please be ready to have this reviewed by the submission committee.".into());
            check.passed = true;
        }
        if check.passed {
            rcp_line = Some(format!("RCP Test Passed: {message}"));
        } else {
            let line = format!("RCP Test Failed: {message}");
            errors.push(line.clone());
            rcp_line = Some(line);
        }
        // The summarizer's GBS and samples-to-converge columns.
        let set_conv = rcp::gather(&convergence).ok();
        gbs = set_conv.as_ref().map(|s| s.batch_size);
        samples_to_converge = set_conv.and_then(|s| {
            let mut epochs = s.epochs;
            if s.not_converged > 1 || epochs.len() < 3 {
                return None;
            }
            epochs.sort_by(f64::total_cmp);
            Some(rcp::numeric::np_mean(&epochs[1..epochs.len() - 1]))
        });
        rcp_check = Some(check);
    }

    Ok(SetReport {
        system: set.system.clone(),
        benchmark: set.benchmark.clone(),
        label: set.label.clone(),
        division,
        score,
        rcp: rcp_check,
        rcp_warnings,
        gbs,
        samples_to_converge,
        warnings,
        errors,
        rcp_line,
    })
}

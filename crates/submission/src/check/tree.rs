//! Walking a tree as the official checker does: divisions, submitters,
//! systems, models, scenarios; the system description and measurements.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::detail::DetailLog;
use super::round::{Layout, ModelRules, Round};
use super::rules::{self, Rule};
use super::{compliance, logs, table, CheckError, Finding, ResultEntry, Severity};

/// Subfolders of a folder, sorted (the official checker's order is the
/// file system's; sorting makes ours stable).
pub(crate) fn list_dirs(path: &Path) -> Vec<String> {
    list(path, true)
}

pub(crate) fn list_files(path: &Path) -> Vec<String> {
    list(path, false)
}

fn list(path: &Path, dirs: bool) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(path) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            // Follows links, as os.path.isdir / isfile do.
            let p = e.path();
            if dirs {
                p.is_dir()
            } else {
                p.is_file()
            }
        })
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

/// The official `files_diff`: files missing from `present` or there beyond
/// the required, the optional and the always-allowed ones.
pub(crate) fn files_diff(present: &[String], required: &[&str], optional: &[&str]) -> Vec<String> {
    const ALWAYS: [&str; 3] = ["mlperf_log_trace.json", "results.json", ".gitkeep"];
    let present_set: BTreeSet<&str> = present.iter().map(String::as_str).collect();
    let mut diff: Vec<String> = required
        .iter()
        .filter(|r| !present_set.contains(*r))
        .map(|r| format!("missing {r}"))
        .collect();
    for p in present {
        if !required.contains(&p.as_str())
            && !optional.contains(&p.as_str())
            && !ALWAYS.contains(&p.as_str())
        {
            diff.push(format!("unexpected {p}"));
        }
    }
    diff
}

/// Reads the round from the seeds of the tree's first performance run.
pub(crate) fn round_from_seeds(root: &Path) -> Result<Round, CheckError> {
    let rounds = Round::all()?;
    let mut newest = None;
    for division in list_dirs(root) {
        for submitter in list_dirs(&root.join(&division)) {
            let results = root.join(&division).join(&submitter).join("results");
            for system in list_dirs(&results) {
                for model in list_dirs(&results.join(&system)) {
                    for scenario in list_dirs(&results.join(&system).join(&model)) {
                        let detail = results
                            .join(&system)
                            .join(&model)
                            .join(&scenario)
                            .join("performance/run_1/mlperf_log_detail.txt");
                        if let Ok(log) = DetailLog::read(&detail) {
                            let seed = log.u64("effective_qsl_rng_seed");
                            if let Some(round) =
                                rounds.iter().find(|r| Some(r.qsl_rng_seed) == seed)
                            {
                                return Ok(round.clone());
                            }
                        }
                    }
                }
            }
        }
    }
    if list_dirs(root)
        .iter()
        .all(|d| !["closed", "open", "network"].contains(&d.as_str()))
    {
        return Err(CheckError::NotATree {
            path: root.to_path_buf(),
        });
    }
    // No run carries a known round's seeds: the newest round judges them.
    for round in rounds {
        newest = Some(round);
    }
    newest.ok_or_else(|| CheckError::UnknownRound {
        name: String::new(),
        known: String::new(),
    })
}

/// The walk's state: the round, the findings so far, the results seen.
pub(crate) struct Walk<'a> {
    pub root: &'a Path,
    pub round: &'a Round,
    pub skip_compliance: bool,
    pub findings: Vec<Finding>,
    pub results: Vec<ResultEntry>,
}

/// What a system description says, for the checks and the summary.
pub(crate) struct SystemInfo {
    pub json: serde_json::Map<String, Value>,
    pub system_type: String,
    pub status: String,
}

impl<'a> Walk<'a> {
    pub fn new(root: &'a Path, round: &'a Round, skip_compliance: bool) -> Self {
        Walk {
            root,
            round,
            skip_compliance,
            findings: Vec::new(),
            results: Vec::new(),
        }
    }

    /// The path relative to the root, `/`-separated.
    pub fn rel(&self, path: &Path) -> String {
        let rel = path.strip_prefix(self.root).unwrap_or(path);
        let text = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        if text.is_empty() {
            ".".to_string()
        } else {
            text
        }
    }

    pub fn fail(
        &mut self,
        rule: Rule,
        file: &Path,
        line: Option<usize>,
        scope: &str,
        reason: String,
    ) {
        self.push(rule, Severity::Error, file, line, scope, reason);
    }

    pub fn warn(
        &mut self,
        rule: Rule,
        file: &Path,
        line: Option<usize>,
        scope: &str,
        reason: String,
    ) {
        self.push(rule, Severity::Warning, file, line, scope, reason);
    }

    fn push(
        &mut self,
        rule: Rule,
        severity: Severity,
        file: &Path,
        line: Option<usize>,
        scope: &str,
        reason: String,
    ) {
        let file = self.rel(file);
        self.findings.push(Finding {
            rule: rule.id,
            area: rule.area,
            severity,
            file,
            line,
            reason,
            scope: scope.to_string(),
            stricter: rule.stricter,
        });
    }

    pub fn run(&mut self) -> Result<(), CheckError> {
        let root = self.root;
        let divisions = list_dirs(root);
        if !divisions
            .iter()
            .any(|d| self.round.valid_divisions.contains(d))
        {
            return Err(CheckError::NotATree {
                path: root.to_path_buf(),
            });
        }
        let outside: Vec<String> = list_files(root)
            .into_iter()
            .filter(|f| !(f.ends_with(".md") || f.ends_with(".pdf")))
            .collect();
        if !outside.is_empty() {
            self.fail(
                rules::TREE_ROOT_FILES,
                root,
                None,
                ".",
                format!("files outside any division: {}", outside.join(", ")),
            );
        }
        for division in divisions {
            if !self.round.valid_divisions.contains(&division) {
                if ![".git", ".github", "assets"].contains(&division.as_str()) {
                    self.fail(
                        rules::TREE_INVALID_DIVISION,
                        &root.join(&division),
                        None,
                        ".",
                        format!(
                            "{division} is not a division ({})",
                            self.round.valid_divisions.join(", ")
                        ),
                    );
                }
                continue;
            }
            let division_path = root.join(&division);
            let stray = list_files(&division_path);
            if !stray.is_empty() {
                self.fail(
                    rules::TREE_DIVISION_FILES,
                    &division_path,
                    None,
                    &division,
                    format!("files outside any submitter: {}", stray.join(", ")),
                );
            }
            for submitter in list_dirs(&division_path) {
                self.submitter(&division, &submitter)?;
            }
        }
        Ok(())
    }

    fn submitter(&mut self, division: &str, submitter: &str) -> Result<(), CheckError> {
        let base = self.root.join(division).join(submitter);
        let results_path = base.join("results");
        if !results_path.exists() {
            return Ok(());
        }
        let scope = format!("{division}/{submitter}");
        if !self.hygiene(&base, &scope) {
            return Ok(());
        }
        let result_systems: BTreeSet<String> = list_dirs(&results_path).into_iter().collect();
        let measured: Vec<String> = list_dirs(&base.join("measurements"))
            .into_iter()
            .filter(|s| !result_systems.contains(s))
            .collect();
        if !measured.is_empty() {
            self.fail(
                rules::TREE_UNMATCHED_SYSTEM,
                &base.join("measurements"),
                None,
                &format!("{scope}/results"),
                format!("measurements without results: {}", measured.join(", ")),
            );
        }
        let described: Vec<String> = list_files(&base.join("systems"))
            .into_iter()
            .filter_map(|f| f.strip_suffix(".json").map(str::to_string))
            .filter(|s| !result_systems.contains(s))
            .collect();
        if !described.is_empty() {
            self.fail(
                rules::TREE_UNMATCHED_SYSTEM,
                &base.join("systems"),
                None,
                &format!("{scope}/results"),
                format!(
                    "system descriptions without results: {}",
                    described
                        .iter()
                        .map(|s| format!("{s}.json"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        if division != "open"
            && !base.join("calibration.md").exists()
            && !base.join("documentation/calibration.md").exists()
        {
            self.fail(
                rules::TREE_CALIBRATION,
                &base,
                None,
                &format!("{scope}/results"),
                "no calibration.md or documentation/calibration.md".to_string(),
            );
        }
        for system in result_systems {
            self.system(division, submitter, &system)?;
        }
        Ok(())
    }

    /// Names, sizes, links and empty folders; false when the submitter is
    /// struck and its results are not looked at (as the official checker).
    fn hygiene(&mut self, base: &Path, scope: &str) -> bool {
        let mut dirs = Vec::new();
        let mut files = Vec::new();
        walk_all(base, &mut dirs, &mut files);
        let before = self.findings.len();
        let broken: Vec<String> = files
            .iter()
            .filter(|f| f.is_symlink() && !f.exists())
            .map(|f| self.rel(f))
            .collect();
        if !broken.is_empty() {
            self.fail(
                rules::TREE_BROKEN_LINK,
                base,
                None,
                scope,
                format!("broken links: {}", broken.join(", ")),
            );
        }
        let limit = self.round.file_size_limit_bytes;
        let large: Vec<String> = files
            .iter()
            .filter(|f| f.metadata().is_ok_and(|m| m.len() > limit))
            .map(|f| self.rel(f))
            .collect();
        if !large.is_empty() {
            self.fail(
                rules::TREE_FILE_TOO_LARGE,
                base,
                None,
                scope,
                format!(
                    "files over {} MB: {}",
                    limit / (1024 * 1024),
                    large.join(", ")
                ),
            );
        }
        let named = |pred: &dyn Fn(&str) -> bool, paths: &[PathBuf]| -> Vec<PathBuf> {
            paths
                .iter()
                .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(pred))
                .cloned()
                .collect()
        };
        let all: Vec<PathBuf> = dirs.iter().chain(files.iter()).cloned().collect();
        let hidden = named(&|n| n.starts_with('.'), &all);
        let spaced = named(&|n| n.contains(' '), &all);
        let pycache = named(&|n| n == "__pycache__", &dirs);
        let empty: Vec<PathBuf> = dirs
            .iter()
            .filter(|d| std::fs::read_dir(d).is_ok_and(|mut e| e.next().is_none()))
            .cloned()
            .collect();
        for (rule, what, paths) in [
            (rules::TREE_HIDDEN_NAME, "names git may hide", hidden),
            (rules::TREE_SPACE_IN_NAME, "names with spaces", spaced),
            (rules::TREE_PYCACHE, "__pycache__ folders", pycache),
            (rules::TREE_EMPTY_DIR, "empty folders", empty),
        ] {
            if paths.is_empty() {
                continue;
            }
            let list = paths
                .iter()
                .map(|p| self.rel(p))
                .collect::<Vec<_>>()
                .join(", ");
            self.fail(rule, base, None, scope, format!("{what}: {list}"));
        }
        self.findings.len() == before
    }

    fn system(&mut self, division: &str, submitter: &str, system: &str) -> Result<(), CheckError> {
        let base = self.root.join(division).join(submitter);
        let scope = format!("{division}/{submitter}/results/{system}");
        let json_path = Layout::system_file(&base, system);
        let Some(info) = self.system_description(&json_path, division, submitter, &scope) else {
            return Ok(());
        };
        let results_path = base.join("results").join(system);
        for model in list_dirs(&results_path) {
            self.model(division, submitter, system, &model, &info)?;
        }
        Ok(())
    }

    /// Reads and checks `systems/<system>.json`; `None` when the system's
    /// results cannot be judged (no description, bad status or type).
    fn system_description(
        &mut self,
        path: &Path,
        division: &str,
        submitter: &str,
        scope: &str,
    ) -> Option<SystemInfo> {
        if !path.exists() {
            self.fail(
                rules::SYS_MISSING,
                path,
                None,
                scope,
                "no system description".to_string(),
            );
            return None;
        }
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                self.fail(rules::SYS_UNREADABLE, path, None, scope, e.to_string());
                return None;
            }
        };
        let json = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => map,
            Ok(_) => {
                self.fail(
                    rules::SYS_UNREADABLE,
                    path,
                    None,
                    scope,
                    "not a JSON object".to_string(),
                );
                return None;
            }
            Err(e) => {
                self.fail(
                    rules::SYS_UNREADABLE,
                    path,
                    Some(e.line()),
                    scope,
                    e.to_string(),
                );
                return None;
            }
        };
        let line_of = |key: &str| json_key_line(&text, key);
        let status = json
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_lowercase();
        if !self.round.valid_availabilities.contains(&status) {
            self.fail(
                rules::SYS_STATUS,
                path,
                line_of("status"),
                scope,
                format!(
                    "status {status:?} is not one of {}",
                    self.round.valid_availabilities.join(", ")
                ),
            );
            return None;
        }
        let system_type = json
            .get("system_type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if !self.round.valid_system_types.contains(&system_type) {
            self.fail(
                rules::SYS_SYSTEM_TYPE,
                path,
                line_of("system_type"),
                scope,
                format!(
                    "system_type {system_type:?} is not one of {}",
                    self.round.valid_system_types.join(", ")
                ),
            );
            return None;
        }
        let rules_ = &self.round.system;
        let is_network = division == "network";
        let mut required: Vec<String> = rules_.required_fields.clone();
        if is_network {
            required.extend(rules_.network_fields.iter().cloned());
        }
        let mut problems = Vec::new();
        for field in &required {
            match json.get(field) {
                None => problems.push((
                    rules::SYS_REQUIRED_FIELD,
                    None,
                    format!("field {field} is missing"),
                )),
                Some(v) if rules_.meaningful_fields.contains(field) && !python_truthy(v) => {
                    problems.push((
                        rules::SYS_MEANINGFUL_FIELD,
                        line_of(field),
                        format!("field {field} requires a meaningful value but is {v}"),
                    ))
                }
                Some(v) if rules_.numeric_fields.contains(field) && !v.is_number() => problems
                    .push((
                        rules::SYS_NUMERIC_FIELD,
                        line_of(field),
                        format!("field {field} must be a number, is {v}"),
                    )),
                Some(_) => {}
            }
        }
        let unknown: Vec<(String, Option<usize>)> = json
            .keys()
            .filter(|k| !rules_.is_known(k))
            .map(|k| (k.clone(), line_of(k)))
            .collect();
        let claimed_submitter = json.get("submitter").and_then(Value::as_str).unwrap_or("");
        if claimed_submitter.to_lowercase() != submitter.to_lowercase() {
            problems.push((
                rules::SYS_SUBMITTER,
                line_of("submitter"),
                format!("submitter is {claimed_submitter:?}, the folder is {submitter:?}"),
            ));
        }
        let claimed_division = json.get("division").and_then(Value::as_str).unwrap_or("");
        if claimed_division != division {
            problems.push((
                rules::SYS_DIVISION,
                line_of("division"),
                format!("division is {claimed_division:?}, the folder is {division:?}"),
            ));
        }
        for (rule, line, reason) in problems {
            self.fail(rule, path, line, scope, reason);
        }
        for (field, line) in unknown {
            self.warn(
                rules::SYS_UNKNOWN_FIELD,
                path,
                line,
                scope,
                format!("field {field} is unknown"),
            );
        }
        Some(SystemInfo {
            json,
            system_type,
            status,
        })
    }

    fn model(
        &mut self,
        division: &str,
        submitter: &str,
        system: &str,
        model_folder: &str,
        info: &SystemInfo,
    ) -> Result<(), CheckError> {
        let round = self.round;
        let model_path = self
            .root
            .join(division)
            .join(submitter)
            .join("results")
            .join(system)
            .join(model_folder);
        let scope = self.rel(&model_path);
        let closed_like = division == "closed" || division == "network";
        let Some(mlperf_model) = round.mlperf_model(model_folder).map(str::to_string) else {
            if closed_like {
                self.fail(
                    rules::TREE_INVALID_MODEL,
                    &model_path,
                    None,
                    &scope,
                    format!("{model_folder} is not a {} benchmark", round.name),
                );
            }
            return Ok(());
        };
        let rules_ = &round.models[&mlperf_model];
        let Some(kind) = round.scenarios.get(&info.system_type) else {
            return Ok(());
        };
        let Some(required) = kind.required.get(&mlperf_model) else {
            self.fail(
                rules::TREE_INVALID_MODEL,
                &model_path,
                None,
                &scope,
                format!(
                    "{mlperf_model} is not a {} benchmark for system type {}",
                    round.name, info.system_type
                ),
            );
            return Ok(());
        };
        let optional = kind
            .optional
            .get(&mlperf_model)
            .cloned()
            .unwrap_or_default();
        let mut missing: BTreeSet<String> = required.iter().cloned().collect();
        let mut optional_left: BTreeSet<String> = optional.iter().cloned().collect();
        for scenario in list_dirs(&model_path) {
            let fixed = canonical_scenario(&scenario);
            let result_path = model_path.join(&scenario);
            let result_scope = self.rel(&result_path);
            if closed_like && !required.contains(&fixed) && !optional.contains(&fixed) {
                self.fail(
                    rules::TREE_UNEXPECTED_SCENARIO,
                    &result_path,
                    None,
                    &result_scope,
                    format!("{scenario} is neither required nor optional for {mlperf_model}"),
                );
                continue;
            }
            let valid = self.result(
                division,
                submitter,
                system,
                model_folder,
                &mlperf_model,
                rules_,
                &scenario,
                &fixed,
                info,
            )?;
            if valid {
                missing.remove(&fixed);
                optional_left.remove(&fixed);
            }
        }
        if closed_like && !missing.is_empty() {
            self.fail(
                rules::TREE_REQUIRED_SCENARIOS,
                &model_path,
                None,
                &scope,
                format!(
                    "required scenarios without a valid result: {}",
                    missing.into_iter().collect::<Vec<_>>().join(", ")
                ),
            );
        }
        if optional_left.contains("Server") && optional_left.contains("Interactive") {
            self.fail(
                rules::TREE_REQUIRED_SCENARIOS,
                &model_path,
                None,
                &scope,
                "one of Server and Interactive is required".to_string(),
            );
        }
        Ok(())
    }

    /// One result, every area in order; whether its scenario counts as
    /// present for the required-scenarios rule.
    #[allow(clippy::too_many_arguments)]
    fn result(
        &mut self,
        division: &str,
        submitter: &str,
        system: &str,
        model_folder: &str,
        mlperf_model: &str,
        model: &ModelRules,
        scenario: &str,
        fixed: &str,
        info: &SystemInfo,
    ) -> Result<bool, CheckError> {
        let base = self.root.join(division).join(submitter);
        let result_path = Layout::results_dir(&base, system, model_folder, scenario);
        let scope = self.rel(&result_path);
        let errors_before = self.error_count_in(&scope);
        let first_finding = self.findings.len();
        let has_power = result_path.join("performance/power").exists();
        let closed_like = division == "closed" || division == "network";

        let perf = logs::performance_run(
            self,
            &result_path.join("performance/run_1"),
            mlperf_model,
            model,
            fixed,
            has_power,
            &scope,
            false,
        );
        let accuracy = logs::accuracy(self, &result_path, model, division, &scope);
        let measurement =
            self.measurements(&base, system, model_folder, scenario, has_power, &scope);
        let power_metric = if has_power {
            logs::power(
                self,
                &result_path,
                fixed,
                perf.as_ref().map(|p| p.result),
                &scope,
            )
        } else {
            None
        };
        let mut compliance_ok = !closed_like;
        if closed_like && !self.skip_compliance {
            let dir = self
                .round
                .layout
                .compliance_dir(&base, system, model_folder, scenario);
            compliance_ok = compliance::check(self, &dir, mlperf_model, model, fixed, &scope);
        }
        // As the official checker: the scenario counts as present for the
        // required-scenarios rule when its measurements, accuracy files and
        // performance run hold; a failed accuracy target or audit strikes
        // the result but does not make the scenario missing. Neither does a
        // rule only yardstick applies: it fails the result on its own.
        let counts = !self.findings[first_finding..].iter().any(|f| {
            f.severity == Severity::Error
                && f.scope == scope
                && f.stricter.is_none()
                && (matches!(f.area, rules::Area::Performance | rules::Area::Measurements)
                    || f.rule == rules::ACC_MISSING_TXT.id
                    || f.rule == rules::ACC_FILE_LIST.id)
        });
        let valid = self.error_count_in(&scope) == errors_before;
        let row = table::Row::new(
            submitter,
            division,
            system,
            model_folder,
            mlperf_model,
            fixed,
            perf.as_ref().map(|p| p.result),
            &accuracy,
            &info.json,
            &info.status,
            &info.system_type,
            &scope,
            compliance_ok,
            perf.as_ref().is_some_and(|p| p.inferred),
            power_metric,
            &self.round.unit(model, fixed),
            measurement.as_deref().unwrap_or(""),
        );
        self.results.push(ResultEntry {
            path: scope,
            division: division.to_string(),
            submitter: submitter.to_string(),
            system: system.to_string(),
            model: model_folder.to_string(),
            mlperf_model: mlperf_model.to_string(),
            scenario: fixed.to_string(),
            valid,
            result: perf.as_ref().map(|p| p.result),
            units: self.round.unit(model, fixed),
            accuracy,
            inferred: perf.as_ref().is_some_and(|p| p.inferred),
            has_power,
            power_metric,
            power_units: power_metric.map(|_| table::power_units(fixed).to_string()),
            compliance: compliance_ok,
            row: Some(row),
        });
        Ok(counts)
    }

    fn error_count_in(&self, scope: &str) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error && f.scope == scope)
            .count()
    }

    /// `measurements/<system>/<model>/<scenario>`: user.conf, README.md,
    /// the implementation JSON and its code folder. Returns the weight
    /// data types the summary reports.
    fn measurements(
        &mut self,
        base: &Path,
        system: &str,
        model_folder: &str,
        scenario: &str,
        has_power: bool,
        scope: &str,
    ) -> Option<String> {
        let layout = &self.round.layout;
        let dir = layout.measurements_dir(base, system, model_folder, scenario);
        if !dir.is_dir() {
            self.fail(
                rules::MEAS_MISSING_DIR,
                &dir,
                None,
                scope,
                "no measurements folder".to_string(),
            );
            return None;
        }
        let files = list_files(&dir);
        for required in ["user.conf", "README.md"] {
            let path = dir.join(required);
            if !files.iter().any(|f| f == required) {
                self.fail(
                    rules::MEAS_REQUIRED_FILE,
                    &path,
                    None,
                    scope,
                    format!("{required} is missing"),
                );
            } else if path.metadata().is_ok_and(|m| m.len() == 0) {
                self.fail(
                    rules::MEAS_EMPTY_FILE,
                    &path,
                    None,
                    scope,
                    format!("{required} is empty"),
                );
            }
        }
        if has_power {
            // The official checker looks in the folder and three above it.
            let mut candidates = Vec::new();
            let mut at = dir.clone();
            for _ in 0..4 {
                candidates.extend(list_files(&at).into_iter().map(|f| at.join(f)));
                at = at.join("..");
            }
            for prefix in ["analyzer_table", "power_settings"] {
                let found = candidates.iter().find(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(prefix))
                });
                match found {
                    None => self.fail(
                        rules::MEAS_POWER_FILE,
                        &dir,
                        None,
                        scope,
                        format!("{prefix}.* is missing"),
                    ),
                    Some(p) if p.metadata().is_ok_and(|m| m.len() == 0) => {
                        let p = p.clone();
                        self.fail(
                            rules::MEAS_EMPTY_FILE,
                            &p,
                            None,
                            scope,
                            format!("{prefix}.* is empty"),
                        )
                    }
                    Some(_) => {}
                }
            }
        }
        let with_scenario = format!("_{scenario}.json");
        let implementation = match &layout.implementation_json {
            Some(name) => files.iter().find(|f| *f == name).cloned(),
            None => files
                .iter()
                .find(|f| f.starts_with(system) && f.ends_with(&with_scenario))
                .or_else(|| {
                    files
                        .iter()
                        .find(|f| f.starts_with(system) && f.ends_with(".json"))
                })
                .cloned(),
        };
        let Some(file) = implementation else {
            let wanted = layout
                .implementation_json
                .clone()
                .unwrap_or_else(|| format!("{system}*.json"));
            self.fail(
                rules::MEAS_IMPLEMENTATION_JSON,
                &dir,
                None,
                scope,
                format!("no implementation description {wanted}"),
            );
            return None;
        };
        let path = dir.join(&file);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let json = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => map,
            _ => {
                self.fail(
                    rules::MEAS_IMPLEMENTATION_JSON,
                    &path,
                    None,
                    scope,
                    "not a JSON object".to_string(),
                );
                return None;
            }
        };
        for field in self.round.system.implementation_fields.clone() {
            match json.get(&field) {
                None => self.fail(
                    rules::MEAS_IMPLEMENTATION_FIELD,
                    &path,
                    None,
                    scope,
                    format!("field {field} is missing"),
                ),
                Some(v) if !python_truthy(v) => self.fail(
                    rules::MEAS_IMPLEMENTATION_FIELD,
                    &path,
                    json_key_line(&text, &field),
                    scope,
                    format!("field {field} has no meaningful value"),
                ),
                Some(_) => {}
            }
        }
        let code_root = base.join(&layout.code);
        if layout.code_per_model {
            // code/<model>/<implementation>, or a file code/<model> naming
            // the folder; the model's folder is enough.
            let end = if file.ends_with(&with_scenario) {
                with_scenario.len()
            } else {
                ".json".len()
            };
            let implementation_name = file
                .get(system.len() + 1..file.len().saturating_sub(end))
                .unwrap_or("");
            let code_model = code_root.join(model_folder);
            let code_dir = if code_model.is_file() {
                let target = std::fs::read_to_string(&code_model).unwrap_or_default();
                code_root.join(target.trim()).join(implementation_name)
            } else {
                code_model.join(implementation_name)
            };
            if !code_dir.exists() && !code_dir.parent().is_some_and(Path::exists) {
                let shown = self.rel(&code_dir);
                self.fail(
                    rules::MEAS_CODE_DIR,
                    &path,
                    None,
                    scope,
                    format!("code folder {shown} is missing"),
                );
            }
        } else if !code_root.is_dir() {
            let shown = self.rel(&code_root);
            self.fail(
                rules::MEAS_CODE_DIR,
                &code_root,
                None,
                scope,
                format!("code folder {shown} is missing"),
            );
        }
        match json.get("weight_data_types") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
            None => None,
        }
    }
}

fn walk_all(path: &Path, dirs: &mut Vec<PathBuf>, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() && !p.is_symlink() {
            dirs.push(p.clone());
            walk_all(&p, dirs, files);
        } else {
            files.push(p);
        }
    }
}

/// The official SCENARIO_MAPPING: lower-case folder names of old rounds.
fn canonical_scenario(folder: &str) -> String {
    match folder {
        "singlestream" => "SingleStream",
        "multistream" => "MultiStream",
        "server" => "Server",
        "offline" => "Offline",
        "interactive" => "Interactive",
        other => other,
    }
    .to_string()
}

/// Python's truthiness of a JSON value (`not value`).
pub(crate) fn python_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// The line (from 1) where `"key":` first appears in a JSON text.
pub(crate) fn json_key_line(text: &str, key: &str) -> Option<usize> {
    let needle = format!("\"{key}\"");
    text.lines()
        .position(|l| l.contains(&needle))
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_diff_names_missing_and_unexpected() {
        let present = vec![
            "mlperf_log_detail.txt".to_string(),
            "extra.txt".to_string(),
            ".gitkeep".to_string(),
        ];
        let diff = files_diff(
            &present,
            &["mlperf_log_summary.txt", "mlperf_log_detail.txt"],
            &[],
        );
        assert_eq!(
            diff,
            vec!["missing mlperf_log_summary.txt", "unexpected extra.txt"]
        );
    }

    #[test]
    fn truthiness_is_pythons() {
        assert!(!python_truthy(&serde_json::json!("")));
        assert!(!python_truthy(&serde_json::json!(0)));
        assert!(python_truthy(&serde_json::json!("N/A")));
        assert_eq!(json_key_line("{\n  \"a\": 1,\n  \"b\": 2\n}", "b"), Some(3));
    }
}

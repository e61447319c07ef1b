//! The LoadGen logs of a result: the performance run, the accuracy run and
//! the power logs beside them.

use std::path::Path;

use super::detail::DetailLog;
use super::round::ModelRules;
use super::rules::{self, Rule};
use super::tree::{files_diff, list_files, Walk};

/// What a valid-looking performance run reports.
pub(crate) struct PerformanceOutcome {
    pub result: f64,
    pub inferred: bool,
}

const NS_PER_MS: f64 = 1_000_000.0;

/// Checks `performance/run_1` (or a compliance test's run): files, errors,
/// validity, seeds, counts, duration, latency bounds. `None` when no result
/// could be read.
#[allow(clippy::too_many_arguments)]
pub(crate) fn performance_run(
    walk: &mut Walk<'_>,
    run: &Path,
    mlperf_model: &str,
    model: &ModelRules,
    scenario_fixed: &str,
    has_power: bool,
    scope: &str,
    compliance: bool,
) -> Option<PerformanceOutcome> {
    let round = walk.round;
    // A compliance run's rules are the performance rules; its area is
    // compliance so the report groups them there.
    let rule = |r: Rule| -> Rule {
        if compliance {
            Rule {
                area: rules::Area::Compliance,
                ..r
            }
        } else {
            r
        }
    };
    if !run.is_dir() {
        walk.fail(
            rule(rules::PERF_MISSING_RUN),
            run,
            None,
            scope,
            "the performance run folder is missing".to_string(),
        );
        return None;
    }
    if !compliance {
        let mut required = vec!["mlperf_log_summary.txt", "mlperf_log_detail.txt"];
        if has_power {
            required.push("spl.txt");
        }
        let diff = files_diff(&list_files(run), &required, &["mlperf_log_accuracy.json"]);
        if !diff.is_empty() {
            walk.fail(
                rule(rules::PERF_FILE_LIST),
                run,
                None,
                scope,
                format!("file list mismatch: {}", diff.join(", ")),
            );
            return None;
        }
    }
    let detail_path = run.join("mlperf_log_detail.txt");
    let log = match DetailLog::read(&detail_path) {
        Ok(log) => log,
        Err(e) => {
            walk.fail(
                rule(rules::PERF_UNREADABLE),
                &detail_path,
                None,
                scope,
                e.to_string(),
            );
            return None;
        }
    };
    for bad in &log.unreadable {
        walk.fail(
            rule(rules::PERF_UNREADABLE),
            &detail_path,
            Some(bad.line),
            scope,
            format!("not a log record: {}", bad.reason),
        );
    }
    let at = |key: &str| log.line(key);
    let validity = log.str("result_validity").unwrap_or("(absent)");
    if validity != "VALID" {
        let mut why = Vec::new();
        for (key, what) in [
            ("result_min_duration_met", "min duration"),
            ("result_min_queries_met", "min queries"),
            ("result_perf_constraints_met", "performance constraints"),
            ("early_stopping_met", "early stopping"),
        ] {
            if log.truthy(key) == Some(false) {
                why.push(format!("{what} not met"));
            }
        }
        let why = if why.is_empty() {
            String::new()
        } else {
            format!(" ({})", why.join(", "))
        };
        walk.fail(
            rule(rules::PERF_RESULT_VALIDITY),
            &detail_path,
            at("result_validity"),
            scope,
            format!("LoadGen judged the run {validity}{why}"),
        );
    }
    let official_errors = log.official_error_count();
    for error in &log.errors {
        let r = if official_errors > 0 {
            rules::PERF_LOADGEN_ERROR
        } else {
            rules::PERF_LOADGEN_ERROR_UNCOUNTED
        };
        walk.fail(
            rule(r),
            &detail_path,
            Some(error.line),
            scope,
            format!("LoadGen error {}: {}", error.key, error.value),
        );
    }
    if log.errors.is_empty() && official_errors > 0 {
        walk.fail(
            rule(rules::PERF_LOADGEN_ERROR),
            &detail_path,
            at("num_errors"),
            scope,
            format!("LoadGen counted {official_errors} errors"),
        );
    }
    let Some(scenario) = log.str("effective_scenario").map(str::to_string) else {
        walk.fail(
            rule(rules::PERF_MISSING_VALUE),
            &detail_path,
            None,
            scope,
            "no effective_scenario".to_string(),
        );
        return None;
    };
    if model.equal_issue && log.truthy("effective_sample_concatenate_permutation") != Some(true) {
        walk.fail(
            rule(rules::PERF_EQUAL_ISSUE),
            &detail_path,
            at("effective_sample_concatenate_permutation"),
            scope,
            format!(
                "{mlperf_model} requires equal issue mode (sample_concatenate_permutation = true)"
            ),
        );
    }
    match log.u64("effective_performance_sample_count") {
        Some(count) if count >= model.performance_sample_count => {}
        found => walk.fail(
            rule(rules::PERF_SAMPLE_COUNT),
            &detail_path,
            at("effective_performance_sample_count"),
            scope,
            format!(
                "performance_sample_count is {}, needs at least {}",
                show(found),
                model.performance_sample_count
            ),
        ),
    }
    for (key, expected) in [
        ("effective_qsl_rng_seed", round.qsl_rng_seed),
        (
            "effective_sample_index_rng_seed",
            round.sample_index_rng_seed,
        ),
        ("effective_schedule_rng_seed", round.schedule_rng_seed),
    ] {
        let found = log.u64(key);
        if found != Some(expected) {
            walk.fail(
                rule(rules::PERF_SEED),
                &detail_path,
                at(key),
                scope,
                format!(
                    "{key} is {}, {} requires {expected}",
                    show(found),
                    round.name
                ),
            );
        }
    }
    if model.token_latencies_required {
        if log.truthy("requested_use_token_latencies") != Some(true) {
            walk.fail(
                rule(rules::PERF_TOKEN_LATENCIES_OFF),
                &detail_path,
                at("requested_use_token_latencies"),
                scope,
                "use_token_latencies must be enabled for an LLM benchmark".to_string(),
            );
        } else if let Some(limit) = model.token_latency_limits_ns.get(scenario_fixed) {
            let ttft = log.f64("result_first_token_99.00_percentile_latency_ns");
            let tpot = log.f64("result_time_per_output_token_99.00_percentile_ns");
            let ok = matches!((ttft, tpot), (Some(a), Some(b)) if a < limit.ttft as f64 && b < limit.tpot as f64);
            if !ok {
                walk.fail(
                    rule(rules::PERF_TOKEN_LATENCY_BOUND),
                    &detail_path,
                    at("result_first_token_99.00_percentile_latency_ns"),
                    scope,
                    format!(
                        "99th percentile TTFT {} ns and TPOT {} ns must be under {} ns and {} ns",
                        show_f(ttft),
                        show_f(tpot),
                        limit.ttft,
                        limit.tpot
                    ),
                );
            }
        }
    }
    let early_stopping = round.uses_early_stopping(&scenario);
    if early_stopping {
        if log.truthy("early_stopping_met") != Some(true) {
            walk.fail(
                rule(rules::PERF_EARLY_STOPPING),
                &detail_path,
                at("early_stopping_met"),
                scope,
                format!(
                    "early stopping condition not met: {}",
                    log.str("early_stopping_result")
                        .unwrap_or("(no early_stopping_result)")
                ),
            );
        }
        if let Some(bound) = model.latency_constraint_ns.get(&scenario) {
            let target = log.u64("effective_target_latency_ns");
            if target.is_none_or(|t| t > *bound) {
                walk.fail(
                    rule(rules::PERF_LATENCY_BOUND),
                    &detail_path,
                    at("effective_target_latency_ns"),
                    scope,
                    format!(
                        "target latency {} ns is above the {scenario} bound {bound} ns",
                        show(target)
                    ),
                );
            }
        }
    } else {
        if let Some(bound) = model.latency_constraint_ns.get(&scenario) {
            let key = if scenario == "MultiStream" {
                "result_99.00_percentile_per_query_latency_ns"
            } else {
                "result_99.00_percentile_latency_ns"
            };
            let p99 = log.f64(key);
            if p99.is_none_or(|p| p > *bound as f64) {
                walk.fail(
                    rule(rules::PERF_LATENCY_BOUND),
                    &detail_path,
                    at(key),
                    scope,
                    format!(
                        "99th percentile latency {} ns is above the bound {bound} ns",
                        show_f(p99)
                    ),
                );
            }
        }
        if let Some(required) = model.min_queries.get(&scenario).copied().filter(|r| *r > 0) {
            let found = log.u64("effective_min_query_count");
            if found.is_none_or(|f| f < required) {
                walk.fail(
                    rule(rules::PERF_MIN_QUERY_COUNT),
                    &detail_path,
                    at("effective_min_query_count"),
                    scope,
                    format!(
                        "min_query_count is {}, {scenario} requires {required}",
                        show(found)
                    ),
                );
            }
        }
    }
    if scenario == "Offline" {
        if let Some(required) = model.offline_min_samples_per_query {
            let found = log.u64("effective_samples_per_query");
            if found.is_none_or(|f| f < required) {
                walk.fail(
                    rule(rules::PERF_OFFLINE_SAMPLES),
                    &detail_path,
                    at("effective_samples_per_query"),
                    scope,
                    format!(
                        "samples_per_query is {}, Offline requires at least {required}",
                        show(found)
                    ),
                );
            }
        }
    }
    let duration = log.u64("effective_min_duration_ms");
    if duration.is_none_or(|d| d < round.test_duration_ms) {
        walk.fail(
            rule(rules::PERF_MIN_DURATION),
            &detail_path,
            at("effective_min_duration_ms"),
            scope,
            format!(
                "min_duration is {} ms, {} requires {} ms",
                show(duration),
                round.name,
                round.test_duration_ms
            ),
        );
    }
    let Some(key) = round.result_key(model, &scenario) else {
        walk.fail(
            rule(rules::PERF_SCENARIO),
            &detail_path,
            at("effective_scenario"),
            scope,
            format!("{scenario} has no result in {}", round.name),
        );
        return None;
    };
    let Some(mut result) = log.f64(&key) else {
        walk.fail(
            rule(rules::PERF_MISSING_VALUE),
            &detail_path,
            None,
            scope,
            format!("no {key} in the log"),
        );
        return None;
    };
    if scenario == "SingleStream" || scenario == "MultiStream" {
        result /= NS_PER_MS;
    }
    let mut inferred = false;
    if scenario_fixed != scenario {
        match (scenario_fixed, scenario.as_str()) {
            ("Offline", "SingleStream") => {
                inferred = true;
                result = log
                    .f64("result_qps_without_loadgen_overhead")
                    .unwrap_or(0.0);
            }
            ("Offline", "MultiStream") => {
                inferred = true;
                let spq = log.f64("effective_samples_per_query").unwrap_or(0.0);
                let mean = log
                    .f64("result_mean_query_latency_ns")
                    .unwrap_or(f64::INFINITY);
                result = spq * 1000.0 / (mean / NS_PER_MS);
            }
            ("MultiStream", "SingleStream") => {
                inferred = true;
                let es = log.f64("early_stopping_latency_ms").unwrap_or(0.0);
                if es == 0.0 {
                    walk.fail(
                        rule(rules::PERF_SCENARIO),
                        &detail_path,
                        at("early_stopping_latency_ms"),
                        scope,
                        "too few samples for early stopping to estimate MultiStream from SingleStream".to_string(),
                    );
                }
                result = es * 8.0 / NS_PER_MS;
            }
            ("Interactive", _) => walk.fail(
                rule(rules::PERF_SCENARIO),
                &detail_path,
                at("effective_scenario"),
                scope,
                format!("an Interactive result cannot come from a {scenario} run"),
            ),
            _ => {}
        }
    }
    Some(PerformanceOutcome { result, inferred })
}

fn show(v: Option<u64>) -> String {
    v.map_or_else(|| "absent".to_string(), |v| v.to_string())
}

fn show_f(v: Option<f64>) -> String {
    v.map_or_else(|| "absent".to_string(), yardstick_formats::pyfloat::repr)
}

/// Checks `accuracy/`: accuracy.txt against the targets, the truncated log,
/// the detail log. Returns the accuracy as the official summary writes it.
pub(crate) fn accuracy(
    walk: &mut Walk<'_>,
    result: &Path,
    model: &ModelRules,
    division: &str,
    scope: &str,
) -> String {
    let round = walk.round;
    let dir = result.join("accuracy");
    let txt = dir.join("accuracy.txt");
    if !txt.is_file() {
        walk.fail(
            rules::ACC_MISSING_TXT,
            &txt,
            None,
            scope,
            "no accuracy.txt".to_string(),
        );
        return String::new();
    }
    let diff = files_diff(
        &list_files(&dir),
        &[
            "mlperf_log_summary.txt",
            "mlperf_log_detail.txt",
            "accuracy.txt",
            "mlperf_log_accuracy.json",
        ],
        &[],
    );
    if !diff.is_empty() {
        walk.fail(
            rules::ACC_FILE_LIST,
            &dir,
            None,
            scope,
            format!("file list mismatch: {}", diff.join(", ")),
        );
        return String::new();
    }
    let text = match std::fs::read(&txt) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => {
            walk.fail(rules::ACC_MISSING_TXT, &txt, None, scope, e.to_string());
            return String::new();
        }
    };
    // Open division: an accuracy below target is reported, not failed.
    let shortfall = |walk: &mut Walk<'_>, rule: Rule, line: Option<usize>, reason: String| {
        if division == "open" {
            walk.warn(rule, &txt, line, scope, reason);
        } else {
            walk.fail(rule, &txt, line, scope, reason);
        }
    };
    let hash = regex::Regex::new(r"^hash=(\w+)$").ok();
    let mut seen = vec![false; model.accuracy.len()];
    let mut hash_seen = false;
    let mut values: Vec<(String, String)> = Vec::new();
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let line_no = index + 1;
        let bare = line.strip_suffix('\n').unwrap_or(line);
        if hash.as_ref().is_some_and(|h| h.is_match(bare)) {
            hash_seen = true;
        }
        for (i, target) in model.accuracy.iter().enumerate() {
            let Some(found) = round.accuracy_patterns[&target.metric]
                .captures(line)
                .map(|c| c[1].to_string())
            else {
                continue;
            };
            match found.parse::<f64>() {
                Ok(value) if value >= target.target => seen[i] = true,
                Ok(_) => shortfall(
                    walk,
                    rules::ACC_TARGET,
                    Some(line_no),
                    format!(
                        "{} is {found}, the target is {}",
                        target.metric,
                        yardstick_formats::pyfloat::repr(target.target)
                    ),
                ),
                Err(_) => shortfall(
                    walk,
                    rules::ACC_TARGET,
                    Some(line_no),
                    format!("{} is {found:?}, not a number", target.metric),
                ),
            }
            match values.iter_mut().find(|(m, _)| *m == target.metric) {
                Some(slot) => slot.1 = found,
                None => values.push((target.metric.clone(), found)),
            }
        }
        for limit in &model.accuracy_upper_limit {
            if let Some(c) = round.accuracy_patterns[&limit.metric].captures(line) {
                if c[1].parse::<f64>().is_ok_and(|v| v > limit.limit) {
                    shortfall(
                        walk,
                        rules::ACC_UPPER_LIMIT,
                        Some(line_no),
                        format!(
                            "{} is {}, above the limit {}",
                            limit.metric,
                            &c[1],
                            yardstick_formats::pyfloat::repr(limit.limit)
                        ),
                    );
                }
            }
        }
        if seen.iter().all(|s| *s) && hash_seen {
            break;
        }
    }
    for (target, seen) in model.accuracy.iter().zip(&seen) {
        if !seen && !values.iter().any(|(m, _)| *m == target.metric) {
            shortfall(
                walk,
                rules::ACC_METRIC_MISSING,
                None,
                format!("no {} in accuracy.txt", target.metric),
            );
        }
    }
    if !hash_seen {
        walk.fail(
            rules::ACC_HASH,
            &txt,
            None,
            scope,
            "no hash= line for mlperf_log_accuracy.json".to_string(),
        );
    }
    let json = dir.join("mlperf_log_accuracy.json");
    match json.metadata() {
        Err(_) => walk.fail(
            rules::ACC_LOG_MISSING,
            &json,
            None,
            scope,
            "mlperf_log_accuracy.json is missing".to_string(),
        ),
        Ok(m) if m.len() > round.max_accuracy_log_bytes => walk.fail(
            rules::ACC_LOG_NOT_TRUNCATED,
            &json,
            None,
            scope,
            format!(
                "{} bytes: the log must be truncated to at most {} bytes",
                m.len(),
                round.max_accuracy_log_bytes
            ),
        ),
        Ok(_) => {}
    }
    let detail_path = dir.join("mlperf_log_detail.txt");
    match DetailLog::read(&detail_path) {
        Err(e) => walk.fail(
            rules::ACC_LOADGEN_ERROR,
            &detail_path,
            None,
            scope,
            e.to_string(),
        ),
        Ok(log) => {
            for error in &log.errors {
                walk.fail(
                    rules::ACC_LOADGEN_ERROR,
                    &detail_path,
                    Some(error.line),
                    scope,
                    format!("LoadGen error {}: {}", error.key, error.value),
                );
            }
            let total = log.u64("qsl_reported_total_count");
            if total != Some(model.dataset_size) {
                walk.fail(
                    rules::ACC_DATASET_COVERAGE,
                    &detail_path,
                    log.line("qsl_reported_total_count"),
                    scope,
                    format!(
                        "the accuracy run covered {} samples, the dataset has {}",
                        show(total),
                        model.dataset_size
                    ),
                );
            }
        }
    }
    for (folder, stems) in &model.accuracy_extra_files {
        let present = list_files(&dir.join(folder));
        let missing: Vec<&String> = stems
            .iter()
            .filter(|stem| {
                !present
                    .iter()
                    .any(|f| f.split('.').next() == Some(stem.as_str()))
            })
            .collect();
        if !missing.is_empty() {
            walk.fail(
                rules::ACC_EXTRA_FILES,
                &dir.join(folder),
                None,
                scope,
                format!(
                    "missing {folder}: {}",
                    missing
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
    }
    values
        .iter()
        .map(|(m, v)| format!("{m}: {v}"))
        .collect::<Vec<_>>()
        .join("  ")
}

/// Checks `performance/power` and `performance/ranging`, and returns the
/// power metric (W for Offline/Server, mJ per query otherwise).
///
/// Not done here: the Power WG's `power_checker.py` (PTD logs, sources'
/// checksums), which the official checker runs on top.
pub(crate) fn power(
    walk: &mut Walk<'_>,
    result: &Path,
    scenario_fixed: &str,
    _perf: Option<f64>,
    scope: &str,
) -> Option<f64> {
    let perf = result.join("performance");
    let ranging = perf.join("ranging");
    let diff = files_diff(
        &list_files(&ranging),
        &["mlperf_log_summary.txt", "mlperf_log_detail.txt", "spl.txt"],
        &["mlperf_log_accuracy.json"],
    );
    if !diff.is_empty() {
        walk.fail(
            rules::POWER_FILES,
            &ranging,
            None,
            scope,
            format!("file list mismatch: {}", diff.join(", ")),
        );
    }
    let power_dir = perf.join("power");
    let diff = files_diff(
        &list_files(&power_dir),
        &[
            "client.json",
            "client.log",
            "ptd_logs.txt",
            "server.json",
            "server.log",
        ],
        &[],
    );
    if !diff.is_empty() {
        walk.fail(
            rules::POWER_FILES,
            &power_dir,
            None,
            scope,
            format!("file list mismatch: {}", diff.join(", ")),
        );
    }
    // The Power WG's checker, between the file lists and the metric as the
    // official checker runs it.
    super::power::check(walk, &perf, scope);
    let run = perf.join("run_1");
    let detail_path = run.join("mlperf_log_detail.txt");
    let log = DetailLog::read(&detail_path).ok()?;
    let (Some(begin), Some(end)) = (
        log.str("power_begin").and_then(parse_power_time),
        log.str("power_end").and_then(parse_power_time),
    ) else {
        walk.fail(
            rules::POWER_UNREADABLE,
            &detail_path,
            None,
            scope,
            "no readable power_begin/power_end".to_string(),
        );
        return None;
    };
    let spl = run.join("spl.txt");
    let text = std::fs::read_to_string(&spl).unwrap_or_default();
    let samples: Vec<f64> = text
        .lines()
        .filter(|l| l.starts_with("Time"))
        .filter_map(|l| {
            let fields: Vec<&str> = l.split(',').collect();
            let at = parse_power_time(fields.get(1)?)?;
            let watts: f64 = fields.get(3)?.trim().parse().ok()?;
            (at > begin && at < end && watts > 0.0).then_some(watts)
        })
        .collect();
    if samples.is_empty() {
        walk.fail(
            rules::POWER_NO_SAMPLES,
            &spl,
            None,
            scope,
            "no power sample falls between power_begin and power_end".to_string(),
        );
        return None;
    }
    let average = samples.iter().sum::<f64>() / samples.len() as f64;
    match scenario_fixed {
        "Offline" | "Server" | "Interactive" => Some(average),
        _ => {
            let queries = log.f64("result_query_count")?;
            let mut metric = average * (end - begin) * 1000.0 / queries;
            if scenario_fixed == "MultiStream"
                && log.str("effective_scenario") == Some("SingleStream")
            {
                metric *= 8.0;
            }
            Some(metric)
        }
    }
}

/// `%m-%d-%Y %H:%M:%S.%f` as seconds from 1970 (only differences matter).
fn parse_power_time(text: &str) -> Option<f64> {
    let (date, time) = text.trim().split_once(' ')?;
    let mut d = date.split('-');
    let (month, day, year): (i64, i64, i64) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    let mut t = time.split(':');
    let (hour, minute): (i64, i64) = (t.next()?.parse().ok()?, t.next()?.parse().ok()?);
    let second: f64 = t.next()?.parse().ok()?;
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hour * 3600 + minute * 60) as f64 + second)
}

#[cfg(test)]
mod tests {
    use super::parse_power_time;

    #[test]
    fn power_times_compare_across_midnight() {
        let a = parse_power_time("12-31-2025 23:59:59.500").unwrap();
        let b = parse_power_time("01-01-2026 00:00:00.250").unwrap();
        assert!((b - a - 0.75).abs() < 1e-6);
    }
}

//! SLO search: the highest request rate (or concurrency) at which at least
//! a given fraction of requests meet the TTFT and TPOT (or end-to-end)
//! objectives, found as the core's find-peak finds its rate: double from a
//! start until a trial fails, then bisect between the last pass and the
//! first failure down to a relative precision.
//!
//! The search is independent of how a trial runs: the caller runs one
//! point per value asked for and reports how many of its requests met the
//! objectives ([`attainment`]).

use serde::Serialize;

use crate::metrics::Slo;
use crate::record::RequestRecord;

/// What the search varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchAxis {
    /// Requests per second of an open loop.
    Rate,
    /// Users of a closed loop (whole numbers).
    Concurrency,
}

/// How the search goes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SearchConfig {
    pub axis: SearchAxis,
    /// The first value tried.
    pub start: f64,
    /// Fraction of requests that must meet the objectives (0..=1).
    pub attainment: f64,
    /// Bisection stops once `(fail - pass) / pass` is at most this
    /// (concurrency: also once the two are adjacent whole numbers).
    pub precision: f64,
    /// Most trials in all (the answer so far is kept when they run out).
    pub max_trials: usize,
}

/// How many of a trial's requests met the objectives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TrialCount {
    pub met: u64,
    pub issued: u64,
}

/// One trial: the value, its numbers and its verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trial {
    pub value: f64,
    pub met: u64,
    pub issued: u64,
    /// `met / issued` (0 with no request).
    pub attainment: f64,
    pub passed: bool,
    /// `doubling`, `halving` or `bisecting`.
    pub phase: &'static str,
}

/// The search's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchOutcome {
    pub trials: Vec<Trial>,
    /// The highest passing value (none if no trial passed).
    pub answer: Option<f64>,
    /// The lowest failing value above the answer (none if none failed).
    pub lowest_failure: Option<f64>,
    /// Whether the bracket reached the precision before the trials ran out.
    pub converged: bool,
}

/// Requests that succeeded and met every objective, of those issued. A
/// failed request counts as missing them.
pub fn attainment(records: &[RequestRecord], slo: &Slo) -> TrialCount {
    TrialCount {
        met: records.iter().filter(|r| slo.met_by(r)).count() as u64,
        issued: records.len() as u64,
    }
}

/// Milliseconds of `200ms`, `1.5s`, `500us`, `2m` or a bare number (ms).
fn duration_ms(text: &str) -> Option<f64> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let v: f64 = number.parse().ok()?;
    let scale = match unit.trim() {
        "" | "ms" => 1.0,
        "us" | "µs" => 1e-3,
        "ns" => 1e-6,
        "s" => 1e3,
        "m" | "min" => 60e3,
        _ => return None,
    };
    Some(v * scale)
}

/// Parses one `--slo-class NAME:ttft=200ms,tpot=20ms,e2e=2s` (durations
/// in ns, us, ms, s or m; a bare number is milliseconds).
pub fn parse_class_slo(text: &str) -> Result<(String, Slo), crate::error::EndpointError> {
    let bad =
        |why: String| crate::error::EndpointError::Config(format!("--slo-class `{text}`: {why}"));
    let (name, rest) = text
        .split_once(':')
        .ok_or_else(|| bad("expected CLASS:ttft=..,tpot=..,e2e=..".into()))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(bad("no class name".into()));
    }
    let mut slo = Slo::default();
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| bad(format!("`{part}` is not KEY=DURATION")))?;
        let value = value.trim();
        let ms = duration_ms(value)
            .ok_or_else(|| bad(format!("`{value}` is not a duration (200ms, 1.5s, 500us)")))?;
        if !(ms.is_finite() && ms > 0.0) {
            return Err(bad(format!("`{value}` must be positive")));
        }
        match key.trim() {
            "ttft" => slo.ttft_ms = Some(ms),
            "tpot" => slo.tpot_ms = Some(ms),
            "e2e" => slo.e2e_ms = Some(ms),
            other => {
                return Err(bad(format!(
                    "unknown objective `{other}` (ttft, tpot, e2e)"
                )))
            }
        }
    }
    if slo.is_empty() {
        return Err(bad("no objective given".into()));
    }
    Ok((name.to_string(), slo))
}

/// Per request class, how many of its requests met its objectives (its own
/// in `class_slos`, else `slo`). Empty when no record has a class.
pub fn class_attainment(
    records: &[RequestRecord],
    slo: &Slo,
    class_slos: &crate::metrics::ClassSlos,
) -> Vec<(String, TrialCount)> {
    let mut by: std::collections::BTreeMap<&str, TrialCount> = std::collections::BTreeMap::new();
    for r in records {
        let Some(class) = r.class.as_deref() else {
            continue;
        };
        let c = by.entry(class).or_insert(TrialCount { met: 0, issued: 0 });
        c.issued += 1;
        if class_slos.get(class).unwrap_or(slo).met_by(r) {
            c.met += 1;
        }
    }
    by.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// The count a trial is judged by: with request classes, the class with
/// the lowest attainment (so a trial passes only if every class meets its
/// own objectives), else all requests against `slo`.
pub fn trial_attainment(
    records: &[RequestRecord],
    slo: &Slo,
    class_slos: &crate::metrics::ClassSlos,
) -> (TrialCount, Option<String>) {
    let share = |c: &TrialCount| {
        if c.issued > 0 {
            c.met as f64 / c.issued as f64
        } else {
            0.0
        }
    };
    class_attainment(records, slo, class_slos)
        .into_iter()
        .min_by(|a, b| share(&a.1).total_cmp(&share(&b.1)))
        .map_or_else(
            || (attainment(records, slo), None),
            |(name, c)| (c, Some(name)),
        )
}

/// Doubles from `config.start` until a trial fails (halving instead while
/// the start itself fails), then bisects. `trial` runs one point at a value
/// and counts its requests; its error ends the search.
pub fn search<E>(
    config: &SearchConfig,
    mut trial: impl FnMut(f64, usize) -> Result<TrialCount, E>,
) -> Result<SearchOutcome, E> {
    let whole = config.axis == SearchAxis::Concurrency;
    let snap = |v: f64| if whole { v.round().max(1.0) } else { v };
    let mut trials: Vec<Trial> = Vec::new();
    let mut pass: Option<f64> = None;
    let mut fail: Option<f64> = None;
    let mut run = |value: f64, phase: &'static str, trials: &mut Vec<Trial>| -> Result<bool, E> {
        let count = trial(value, trials.len())?;
        let attained = if count.issued > 0 {
            count.met as f64 / count.issued as f64
        } else {
            0.0
        };
        let passed = count.issued > 0 && attained >= config.attainment;
        trials.push(Trial {
            value,
            met: count.met,
            issued: count.issued,
            attainment: attained,
            passed,
            phase,
        });
        Ok(passed)
    };
    let done = |pass: Option<f64>, fail: Option<f64>| match (pass, fail) {
        (Some(p), Some(f)) => {
            f - p <= if whole { 1.0 } else { 0.0 } || (f - p) / p <= config.precision
        }
        _ => false,
    };
    let mut value = snap(config.start);
    // Bracket: a passing value below a failing one.
    while trials.len() < config.max_trials && (pass.is_none() || fail.is_none()) {
        let phase = if pass.is_none() && fail.is_some() {
            "halving"
        } else {
            "doubling"
        };
        if run(value, phase, &mut trials)? {
            pass = Some(value);
            value = snap(value * 2.0);
        } else {
            fail = Some(value);
            if whole && value <= 1.0 {
                break;
            }
            value = snap(value / 2.0);
        }
    }
    while trials.len() < config.max_trials && pass.is_some() && fail.is_some() && !done(pass, fail)
    {
        let (p, f) = (pass.unwrap_or_default(), fail.unwrap_or_default());
        let mid = if whole {
            ((p + f) / 2.0).floor()
        } else {
            (p + f) / 2.0
        };
        if run(mid, "bisecting", &mut trials)? {
            pass = Some(mid);
        } else {
            fail = Some(mid);
        }
    }
    Ok(SearchOutcome {
        converged: done(pass, fail),
        trials,
        answer: pass,
        lowest_failure: fail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A system that meets the objectives up to `capacity`.
    fn threshold(capacity: f64) -> impl FnMut(f64, usize) -> Result<TrialCount, ()> {
        move |v, _| {
            Ok(TrialCount {
                met: if v <= capacity { 100 } else { 50 },
                issued: 100,
            })
        }
    }

    fn config(axis: SearchAxis, start: f64) -> SearchConfig {
        SearchConfig {
            axis,
            start,
            attainment: 0.99,
            precision: 0.02,
            max_trials: 40,
        }
    }

    #[test]
    fn rate_search_brackets_then_bisects_to_the_precision() {
        let out = search(&config(SearchAxis::Rate, 10.0), threshold(137.0)).unwrap();
        let answer = out.answer.unwrap();
        let fail = out.lowest_failure.unwrap();
        assert!(out.converged);
        assert!(answer <= 137.0 && fail > 137.0, "{answer} {fail}");
        assert!((fail - answer) / answer <= 0.02);
        let doubled: Vec<f64> = out
            .trials
            .iter()
            .filter(|t| t.phase == "doubling")
            .map(|t| t.value)
            .collect();
        assert_eq!(doubled, vec![10.0, 20.0, 40.0, 80.0, 160.0]);
    }

    #[test]
    fn a_failing_start_halves_first() {
        let out = search(&config(SearchAxis::Rate, 100.0), threshold(30.0)).unwrap();
        assert_eq!(out.trials[1].phase, "halving");
        let answer = out.answer.unwrap();
        assert!((30.0 / 1.02..=30.0).contains(&answer), "{answer}");
    }

    #[test]
    fn concurrency_search_finds_the_whole_number() {
        let out = search(&config(SearchAxis::Concurrency, 1.0), threshold(6.0)).unwrap();
        assert_eq!(out.answer, Some(6.0));
        assert_eq!(out.lowest_failure, Some(7.0));
        assert!(out.trials.iter().all(|t| t.value.fract() == 0.0));
    }

    #[test]
    fn nothing_passes_gives_no_answer() {
        let out = search(&config(SearchAxis::Concurrency, 4.0), threshold(0.5)).unwrap();
        assert_eq!(out.answer, None);
        assert_eq!(out.lowest_failure, Some(1.0));
    }
}

//! Arrival schedules for the client's open-loop driver, computed before the
//! run starts: constant rate, gamma-distributed gaps with a burstiness
//! factor (vLLM's definition), multi-stage rate ramps, and replayed traces
//! (Mooncake JSONL, the Azure LLM inference CSV) with their request lengths.
//!
//! A schedule is a list of due offsets (ns from the run's origin); the
//! driver sleeps then spins to each one, and latencies count from the due
//! time, so a late send is charged to the server as for the Server
//! scenario.
//!
//! Random schedules draw from a seeded ChaCha8 generator through
//! `rand_distr`: the same seed and version give the same schedule, and the
//! seed is recorded with the run. (They are not meant to reproduce
//! LoadGen's mt19937 schedule; the core's Server scenario does that.)

use std::path::{Path, PathBuf};
use std::time::Duration;

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma};

/// Why a schedule could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ArrivalError {
    #[error("{0}")]
    Config(String),
    #[error("reading the trace {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the gamma distribution (shape {shape}, scale {scale}): {source}")]
    Gamma {
        shape: f64,
        scale: f64,
        #[source]
        source: rand_distr::GammaError,
    },
    #[error(
        "the trace {name} has no valid request line ({skipped} line(s) skipped{first})",
        first = first_skip.as_deref().map(|s| format!("; first: {s}")).unwrap_or_default()
    )]
    EmptyTrace {
        name: String,
        skipped: usize,
        first_skip: Option<String>,
    },
}

/// The request lengths a trace gives for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TraceLengths {
    pub input_tokens: Option<u32>,
    pub output_tokens: Option<u32>,
}

/// A trace line that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedLine {
    /// 1-based line number in the file.
    pub line: usize,
    pub reason: String,
}

/// A precomputed arrival schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// `constant`, `gamma`, `ramp` or `trace`.
    pub arrival: String,
    /// Due offsets from the run's origin, ns, non-decreasing.
    pub due_ns: Vec<u64>,
    /// Per request, the trace's lengths (empty for generated schedules).
    pub lengths: Vec<TraceLengths>,
    /// The rate asked for (a ramp or a trace: its mean rate).
    pub target_rate: f64,
    /// Seed of the random draws, where there were any.
    pub seed: Option<u64>,
    /// Trace lines skipped as malformed.
    pub skipped: Vec<SkippedLine>,
    /// Where a trace came from, for messages.
    pub source: Option<String>,
}

/// One stage of a ramp: `rate` requests/s for `duration`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RampStage {
    pub rate: f64,
    pub duration: Duration,
}

/// Trace file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceFormat {
    /// One JSON object a line: `timestamp` (ms), `input_length`,
    /// `output_length`, `hash_ids`.
    Mooncake,
    /// `TIMESTAMP,ContextTokens,GeneratedTokens` with a header line;
    /// TIMESTAMP a date-time (`2023-11-16 18:15:46.6805900`) or seconds.
    Azure,
}

impl TraceFormat {
    /// `.csv` is Azure's format, anything else Mooncake's JSONL.
    pub fn from_path(path: &Path) -> TraceFormat {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("csv") => TraceFormat::Azure,
            _ => TraceFormat::Mooncake,
        }
    }
}

/// How many requests a generated schedule holds: up to `max_requests`, and
/// only those due before `duration`; at least one of the two is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub duration: Option<Duration>,
    pub max_requests: Option<u64>,
}

impl Limits {
    fn check(&self) -> Result<(), ArrivalError> {
        if self.duration.is_none() && self.max_requests.is_none() {
            return Err(ArrivalError::Config(
                "an open-loop run needs a duration or a request count".into(),
            ));
        }
        Ok(())
    }

    fn admits(&self, count: u64, due_ns: u64) -> bool {
        self.max_requests.is_none_or(|m| count < m)
            && self
                .duration
                .is_none_or(|d| (due_ns as u128) < d.as_nanos())
    }
}

fn check_rate(rate: f64) -> Result<(), ArrivalError> {
    if rate > 0.0 && rate.is_finite() {
        Ok(())
    } else {
        Err(ArrivalError::Config(format!(
            "rate must be positive, got {rate}"
        )))
    }
}

/// Seconds to whole ns, saturating.
fn ns(seconds: f64) -> u64 {
    (seconds * 1e9).round().clamp(0.0, u64::MAX as f64) as u64
}

/// `n` gaps (seconds) between gamma arrivals at `rate` with `burstiness`:
/// shape = burstiness, scale = 1 / (rate * burstiness), so the mean gap is
/// 1/rate and the coefficient of variation 1/sqrt(burstiness) (vLLM's
/// `--burstiness`; 1 is Poisson, below 1 burstier, above 1 more regular).
pub fn gamma_gaps(
    rate: f64,
    burstiness: f64,
    seed: u64,
    n: usize,
) -> Result<Vec<f64>, ArrivalError> {
    let mut draw = GammaGaps::new(rate, burstiness, seed)?;
    Ok((0..n).map(|_| draw.next_gap()).collect())
}

struct GammaGaps {
    dist: Gamma<f64>,
    rng: ChaCha8Rng,
}

impl GammaGaps {
    fn new(rate: f64, burstiness: f64, seed: u64) -> Result<GammaGaps, ArrivalError> {
        check_rate(rate)?;
        if !(burstiness > 0.0 && burstiness.is_finite()) {
            return Err(ArrivalError::Config(format!(
                "burstiness must be positive, got {burstiness}"
            )));
        }
        let (shape, scale) = (burstiness, 1.0 / (rate * burstiness));
        let dist = Gamma::new(shape, scale).map_err(|source| ArrivalError::Gamma {
            shape,
            scale,
            source,
        })?;
        Ok(GammaGaps {
            dist,
            rng: ChaCha8Rng::seed_from_u64(seed),
        })
    }

    fn next_gap(&mut self) -> f64 {
        self.dist.sample(&mut self.rng)
    }
}

impl Schedule {
    fn generated(arrival: &str, due_ns: Vec<u64>, target_rate: f64, seed: Option<u64>) -> Schedule {
        Schedule {
            arrival: arrival.into(),
            due_ns,
            lengths: Vec::new(),
            target_rate,
            seed,
            skipped: Vec::new(),
            source: None,
        }
    }

    pub fn len(&self) -> usize {
        self.due_ns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.due_ns.is_empty()
    }

    /// Mean rate of the schedule: (n - 1) / (last - first due), or 0.
    pub fn mean_rate(&self) -> f64 {
        match (self.due_ns.first(), self.due_ns.last()) {
            (Some(a), Some(b)) if self.due_ns.len() > 1 && b > a => {
                (self.due_ns.len() - 1) as f64 / ((b - a) as f64 / 1e9)
            }
            _ => 0.0,
        }
    }

    /// Request `i` due at `i / rate`.
    pub fn constant(rate: f64, limits: Limits) -> Result<Schedule, ArrivalError> {
        check_rate(rate)?;
        limits.check()?;
        let period = 1.0 / rate;
        let mut due = Vec::new();
        loop {
            let d = ns(due.len() as f64 * period);
            if !limits.admits(due.len() as u64, d) {
                break;
            }
            due.push(d);
        }
        Ok(Schedule::generated("constant", due, rate, None))
    }

    /// Gamma-distributed gaps (see [`gamma_gaps`]); the first request is
    /// due at the origin.
    pub fn gamma(
        rate: f64,
        burstiness: f64,
        seed: u64,
        limits: Limits,
    ) -> Result<Schedule, ArrivalError> {
        limits.check()?;
        let mut draw = GammaGaps::new(rate, burstiness, seed)?;
        let mut due = Vec::new();
        let mut t = 0.0f64;
        loop {
            let d = ns(t);
            if !limits.admits(due.len() as u64, d) {
                break;
            }
            due.push(d);
            t += draw.next_gap();
        }
        Ok(Schedule::generated("gamma", due, rate, Some(seed)))
    }

    /// Stages one after another, each at its own rate for its own
    /// duration: constant gaps within a stage, or gamma gaps with
    /// `burstiness`. `max_requests` caps the whole ramp.
    pub fn ramp(
        stages: &[RampStage],
        burstiness: Option<f64>,
        seed: u64,
        max_requests: Option<u64>,
    ) -> Result<Schedule, ArrivalError> {
        if stages.is_empty() {
            return Err(ArrivalError::Config(
                "a ramp needs at least one stage".into(),
            ));
        }
        let mut due = Vec::new();
        let mut stage_start = 0u64;
        for (k, stage) in stages.iter().enumerate() {
            check_rate(stage.rate)
                .map_err(|e| ArrivalError::Config(format!("ramp stage {}: {e}", k + 1)))?;
            let end = stage_start.saturating_add(stage.duration.as_nanos() as u64);
            // Each stage draws from its own stream, so changing one stage
            // leaves the others' arrivals as they were.
            let mut draw = match burstiness {
                Some(b) => Some(GammaGaps::new(stage.rate, b, seed.wrapping_add(k as u64))?),
                None => None,
            };
            // Offsets within the stage: i / rate (no summed rounding), or
            // the running sum of gamma gaps.
            let mut offset = 0.0f64;
            for i in 0u64.. {
                let t = stage_start.saturating_add(ns(match draw {
                    Some(_) => offset,
                    None => i as f64 / stage.rate,
                }));
                if t >= end || max_requests.is_some_and(|m| due.len() as u64 >= m) {
                    break;
                }
                due.push(t);
                if let Some(g) = &mut draw {
                    offset += g.next_gap();
                }
            }
            stage_start = end;
        }
        let total: f64 = stages.iter().map(|s| s.duration.as_secs_f64()).sum();
        let target = if total > 0.0 {
            due.len() as f64 / total
        } else {
            0.0
        };
        Ok(Schedule::generated(
            "ramp",
            due,
            target,
            burstiness.map(|_| seed),
        ))
    }

    /// Reads a trace file (see [`Schedule::parse_trace`]).
    pub fn from_trace_file(
        path: &Path,
        format: TraceFormat,
        time_scale: f64,
    ) -> Result<Schedule, ArrivalError> {
        let text = std::fs::read_to_string(path).map_err(|source| ArrivalError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Schedule::parse_trace(&text, &path.display().to_string(), format, time_scale)
    }

    /// A trace's requests at their time stamps, relative to the first one
    /// and multiplied by `time_scale` (2 = half the rate). Malformed lines
    /// are skipped and listed in `skipped`; a trace with no valid line is
    /// an error. Requests are sorted by due time (stable).
    pub fn parse_trace(
        text: &str,
        name: &str,
        format: TraceFormat,
        time_scale: f64,
    ) -> Result<Schedule, ArrivalError> {
        if !(time_scale > 0.0 && time_scale.is_finite()) {
            return Err(ArrivalError::Config(format!(
                "--time-scale must be positive, got {time_scale}"
            )));
        }
        let mut rows: Vec<(f64, TraceLengths)> = Vec::new();
        let mut skipped = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            let parsed = match format {
                TraceFormat::Mooncake => parse_mooncake_line(trimmed),
                TraceFormat::Azure => {
                    if rows.is_empty() && skipped.is_empty() && is_azure_header(trimmed) {
                        continue;
                    }
                    parse_azure_line(trimmed)
                }
            };
            match parsed {
                Ok(row) => rows.push(row),
                Err(reason) => skipped.push(SkippedLine {
                    line: line_no,
                    reason,
                }),
            }
        }
        if rows.is_empty() {
            return Err(ArrivalError::EmptyTrace {
                name: name.into(),
                skipped: skipped.len(),
                first_skip: skipped
                    .first()
                    .map(|s| format!("line {}: {}", s.line, s.reason)),
            });
        }
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        let first = rows[0].0;
        let due_ns = rows
            .iter()
            .map(|(t, _)| ns((t - first) * time_scale))
            .collect();
        let mut s = Schedule {
            arrival: "trace".into(),
            due_ns,
            lengths: rows.into_iter().map(|(_, l)| l).collect(),
            target_rate: 0.0,
            seed: None,
            skipped,
            source: Some(name.into()),
        };
        s.target_rate = s.mean_rate();
        Ok(s)
    }

    /// Keeps the first `max_requests` requests and those due before
    /// `duration` (a replayed trace cut short).
    pub fn truncate(&mut self, limits: Limits) {
        let keep = self
            .due_ns
            .iter()
            .enumerate()
            .take_while(|(i, &d)| limits.admits(*i as u64, d))
            .count();
        self.due_ns.truncate(keep);
        if self.lengths.len() > keep {
            self.lengths.truncate(keep);
        }
    }

    /// One line per skipped trace line, `FILE:LINE: reason`.
    pub fn skip_messages(&self) -> Vec<String> {
        let name = self.source.as_deref().unwrap_or("trace");
        self.skipped
            .iter()
            .map(|s| format!("{name}:{}: skipped: {}", s.line, s.reason))
            .collect()
    }
}

fn length_field(v: &serde_json::Value, key: &str) -> Result<Option<u32>, String> {
    match v.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(x) => x
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| format!("`{key}` is not a non-negative integer: {x}")),
    }
}

fn parse_mooncake_line(line: &str) -> Result<(f64, TraceLengths), String> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    if !v.is_object() {
        return Err("not a JSON object".into());
    }
    let ts = match v.get("timestamp") {
        None => return Err("no `timestamp`".into()),
        Some(t) => t
            .as_f64()
            .filter(|t| t.is_finite() && *t >= 0.0)
            .ok_or_else(|| format!("`timestamp` is not a non-negative number of ms: {t}"))?,
    };
    Ok((
        ts / 1e3,
        TraceLengths {
            input_tokens: length_field(&v, "input_length")?,
            output_tokens: length_field(&v, "output_length")?,
        },
    ))
}

fn is_azure_header(line: &str) -> bool {
    line.split(',')
        .next()
        .is_some_and(|f| f.trim().trim_matches('"').eq_ignore_ascii_case("timestamp"))
}

/// Seconds of an Azure time stamp: a date-time (7 fractional digits in the
/// published traces; a `+00:00` or `Z` suffix is accepted) or a number.
fn azure_seconds(field: &str) -> Result<f64, String> {
    let f = field.trim().trim_matches('"');
    if let Ok(x) = f.parse::<f64>() {
        if x.is_finite() && x >= 0.0 {
            return Ok(x);
        }
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(f) {
        return Ok(t.timestamp_micros() as f64 / 1e6);
    }
    let bare = f.trim_end_matches('Z');
    let bare = bare.strip_suffix("+00:00").unwrap_or(bare);
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(bare, fmt) {
            return Ok(t.and_utc().timestamp_micros() as f64 / 1e6);
        }
    }
    Err(format!(
        "TIMESTAMP `{f}` is neither a date-time nor seconds"
    ))
}

fn parse_azure_line(line: &str) -> Result<(f64, TraceLengths), String> {
    let fields: Vec<&str> = line.split(',').collect();
    if fields.len() < 3 {
        return Err(format!(
            "expected TIMESTAMP,ContextTokens,GeneratedTokens, got {} field(s)",
            fields.len()
        ));
    }
    let t = azure_seconds(fields[0])?;
    let count = |s: &str, what: &str| {
        s.trim()
            .trim_matches('"')
            .parse::<u32>()
            .map_err(|e| format!("{what} `{}`: {e}", s.trim()))
    };
    Ok((
        t,
        TraceLengths {
            input_tokens: Some(count(fields[1], "ContextTokens")?),
            output_tokens: Some(count(fields[2], "GeneratedTokens")?),
        },
    ))
}

/// A duration such as `30s`, `500ms`, `2m`, `1h` or `1.5s`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (e.g. 30s, 500ms, 2m)"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1e3,
        "s" | "" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => return Err(format!("`{s}`: unknown unit `{other}` (ms, s, m, h)")),
    };
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(format!("`{s}`: a stage lasts a positive time"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// `RATE:DURATION,...`, e.g. `10:30s,50:30s,100:30s`.
pub fn parse_ramp(spec: &str) -> Result<Vec<RampStage>, ArrivalError> {
    let mut stages = Vec::new();
    for (k, part) in spec
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .enumerate()
    {
        let bad = |why: String| {
            ArrivalError::Config(format!(
                "--ramp stage {} `{part}`: {why} (expected RATE:DURATION, e.g. 50:30s)",
                k + 1
            ))
        };
        let (rate, duration) = part.split_once(':').ok_or_else(|| bad("no `:`".into()))?;
        let rate: f64 = rate
            .trim()
            .parse()
            .map_err(|_| bad(format!("rate `{rate}` is not a number")))?;
        check_rate(rate).map_err(|e| bad(e.to_string()))?;
        let duration = parse_duration(duration).map_err(bad)?;
        stages.push(RampStage { rate, duration });
    }
    if stages.is_empty() {
        return Err(ArrivalError::Config(
            "--ramp needs at least one RATE:DURATION stage".into(),
        ));
    }
    Ok(stages)
}

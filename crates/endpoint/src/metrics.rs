//! Aggregate metrics of a run: percentiles, MLPerf Endpoints' summary fields
//! (`system_tps`, `tps_per_user = 1000 / TPOT p90 ms`, `ttft_p90_ms`),
//! goodput against SLOs, the open-loop delivery check, the token-count
//! cross-check, and the Pareto front of a sweep.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::record::RequestRecord;

/// Percentiles reported for every series (MLPerf Endpoints' keys).
pub const PERCENTILES: [(f64, &str); 5] = [
    (0.50, "50"),
    (0.90, "90"),
    (0.95, "95"),
    (0.99, "99"),
    (0.999, "99.9"),
];

/// Summary statistics of one series (same shape as MLPerf Endpoints'
/// `result_summary.json` rollups; times in ns).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub count: u64,
    pub total: f64,
    pub min: f64,
    pub max: f64,
    pub avg: f64,
    pub median: f64,
    pub std_dev: f64,
    pub percentiles: BTreeMap<String, f64>,
}

impl Stats {
    /// Percentile `p` (0..1) the way LoadGen takes it: `sorted[floor(n p)]`.
    /// `None` for an empty series.
    pub fn from_values(mut v: Vec<f64>) -> Option<Stats> {
        v.retain(|x| x.is_finite());
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let at = |p: f64| v[((n as f64 * p) as usize).min(n - 1)];
        let total: f64 = v.iter().sum();
        let avg = total / n as f64;
        let var = if n > 1 {
            v.iter().map(|x| (x - avg) * (x - avg)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        Some(Stats {
            count: n as u64,
            total,
            min: v[0],
            max: v[n - 1],
            avg,
            median: at(0.5),
            std_dev: var.sqrt(),
            percentiles: PERCENTILES
                .iter()
                .map(|(p, k)| (k.to_string(), at(*p)))
                .collect(),
        })
    }

    pub fn p(&self, key: &str) -> Option<f64> {
        self.percentiles.get(key).copied()
    }
}

/// Service-level objectives for goodput; any left `None` is not checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Slo {
    pub ttft_ms: Option<f64>,
    pub tpot_ms: Option<f64>,
    pub e2e_ms: Option<f64>,
}

impl Slo {
    pub fn is_empty(&self) -> bool {
        self.ttft_ms.is_none() && self.tpot_ms.is_none() && self.e2e_ms.is_none()
    }

    /// A successful request meets every given objective. A request without
    /// a TTFT (not streamed) is judged on its end-to-end latency instead; one
    /// without a TPOT (a single chunk) passes the TPOT objective.
    pub fn met_by(&self, r: &RequestRecord) -> bool {
        if !r.ok() {
            return false;
        }
        let ms = |ns: f64| ns / 1e6;
        if let Some(t) = self.ttft_ms {
            let v = r.ttft_ns().or(r.latency_ns()).map(|v| ms(v as f64));
            if v.is_none_or(|v| v > t) {
                return false;
            }
        }
        if let (Some(t), Some(v)) = (self.tpot_ms, r.tpot_ns()) {
            if ms(v) > t {
                return false;
            }
        }
        if let Some(t) = self.e2e_ms {
            if r.latency_ns().is_none_or(|v| ms(v as f64) > t) {
                return false;
            }
        }
        true
    }
}

/// Requests that met the SLOs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Goodput {
    pub slo: Slo,
    pub requests_meeting_slo: u64,
    /// Of all issued requests.
    pub fraction: f64,
    /// Requests per second meeting the SLO.
    pub goodput_rps: f64,
    /// Output tokens per second of requests meeting the SLO.
    pub goodput_tps: f64,
}

/// Server `usage` against the tokenizer's count, request by request.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TokenCheck {
    /// Requests with both counts.
    pub compared: u64,
    pub mismatched: u64,
    pub total_tokenizer: u64,
    pub total_usage: u64,
    pub max_abs_diff: u64,
    /// The first few mismatches: (seq, tokenizer, usage).
    pub examples: Vec<(u64, u64, u64)>,
}

/// How well an open-loop run delivered its schedule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenLoopReport {
    /// `poisson` (through the core's Server schedule) or `constant`.
    pub arrival: String,
    pub target_rate: f64,
    /// Rate of the schedule as generated (Poisson: a random draw around the
    /// target; its own sampling error is `1/sqrt(n)`).
    pub scheduled_rate: f64,
    /// Rate at which requests actually went out on the wire.
    pub delivered_rate: f64,
    /// `(delivered / target - 1)`, percent.
    pub delivered_vs_target_pct: f64,
    /// `(delivered / scheduled - 1)`, percent: what the client (or a
    /// saturated server, through the connection cap) lost.
    pub delivered_vs_schedule_pct: f64,
    /// Expected relative sampling error of the schedule itself, percent.
    pub schedule_sampling_error_pct: f64,
    /// Time from the due time to the send, per request (ns).
    pub send_wait: Option<Stats>,
    pub requests_waited_over_1ms: u64,
    /// Requests that found every connection busy and queued in the client.
    pub requests_queued_for_connection: u64,
    pub max_in_flight: u64,
    pub max_connections: u64,
    /// Delivered within 1% of the target (constant) or of the drawn
    /// schedule (Poisson), with no request queued for a connection.
    pub kept_up: bool,
    pub verdict: String,
}

/// TTFT split by what the server's prefix cache served
/// (`usage.prompt_tokens_details.cached_tokens`), when any request reported
/// cached tokens.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrefixCacheSplit {
    /// Successful requests that reported a cached-token count.
    pub requests_reporting: u64,
    /// Of those, requests with cached tokens (hits).
    pub hits: u64,
    pub misses: u64,
    /// Cached prompt tokens over all requests.
    pub cached_prompt_tokens: u64,
    /// Cached share of the prompt tokens of the requests that reported both.
    pub cached_token_fraction: Option<f64>,
    /// TTFT of hits (cached > 0) and misses, ns (end-to-end latency for
    /// requests that were not streamed).
    pub ttft_hit: Option<Stats>,
    pub ttft_miss: Option<Stats>,
}

/// Embeddings: vectors per second and per request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmbeddingStats {
    /// Texts in each request.
    pub inputs_per_request: u64,
    /// Vectors received by successful requests.
    pub items: u64,
    /// Vectors per second over the run.
    pub items_per_second: f64,
}

/// The metrics of one request class (`--model-mix`, `--class-field`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassMetrics {
    pub n_samples_issued: u64,
    pub n_samples_completed: u64,
    pub n_samples_failed: u64,
    pub ttft: Option<Stats>,
    pub tpot: Option<Stats>,
    pub latency: Option<Stats>,
    pub ttft_p90_ms: Option<f64>,
    pub tpot_p90_ms: Option<f64>,
    pub e2e_p90_ms: Option<f64>,
    pub total_output_tokens: u64,
    /// Goodput against the class's own SLO (`--slo-class`), else the run's.
    pub goodput: Option<Goodput>,
    pub errors: BTreeMap<String, u64>,
}

/// Per-class SLOs (`--slo-class NAME:ttft=..,tpot=..`); a class without
/// one is held to the run's SLO.
pub type ClassSlos = BTreeMap<String, Slo>;

fn error_key(e: &crate::error::RequestError) -> String {
    match e {
        crate::error::RequestError::HttpStatus { status, .. } => format!("http_{status}"),
        other => other.kind().to_string(),
    }
}

fn goodput_of(records: &[&RequestRecord], slo: &Slo, secs: f64) -> Goodput {
    let issued = records.len();
    let good: Vec<&&RequestRecord> = records.iter().filter(|r| slo.met_by(r)).collect();
    let tokens: u64 = good.iter().filter_map(|r| r.output_tokens()).sum();
    let per_sec = |x: f64| if secs > 0.0 { x / secs } else { 0.0 };
    Goodput {
        slo: *slo,
        requests_meeting_slo: good.len() as u64,
        fraction: if issued > 0 {
            good.len() as f64 / issued as f64
        } else {
            0.0
        },
        goodput_rps: per_sec(good.len() as f64),
        goodput_tps: per_sec(tokens as f64),
    }
}

fn p90_ms(s: &Option<Stats>) -> Option<f64> {
    s.as_ref().and_then(|s| s.p("90")).map(|v| v / 1e6)
}

/// The metrics of each request class among `records` (empty when no record
/// has a class). `secs` is the run's duration, for rates.
pub fn class_metrics(
    records: &[RequestRecord],
    slo: &Slo,
    class_slos: &ClassSlos,
    secs: f64,
) -> BTreeMap<String, ClassMetrics> {
    let mut by_class: BTreeMap<&str, Vec<&RequestRecord>> = BTreeMap::new();
    for r in records {
        if let Some(c) = &r.class {
            by_class.entry(c.as_str()).or_default().push(r);
        }
    }
    by_class
        .into_iter()
        .map(|(name, rs)| {
            let ok: Vec<&RequestRecord> = rs.iter().copied().filter(|r| r.ok()).collect();
            let ttft = Stats::from_values(
                ok.iter()
                    .filter_map(|r| r.ttft_ns())
                    .map(|v| v as f64)
                    .collect(),
            );
            let tpot = Stats::from_values(ok.iter().filter_map(|r| r.tpot_ns()).collect());
            let latency = Stats::from_values(
                ok.iter()
                    .filter_map(|r| r.latency_ns())
                    .map(|v| v as f64)
                    .collect(),
            );
            let class_slo = class_slos.get(name).unwrap_or(slo);
            let mut errors = BTreeMap::new();
            for e in rs.iter().filter_map(|r| r.error.as_ref()) {
                *errors.entry(error_key(e)).or_insert(0) += 1;
            }
            let m = ClassMetrics {
                n_samples_issued: rs.len() as u64,
                n_samples_completed: ok.len() as u64,
                n_samples_failed: (rs.len() - ok.len()) as u64,
                ttft_p90_ms: p90_ms(&ttft),
                tpot_p90_ms: p90_ms(&tpot),
                e2e_p90_ms: p90_ms(&latency),
                ttft,
                tpot,
                latency,
                total_output_tokens: ok.iter().filter_map(|r| r.output_tokens()).sum(),
                goodput: (!class_slo.is_empty()).then(|| goodput_of(&rs, class_slo, secs)),
                errors,
            };
            (name.to_string(), m)
        })
        .collect()
}

/// Everything aggregated from one run's records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Aggregate {
    pub n_samples_issued: u64,
    pub n_samples_completed: u64,
    pub n_samples_failed: u64,
    /// First due time to last completion.
    pub duration_ns: u64,
    pub ttft: Option<Stats>,
    pub tpot: Option<Stats>,
    pub latency: Option<Stats>,
    pub chunk_gap: Option<Stats>,
    pub output_sequence_lengths: Option<Stats>,
    pub input_sequence_lengths: Option<Stats>,
    pub total_output_tokens: u64,
    /// Completed requests per second.
    pub qps: f64,
    /// Output tokens per second (= `system_tps`).
    pub tps: f64,
    pub system_tps: f64,
    /// `1000 / tpot_p90_ms` (MLPerf Endpoints v1.0).
    pub tps_per_user: Option<f64>,
    pub ttft_p90_ms: Option<f64>,
    pub tpot_p90_ms: Option<f64>,
    /// Where output token counts came from: tokenizer, usage or chunks.
    pub token_source: BTreeMap<String, u64>,
    pub token_check: Option<TokenCheck>,
    pub goodput: Option<Goodput>,
    /// Failures by kind.
    pub errors: BTreeMap<String, u64>,
    pub first_error: Option<String>,
    /// Client receive delay: the client's first-token arrival minus the
    /// server's own send stamp (mock server only), ns.
    pub first_token_delay_vs_server: Option<Stats>,
    /// What response arrival times were stamped with: the kernel's receive
    /// time of the data, or the moment the socket read returned.
    pub arrival_stamps: &'static str,
    pub new_connections: u64,
    /// Requests sent again on a fresh connection because the server had
    /// closed the reused one before answering.
    pub retried_after_close: u64,
    /// Time to the first content (or tool-call) token, reasoning excluded,
    /// ns: equal to `ttft` for models that do not reason.
    pub ttft_content: Option<Stats>,
    pub ttft_content_p90_ms: Option<f64>,
    /// Reasoning tokens per request (server's `completion_tokens_details`,
    /// else the tokenizer); none when no request reasoned.
    pub reasoning_tokens: Option<Stats>,
    pub total_reasoning_tokens: u64,
    /// Inter-token latency per token, ns: a chunk of k tokens contributes
    /// k gaps of a k-th of its chunk gap (`chunk_gap` is per chunk).
    pub itl_token: Option<Stats>,
    /// Where each request's tokens per chunk came from: `usage`
    /// (continuous usage stats), `tokenizer` or `chunks` (one per chunk:
    /// then `itl_token` equals `chunk_gap`).
    pub itl_token_source: BTreeMap<String, u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix_cache: Option<PrefixCacheSplit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embeddings: Option<EmbeddingStats>,
    /// Per request class (see [`class_metrics`]); empty without classes.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub classes: BTreeMap<String, ClassMetrics>,
}

fn rate(n: usize, first: Option<Instant>, last: Option<Instant>) -> f64 {
    match (first, last) {
        (Some(a), Some(b)) if n > 1 && b > a => (n - 1) as f64 / (b - a).as_secs_f64(),
        _ => 0.0,
    }
}

impl Aggregate {
    /// Aggregates `records`; `input_tokens` gives a prompt's input length
    /// when known.
    pub fn new(
        records: &[RequestRecord],
        slo: &Slo,
        input_tokens: &dyn Fn(usize) -> Option<u64>,
    ) -> Aggregate {
        let issued = records.len() as u64;
        let ok: Vec<&RequestRecord> = records.iter().filter(|r| r.ok()).collect();
        let completed = ok.len() as u64;
        let start = records.iter().map(|r| r.scheduled).min();
        let end = records.iter().filter_map(|r| r.done).max();
        let duration = match (start, end) {
            (Some(s), Some(e)) => e.saturating_duration_since(s),
            _ => Duration::ZERO,
        };
        let secs = duration.as_secs_f64();
        let per_sec = |x: f64| if secs > 0.0 { x / secs } else { 0.0 };

        let ttft = Stats::from_values(
            ok.iter()
                .filter_map(|r| r.ttft_ns())
                .map(|v| v as f64)
                .collect(),
        );
        let tpot = Stats::from_values(ok.iter().filter_map(|r| r.tpot_ns()).collect());
        let latency = Stats::from_values(
            ok.iter()
                .filter_map(|r| r.latency_ns())
                .map(|v| v as f64)
                .collect(),
        );
        let chunk_gap = Stats::from_values(
            ok.iter()
                .flat_map(|r| r.gaps_ns.iter().map(|&g| g as f64))
                .collect(),
        );
        let osl = Stats::from_values(
            ok.iter()
                .filter_map(|r| r.output_tokens())
                .map(|v| v as f64)
                .collect(),
        );
        let isl = Stats::from_values(
            ok.iter()
                .filter_map(|r| input_tokens(r.sample).or(r.usage.and_then(|u| u.prompt_tokens)))
                .map(|v| v as f64)
                .collect(),
        );
        let total_output_tokens: u64 = ok.iter().filter_map(|r| r.output_tokens()).sum();
        let mut token_source = BTreeMap::new();
        for r in &ok {
            *token_source
                .entry(r.token_source().to_string())
                .or_insert(0) += 1;
        }

        let mut check = TokenCheck::default();
        for r in &ok {
            if let (Some(t), Some(u)) = (r.tokens, r.usage.and_then(|u| u.completion_tokens)) {
                check.compared += 1;
                check.total_tokenizer += t;
                check.total_usage += u;
                if t != u {
                    check.mismatched += 1;
                    check.max_abs_diff = check.max_abs_diff.max(t.abs_diff(u));
                    if check.examples.len() < 10 {
                        check.examples.push((r.seq, t, u));
                    }
                }
            }
        }

        let goodput = (!slo.is_empty()).then(|| {
            let all: Vec<&RequestRecord> = records.iter().collect();
            goodput_of(&all, slo, secs)
        });

        let ttft_content = Stats::from_values(
            ok.iter()
                .filter_map(|r| r.ttft_content_ns())
                .map(|v| v as f64)
                .collect(),
        );
        let reasoning: Vec<u64> = ok.iter().filter_map(|r| r.reasoning_tokens()).collect();
        let total_reasoning_tokens: u64 = reasoning.iter().sum();
        let reasoning_tokens = (total_reasoning_tokens > 0)
            .then(|| Stats::from_values(reasoning.iter().map(|&v| v as f64).collect()))
            .flatten();
        let itl_token = Stats::from_values(ok.iter().flat_map(|r| r.token_gaps_ns()).collect());
        let mut itl_token_source = BTreeMap::new();
        for r in ok.iter().filter(|r| !r.chunk_token_source.is_empty()) {
            *itl_token_source
                .entry(r.chunk_token_source.to_string())
                .or_insert(0) += 1;
        }
        let prefix_cache = prefix_cache_split(&ok);
        let embeddings = records
            .iter()
            .find_map(|r| r.items_sent)
            .map(|inputs_per_request| {
                let items: u64 = ok.iter().filter_map(|r| r.items).sum();
                EmbeddingStats {
                    inputs_per_request,
                    items,
                    items_per_second: per_sec(items as f64),
                }
            });

        let mut errors = BTreeMap::new();
        let mut first_error = None;
        for r in records {
            if let Some(e) = &r.error {
                *errors.entry(error_key(e)).or_insert(0) += 1;
                first_error.get_or_insert_with(|| e.to_string());
            }
        }

        let tpot_p90_ms = tpot.as_ref().and_then(|s| s.p("90")).map(|v| v / 1e6);
        let system_tps = per_sec(total_output_tokens as f64);
        Aggregate {
            n_samples_issued: issued,
            n_samples_completed: completed,
            n_samples_failed: issued - completed,
            duration_ns: duration.as_nanos() as u64,
            ttft_p90_ms: ttft.as_ref().and_then(|s| s.p("90")).map(|v| v / 1e6),
            tps_per_user: tpot_p90_ms.filter(|v| *v > 0.0).map(|v| 1000.0 / v),
            tpot_p90_ms,
            ttft,
            tpot,
            latency,
            chunk_gap,
            output_sequence_lengths: osl,
            input_sequence_lengths: isl,
            total_output_tokens,
            qps: per_sec(completed as f64),
            tps: system_tps,
            system_tps,
            token_source,
            token_check: (check.compared > 0).then_some(check),
            goodput,
            errors,
            first_error,
            first_token_delay_vs_server: Stats::from_values(
                ok.iter()
                    .filter_map(|r| r.first_token_delay_ns())
                    .map(|v| v as f64)
                    .collect(),
            ),
            arrival_stamps: crate::stamped_io::stamp_source(),
            new_connections: records.iter().filter(|r| r.new_connection).count() as u64,
            retried_after_close: records.iter().filter(|r| r.retried).count() as u64,
            ttft_content_p90_ms: p90_ms(&ttft_content),
            ttft_content,
            reasoning_tokens,
            total_reasoning_tokens,
            itl_token,
            itl_token_source,
            prefix_cache,
            embeddings,
            classes: class_metrics(records, slo, &ClassSlos::new(), secs),
        }
    }

    /// Recomputes the per-class metrics with each class's own SLO.
    pub fn set_class_slos(&mut self, records: &[RequestRecord], slo: &Slo, class_slos: &ClassSlos) {
        let secs = self.duration_ns as f64 / 1e9;
        self.classes = class_metrics(records, slo, class_slos, secs);
    }
}

/// TTFT of prefix-cache hits against misses (see [`PrefixCacheSplit`]);
/// none when no request reported a cached-token count, or none reported
/// any cached token (a server that always says 0 has nothing to split).
pub fn prefix_cache_split(ok: &[&RequestRecord]) -> Option<PrefixCacheSplit> {
    let reporting: Vec<(&RequestRecord, u64)> = ok
        .iter()
        .filter_map(|r| r.cached_tokens().map(|c| (*r, c)))
        .collect();
    let cached_prompt_tokens: u64 = reporting.iter().map(|(_, c)| c).sum();
    if cached_prompt_tokens == 0 {
        return None;
    }
    let ttft = |hit: bool| {
        Stats::from_values(
            reporting
                .iter()
                .filter(|(_, c)| (*c > 0) == hit)
                .filter_map(|(r, _)| r.ttft_ns().or(r.latency_ns()))
                .map(|v| v as f64)
                .collect(),
        )
    };
    let (mut cached, mut prompt) = (0u64, 0u64);
    for (r, c) in &reporting {
        if let Some(p) = r.usage.and_then(|u| u.prompt_tokens) {
            cached += c;
            prompt += p;
        }
    }
    let hits = reporting.iter().filter(|(_, c)| *c > 0).count() as u64;
    Some(PrefixCacheSplit {
        requests_reporting: reporting.len() as u64,
        hits,
        misses: reporting.len() as u64 - hits,
        cached_prompt_tokens,
        cached_token_fraction: (prompt > 0).then(|| cached as f64 / prompt as f64),
        ttft_hit: ttft(true),
        ttft_miss: ttft(false),
    })
}

/// Builds the open-loop delivery report from the records of one run.
pub fn open_loop_report(
    records: &[RequestRecord],
    arrival: &str,
    target_rate: f64,
    queued_for_connection: u64,
    max_in_flight: u64,
    max_connections: u64,
) -> OpenLoopReport {
    let n = records.len();
    let scheduled_rate = rate(
        n,
        records.iter().map(|r| r.scheduled).min(),
        records.iter().map(|r| r.scheduled).max(),
    );
    let sent: Vec<Instant> = records.iter().filter_map(|r| r.sent).collect();
    let delivered_rate = rate(
        sent.len(),
        sent.iter().min().copied(),
        sent.iter().max().copied(),
    );
    let send_wait = Stats::from_values(
        records
            .iter()
            .filter_map(|r| r.send_wait_ns())
            .map(|v| v as f64)
            .collect(),
    );
    let waited = records
        .iter()
        .filter(|r| r.send_wait_ns().is_some_and(|w| w > 1_000_000))
        .count() as u64;
    let pct = |a: f64, b: f64| if b > 0.0 { (a / b - 1.0) * 100.0 } else { 0.0 };
    let vs_target = pct(delivered_rate, target_rate);
    let vs_schedule = pct(delivered_rate, scheduled_rate);
    let sampling = if arrival == "poisson" && n > 0 {
        100.0 / (n as f64).sqrt()
    } else {
        0.0
    };
    let p99_wait_ms = send_wait.as_ref().and_then(|s| s.p("99")).unwrap_or(0.0) / 1e6;
    // The rate is judged against the target for a constant rate, and against
    // the drawn schedule for Poisson arrivals (whose own count is random).
    // (Gamma arrivals, ramps and traces: against their own schedule too.)
    let rate_err = if arrival == "constant" {
        vs_target
    } else {
        vs_schedule
    };
    let rate_ok = rate_err.abs() <= 1.0;
    let kept_up = rate_ok && queued_for_connection == 0;
    let late = if waited > 0 {
        format!(
            "; {waited} requests went out more than 1 ms after their due time (p99 {p99_wait_ms:.2} ms), which their latencies include"
        )
    } else {
        String::new()
    };
    let verdict = if queued_for_connection > 0 {
        format!(
            "NOT DELIVERED: the server did not keep up: {queued_for_connection} requests found all {max_connections} connections busy and waited in the client (p99 wait {p99_wait_ms:.2} ms); delivered {delivered_rate:.1} req/s of {target_rate:.1} ({vs_target:+.2}%). Latencies count from the scheduled times, so the wait is charged to the server"
        )
    } else if !rate_ok {
        format!(
            "NOT DELIVERED: delivered {delivered_rate:.1} req/s of a {arrival} schedule of {scheduled_rate:.1} (target {target_rate:.1}, {vs_target:+.2}%): the client or the machine is saturated{late}"
        )
    } else if arrival == "poisson" {
        format!(
            "delivered {delivered_rate:.1} req/s, the Poisson schedule's {scheduled_rate:.1} ({vs_schedule:+.2}%, within 1%), for a target of {target_rate:.1} ({vs_target:+.2}%; the schedule's own sampling error at {n} arrivals is ~{sampling:.1}%){late}"
        )
    } else if arrival != "constant" {
        format!(
            "delivered {delivered_rate:.1} req/s, the {arrival} schedule's {scheduled_rate:.1} ({vs_schedule:+.2}%, within 1%){late}"
        )
    } else {
        format!(
            "delivered {delivered_rate:.1} req/s for a target of {target_rate:.1} ({vs_target:+.2}%, within 1%){late}"
        )
    };
    OpenLoopReport {
        arrival: arrival.to_string(),
        target_rate,
        scheduled_rate,
        delivered_rate,
        delivered_vs_target_pct: vs_target,
        delivered_vs_schedule_pct: vs_schedule,
        schedule_sampling_error_pct: sampling,
        send_wait,
        requests_waited_over_1ms: waited,
        requests_queued_for_connection: queued_for_connection,
        max_in_flight,
        max_connections,
        kept_up,
        verdict,
    }
}

/// Marks the Pareto-optimal points of (system_tps, tps_per_user): a point
/// is on the front if no other point is at least as good on both and
/// strictly better on one.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<bool> {
    let all: Vec<ParetoPoint> = points
        .iter()
        .map(|&(system_tps, tps_per_user)| ParetoPoint {
            system_tps,
            tps_per_user,
            queues: false,
            eligible: true,
        })
        .collect();
    guarded_pareto_front(&all)
}

/// A point of a sweep as the Pareto front sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParetoPoint {
    pub system_tps: f64,
    pub tps_per_user: f64,
    /// Requests queue at this point (see [`queueing_points`]).
    pub queues: bool,
    /// Counts at all (a point where most requests failed does not).
    pub eligible: bool,
}

/// A point is marked as queueing when its TTFT p90 exceeds this multiple
/// of the lowest TTFT p90 of the sweep.
pub const QUEUE_TTFT_RATIO: f64 = 3.0;

/// Which points queue: TTFT p90 more than [`QUEUE_TTFT_RATIO`] times the
/// lowest TTFT p90 among the eligible points. tokens/s per user is
/// measured from the first token on, so it cannot see time spent waiting
/// for the server to start a request; TTFT can. Points without a TTFT
/// (no streaming) are never marked.
pub fn queueing_points(ttft_p90_ms: &[Option<f64>], eligible: &[bool]) -> Vec<bool> {
    let base = ttft_p90_ms
        .iter()
        .zip(eligible)
        .filter(|(_, e)| **e)
        .filter_map(|(t, _)| *t)
        .filter(|t| *t > 0.0)
        .min_by(f64::total_cmp);
    ttft_p90_ms
        .iter()
        .map(|t| match (t, base) {
            (Some(t), Some(b)) => *t > QUEUE_TTFT_RATIO * b,
            _ => false,
        })
        .collect()
}

/// The Pareto front of (system_tps, tps_per_user) with two guards: a point
/// that is not eligible (most requests failed) is never on the front and
/// dominates nothing, and a point that queues cannot dominate one that
/// does not (its tokens/s per user hides the wait before the first token).
pub fn guarded_pareto_front(points: &[ParetoPoint]) -> Vec<bool> {
    let dominates = |x: &ParetoPoint, p: &ParetoPoint| {
        // A queueing point can dominate only another queueing point.
        let may_dominate = !x.queues || p.queues;
        x.eligible
            && may_dominate
            && x.system_tps >= p.system_tps
            && x.tps_per_user >= p.tps_per_user
            && (x.system_tps > p.system_tps || x.tps_per_user > p.tps_per_user)
    };
    points
        .iter()
        .map(|p| p.eligible && !points.iter().any(|x| dominates(x, p)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_loadgen_style() {
        let s = Stats::from_values((1..=100).map(|v| v as f64).collect()).unwrap();
        assert_eq!(s.p("50"), Some(51.0));
        assert_eq!(s.p("90"), Some(91.0));
        assert_eq!(s.p("99.9"), Some(100.0));
        assert_eq!(s.count, 100);
        assert!(Stats::from_values(vec![]).is_none());
    }

    #[test]
    fn pareto() {
        let pts = [(100.0, 50.0), (200.0, 40.0), (150.0, 30.0), (200.0, 40.0)];
        assert_eq!(pareto_front(&pts), vec![true, true, false, true]);
    }

    #[test]
    fn queueing_point_cannot_dominate_and_failed_point_is_off_the_front() {
        // c=1: 10 ms TTFT; c=4 queues (11x the TTFT) with better tokens/s
        // on both axes; c=8 failed mostly.
        let ttft = [Some(10.0), Some(110.0), Some(5.0)];
        let eligible = [true, true, false];
        let queues = queueing_points(&ttft, &eligible);
        // The failed point's low TTFT is not the base.
        assert_eq!(queues, vec![false, true, false]);
        let pts: Vec<ParetoPoint> = [(100.0, 50.0), (300.0, 60.0), (900.0, 90.0)]
            .iter()
            .zip(queues.iter().zip(eligible))
            .map(|(&(a, b), (&q, e))| ParetoPoint {
                system_tps: a,
                tps_per_user: b,
                queues: q,
                eligible: e,
            })
            .collect();
        assert_eq!(guarded_pareto_front(&pts), vec![true, true, false]);
        // Without the guards c=1 would be dominated.
        let plain: Vec<(f64, f64)> = pts.iter().map(|p| (p.system_tps, p.tps_per_user)).collect();
        assert_eq!(pareto_front(&plain), vec![false, false, true]);
    }

    #[test]
    fn tpot_and_tps_per_user() {
        let t0 = Instant::now();
        let mut r = RequestRecord::new(0, 0, t0, true);
        r.first_token = Some(t0 + Duration::from_millis(100));
        r.done = Some(t0 + Duration::from_millis(200));
        r.text_chunks = 11;
        r.tokens = Some(11);
        r.tokens_after_first = Some(10);
        assert_eq!(r.tpot_ns(), Some(10_000_000.0));
        let a = Aggregate::new(&[r], &Slo::default(), &|_| None);
        assert_eq!(a.tpot_p90_ms, Some(10.0));
        assert_eq!(a.tps_per_user, Some(100.0));
        assert_eq!(a.ttft_p90_ms, Some(100.0));
        assert_eq!(a.total_output_tokens, 11);
        assert!((a.system_tps - 55.0).abs() < 1e-6);
    }
}

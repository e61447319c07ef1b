//! A benchmark of one endpoint: the prepared prompts and request bodies,
//! the client, and one function per load pattern, each returning a
//! [`PointResult`] (summary plus every request record).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::header::{HeaderName, HeaderValue, AUTHORIZATION};
use serde::Serialize;
use yardstick_core::log::LogSink;
use yardstick_core::rng::{shuffle, Mt19937};
use yardstick_core::run::clock::wait_until;
use yardstick_core::run::{start_test, RunOptions, TestOutcome};
use yardstick_core::{Scenario, TestSettings};

use crate::api::{ApiKind, RequestOptions, Target};
use crate::arrivals::{Limits, Schedule};
use crate::client::{ExecCtx, Hook, Timeouts};
use crate::dataset::Dataset;
use crate::error::EndpointError;
use crate::metrics::{open_loop_report, Aggregate, OpenLoopReport, Slo};
use crate::record::RequestRecord;
use crate::runtime::{Dispatcher, Job};
use crate::sut::HttpSut;
use crate::template::ChatTemplate;
use crate::tls::TlsTrust;
use crate::tokenize::TokenCounter;
use yardstick_suts::SyntheticLibrary;

/// Where output token counts come from (`--usage`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageMode {
    /// The server's `usage.completion_tokens` where it reports one (exact
    /// for the model's own tokenizer), the tokenizer's count otherwise.
    #[default]
    Prefer,
    /// Always re-count with the tokenizer (servers whose usage is wrong).
    Tokenizer,
    /// Count with the tokenizer and compare with the server's usage,
    /// warning on mismatches; the tokenizer's count is reported.
    Both,
}

/// More than this fraction of failed requests makes a point unusable: it
/// is flagged loudly and never put on the Pareto front.
pub const MOST_FAILED_FRACTION: f64 = 0.5;

/// What to benchmark and how the client behaves.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    pub url: String,
    pub request: RequestOptions,
    /// `(name, value)` headers added to every request.
    pub headers: Vec<(String, String)>,
    /// Sent as `Authorization: Bearer KEY`.
    pub api_key: Option<String>,
    pub timeouts: Timeouts,
    /// Client threads (shards).
    pub threads: usize,
    /// Open-loop and core runs: most connections at once; requests beyond
    /// it wait in the client (and that wait is reported).
    pub max_connections: usize,
    /// Open-loop and core runs: connections opened before timing starts.
    pub prewarm_connections: usize,
    /// Client threads poll the network without sleeping between events:
    /// no wake-up latency in the stamps, at the cost of one busy core per
    /// client thread.
    pub busy_poll: bool,
    pub slo: Slo,
    /// Per-class SLOs (`--slo-class`); other classes are held to `slo`.
    pub class_slos: crate::metrics::ClassSlos,
    /// Where output token counts come from.
    pub usage: UsageMode,
    /// How an `https://` server's certificate is checked.
    pub tls_trust: TlsTrust,
    /// Seed of the prompt order (own drivers).
    pub seed: u64,
}

/// Headers as HTTP types, checked.
pub fn parse_headers(
    headers: &[(String, String)],
    api_key: Option<&str>,
) -> Result<Vec<(HeaderName, HeaderValue)>, EndpointError> {
    let mut out = Vec::new();
    if let Some(k) = api_key {
        out.push((
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {k}"))
                .map_err(|e| EndpointError::Config(format!("API key: {e}")))?,
        ));
    }
    for (k, v) in headers {
        let name = HeaderName::from_bytes(k.trim().as_bytes())
            .map_err(|e| EndpointError::Config(format!("header name `{k}`: {e}")))?;
        let value = HeaderValue::from_str(v.trim())
            .map_err(|e| EndpointError::Config(format!("header `{k}` value: {e}")))?;
        out.push((name, value));
    }
    Ok(out)
}

/// The summary of one measured point, in MLPerf Endpoints' field names
/// (`result_summary.json`) plus yardstick's additions.
#[derive(Debug, Clone, Serialize)]
pub struct PointSummary {
    /// The point's name and output folder (see [`point_label`]).
    pub label: String,
    pub tool: String,
    pub version: String,
    pub url: String,
    pub api: ApiKind,
    pub model: String,
    pub streaming: bool,
    pub dataset: String,
    /// `concurrency`, `constant`, `poisson` or a LoadGen scenario.
    pub load_pattern: String,
    pub concurrency: Option<usize>,
    pub target_rate: Option<f64>,
    #[serde(flatten)]
    pub metrics: Aggregate,
    pub open_loop: Option<OpenLoopReport>,
    pub client: ClientInfo,
    /// LoadGen's verdict for core-driven runs.
    pub mlperf: Option<MlperfInfo>,
    /// More than half the requests failed: the metrics describe only the
    /// few that succeeded, and the point is kept off the Pareto front.
    pub most_requests_failed: bool,
    /// Where output token counts came from (`--usage`).
    pub usage_mode: UsageMode,
    pub warnings: Vec<String>,
    /// Multi-turn sessions: completed and stopped sessions, turns per
    /// session, session durations, TTFT of first and later turns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions: Option<crate::session::SessionSummary>,
}

/// The name (and output folder) of a point of a load pattern: `c4`,
/// `constant-100`, `poisson-100`, or the LoadGen scenario (`offline`,
/// `singlestream`, ...).
pub fn point_label(load_pattern: &str, concurrency: Option<usize>, rate: Option<f64>) -> String {
    match (concurrency, rate) {
        (Some(c), _) => format!("c{c}"),
        (None, Some(r)) => format!("{load_pattern}-{r}"),
        (None, None) => load_pattern.to_ascii_lowercase(),
    }
}

/// The client's own side of a run.
#[derive(Debug, Clone, Serialize)]
pub struct ClientInfo {
    pub threads: usize,
    /// Client threads polled without sleeping (`--busy-poll`); results
    /// compare only between runs of the same mode.
    pub busy_poll: bool,
    pub max_connections: usize,
    pub max_in_flight: u64,
    pub requests_queued_for_connection: u64,
}

/// The core load generator's result of a run.
#[derive(Debug, Clone, Serialize)]
pub struct MlperfInfo {
    pub scenario: String,
    pub mode: String,
    pub result: Option<String>,
    pub valid: bool,
    pub faults: Vec<String>,
}

/// One measured point: the summary and every request.
#[derive(Debug, Clone)]
pub struct PointResult {
    pub summary: PointSummary,
    pub records: Vec<RequestRecord>,
    /// The run's time origin (first due time); reports count ns from it.
    pub origin: Instant,
}

/// Which prompt each request of an open-loop schedule sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleOrder {
    /// The seeded shuffle of the dataset, cycled.
    Shuffled,
    /// Request `i` sends prompt `i` (cycled): a trace's requests with the
    /// prompts built to its lengths.
    InOrder,
}

/// A prepared benchmark: prompts serialized, client threads running.
pub struct Bench {
    pub config: BenchConfig,
    pub dataset: Dataset,
    pub target: Target,
    tokenizer: Option<Arc<TokenCounter>>,
    input_tokens: Vec<Option<u64>>,
    dispatcher: Arc<Dispatcher>,
    order: Arc<Vec<usize>>,
    next_run: std::sync::atomic::AtomicU64,
    /// Multi-turn sessions: every load runs these instead of single prompts.
    sessions: Option<Arc<crate::session::PreparedSessions>>,
}

impl std::fmt::Debug for Bench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bench")
            .field("url", &self.config.url)
            .field("prompts", &self.dataset.len())
            .finish()
    }
}

impl Bench {
    /// Serializes every request body, counts input tokens (with a
    /// tokenizer) and starts the client threads.
    pub fn new(
        config: BenchConfig,
        dataset: Dataset,
        tokenizer: Option<TokenCounter>,
        template: Option<&ChatTemplate>,
    ) -> Result<Bench, EndpointError> {
        if dataset.is_empty() {
            return Err(EndpointError::Config("the dataset has no prompts".into()));
        }
        let target = Target::new(&config.url, config.request.api, &config.request.model)?
            .with_trust(&config.tls_trust)?;
        let tokenizer = tokenizer.map(Arc::new);
        let mut bodies = Vec::with_capacity(dataset.len());
        let mut input_tokens = Vec::with_capacity(dataset.len());
        for (i, p) in dataset.prompts.iter().enumerate() {
            bodies.push(
                config
                    .request
                    .build_body_at(&dataset.prompts, i, template)?,
            );
            let isl = p.input_tokens.map(u64::from).or_else(|| {
                // A session's later turn carries a history: its length is
                // the server's (usage), not its own text's.
                if p.turn.is_some_and(|t| t > 1) {
                    return None;
                }
                let t = tokenizer.as_ref()?;
                match (template, &p.messages, config.request.api) {
                    (Some(tpl), _, ApiKind::Chat | ApiKind::Completions) => tpl
                        .render(&RequestOptions::messages(p))
                        .ok()
                        .and_then(|s| t.count(&s)),
                    (None, Some(m), _) => t.count(
                        &m.iter()
                            .filter_map(|v| v.get("content").and_then(|c| c.as_str()))
                            .collect::<Vec<_>>()
                            .join("\n"),
                    ),
                    _ => t.count(&p.text),
                }
            });
            input_tokens.push(isl);
        }
        if config.request.api == ApiKind::Embeddings && config.request.embedding_inputs > 1 {
            // An embeddings request sends `embedding_inputs` consecutive
            // prompts from its own on (see `build_body_at`).
            let each = std::mem::take(&mut input_tokens);
            input_tokens = (0..each.len())
                .map(|i| {
                    (0..config.request.embedding_inputs)
                        .map(|j| each[(i + j) % each.len()])
                        .sum::<Option<u64>>()
                })
                .collect();
        }
        let headers = parse_headers(&config.headers, config.api_key.as_deref())?;
        let ctx = ExecCtx::new(
            target.clone(),
            config.request.api,
            config.request.stream,
            Arc::new(bodies),
            headers,
            config.timeouts,
        )?;
        let dispatcher = Arc::new(Dispatcher::start(
            ctx,
            config.threads,
            config.max_connections,
            config.busy_poll,
        )?);
        let mut order: Vec<usize> = (0..dataset.len()).collect();
        let mut rng = Mt19937::new(config.seed);
        shuffle(&mut order, &mut rng);
        Ok(Bench {
            config,
            dataset,
            target,
            tokenizer,
            input_tokens,
            dispatcher,
            order: Arc::new(order),
            next_run: std::sync::atomic::AtomicU64::new(1),
            sessions: None,
        })
    }

    /// Runs multi-turn sessions from now on: `plan` over this benchmark's
    /// dataset (the plan's flattened turns, see [`crate::session`]); every
    /// turn of a session goes to its first turn's model. Only the chat API
    /// carries a history; the others are refused.
    pub fn with_sessions(
        mut self,
        plan: crate::session::SessionPlan,
    ) -> Result<Bench, EndpointError> {
        crate::session::same_model_per_session(&plan, &mut self.dataset.prompts);
        let prepared =
            crate::session::PreparedSessions::new(plan, &self.dataset, self.config.request.api)?;
        self.sessions = Some(Arc::new(prepared));
        Ok(self)
    }

    /// The multi-turn sessions this benchmark runs, if any.
    pub fn sessions(&self) -> Option<&crate::session::PreparedSessions> {
        self.sessions.as_deref()
    }

    pub fn dispatcher(&self) -> &Arc<Dispatcher> {
        &self.dispatcher
    }

    pub fn tokenizer(&self) -> Option<&TokenCounter> {
        self.tokenizer.as_deref()
    }

    pub(crate) fn run_id(&self) -> u64 {
        self.next_run.fetch_add(1, Ordering::Relaxed)
    }

    /// Fixed concurrency (closed loop, MLPerf Endpoints' load pattern).
    pub fn run_concurrency(
        &self,
        concurrency: usize,
        duration: Option<Duration>,
        max_requests: Option<u64>,
        warmup: u64,
    ) -> Result<PointResult, EndpointError> {
        if duration.is_none() && max_requests.is_none() {
            return Err(EndpointError::Config(
                "a closed-loop run needs a duration or a request count".into(),
            ));
        }
        if let Some(s) = &self.sessions {
            if warmup > 0 {
                return Err(EndpointError::Config(
                    "warm-up requests do not apply to multi-turn sessions".into(),
                ));
            }
            return crate::session::run_closed_loop(self, s, concurrency, duration, max_requests);
        }
        let run = self.run_id();
        let r = self.dispatcher.run_closed_loop(
            concurrency,
            Arc::clone(&self.order),
            duration,
            max_requests,
            warmup,
            run,
        )?;
        let mut warnings = Vec::new();
        if r.users_finished < r.concurrency {
            warnings.push(format!(
                "{} of {} virtual users had not finished when the run was cut off",
                r.concurrency - r.users_finished,
                r.concurrency
            ));
        }
        Ok(self.finish(
            r.records,
            r.origin,
            "concurrency".into(),
            Some(concurrency),
            None,
            None,
            None,
            concurrency,
            warnings,
        ))
    }

    /// A constant request rate (open loop): request `i` is due at
    /// `origin + i / rate` (see [`Bench::run_schedule`]).
    pub fn run_constant_rate(
        &self,
        rate: f64,
        duration: Option<Duration>,
        max_requests: Option<u64>,
    ) -> Result<PointResult, EndpointError> {
        let schedule = Schedule::constant(
            rate,
            Limits {
                duration,
                max_requests,
            },
        )?;
        self.run_schedule(&schedule, SampleOrder::Shuffled)
    }

    /// An open loop over a precomputed schedule ([`crate::arrivals`]):
    /// request `i` is due at `origin + schedule.due_ns[i]`; a dedicated
    /// thread sleeps then spins to each due time (tokio timers are
    /// millisecond-granular) and hands the request to a client shard.
    /// Latencies count from the due time, so a late send is charged to the
    /// run, and the lateness is reported (`open_loop.send_wait`).
    pub fn run_schedule(
        &self,
        schedule: &Schedule,
        order: SampleOrder,
    ) -> Result<PointResult, EndpointError> {
        if schedule.is_empty() {
            return Err(EndpointError::Config(
                "the arrival schedule has no request".into(),
            ));
        }
        if let Some(s) = &self.sessions {
            return crate::session::run_schedule(self, s, schedule);
        }
        let run = self.run_id();
        self.prewarm();
        let d = &self.dispatcher;
        let queued0 = d.counters.waited_for_slot.load(Ordering::Relaxed);
        d.counters.max_in_flight.store(0, Ordering::Relaxed);
        let done0 = d.done.get();
        let origin = Instant::now() + Duration::from_millis(5);
        let mut submitted = 0u64;
        for &due_ns in &schedule.due_ns {
            let due = origin + Duration::from_nanos(due_ns);
            wait_until(due, yardstick_core::run::clock::DEFAULT_SPIN);
            let i = submitted as usize;
            let sample = match order {
                SampleOrder::Shuffled => self.order[i % self.order.len()],
                SampleOrder::InOrder => i % self.dataset.len(),
            };
            d.submit(Job {
                seq: submitted,
                sample,
                run,
                scheduled: due,
                hook: Hook::None,
            })?;
            submitted += 1;
        }
        let got = d.done.wait_for(
            done0 + submitted,
            self.config.timeouts.total + Duration::from_secs(10),
        );
        let mut warnings = Vec::new();
        if got < done0 + submitted {
            warnings.push(format!(
                "{} requests had not finished when the run was cut off",
                done0 + submitted - got
            ));
        }
        let mut records = d.take_records();
        records.retain(|r| r.run == run);
        records.sort_by_key(|r| r.seq);
        let queued = d.counters.waited_for_slot.load(Ordering::Relaxed) - queued0;
        let report = open_loop_report(
            &records,
            &schedule.arrival,
            schedule.target_rate,
            queued,
            d.counters.max_in_flight.load(Ordering::Relaxed),
            d.max_connections as u64,
        );
        Ok(self.finish(
            records,
            origin,
            schedule.arrival.clone(),
            None,
            Some(schedule.target_rate),
            Some(report),
            None,
            d.max_connections,
            warnings,
        ))
    }

    fn prewarm(&self) {
        if self.config.prewarm_connections > 0 {
            self.dispatcher.prewarm(
                self.config
                    .prewarm_connections
                    .min(self.dispatcher.max_connections),
                self.config.timeouts.connect + Duration::from_secs(1),
            );
        }
    }

    /// A test through the core load generator (any scenario and mode; the
    /// Server scenario is the Poisson open loop): LoadGen's schedule, logs
    /// and result, plus the endpoint metrics of the last run.
    pub fn run_core(
        &self,
        settings: &TestSettings,
        sink: Arc<dyn LogSink>,
        options: &RunOptions,
    ) -> Result<(TestOutcome, PointResult), EndpointError> {
        if self.sessions.is_some() {
            return Err(EndpointError::Config(
                "multi-turn sessions run on the client's own loads (closed loop, constant, gamma, trace, ramp), not through the LoadGen scenarios".into(),
            ));
        }
        self.prewarm();
        let d = &self.dispatcher;
        let queued0 = d.counters.waited_for_slot.load(Ordering::Relaxed);
        d.counters.max_in_flight.store(0, Ordering::Relaxed);
        let sut = HttpSut::new(format!("HttpSUT({})", self.config.url), Arc::clone(d))
            .with_log(Arc::clone(&sink));
        let n = self.dataset.len();
        let qsl = SyntheticLibrary::new(self.dataset.name.clone(), n, n);
        let outcome = start_test(&sut, &qsl, settings, sink, options)
            .map_err(|e| EndpointError::Core(e.to_string()))?;
        // Requests still running after the core gave up on them (a stall)
        // end at their own timeout; wait for their records.
        d.quiesce(self.config.timeouts.total + Duration::from_secs(1));
        // Requests of the last run only (an accuracy run may precede it).
        let mut records = sut.take_records();
        if let Some(last) = records.iter().map(|r| r.run).max() {
            records.retain(|r| r.run == last);
        }
        let origin = records
            .iter()
            .map(|r| r.scheduled)
            .min()
            .unwrap_or_else(Instant::now);
        let scenario = outcome.settings.scenario;
        let queued = d.counters.waited_for_slot.load(Ordering::Relaxed) - queued0;
        let open_loop = (scenario == Scenario::Server).then(|| {
            open_loop_report(
                &records,
                "poisson",
                outcome.settings.target_qps,
                queued,
                d.counters.max_in_flight.load(Ordering::Relaxed),
                d.max_connections as u64,
            )
        });
        let mlperf = MlperfInfo {
            scenario: scenario.to_string(),
            mode: outcome.settings.mode.to_string(),
            result: outcome.result().map(|r| r.result_metric().to_string()),
            valid: outcome.is_valid(),
            faults: outcome.faults.iter().map(|f| f.to_string()).collect(),
        };
        let pattern = if scenario == Scenario::Server {
            "poisson".to_string()
        } else {
            scenario.to_string()
        };
        let rate = (scenario == Scenario::Server).then_some(outcome.settings.target_qps);
        let point = self.finish(
            records,
            origin,
            pattern,
            None,
            rate,
            open_loop,
            Some(mlperf),
            d.max_connections,
            Vec::new(),
        );
        Ok((outcome, point))
    }

    /// Counts output tokens with the tokenizer (after the run, on all
    /// cores, off the measured path) and builds the summary.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn finish(
        &self,
        mut records: Vec<RequestRecord>,
        origin: Instant,
        load_pattern: String,
        concurrency: Option<usize>,
        target_rate: Option<f64>,
        open_loop: Option<OpenLoopReport>,
        mlperf: Option<MlperfInfo>,
        max_connections: usize,
        mut warnings: Vec<String>,
    ) -> PointResult {
        if let Some(t) = &self.tokenizer {
            count_tokens(&mut records, t, self.config.usage);
        }
        for r in &mut records {
            r.prefix_id = self.dataset.prompts.get(r.sample).and_then(|p| p.prefix_id);
        }
        let request = &self.config.request;
        crate::record::annotate_records(
            &mut records,
            &|sample| {
                self.dataset
                    .prompts
                    .get(sample)
                    .and_then(|p| p.class.clone())
            },
            self.tokenizer.as_deref(),
            (request.api == ApiKind::Embeddings).then_some(request.embedding_inputs.max(1) as u64),
        );
        // One --min-tokens for every request; a prompt may carry its own
        // (extend `min_for`), each checked on its own answer.
        let min_for = |sample: usize| {
            self.config
                .request
                .min_tokens
                .or_else(|| self.dataset.prompts.get(sample).and_then(|p| p.min_tokens))
        };
        fail_short_answers(&mut records, &min_for);
        let input = |i: usize| self.input_tokens.get(i).copied().flatten();
        let mut metrics = Aggregate::new(&records, &self.config.slo, &input);
        if !self.config.class_slos.is_empty() {
            metrics.set_class_slos(&records, &self.config.slo, &self.config.class_slos);
        }
        if self.config.usage != UsageMode::Both {
            metrics.token_check = None;
        }
        let most_requests_failed = metrics.n_samples_issued > 0
            && metrics.n_samples_failed as f64
                > MOST_FAILED_FRACTION * metrics.n_samples_issued as f64;
        if most_requests_failed {
            warnings.insert(
                0,
                format!(
                    "MOST REQUESTS FAILED: {} of {} requests failed ({}); this point's metrics describe only the {} that succeeded and it is left off the Pareto front",
                    metrics.n_samples_failed,
                    metrics.n_samples_issued,
                    metrics.first_error.as_deref().unwrap_or(""),
                    metrics.n_samples_completed
                ),
            );
        } else if metrics.n_samples_failed > 0 {
            warnings.push(format!(
                "{} of {} requests failed ({})",
                metrics.n_samples_failed,
                metrics.n_samples_issued,
                metrics.first_error.as_deref().unwrap_or("")
            ));
        }
        if metrics.retried_after_close > 0 {
            warnings.push(format!(
                "{} request(s) were sent again on a fresh connection: the server closed a kept-alive connection before answering (its reconnect is in their latency)",
                metrics.retried_after_close
            ));
        }
        let cut_short = records
            .iter()
            .filter(|r| r.ok() && r.stream && r.output.finish_reason.is_none())
            .count();
        if cut_short > 0 {
            warnings.push(format!(
                "{cut_short} stream(s) ended without a finish_reason (cut short by the server?); --min-tokens N counts answers shorter than N as failed"
            ));
        }
        if let Some(c) = &metrics.token_check {
            if c.mismatched > 0 {
                warnings.push(format!(
                    "token counts disagree: the server's usage differs from the tokenizer on {} of {} requests (usage {} vs tokenizer {} tokens in total, largest difference {})",
                    c.mismatched, c.compared, c.total_usage, c.total_tokenizer, c.max_abs_diff
                ));
            }
        }
        if let Some(o) = &open_loop {
            if !o.kept_up {
                warnings.push(o.verdict.clone());
            }
        }
        if self.config.request.stream && metrics.tpot.is_none() && metrics.n_samples_completed > 0 {
            warnings.push("no request had tokens after its first text chunk: TPOT and tps_per_user are undefined".into());
        }
        let d = &self.dispatcher;
        let summary = PointSummary {
            label: point_label(&load_pattern, concurrency, target_rate),
            tool: "yardstick".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            url: self.config.url.clone(),
            api: self.config.request.api,
            model: self.config.request.model.clone(),
            streaming: self.config.request.stream,
            dataset: self.dataset.name.clone(),
            load_pattern,
            concurrency,
            target_rate,
            metrics,
            open_loop,
            client: ClientInfo {
                threads: d.threads(),
                busy_poll: self.config.busy_poll,
                max_connections,
                max_in_flight: if concurrency.is_some() {
                    concurrency.unwrap_or(0) as u64
                } else {
                    d.counters.max_in_flight.load(Ordering::Relaxed)
                },
                requests_queued_for_connection: 0,
            },
            mlperf,
            most_requests_failed,
            usage_mode: self.config.usage,
            warnings,
            sessions: None,
        };
        let mut summary = summary;
        if let Some(o) = &summary.open_loop {
            summary.client.requests_queued_for_connection = o.requests_queued_for_connection;
        }
        PointResult {
            summary,
            records,
            origin,
        }
    }
}

/// Fills `tokens` and `tokens_after_first` of every successful record,
/// spreading the work over the available cores. With
/// [`UsageMode::Prefer`], a record whose server reported
/// `usage.completion_tokens` keeps that count (`tokens` stays empty) and
/// only its first chunk is tokenized, for the TPOT divisor.
pub fn count_tokens(records: &mut [RequestRecord], t: &TokenCounter, mode: UsageMode) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = records.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        for part in records.chunks_mut(chunk) {
            s.spawn(move || {
                for r in part.iter_mut().filter(|r| r.ok()) {
                    let usage = r.usage.and_then(|u| u.completion_tokens);
                    match (mode, usage) {
                        (UsageMode::Prefer, Some(total)) => {
                            r.tokens = None;
                            if r.stream && r.first_token.is_some() {
                                r.tokens_after_first = t
                                    .count(&r.first_chunk_text)
                                    .map(|first| total.saturating_sub(first));
                            }
                        }
                        _ => {
                            r.tokens = t.count(&r.output.all_text());
                            if r.stream && r.first_token.is_some() {
                                r.tokens_after_first = t.count(&r.text_after_first());
                            }
                        }
                    }
                }
            });
        }
    });
}

/// Marks successful answers with fewer output tokens than their minimum
/// (`min_for(sample)`, from `--min-tokens`) as failed: a server that stops
/// early is not measured as a fast one.
pub fn fail_short_answers(records: &mut [RequestRecord], min_for: &dyn Fn(usize) -> Option<u32>) {
    for r in records.iter_mut().filter(|r| r.ok()) {
        let Some(min) = min_for(r.sample) else {
            continue;
        };
        let got = r.output_tokens().unwrap_or(0);
        if got < u64::from(min) {
            r.error = Some(crate::error::RequestError::TooFewTokens {
                got,
                min,
                source_name: r.token_source().to_string(),
            });
        }
    }
}

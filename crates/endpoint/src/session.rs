//! Multi-turn sessions: conversations where turn k+1 is sent only after
//! turn k's answer arrived, with the history (earlier user turns and the
//! server's actual answers) carried forward, an optional think time between
//! an answer and the next turn, and per-session metrics.
//!
//! A [`SessionPlan`] is built before the run, deterministic in the seed:
//! from a dataset's full conversations ([`SessionPlan::from_dataset`]:
//! ShareGPT `conversations`, or `messages` with several user turns) or
//! synthetic sessions of K turns ([`SyntheticSessions`]). Each turn is one
//! prompt of a flattened dataset (its user text, output length and the
//! think time before it), so the usual per-prompt machinery (output
//! lengths, `--min-tokens` checks, request classes) applies per turn. Only
//! the chat API can carry a history.
//!
//! Scheduling (see [`run_closed_loop`] and [`run_schedule`]): a closed loop
//! of N virtual users runs N sessions at once, each user running one
//! session to its end before starting the next; an open loop starts
//! sessions at the schedule's times, and each later turn is due at the
//! previous answer's end plus the think time. Every turn's latency counts
//! from its due time.
//!
//! An empty answer (no content, or a failed turn) stops its session: the
//! later turns are skipped, the point's warnings say so, and the run goes
//! on.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, RngCore};
use rand_distr::{Distribution, Exp, LogNormal};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::{watch, Semaphore};
use yardstick_core::rng::Mt19937;
use yardstick_core::run::clock::{wait_until, DEFAULT_SPIN};

use crate::api::{ApiKind, RequestOptions};
use crate::arrivals::{parse_duration, Schedule};
use crate::bench::{Bench, PointResult};
use crate::client::{connect, exec_with_body, Connection, ExecCtx, Hook};
use crate::dataset::{synthetic_text, Dataset, Prompt};
use crate::error::EndpointError;
use crate::lengths::{seeded_rng, stream, LengthDistribution};
use crate::metrics::{open_loop_report, Stats};
use crate::record::RequestRecord;
use crate::tokenize::TokenCounter;

/// Streams of the seeded generator used here (the length streams of
/// [`crate::lengths::stream`] are shared with single-turn content, so
/// turn 1 of a synthetic session draws like a synthetic prompt would).
/// Far from the small numbers other modules pick.
pub mod session_stream {
    /// Turns per synthetic session.
    pub const TURNS: u64 = 0x5e55_0001;
    /// Think times.
    pub const THINK: u64 = 0x5e55_0002;
    /// Order of a dataset's conversations.
    pub const ORDER: u64 = 0x5e55_0003;
}

/// Which session and turn a request belongs to (on its record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SessionTurn {
    /// The session's number within the run (0, 1, ...).
    pub session: u64,
    /// The turn, 1-based.
    pub turn: u32,
    /// The session's planned turns.
    pub turns: u32,
}

/// The pause between an answer and the user's next turn.
#[derive(Debug, Clone, PartialEq)]
pub enum ThinkTime {
    Fixed(Duration),
    /// Inclusive bounds.
    Uniform {
        low: Duration,
        high: Duration,
    },
    /// Exponentially distributed with this mean.
    Exponential {
        mean: Duration,
    },
    /// `median` = exp(mu); `sigma` of the underlying normal.
    LogNormal {
        median: Duration,
        sigma: f64,
    },
}

impl Default for ThinkTime {
    fn default() -> Self {
        ThinkTime::Fixed(Duration::ZERO)
    }
}

fn think_error(spec: &str, reason: impl Into<String>) -> EndpointError {
    EndpointError::Config(format!(
        "think time `{spec}`: {}; expected a duration (0, 500ms, 2s), fixed:D, uniform:A..B, exponential:MEAN or lognormal:MEDIAN,SIGMA",
        reason.into()
    ))
}

fn duration_or_zero(spec: &str, s: &str) -> Result<Duration, EndpointError> {
    let s = s.trim();
    if s.trim_end_matches(|c: char| c.is_ascii_alphabetic()) == "0" {
        return Ok(Duration::ZERO);
    }
    parse_duration(s).map_err(|e| think_error(spec, e))
}

impl ThinkTime {
    /// Parses `--think-time`: a duration, or a distribution of durations
    /// in the syntax of the length distributions.
    pub fn parse(spec: &str) -> Result<ThinkTime, EndpointError> {
        let (kind, rest) = match spec.split_once(':') {
            Some((k, r)) => (k.trim(), r),
            None => ("fixed", spec),
        };
        match kind {
            "fixed" => Ok(ThinkTime::Fixed(duration_or_zero(spec, rest)?)),
            "uniform" => {
                let (a, b) = rest
                    .split_once("..")
                    .ok_or_else(|| think_error(spec, "uniform needs A..B"))?;
                let low = duration_or_zero(spec, a)?;
                let high = duration_or_zero(spec, b.trim_start_matches('='))?;
                if low > high {
                    return Err(think_error(spec, "the low bound is above the high bound"));
                }
                Ok(ThinkTime::Uniform { low, high })
            }
            "exponential" => Ok(ThinkTime::Exponential {
                mean: duration_or_zero(spec, rest)?,
            }),
            "lognormal" => {
                let (m, s) = rest
                    .split_once(',')
                    .ok_or_else(|| think_error(spec, "lognormal needs MEDIAN,SIGMA"))?;
                let median = duration_or_zero(spec, m)?;
                let sigma: f64 = s
                    .trim()
                    .parse()
                    .map_err(|_| think_error(spec, format!("sigma `{s}` is not a number")))?;
                if median.is_zero() || !(sigma.is_finite() && sigma >= 0.0) {
                    return Err(think_error(spec, "the median must be > 0 and sigma >= 0"));
                }
                Ok(ThinkTime::LogNormal { median, sigma })
            }
            other => Err(think_error(spec, format!("unknown distribution `{other}`"))),
        }
    }

    /// The spec, as recorded.
    pub fn spec(&self) -> String {
        let d = |d: &Duration| format!("{}ms", d.as_secs_f64() * 1e3);
        match self {
            ThinkTime::Fixed(t) => format!("fixed:{}", d(t)),
            ThinkTime::Uniform { low, high } => format!("uniform:{}..{}", d(low), d(high)),
            ThinkTime::Exponential { mean } => format!("exponential:{}", d(mean)),
            ThinkTime::LogNormal { median, sigma } => format!("lognormal:{},{sigma}", d(median)),
        }
    }

    /// One draw.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Duration {
        let secs = |x: f64| {
            if x.is_finite() && x > 0.0 {
                Duration::from_secs_f64(x.min(1e9))
            } else {
                Duration::ZERO
            }
        };
        match self {
            ThinkTime::Fixed(t) => *t,
            ThinkTime::Uniform { low, high } => {
                let (a, b) = (low.as_nanos() as u64, high.as_nanos() as u64);
                Duration::from_nanos(rng.random_range(a..=b))
            }
            ThinkTime::Exponential { mean } => match Exp::new(1.0 / mean.as_secs_f64()) {
                Ok(e) => secs(e.sample(rng)),
                Err(_) => Duration::ZERO, // a zero mean: no pause
            },
            ThinkTime::LogNormal { median, sigma } => {
                match LogNormal::new(median.as_secs_f64().ln(), *sigma) {
                    Ok(l) => secs(l.sample(rng)),
                    Err(_) => *median,
                }
            }
        }
    }
}

/// One turn of a planned session.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedTurn {
    /// The turn's prompt in the plan's flattened dataset: its user text,
    /// output length and the system prompt (turn 1).
    pub sample: usize,
    /// The pause before this turn, after the previous answer (zero for
    /// turn 1).
    pub think: Duration,
}

/// One planned session.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedSession {
    /// The conversation it came from (dataset row, or synthetic number).
    pub source: usize,
    pub turns: Vec<PlannedTurn>,
}

/// The sessions of a run, in the order they start (cycled when a run
/// starts more sessions than the plan holds).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionPlan {
    pub sessions: Vec<PlannedSession>,
    pub think: ThinkTime,
}

/// Synthetic sessions: `count` sessions of `turns` turns each (drawn),
/// every turn's user text of a drawn input length, asking for a drawn
/// output length.
#[derive(Debug, Clone)]
pub struct SyntheticSessions {
    pub count: usize,
    pub turns: LengthDistribution,
    pub input: LengthDistribution,
    pub output: LengthDistribution,
    /// Also send each drawn output length as `min_tokens`.
    pub exact_output: bool,
    pub think: ThinkTime,
    pub seed: u64,
}

/// The system prompt and the (user text, reference answer) turns of a
/// prompt: its ShareGPT conversation, else its `messages` (string contents;
/// system messages become the system prompt), else its one text.
pub fn conversation_turns(p: &Prompt) -> (Option<String>, Vec<(String, Option<String>)>) {
    if let Some(conv) = &p.conversation {
        return (
            p.system.clone().or_else(|| conv.system.clone()),
            conv.turns
                .iter()
                .map(|t| (t.user.clone(), t.reference.clone()))
                .collect(),
        );
    }
    if let Some(messages) = &p.messages {
        let mut system = p.system.clone();
        let mut turns: Vec<(String, Option<String>)> = Vec::new();
        for m in messages {
            let role = m.get("role").and_then(Value::as_str).unwrap_or("");
            let Some(content) = m.get("content").and_then(Value::as_str) else {
                continue;
            };
            match role {
                "system" | "developer" if turns.is_empty() => {
                    system.get_or_insert_with(|| content.to_string());
                }
                "user" | "human" => turns.push((content.to_string(), None)),
                "assistant" | "gpt" => {
                    if let Some(last) = turns.last_mut() {
                        last.1.get_or_insert_with(|| content.to_string());
                    }
                }
                _ => {}
            }
        }
        return (system, turns);
    }
    (
        p.system.clone(),
        vec![(p.text.clone(), p.reference.clone())],
    )
}

fn draw_thinks(plan: &mut [PlannedSession], think: &ThinkTime, seed: u64) {
    let mut rng = seeded_rng(seed, session_stream::THINK);
    for s in plan {
        for t in s.turns.iter_mut().skip(1) {
            t.think = think.sample(&mut rng);
        }
    }
}

impl SessionPlan {
    /// Sessions from a dataset's conversations, in an order shuffled by
    /// `seed`, and the flattened dataset of their turns. A row whose
    /// conversation has no user turn is left out; a row of one prompt is a
    /// session of one turn. Each turn prompt keeps the row's own output
    /// length and `min_tokens` (and its other per-prompt settings); its
    /// reference is that turn's answer in the dataset.
    pub fn from_dataset(
        dataset: &Dataset,
        think: ThinkTime,
        seed: u64,
    ) -> Result<(Dataset, SessionPlan), EndpointError> {
        let mut prompts = Vec::new();
        let mut sessions = Vec::new();
        for (source, p) in dataset.prompts.iter().enumerate() {
            let (system, turns) = conversation_turns(p);
            if turns.is_empty() {
                continue;
            }
            let mut planned = Vec::with_capacity(turns.len());
            for (k, (user, reference)) in turns.into_iter().enumerate() {
                planned.push(PlannedTurn {
                    sample: prompts.len(),
                    think: Duration::ZERO,
                });
                let mut turn = p.clone();
                turn.text = user;
                turn.reference = reference;
                turn.system = if k == 0 { system.clone() } else { None };
                turn.messages = None;
                turn.conversation = None;
                turn.raw_body = None;
                // Turn 1's length is the row's; later turns carry the
                // history, whose length the server reports.
                turn.input_tokens = if k == 0 { p.input_tokens } else { None };
                turn.turn = Some(k as u32 + 1);
                prompts.push(turn);
            }
            sessions.push(PlannedSession {
                source,
                turns: planned,
            });
        }
        if sessions.is_empty() {
            return Err(EndpointError::Config(format!(
                "the dataset {} has no conversation with a user turn",
                dataset.name
            )));
        }
        // Fisher-Yates on the seed's own stream.
        let mut rng = seeded_rng(seed, session_stream::ORDER);
        for i in (1..sessions.len()).rev() {
            let j = rng.random_range(0..=i);
            sessions.swap(i, j);
        }
        draw_thinks(&mut sessions, &think, seed);
        Ok((
            Dataset {
                name: format!("{} (multi-turn)", dataset.name),
                prompts,
            },
            SessionPlan { sessions, think },
        ))
    }

    /// The longest think time of the plan.
    pub fn max_think(&self) -> Duration {
        self.sessions
            .iter()
            .flat_map(|s| s.turns.iter().map(|t| t.think))
            .max()
            .unwrap_or_default()
    }

    /// Turns in the whole plan.
    pub fn total_turns(&self) -> usize {
        self.sessions.iter().map(|s| s.turns.len()).sum()
    }
}

impl SyntheticSessions {
    /// The dataset name: turns and lengths at a glance.
    pub fn name(&self) -> String {
        format!(
            "synthetic-sessions-turns[{}]-isl[{}]-osl[{}]",
            self.turns.spec(),
            self.input.spec(),
            self.output.spec()
        )
    }

    /// Builds the plan and its flattened dataset. Deterministic in the
    /// seed: turn counts, lengths, texts and think times each come from
    /// their own stream.
    pub fn build(
        &self,
        tokenizer: Option<&TokenCounter>,
    ) -> Result<(Dataset, SessionPlan), EndpointError> {
        if self.count == 0 {
            return Err(EndpointError::Config("0 synthetic sessions".into()));
        }
        let mut turns_rng = seeded_rng(self.seed, session_stream::TURNS);
        let mut in_rng = seeded_rng(self.seed, stream::INPUT_LENGTHS);
        let mut out_rng = seeded_rng(self.seed, stream::OUTPUT_LENGTHS);
        let mut text = Mt19937::new(seeded_rng(self.seed, stream::TEXT).next_u64());
        let mut prompts = Vec::new();
        let mut sessions = Vec::with_capacity(self.count);
        for source in 0..self.count {
            let n = self.turns.sample(&mut turns_rng).max(1);
            let mut planned = Vec::with_capacity(n as usize);
            for k in 0..n {
                let input_len = self.input.sample(&mut in_rng);
                let output_len = self.output.sample(&mut out_rng);
                planned.push(PlannedTurn {
                    sample: prompts.len(),
                    think: Duration::ZERO,
                });
                prompts.push(Prompt {
                    text: synthetic_text(tokenizer, input_len, &mut text)?,
                    max_tokens: Some(output_len),
                    min_tokens: self.exact_output.then_some(output_len),
                    input_tokens: (k == 0).then_some(input_len),
                    turn: Some(k + 1),
                    ..Prompt::default()
                });
            }
            sessions.push(PlannedSession {
                source,
                turns: planned,
            });
        }
        draw_thinks(&mut sessions, &self.think, self.seed);
        Ok((
            Dataset {
                name: self.name(),
                prompts,
            },
            SessionPlan {
                sessions,
                think: self.think.clone(),
            },
        ))
    }
}

/// Gives every later turn of a session its first turn's served model and
/// request class: a conversation stays with one model (a `--model-mix`
/// drawn per prompt would otherwise switch models mid-conversation).
pub fn same_model_per_session(plan: &SessionPlan, prompts: &mut [Prompt]) {
    for s in &plan.sessions {
        let Some(first) = s.turns.first().and_then(|t| prompts.get(t.sample)) else {
            continue;
        };
        let (model, class) = (first.model.clone(), first.class.clone());
        for t in s.turns.iter().skip(1) {
            if let Some(p) = prompts.get_mut(t.sample) {
                p.model.clone_from(&model);
                p.class.clone_from(&class);
            }
        }
    }
}

/// A plan checked against its benchmark: the turn prompts the driver
/// builds bodies from.
#[derive(Debug)]
pub struct PreparedSessions {
    pub plan: SessionPlan,
    prompts: Vec<Prompt>,
}

impl PreparedSessions {
    /// Checks that every planned turn names a prompt of `dataset` (the
    /// plan's flattened dataset, as the benchmark holds it after any
    /// output lengths were filled in) and that the API carries a history.
    pub fn new(
        plan: SessionPlan,
        dataset: &Dataset,
        api: ApiKind,
    ) -> Result<PreparedSessions, EndpointError> {
        if api != ApiKind::Chat {
            return Err(EndpointError::Config(format!(
                "multi-turn sessions need the chat API (--api chat): only chat messages carry the conversation's history, and --api {} has none",
                api.as_str()
            )));
        }
        if plan.sessions.is_empty() {
            return Err(EndpointError::Config("the session plan is empty".into()));
        }
        for s in &plan.sessions {
            if s.turns.is_empty() {
                return Err(EndpointError::Config(format!(
                    "session of conversation {} has no turn",
                    s.source
                )));
            }
            for t in &s.turns {
                if t.sample >= dataset.len() {
                    return Err(EndpointError::Config(format!(
                        "a planned turn names prompt {} of a dataset of {}",
                        t.sample,
                        dataset.len()
                    )));
                }
            }
        }
        Ok(PreparedSessions {
            plan,
            prompts: dataset.prompts.clone(),
        })
    }
}

/// Why a session ended before its last turn's answer.
#[derive(Debug, Clone, PartialEq)]
enum StopReason {
    Empty,
    Failed(String),
    BodyError(String),
}

/// What one session did.
#[derive(Debug, Clone)]
struct SessionOutcome {
    id: u64,
    turns_planned: u32,
    /// Turns answered with content.
    turns_answered: u32,
    /// Turns sent.
    turns_sent: u32,
    stop: Option<StopReason>,
    start: Instant,
    end: Option<Instant>,
}

/// The per-session part of a point's summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionSummary {
    /// Sessions in the plan (a run starts them in order, cycling).
    pub planned_sessions: u64,
    pub sessions_started: u64,
    /// Every turn answered with content.
    pub sessions_completed: u64,
    /// Stopped by an empty answer or a failed turn.
    pub sessions_stopped: u64,
    /// Still running when the run was cut off (their turns done by then
    /// are in the records).
    pub sessions_unfinished: u64,
    /// Turns not sent because their session stopped.
    pub turns_skipped: u64,
    /// Turns sent per session (every started session).
    pub turns_per_session: Option<Stats>,
    /// Completed sessions: first turn's due time to the last answer's end,
    /// ns (think times included).
    pub session_duration: Option<Stats>,
    /// TTFT of first turns, ns.
    pub ttft_first_turn: Option<Stats>,
    /// TTFT of later turns (which carry the history), ns.
    pub ttft_later_turns: Option<Stats>,
    /// Think time between an answer and the next turn, as asked for.
    pub think_time: String,
    /// Durations behind `session_duration` (for the run record's
    /// distribution; not written to the summary file).
    #[serde(skip)]
    pub durations_ns: Vec<u64>,
}

/// How many stopped sessions the warnings name one by one.
const STOP_NOTES: usize = 20;

fn summarize(
    outcomes: &[SessionOutcome],
    records: &[RequestRecord],
    plan: &SessionPlan,
    unfinished: u64,
) -> (SessionSummary, Vec<String>) {
    let mut sorted: Vec<&SessionOutcome> = outcomes.iter().collect();
    sorted.sort_by_key(|o| o.id);
    let mut warnings = Vec::new();
    let mut stopped = 0u64;
    let mut skipped = 0u64;
    for o in &sorted {
        let Some(reason) = &o.stop else { continue };
        stopped += 1;
        let left = o.turns_planned.saturating_sub(o.turns_sent);
        skipped += u64::from(left);
        if stopped as usize <= STOP_NOTES {
            let why = match reason {
                StopReason::Empty => "the server's answer was empty".to_string(),
                StopReason::Failed(e) => format!("the turn failed ({e})"),
                StopReason::BodyError(e) => format!("its request could not be built ({e})"),
            };
            warnings.push(format!(
                "session {} stopped after turn {} of {}: {why}; {left} turn{} skipped",
                o.id,
                o.turns_sent,
                o.turns_planned,
                if left == 1 { "" } else { "s" }
            ));
        }
    }
    if stopped as usize > STOP_NOTES {
        warnings.push(format!(
            "... and {} more sessions stopped",
            stopped as usize - STOP_NOTES
        ));
    }
    if stopped > 0 {
        warnings.push(format!(
            "{stopped} of {} sessions stopped early (empty answer or failed turn); {skipped} turns skipped",
            outcomes.len() as u64 + unfinished
        ));
    }
    if unfinished > 0 {
        warnings.push(format!(
            "{unfinished} sessions had not finished when the run was cut off"
        ));
    }
    let completed: Vec<&&SessionOutcome> = sorted
        .iter()
        .filter(|o| o.stop.is_none() && o.turns_answered == o.turns_planned)
        .collect();
    let durations_ns: Vec<u64> = completed
        .iter()
        .filter_map(|o| {
            o.end
                .map(|e| e.saturating_duration_since(o.start).as_nanos() as u64)
        })
        .collect();
    let ttft = |first: bool| {
        Stats::from_values(
            records
                .iter()
                .filter(|r| r.ok())
                .filter(|r| r.session.is_some_and(|s| (s.turn == 1) == first))
                .filter_map(|r| r.ttft_ns())
                .map(|v| v as f64)
                .collect(),
        )
    };
    let summary = SessionSummary {
        planned_sessions: plan.sessions.len() as u64,
        sessions_started: outcomes.len() as u64 + unfinished,
        sessions_completed: completed.len() as u64,
        sessions_stopped: stopped,
        sessions_unfinished: unfinished,
        turns_skipped: skipped,
        turns_per_session: Stats::from_values(
            sorted.iter().map(|o| f64::from(o.turns_sent)).collect(),
        ),
        session_duration: Stats::from_values(durations_ns.iter().map(|&v| v as f64).collect()),
        ttft_first_turn: ttft(true),
        ttft_later_turns: ttft(false),
        think_time: plan.think.spec(),
        durations_ns,
    };
    (summary, warnings)
}

/// Where a session's turns get their connection.
enum Conns<'a> {
    /// The virtual user's own (closed loop).
    Own(&'a mut Option<Connection>),
    /// The shard's pool, at most `slots` at once (open loop); a turn that
    /// finds every slot taken waits, and that wait is in its latency.
    Pool {
        idle: Arc<Mutex<Vec<Connection>>>,
        slots: Arc<Semaphore>,
        waited: Arc<AtomicU64>,
    },
}

/// What every session task of a run shares.
struct Env {
    ctx: Arc<ExecCtx>,
    request: RequestOptions,
    prepared: Arc<PreparedSessions>,
    run: u64,
    seq: AtomicU64,
    /// Turns finished so far (the main thread watches it for progress).
    turns_done: AtomicU64,
    in_flight: AtomicU64,
    /// Most turns in flight at once.
    max_in_flight: AtomicU64,
}

impl Env {
    fn body(&self, history: &[Value], sample: usize) -> Result<bytes::Bytes, EndpointError> {
        let p = self
            .prepared
            .prompts
            .get(sample)
            .ok_or_else(|| EndpointError::Config(format!("no turn prompt {sample}")))?;
        let mut messages = history.to_vec();
        messages.push(json!({"role": "user", "content": p.text}));
        let mut turn = p.clone();
        turn.messages = Some(messages);
        self.request.build_body(&turn, None)
    }
}

/// What a session task tells the main thread: each turn's record as soon
/// as it is done (so a run cut off keeps them), then the session's outcome.
enum SessionMsg {
    Turn(Box<RequestRecord>),
    Done(SessionOutcome),
}

/// How long before a due time the wait stops sleeping and yields instead.
const YIELD_WINDOW: Duration = Duration::from_millis(2);

/// Waits until `due`: a tokio timer (millisecond-granular: it wakes up to
/// about a millisecond late) to within [`YIELD_WINDOW`] of it, then yields
/// to the shard's other tasks (and its network polling) until it is
/// reached, so a later turn leaves within microseconds of its due time
/// instead of a timer tick after it.
async fn wait_until_due(due: Instant) {
    let now = Instant::now();
    if due <= now {
        return;
    }
    if due - now > YIELD_WINDOW {
        tokio::time::sleep_until((due - YIELD_WINDOW).into()).await;
    }
    while Instant::now() < due {
        tokio::task::yield_now().await;
    }
}

/// Runs one session to its end (or its stop): each turn is due at the
/// previous answer's end plus its think time (turn 1 at `start`), and its
/// body holds the history so far.
async fn drive_session(
    env: &Env,
    id: u64,
    planned: &PlannedSession,
    start: Instant,
    mut conns: Conns<'_>,
    report: &mpsc::Sender<SessionMsg>,
) {
    let turns = planned.turns.len() as u32;
    let mut outcome = SessionOutcome {
        id,
        turns_planned: turns,
        turns_answered: 0,
        turns_sent: 0,
        stop: None,
        start,
        end: None,
    };
    let mut history: Vec<Value> = Vec::new();
    if let Some(system) = planned
        .turns
        .first()
        .and_then(|t| env.prepared.prompts.get(t.sample))
        .and_then(|p| p.system.as_ref())
    {
        history.push(json!({"role": "system", "content": system}));
    }
    let mut due = start;
    for (k, turn) in planned.turns.iter().enumerate() {
        if k > 0 {
            due = outcome.end.unwrap_or_else(Instant::now) + turn.think;
        }
        // Built before the due time: the client's own work is not timed.
        // Turn 1 is the system prompt and the user text alone: the body the
        // benchmark serialized before the run.
        let body = if k == 0 {
            None
        } else {
            match env.body(&history, turn.sample) {
                Ok(b) => Some(b),
                Err(e) => {
                    outcome.stop = Some(StopReason::BodyError(e.to_string()));
                    break;
                }
            }
        };
        wait_until_due(due).await;
        let mut rec = RequestRecord::new(
            env.seq.fetch_add(1, Ordering::Relaxed),
            turn.sample,
            due,
            env.ctx.stream,
        );
        rec.run = env.run;
        rec.session = Some(SessionTurn {
            session: id,
            turn: k as u32 + 1,
            turns,
        });
        outcome.turns_sent += 1;
        let now_in_flight = env.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        env.max_in_flight
            .fetch_max(now_in_flight, Ordering::Relaxed);
        let rec = match &mut conns {
            Conns::Own(conn) => exec_with_body(&env.ctx, conn, rec, &Hook::None, body).await,
            Conns::Pool {
                idle,
                slots,
                waited,
            } => {
                let permit = match Arc::clone(slots).try_acquire_owned() {
                    Ok(p) => Some(p),
                    Err(_) => {
                        waited.fetch_add(1, Ordering::Relaxed);
                        Arc::clone(slots).acquire_owned().await.ok()
                    }
                };
                let mut conn = idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
                let rec = exec_with_body(&env.ctx, &mut conn, rec, &Hook::None, body).await;
                if let Some(c) = conn.filter(|c| !c.is_closed()) {
                    idle.lock().unwrap_or_else(|e| e.into_inner()).push(c);
                }
                drop(permit);
                rec
            }
        };
        env.in_flight.fetch_sub(1, Ordering::Relaxed);
        env.turns_done.fetch_add(1, Ordering::Relaxed);
        outcome.end = rec.done.or(outcome.end);
        let answer = rec.output.content.clone();
        let stop = match &rec.error {
            Some(e) => Some(StopReason::Failed(e.to_string())),
            None if answer.is_empty() => Some(StopReason::Empty),
            None => None,
        };
        let user = env
            .prepared
            .prompts
            .get(turn.sample)
            .map_or(String::new(), |p| p.text.clone());
        // The main thread may have given up on the run: then nobody
        // listens, and the session ends here.
        if report.send(SessionMsg::Turn(Box::new(rec))).is_err() {
            return;
        }
        if let Some(s) = stop {
            outcome.stop = Some(s);
            break;
        }
        outcome.turns_answered += 1;
        history.push(json!({"role": "user", "content": user}));
        history.push(json!({"role": "assistant", "content": answer}));
    }
    let _ = report.send(SessionMsg::Done(outcome));
}

fn env_for(bench: &Bench, prepared: &Arc<PreparedSessions>, run: u64) -> Arc<Env> {
    Arc::new(Env {
        ctx: Arc::clone(&bench.dispatcher().ctx),
        request: bench.config.request.clone(),
        prepared: Arc::clone(prepared),
        run,
        seq: AtomicU64::new(0),
        turns_done: AtomicU64::new(0),
        in_flight: AtomicU64::new(0),
        max_in_flight: AtomicU64::new(0),
    })
}

/// Collects session results until `expected` arrived or no turn finished
/// for `quiet` (a stalled run); returns the results and how many are
/// missing.
fn collect(
    rx: &mpsc::Receiver<SessionMsg>,
    expected: &dyn Fn() -> u64,
    env: &Env,
    quiet: Duration,
) -> (Vec<RequestRecord>, Vec<SessionOutcome>, u64) {
    let mut records = Vec::new();
    let mut outcomes = Vec::new();
    let mut last_progress = (env.turns_done.load(Ordering::Relaxed), Instant::now());
    while (outcomes.len() as u64) < expected() {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(SessionMsg::Turn(r)) => records.push(*r),
            Ok(SessionMsg::Done(o)) => outcomes.push(o),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let done = env.turns_done.load(Ordering::Relaxed);
                if done != last_progress.0 {
                    last_progress = (done, Instant::now());
                } else if last_progress.1.elapsed() > quiet {
                    break;
                }
            }
        }
    }
    let missing = expected().saturating_sub(outcomes.len() as u64);
    (records, outcomes, missing)
}

fn quiet_limit(bench: &Bench, plan: &SessionPlan) -> Duration {
    bench.config.timeouts.total + plan.max_think() + Duration::from_secs(10)
}

/// Adds the session summary and its warnings to a finished point.
fn with_summary(
    mut point: PointResult,
    summary: SessionSummary,
    warnings: Vec<String>,
) -> PointResult {
    point.summary.warnings.extend(warnings);
    point.summary.sessions = Some(summary);
    point
}

/// A closed loop of `concurrency` virtual users, each with its own
/// connection, each running one session to its end before starting the
/// next. Users stop starting sessions at `duration` or after
/// `max_sessions` sessions in all; sessions in progress run to their end.
pub fn run_closed_loop(
    bench: &Bench,
    prepared: &Arc<PreparedSessions>,
    concurrency: usize,
    duration: Option<Duration>,
    max_sessions: Option<u64>,
) -> Result<PointResult, EndpointError> {
    if duration.is_none() && max_sessions.is_none() {
        return Err(EndpointError::Config(
            "a closed-loop run needs a duration or a session count".into(),
        ));
    }
    let concurrency = concurrency.max(1);
    let run = bench.run_id();
    let env = env_for(bench, prepared, run);
    let d = bench.dispatcher();
    let next_session = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::channel();
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let (go_tx, go_rx) = watch::channel::<Option<Option<Instant>>>(None);
    for u in 0..concurrency {
        let (env, next_session, tx, ready_tx) = (
            Arc::clone(&env),
            Arc::clone(&next_session),
            tx.clone(),
            ready_tx.clone(),
        );
        let mut go = go_rx.clone();
        d.shard_handle(u).spawn(async move {
            let mut conn: Option<Connection> = match tokio::time::timeout(
                env.ctx.timeouts.connect,
                connect(&env.ctx.target),
            )
            .await
            {
                Ok(Ok(c)) => Some(c),
                _ => None, // the first turn reconnects and records the failure
            };
            let _ = ready_tx.send(());
            let deadline = loop {
                if let Some(v) = *go.borrow_and_update() {
                    break v;
                }
                if go.changed().await.is_err() {
                    return;
                }
            };
            let sessions = &env.prepared.plan.sessions;
            loop {
                if deadline.is_some_and(|dl| Instant::now() >= dl) {
                    break;
                }
                let i = next_session.fetch_add(1, Ordering::Relaxed);
                if max_sessions.is_some_and(|m| i >= m) {
                    break;
                }
                let planned = &sessions[i as usize % sessions.len()];
                drive_session(&env, i, planned, Instant::now(), Conns::Own(&mut conn), &tx).await;
            }
        });
    }
    drop((tx, ready_tx));
    let connect_limit = bench.config.timeouts.connect + Duration::from_secs(5);
    for _ in 0..concurrency {
        if ready_rx.recv_timeout(connect_limit).is_err() {
            break;
        }
    }
    let origin = Instant::now();
    let _ = go_tx.send(Some(duration.map(|dur| origin + dur)));
    // Every user drops its sender when it stops starting sessions and its
    // last one ended: the channel then closes.
    let (mut records, outcomes, _) =
        collect(&rx, &|| u64::MAX, &env, quiet_limit(bench, &prepared.plan));
    records.sort_by_key(|r| r.seq);
    // The counter is checked against the limit after it is taken: sessions
    // numbered at or past the limit never started.
    let started = next_session
        .load(Ordering::Relaxed)
        .min(max_sessions.unwrap_or(u64::MAX));
    let missing = started.saturating_sub(outcomes.len() as u64);
    let (summary, warnings) = summarize(&outcomes, &records, &prepared.plan, missing);
    let point = bench.finish(
        records,
        origin,
        "concurrency".into(),
        Some(concurrency),
        None,
        None,
        None,
        concurrency,
        Vec::new(),
    );
    Ok(with_summary(point, summary, warnings))
}

/// An open loop: session `i` starts at `origin + schedule.due_ns[i]` (a
/// dedicated thread sleeps then spins to each start and hands the session
/// to a client shard); each later turn is due at the previous answer's end
/// plus its think time. Turns share the shard's connections, at most the
/// client's connection limit at once.
pub fn run_schedule(
    bench: &Bench,
    prepared: &Arc<PreparedSessions>,
    schedule: &Schedule,
) -> Result<PointResult, EndpointError> {
    if schedule.is_empty() {
        return Err(EndpointError::Config(
            "the arrival schedule has no session start".into(),
        ));
    }
    let run = bench.run_id();
    let env = env_for(bench, prepared, run);
    let d = bench.dispatcher();
    let threads = d.threads();
    let slots = Arc::new(Semaphore::new(d.max_connections.max(1)));
    let waited = Arc::new(AtomicU64::new(0));
    let pools: Vec<Arc<Mutex<Vec<Connection>>>> = (0..threads)
        .map(|_| Arc::new(Mutex::new(Vec::new())))
        .collect();
    prewarm(bench, &pools);
    let (tx, rx) = mpsc::channel();
    let origin = Instant::now() + Duration::from_millis(5);
    for (i, &due_ns) in schedule.due_ns.iter().enumerate() {
        let due = origin + Duration::from_nanos(due_ns);
        wait_until(due, DEFAULT_SPIN);
        let conns_idle = Arc::clone(&pools[i % threads]);
        let (env, tx, slots, waited) = (
            Arc::clone(&env),
            tx.clone(),
            Arc::clone(&slots),
            Arc::clone(&waited),
        );
        d.shard_handle(i).spawn(async move {
            let conns = Conns::Pool {
                idle: conns_idle,
                slots,
                waited,
            };
            let sessions = &env.prepared.plan.sessions;
            let planned = &sessions[i % sessions.len()];
            drive_session(&env, i as u64, planned, due, conns, &tx).await;
        });
    }
    drop(tx);
    let expected = schedule.len() as u64;
    let (mut records, outcomes, missing) =
        collect(&rx, &|| expected, &env, quiet_limit(bench, &prepared.plan));
    records.sort_by_key(|r| r.seq);
    let (summary, warnings) = summarize(&outcomes, &records, &prepared.plan, missing);
    // The arrival process is the sessions' starts: the delivery report
    // judges first turns against the schedule.
    let firsts: Vec<RequestRecord> = records
        .iter()
        .filter(|r| r.session.is_some_and(|s| s.turn == 1))
        .cloned()
        .collect();
    let report = open_loop_report(
        &firsts,
        &schedule.arrival,
        schedule.target_rate,
        waited.load(Ordering::Relaxed),
        env.max_in_flight.load(Ordering::Relaxed),
        d.max_connections as u64,
    );
    let point = bench.finish(
        records,
        origin,
        schedule.arrival.clone(),
        None,
        Some(schedule.target_rate),
        Some(report),
        None,
        d.max_connections,
        Vec::new(),
    );
    Ok(with_summary(point, summary, warnings))
}

/// Opens the benchmark's prewarm connections into the shards' session
/// pools (connections live on the runtime that opened them).
fn prewarm(bench: &Bench, pools: &[Arc<Mutex<Vec<Connection>>>]) {
    let d = bench.dispatcher();
    let n = bench.config.prewarm_connections.min(d.max_connections);
    if n == 0 {
        return;
    }
    let (tx, rx) = mpsc::channel::<()>();
    for k in 0..n {
        let pool = Arc::clone(&pools[k % pools.len()]);
        let ctx = Arc::clone(&d.ctx);
        let tx = tx.clone();
        d.shard_handle(k).spawn(async move {
            if let Ok(Ok(c)) =
                tokio::time::timeout(ctx.timeouts.connect, connect(&ctx.target)).await
            {
                pool.lock().unwrap_or_else(|e| e.into_inner()).push(c);
            }
            let _ = tx.send(());
        });
    }
    drop(tx);
    let limit = Instant::now() + bench.config.timeouts.connect + Duration::from_secs(1);
    for _ in 0..n {
        let left = limit.saturating_duration_since(Instant::now());
        if rx.recv_timeout(left).is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn think_time_specs() {
        let ms = Duration::from_millis;
        assert_eq!(
            ThinkTime::parse("0").unwrap(),
            ThinkTime::Fixed(Duration::ZERO)
        );
        assert_eq!(
            ThinkTime::parse("500ms").unwrap(),
            ThinkTime::Fixed(ms(500))
        );
        assert_eq!(
            ThinkTime::parse("fixed:2s").unwrap(),
            ThinkTime::Fixed(ms(2000))
        );
        assert_eq!(
            ThinkTime::parse("uniform:1s..3s").unwrap(),
            ThinkTime::Uniform {
                low: ms(1000),
                high: ms(3000)
            }
        );
        assert_eq!(
            ThinkTime::parse("exponential:2s").unwrap(),
            ThinkTime::Exponential { mean: ms(2000) }
        );
        assert_eq!(
            ThinkTime::parse("lognormal:1s,0.5").unwrap(),
            ThinkTime::LogNormal {
                median: ms(1000),
                sigma: 0.5
            }
        );
        for bad in [
            "uniform:3s..1s",
            "gauss:1s",
            "2 parsecs",
            "lognormal:0,1",
            "uniform:1s",
        ] {
            let e = ThinkTime::parse(bad).unwrap_err().to_string();
            assert!(e.contains(&format!("think time `{bad}`")), "{e}");
        }
        let mut rng = seeded_rng(1, 1);
        let u = ThinkTime::parse("uniform:10ms..20ms").unwrap();
        for _ in 0..100 {
            let d = u.sample(&mut rng);
            assert!(d >= ms(10) && d <= ms(20), "{d:?}");
        }
        let e = ThinkTime::parse("exponential:10ms").unwrap();
        let mean = (0..2000)
            .map(|_| e.sample(&mut rng).as_secs_f64())
            .sum::<f64>()
            / 2000.0;
        assert!((mean - 0.010).abs() < 0.002, "{mean}");
    }

    fn spec(seed: u64) -> SyntheticSessions {
        SyntheticSessions {
            count: 20,
            turns: LengthDistribution::Uniform { low: 1, high: 5 },
            input: LengthDistribution::Fixed(8),
            output: LengthDistribution::Uniform { low: 4, high: 9 },
            exact_output: true,
            think: ThinkTime::parse("uniform:0ms..100ms").unwrap(),
            seed,
        }
    }

    #[test]
    fn synthetic_sessions_are_seeded() {
        let (d1, p1) = spec(3).build(None).unwrap();
        let (d2, p2) = spec(3).build(None).unwrap();
        let (d3, p3) = spec(4).build(None).unwrap();
        assert_eq!(d1.prompts, d2.prompts);
        assert_eq!(p1, p2);
        assert_ne!(p1, p3);
        assert_ne!(d1.prompts, d3.prompts);
        assert_eq!(d1.len(), p1.total_turns());
        let counts: Vec<usize> = p1.sessions.iter().map(|s| s.turns.len()).collect();
        assert!(counts.iter().all(|&n| (1..=5).contains(&n)), "{counts:?}");
        assert!(counts.iter().any(|&n| n != counts[0]), "{counts:?}");
        for s in &p1.sessions {
            assert_eq!(s.turns[0].think, Duration::ZERO);
            for (k, t) in s.turns.iter().enumerate() {
                let p = &d1.prompts[t.sample];
                assert_eq!(p.turn, Some(k as u32 + 1));
                assert_eq!(p.text.split(' ').count(), 8);
                assert_eq!(p.min_tokens, p.max_tokens);
                // Only turn 1's input length is the prompt's own.
                assert_eq!(p.input_tokens.is_some(), k == 0);
            }
        }
        assert!(p1.max_think() <= Duration::from_millis(100));
        assert!(p1.max_think() > Duration::ZERO);
    }

    #[test]
    fn dataset_conversations_become_sessions() {
        let sharegpt = Prompt {
            text: "q1".into(),
            conversation: Some(crate::dataset::sharegpt_conversation(&[
                json!({"from": "system", "value": "sys"}),
                json!({"from": "human", "value": "q1"}),
                json!({"from": "gpt", "value": "a1"}),
                json!({"from": "human", "value": "q2"}),
            ])),
            max_tokens: Some(7),
            ..Prompt::default()
        };
        let messages = Prompt {
            messages: Some(vec![
                json!({"role": "user", "content": "m1"}),
                json!({"role": "assistant", "content": "r1"}),
                json!({"role": "user", "content": "m2"}),
                json!({"role": "user", "content": "m3"}),
            ]),
            ..Prompt::default()
        };
        let single = Prompt {
            text: "only".into(),
            system: Some("s".into()),
            ..Prompt::default()
        };
        let empty = Prompt {
            messages: Some(vec![json!({"role": "system", "content": "x"})]),
            ..Prompt::default()
        };
        let ds = Dataset {
            name: "d".into(),
            prompts: vec![sharegpt, messages, single, empty],
        };
        let (flat, plan) = SessionPlan::from_dataset(&ds, ThinkTime::default(), 9).unwrap();
        assert_eq!(
            plan.sessions.len(),
            3,
            "the row without a user turn is left out"
        );
        let mut by_source: Vec<&PlannedSession> = plan.sessions.iter().collect();
        by_source.sort_by_key(|s| s.source);
        let texts = |s: &PlannedSession| -> Vec<String> {
            s.turns
                .iter()
                .map(|t| flat.prompts[t.sample].text.clone())
                .collect()
        };
        assert_eq!(texts(by_source[0]), ["q1", "q2"]);
        assert_eq!(texts(by_source[1]), ["m1", "m2", "m3"]);
        assert_eq!(texts(by_source[2]), ["only"]);
        let first = &flat.prompts[by_source[0].turns[0].sample];
        assert_eq!(first.system.as_deref(), Some("sys"));
        assert_eq!(first.reference.as_deref(), Some("a1"));
        assert_eq!(first.max_tokens, Some(7));
        let second = &flat.prompts[by_source[0].turns[1].sample];
        assert_eq!(second.system, None);
        assert_eq!(second.max_tokens, Some(7));
        assert_eq!(
            flat.prompts[by_source[1].turns[0].sample]
                .reference
                .as_deref(),
            Some("r1")
        );
        assert_eq!(
            flat.prompts[by_source[2].turns[0].sample].system.as_deref(),
            Some("s")
        );
        // Same seed, same order.
        let (_, again) = SessionPlan::from_dataset(&ds, ThinkTime::default(), 9).unwrap();
        assert_eq!(plan, again);
        let none = Dataset {
            name: "e".into(),
            prompts: vec![ds.prompts[3].clone()],
        };
        let e = SessionPlan::from_dataset(&none, ThinkTime::default(), 1).unwrap_err();
        assert!(
            e.to_string().contains("no conversation with a user turn"),
            "{e}"
        );
    }
}

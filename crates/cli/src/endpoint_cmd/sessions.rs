//! `yardstick endpoint`'s multi-turn sessions (`--multi-turn` over a
//! dataset's conversations, `--turns K` for synthetic sessions,
//! `--think-time`): the flags, their checks, the session plan, the printed
//! summary line and the record settings. The sessions themselves run in
//! `yardstick_endpoint::session`.

use anyhow::{bail, Context, Result};
use clap::Args;
use yardstick_endpoint::datafile;
use yardstick_endpoint::lengths::{LengthDistribution, LengthSide};
use yardstick_endpoint::session::{SessionPlan, SessionSummary, SyntheticSessions, ThinkTime};
use yardstick_endpoint::{ApiKind, Bench, Dataset, TokenCounter};
use yardstick_pipeline::record::{SettingRecord, SettingSource as RecordSource};

use super::{EndpointArgs, FormatArg, LoadArg};

/// Multi-turn session flags of `yardstick endpoint`.
#[derive(Debug, Args)]
pub struct SessionArgs {
    /// Multi-turn sessions from --dataset's conversations (ShareGPT
    /// `conversations`, or `messages` with several user turns): turn k+1 is
    /// sent once turn k's answer has arrived, with the history and the
    /// server's own answers. --requests then counts sessions. Chat API only.
    #[arg(long, requires = "dataset")]
    pub multi_turn: bool,
    /// Synthetic multi-turn sessions of K turns: N or a distribution as for
    /// --input-tokens (uniform:2..8, ...). Each turn's user text is
    /// --input-tokens long and asks for --output-tokens; --synthetic
    /// sessions are planned; --requests counts sessions. Chat API only.
    #[arg(long, value_name = "K", conflicts_with_all = ["dataset", "multi_turn"])]
    pub turns: Option<String>,
    /// Multi-turn sessions: the pause between an answer and the next turn:
    /// a duration (2s, 500ms) or fixed:D, uniform:A..B, exponential:MEAN,
    /// lognormal:MEDIAN,SIGMA, drawn from --seed (default 0).
    #[arg(long, value_name = "D")]
    pub think_time: Option<String>,
}

impl SessionArgs {
    pub fn enabled(&self) -> bool {
        self.multi_turn || self.turns.is_some()
    }
}

/// A session plan and the flattened dataset of its turns.
pub struct Prepared {
    pub dataset: Dataset,
    pub plan: SessionPlan,
    /// For the run record (dataset rows skipped).
    pub notes: Vec<String>,
}

/// Checks the flags that go with sessions, and builds the plan when
/// sessions are asked for.
pub fn prepare(args: &EndpointArgs, tok: Option<&TokenCounter>) -> Result<Option<Prepared>> {
    let s = &args.sessions;
    if !s.enabled() {
        if s.think_time.is_some() {
            bail!("--think-time goes with multi-turn sessions (--multi-turn or --turns)");
        }
        return Ok(None);
    }
    let api: ApiKind = args.api.into();
    if api != ApiKind::Chat {
        bail!(
            "multi-turn sessions need --api chat: only chat messages carry a conversation's history (--api {} has none)",
            api.as_str()
        );
    }
    if matches!(args.load, LoadArg::Poisson | LoadArg::Scenario) {
        bail!(
            "multi-turn sessions run on the client's own loads (--load concurrency, constant, gamma, trace or ramp), not LoadGen's scenarios; for Poisson session starts use --load gamma --burstiness 1"
        );
    }
    if args.warmup > 0 {
        bail!("--warmup does not apply to multi-turn sessions");
    }
    if args.shared_prefixes.is_some() {
        bail!("--shared-prefixes does not apply to multi-turn sessions (a session's history is its shared prefix)");
    }
    let think = match &s.think_time {
        Some(spec) => ThinkTime::parse(spec).context("--think-time")?,
        None => ThinkTime::default(),
    };
    if s.multi_turn {
        let Some(path) = &args.dataset else {
            bail!("--multi-turn needs --dataset (or --turns K for synthetic sessions)");
        };
        let format = args.dataset_format.map(|f| match f {
            FormatArg::Jsonl => datafile::DataFileFormat::Jsonl,
            FormatArg::Sharegpt => datafile::DataFileFormat::ShareGpt,
            FormatArg::Parquet => datafile::DataFileFormat::Parquet,
            FormatArg::Arrow => datafile::DataFileFormat::Arrow,
        });
        let loaded = datafile::load(path, format, args.prompt_field.as_deref())
            .with_context(|| format!("loading the dataset {}", path.display()))?;
        let mut notes: Vec<String> = loaded.skip_note().into_iter().collect();
        for n in &notes {
            eprintln!("yardstick: warning: {n}");
        }
        // Classes from the conversations' rows: every turn keeps its row's.
        let conversations = super::assign_classes(args, loaded.dataset, &mut notes)?;
        let (mut dataset, plan) = SessionPlan::from_dataset(&conversations, think, args.seed)
            .with_context(|| format!("the conversations of {}", path.display()))?;
        // Each turn's output length: its own answer's in the dataset.
        if let Some(t) = tok {
            dataset.lengths_from_references(t);
        }
        return Ok(Some(Prepared {
            dataset,
            plan,
            notes,
        }));
    }
    let turns_spec = s.turns.as_deref().unwrap_or("1");
    let spec = SyntheticSessions {
        count: args.synthetic,
        turns: LengthDistribution::parse(turns_spec, LengthSide::Input, tok).context("--turns")?,
        input: LengthDistribution::parse(&args.input_tokens, LengthSide::Input, tok)
            .context("--input-tokens")?,
        output: LengthDistribution::parse(&args.output_tokens, LengthSide::Output, tok)
            .context("--output-tokens")?,
        exact_output: args.exact_output_tokens,
        think,
        seed: args.seed,
    };
    let (dataset, plan) = spec.build(tok).context("building synthetic sessions")?;
    // A --model-mix draw per turn prompt; the benchmark then keeps each
    // session on its first turn's model.
    let mut notes = Vec::new();
    let dataset = super::assign_classes(args, dataset, &mut notes)?;
    Ok(Some(Prepared {
        dataset,
        plan,
        notes,
    }))
}

/// What a session run will send, under the first line.
pub fn print_plan(bench: &Bench) {
    if let Some(s) = bench.sessions() {
        println!(
            "multi-turn sessions: {} planned ({} turns in all), think time {}; --requests counts sessions",
            s.plan.sessions.len(),
            s.plan.total_turns(),
            s.plan.think.spec()
        );
    }
}

/// The summary line of a point's sessions.
pub fn print_summary(s: &SessionSummary) {
    let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.1}", v / 1e6));
    let p = |st: &Option<yardstick_endpoint::Stats>, key: &str| st.as_ref().and_then(|s| s.p(key));
    println!(
        "             sessions: {} started, {} completed, {} stopped ({} turns skipped){}; turns/session p50 {}; duration p50 {} ms p90 {} ms; ttft p50 turn 1 {} ms, later turns {} ms",
        s.sessions_started,
        s.sessions_completed,
        s.sessions_stopped,
        s.turns_skipped,
        if s.sessions_unfinished > 0 {
            format!(", {} unfinished", s.sessions_unfinished)
        } else {
            String::new()
        },
        s.turns_per_session
            .as_ref()
            .map_or("-".to_string(), |t| format!("{}", t.median)),
        ms(p(&s.session_duration, "50")),
        ms(p(&s.session_duration, "90")),
        ms(p(&s.ttft_first_turn, "50")),
        ms(p(&s.ttft_later_turns, "50")),
    );
}

/// The session flags as record settings.
pub fn settings(args: &EndpointArgs) -> Vec<SettingRecord> {
    let s = &args.sessions;
    if !s.enabled() {
        return Vec::new();
    }
    let typed =
        |flag: &str| std::env::args().any(|a| a == flag || a.starts_with(&format!("{flag}=")));
    let setting = |key: &str, value: String, flag: &str| SettingRecord {
        key: key.into(),
        value,
        source: if typed(flag) {
            RecordSource::Flag { name: flag.into() }
        } else {
            RecordSource::Default
        },
    };
    let mut out = vec![match &s.turns {
        Some(k) => setting(
            "endpoint.sessions",
            format!("synthetic, turns {k}"),
            "--turns",
        ),
        None => setting(
            "endpoint.sessions",
            "dataset conversations".into(),
            "--multi-turn",
        ),
    }];
    out.push(setting(
        "endpoint.think_time",
        s.think_time.clone().unwrap_or_else(|| "0".into()),
        "--think-time",
    ));
    out
}

//! `yardstick endpoint`, `yardstick probe`, `yardstick mock-server`: HTTP
//! model servers (OpenAI-compatible or plain JSON) as systems under test.
//!
//! Flags and output files are wired here; the client, the metrics and the
//! mock server live in `yardstick-endpoint`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use yardstick_core::run::{LiveProgress, RunOptions};
use yardstick_core::Scenario;
use yardstick_endpoint::bench::parse_headers;
use yardstick_endpoint::bench::point_label;
use yardstick_endpoint::output::{pareto_table, point_dir, write_index, write_point};
use yardstick_endpoint::{
    ApiKind, Bench, BenchConfig, ChatTemplate, Dataset, MockConfig, MockFault, MockMode,
    MockServer, PointResult, PointSummary, RequestOptions, Slo, Timeouts, TlsTrust, TokenCounter,
    UsageMode,
};
use yardstick_suts::SyntheticLibrary;

use yardstick_core::settings::{Override, SettingSource, SettingValue};
use yardstick_endpoint::content::{SharedPrefixes, SyntheticSpec};
use yardstick_endpoint::datafile::{self, DataFileFormat};
use yardstick_endpoint::lengths::{LengthDistribution, LengthSide, PrefixChoice};
use yardstick_endpoint::run_record::fill_point_record;
use yardstick_pipeline::record::{
    RunKind, RunRecord, SettingRecord, SettingSource as RecordSource, SutInfo, WorkloadInfo,
};
use yardstick_pipeline::{finish_record, open_logs, record_settings, Recorder, TimelineCapture};

use crate::recording::{print_record_lines, Recording, RecordingArgs};
use crate::settings_args::{FrontEndDefaults, SettingsArgs};
use crate::signals::Interrupts;
use crate::{progress, report};

mod class_field;
mod open_loop;
mod server_scrape;
mod sessions;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApiArg {
    /// OpenAI /v1/chat/completions.
    Chat,
    /// OpenAI /v1/completions.
    Completions,
    /// Plain JSON POST: KServe v2 / Triton /v2/models/{model}/infer.
    Kserve,
    /// OpenAI /v1/embeddings (--embedding-inputs texts per request; not streamed).
    Embeddings,
}

impl From<ApiArg> for ApiKind {
    fn from(a: ApiArg) -> Self {
        match a {
            ApiArg::Chat => ApiKind::Chat,
            ApiArg::Completions => ApiKind::Completions,
            ApiArg::Kserve => ApiKind::Kserve,
            ApiArg::Embeddings => ApiKind::Embeddings,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LoadArg {
    /// Fixed concurrency, closed loop (MLPerf Endpoints); a list sweeps it.
    Concurrency,
    /// Constant request rate, open loop.
    Constant,
    /// Poisson arrivals, open loop: the core's Server scenario at --rate.
    Poisson,
    /// A LoadGen scenario (--scenario, --mode and the other LoadGen flags).
    Scenario,
    /// Gamma arrivals, open loop, at --rate with --burstiness (the client's
    /// own schedule, seeded by --seed).
    Gamma,
    /// Replays --trace-file (Mooncake JSONL or Azure CSV) at its time
    /// stamps (--time-scale), with its request lengths.
    Trace,
    /// Rate stages one after another (--ramp 10:30s,50:30s,...).
    Ramp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UsageArg {
    /// The server's usage.completion_tokens where present, the tokenizer
    /// (or one token per chunk) otherwise.
    Prefer,
    /// Always re-count with --tokenizer.
    Tokenizer,
    /// Count with --tokenizer, report that count, and warn where the
    /// server's usage differs.
    Both,
}

impl From<UsageArg> for UsageMode {
    fn from(u: UsageArg) -> Self {
        match u {
            UsageArg::Prefer => UsageMode::Prefer,
            UsageArg::Tokenizer => UsageMode::Tokenizer,
            UsageArg::Both => UsageMode::Both,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Jsonl,
    Sharegpt,
    /// Apache Parquet (Hugging Face datasets' files).
    Parquet,
    /// Arrow IPC, file or stream (`datasets`' cache `.arrow` files).
    Arrow,
}

#[derive(Debug, Args)]
pub struct EndpointArgs {
    /// Server URL: http://HOST:PORT, optionally with a base path or the full
    /// endpoint path (/v1/chat/completions, /v2/models/m/infer, ...).
    #[arg(long)]
    pub url: String,
    /// The API to call.
    #[arg(long, value_enum, default_value = "chat")]
    pub api: ApiArg,
    /// The served model name sent in requests (default: the first of GET /v1/models).
    #[arg(long)]
    pub served_model: Option<String>,
    /// Do not stream (TTFT/TPOT are then undefined; latency and tokens/s remain).
    #[arg(long)]
    pub no_stream: bool,
    /// Load pattern.
    #[arg(long, value_enum, default_value = "concurrency")]
    pub load: LoadArg,
    /// Concurrency levels, e.g. 1,2,4,8,16 (several: a sweep and its Pareto front).
    #[arg(long, value_delimiter = ',', default_value = "1")]
    pub concurrency: Vec<usize>,
    /// Request rates per second (constant, poisson), e.g. 100 or 50,100,200.
    #[arg(long, value_delimiter = ',')]
    pub rate: Vec<f64>,
    #[command(flatten)]
    pub arrivals: open_loop::ArrivalArgs,
    #[command(flatten)]
    pub sessions: sessions::SessionArgs,
    /// Requests per point; with --duration, whichever comes first. Closed
    /// loop and constant rate: requests sent. Poisson and the LoadGen
    /// scenarios: LoadGen's min and max query count (MultiStream: queries
    /// of --samples-per-query requests, rounded up; Offline: samples of its
    /// one query); refused with --mode accuracy-only (every sample once)
    /// and, for Offline, with --duration.
    #[arg(long)]
    pub requests: Option<u64>,
    /// Requests sent before measuring a concurrency point (not recorded;
    /// --load concurrency only).
    #[arg(long, default_value_t = 0)]
    pub warmup: u64,
    /// Dataset: MLPerf Endpoints JSONL, ShareGPT-style JSON, Parquet or
    /// Arrow IPC (columns named like the JSONL keys). Unusable rows are
    /// skipped, counted and noted in the run record.
    #[arg(long)]
    pub dataset: Option<PathBuf>,
    #[arg(long, value_enum)]
    pub dataset_format: Option<FormatArg>,
    /// JSONL field holding the prompt (default: prompt, text_input, input, ...).
    #[arg(long)]
    pub prompt_field: Option<String>,
    /// Synthetic prompts instead of a dataset: how many.
    #[arg(long, default_value_t = 512)]
    pub synthetic: usize,
    /// Synthetic prompts: input tokens (exact with --tokenizer, else words),
    /// N or a distribution: fixed:N, uniform:A..B, normal:MEAN,SD,
    /// lognormal:MEDIAN,SIGMA, empirical:FILE (a list of lengths, or a
    /// dataset's prompt lengths). Drawn from --seed. With --shared-prefixes:
    /// the length of each request's unique suffix.
    #[arg(long, default_value = "128")]
    pub input_tokens: String,
    /// Synthetic prompts: output tokens requested (max_tokens), N or a
    /// distribution as for --input-tokens (empirical: a dataset's
    /// max_tokens or reference answer lengths).
    #[arg(long, default_value = "128")]
    pub output_tokens: String,
    /// Synthetic prompts: also send each drawn output length as min_tokens.
    #[arg(long)]
    pub exact_output_tokens: bool,
    /// Synthetic prompts: N shared prefixes; each request is one of them
    /// (see --prefix-distribution) plus a unique suffix. requests.csv says
    /// which (prefix_id).
    #[arg(long, value_name = "N", requires = "prefix_tokens")]
    pub shared_prefixes: Option<u32>,
    /// Tokens of each shared prefix.
    #[arg(long, value_name = "P", requires = "shared_prefixes")]
    pub prefix_tokens: Option<u32>,
    /// How requests choose a shared prefix: uniform or zipf:S.
    #[arg(long, default_value = "uniform")]
    pub prefix_distribution: String,
    /// The model's tokenizer.json (or its directory), to count tokens.
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    /// Chat template (tokenizer_config.json or a Jinja file) applied to chat
    /// prompts for --api completions.
    #[arg(long)]
    pub chat_template: Option<PathBuf>,
    /// Output length for prompts that name none.
    #[arg(long)]
    pub max_tokens: Option<u32>,
    /// Use --max-tokens even where a prompt names its own length.
    #[arg(long)]
    pub force_max_tokens: bool,
    /// Ask the server to ignore end-of-sequence (vLLM/SGLang/TRT-LLM).
    #[arg(long)]
    pub ignore_eos: bool,
    /// Send `min_tokens` N (for servers that ignore ignore_eos) and count an
    /// answer with fewer output tokens as a failed request.
    #[arg(long, value_name = "N")]
    pub min_tokens: Option<u32>,
    /// Output token counts: the server's usage (prefer), the tokenizer
    /// (tokenizer), or the tokenizer checked against usage (both).
    #[arg(long, value_enum, default_value = "prefer")]
    pub usage: UsageArg,
    #[arg(long)]
    pub temperature: Option<f64>,
    /// Extra JSON fields merged into every request body.
    #[arg(long)]
    pub extra_body: Option<String>,
    /// Extra request header, `Name: value` (repeatable).
    #[arg(long)]
    pub header: Vec<String>,
    /// API key (Authorization: Bearer); default $OPENAI_API_KEY.
    #[arg(long)]
    pub api_key: Option<String>,
    /// Whole-request time limit, from its due time.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "600s")]
    pub timeout: Duration,
    /// Longest silence between response chunks.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "120s")]
    pub idle_timeout: Duration,
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10s")]
    pub connect_timeout: Duration,
    /// Client threads (default: half the cores, at least 1).
    #[arg(long)]
    pub client_threads: Option<usize>,
    /// Open loop and scenarios: most connections at once.
    #[arg(long, default_value_t = 4096)]
    pub max_connections: usize,
    /// Client threads poll the network without sleeping (precise stamps on
    /// an otherwise idle machine; costs one busy core per client thread).
    /// Off is the reference mode: compare results only between runs of the
    /// same mode.
    #[arg(long)]
    pub busy_poll: bool,
    /// Open loop and scenarios: connections opened before timing starts.
    #[arg(long, default_value_t = 64)]
    pub prewarm: usize,
    /// Goodput SLO on TTFT, e.g. 2s.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub slo_ttft: Option<Duration>,
    /// Goodput SLO on TPOT, e.g. 100ms.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub slo_tpot: Option<Duration>,
    /// Goodput SLO on end-to-end latency.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub slo_e2e: Option<Duration>,
    /// A request class's own SLO, CLASS:ttft=200ms,tpot=20ms,e2e=2s
    /// (repeatable); other classes keep --slo-ttft/--slo-tpot/--slo-e2e.
    /// Goodput is reported per class, and an SLO search trial passes only
    /// if every class meets its own.
    #[arg(long, value_name = "CLASS:OBJECTIVES")]
    pub slo_class: Vec<String>,
    /// Request classes as a weighted mix of served models or LoRA adapters,
    /// e.g. base=2,lora-a=1: each prompt is sent to one, drawn from --seed;
    /// metrics are also reported per class (the model name).
    #[arg(long, value_name = "MODEL=WEIGHT,...", conflicts_with = "class_field")]
    pub model_mix: Option<String>,
    /// Request classes from a JSONL dataset field (e.g. tag): metrics are
    /// also reported per value.
    #[arg(long, value_name = "FIELD", requires = "dataset")]
    pub class_field: Option<String>,
    /// Ask for vLLM's stream_options.continuous_usage_stats: every chunk
    /// carries the cumulative usage, which gives each chunk's tokens for
    /// the per-token inter-token latency (never sent by default).
    #[arg(long)]
    pub continuous_usage: bool,
    /// --api embeddings: texts per request (consecutive prompts).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub embedding_inputs: usize,
    /// The server's own Prometheus metrics, scraped during each point:
    /// auto (`/metrics` at the server's base URL), off, or the URL of its
    /// metrics page (Triton: http://HOST:8002/metrics). Kept in the record
    /// and server_metrics.csv; a server without them is told once and the
    /// run goes on.
    #[arg(long, value_name = "auto|off|URL", default_value = "auto")]
    pub server_metrics: String,
    /// Time between two scrapes of --server-metrics.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "1s")]
    pub scrape_interval: Duration,
    /// Seed of prompt order and synthetic prompts.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output folder.
    #[arg(long, short = 'o', default_value = "yardstick-out/endpoint")]
    pub output: PathBuf,
    #[command(flatten)]
    pub recording: RecordingArgs,
    #[command(flatten)]
    pub power: crate::power::PowerArgs,
    /// Scenarios: end the run when the server answers nothing for this long.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "120s")]
    pub stall_timeout: Duration,
    /// Scenarios: also write a Chrome trace.
    #[arg(long)]
    pub trace: bool,
    #[command(flatten)]
    pub tls: TlsArgs,
    #[command(flatten)]
    pub settings: SettingsArgs,
}

/// How an `https://` server's certificate is checked.
#[derive(Debug, Clone, Args)]
pub struct TlsArgs {
    /// https: also trust the CA certificates of this PEM file (besides the
    /// built-in Mozilla roots).
    #[arg(long, value_name = "PEM", conflicts_with = "insecure")]
    pub ca_cert: Option<PathBuf>,
    /// https: accept any server certificate (self-signed test servers); the
    /// traffic is encrypted but the server is not authenticated.
    #[arg(long)]
    pub insecure: bool,
}

impl TlsArgs {
    pub fn trust(&self) -> TlsTrust {
        match (&self.ca_cert, self.insecure) {
            (_, true) => TlsTrust::Insecure,
            (Some(p), false) => TlsTrust::WithCa(p.clone()),
            (None, false) => TlsTrust::WebPki,
        }
    }
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Server URL, e.g. http://127.0.0.1:8000.
    #[arg(long)]
    pub url: String,
    #[arg(long)]
    pub served_model: Option<String>,
    /// API key (Authorization: Bearer); default $OPENAI_API_KEY.
    #[arg(long)]
    pub api_key: Option<String>,
    /// Extra request header, `Name: value` (repeatable).
    #[arg(long)]
    pub header: Vec<String>,
    #[arg(long, value_parser = humantime::parse_duration, default_value = "30s")]
    pub timeout: Duration,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub tls: TlsArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MockModeArg {
    /// Streams the prompt back word by word.
    Echo,
    /// Pre-built answers, no work: measures the client.
    MaxThroughput,
    /// TTFT, then one token per TPOT, with jitter.
    Simulated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FaultArg {
    Http500,
    CloseMidStream,
    InvalidJson,
    SlowHeaders,
    NoDone,
    /// A stream that finishes ("stop") with no text at all.
    EmptyAnswer,
}

/// What the mock server's `/metrics` serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MockMetricsArg {
    /// Prometheus text: the mock's gauges and vLLM's metric names.
    Prometheus,
    /// HTTP 200 with text that is not Prometheus' (scraper tests).
    Garbage,
    /// HTTP 404.
    Off,
}

#[derive(Debug, Args)]
pub struct MockServerArgs {
    /// Address to listen on (port 0 picks a free one; it is printed).
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,
    #[arg(long, value_enum, default_value = "echo")]
    pub mode: MockModeArg,
    /// Server threads.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Answer length (max-throughput, simulated) when the request names none.
    #[arg(long, default_value_t = 64)]
    pub output_tokens: u32,
    #[arg(long, value_parser = humantime::parse_duration, default_value = "50ms")]
    pub ttft: Duration,
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10ms")]
    pub tpot: Duration,
    /// Relative jitter of each delay (0..1, uniform).
    #[arg(long, default_value_t = 0.0)]
    pub jitter: f64,
    /// Added to usage.completion_tokens (token-count mismatch tests).
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    pub usage_offset: i64,
    /// A model served (repeat for a base model and its LoRA adapters; the
    /// first is named in answers). Given, requests naming another model get
    /// HTTP 404; not given, the mock serves `mock` and accepts any name.
    #[arg(long, value_name = "NAME")]
    pub served_model: Vec<String>,
    /// Prefill cost: the first token waits this long more per uncached
    /// prompt token (e.g. 100us).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "0s")]
    pub prefill_per_token: Duration,
    /// Keep a vLLM-style prefix cache: cached leading blocks of a prompt
    /// cost no prefill and are reported as usage.prompt_tokens_details.cached_tokens.
    #[arg(long)]
    pub prefix_cache: bool,
    /// Words per prefix-cache block.
    #[arg(long, default_value_t = 16, requires = "prefix_cache")]
    pub prefix_block_tokens: usize,
    /// Blocks the prefix cache holds (least recently used ones go).
    #[arg(long, default_value_t = 4096, requires = "prefix_cache")]
    pub prefix_cache_blocks: usize,
    /// Chat answers first stream N words as reasoning_content.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub reasoning_tokens: u32,
    /// Words per stream chunk; a chunk of K words follows the one before
    /// after K x --tpot.
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub tokens_per_chunk: u32,
    /// Length of the vectors /v1/embeddings answers.
    #[arg(long, value_name = "D", default_value_t = 64)]
    pub embedding_dims: usize,
    /// What GET /metrics serves (garbage and off: scraper tests).
    #[arg(long, value_enum, default_value = "prometheus")]
    pub metrics: MockMetricsArg,
    /// Append every request, as it finishes, to FILE as one JSON line
    /// (seq, path, model, received_ns, finished_ns, body, answer).
    #[arg(long, value_name = "FILE")]
    pub request_log: Option<PathBuf>,
    /// Do not stamp the first content chunk with mock_sent_ns.
    #[arg(long)]
    pub no_stamp: bool,
    /// Inject a fault on every --fault-every-th request.
    #[arg(long, value_enum)]
    pub fault: Option<FaultArg>,
    #[arg(long, default_value_t = 10)]
    pub fault_every: u64,
    /// Delay of slow-headers faults.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "2s")]
    pub fault_delay: Duration,
    /// Serve https with this PEM certificate chain (with --tls-key).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// A new streamed request aborts the stream in progress, which ends
    /// with [DONE] and no text or finish reason (llama-cpp-python's
    /// interrupt_requests); simulated mode.
    #[arg(long)]
    pub abort_streams: bool,
    /// Serve at most N requests at once; the rest wait in a queue, so TTFT
    /// grows with load.
    #[arg(long, value_name = "N")]
    pub max_concurrency: Option<usize>,
    /// Leave `usage` out of answers.
    #[arg(long)]
    pub no_usage: bool,
    /// Exit after this long (default: serve until killed).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub serve_for: Option<Duration>,
}

fn headers(raw: &[String]) -> Result<Vec<(String, String)>> {
    raw.iter()
        .map(|h| {
            h.split_once(':')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .with_context(|| format!("--header `{h}`: expected `Name: value`"))
        })
        .collect()
}

fn api_key(flag: &Option<String>) -> Option<String> {
    flag.clone().or_else(|| {
        std::env::var("OPENAI_API_KEY")
            .ok()
            .filter(|k| !k.is_empty())
    })
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

fn ms(d: Option<Duration>) -> Option<f64> {
    d.map(|d| d.as_secs_f64() * 1e3)
}

/// The prompts, and notes for the run record (rows skipped).
fn load_dataset(args: &EndpointArgs, tok: Option<&TokenCounter>) -> Result<(Dataset, Vec<String>)> {
    match &args.dataset {
        Some(path) => {
            let format = args.dataset_format.map(|f| match f {
                FormatArg::Jsonl => DataFileFormat::Jsonl,
                FormatArg::Sharegpt => DataFileFormat::ShareGpt,
                FormatArg::Parquet => DataFileFormat::Parquet,
                FormatArg::Arrow => DataFileFormat::Arrow,
            });
            let loaded = datafile::load(path, format, args.prompt_field.as_deref())
                .with_context(|| format!("loading the dataset {}", path.display()))?;
            let notes: Vec<String> = loaded.skip_note().into_iter().collect();
            for n in &notes {
                eprintln!("yardstick: warning: {n}");
            }
            let mut d = loaded.dataset;
            if let Some(t) = tok {
                d.lengths_from_references(t);
            }
            Ok((d, notes))
        }
        None => {
            let shared_prefixes = match (args.shared_prefixes, args.prefix_tokens) {
                (Some(count), Some(tokens)) => Some(SharedPrefixes {
                    count,
                    tokens,
                    choice: PrefixChoice::parse(&args.prefix_distribution)
                        .context("--prefix-distribution")?,
                }),
                _ => None,
            };
            let spec = SyntheticSpec {
                count: args.synthetic,
                input: LengthDistribution::parse(&args.input_tokens, LengthSide::Input, tok)
                    .context("--input-tokens")?,
                output: LengthDistribution::parse(&args.output_tokens, LengthSide::Output, tok)
                    .context("--output-tokens")?,
                exact_output: args.exact_output_tokens,
                shared_prefixes,
                seed: args.seed,
            };
            // Plain fixed lengths keep the original builder (same prompts
            // as before for the same seed).
            let d = match (
                spec.input.fixed(),
                spec.output.fixed(),
                &spec.shared_prefixes,
            ) {
                (Some(i), Some(o), None) if !spec.exact_output => {
                    Dataset::synthetic(args.synthetic, i, o, tok, args.seed)
                }
                _ => spec.build(tok),
            };
            Ok((d.context("building synthetic prompts")?, Vec::new()))
        }
    }
}

/// The per-class SLOs of `--slo-class`.
fn class_slos(raw: &[String]) -> Result<yardstick_endpoint::metrics::ClassSlos> {
    let mut out = yardstick_endpoint::metrics::ClassSlos::new();
    for text in raw {
        let (class, slo) = yardstick_endpoint::slo_search::parse_class_slo(text)?;
        anyhow::ensure!(
            out.insert(class.clone(), slo).is_none(),
            "--slo-class names `{class}` twice"
        );
    }
    Ok(out)
}

/// Request classes: `--model-mix` (a seeded draw of a model per prompt) or
/// `--class-field` (a JSONL field of each row).
fn assign_classes(
    args: &EndpointArgs,
    mut dataset: Dataset,
    notes: &mut Vec<String>,
) -> Result<Dataset> {
    if let Some(mix) = &args.model_mix {
        let mix = yardstick_endpoint::api::ModelMix::parse(mix)?;
        mix.assign(&mut dataset.prompts, args.seed);
    }
    if let Some(field) = &args.class_field {
        let Some(path) = &args.dataset else {
            bail!("--class-field needs --dataset");
        };
        let missing = class_field::assign(path, args.prompt_field.as_deref(), field, &mut dataset)?;
        if missing > 0 {
            let note = format!(
                "{missing} of {} prompts have no `{field}` field: their class is `{}`",
                dataset.len(),
                class_field::NO_CLASS
            );
            eprintln!("yardstick: warning: {note}");
            notes.push(note);
        }
    }
    Ok(dataset)
}

/// The client-side token metrics of a point, a line each, printed only
/// where they say something beyond the main line.
fn token_metric_lines(m: &yardstick_endpoint::metrics::Aggregate) -> Vec<String> {
    let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.2}", v / 1e6));
    let mut out = Vec::new();
    if m.total_reasoning_tokens > 0 || m.ttft_content_p90_ms != m.ttft_p90_ms {
        out.push(format!(
            "reasoning: {} tokens ({} per request at p50); ttft to content p50 {} ms, p90 {} ms",
            m.total_reasoning_tokens,
            m.reasoning_tokens
                .as_ref()
                .and_then(|s| s.p("50"))
                .map_or("-".to_string(), |v| format!("{v:.0}")),
            ms(m.ttft_content.as_ref().and_then(|s| s.p("50"))),
            ms(m.ttft_content.as_ref().and_then(|s| s.p("90"))),
        ));
    }
    if let Some(itl) = &m.itl_token {
        let sources: Vec<String> = m
            .itl_token_source
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        out.push(format!(
            "inter-token latency per token: p50 {} ms, p90 {} ms, p99 {} ms ({} gaps; per chunk: {} gaps, p50 {} ms); tokens per chunk from {}{}",
            ms(itl.p("50")),
            ms(itl.p("90")),
            ms(itl.p("99")),
            itl.count,
            m.chunk_gap.as_ref().map_or(0, |c| c.count),
            ms(m.chunk_gap.as_ref().and_then(|c| c.p("50"))),
            sources.join(", "),
            if m.itl_token_source.keys().any(|k| k == "chunks") {
                " (chunks: one token per chunk assumed; give --tokenizer or --continuous-usage)"
            } else {
                ""
            }
        ));
    }
    if let Some(pc) = &m.prefix_cache {
        out.push(format!(
            "prefix cache: {} hits, {} misses ({} cached prompt tokens{}); ttft p50 hits {} ms, misses {} ms",
            pc.hits,
            pc.misses,
            pc.cached_prompt_tokens,
            pc.cached_token_fraction
                .map(|f| format!(", {:.1}% of the prompt tokens", f * 100.0))
                .unwrap_or_default(),
            ms(pc.ttft_hit.as_ref().and_then(|s| s.p("50"))),
            ms(pc.ttft_miss.as_ref().and_then(|s| s.p("50"))),
        ));
    }
    if let Some(e) = &m.embeddings {
        out.push(format!(
            "embeddings: {} vectors, {:.1} vectors/s ({} inputs per request); latency p50 {} ms, p90 {} ms, p99 {} ms",
            e.items,
            e.items_per_second,
            e.inputs_per_request,
            ms(m.latency.as_ref().and_then(|s| s.p("50"))),
            ms(m.latency.as_ref().and_then(|s| s.p("90"))),
            ms(m.latency.as_ref().and_then(|s| s.p("99"))),
        ));
    }
    for (name, c) in &m.classes {
        let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
        out.push(format!(
            "class {name}: issued {} ok {} failed {}; ttft_p90 {} ms, tpot_p90 {} ms, e2e_p90 {} ms{}",
            c.n_samples_issued,
            c.n_samples_completed,
            c.n_samples_failed,
            f(c.ttft_p90_ms),
            f(c.tpot_p90_ms),
            f(c.e2e_p90_ms),
            c.goodput
                .as_ref()
                .map(|g| format!(
                    "; goodput {:.1}% ({:.1} req/s)",
                    g.fraction * 100.0,
                    g.goodput_rps
                ))
                .unwrap_or_default()
        ));
    }
    out
}

/// One line per measured point.
fn print_point(s: &PointSummary) {
    let m = &s.metrics;
    let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
    println!(
        "{:<12} issued {:>7}  ok {:>7}  failed {:>5}  {:>9.1} req/s  system_tps {:>10.1}  tps_per_user {:>8}  ttft_p90 {:>9} ms  tpot_p90 {:>8} ms",
        match (s.concurrency, s.target_rate) {
            (Some(c), _) => format!("c={c}"),
            (None, Some(r)) => format!("{} {r}/s", s.load_pattern),
            _ => s.load_pattern.clone(),
        },
        m.n_samples_issued,
        m.n_samples_completed,
        m.n_samples_failed,
        m.qps,
        m.system_tps,
        f(m.tps_per_user),
        f(m.ttft_p90_ms),
        f(m.tpot_p90_ms),
    );
    if let Some(o) = &s.open_loop {
        println!("             open loop: {}", o.verdict);
    }
    if let Some(sessions) = &s.sessions {
        sessions::print_summary(sessions);
    }
    for line in token_metric_lines(m) {
        println!("             {line}");
    }
    if let Some(d) = &m.first_token_delay_vs_server {
        println!(
            "             first token vs the server's send stamp: p50 {:.1} µs, p99 {:.1} µs (arrival: {})",
            d.p("50").unwrap_or(0.0) / 1e3,
            d.p("99").unwrap_or(0.0) / 1e3,
            m.arrival_stamps
        );
    }
    for w in &s.warnings {
        eprintln!("yardstick: warning: {w}");
    }
    if s.most_requests_failed {
        let line = "!".repeat(78);
        eprintln!("{line}");
        eprintln!(
            "!! {}: MOST REQUESTS FAILED ({} of {}): these numbers are not a measurement of the server",
            s.label, s.metrics.n_samples_failed, s.metrics.n_samples_issued
        );
        eprintln!(
            "!! first error: {}",
            s.metrics.first_error.as_deref().unwrap_or("-")
        );
        eprintln!("{line}");
    }
}

/// Writes one point into its own folder under `out`.
fn save_point(out: &Path, p: &PointResult) -> Result<PathBuf> {
    let dir = point_dir(out, &p.summary.label);
    write_point(&dir, p).with_context(|| format!("writing {}", dir.display()))?;
    Ok(dir)
}

pub fn run_endpoint(args: EndpointArgs) -> Result<ExitCode> {
    let tok = match &args.tokenizer {
        Some(p) => {
            Some(TokenCounter::from_file(p).with_context(|| format!("loading {}", p.display()))?)
        }
        None => None,
    };
    let template = match &args.chat_template {
        Some(p) => Some(
            ChatTemplate::from_file(p)
                .with_context(|| format!("loading the chat template {}", p.display()))?,
        ),
        None => None,
    };
    let trace = open_loop::load_trace(&args)?;
    // Multi-turn sessions plan their own prompts (a trace then gives only
    // the sessions' start times).
    let (dataset, mut dataset_notes, session_plan) = match sessions::prepare(&args, tok.as_ref())? {
        Some(s) => (s.dataset, s.notes, Some(s.plan)),
        None => match open_loop::trace_dataset(&args, trace.as_ref(), tok.as_ref())? {
            Some(d) => (d, Vec::new(), None),
            None => {
                let (d, notes) = load_dataset(&args, tok.as_ref())?;
                (d, notes, None)
            }
        },
    };
    dataset_notes.extend(open_loop::trace_notes(trace.as_ref()));
    // Sessions get their classes in `sessions::prepare` (a conversation's
    // row, before its turns are split out).
    let dataset = if session_plan.is_some() {
        dataset
    } else {
        assign_classes(&args, dataset, &mut dataset_notes)?
    };
    let api: ApiKind = args.api.into();
    let hdrs = headers(&args.header)?;
    let key = api_key(&args.api_key);
    let model = match (&args.served_model, api) {
        (Some(m), _) => m.clone(),
        (None, ApiKind::Kserve) => bail!("--api kserve needs --served-model"),
        (None, _) => {
            let target = yardstick_endpoint::Target::new(&args.url, api, "model")?
                .with_trust(&args.tls.trust())?;
            let h = parse_headers(&hdrs, key.as_deref())?;
            match yardstick_endpoint::probe::list_models(&target, &h, args.connect_timeout) {
                Ok(models) if !models.is_empty() => models[0].clone(),
                Ok(_) => "default".to_string(),
                Err(e) => {
                    eprintln!("yardstick: warning: could not list the served models ({e}); sending model \"default\" (set --served-model)");
                    "default".to_string()
                }
            }
        }
    };
    let mut request = RequestOptions::new(api, model, !args.no_stream);
    request.max_tokens = args.max_tokens;
    request.force_max_tokens = args.force_max_tokens;
    request.ignore_eos = args.ignore_eos;
    request.min_tokens = args.min_tokens;
    request.temperature = args.temperature;
    request.continuous_usage = args.continuous_usage;
    anyhow::ensure!(
        args.embedding_inputs >= 1,
        "--embedding-inputs must be at least 1"
    );
    request.embedding_inputs = args.embedding_inputs;
    if let Some(extra) = &args.extra_body {
        let v: serde_json::Value =
            serde_json::from_str(extra).context("--extra-body is not JSON")?;
        match v {
            serde_json::Value::Object(m) => request.extra_body = m,
            _ => bail!("--extra-body must be a JSON object"),
        }
    }
    let slo = Slo {
        ttft_ms: ms(args.slo_ttft),
        tpot_ms: ms(args.slo_tpot),
        e2e_ms: ms(args.slo_e2e),
    };
    let usage: UsageMode = args.usage.into();
    if usage != UsageMode::Prefer && tok.is_none() {
        bail!(
            "--usage {} needs --tokenizer (the tokenizer's count is what it reports)",
            match usage {
                UsageMode::Tokenizer => "tokenizer",
                _ => "both",
            }
        );
    }
    anyhow::ensure!(
        args.warmup == 0 || args.load == LoadArg::Concurrency,
        "--warmup applies to --load concurrency only"
    );
    anyhow::ensure!(args.requests != Some(0), "--requests must be at least 1");
    let threads = args.client_threads.unwrap_or_else(default_threads).max(1);
    let max_connections = match args.load {
        LoadArg::Concurrency if args.arrivals.slo_search.is_none() => {
            args.concurrency.iter().copied().max().unwrap_or(1)
        }
        _ => args.max_connections,
    }
    .max(1);
    let config = BenchConfig {
        url: args.url.clone(),
        request,
        headers: hdrs,
        api_key: key,
        timeouts: Timeouts {
            connect: args.connect_timeout,
            idle: args.idle_timeout,
            total: args.timeout,
        },
        threads,
        max_connections,
        prewarm_connections: args.prewarm,
        busy_poll: args.busy_poll,
        slo,
        class_slos: class_slos(&args.slo_class)?,
        usage,
        seed: args.seed,
        tls_trust: args.tls.trust(),
    };
    let bench =
        Bench::new(config, dataset, tok, template.as_ref()).context("preparing the benchmark")?;
    let bench = match session_plan {
        Some(plan) => bench
            .with_sessions(plan)
            .context("preparing the multi-turn sessions")?,
        None => bench,
    };
    println!(
        "yardstick endpoint: {} ({}{}), model {}, {} prompts, {} client thread(s)",
        bench.target.url,
        api.as_str(),
        if bench.config.request.stream {
            ", streaming"
        } else {
            ""
        },
        bench.config.request.model,
        bench.dataset.len(),
        threads
    );
    sessions::print_plan(&bench);
    let server_scrape = server_scrape::ServerScrape::new(&args, &bench)?;
    let out = &args.output;
    let default_duration = Duration::from_secs(30);
    let duration = args.settings.duration.or(if args.requests.is_none() {
        Some(default_duration)
    } else {
        None
    });

    let recording = Recording::open(&args.recording);
    let interrupts = Interrupts::install()?;
    let point_count = match args.load {
        LoadArg::Concurrency => args.concurrency.len(),
        LoadArg::Constant | LoadArg::Poisson | LoadArg::Gamma => args.rate.len().max(1),
        LoadArg::Scenario | LoadArg::Trace | LoadArg::Ramp => 1,
    };
    let group = open_loop::group(&args, point_count);
    let recorder_observers = [recording.observer()];
    let recorder = Recorder::new(&recorder_observers);
    // The record of a point before it runs: what, where, which flags.
    let new_record = |index: usize, label: &str| -> RunRecord {
        let mut r = RunRecord::new(
            RunKind::Endpoint,
            chrono::Utc::now(),
            WorkloadInfo {
                name: bench.dataset.name.clone(),
                model: Some(bench.config.request.model.clone()),
                sut: SutInfo {
                    name: format!("HttpSUT({})", args.url),
                    kind: "http".into(),
                    params: Default::default(),
                },
                ..WorkloadInfo::default()
            },
        );
        r.group = group.as_ref().map(|g| g.member(index, label));
        r.settings = endpoint_settings(&args, duration);
        r.notes.extend(dataset_notes.iter().cloned());
        recording.stamp(&mut r);
        r
    };

    let mut points: Vec<PointResult> = Vec::new();
    let mut core_valid = true;
    let own_points = open_loop::PointCtx {
        args: &args,
        bench: &bench,
        duration,
        new_record: &new_record,
        recorder: &recorder,
        recording: &recording,
        interrupts: &interrupts,
        out,
        server_scrape: &server_scrape,
    };
    match args.load {
        _ if args.arrivals.slo_search.is_some() => {
            open_loop::run_slo_search(&own_points, &mut points)?;
        }
        LoadArg::Gamma | LoadArg::Trace | LoadArg::Ramp => {
            open_loop::run_arrivals(&own_points, trace.as_ref(), &mut points)?;
        }
        LoadArg::Concurrency | LoadArg::Constant => {
            let loads: Vec<(Option<usize>, Option<f64>)> = if args.load == LoadArg::Concurrency {
                args.concurrency.iter().map(|&c| (Some(c), None)).collect()
            } else {
                anyhow::ensure!(!args.rate.is_empty(), "--load constant needs --rate");
                args.rate.iter().map(|&r| (None, Some(r))).collect()
            };
            for (index, (c, r)) in loads.into_iter().enumerate() {
                let label = match (c, r) {
                    (Some(c), _) => point_label("concurrency", Some(c), None),
                    (None, r) => point_label("constant", None, r),
                };
                let mut record = new_record(index, &label);
                recorder.started(&record);
                let scrape = server_scrape.start();
                let mut power = crate::power::OwnLoadPower::begin(&args.power);
                let p = match (c, r) {
                    (Some(c), _) => {
                        anyhow::ensure!(c > 0, "--concurrency must be at least 1");
                        bench
                            .run_concurrency(c, duration, args.requests, args.warmup)
                            .with_context(|| format!("running concurrency {c}"))?
                    }
                    (None, Some(r)) => bench
                        .run_constant_rate(r, duration, args.requests)
                        .with_context(|| format!("running {r} requests/s"))?,
                    (None, None) => unreachable!("every load point has a concurrency or a rate"),
                };
                power.end();
                let scraped = scrape.stop();
                let dir = save_point(out, &p)?;
                print_point(&p.summary);
                scraped.save(&dir, &mut record);
                let m = &p.summary.metrics;
                power.finish(
                    &mut record,
                    m.n_samples_completed,
                    m.total_output_tokens,
                    &dir.join(yardstick_pipeline::POWER_TRACE_CSV),
                );
                fill_point_record(&mut record, &p, None);
                add_point_files(&mut record, &dir);
                record.status = yardstick_pipeline::record::RunStatus::Completed;
                let path = recorder
                    .finished(&dir, &mut record)
                    .context("writing the run record")?;
                print_record_lines(&record, Some(&path), &recording);
                points.push(p);
                if interrupts.is_requested() {
                    eprintln!("yardstick: interrupted: stopping the sweep after {label}; the finished points are kept");
                    break;
                }
            }
        }
        LoadArg::Poisson | LoadArg::Scenario => {
            let rates: Vec<Option<f64>> = if args.load == LoadArg::Poisson {
                let mut r: Vec<Option<f64>> = args.rate.iter().copied().map(Some).collect();
                if r.is_empty() {
                    r.push(args.settings.target_qps);
                }
                anyhow::ensure!(
                    r.iter().all(|x| x.is_some()),
                    "--load poisson needs --rate (or --target-qps)"
                );
                r
            } else {
                vec![None]
            };
            for (index, rate) in rates.into_iter().enumerate() {
                // Resolved once per point, with this front end's choices as
                // overrides before audit.config (which still wins).
                let resolved =
                    resolve_core_settings(&args, bench.config.request.stream, duration, rate)?;
                for w in &resolved.warnings {
                    eprintln!(
                        "yardstick: warning: {}:{}: {}",
                        w.source_name, w.line, w.message
                    );
                }
                let settings = &resolved.settings;
                // The folder is named before the run (LoadGen writes its
                // logs there as it goes), as the summary will name it.
                let label = if settings.scenario == Scenario::Server {
                    point_label("poisson", None, Some(settings.server_target_qps))
                } else {
                    point_label(&settings.scenario.to_string(), None, None)
                };
                let dir = point_dir(out, &label);
                let mut record = new_record(index, &label);
                record.settings = record_settings(&resolved);
                record.settings.extend(endpoint_settings(&args, duration));
                recorder.started(&record);
                let scrape = server_scrape.start();
                let capture = Arc::new(TimelineCapture::new());
                let log_settings = yardstick_logs::LogOutputSettings {
                    outdir: dir.clone(),
                    enable_trace: args.trace,
                    ..yardstick_logs::LogOutputSettings::default()
                };
                let logs = open_logs(&log_settings, None, vec![capture.clone()])
                    .with_context(|| format!("opening the logs in {}", dir.display()))?;
                let qsl = SyntheticLibrary::new(
                    bench.dataset.name.clone(),
                    bench.dataset.len(),
                    bench.dataset.len(),
                );
                logs.header(
                    &format!("HttpSUT({})", args.url),
                    &qsl as &dyn yardstick_core::sut::QuerySampleLibrary,
                    &resolved.warnings,
                );
                let live = Arc::new(LiveProgress::new());
                let options = RunOptions {
                    stall_timeout: args.stall_timeout,
                    progress: Some(Arc::clone(&live)),
                    stop: Some(interrupts.stop_request()),
                    ..RunOptions::default()
                };
                // director://: power-dev's protocol, as `yardstick run`: a
                // ranging run of this point first, its logs apart.
                let mut director = crate::power_director::DirectorRun::begin(&args.power, &dir);
                if let Some(d) = director.as_mut() {
                    d.ranging_with(|ranging_dir| ranging_point(&bench, settings, ranging_dir));
                    d.start_testing();
                }
                let display = progress::ProgressDisplay::start(Arc::clone(&live));
                let power = args.power.open();
                if let Some(power) = &power {
                    let _ = power.begin();
                }
                let result = bench.run_core(settings, logs.sink(), &options);
                let power_trace_end = power.as_ref().map(|p| (p, p.end()));
                let scraped = scrape.stop();
                display.stop();
                let finished = logs.finish();
                let (outcome, mut p) = result.context("the test could not run")?;
                finished.context("writing the logs")?;
                p.summary.label = label;
                save_point(out, &p)?;
                report::print_human_summary(&outcome, &dir);
                core_valid &= outcome.is_valid();
                print_point(&p.summary);
                scraped.save(&dir, &mut record);
                finish_record(&mut record, &outcome, logs.paths(), None, &capture);
                if let Some((power, trace)) = power_trace_end {
                    power.finish_test_with(&mut record, &outcome, trace, Some(&dir));
                }
                if let Some(d) = director {
                    d.finish_test(&mut record, &outcome, &dir);
                }
                if let Some(summary) = &record.power {
                    crate::power::print_power_summary(summary);
                }
                fill_point_record(&mut record, &p, Some(outcome.is_valid()));
                add_point_files(&mut record, &dir);
                let path = recorder
                    .finished(&dir, &mut record)
                    .context("writing the run record")?;
                print_record_lines(&record, Some(&path), &recording);
                points.push(p);
                if interrupts.is_requested() {
                    eprintln!(
                        "yardstick: interrupted: stopping the sweep; the finished points are kept"
                    );
                    break;
                }
            }
        }
    }
    if let Some(g) = &group {
        println!(
            "sweep {} ({} points): yardstick report group:{} -o report.html",
            g.id,
            points.len(),
            g.id
        );
    }
    let summaries: Vec<&PointSummary> = points.iter().map(|p| &p.summary).collect();
    write_index(out, &summaries).context("writing the index of the points")?;
    if summaries.len() > 1 {
        println!();
        println!("Pareto front (system_tps against tps_per_user):");
        print!("{}", pareto_table(&summaries));
    }
    println!(
        "results: {} (one folder per point: {}; index: sweep.json, pareto.csv)",
        out.display(),
        summaries
            .iter()
            .map(|s| s.label.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let failed: u64 = summaries.iter().map(|s| s.metrics.n_samples_failed).sum();
    Ok(if failed == 0 && core_valid && !interrupts.is_requested() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A `director://` ranging run of one core-driven point: the same test,
/// its logs in `dir`, no record.
fn ranging_point(
    bench: &Bench,
    settings: &yardstick_core::TestSettings,
    dir: &Path,
) -> std::result::Result<(), String> {
    let log_settings = yardstick_logs::LogOutputSettings {
        outdir: dir.to_path_buf(),
        ..yardstick_logs::LogOutputSettings::default()
    };
    let logs = open_logs(&log_settings, None, Vec::new()).map_err(|e| format!("{e:#}"))?;
    let result = bench.run_core(settings, logs.sink(), &RunOptions::default());
    let finished = logs.finish();
    result.map_err(|e| format!("{:#}", anyhow::Error::new(e)))?;
    finished.map_err(|e| format!("writing its logs: {e:#}"))
}

/// The LoadGen settings of one core-driven point (`--load poisson` at
/// `rate`, or `--load scenario`), resolved once with provenance: the
/// endpoint's own choices are overrides named by their flags, applied
/// after the other flags and before audit.config, as in `yardstick run`.
fn resolve_core_settings(
    args: &EndpointArgs,
    streaming: bool,
    duration: Option<Duration>,
    rate: Option<f64>,
) -> Result<yardstick_core::settings::ResolvedSettings> {
    let mut sa = args.settings.clone();
    // The endpoint's own defaults sit below user.conf (a submitter's file
    // still decides what it sets); what the user typed sits above it.
    let mut defaults: Vec<Override> = Vec::new();
    let mut extra: Vec<Override> = Vec::new();
    let poisson = args.load == LoadArg::Poisson;
    if poisson {
        anyhow::ensure!(
            sa.scenario.is_none() || sa.scenario == Some(Scenario::Server),
            "--load poisson runs LoadGen's Server scenario: drop --scenario (or use --load scenario)"
        );
        sa.defaults = FrontEndDefaults {
            scenario: Some(Scenario::Server),
            mode: None,
            source: Some("--load poisson".into()),
        };
        if args.settings.duration.is_none() {
            defaults.push(Override::new(
                SettingSource::api("endpoint default --duration"),
                [SettingValue::MinDurationMs(
                    duration.map_or(0, |d| d.as_millis() as u64),
                )],
            ));
        }
        if args.settings.min_query_count.is_none() {
            defaults.push(Override::new(
                SettingSource::api("--load poisson"),
                [SettingValue::MinQueryCount(1)],
            ));
        }
        // A pure load test: only SLOs given on the command line (or the
        // request timeout) bound the latency LoadGen judges.
        let mut bound = |d: Option<Duration>, flag: &str, value: fn(u64) -> SettingValue| match d {
            Some(d) => extra.push(Override::new(
                SettingSource::flag(flag),
                [value(d.as_nanos() as u64)],
            )),
            None => defaults.push(Override::new(
                SettingSource::api("--timeout (no SLO given)"),
                [value(args.timeout.as_nanos() as u64)],
            )),
        };
        if args.settings.target_latency.is_none() {
            bound(
                args.slo_e2e,
                "--slo-e2e",
                SettingValue::ServerTargetLatencyNs,
            );
        }
        if streaming {
            bound(args.slo_ttft, "--slo-ttft", SettingValue::ServerTtftLatency);
            bound(args.slo_tpot, "--slo-tpot", SettingValue::ServerTpotLatency);
            extra.push(Override::new(
                SettingSource::api("--load poisson (streaming)"),
                [SettingValue::UseTokenLatencies(true)],
            ));
        }
        if let Some(r) = rate {
            anyhow::ensure!(
                r > 0.0 && r.is_finite(),
                "--rate must be a positive number, got {r}"
            );
            extra.push(Override::flag("--rate", [SettingValue::ServerTargetQps(r)]));
        }
    }
    if let Some(n) = args.requests {
        // The counts depend on the scenario and mode the flags give.
        let base = sa.resolve_layers(defaults.clone(), extra.clone(), None)?;
        extra.extend(requests_as_query_counts(&base.settings, &args.settings, n)?);
    }
    sa.resolve_layers(defaults, extra, None)
}

/// The endpoint's own options that shape a point, as record settings.
fn endpoint_settings(args: &EndpointArgs, duration: Option<Duration>) -> Vec<SettingRecord> {
    let typed = |flag: &str| {
        // Whether the user typed the flag (clap gives no provenance).
        std::env::args().any(|a| a == flag || a.starts_with(&format!("{flag}=")))
    };
    let source = |flag: &str| {
        if typed(flag) {
            RecordSource::Flag { name: flag.into() }
        } else {
            RecordSource::Default
        }
    };
    let mut out = vec![
        SettingRecord {
            key: "endpoint.url".into(),
            value: args.url.clone(),
            source: source("--url"),
        },
        SettingRecord {
            key: "endpoint.load".into(),
            value: format!("{:?}", args.load).to_lowercase(),
            source: source("--load"),
        },
        SettingRecord {
            key: "endpoint.duration".into(),
            value: duration.map_or("none".into(), |d| humantime::format_duration(d).to_string()),
            source: source("--duration"),
        },
        SettingRecord {
            key: "endpoint.seed".into(),
            value: args.seed.to_string(),
            source: source("--seed"),
        },
    ];
    // What the requests hold (the seed above draws the lengths/prefixes).
    match &args.dataset {
        Some(path) => out.push(SettingRecord {
            key: "endpoint.dataset".into(),
            value: path.display().to_string(),
            source: source("--dataset"),
        }),
        None => {
            for (key, flag, value) in [
                (
                    "endpoint.input_tokens",
                    "--input-tokens",
                    &args.input_tokens,
                ),
                (
                    "endpoint.output_tokens",
                    "--output-tokens",
                    &args.output_tokens,
                ),
            ] {
                out.push(SettingRecord {
                    key: key.into(),
                    value: value.clone(),
                    source: source(flag),
                });
            }
            if let (Some(n), Some(p)) = (args.shared_prefixes, args.prefix_tokens) {
                out.push(SettingRecord {
                    key: "endpoint.shared_prefixes".into(),
                    value: format!("{n}x{p} {}", args.prefix_distribution),
                    source: source("--shared-prefixes"),
                });
            }
        }
    }
    out.extend(sessions::settings(args));
    if let Some(n) = args.requests {
        out.push(SettingRecord {
            key: "endpoint.requests".into(),
            value: n.to_string(),
            source: source("--requests"),
        });
    }
    out
}

/// The files a point's folder holds besides the MLPerf logs.
fn add_point_files(record: &mut RunRecord, dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort();
    for path in names {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name == yardstick_pipeline::record::RUN_JSON
            || record.files.iter().any(|f| f.path == path)
        {
            continue;
        }
        let role = if name.ends_with(".jsonl") {
            "requests"
        } else if name.ends_with(".csv") {
            "requests_csv"
        } else if name.contains("summary") && name.ends_with(".json") {
            "endpoint_summary"
        } else {
            "other"
        };
        record.add_file(role, path);
    }
}

/// `--requests N` through LoadGen. Alone: N queries (MultiStream: N
/// requests in queries of samples_per_query, rounded up; Offline: N samples
/// in its one query) as both the minimum and the maximum, with no minimum
/// duration. With --duration, whichever comes first: N is the maximum only
/// (Offline, one query sized up front, refuses the pair).
fn requests_as_query_counts(
    settings: &yardstick_core::TestSettings,
    flags: &SettingsArgs,
    n: u64,
) -> Result<Vec<Override>> {
    anyhow::ensure!(
        flags.min_query_count.is_none() && flags.max_query_count.is_none(),
        "--requests sets LoadGen's min and max query count: give --requests or --min-query-count/--max-query-count, not both"
    );
    anyhow::ensure!(
        settings.mode != yardstick_core::Mode::AccuracyOnly,
        "--requests does not apply to --mode accuracy-only: an accuracy run sends every sample once"
    );
    anyhow::ensure!(
        !(settings.scenario == Scenario::Offline && flags.duration.is_some()),
        "Offline sends one query sized before it starts: give --requests (its samples) or --duration, not both"
    );
    let queries = match settings.scenario {
        Scenario::MultiStream => n.div_ceil(settings.multi_stream_samples_per_query.max(1)),
        _ => n,
    };
    let mut values = vec![SettingValue::MaxQueryCount(queries)];
    if flags.duration.is_none() {
        values.push(SettingValue::MinQueryCount(queries));
        values.push(SettingValue::MinDurationMs(0));
    } else {
        values.push(SettingValue::MinQueryCount(1));
    }
    Ok(vec![Override::flag("--requests", values)])
}

pub fn run_probe(args: ProbeArgs) -> Result<ExitCode> {
    let h = parse_headers(&headers(&args.header)?, api_key(&args.api_key).as_deref())?;
    let report = yardstick_endpoint::probe::probe(
        &args.url,
        args.served_model.as_deref(),
        h,
        args.timeout,
        &args.tls.trust(),
    )
    .with_context(|| format!("probing {}", args.url))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render());
    }
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn run_mock_server(args: MockServerArgs) -> Result<ExitCode> {
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.jitter),
        "--jitter must be within 0..1"
    );
    let fault = args.fault.map(|f| {
        let kind = match f {
            FaultArg::Http500 => MockFault::Http500,
            FaultArg::CloseMidStream => MockFault::CloseMidStream,
            FaultArg::InvalidJson => MockFault::InvalidJson,
            FaultArg::SlowHeaders => MockFault::SlowHeaders(args.fault_delay),
            FaultArg::NoDone => MockFault::NoDone,
            FaultArg::EmptyAnswer => MockFault::EmptyAnswer,
        };
        (kind, args.fault_every.max(1))
    });
    anyhow::ensure!(
        args.tokens_per_chunk >= 1,
        "--tokens-per-chunk must be at least 1"
    );
    anyhow::ensure!(
        args.prefix_block_tokens >= 1 && args.prefix_cache_blocks >= 1,
        "--prefix-block-tokens and --prefix-cache-blocks must be at least 1"
    );
    let request_log_file = match &args.request_log {
        Some(path) => Some(std::sync::Arc::new(std::sync::Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("opening the request log {}", path.display()))?,
        ))),
        None => None,
    };
    let cfg = MockConfig {
        mode: match args.mode {
            MockModeArg::Echo => MockMode::Echo,
            MockModeArg::MaxThroughput => MockMode::MaxThroughput,
            MockModeArg::Simulated => MockMode::Simulated,
        },
        threads: args.threads.max(1),
        output_tokens: args.output_tokens,
        ttft: args.ttft,
        tpot: args.tpot,
        jitter: args.jitter,
        usage_offset: args.usage_offset,
        model: args
            .served_model
            .first()
            .cloned()
            .unwrap_or_else(|| "mock".to_string()),
        served_models: args.served_model.clone(),
        prefill_per_token: args.prefill_per_token,
        prefix_cache: args
            .prefix_cache
            .then_some(yardstick_endpoint::PrefixCacheConfig {
                block_tokens: args.prefix_block_tokens,
                capacity_blocks: args.prefix_cache_blocks,
            }),
        reasoning_tokens: args.reasoning_tokens,
        tokens_per_chunk: args.tokens_per_chunk,
        embedding_dims: args.embedding_dims,
        metrics: match args.metrics {
            MockMetricsArg::Prometheus => yardstick_endpoint::MockMetrics::Prometheus,
            MockMetricsArg::Garbage => yardstick_endpoint::MockMetrics::Garbage,
            MockMetricsArg::Off => yardstick_endpoint::MockMetrics::Off,
        },
        request_log: request_log_file.is_some(),
        request_log_file,
        stamp: !args.no_stamp,
        fault,
        abort_streams: args.abort_streams,
        max_concurrency: args.max_concurrency,
        usage: !args.no_usage,
        tls: match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some(
                yardstick_endpoint::tls::server_config(cert, key)
                    .context("loading the mock server's certificate")?,
            ),
            _ => None,
        },
    };
    let server = MockServer::start(cfg, args.listen)
        .with_context(|| format!("starting the mock server on {}", args.listen))?;
    println!("yardstick mock-server listening on {}", server.url());
    // Scripts read the address from the first line.
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let start = Instant::now();
    loop {
        match args.serve_for {
            Some(d) => {
                let left = d.saturating_sub(start.elapsed());
                if left.is_zero() {
                    break;
                }
                std::thread::sleep(left.min(Duration::from_secs(1)));
            }
            None => std::thread::sleep(Duration::from_secs(3600)),
        }
    }
    let s = server.stats();
    println!(
        "served {} requests ({} streamed, {} faults, {} streams aborted) on {} connections",
        s.requests.load(std::sync::atomic::Ordering::Relaxed),
        s.streams.load(std::sync::atomic::Ordering::Relaxed),
        s.faults.load(std::sync::atomic::Ordering::Relaxed),
        s.aborted.load(std::sync::atomic::Ordering::Relaxed),
        s.connections.load(std::sync::atomic::Ordering::Relaxed)
    );
    Ok(ExitCode::SUCCESS)
}

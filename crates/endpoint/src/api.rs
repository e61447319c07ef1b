//! The HTTP APIs the client speaks: where requests go ([`Target`]), what
//! their bodies are ([`RequestOptions::build_body`]), and how answers are
//! read ([`apply_stream_event`], [`apply_full_response`]).
//!
//! OpenAI-compatible servers differ in details that matter to the metrics:
//! vLLM and SGLang open a stream with a role-only chunk (`"content": ""`),
//! reasoning models stream `reasoning_content` (or `reasoning`) before any
//! `content`, tool calls stream `function.arguments`, usage arrives in a
//! final chunk with no choices when `stream_options.include_usage` is set,
//! and errors may come as an `error` object inside a 200 stream. The parser
//! reports which text a chunk carried so the caller can stamp TTFT at the
//! first chunk with real output, not at the role-only one.

use std::borrow::Cow;
use std::net::{SocketAddr, ToSocketAddrs};

use bytes::Bytes;
use serde::de::DeserializeSeed;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::dataset::Prompt;
use crate::error::{snippet, EndpointError, RequestError};
use crate::template::ChatTemplate;
use crate::tls::{TlsClient, TlsTrust};

/// Which HTTP API the target serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiKind {
    /// OpenAI `/v1/chat/completions`.
    Chat,
    /// OpenAI `/v1/completions` (a prompt string, optionally chat-templated).
    Completions,
    /// A plain JSON POST: KServe v2 / Triton `/v2/models/{model}/infer`, or
    /// any URL given with an explicit path (bodies from the dataset).
    Kserve,
    /// OpenAI `/v1/embeddings`: `{model, input: [texts]}`, not streamed.
    Embeddings,
}

impl ApiKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiKind::Chat => "chat",
            ApiKind::Completions => "completions",
            ApiKind::Kserve => "kserve",
            ApiKind::Embeddings => "embeddings",
        }
    }

    /// Whether the API can stream tokens as SSE.
    pub fn can_stream(self) -> bool {
        !matches!(self, ApiKind::Kserve | ApiKind::Embeddings)
    }
}

/// Where requests go: an `http://` or `https://` server address, resolved
/// once, and the request path.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    /// TLS (an `https://` URL): configuration and server name.
    pub tls: Option<TlsClient>,
    pub host: String,
    pub port: u16,
    pub addr: SocketAddr,
    /// The `Host` header value.
    pub authority: String,
    /// The path of every request (origin-form).
    pub path: String,
    /// The URL's path without the API suffix (for probes: `/v1/models`).
    pub base_path: String,
}

/// Splits `http[s]://host[:port][/path]` into (https?, host, port, path).
fn split_url(url: &str) -> Result<(bool, String, u16, String), EndpointError> {
    let bad = |reason: &str| EndpointError::InvalidUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let (https, rest) = if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else {
        return Err(bad("expected http[s]://HOST[:PORT][/PATH]"));
    };
    let default_port = if https { 443 } else { 80 };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(bad("no host"));
    }
    let (host, port) = if let Some(h) = authority.strip_prefix('[') {
        let (h, after) = h
            .split_once(']')
            .ok_or_else(|| bad("unclosed [ in IPv6 host"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| bad("bad port"))?,
            None if after.is_empty() => default_port,
            None => return Err(bad("junk after IPv6 host")),
        };
        (h.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().map_err(|_| bad("bad port"))?),
            None => (authority.to_string(), default_port),
        }
    };
    Ok((https, host, port, path.to_string()))
}

impl Target {
    /// Parses `url` and picks the request path for `api`: a URL that already
    /// names an endpoint path is used as is; otherwise the API's standard
    /// path is appended (`/v1/chat/completions`, `/v1/completions`,
    /// `/v2/models/{model}/infer`).
    pub fn new(url: &str, api: ApiKind, model: &str) -> Result<Target, EndpointError> {
        let (https, host, port, path) = split_url(url)?;
        let addr = (host.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| EndpointError::Resolve {
                host: host.clone(),
                reason: e.to_string(),
            })?
            .next()
            .ok_or_else(|| EndpointError::Resolve {
                host: host.clone(),
                reason: "no addresses".into(),
            })?;
        let trimmed = path.trim_end_matches('/');
        let explicit = trimmed.ends_with("/completions")
            || trimmed.ends_with("/embeddings")
            || trimmed.ends_with("/infer")
            || (api == ApiKind::Kserve && !trimmed.is_empty() && trimmed != "/v2");
        let (path, base_path) = if explicit {
            let base = trimmed
                .strip_suffix("/chat/completions")
                .or_else(|| trimmed.strip_suffix("/completions"))
                .or_else(|| trimmed.strip_suffix("/embeddings"))
                .unwrap_or("")
                .to_string();
            (trimmed.to_string(), base)
        } else {
            let base = trimmed.strip_suffix("/v1").unwrap_or(trimmed).to_string();
            let p = match api {
                ApiKind::Chat => format!("{base}/v1/chat/completions"),
                ApiKind::Completions => format!("{base}/v1/completions"),
                ApiKind::Embeddings => format!("{base}/v1/embeddings"),
                ApiKind::Kserve => {
                    let base = base.strip_suffix("/v2").unwrap_or(&base);
                    format!("{base}/v2/models/{model}/infer")
                }
            };
            (p, format!("{base}/v1"))
        };
        let default_port = if https { 443 } else { 80 };
        let authority = if (port == default_port) && !url.contains(&format!(":{port}")) {
            host.clone()
        } else if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let tls = if https {
            Some(TlsClient::new(&host, &TlsTrust::default())?)
        } else {
            None
        };
        Ok(Target {
            url: url.to_string(),
            tls,
            host,
            port,
            addr,
            authority,
            path,
            base_path,
        })
    }

    /// The same target with the server's certificate checked as `trust`
    /// says (no change for `http://`).
    pub fn with_trust(mut self, trust: &TlsTrust) -> Result<Target, EndpointError> {
        if self.tls.is_some() {
            self.tls = Some(TlsClient::new(&self.host, trust)?);
        }
        Ok(self)
    }

    /// Same server, another path (probes).
    pub fn with_path(&self, path: &str) -> Target {
        Target {
            path: path.to_string(),
            ..self.clone()
        }
    }
}

/// How request bodies are built.
#[derive(Debug, Clone)]
pub struct RequestOptions {
    pub api: ApiKind,
    /// The served model name (`model` in the body).
    pub model: String,
    pub stream: bool,
    /// Output length when the prompt names none.
    pub max_tokens: Option<u32>,
    /// Override every prompt's own output length.
    pub force_max_tokens: bool,
    /// Ask the server to ignore end-of-sequence (vLLM/SGLang/TRT-LLM
    /// extension), so outputs have the requested length.
    pub ignore_eos: bool,
    /// `min_tokens` in the body (vLLM/SGLang extension): the least output
    /// the server must generate, for servers that ignore `ignore_eos`.
    /// Answers shorter than this are counted as failed requests.
    pub min_tokens: Option<u32>,
    pub temperature: Option<f64>,
    /// Request `stream_options.include_usage` so the server reports its
    /// token counts at the end of a stream.
    pub include_usage: bool,
    /// Also request `stream_options.continuous_usage_stats` (vLLM): every
    /// chunk then carries the cumulative `usage`, which gives the tokens of
    /// each chunk. Never sent unless asked for.
    pub continuous_usage: bool,
    /// Embeddings: texts per request (consecutive prompts of the dataset).
    pub embedding_inputs: usize,
    /// Extra top-level body fields, merged last (they win).
    pub extra_body: Map<String, Value>,
}

impl RequestOptions {
    pub fn new(api: ApiKind, model: impl Into<String>, stream: bool) -> Self {
        RequestOptions {
            api,
            model: model.into(),
            stream: stream && api.can_stream(),
            max_tokens: None,
            force_max_tokens: false,
            ignore_eos: false,
            min_tokens: None,
            temperature: None,
            include_usage: true,
            continuous_usage: false,
            embedding_inputs: 1,
            extra_body: Map::new(),
        }
    }

    fn max_tokens_for(&self, p: &Prompt) -> Option<u32> {
        if self.force_max_tokens {
            self.max_tokens.or(p.max_tokens)
        } else {
            p.max_tokens.or(self.max_tokens)
        }
    }

    /// The chat messages of a prompt (its own, or system + user text).
    pub fn messages(p: &Prompt) -> Vec<Value> {
        if let Some(m) = &p.messages {
            return m.clone();
        }
        let mut v = Vec::with_capacity(2);
        if let Some(s) = &p.system {
            v.push(json!({"role": "system", "content": s}));
        }
        v.push(json!({"role": "user", "content": p.text}));
        v
    }

    /// The body of the request that sends prompt `i` of `prompts`: an
    /// embeddings request takes [`embedding_inputs`](Self::embedding_inputs)
    /// consecutive prompts from `i` on (wrapping around), every other API
    /// the prompt alone ([`build_body`](Self::build_body)).
    pub fn build_body_at(
        &self,
        prompts: &[Prompt],
        i: usize,
        template: Option<&ChatTemplate>,
    ) -> Result<Bytes, EndpointError> {
        let p = prompts
            .get(i)
            .ok_or_else(|| EndpointError::Config(format!("no prompt {i}")))?;
        if self.api != ApiKind::Embeddings {
            return self.build_body(p, template);
        }
        let n = self.embedding_inputs.max(1);
        let input: Vec<&str> = (0..n)
            .filter_map(|j| prompts.get((i + j) % prompts.len()))
            .map(|q| q.text.as_str())
            .collect();
        let mut body = Map::new();
        body.insert(
            "model".into(),
            json!(p.model.as_deref().unwrap_or(&self.model)),
        );
        body.insert("input".into(), json!(input));
        for (k, v) in &self.extra_body {
            body.insert(k.clone(), v.clone());
        }
        serde_json::to_vec(&Value::Object(body))
            .map(Bytes::from)
            .map_err(|e| EndpointError::Config(e.to_string()))
    }

    /// Serializes one request body. Bodies are built once, before timing
    /// starts, so a request costs the client only its header and a copy.
    pub fn build_body(
        &self,
        p: &Prompt,
        template: Option<&ChatTemplate>,
    ) -> Result<Bytes, EndpointError> {
        let mut body = Map::new();
        // A request class may name its own served model (a LoRA adapter).
        let model = p.model.as_deref().unwrap_or(&self.model);
        match self.api {
            ApiKind::Embeddings => {
                body.insert("model".into(), json!(model));
                body.insert("input".into(), json!([p.text]));
            }
            ApiKind::Kserve => {
                if let Some(raw) = &p.raw_body {
                    return serde_json::to_vec(raw)
                        .map(Bytes::from)
                        .map_err(|e| EndpointError::Config(e.to_string()));
                }
                let mut inputs = vec![json!({
                    "name": "text_input", "shape": [1], "datatype": "BYTES", "data": [p.text]
                })];
                if let Some(n) = self.max_tokens_for(p) {
                    inputs.push(
                        json!({"name": "max_tokens", "shape": [1], "datatype": "INT32", "data": [n]}),
                    );
                }
                body.insert("inputs".into(), Value::Array(inputs));
            }
            ApiKind::Chat => {
                body.insert("model".into(), json!(model));
                body.insert("messages".into(), Value::Array(Self::messages(p)));
            }
            ApiKind::Completions => {
                body.insert("model".into(), json!(model));
                let prompt = match template {
                    Some(t) => t.render(&Self::messages(p))?,
                    None => match &p.messages {
                        Some(m) => m
                            .iter()
                            .filter_map(|v| v.get("content").and_then(Value::as_str))
                            .collect::<Vec<_>>()
                            .join("\n"),
                        None => p.text.clone(),
                    },
                };
                body.insert("prompt".into(), json!(prompt));
            }
        }
        if !matches!(self.api, ApiKind::Kserve | ApiKind::Embeddings) {
            if let Some(n) = self.max_tokens_for(p) {
                body.insert("max_tokens".into(), json!(n));
            }
            if let Some(t) = self.temperature {
                body.insert("temperature".into(), json!(t));
            }
            if self.ignore_eos {
                body.insert("ignore_eos".into(), json!(true));
            }
            if let Some(n) = self.min_tokens.or(p.min_tokens) {
                body.insert("min_tokens".into(), json!(n));
            }
            body.insert("stream".into(), json!(self.stream));
            if self.stream && self.continuous_usage {
                body.insert(
                    "stream_options".into(),
                    json!({"include_usage": true, "continuous_usage_stats": true}),
                );
            } else if self.stream && self.include_usage {
                body.insert("stream_options".into(), json!({"include_usage": true}));
            }
        }
        for (k, v) in &self.extra_body {
            body.insert(k.clone(), v.clone());
        }
        serde_json::to_vec(&Value::Object(body))
            .map(Bytes::from)
            .map_err(|e| EndpointError::Config(e.to_string()))
    }
}

/// A weighted mix of served models (or LoRA adapters) as request classes:
/// `--model-mix base=2,lora-a=1`. Each prompt is sent to one of them,
/// drawn with the weights from a seed, and its class is the model name.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModelMix {
    pub entries: Vec<(String, f64)>,
}

impl ModelMix {
    /// Parses `NAME=WEIGHT,NAME=WEIGHT,...` (a bare `NAME` weighs 1).
    pub fn parse(text: &str) -> Result<ModelMix, EndpointError> {
        let bad = |why: String| EndpointError::Config(format!("--model-mix `{text}`: {why}"));
        let mut entries: Vec<(String, f64)> = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = match part.rsplit_once('=') {
                Some((n, w)) => (
                    n.trim(),
                    w.trim()
                        .parse::<f64>()
                        .map_err(|e| bad(format!("weight of `{n}`: {e}")))?,
                ),
                None => (part, 1.0),
            };
            if name.is_empty() {
                return Err(bad("an entry has no model name".into()));
            }
            if !(weight.is_finite() && weight > 0.0) {
                return Err(bad(format!("the weight of `{name}` must be positive")));
            }
            if entries.iter().any(|(n, _)| n == name) {
                return Err(bad(format!("`{name}` is named twice")));
            }
            entries.push((name.to_string(), weight));
        }
        if entries.is_empty() {
            return Err(bad("no model named".into()));
        }
        Ok(ModelMix { entries })
    }

    /// Assigns every prompt a model and class by a draw seeded with
    /// `seed` (the same seed gives the same assignment).
    pub fn assign(&self, prompts: &mut [Prompt], seed: u64) {
        let total: f64 = self.entries.iter().map(|(_, w)| w).sum();
        // Its own stream, so the mix does not shift the prompt order.
        let mut rng = yardstick_core::rng::Mt19937::new(seed ^ 0x6d6f_6465_6c6d_6978);
        for p in prompts {
            let mut x = yardstick_core::rng::uniform_real(&mut rng, 0.0, total);
            let mut pick = &self.entries[self.entries.len() - 1].0;
            for (name, w) in &self.entries {
                if x < *w {
                    pick = name;
                    break;
                }
                x -= w;
            }
            p.model = Some(pick.clone());
            p.class = Some(pick.clone());
        }
    }
}

/// The text of one response, accumulated chunk by chunk. Every byte is kept
/// so accuracy can be scored afterwards.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct OutputText {
    pub content: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reasoning: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub tool_calls: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
}

impl OutputText {
    pub fn total_len(&self) -> usize {
        self.content.len() + self.reasoning.len() + self.tool_calls.len()
    }

    /// All generated text, as tokenized for the output length: reasoning,
    /// then content, then tool-call text.
    pub fn all_text(&self) -> Cow<'_, str> {
        if self.reasoning.is_empty() && self.tool_calls.is_empty() {
            Cow::Borrowed(&self.content)
        } else {
            let mut s = String::with_capacity(self.total_len());
            s.push_str(&self.reasoning);
            s.push_str(&self.content);
            s.push_str(&self.tool_calls);
            Cow::Owned(s)
        }
    }
}

/// Token counts a server reported in `usage`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: Option<u64>,
    #[serde(default)]
    pub completion_tokens: Option<u64>,
    /// `prompt_tokens_details` (vLLM, OpenAI): prompt tokens served from
    /// the prefix cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    /// `completion_tokens_details` (OpenAI, vLLM): reasoning tokens among
    /// the completion tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
}

impl Usage {
    /// Prompt tokens the server reports as read from its prefix cache.
    pub fn cached_tokens(&self) -> Option<u64> {
        self.prompt_tokens_details.and_then(|d| d.cached_tokens)
    }

    /// Reasoning tokens the server reports among the completion tokens.
    pub fn reasoning_tokens(&self) -> Option<u64> {
        self.completion_tokens_details
            .and_then(|d| d.reasoning_tokens)
    }
}

/// `usage.prompt_tokens_details`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct PromptTokensDetails {
    #[serde(default)]
    pub cached_tokens: Option<u64>,
}

/// `usage.completion_tokens_details`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct CompletionTokensDetails {
    #[serde(default)]
    pub reasoning_tokens: Option<u64>,
}

/// What one event (or one whole response) contributed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChunkInfo {
    /// Bytes of content, reasoning or tool-call text it added (0 for a
    /// role-only or empty-delta chunk).
    pub text_bytes: usize,
    /// It carried a finish reason.
    pub finished: bool,
    pub usage: Option<Usage>,
    /// The mock server's own send time stamp (CLOCK_MONOTONIC ns), if any.
    pub server_sent_ns: Option<u64>,
    /// Embeddings: how many vectors the answer's `data` held.
    pub items: Option<u64>,
}

/// Deserializes an optional string borrowing from the input when it has no
/// escapes (serde borrows a `Cow` only when it is not inside an `Option`).
fn opt_cow<'de: 'a, 'a, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    #[derive(Deserialize)]
    struct W<'a>(#[serde(borrow)] Cow<'a, str>);
    Option::<W<'a>>::deserialize(d).map(|o| o.map(|w| w.0))
}

#[derive(Deserialize)]
struct WireToolCall<'a> {
    #[serde(default, borrow)]
    function: Option<WireFunction<'a>>,
}

#[derive(Deserialize)]
struct WireFunction<'a> {
    #[serde(default, borrow, deserialize_with = "opt_cow")]
    name: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "opt_cow")]
    arguments: Option<Cow<'a, str>>,
}

fn error_message(err: &Value) -> String {
    match err {
        Value::String(s) => s.clone(),
        Value::Object(o) => o
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| err.to_string()),
        other => other.to_string(),
    }
}

fn push(dst: &mut String, s: &Option<Cow<'_, str>>) -> usize {
    match s {
        Some(s) if !s.is_empty() => {
            dst.push_str(s);
            s.len()
        }
        _ => 0,
    }
}

/// Applies one SSE event's data (not `[DONE]`) of a chat or completions
/// stream to `out`. This is the client's hot path (one call per token on
/// most servers): the JSON is walked once with seeds that append text to
/// `out` as they meet it, borrowing strings without escapes, with no
/// intermediate structs (an earlier struct-based parse spent most of its
/// time moving those structs around).
pub fn apply_stream_event(data: &[u8], out: &mut OutputText) -> Result<ChunkInfo, RequestError> {
    let mut de = serde_json::Deserializer::from_slice(data);
    let parsed = fast::ChunkSeed { out }
        .deserialize(&mut de)
        .and_then(|r| de.end().map(|()| r));
    match parsed {
        Ok(Ok(info)) => Ok(info),
        Ok(Err(e)) => Err(e),
        Err(e) => Err(RequestError::InvalidJson {
            message: format!("{e} in event `{}`", snippet(data, 200)),
        }),
    }
}

/// Seeds of the streaming-chunk parser (see [`apply_stream_event`]).
mod fast {
    use std::borrow::Cow;
    use std::fmt;

    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use serde::Deserialize;
    use serde_json::Value;

    use super::{error_message, ChunkInfo, OutputText, Usage, WireToolCall};
    use crate::error::{snippet, RequestError};

    #[derive(Deserialize)]
    struct S<'a>(#[serde(borrow)] Cow<'a, str>);

    fn append(dst: &mut String, s: Option<S<'_>>) -> usize {
        match s {
            Some(S(s)) if !s.is_empty() => {
                dst.push_str(&s);
                s.len()
            }
            _ => 0,
        }
    }

    pub(super) struct ChunkSeed<'o> {
        pub out: &'o mut OutputText,
    }

    impl<'de> DeserializeSeed<'de> for ChunkSeed<'_> {
        type Value = Result<ChunkInfo, RequestError>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
    }

    impl<'de> Visitor<'de> for ChunkSeed<'_> {
        type Value = Result<ChunkInfo, RequestError>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a completion chunk object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut info = ChunkInfo::default();
            let mut error: Option<String> = None;
            let mut object_error = false;
            let mut message: Option<String> = None;
            while let Some(key) = map.next_key::<S<'de>>()? {
                match key.0.as_ref() {
                    "choices" => map.next_value_seed(ChoicesSeed {
                        out: &mut *self.out,
                        info: &mut info,
                    })?,
                    "usage" => info.usage = map.next_value::<Option<Usage>>()?,
                    "mock_sent_ns" => info.server_sent_ns = map.next_value::<Option<u64>>()?,
                    "error" => {
                        if let Some(v) = map.next_value::<Option<Value>>()? {
                            error = Some(error_message(&v));
                        }
                    }
                    "object" => {
                        object_error = map
                            .next_value::<Option<S<'de>>>()?
                            .is_some_and(|S(o)| o == "error")
                    }
                    "message" => {
                        message = map
                            .next_value::<Option<Value>>()?
                            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                    }
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            if let Some(e) = error {
                return Ok(Err(RequestError::ServerError {
                    message: snippet(e.as_bytes(), 512),
                }));
            }
            if object_error {
                return Ok(Err(RequestError::ServerError {
                    message: snippet(message.unwrap_or_default().as_bytes(), 512),
                }));
            }
            Ok(Ok(info))
        }
    }

    struct ChoicesSeed<'o> {
        out: &'o mut OutputText,
        info: &'o mut ChunkInfo,
    }

    impl<'de> DeserializeSeed<'de> for ChoicesSeed<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for ChoicesSeed<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of choices")
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            // Only the first choice is measured (requests ask for n = 1).
            seq.next_element_seed(ChoiceSeed {
                out: self.out,
                info: self.info,
            })?;
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(())
        }
    }

    struct ChoiceSeed<'o> {
        out: &'o mut OutputText,
        info: &'o mut ChunkInfo,
    }

    impl<'de> DeserializeSeed<'de> for ChoiceSeed<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for ChoiceSeed<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a choice object")
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<S<'de>>()? {
                match key.0.as_ref() {
                    "delta" | "message" => map.next_value_seed(DeltaSeed {
                        out: &mut *self.out,
                        info: &mut *self.info,
                    })?,
                    "text" => {
                        self.info.text_bytes +=
                            append(&mut self.out.content, map.next_value::<Option<S<'de>>>()?)
                    }
                    "finish_reason" => {
                        if let Some(S(r)) = map.next_value::<Option<S<'de>>>()? {
                            self.info.finished = true;
                            self.out.finish_reason = Some(r.into_owned());
                        }
                    }
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(())
        }
    }

    struct DeltaSeed<'o> {
        out: &'o mut OutputText,
        info: &'o mut ChunkInfo,
    }

    impl<'de> DeserializeSeed<'de> for DeltaSeed<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for DeltaSeed<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a delta object")
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<S<'de>>()? {
                let out = &mut *self.out;
                let n = match key.0.as_ref() {
                    "content" => append(&mut out.content, map.next_value()?),
                    "reasoning_content" | "reasoning" => {
                        append(&mut out.reasoning, map.next_value()?)
                    }
                    "tool_calls" => {
                        let calls = map.next_value::<Option<Vec<WireToolCall<'de>>>>()?;
                        let mut n = 0;
                        for f in calls.iter().flatten().filter_map(|c| c.function.as_ref()) {
                            n += super::push(&mut out.tool_calls, &f.name);
                            n += super::push(&mut out.tool_calls, &f.arguments);
                        }
                        n
                    }
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                        0
                    }
                };
                self.info.text_bytes += n;
            }
            Ok(())
        }
    }
}

#[derive(Deserialize)]
struct EmbeddingsResponse {
    #[serde(default)]
    data: Option<Vec<serde::de::IgnoredAny>>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct KserveResponse {
    #[serde(default)]
    outputs: Vec<KserveOutput>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct KserveOutput {
    #[serde(default)]
    name: String,
    #[serde(default)]
    data: Value,
}

/// Applies a whole (non-streaming) response body to `out`.
pub fn apply_full_response(
    api: ApiKind,
    body: &[u8],
    out: &mut OutputText,
) -> Result<ChunkInfo, RequestError> {
    let invalid = |e: serde_json::Error| RequestError::InvalidJson {
        message: format!("{e} in body `{}`", snippet(body, 200)),
    };
    match api {
        ApiKind::Chat | ApiKind::Completions => {
            // A whole response has the shape of a chunk whose first choice
            // holds `message` (chat) or `text` (completions).
            let mut de = serde_json::Deserializer::from_slice(body);
            let mut info = fast::ChunkSeed { out }
                .deserialize(&mut de)
                .and_then(|r| de.end().map(|()| r))
                .map_err(invalid)??;
            info.finished = true;
            Ok(info)
        }
        ApiKind::Embeddings => {
            // The vectors themselves are not kept: only how many came back
            // (checked against the inputs sent after the run).
            let r: EmbeddingsResponse = serde_json::from_slice(body).map_err(invalid)?;
            if let Some(e) = &r.error {
                return Err(RequestError::ServerError {
                    message: snippet(error_message(e).as_bytes(), 512),
                });
            }
            let data = r.data.ok_or_else(|| RequestError::InvalidJson {
                message: format!("no `data` in body `{}`", snippet(body, 200)),
            })?;
            Ok(ChunkInfo {
                finished: true,
                usage: r.usage,
                items: Some(data.len() as u64),
                ..ChunkInfo::default()
            })
        }
        ApiKind::Kserve => {
            let r: KserveResponse = serde_json::from_slice(body).map_err(invalid)?;
            if let Some(e) = &r.error {
                return Err(RequestError::ServerError {
                    message: snippet(error_message(e).as_bytes(), 512),
                });
            }
            // Text outputs (Triton's `text_output`, any BYTES tensor) are
            // the answer; other tensors are kept as JSON for scoring.
            for o in &r.outputs {
                match &o.data {
                    Value::Array(items) if items.iter().all(Value::is_string) => {
                        for s in items.iter().filter_map(Value::as_str) {
                            out.content.push_str(s);
                        }
                    }
                    other => {
                        if !out.content.is_empty() {
                            out.content.push('\n');
                        }
                        out.content.push_str(&o.name);
                        out.content.push('=');
                        out.content.push_str(&other.to_string());
                    }
                }
            }
            Ok(ChunkInfo {
                text_bytes: out.content.len(),
                finished: true,
                ..ChunkInfo::default()
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_paths() {
        let t = Target::new("http://127.0.0.1:8000", ApiKind::Chat, "m").unwrap();
        assert_eq!(t.path, "/v1/chat/completions");
        assert_eq!(t.authority, "127.0.0.1:8000");
        let t = Target::new("http://127.0.0.1:8000/v1", ApiKind::Completions, "m").unwrap();
        assert_eq!(t.path, "/v1/completions");
        let t = Target::new(
            "http://127.0.0.1:9/x/v1/chat/completions",
            ApiKind::Chat,
            "m",
        )
        .unwrap();
        assert_eq!(t.path, "/x/v1/chat/completions");
        assert_eq!(t.base_path, "/x/v1");
        let t = Target::new("http://127.0.0.1:8000", ApiKind::Kserve, "llama").unwrap();
        assert_eq!(t.path, "/v2/models/llama/infer");
        let t = Target::new("http://[::1]:8000/", ApiKind::Chat, "m").unwrap();
        assert_eq!(t.authority, "[::1]:8000");
        assert!(Target::new("ftp://x", ApiKind::Chat, "m").is_err());
        let t = Target::new("https://127.0.0.1/v1", ApiKind::Chat, "m").unwrap();
        assert!(t.tls.is_some());
        assert_eq!((t.port, t.authority.as_str()), (443, "127.0.0.1"));
        assert!(Target::new("http://127.0.0.1", ApiKind::Chat, "m")
            .unwrap()
            .tls
            .is_none());
        assert!(Target::new("ftp://x", ApiKind::Chat, "m").is_err());
        assert!(Target::new("http://127.0.0.1:notaport", ApiKind::Chat, "m").is_err());
    }

    #[test]
    fn role_only_and_empty_deltas_carry_no_text() {
        let mut out = OutputText::default();
        let i = apply_stream_event(
            br#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
            &mut out,
        )
        .unwrap();
        assert_eq!(i.text_bytes, 0);
        let i = apply_stream_event(br#"{"choices":[{"delta":{}}]}"#, &mut out).unwrap();
        assert_eq!(i.text_bytes, 0);
        let i =
            apply_stream_event(br#"{"choices":[{"delta":{"content":null}}]}"#, &mut out).unwrap();
        assert_eq!(i.text_bytes, 0);
        let i = apply_stream_event(
            br#"{"choices":[{"delta":{"reasoning_content":"hm"}}]}"#,
            &mut out,
        )
        .unwrap();
        assert_eq!(i.text_bytes, 2);
        let i = apply_stream_event(
            br#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\""}}]}}]}"#,
            &mut out,
        )
        .unwrap();
        assert_eq!(i.text_bytes, 4);
        let i = apply_stream_event(
            br#"{"choices":[{"delta":{"content":"Hi \u00e9"},"finish_reason":"stop"}],"usage":null}"#,
            &mut out,
        )
        .unwrap();
        assert!(i.finished);
        assert_eq!(out.content, "Hi é");
        assert_eq!(out.reasoning, "hm");
    }

    #[test]
    fn usage_chunk_and_errors() {
        let mut out = OutputText::default();
        let i = apply_stream_event(
            br#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":7,"total_tokens":10}}"#,
            &mut out,
        )
        .unwrap();
        assert_eq!(i.usage.unwrap().completion_tokens, Some(7));
        assert!(matches!(
            apply_stream_event(br#"{"error":{"message":"boom"}}"#, &mut out),
            Err(RequestError::ServerError { .. })
        ));
        assert!(matches!(
            apply_stream_event(br#"{"object":"error","message":"bad"}"#, &mut out),
            Err(RequestError::ServerError { .. })
        ));
        assert!(matches!(
            apply_stream_event(br#"{"choices":[{"delta":{"content":"x"#, &mut out),
            Err(RequestError::InvalidJson { .. })
        ));
    }

    #[test]
    fn full_responses() {
        let mut out = OutputText::default();
        apply_full_response(
            ApiKind::Chat,
            br#"{"choices":[{"message":{"role":"assistant","content":"a b"},"finish_reason":"length"}],"usage":{"completion_tokens":2}}"#,
            &mut out,
        )
        .unwrap();
        assert_eq!(out.content, "a b");
        let mut out = OutputText::default();
        apply_full_response(
            ApiKind::Kserve,
            br#"{"outputs":[{"name":"text_output","datatype":"BYTES","shape":[1],"data":["hello"]}]}"#,
            &mut out,
        )
        .unwrap();
        assert_eq!(out.content, "hello");
    }

    #[test]
    fn bodies() {
        let p = Prompt {
            text: "hi".into(),
            max_tokens: Some(5),
            ..Prompt::default()
        };
        let mut o = RequestOptions::new(ApiKind::Chat, "m", true);
        o.ignore_eos = true;
        o.min_tokens = Some(5);
        let b: Value = serde_json::from_slice(&o.build_body(&p, None).unwrap()).unwrap();
        assert_eq!(b["messages"][0]["content"], "hi");
        assert_eq!(b["max_tokens"], 5);
        assert_eq!(b["stream_options"]["include_usage"], true);
        assert_eq!(b["ignore_eos"], true);
        assert_eq!(b["min_tokens"], 5);
        let o = RequestOptions::new(ApiKind::Kserve, "m", true);
        assert!(!o.stream);
        let b: Value = serde_json::from_slice(&o.build_body(&p, None).unwrap()).unwrap();
        assert_eq!(b["inputs"][0]["data"][0], "hi");
    }
}

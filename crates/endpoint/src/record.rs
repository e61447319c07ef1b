//! What the client records for each request, and the clock it records in.

use std::sync::OnceLock;
use std::time::Instant;

use crate::api::{OutputText, Usage};
use crate::error::RequestError;
use crate::tokenize::TokenCounter;

/// CLOCK_MONOTONIC in ns: the clock `Instant` uses on Linux, and the one the
/// mock server stamps its sends with, so both sides of loopback compare.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own; CLOCK_MONOTONIC
    // is always available on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Converts `Instant`s to CLOCK_MONOTONIC ns through one anchor pair taken
/// at first use (the two clocks are the same clock on Linux). The anchor is
/// the narrowest of a few brackets `Instant`, clock, `Instant` (a pause in
/// one widens it), dated at the bracket's start: the clock was read at or
/// after it, so a converted time is never early (a stamp never precedes the
/// server's), only late by at most the bracket's width, tens of ns.
pub fn instant_to_monotonic_ns(t: Instant) -> u64 {
    static ANCHOR: OnceLock<(Instant, u64)> = OnceLock::new();
    let (a, ns) = *ANCHOR.get_or_init(|| {
        let mut best: Option<(Instant, u64, std::time::Duration)> = None;
        for _ in 0..8 {
            let a0 = Instant::now();
            let ns = monotonic_ns();
            let width = a0.elapsed();
            if best.is_none_or(|(_, _, w)| width < w) {
                best = Some((a0, ns, width));
            }
        }
        best.map_or_else(|| (Instant::now(), monotonic_ns()), |(a0, ns, _)| (a0, ns))
    });
    if t >= a {
        ns + (t - a).as_nanos() as u64
    } else {
        ns.saturating_sub((a - t).as_nanos() as u64)
    }
}

/// One request, as measured. Times are `Instant`s; reports convert them to
/// ns since the run's origin.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    /// Issue order within the run.
    pub seq: u64,
    /// Dataset index of the prompt.
    pub sample: usize,
    /// The run (core runs: the load generator's run; own drivers: 0).
    pub run: u64,
    /// When the request was due: the scheduled time (open loop) or the time
    /// the virtual user started it (closed loop). Latencies count from here,
    /// so time spent waiting inside the client is charged, not hidden.
    pub scheduled: Instant,
    /// When the request was handed to the connection (after any wait for a
    /// free connection and any connect).
    pub sent: Option<Instant>,
    /// Response head received.
    pub headers: Option<Instant>,
    /// First SSE event (any, including a role-only one) or first body byte.
    pub first_event: Option<Instant>,
    /// First chunk with non-empty content, reasoning or tool-call text.
    pub first_token: Option<Instant>,
    /// First chunk with non-empty content or tool-call text (reasoning
    /// excluded): the first token of the answer itself.
    pub first_content: Option<Instant>,
    /// Last chunk with text.
    pub last_token: Option<Instant>,
    /// Response complete (`[DONE]`, or the end of the body).
    pub done: Option<Instant>,
    /// Gaps between consecutive text chunks, ns.
    pub gaps_ns: Vec<u64>,
    pub status: Option<u16>,
    pub error: Option<RequestError>,
    pub output: OutputText,
    /// Lengths of (reasoning, content, tool_calls) right after the first
    /// text chunk: the rest is "the output after the first chunk" (TPOT).
    pub after_first: (usize, usize, usize),
    /// Text of the first text chunk.
    pub first_chunk_text: String,
    /// SSE events with text.
    pub text_chunks: u32,
    /// SSE events in total.
    pub events: u32,
    /// The stream's first event carried no text (a role-only chunk).
    pub opens_without_text: bool,
    pub usage: Option<Usage>,
    /// The server's own send time of the first text chunk (mock server).
    pub server_sent_ns: Option<u64>,
    /// The request opened a new connection.
    pub new_connection: bool,
    /// The server had closed the reused connection before answering; the
    /// request was sent again on a fresh one (see `client::exec`).
    pub retried: bool,
    pub stream: bool,
    /// Output tokens counted with the tokenizer (filled after the run).
    pub tokens: Option<u64>,
    /// Tokens after the first text chunk, by the tokenizer.
    pub tokens_after_first: Option<u64>,
    /// The shared prefix the prompt started with (filled after the run).
    pub prefix_id: Option<u32>,
    /// The multi-turn session and turn the request belongs to.
    pub session: Option<crate::session::SessionTurn>,
    /// Lengths of (reasoning, content, tool_calls) after each text chunk:
    /// the chunk boundaries, so each chunk's text can be tokenized after
    /// the run.
    pub chunk_ends: Vec<(u32, u32, u32)>,
    /// Cumulative `usage.completion_tokens` carried by each text chunk
    /// (servers with continuous usage stats); usable only when every text
    /// chunk carried one.
    pub chunk_usage: Vec<u64>,
    /// Tokens in each text chunk (filled after the run, see
    /// [`RequestRecord::fill_chunk_tokens`]).
    pub chunk_tokens: Vec<u32>,
    /// Where `chunk_tokens` came from: `usage`, `tokenizer` or `chunks`
    /// (one per chunk); empty before the run's end.
    pub chunk_token_source: &'static str,
    /// Reasoning tokens counted with the tokenizer (filled after the run
    /// when the server reported none).
    pub reasoning_tokens_counted: Option<u64>,
    /// The request class of the prompt (filled after the run).
    pub class: Option<String>,
    /// Embeddings: vectors in the answer.
    pub items: Option<u64>,
    /// Embeddings: texts sent (filled after the run).
    pub items_sent: Option<u64>,
}

impl RequestRecord {
    pub fn new(seq: u64, sample: usize, scheduled: Instant, stream: bool) -> Self {
        RequestRecord {
            seq,
            sample,
            run: 0,
            scheduled,
            sent: None,
            headers: None,
            first_event: None,
            first_token: None,
            first_content: None,
            last_token: None,
            done: None,
            gaps_ns: Vec::new(),
            status: None,
            error: None,
            output: OutputText::default(),
            after_first: (0, 0, 0),
            first_chunk_text: String::new(),
            text_chunks: 0,
            events: 0,
            opens_without_text: false,
            usage: None,
            server_sent_ns: None,
            new_connection: false,
            retried: false,
            stream,
            tokens: None,
            tokens_after_first: None,
            prefix_id: None,
            session: None,
            chunk_ends: Vec::new(),
            chunk_usage: Vec::new(),
            chunk_tokens: Vec::new(),
            chunk_token_source: "",
            reasoning_tokens_counted: None,
            class: None,
            items: None,
            items_sent: None,
        }
    }

    /// Notes a chunk that added text (called by the stream reader after
    /// the chunk was applied): its boundary, its cumulative usage if it
    /// carried one, and the first-content stamp. `before` holds the lengths
    /// of (reasoning, content, tool_calls) before the chunk.
    pub fn note_text_chunk(
        &mut self,
        before: (usize, usize, usize),
        usage: Option<Usage>,
        now: Instant,
    ) {
        let o = &self.output;
        let after = (o.reasoning.len(), o.content.len(), o.tool_calls.len());
        if self.first_content.is_none() && (after.1 > before.1 || after.2 > before.2) {
            self.first_content = Some(now);
        }
        self.chunk_ends
            .push((after.0 as u32, after.1 as u32, after.2 as u32));
        if let Some(n) = usage.and_then(|u| u.completion_tokens) {
            self.chunk_usage.push(n);
        }
    }

    /// The text of each text chunk, in order (reasoning, content, then
    /// tool-call text of the chunk).
    pub fn chunk_texts(&self) -> Vec<String> {
        let o = &self.output;
        let mut prev = (0usize, 0usize, 0usize);
        let mut out = Vec::with_capacity(self.chunk_ends.len());
        for &(r, c, t) in &self.chunk_ends {
            let (r, c, t) = (r as usize, c as usize, t as usize);
            let mut s = String::new();
            s.push_str(o.reasoning.get(prev.0..r).unwrap_or(""));
            s.push_str(o.content.get(prev.1..c).unwrap_or(""));
            s.push_str(o.tool_calls.get(prev.2..t).unwrap_or(""));
            out.push(s);
            prev = (r, c, t);
        }
        out
    }

    /// Fills [`chunk_tokens`](Self::chunk_tokens): from the cumulative
    /// usage every chunk carried when the server sent it (continuous usage
    /// stats), else the tokenizer over each chunk's text, else one per
    /// chunk. Also counts the reasoning tokens with the tokenizer when the
    /// server reported none.
    pub fn fill_chunk_tokens(&mut self, tokenizer: Option<&TokenCounter>) {
        if !self.output.reasoning.is_empty()
            && self.usage.and_then(|u| u.reasoning_tokens()).is_none()
        {
            if let Some(t) = tokenizer {
                self.reasoning_tokens_counted = t.count(&self.output.reasoning);
            }
        }
        let n = self.chunk_ends.len();
        if n == 0 {
            return;
        }
        if self.chunk_usage.len() == n {
            let mut prev = 0u64;
            self.chunk_tokens = self
                .chunk_usage
                .iter()
                .map(|&cum| {
                    let k = cum.saturating_sub(prev);
                    prev = prev.max(cum);
                    k.min(u64::from(u32::MAX)) as u32
                })
                .collect();
            self.chunk_token_source = "usage";
            return;
        }
        if let Some(counts) = tokenizer.and_then(|t| self.tokens_per_chunk(t)) {
            self.chunk_tokens = counts;
            self.chunk_token_source = "tokenizer";
            return;
        }
        self.chunk_tokens = vec![1; n];
        self.chunk_token_source = "chunks";
    }

    /// Tokens of each text chunk by the tokenizer: each of the reasoning,
    /// content and tool-call texts is encoded once, and a token belongs to
    /// the chunk its first byte arrived in (a token split over two chunks
    /// counts in the first). One encoding per text, not one per chunk.
    fn tokens_per_chunk(&self, t: &TokenCounter) -> Option<Vec<u32>> {
        let mut counts = vec![0u32; self.chunk_ends.len()];
        let o = &self.output;
        type EndOf = fn(&(u32, u32, u32)) -> u32;
        let texts: [(&str, EndOf); 3] = [
            (&o.reasoning, |e| e.0),
            (&o.content, |e| e.1),
            (&o.tool_calls, |e| e.2),
        ];
        for (text, end_of) in texts {
            if text.is_empty() {
                continue;
            }
            let starts = t.token_starts(text)?;
            let mut chunk = 0;
            for start in starts {
                // Chunks whose text ends at or before this token's start
                // hold none of it.
                while chunk + 1 < counts.len() && end_of(&self.chunk_ends[chunk]) as usize <= start
                {
                    chunk += 1;
                }
                counts[chunk] = counts[chunk].saturating_add(1);
            }
        }
        Some(counts)
    }

    /// Per-token inter-token latencies, ns: the gap before a chunk of `k`
    /// tokens counts as `k` gaps of `gap / k` (as MLPerf Endpoints and the
    /// serving benchmarks compute ITL). A chunk with no tokens passes its
    /// gap on to the next chunk that has some. Without token counts per
    /// chunk, one token per chunk (the chunk gaps themselves).
    pub fn token_gaps_ns(&self) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.gaps_ns.len());
        let mut pending = 0u64;
        for (j, &gap) in self.gaps_ns.iter().enumerate() {
            let k = self.chunk_tokens.get(j + 1).copied().unwrap_or(1);
            pending += gap;
            if k > 0 {
                let each = pending as f64 / f64::from(k);
                out.extend(std::iter::repeat_n(each, k as usize));
                pending = 0;
            }
        }
        out
    }

    /// Reasoning tokens: the server's `completion_tokens_details`, else the
    /// tokenizer's count of the reasoning text; none for an answer without
    /// reasoning.
    pub fn reasoning_tokens(&self) -> Option<u64> {
        self.usage
            .and_then(|u| u.reasoning_tokens())
            .or(self.reasoning_tokens_counted)
            .or(self.output.reasoning.is_empty().then_some(0))
    }

    /// Prompt tokens the server served from its prefix cache.
    pub fn cached_tokens(&self) -> Option<u64> {
        self.usage.and_then(|u| u.cached_tokens())
    }

    /// Time to the first content (or tool-call) token from the due time:
    /// TTFT that does not count reasoning as an answer.
    pub fn ttft_content_ns(&self) -> Option<u64> {
        self.ns(self.first_content)
    }

    pub fn ok(&self) -> bool {
        self.error.is_none()
    }

    /// The output generated after the first text chunk.
    pub fn text_after_first(&self) -> String {
        let (r, c, t) = self.after_first;
        let o = &self.output;
        let mut s = String::new();
        s.push_str(o.reasoning.get(r..).unwrap_or(""));
        s.push_str(o.content.get(c..).unwrap_or(""));
        s.push_str(o.tool_calls.get(t..).unwrap_or(""));
        s
    }

    /// Output tokens by the best available source: the tokenizer, else the
    /// server's usage, else (streams) one per text chunk.
    pub fn output_tokens(&self) -> Option<u64> {
        self.tokens
            .or(self.usage.and_then(|u| u.completion_tokens))
            .or((self.stream && self.text_chunks > 0).then_some(self.text_chunks as u64))
    }

    /// Tokens after the first chunk, the TPOT divisor (MLPerf Endpoints):
    /// the tokenizer's count of the text after the first chunk, else the
    /// total minus the first chunk's tokens (one, for servers that send one
    /// token per chunk).
    pub fn output_tokens_after_first(&self) -> Option<u64> {
        self.tokens_after_first
            .or_else(|| self.output_tokens().map(|n| n.saturating_sub(1)))
    }

    /// The source [`output_tokens`](Self::output_tokens) used.
    pub fn token_source(&self) -> &'static str {
        if self.tokens.is_some() {
            "tokenizer"
        } else if self.usage.and_then(|u| u.completion_tokens).is_some() {
            "usage"
        } else if self.stream && self.text_chunks > 0 {
            "chunks"
        } else {
            "none"
        }
    }

    fn ns(&self, t: Option<Instant>) -> Option<u64> {
        t.map(|t| t.saturating_duration_since(self.scheduled).as_nanos() as u64)
    }

    /// Time to first token from the due time.
    pub fn ttft_ns(&self) -> Option<u64> {
        self.ns(self.first_token)
    }

    /// End-to-end latency from the due time.
    pub fn latency_ns(&self) -> Option<u64> {
        self.ns(self.done)
    }

    /// Time the request waited in the client before it was sent.
    pub fn send_wait_ns(&self) -> Option<u64> {
        self.ns(self.sent)
    }

    /// MLPerf Endpoints TPOT: (completion - first chunk) / tokens after the
    /// first chunk; none without tokens after the first chunk.
    pub fn tpot_ns(&self) -> Option<f64> {
        let (ft, done) = (self.first_token?, self.done?);
        let n = self.output_tokens_after_first()?;
        (n > 0).then(|| done.saturating_duration_since(ft).as_nanos() as f64 / n as f64)
    }

    /// The client's arrival time of the first token minus the server's own
    /// send stamp: what the client adds to TTFT (loopback + scheduling).
    pub fn first_token_delay_ns(&self) -> Option<i64> {
        let sent = self.server_sent_ns?;
        let arrived = instant_to_monotonic_ns(self.first_token?);
        Some(arrived as i64 - sent as i64)
    }
}

/// After-the-run bookkeeping of every record: its request class, the
/// tokens of each chunk and the reasoning tokens (see
/// [`RequestRecord::fill_chunk_tokens`], spread over the cores), and for
/// embeddings the texts sent, an answer with another number of vectors
/// becoming a failed request.
pub fn annotate_records(
    records: &mut [RequestRecord],
    class_of: &dyn Fn(usize) -> Option<String>,
    tokenizer: Option<&TokenCounter>,
    embedding_inputs: Option<u64>,
) {
    for r in records.iter_mut() {
        r.class = class_of(r.sample);
        if let Some(sent) = embedding_inputs {
            r.items_sent = Some(sent);
            if let (true, Some(got)) = (r.ok(), r.items) {
                if got != sent {
                    r.error = Some(RequestError::EmbeddingCount { got, sent });
                }
            }
        }
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = records.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        for part in records.chunks_mut(chunk) {
            s.spawn(move || {
                for r in part.iter_mut().filter(|r| r.ok()) {
                    r.fill_chunk_tokens(tokenizer);
                }
            });
        }
    });
}

//! Which of a server's metric names mean what: the canonical table.
//!
//! Names checked against the engines' sources (2026-12): vLLM
//! `vllm/v1/metrics/loggers.py` (counters are declared without `_total`;
//! `prometheus_client` adds it on the wire), SGLang
//! `python/sglang/srt/metrics/collector.py` and its production-metrics
//! page, TGI's router (`metrics::gauge!("tgi_batch_current_size")`,
//! `tgi_request_generated_tokens` a histogram, so its `_sum` is the running
//! total), llama.cpp's server README (`llamacpp:*`), Triton's
//! `docs/user_guide/metrics.md`.

use crate::FlatSample;

/// A gauge is summarised (min/mean/max); a counter becomes a delta and a
/// rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    Counter,
}

/// How the label sets of one metric combine into one value per scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Across {
    /// Counts add up over models and engine replicas.
    Sum,
    /// Fractions do not: the fullest cache is the one that limits.
    Max,
    /// Rates of several caches: their mean.
    Mean,
}

/// One canonical metric and the engine names it is read from.
#[derive(Debug, Clone, Copy)]
pub struct Canonical {
    pub name: &'static str,
    pub kind: Kind,
    pub unit: &'static str,
    pub across: Across,
    /// `(engine, metric name)`, in order of preference: a scrape uses the
    /// first one it has, so one engine's old and new names (vLLM's
    /// `gpu_cache_usage_perc` and `kv_cache_usage_perc`) never add up.
    pub sources: &'static [(&'static str, &'static str)],
}

pub const RUNNING: &str = "running_requests";
pub const WAITING: &str = "waiting_requests";
pub const KV_CACHE: &str = "kv_cache_usage";
pub const HIT_RATE_GAUGE: &str = "prefix_cache_hit_rate";
pub const PROMPT_TOKENS: &str = "prompt_tokens";
pub const GENERATION_TOKENS: &str = "generation_tokens";
pub const PREFIX_QUERIES: &str = "prefix_cache_queries";
pub const PREFIX_HITS: &str = "prefix_cache_hits";

/// Every metric recognised.
pub const CANONICAL: &[Canonical] = &[
    Canonical {
        name: RUNNING,
        kind: Kind::Gauge,
        unit: "requests",
        across: Across::Sum,
        sources: &[
            ("vllm", "vllm:num_requests_running"),
            ("sglang", "sglang:num_running_reqs"),
            ("tgi", "tgi_batch_current_size"),
            ("llamacpp", "llamacpp:requests_processing"),
            ("yardstick-mock", "yardstick_mock_requests_running"),
        ],
    },
    Canonical {
        name: WAITING,
        kind: Kind::Gauge,
        unit: "requests",
        across: Across::Sum,
        sources: &[
            ("vllm", "vllm:num_requests_waiting"),
            ("sglang", "sglang:num_queue_reqs"),
            ("tgi", "tgi_queue_size"),
            ("llamacpp", "llamacpp:requests_deferred"),
            ("triton", "nv_inference_pending_request_count"),
            ("yardstick-mock", "yardstick_mock_requests_waiting"),
        ],
    },
    Canonical {
        name: KV_CACHE,
        kind: Kind::Gauge,
        unit: "1",
        across: Across::Max,
        sources: &[
            ("vllm", "vllm:kv_cache_usage_perc"),
            ("vllm", "vllm:gpu_cache_usage_perc"),
            ("sglang", "sglang:token_usage"),
            ("llamacpp", "llamacpp:kv_cache_usage_ratio"),
        ],
    },
    Canonical {
        name: HIT_RATE_GAUGE,
        kind: Kind::Gauge,
        unit: "1",
        across: Across::Mean,
        sources: &[
            ("sglang", "sglang:cache_hit_rate"),
            ("vllm", "vllm:gpu_prefix_cache_hit_rate"),
        ],
    },
    Canonical {
        name: PROMPT_TOKENS,
        kind: Kind::Counter,
        unit: "tokens",
        across: Across::Sum,
        sources: &[
            ("vllm", "vllm:prompt_tokens_total"),
            ("sglang", "sglang:prompt_tokens_total"),
            ("llamacpp", "llamacpp:prompt_tokens_total"),
        ],
    },
    Canonical {
        name: GENERATION_TOKENS,
        kind: Kind::Counter,
        unit: "tokens",
        across: Across::Sum,
        sources: &[
            ("vllm", "vllm:generation_tokens_total"),
            ("sglang", "sglang:generation_tokens_total"),
            ("llamacpp", "llamacpp:tokens_predicted_total"),
            ("tgi", "tgi_request_generated_tokens_sum"),
        ],
    },
    Canonical {
        name: PREFIX_QUERIES,
        kind: Kind::Counter,
        unit: "tokens",
        across: Across::Sum,
        sources: &[("vllm", "vllm:prefix_cache_queries_total")],
    },
    Canonical {
        name: PREFIX_HITS,
        kind: Kind::Counter,
        unit: "tokens",
        across: Across::Sum,
        sources: &[("vllm", "vllm:prefix_cache_hits_total")],
    },
    Canonical {
        name: "requests_finished",
        kind: Kind::Counter,
        unit: "requests",
        across: Across::Sum,
        sources: &[
            ("vllm", "vllm:request_success_total"),
            ("tgi", "tgi_request_success"),
            ("triton", "nv_inference_request_success"),
        ],
    },
    Canonical {
        name: "requests_received",
        kind: Kind::Counter,
        unit: "requests",
        across: Across::Sum,
        sources: &[("yardstick-mock", "yardstick_mock_requests_total")],
    },
    Canonical {
        name: "inferences",
        kind: Kind::Counter,
        unit: "inferences",
        across: Across::Sum,
        sources: &[("triton", "nv_inference_count")],
    },
    Canonical {
        name: "executions",
        kind: Kind::Counter,
        unit: "executions",
        across: Across::Sum,
        sources: &[("triton", "nv_inference_exec_count")],
    },
];

/// Whether `name` is one of the table's engine names.
pub fn is_recognised(name: &str) -> bool {
    CANONICAL
        .iter()
        .any(|c| c.sources.iter().any(|(_, m)| *m == name))
}

/// Whether the metric family `family` holds a recognised metric (a
/// histogram family holds its `_sum`).
pub fn is_wanted_family(family: &str) -> bool {
    CANONICAL.iter().any(|c| {
        c.sources
            .iter()
            .any(|(_, m)| crate::parse::belongs(m, family))
    })
}

/// One canonical metric's value in one scrape, and the engine name it
/// came from; `None` when the scrape has none of its names.
pub fn read(
    canonical: &Canonical,
    samples: &[FlatSample],
) -> Option<(f64, &'static str, &'static str)> {
    canonical.sources.iter().find_map(|&(engine, metric)| {
        let values: Vec<f64> = samples
            .iter()
            .filter(|s| s.name == metric && s.value.is_finite())
            .map(|s| s.value)
            .collect();
        if values.is_empty() {
            return None;
        }
        let v = match canonical.across {
            Across::Sum => values.iter().sum(),
            Across::Max => values.iter().copied().fold(f64::MIN, f64::max),
            Across::Mean => values.iter().sum::<f64>() / values.len() as f64,
        };
        Some((v, engine, metric))
    })
}

//! MLPerf Inference quality targets and latency bounds.
//!
//! Source: the submission checker of the MLPerf Inference repository,
//! `tools/submission/submission_checker/constants.py` (`MODEL_CONFIG`
//! "accuracy-target", "accuracy-upper-limit", "latency-constraint" and
//! `LLM_LATENCY_LIMITS`), round v6.0 unless noted; gptj and the
//! llama2-70b-interactive names come from round v5.0/v5.1, and the models
//! new in v6.1 from v6.1. A threshold is `reference * fraction`, computed in
//! f64 exactly as the checker's Python expression is (`76.46 * 0.99`), and
//! compared against the value as printed in accuracy.txt, as the checker
//! does after parsing it.
//!
//! The metric keys are the checker's (`acc`, `F1`, `ROUGE1`, ...): they
//! select the regular expression it applies to accuracy.txt.

/// One lower bound on a quality metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetMetric {
    /// The checker's metric key, e.g. `ROUGE1`.
    pub key: &'static str,
    /// The reference implementation's value (FP32 / BF16 reference).
    pub reference: f64,
    /// The required fraction of it: 0.99, 0.999, 0.9 (token counts), 0.95,
    /// or 1.0 where the checker states an absolute bound.
    pub fraction: f64,
}

impl TargetMetric {
    /// The bound the checker applies: `reference * fraction`.
    pub fn threshold(&self) -> f64 {
        self.reference * self.fraction
    }
}

/// One upper bound (generation length must not be inflated either).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UpperLimit {
    pub key: &'static str,
    pub limit: f64,
}

/// Time-to-first-token and time-per-output-token bounds of an LLM scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LlmLatency {
    pub scenario: &'static str,
    pub ttft_ns: u64,
    pub tpot_ns: u64,
}

/// Which `yardstick accuracy --metric` scores a benchmark's quality metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scorer {
    Top1,
    Squad,
    Rouge,
    Wer,
    ExactMatch,
    /// Scored by a method yardstick does not implement (mAP, DICE, AUC,
    /// CLIP/FID, pass@1 ...).
    External,
}

/// A benchmark's quality target and latency bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityTarget {
    /// The checker's model name, e.g. `llama2-70b-99.9`.
    pub benchmark: &'static str,
    /// Other names that map to it (the checker's `model_mapping`).
    pub aliases: &'static [&'static str],
    /// The round whose table the numbers come from.
    pub round: &'static str,
    /// The metric that yardstick can compute for it.
    pub scorer: Scorer,
    /// Lower bounds, all of which must hold.
    pub metrics: &'static [TargetMetric],
    /// Upper bounds (token counts), all of which must hold.
    pub upper_limits: &'static [UpperLimit],
    /// Server scenario latency bound on the 99th (LLMs: 99th of TTFT)
    /// percentile, in nanoseconds.
    pub server_latency_ns: Option<u64>,
    /// LLM TTFT/TPOT bounds per scenario.
    pub llm_latency: &'static [LlmLatency],
}

impl QualityTarget {
    /// The metric with `key`, if the target has one.
    pub fn metric(&self, key: &str) -> Option<&TargetMetric> {
        self.metrics.iter().find(|m| m.key == key)
    }
}

const fn m(key: &'static str, reference: f64, fraction: f64) -> TargetMetric {
    TargetMetric {
        key,
        reference,
        fraction,
    }
}

const fn up(key: &'static str, limit: f64) -> UpperLimit {
    UpperLimit { key, limit }
}

const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

const fn llm(scenario: &'static str, ttft_ms: u64, tpot_ms: u64) -> LlmLatency {
    LlmLatency {
        scenario,
        ttft_ns: ttft_ms * MS,
        tpot_ns: tpot_ms * MS,
    }
}

const NONE_UP: &[UpperLimit] = &[];
const NONE_LLM: &[LlmLatency] = &[];

const LLAMA2_ROUGE_99: &[TargetMetric] = &[
    m("ROUGE1", 44.4312, 0.99),
    m("ROUGE2", 22.0352, 0.99),
    m("ROUGEL", 28.6162, 0.99),
    m("TOKENS_PER_SAMPLE", 294.45, 0.9),
];
const LLAMA2_ROUGE_999: &[TargetMetric] = &[
    m("ROUGE1", 44.4312, 0.999),
    m("ROUGE2", 22.0352, 0.999),
    m("ROUGEL", 28.6162, 0.999),
    m("TOKENS_PER_SAMPLE", 294.45, 0.9),
];
const LLAMA2_UP: &[UpperLimit] = &[up("TOKENS_PER_SAMPLE", 294.45 * 1.1)];
const LLAMA2_LLM: &[LlmLatency] = &[llm("Server", 2000, 200), llm("Interactive", 450, 40)];
const LLAMA2_INTERACTIVE_LLM: &[LlmLatency] = &[llm("Server", 450, 40)];

/// The table. Order: the checker's v6.0 model list, then older and newer
/// names.
pub const QUALITY_TARGETS: &[QualityTarget] = &[
    QualityTarget {
        benchmark: "resnet",
        aliases: &["resnet50", "mobilenet"],
        round: "v6.0",
        scorer: Scorer::Top1,
        metrics: &[m("acc", 76.46, 0.99)],
        upper_limits: NONE_UP,
        server_latency_ns: Some(15 * MS),
        llm_latency: NONE_LLM,
    },
    QualityTarget {
        benchmark: "retinanet",
        aliases: &["ssd-resnet34"],
        round: "v6.0",
        scorer: Scorer::External,
        metrics: &[m("mAP", 37.55, 0.99)],
        upper_limits: NONE_UP,
        server_latency_ns: Some(100 * MS),
        llm_latency: NONE_LLM,
    },
    QualityTarget {
        benchmark: "bert-99",
        aliases: &[],
        round: "v6.0",
        scorer: Scorer::Squad,
        metrics: &[m("F1", 90.874, 0.99)],
        upper_limits: NONE_UP,
        server_latency_ns: None,
        llm_latency: NONE_LLM,
    },
    QualityTarget {
        benchmark: "bert-99.9",
        aliases: &[],
        round: "v6.0",
        scorer: Scorer::Squad,
        metrics: &[m("F1", 90.874, 0.999)],
        upper_limits: NONE_UP,
        server_latency_ns: None,
        llm_latency: NONE_LLM,
    },
    QualityTarget {
        benchmark: "dlrm-v2-99",
        aliases: &[],
        round: "v6.0",
        scorer: Scorer::External,
        metrics: &[m("AUC", 80.31, 0.99)],
        upper_limits: NONE_UP,
        server_latency_ns: Some(60 * MS),
        llm_latency: NONE_LLM,
    },
    QualityTarget {
        benchmark: "dlrm-v2-99.9",
        aliases: &[],
        round: "v6.0",
        scorer: Scorer::External,
        metrics: &[m("AUC", 80.31, 0.999)],
        upper_limits: NONE_UP,
        server_latency_ns: Some(60 * MS),
        llm_latency: NONE_LLM,
    },
    QualityTarget {
        benchmark: "3d-unet-99",
        aliases: &[],
        round: "v6.0",
        scorer: Scorer::External,
        metrics: &[m("DICE", 0.86170, 0.99)],
        upper_limits: NONE_UP,
        server_latency_ns: None,
        llm_latency: NONE_LLM,
    },
    QualityTarget {
        benchmark: "3d-unet-99.9",
        aliases: &[],
        round: "v6.0",
        scorer: Scorer::External,
        metrics: &[m("DICE", 0.86170, 0.999)],
        upper_limits: NONE_UP,
        server_latency_ns: None,
        llm_latency: NONE_LLM,
    },
    QualityTarget {
        benchmark: "gptj-99",
        aliases: &[],
        round: "v5.1",
        scorer: Scorer::Rouge,
        metrics: &[
            m("ROUGE1", 42.9865, 0.99),
            m("ROUGE2", 20.1235, 0.99),
            m("ROUGEL", 29.9881, 0.99),
            m("GEN_LEN", 4016878.0, 0.9),
        ],
        upper_limits: NONE_UP,
        server_latency_ns: Some(20 * S),
        llm_latency: NONE_LLM,
    },
    QualityTarget {
        benchmark: "gptj-99.9",
        aliases: &[],
        round: "v5.1",
        scorer: Scorer::Rouge,
        metrics: &[
            m("ROUGE1", 42.9865, 0.999),
            m("ROUGE2", 20.1235, 0.999),
            m("ROUGEL", 29.9881, 0.999),
            m("GEN_LEN", 4016878.0, 0.9),
        ],
        upper_limits: NONE_UP,
        server_latency_ns: Some(20 * S),
        llm_latency: NONE_LLM,
    },
    QualityTarget {
        benchmark: "llama3.1-8b",
        aliases: &["llama3_1-8b"],
        round: "v6.0",
        scorer: Scorer::Rouge,
        metrics: &[
            m("ROUGE1", 38.7792, 0.99),
            m("ROUGE2", 15.9075, 0.99),
            m("ROUGEL", 24.4957, 0.99),
            m("ROUGELSUM", 35.793, 0.99),
            m("GEN_LEN", 8167644.0, 0.9),
        ],
        upper_limits: &[up("GEN_LEN", 8167644.0 * 1.1)],
        server_latency_ns: Some(20 * S),
        llm_latency: &[llm("Server", 2000, 100), llm("Interactive", 500, 30)],
    },
    QualityTarget {
        benchmark: "llama3.1-8b-edge",
        aliases: &["llama3_1-8b-edge"],
        round: "v6.0",
        scorer: Scorer::Rouge,
        metrics: &[
            m("ROUGE1", 39.06, 0.99),
            m("ROUGE2", 16.1147, 0.99),
            m("ROUGEL", 24.6375, 0.99),
            m("ROUGELSUM", 36.124, 0.99),
            m("GEN_LEN", 3051113.0, 0.9),
        ],
        upper_limits: &[up("GEN_LEN", 3051113.0 * 1.1)],
        server_latency_ns: None,
        llm_latency: NONE_LLM,
    },
    QualityTarget {
        benchmark: "llama2-70b-99",
        aliases: &[],
        round: "v6.0",
        scorer: Scorer::Rouge,
        metrics: LLAMA2_ROUGE_99,
        upper_limits: LLAMA2_UP,
        server_latency_ns: Some(20 * S),
        llm_latency: LLAMA2_LLM,
    },
    QualityTarget {
        benchmark: "llama2-70b-99.9",
        aliases: &[],
        round: "v6.0",
        scorer: Scorer::Rouge,
        metrics: LLAMA2_ROUGE_999,
        upper_limits: LLAMA2_UP,
        server_latency_ns: Some(20 * S),
        llm_latency: LLAMA2_LLM,
    },
    QualityTarget {
        benchmark: "llama2-70b-interactive-99",
        aliases: &[],
        round: "v5.0",
        scorer: Scorer::Rouge,
        metrics: LLAMA2_ROUGE_99,
        upper_limits: LLAMA2_UP,
        server_latency_ns: Some(20 * S),
        llm_latency: LLAMA2_INTERACTIVE_LLM,
    },
    QualityTarget {
        benchmark: "llama2-70b-interactive-99.9",
        aliases: &[],
        round: "v5.0",
        scorer: Scorer::Rouge,
        metrics: LLAMA2_ROUGE_999,
        upper_limits: LLAMA2_UP,
        server_latency_ns: Some(20 * S),
        llm_latency: LLAMA2_INTERACTIVE_LLM,
    },
    QualityTarget {
        benchmark: "stable-diffusion-xl",
        aliases: &[],
        round: "v6.0",
        scorer: Scorer::External,
        // Absolute bounds: CLIP in [31.68631873, 31.81331801], FID in
        // [23.01085758, 23.95007626].
        metrics: &[
            m("CLIP_SCORE", 31.68631873, 1.0),
            m("FID_SCORE", 23.01085758, 1.0),
        ],
        upper_limits: &[up("CLIP_SCORE", 31.81331801), up("FID_SCORE", 23.95007626)],
        server_latency_ns: Some(20 * S),
        llm_latency: NONE_LLM,
    },
    QualityTarget {
        benchmark: "mixtral-8x7b",
        aliases: &[],
        round: "v6.0",
        // OpenOrca ROUGE, GSM8K exact match and MBXP pass@1 on one log;
        // yardstick scores the first two (one metric per run).
        scorer: Scorer::Rouge,
        metrics: &[
            m("ROUGE1", 45.5989, 0.99),
            m("ROUGE2", 23.3526, 0.99),
            m("ROUGEL", 30.4608, 0.99),
            m("TOKENS_PER_SAMPLE", 144.84, 0.9),
            m("gsm8k_accuracy", 73.66, 0.99),
            m("mbxp_accuracy", 60.16, 0.99),
        ],
        upper_limits: &[up("TOKENS_PER_SAMPLE", 145.9 * 1.1)],
        server_latency_ns: Some(20 * S),
        llm_latency: &[llm("Server", 2000, 200)],
    },
    QualityTarget {
        benchmark: "llama3.1-405b",
        aliases: &["llama3_1-405b"],
        round: "v6.0",
        // ROUGE-L, needle-in-a-haystack and QA exact match per sample.
        scorer: Scorer::External,
        metrics: &[
            m("ROUGEL", 21.6666, 0.99),
            m("exact_match", 90.1335, 0.99),
            m("TOKENS_PER_SAMPLE", 684.68, 0.9),
        ],
        upper_limits: &[up("TOKENS_PER_SAMPLE", 684.68 * 1.1)],
        server_latency_ns: Some(60 * S),
        llm_latency: &[llm("Server", 6000, 175), llm("Interactive", 4500, 80)],
    },
    QualityTarget {
        benchmark: "rgat",
        aliases: &[],
        round: "v6.0",
        // Node classification accuracy as a fraction (0.7286), not the
        // percentage that ImageNet top-1 prints.
        scorer: Scorer::External,
        metrics: &[m("acc", 0.7286, 0.99)],
        upper_limits: NONE_UP,
        server_latency_ns: None,
        llm_latency: NONE_LLM,
    },
    QualityTarget {
        benchmark: "pointpainting",
        aliases: &[],
        round: "v6.0",
        scorer: Scorer::External,
        metrics: &[m("mAP", 0.5425, 0.999)],
        upper_limits: NONE_UP,
        server_latency_ns: None,
        llm_latency: NONE_LLM,
    },
    QualityTarget {
        benchmark: "deepseek-r1",
        aliases: &[],
        round: "v6.0",
        // Mixed math / multiple-choice / code evaluation per dataset.
        scorer: Scorer::External,
        metrics: &[
            m("exact_match", 81.3582, 0.99),
            m("TOKENS_PER_SAMPLE", 3886.2274, 0.9),
        ],
        upper_limits: &[up("TOKENS_PER_SAMPLE", 1.1 * 3886.2274)],
        server_latency_ns: Some(60 * S),
        llm_latency: &[llm("Server", 2000, 80), llm("Interactive", 1500, 15)],
    },
    QualityTarget {
        benchmark: "whisper",
        aliases: &[],
        round: "v6.0",
        scorer: Scorer::Wer,
        // The reference WER is 2.0671 %; the target is on 100 - WER.
        metrics: &[m("ACCURACY", 100.0 - 2.0671, 0.99)],
        upper_limits: NONE_UP,
        server_latency_ns: None,
        llm_latency: NONE_LLM,
    },
    QualityTarget {
        benchmark: "gpt-oss-120b",
        aliases: &[],
        round: "v6.0",
        // AIME / GPQA / LiveCodeBench mix.
        scorer: Scorer::External,
        metrics: &[m("exact_match", 83.13, 0.99)],
        upper_limits: &[up("TOKENS_PER_SAMPLE", 1.1 * 9999.0)],
        server_latency_ns: Some(60 * S),
        llm_latency: &[llm("Server", 3000, 80), llm("Interactive", 2000, 15)],
    },
    QualityTarget {
        benchmark: "qwen3-vl-235b-a22b",
        aliases: &[],
        round: "v6.0",
        scorer: Scorer::External,
        metrics: &[m("F1_HIERARCHICAL", 0.7903, 0.99)],
        upper_limits: NONE_UP,
        server_latency_ns: Some(12 * S),
        llm_latency: NONE_LLM,
    },
    QualityTarget {
        benchmark: "dlrm-v3",
        aliases: &[],
        round: "v6.0",
        scorer: Scorer::External,
        metrics: &[
            m("DLRM_NE", 0.86687, 0.999),
            m("DLRM_ACC", 0.69651, 0.999),
            m("DLRM_AUC", 0.78663, 0.999),
        ],
        upper_limits: NONE_UP,
        server_latency_ns: Some(60 * S),
        llm_latency: NONE_LLM,
    },
    QualityTarget {
        benchmark: "yolo-95",
        aliases: &[],
        round: "v6.0",
        scorer: Scorer::External,
        metrics: &[m("mAP", 53.4, 0.95)],
        upper_limits: NONE_UP,
        server_latency_ns: None,
        llm_latency: NONE_LLM,
    },
    QualityTarget {
        benchmark: "yolo-99",
        aliases: &[],
        round: "v6.0",
        scorer: Scorer::External,
        metrics: &[m("mAP", 53.4, 0.99)],
        upper_limits: NONE_UP,
        server_latency_ns: None,
        llm_latency: NONE_LLM,
    },
    QualityTarget {
        benchmark: "wan-2.2-t2v-a14b",
        aliases: &[],
        round: "v6.0",
        scorer: Scorer::External,
        metrics: &[m("vbench_score", 70.48, 0.99)],
        upper_limits: NONE_UP,
        server_latency_ns: None,
        llm_latency: NONE_LLM,
    },
    QualityTarget {
        benchmark: "e2e-rag-qna",
        aliases: &[],
        round: "v6.1",
        scorer: Scorer::External,
        metrics: &[m("E2E_ACCURACY", 33.95, 1.0)],
        upper_limits: NONE_UP,
        server_latency_ns: None,
        llm_latency: NONE_LLM,
    },
    QualityTarget {
        benchmark: "e2e-rag-db",
        aliases: &[],
        round: "v6.1",
        scorer: Scorer::External,
        metrics: &[m("E2E_ACCURACY", 98.0, 1.0)],
        upper_limits: NONE_UP,
        server_latency_ns: None,
        llm_latency: NONE_LLM,
    },
    QualityTarget {
        benchmark: "qwen3.6-27b",
        aliases: &[],
        round: "v6.1",
        scorer: Scorer::External,
        metrics: &[m("mAP", 86.23, 0.99)],
        upper_limits: NONE_UP,
        server_latency_ns: None,
        llm_latency: NONE_LLM,
    },
];

/// The target of a benchmark by its checker name or an alias
/// (case-insensitive).
pub fn quality_target(name: &str) -> Option<&'static QualityTarget> {
    let name = name.trim();
    QUALITY_TARGETS.iter().find(|t| {
        t.benchmark.eq_ignore_ascii_case(name)
            || t.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

/// All benchmark names, for messages.
pub fn benchmark_names() -> Vec<&'static str> {
    QUALITY_TARGETS.iter().map(|t| t.benchmark).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_the_checker_products() {
        let r = quality_target("resnet50").unwrap();
        assert_eq!(r.metrics[0].threshold(), 76.46 * 0.99);
        let w = quality_target("whisper").unwrap();
        assert_eq!(w.metrics[0].threshold(), (100.0 - 2.0671) * 0.99);
        let l = quality_target("LLAMA2-70B-99.9").unwrap();
        assert_eq!(l.metric("ROUGE1").unwrap().threshold(), 44.4312 * 0.999);
        assert_eq!(l.upper_limits[0].limit, 294.45 * 1.1);
        assert_eq!(l.llm_latency[1].ttft_ns, 450_000_000);
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = QUALITY_TARGETS
            .iter()
            .flat_map(|t| std::iter::once(t.benchmark).chain(t.aliases.iter().copied()))
            .collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
        assert!(quality_target("nope").is_none());
    }
}

//! The official RCP files, embedded (see `rcps/README.md` for their source
//! and licence), and the benchmark tables of the RCP checker.

/// `(usage_ruleset, benchmark, JSON text)`.
static RCP_FILES: &[(&str, &str, &str)] = &[
    (
        "training_5.1.0",
        "bert",
        include_str!("../../rcps/training_5.1.0/rcps_bert.json"),
    ),
    (
        "training_5.1.0",
        "dlrm_dcnv2",
        include_str!("../../rcps/training_5.1.0/rcps_dlrm_dcnv2.json"),
    ),
    (
        "training_5.1.0",
        "flux1",
        include_str!("../../rcps/training_5.1.0/rcps_flux1.json"),
    ),
    (
        "training_5.1.0",
        "llama2_70b_lora",
        include_str!("../../rcps/training_5.1.0/rcps_llama2_70b_lora.json"),
    ),
    (
        "training_5.1.0",
        "llama31_405b",
        include_str!("../../rcps/training_5.1.0/rcps_llama31_405b.json"),
    ),
    (
        "training_5.1.0",
        "llama31_8b",
        include_str!("../../rcps/training_5.1.0/rcps_llama31_8b.json"),
    ),
    (
        "training_5.1.0",
        "retinanet",
        include_str!("../../rcps/training_5.1.0/rcps_retinanet.json"),
    ),
    (
        "training_5.1.0",
        "rgat",
        include_str!("../../rcps/training_5.1.0/rcps_rgat.json"),
    ),
];

/// The RCP JSON of a benchmark, if the package ships one.
pub fn rcp_json(usage: &str, ruleset: &str, benchmark: &str) -> Option<&'static str> {
    let folder = format!("{usage}_{ruleset}");
    RCP_FILES
        .iter()
        .find(|(f, b, _)| *f == folder && *b == benchmark)
        .map(|(_, _, text)| *text)
}

/// Runs a submission of the benchmark has (the RCP checker's
/// `submission_runs`, training); references have twice as many.
pub fn submission_runs(benchmark: &str) -> Option<usize> {
    Some(match benchmark {
        "bert" | "dlrm_dcnv2" | "rnnt" | "stable_diffusion" | "gnn" | "rgat"
        | "llama2_70b_lora" | "flux1" | "llama31_8b" | "gpt_oss_20b" | "dlrmv4" => 10,
        "gpt3" | "llama31_405b" | "deepseekv3_671b" | "qwen35_397b_grpo" => 3,
        "maskrcnn" | "resnet" | "ssd" | "retinanet" => 5,
        "unet3d" => 40,
        _ => return None,
    })
}

/// Runs dropped at each end by the olympic mean (of RCPs, of a
/// submission's convergence, of its scores).
pub fn olympic_trim(benchmark: &str) -> usize {
    if benchmark == "unet3d" {
        4
    } else {
        1
    }
}

/// Benchmarks whose convergence point is the eval's `samples_count`
/// (the others: its `epoch_num`, rounded to 3 decimals).
pub fn converges_in_samples(benchmark: &str) -> bool {
    matches!(
        benchmark,
        "llama2_70b_lora"
            | "flux1"
            | "llama31_405b"
            | "llama31_8b"
            | "gpt_oss_20b"
            | "deepseekv3_671b"
            | "qwen35_397b_grpo"
            | "dlrmv4"
    )
}

//! An MLPerf Inference submission tree:
//! `<root>/{closed,open,network}/<submitter>/results/<system>/<benchmark>/<scenario>/{performance/run_N,accuracy}/`
//! (and `compliance/<system>/<benchmark>/<scenario>/TESTnn/...`), with the
//! system descriptions in `.../<submitter>/systems/<system>.json`.

use std::path::{Component, Path};

use super::record::RunContext;

/// Whether `dir` is (or is inside, or holds) a submission tree: it has a
/// `results` folder with `systems` beside it, or a path component
/// `results`/`compliance` with a `systems` folder beside it.
pub fn is_submission_tree(dir: &Path) -> bool {
    let has = |d: &Path| d.join("results").is_dir() && d.join("systems").is_dir();
    if has(dir) {
        return true;
    }
    // A division folder (`closed/`) or the submission root: look two levels down.
    let children = |d: &Path| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(d)
            .map(|it| {
                it.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default()
    };
    for c in children(dir) {
        if has(&c) || children(&c).iter().any(|g| has(g)) {
            return true;
        }
    }
    dir.ancestors().any(|a| {
        a.file_name()
            .is_some_and(|n| n == "results" || n == "compliance")
            && a.parent().is_some_and(|p| p.join("systems").is_dir())
    })
}

/// The context of a LoadGen run folder inside a submission tree, read
/// from its path; `None` if `run_dir` is not under `results/` or
/// `compliance/` with at least system, benchmark and scenario below.
pub fn submission_context(run_dir: &Path) -> Option<RunContext> {
    let parts: Vec<String> = run_dir
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    let at = parts
        .iter()
        .rposition(|p| p == "results" || p == "compliance")?;
    let system = parts.get(at + 1)?.clone();
    let benchmark = parts.get(at + 2)?.clone();
    let scenario = parts.get(at + 3)?.clone();
    let phase = parts[(at + 4).min(parts.len())..].join("/");
    let mut ctx = RunContext {
        benchmark: Some(benchmark),
        system: Some(system.clone()),
        system_description: None,
        format: "mlperf_submission".to_string(),
        extra: Default::default(),
    };
    ctx.extra.insert("scenario_folder".into(), scenario);
    ctx.extra.insert("phase".into(), phase);
    ctx.extra.insert("tree".into(), parts[at].clone());
    if at >= 1 {
        ctx.extra.insert("submitter".into(), parts[at - 1].clone());
    }
    if at >= 2 {
        ctx.extra.insert("division".into(), parts[at - 2].clone());
    }
    // `<submitter>/systems/<system>.json`.
    let mut submitter_dir = run_dir.to_path_buf();
    for _ in 0..(parts.len() - at) {
        submitter_dir.pop();
    }
    let desc = submitter_dir.join("systems").join(format!("{system}.json"));
    if let Ok(text) = std::fs::read_to_string(&desc) {
        ctx.system_description = serde_json::from_str(&text).ok();
    }
    Some(ctx)
}

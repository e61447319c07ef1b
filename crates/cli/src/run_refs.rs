//! Naming runs on the command line, for every command that reads records
//! (`report`, `compare`, ...). One argument names one run or a group:
//!
//! * a path: a `run.json`, a run folder holding one, or a folder of run
//!   folders (each child holding a `run.json`: a sweep's or a repeat's
//!   output), which names all of them;
//! * `tag:NAME`: every run of the results store with that tag;
//! * `group:ID`: every run of that group (a sweep, `--repeat N`);
//! * otherwise a run id, or a unique prefix of one, in the results store.
//!
//! The store is opened only when an argument needs it.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use yardstick_pipeline::record::{read_record, RunRecord, RUN_JSON};
use yardstick_store::Store;

/// Resolves run arguments, opening the results store on first need.
pub struct RunResolver {
    store_path: Option<PathBuf>,
    store: Option<Store>,
}

impl RunResolver {
    /// `store_path`: the store to use (`--store`); by default
    /// `$YARDSTICK_STORE` or the per-user store.
    pub fn new(store_path: Option<PathBuf>) -> Self {
        RunResolver {
            store_path,
            store: None,
        }
    }

    fn store(&mut self) -> Result<&Store> {
        if self.store.is_none() {
            let path = match &self.store_path {
                Some(p) => p.clone(),
                None => Store::default_path()?,
            };
            let store = Store::open(&path)
                .with_context(|| format!("opening the results store {}", path.display()))?;
            self.store = Some(store);
        }
        // Just set above when it was empty.
        self.store.as_ref().context("the results store is not open")
    }

    /// The runs `spec` names (at least one).
    pub fn resolve(&mut self, spec: &str) -> Result<Vec<RunRecord>> {
        if let Some(tag) = spec.strip_prefix("tag:") {
            let runs = self.store()?.by_tag(tag)?;
            if runs.is_empty() {
                bail!("no run in the results store has the tag {tag:?}");
            }
            return Ok(runs);
        }
        if let Some(group) = spec.strip_prefix("group:") {
            let runs = self.store()?.group(group)?;
            if runs.is_empty() {
                bail!("no run in the results store belongs to the group {group:?}");
            }
            return Ok(runs);
        }
        let path = Path::new(spec);
        if path.exists() {
            return read_path(path);
        }
        let record = self.store()?.get(spec).with_context(|| {
            format!("{spec} is neither a file, a folder, tag:NAME, group:ID nor a stored run")
        })?;
        Ok(vec![record])
    }

    /// The runs of every spec, in order.
    pub fn resolve_all(&mut self, specs: &[String]) -> Result<Vec<RunRecord>> {
        let mut runs = Vec::new();
        for spec in specs {
            runs.extend(self.resolve(spec)?);
        }
        Ok(runs)
    }
}

/// The run folders (those holding a `run.json`) directly in `path`, by
/// name; an error when there is none.
pub fn run_folders_in(path: &Path) -> Result<Vec<PathBuf>> {
    let mut children: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("reading the folder {}", path.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.join(RUN_JSON).is_file())
        .collect();
    if children.is_empty() {
        bail!(
            "{} holds no {RUN_JSON}, nor do any of its folders",
            path.display()
        );
    }
    children.sort();
    Ok(children)
}

/// A `run.json`, a run folder, or a folder of run folders (in group order).
fn read_path(path: &Path) -> Result<Vec<RunRecord>> {
    if path.is_file() || path.join(RUN_JSON).is_file() {
        return Ok(vec![read_record(path)?]);
    }
    let children = run_folders_in(path)?;
    let mut runs = children
        .iter()
        .map(|c| read_record(c).map_err(anyhow::Error::from))
        .collect::<Result<Vec<RunRecord>>>()?;
    // Folder names sort `c16` before `c4` and `repeat_10` before
    // `repeat_2`: members of a group go in group order, then by start.
    runs.sort_by(|a, b| {
        let key = |r: &RunRecord| {
            (
                r.group.as_ref().map(|g| (g.id.clone(), g.index)),
                r.started_at,
            )
        };
        key(a).cmp(&key(b))
    });
    Ok(runs)
}

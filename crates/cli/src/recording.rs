//! What every run command does around its runs: capture the system once,
//! keep the results store informed, tag runs, and say where the record is.

use std::path::{Path, PathBuf};

use clap::Args;
use yardstick_pipeline::record::{GroupKind, GroupRef, RunRecord};
use yardstick_pipeline::RunObserver;
use yardstick_store::{Store, StoreObserver};

/// The flags of recording, shared by `run`, `endpoint`, `train` and
/// `accuracy`.
#[derive(Debug, Clone, Default, Args)]
pub struct RecordingArgs {
    /// The results store (SQLite) to add the run to [default:
    /// $YARDSTICK_STORE, else $XDG_DATA_HOME/yardstick/runs.sqlite, else
    /// ~/.local/share/yardstick/runs.sqlite].
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
    /// Keep the run out of the results store (run.json is still written).
    #[arg(long)]
    pub no_store: bool,
    /// Record nothing: no run.json, no store, no system capture (the MLPerf
    /// logs are written as always). For measuring the cost of recording.
    #[arg(long, conflicts_with_all = ["no_store", "tags"])]
    pub no_record: bool,
    /// Tag the run (repeatable): `yardstick runs --tag T`, `compare tag:A tag:B`.
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Leave the host name out of the system description.
    #[arg(long)]
    pub withhold_hostname: bool,
}

/// The store (if any) and the system description of this process's runs.
pub struct Recording {
    store: Option<StoreObserver>,
    pub system: Option<serde_json::Value>,
    pub tags: Vec<String>,
    git_commit: String,
    /// `--no-record`: the runs write no record at all.
    pub disabled: bool,
}

impl Recording {
    /// Opens the store and captures the system. A store that cannot be
    /// opened is a warning, not an error: the run still writes run.json.
    pub fn open(args: &RecordingArgs) -> Recording {
        if args.no_record {
            return Recording {
                store: None,
                system: None,
                tags: Vec::new(),
                git_commit: String::new(),
                disabled: true,
            };
        }
        let store = if args.no_store {
            None
        } else {
            let opened = match &args.store {
                Some(p) => Store::open(p),
                None => Store::open_default(),
            };
            match opened {
                Ok(s) => Some(StoreObserver::new(s)),
                Err(e) => {
                    eprintln!(
                        "yardstick: warning: {}; the run is not added to the results store (its run.json is still written)",
                        error_chain(&e)
                    );
                    None
                }
            }
        };
        let options = yardstick_sysinfo::CaptureOptions {
            withhold_hostname: args.withhold_hostname,
            ..Default::default()
        };
        let description = yardstick_sysinfo::capture(&options);
        let system = serde_json::to_value(&description).ok();
        Recording {
            store,
            system,
            tags: args.tags.clone(),
            git_commit: yardstick_sysinfo::BuildInfo::current().commit,
            disabled: false,
        }
    }

    /// The observers to hand the pipeline.
    pub fn observer(&self) -> &dyn RunObserver {
        self
    }

    /// Fills what every record of this process shares.
    pub fn stamp(&self, record: &mut RunRecord) {
        record.system = self.system.clone();
        for t in &self.tags {
            if !record.tags.contains(t) {
                record.tags.push(t.clone());
            }
        }
        if self.git_commit != "unknown" && !self.git_commit.is_empty() {
            record.tool.git_commit = Some(self.git_commit.clone());
        }
    }

    pub fn store_path(&self) -> Option<PathBuf> {
        self.store.as_ref().map(StoreObserver::path)
    }
}

impl RunObserver for Recording {
    fn run_started(&self, record: &RunRecord) {
        if let Some(s) = &self.store {
            s.run_started(record);
        }
    }

    fn run_finished(&self, record: &RunRecord) {
        if let Some(s) = &self.store {
            s.run_finished(record);
        }
    }
}

/// `error: cause: cause`, as anyhow's `{:#}` prints it.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A new group of runs (a sweep's points, `--repeat`'s repeats, a training
/// set): its id and each member's reference.
pub struct Group {
    pub id: String,
    kind: GroupKind,
    size: u32,
}

impl Group {
    pub fn new(kind: GroupKind, size: usize) -> Group {
        Group {
            id: format!(
                "g-{}",
                yardstick_pipeline::record::new_run_id(chrono::Utc::now())
            ),
            kind,
            size: u32::try_from(size).unwrap_or(u32::MAX),
        }
    }

    pub fn member(&self, index: usize, label: impl Into<String>) -> GroupRef {
        GroupRef {
            id: self.id.clone(),
            kind: self.kind,
            index: u32::try_from(index).unwrap_or(u32::MAX),
            size: Some(self.size),
            label: label.into(),
        }
    }
}

/// The closing lines every run command prints: where the record is and how
/// to look at it.
pub fn print_record_lines(record: &RunRecord, path: Option<&Path>, recording: &Recording) {
    if recording.disabled {
        println!("  run record              : none (--no-record)");
        return;
    }
    if let Some(p) = path {
        println!("  run record              : {}", p.display());
    }
    match recording.store_path() {
        Some(store) => println!(
            "  results store           : run {} in {}",
            record.id,
            store.display()
        ),
        None => println!("  results store           : not stored (--no-store or no store)"),
    }
    let target = if recording.store_path().is_some() {
        record.id.clone()
    } else {
        path.map(|p| p.display().to_string())
            .unwrap_or_else(|| record.id.clone())
    };
    println!("  report                  : yardstick report {target} -o report.html");
}

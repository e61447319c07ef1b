//! The store as a run observer: a run is added (as running) before it
//! starts and replaced by its final record when it ends, never touched in
//! between.

use std::sync::Mutex;

use yardstick_record::{RunObserver, RunRecord};

use crate::Store;

/// Keeps a store informed of runs. A store error never stops a run: it is
/// printed on stderr (the run's run.json is still written).
pub struct StoreObserver {
    store: Mutex<Store>,
}

impl StoreObserver {
    pub fn new(store: Store) -> Self {
        StoreObserver {
            store: Mutex::new(store),
        }
    }

    pub fn path(&self) -> std::path::PathBuf {
        self.store
            .lock()
            .map(|s| s.path().to_path_buf())
            .unwrap_or_default()
    }

    fn with_store(&self, what: &str, f: impl FnOnce(&mut Store) -> Result<(), crate::StoreError>) {
        let mut guard = match self.store.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Err(e) = f(&mut guard) {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                text.push_str(": ");
                text.push_str(&s.to_string());
                source = s.source();
            }
            eprintln!("yardstick: warning: results store ({what}): {text}");
        }
    }
}

impl RunObserver for StoreObserver {
    fn run_started(&self, record: &RunRecord) {
        self.with_store("adding the run", |s| s.begin(record));
    }

    fn run_finished(&self, record: &RunRecord) {
        self.with_store("finishing the run", |s| s.finish(record));
    }
}

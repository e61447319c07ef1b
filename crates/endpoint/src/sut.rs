//! The HTTP endpoint as a system under test of the core load generator:
//! every LoadGen scenario (SingleStream, MultiStream, Server, Offline) and
//! mode runs against a server with the same schedule, logs and results as
//! any other SUT. Its sample library is `yardstick_suts::SyntheticLibrary`
//! (request bodies are serialized when the dataset is prepared, so loading
//! a sample is a no-op).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use yardstick_core::log::{DetailEvent, LogSink};
use yardstick_core::sut::{BoxError, Completer, QuerySample, SystemUnderTest};

use crate::client::Hook;
use crate::record::RequestRecord;
use crate::runtime::{Dispatcher, Job};

/// At most this many failed requests are written to the MLPerf detail log
/// (all are counted in the endpoint report).
const MAX_LOGGED_FAILURES: u64 = 64;

/// Issues each sample of a query as one HTTP request on the client's
/// shards; answers the core through the [`Completer`] at the first token
/// and at completion.
pub struct HttpSut {
    name: String,
    dispatcher: Arc<Dispatcher>,
    seq: AtomicU64,
    sink: Option<Arc<dyn LogSink>>,
    logged_failures: AtomicU64,
}

impl std::fmt::Debug for HttpSut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSut").field("name", &self.name).finish()
    }
}

/// The run a response id belongs to. Response ids are opaque to SUTs; the
/// core puts its run counter in the bits above 40, which is the only way a
/// SUT can tell an accuracy run from the performance run that follows it
/// (a `Completer::run_id()` in the core would replace this).
pub fn run_of(id: u64) -> u64 {
    id >> 40
}

impl HttpSut {
    pub fn new(name: impl Into<String>, dispatcher: Arc<Dispatcher>) -> Self {
        HttpSut {
            name: name.into(),
            dispatcher,
            seq: AtomicU64::new(0),
            sink: None,
            logged_failures: AtomicU64::new(0),
        }
    }

    /// Also write failed requests (the first 64) to the MLPerf detail log
    /// as `error_runtime` events.
    pub fn with_log(mut self, sink: Arc<dyn LogSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    pub fn dispatcher(&self) -> &Arc<Dispatcher> {
        &self.dispatcher
    }

    /// Every record so far; failures are logged to the detail log here.
    pub fn take_records(&self) -> Vec<RequestRecord> {
        let mut recs = self.dispatcher.take_records();
        recs.sort_by_key(|r| r.seq);
        if let Some(sink) = &self.sink {
            for r in recs.iter().filter(|r| !r.ok()) {
                if self.logged_failures.fetch_add(1, Ordering::Relaxed) >= MAX_LOGGED_FAILURES {
                    break;
                }
                if let Some(e) = &r.error {
                    sink.detail(DetailEvent::error(
                        "error_runtime",
                        format!("HTTP request for sample {} failed: {e}", r.sample),
                    ));
                }
            }
        }
        recs
    }
}

impl SystemUnderTest for HttpSut {
    fn name(&self) -> &str {
        &self.name
    }

    fn issue_query(&self, samples: &[QuerySample], completer: &Completer) -> Result<(), BoxError> {
        // The core calls this at the query's scheduled instant (it sleeps,
        // then spins, to it); latencies count from here.
        let now = Instant::now();
        for s in samples {
            let seq = self.seq.fetch_add(1, Ordering::Relaxed);
            self.dispatcher.submit(Job {
                seq,
                sample: s.index,
                run: run_of(s.id),
                scheduled: now,
                hook: Hook::Core {
                    completer: completer.clone(),
                    id: s.id,
                },
            })?;
        }
        Ok(())
    }
}

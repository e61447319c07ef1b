//! Ctrl-C and SIGTERM during a test: the first asks the test to stop (it
//! finishes the outstanding queries, writes the logs with an INVALID result
//! that says it was interrupted, and the command exits non-zero); the
//! second quits at once with status 130, after pushing what the open log
//! writers hold so far to disk (`yardstick_logs::flush_all_now`).
//!
//! One thread, started on first use and kept for the life of the process,
//! receives both signals (`signal_hook::iterator`), so the work done on a
//! signal runs on an ordinary thread, not in a signal handler. Between
//! tests (no [`Interrupts`] alive) a signal ends the process at once, as
//! the default action would have (signal-hook never restores it).
//!
//! A sweep of several tests arms [`Interrupts`] once and passes the same
//! [`StopRequest`] to every test, checking [`Interrupts::is_requested`]
//! between them: it stops after the current point and keeps the finished
//! ones.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use anyhow::{Context, Result};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use yardstick_core::run::StopRequest;

/// The exit status of a process quit by a second signal: the shell's
/// status for a process ended by SIGINT.
pub const FORCED_EXIT_STATUS: i32 = 130;

/// What the first signal prints (on stderr).
pub const STOPPING_MESSAGE: &str =
    "stopping: finishing outstanding queries; press Ctrl-C again to quit at once";

/// What the signal thread acts on while a test runs.
struct Armed {
    stop: Arc<StopRequest>,
}

/// `None` between tests.
static ARMED: Mutex<Option<Armed>> = Mutex::new(None);
/// The signal thread, started once.
static LISTENER: OnceLock<()> = OnceLock::new();

fn armed() -> MutexGuard<'static, Option<Armed>> {
    ARMED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts the signal thread unless it runs already.
fn ensure_listener() -> Result<()> {
    if LISTENER.get().is_some() {
        return Ok(());
    }
    let mut signals =
        Signals::new([SIGINT, SIGTERM]).context("cannot install the SIGINT/SIGTERM handlers")?;
    if LISTENER.set(()).is_err() {
        // Another thread won the race and listens already; these handlers
        // go away with `signals`.
        return Ok(());
    }
    std::thread::Builder::new()
        .name("yardstick-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                on_signal(signal);
            }
        })
        .context("cannot start the signal thread")?;
    Ok(())
}

fn on_signal(signal: i32) {
    let mut guard = armed();
    let Some(state) = guard.as_mut() else {
        // No test is running: behave as the default action would.
        std::process::exit(128 + signal);
    };
    if state.stop.request() {
        eprintln!("\nyardstick: {STOPPING_MESSAGE}");
        return;
    }
    // Never blocks: a log file being written this instant is skipped.
    yardstick_logs::flush_all_now();
    eprintln!("\nyardstick: quitting at once; the logs hold what was written so far");
    std::process::exit(FORCED_EXIT_STATUS);
}

/// Ctrl-C / SIGTERM handling for the tests run while it is alive; dropping
/// it returns a signal to its default effect (ending the process).
#[derive(Debug)]
pub struct Interrupts {
    stop: Arc<StopRequest>,
}

impl Interrupts {
    /// Arms the handlers with a fresh [`StopRequest`] (a request left over
    /// from an earlier test does not carry over). At most one may be alive.
    pub fn install() -> Result<Self> {
        ensure_listener()?;
        let stop = Arc::new(StopRequest::new());
        let mut guard = armed();
        anyhow::ensure!(
            guard.is_none(),
            "signal handling is already armed for another test"
        );
        *guard = Some(Armed {
            stop: Arc::clone(&stop),
        });
        Ok(Interrupts { stop })
    }

    /// The request the first signal sets: give it to `RunOptions::stop`.
    pub fn stop_request(&self) -> Arc<StopRequest> {
        Arc::clone(&self.stop)
    }

    /// Whether a first signal has arrived.
    pub fn is_requested(&self) -> bool {
        self.stop.is_requested()
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        *armed() = None;
    }
}

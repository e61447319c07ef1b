//! The run's lifecycle, told to whoever wants it (a power sampler, a
//! progress display, a recorder) without touching the issue loop: the
//! events come from the run driver before issuing starts and after it ends,
//! never per query.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use super::completion::RunState;
use super::{RunError, TestOutcome};
use crate::results::RunWindow;
use crate::settings::EffectiveSettings;
use crate::{Mode, Scenario};

/// What the test is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunPhase {
    /// The sample library is loading a sample set.
    LoadingSamples,
    /// Accuracy queries are being issued.
    Accuracy,
    /// Performance queries are being issued (a find-peak step too).
    Performance,
    /// Issuing has stopped; the samples already issued are being awaited.
    Draining,
}

/// A run's window as it opens: issuing is about to start.
#[derive(Clone)]
pub struct OpenedWindow {
    pub mode: Mode,
    pub scenario: Scenario,
    /// The monotonic instant issuing started (the run's time origin; the
    /// closing [`RunWindow::begin`] is the same instant).
    pub begin: Instant,
    /// `power_begin`: the wall-clock time issuing started.
    pub begin_wall: SystemTime,
    pub(crate) state: Arc<RunState>,
}

impl std::fmt::Debug for OpenedWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedWindow")
            .field("mode", &self.mode)
            .field("scenario", &self.scenario)
            .field("begin", &self.begin)
            .field("begin_wall", &self.begin_wall)
            .finish_non_exhaustive()
    }
}

/// Hears a test's lifecycle. Every method has a no-op default, so an
/// observer implements only what it needs. Methods run on the thread that
/// drives the test, outside the issue loop: keep them short (start a
/// thread, flip a flag), since the time they take lies between runs or
/// right before a window opens.
pub trait LifecycleObserver: Send + Sync {
    /// The test's settings are resolved; nothing has been loaded yet.
    fn test_started(&self, _settings: &EffectiveSettings) {}
    /// The test moved to `phase`.
    fn phase_changed(&self, _phase: RunPhase) {}
    /// A run is about to issue its first query.
    fn window_opened(&self, _window: &OpenedWindow) {}
    /// A run's last completion is in (or its drain ended): its measured
    /// window, the same as the outcome's for a performance run.
    fn window_closed(&self, _mode: Mode, _window: &RunWindow) {}
    /// The test ended, with its outcome or the error that stopped it.
    fn test_finished(&self, _outcome: Result<&TestOutcome, &RunError>) {}
}

/// The observers of one test, told in order.
pub(crate) struct Observers<'a>(pub Vec<&'a dyn LifecycleObserver>);

impl Observers<'_> {
    pub fn test_started(&self, settings: &EffectiveSettings) {
        self.0.iter().for_each(|o| o.test_started(settings));
    }
    pub fn phase_changed(&self, phase: RunPhase) {
        self.0.iter().for_each(|o| o.phase_changed(phase));
    }
    pub fn window_opened(&self, window: &OpenedWindow) {
        self.0.iter().for_each(|o| o.window_opened(window));
    }
    pub fn window_closed(&self, mode: Mode, window: &RunWindow) {
        self.0.iter().for_each(|o| o.window_closed(mode, window));
    }
    pub fn test_finished(&self, outcome: Result<&TestOutcome, &RunError>) {
        self.0.iter().for_each(|o| o.test_finished(outcome));
    }
}

//! The live progress line: on a terminal only (indicatif hides itself when
//! stderr is piped), refreshed from `LiveProgress` snapshots.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use yardstick_core::run::{LiveProgress, ProgressSnapshot, RunPhase};

pub struct ProgressDisplay {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn line(s: &ProgressSnapshot) -> String {
    let secs = s.elapsed.as_secs_f64().max(1e-9);
    let qps = s.samples_completed as f64 / secs;
    let p99 = s
        .recent_p99_ns
        .map(|ns| {
            if ns >= 1_000_000 {
                format!("{:.2} ms", ns as f64 / 1e6)
            } else {
                format!("{:.1} µs", ns as f64 / 1e3)
            }
        })
        .unwrap_or_else(|| "-".into());
    let draining = if s.phase == RunPhase::Draining {
        "  draining"
    } else {
        ""
    };
    format!(
        "{} {} {:>6.1}s  issued {}  completed {}  {:.0} samples/s  p99 (recent) {}{draining}",
        s.scenario, s.mode, secs, s.samples_issued, s.samples_completed, qps, p99
    )
}

impl ProgressDisplay {
    pub fn start(live: Arc<LiveProgress>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(5));
        if bar.is_hidden() {
            return ProgressDisplay { stop, thread: None };
        }
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("progress".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    if let Some(s) = live.snapshot() {
                        bar.set_message(line(&s));
                        bar.tick();
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
                bar.finish_and_clear();
            })
            .ok();
        ProgressDisplay { stop, thread }
    }

    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yardstick_core::{Mode, Scenario};

    #[test]
    fn the_line_says_when_the_run_is_draining() {
        let mut s = ProgressSnapshot {
            mode: Mode::PerformanceOnly,
            scenario: Scenario::Server,
            phase: RunPhase::Performance,
            elapsed: Duration::from_secs(2),
            queries_planned: 100,
            samples_planned: 100,
            samples_issued: 100,
            samples_completed: 90,
            recent_p99_ns: Some(1_500_000),
        };
        assert_eq!(
            line(&s),
            "Server PerformanceOnly    2.0s  issued 100  completed 90  45 samples/s  p99 (recent) 1.50 ms"
        );
        s.phase = RunPhase::Draining;
        assert!(
            line(&s).ends_with("p99 (recent) 1.50 ms  draining"),
            "{}",
            line(&s)
        );
    }
}

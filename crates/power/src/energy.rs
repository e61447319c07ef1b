//! Energy over exactly the run's measured window (LoadGen's `power_begin`
//! to `power_end`), computed as MLPerf's power checker does: the mean of the
//! samples stamped inside the window, times the window's length.

use std::time::SystemTime;

use crate::{CounterReading, PowerTrace};

/// The energy of one run's window.
#[derive(Debug, Clone, PartialEq)]
pub struct EnergySummary {
    /// The trace's source.
    pub source: String,
    /// `power_end - power_begin`, in seconds.
    pub window_seconds: f64,
    /// How many power samples fell inside the window.
    pub samples_in_window: usize,
    /// Mean of those samples.
    pub mean_watts: f64,
    /// `mean_watts * window_seconds`.
    pub joules: f64,
    /// The hardware counter's energy over the same window (interpolated
    /// between the readings either side of each end), where the source has
    /// a counter whose readings span the window.
    pub counter_joules: Option<f64>,
}

/// Why a window has no energy.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EnergyError {
    /// `end` is not after `begin`.
    #[error("the run's window is empty (power_end is not after power_begin)")]
    EmptyWindow,
    /// The window is shorter than the sampling period, or the meter was not
    /// running during it.
    #[error("no power sample falls inside the run's {seconds:.3} s window")]
    NoSamples {
        /// The window's length.
        seconds: f64,
    },
}

/// The energy of `trace` between `begin` and `end` (both ends included).
pub fn energy_over_window(
    trace: &PowerTrace,
    begin: SystemTime,
    end: SystemTime,
) -> Result<EnergySummary, EnergyError> {
    let window_seconds = end
        .duration_since(begin)
        .map_err(|_| EnergyError::EmptyWindow)?
        .as_secs_f64();
    if window_seconds <= 0.0 {
        return Err(EnergyError::EmptyWindow);
    }
    let inside: Vec<f64> = trace
        .samples
        .iter()
        .filter(|s| begin <= s.wall && s.wall <= end)
        .map(|s| s.watts)
        .collect();
    if inside.is_empty() {
        return Err(EnergyError::NoSamples {
            seconds: window_seconds,
        });
    }
    let mean_watts = inside.iter().sum::<f64>() / inside.len() as f64;
    let counter_joules = match (
        counter_at(&trace.counter, begin),
        counter_at(&trace.counter, end),
    ) {
        (Some(b), Some(e)) => Some(e - b),
        _ => None,
    };
    Ok(EnergySummary {
        source: trace.source.clone(),
        window_seconds,
        samples_in_window: inside.len(),
        mean_watts,
        joules: mean_watts * window_seconds,
        counter_joules,
    })
}

/// The counter's value at `t`, linear between the readings either side;
/// `None` when the readings do not reach `t` on both sides.
fn counter_at(readings: &[CounterReading], t: SystemTime) -> Option<f64> {
    let after = readings.iter().position(|r| r.wall >= t)?;
    let hi = readings[after];
    if hi.wall == t {
        return Some(hi.joules);
    }
    let lo = readings[after.checked_sub(1)?];
    let span = hi.wall.duration_since(lo.wall).ok()?.as_secs_f64();
    let into = t.duration_since(lo.wall).ok()?.as_secs_f64();
    Some(lo.joules + (hi.joules - lo.joules) * into / span)
}

/// The work a run did in its window, for energy per unit of work.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Work {
    /// Offline and Server: samples completed (samples per joule).
    Samples(u64),
    /// SingleStream and MultiStream: queries completed (millijoules per
    /// query).
    Queries(u64),
}

/// Energy per unit of work, as MLPerf reports it per scenario.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Efficiency {
    /// Offline and Server.
    pub samples_per_joule: Option<f64>,
    /// SingleStream and MultiStream.
    pub millijoules_per_query: Option<f64>,
    /// Runs that count tokens.
    pub tokens_per_joule: Option<f64>,
}

/// Efficiency of `summary`'s energy for `work` (and `tokens`, for token
/// runs). Nothing is reported for zero energy or zero work.
pub fn efficiency(summary: &EnergySummary, work: Work, tokens: Option<u64>) -> Efficiency {
    let joules = summary.joules;
    if joules <= 0.0 || !joules.is_finite() {
        return Efficiency::default();
    }
    let mut e = Efficiency::default();
    match work {
        Work::Samples(n) if n > 0 => e.samples_per_joule = Some(n as f64 / joules),
        Work::Queries(n) if n > 0 => e.millijoules_per_query = Some(joules * 1e3 / n as f64),
        _ => {}
    }
    e.tokens_per_joule = tokens.filter(|&t| t > 0).map(|t| t as f64 / joules);
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PowerSample;
    use std::time::Duration;

    fn at(s: f64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000) + Duration::from_secs_f64(s)
    }

    fn trace() -> PowerTrace {
        // Samples every 0.5 s from t=0 to t=5: 100 W idle outside the
        // window [1.2, 3.2], 200, 300, 400, 500 inside it (t = 1.5..3.0).
        let watts = [
            100.0, 100.0, 100.0, 200.0, 300.0, 400.0, 500.0, 100.0, 100.0, 100.0, 100.0,
        ];
        PowerTrace {
            source: "test".into(),
            samples: watts
                .iter()
                .enumerate()
                .map(|(i, &w)| PowerSample {
                    wall: at(i as f64 * 0.5),
                    watts: w,
                })
                .collect(),
            // A counter read each second: 0, 100, 350, 800, 1000, 1100 J.
            counter: [0.0, 100.0, 350.0, 800.0, 1000.0, 1100.0]
                .iter()
                .enumerate()
                .map(|(i, &j)| CounterReading {
                    wall: at(i as f64),
                    joules: j,
                })
                .collect(),
            counter_joules: Some(1100.0),
            notes: vec![],
            ..PowerTrace::default()
        }
    }

    #[test]
    fn mean_of_the_samples_inside_the_window_times_its_length() {
        let s = energy_over_window(&trace(), at(1.2), at(3.2)).unwrap();
        assert_eq!(s.samples_in_window, 4);
        assert_eq!(s.mean_watts, 350.0); // (200 + 300 + 400 + 500) / 4
        assert!((s.window_seconds - 2.0).abs() < 1e-9);
        assert!((s.joules - 700.0).abs() < 1e-6);
        // Counter: at 1.2 s, 100 + 0.2 * 250 = 150; at 3.2 s,
        // 800 + 0.2 * 200 = 840: 690 J.
        let c = s.counter_joules.unwrap();
        assert!((c - 690.0).abs() < 1e-6, "{c}");
    }

    #[test]
    fn window_ends_are_included_and_exact_counter_readings_used() {
        let s = energy_over_window(&trace(), at(1.5), at(3.0)).unwrap();
        assert_eq!(s.samples_in_window, 4);
        let c = s.counter_joules.unwrap();
        // at 1.5: 100 + 0.5 * 250 = 225; at 3.0: exactly 800.
        assert!((c - 575.0).abs() < 1e-6, "{c}");
    }

    #[test]
    fn a_counter_that_does_not_span_the_window_gives_none() {
        let s = energy_over_window(&trace(), at(4.2), at(5.5)).unwrap();
        assert_eq!(s.counter_joules, None);
        assert_eq!(s.mean_watts, 100.0);
    }

    #[test]
    fn empty_windows_and_windows_without_samples_are_errors() {
        assert_eq!(
            energy_over_window(&trace(), at(2.0), at(2.0)),
            Err(EnergyError::EmptyWindow)
        );
        assert_eq!(
            energy_over_window(&trace(), at(3.0), at(2.0)),
            Err(EnergyError::EmptyWindow)
        );
        assert!(matches!(
            energy_over_window(&trace(), at(1.1), at(1.3)),
            Err(EnergyError::NoSamples { .. })
        ));
    }

    #[test]
    fn efficiency_per_scenario() {
        let s = energy_over_window(&trace(), at(1.2), at(3.2)).unwrap(); // 700 J
        let offline = efficiency(&s, Work::Samples(14_000), None);
        assert!((offline.samples_per_joule.unwrap() - 20.0).abs() < 1e-9);
        assert_eq!(offline.millijoules_per_query, None);
        let single = efficiency(&s, Work::Queries(350), Some(70_000));
        assert!((single.millijoules_per_query.unwrap() - 2000.0).abs() < 1e-9);
        assert!((single.tokens_per_joule.unwrap() - 100.0).abs() < 1e-9);
        assert_eq!(single.samples_per_joule, None);
        assert_eq!(
            efficiency(&s, Work::Samples(0), Some(0)),
            Efficiency::default()
        );
    }
}

//! A simulated SPEC PTDaemon: the network commands power-dev sends on port
//! 8888, a meter whose watts are a fixed function of a seed, and the
//! stdout log power-dev keeps as ptd_logs.txt.
//!
//! Where power-dev only forwards a reply (Identify, Watts, Uncertainty, RR,
//! RL), its shape follows what power-dev and its checker parse: Identify
//! `<model>,version=<x.y.z>-<build>,...`, RR `Ranges,<A auto>,<A range>,<V
//! auto>,<V range>`, RL `Last <n> samples` then n sample lines.

use super::super::clock::format_ptd_time;
use super::super::spl::SplSample;
use super::super::wire::LineConn;
use super::{unit, Serving};
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// The meter model the simulator identifies as (one the checker supports).
pub const SIM_IDENTITY_MODEL: &str = "YokogawaWT310";
/// The PTDaemon version it claims (the checker's supported version).
pub const SIM_PTD_VERSION: &str = "1.11.1";

/// How the simulated meter behaves.
#[derive(Debug, Clone)]
pub struct SimPtdConfig {
    /// Seeds the watts: the same seed gives the same samples.
    pub seed: u64,
    /// The mean load in watts (samples vary by ±3%).
    pub base_watts: f64,
    /// The time between samples; `None` takes `Go`'s interval, as a real
    /// meter does. Tests shorten it to keep runs short.
    pub sample_period: Option<Duration>,
    /// Close the connection, unanswered, when this many commands have come
    /// (counted over the simulator's life): a dropped connection.
    pub drop_after_commands: Option<usize>,
}

impl Default for SimPtdConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            base_watts: 250.0,
            sample_period: None,
            drop_after_commands: None,
        }
    }
}

/// The meter's state, kept across connections as PTDaemon keeps it.
struct Meter {
    config: SimPtdConfig,
    /// `None` is auto-ranging.
    amps_range: Option<f64>,
    volts_range: Option<f64>,
    measurement: Option<Measurement>,
    /// Samples taken since the last `RL`.
    unread: Vec<SplSample>,
    last: Option<(SplSample, Option<f64>)>,
    /// Samples ever taken: the index the watts are drawn from.
    taken: u64,
    /// The mark of the running (or last) measurement.
    current_mark: String,
    commands: usize,
    /// PTDaemon's stdout.
    log: Vec<String>,
}

struct Measurement {
    started: SystemTime,
    period: Duration,
    count: u64,
}

/// A running simulated PTDaemon; dropping it stops it.
pub struct SimPtd {
    serving: Serving,
    meter: Arc<Mutex<Meter>>,
}

impl SimPtd {
    /// Listen on `bind` (e.g. `127.0.0.1:0`).
    pub fn start(bind: &str, config: SimPtdConfig) -> io::Result<SimPtd> {
        let now = SystemTime::now();
        let meter = Arc::new(Mutex::new(Meter {
            log: vec![
                log_line(
                    now,
                    &format!("yardstick simulated PTDaemon, seed {}", config.seed),
                ),
                log_line(
                    now,
                    &format!("Uncertainty checking for {SIM_IDENTITY_MODEL} is activated"),
                ),
            ],
            config,
            amps_range: None,
            volts_range: None,
            measurement: None,
            unread: Vec::new(),
            last: None,
            taken: 0,
            current_mark: String::new(),
            commands: 0,
        }));
        let shared = meter.clone();
        let serving = Serving::start(bind, move |stream| serve(stream, &shared))?;
        Ok(SimPtd { serving, meter })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.serving.addr
    }

    /// PTDaemon's stdout so far (power-dev's ptd_logs.txt).
    pub fn stdout_log(&self) -> String {
        match self.meter.lock() {
            Ok(meter) => meter.log.iter().map(|line| format!("{line}\n")).collect(),
            Err(_) => String::new(),
        }
    }
}

fn log_line(t: SystemTime, message: &str) -> String {
    format!("{}: {message}", format_ptd_time(t))
}

fn serve(stream: TcpStream, meter: &Mutex<Meter>) {
    let Ok(mut conn) = LineConn::from_stream(stream, "the client") else {
        return;
    };
    while let Ok(Some(command)) = conn.recv() {
        let Ok(mut meter) = meter.lock() else { return };
        meter.commands += 1;
        if meter
            .config
            .drop_after_commands
            .is_some_and(|limit| meter.commands > limit)
        {
            conn.shutdown();
            return;
        }
        let replies = meter.handle(command.trim(), SystemTime::now());
        drop(meter);
        for reply in replies {
            if conn.send(&reply).is_err() {
                return;
            }
        }
    }
}

impl Meter {
    /// The reply lines to `command`.
    fn handle(&mut self, command: &str, now: SystemTime) -> Vec<String> {
        self.catch_up(now);
        let fields: Vec<&str> = command.split(',').collect();
        let one = |reply: &str| vec![reply.to_string()];
        match fields.as_slice() {
            ["Hello"] => one("Hello, PTDaemon here!"),
            ["Identify"] => one(&format!(
                "{SIM_IDENTITY_MODEL},version={SIM_PTD_VERSION}-yardstick-sim,serial=SIM{:08}",
                self.config.seed % 100_000_000
            )),
            ["RR"] => one(&format!(
                "Ranges,{},{},{},{}",
                range_auto_flag(self.amps_range),
                range_value(self.amps_range),
                range_auto_flag(self.volts_range),
                range_value(self.volts_range)
            )),
            ["SR", channel @ ("V" | "A"), value] => match parse_range(value) {
                Some(range) => {
                    if *channel == "V" {
                        self.volts_range = range;
                    } else {
                        self.amps_range = range;
                    }
                    one(&format!("Range {channel} changed"))
                }
                None => one(&format!("Error: invalid range {value:?}")),
            },
            ["SR", ..] => one("Error: Invalid number of parameters"),
            ["Go", interval, rampup, rest @ ..] if rest.len() <= 1 => {
                let (Ok(interval_ms), Ok(_)) = (interval.parse::<u64>(), rampup.parse::<u64>())
                else {
                    return one("Error: Invalid parameters");
                };
                if self.measurement.is_some() {
                    return one("Error: measurement already running");
                }
                let mark = rest.first().copied().unwrap_or("");
                let period = self
                    .config
                    .sample_period
                    .unwrap_or(Duration::from_millis(interval_ms.max(1)));
                self.measurement = Some(Measurement {
                    started: now,
                    period,
                    count: 0,
                });
                self.current_mark = mark.to_string();
                self.log
                    .push(log_line(now, &format!("Go with mark '{mark}'")));
                one(&format!(
                    "Starting untimed measurement, maximum 500000 samples at {interval_ms}ms with {rampup} rampup samples"
                ))
            }
            ["Go", ..] => one("Error: Invalid number of parameters"),
            ["Stop"] => match self.measurement.take() {
                Some(_) => {
                    self.log.push(log_line(now, "Completed test"));
                    one("Stopping untimed measurement")
                }
                None => one("Error: no measurement to stop"),
            },
            ["Watts"] => match &self.last {
                Some((sample, _)) => one(&format!("Watts,{:.6}", sample.watts)),
                None => one("Watts,-1.000000"),
            },
            ["Uncertainty"] => match &self.last {
                Some((_, Some(uncertainty))) => one(&format!("Uncertainty,{uncertainty:.6}")),
                _ => one("Uncertainty,-1.000000"),
            },
            // A single-channel AC meter: the multi-channel read is refused
            // with the reply power-dev falls back on.
            ["RL", "*", "*"] => one("Error: Invalid number of parameters"),
            ["RL"] => {
                let samples = std::mem::take(&mut self.unread);
                let mut replies = vec![format!("Last {} samples", samples.len())];
                replies.extend(samples.iter().map(SplSample::unmarked_line));
                replies
            }
            _ => one("Error: Unknown command"),
        }
    }

    /// Take every sample due by `now`.
    fn catch_up(&mut self, now: SystemTime) {
        loop {
            let Some(measurement) = &mut self.measurement else {
                return;
            };
            let due = measurement.started + measurement.period * (measurement.count as u32 + 1);
            if due > now {
                return;
            }
            measurement.count += 1;
            let sample = self.sample_at(due);
            self.taken += 1;
            let uncertainty = self.judge(&sample);
            self.unread.push(sample.clone());
            self.last = Some((sample, uncertainty));
        }
    }

    fn sample_at(&self, wall: SystemTime) -> SplSample {
        let (seed, index) = (self.config.seed, self.taken);
        let watts = self.config.base_watts * (0.97 + 0.06 * unit(seed, 3 * index));
        let volts = 230.0 + 2.0 * (unit(seed, 3 * index + 1) - 0.5);
        let pf = 0.94 + 0.02 * unit(seed, 3 * index + 2);
        SplSample {
            wall,
            watts: round6(watts),
            volts: round6(volts),
            amps: round6(watts / (volts * pf)),
            pf: round6(pf),
            mark: self.current_mark.clone(),
        }
    }

    /// The meter's ranging behaviour: auto-ranging gives no uncertainty; a
    /// fixed current range below the load overflows, one far above it
    /// loses accuracy (PTDaemon's two complaints).
    fn judge(&mut self, sample: &SplSample) -> Option<f64> {
        let range = self.amps_range?;
        if sample.amps > range {
            self.log.push(log_line(
                sample.wall,
                "ERROR: Current appears to be too high for set range",
            ));
            return None;
        }
        let uncertainty = 0.001 + 0.002 * range / sample.amps;
        if uncertainty > 0.01 {
            self.log.push(log_line(
                sample.wall,
                &format!(
                    "WARNING: Uncertainty {:.2}%, which is above 1.00% limit for the last sample!",
                    uncertainty * 100.0
                ),
            ));
        }
        Some(uncertainty)
    }
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn range_auto_flag(range: Option<f64>) -> &'static str {
    if range.is_some() {
        "0"
    } else {
        "1"
    }
}

fn range_value(range: Option<f64>) -> String {
    format!("{:.6}", range.unwrap_or(-1.0))
}

/// `Auto` or a positive number; `None` for anything else.
fn parse_range(value: &str) -> Option<Option<f64>> {
    if value == "Auto" {
        return Some(None);
    }
    match value.parse::<f64>() {
        Ok(range) if range > 0.0 && range.is_finite() => Some(Some(range)),
        _ => None,
    }
}

//! `--power director://host:port`: a run under power-dev's director, as its
//! client.py runs a workload: a ranging run first (its logs in
//! `<output>/ranging_run`, not the result), then the testing run (the
//! result), then the director's logs downloaded into the power folders
//! `<output>/<session>/{power,ranging,run_1}`. A director that fails or
//! drops the connection costs the energy figures, never the result.
//!
//! `run` and `endpoint`'s LoadGen-driven points (`--load poisson|scenario`)
//! go through here; loads a front end drives itself (endpoint's closed
//! loop and arrival processes, training) take [`crate::power::OwnLoadPower`],
//! which refuses `director://` with a message: the protocol's ranging run
//! repeats the whole workload, which for a training job means training the
//! model twice for one result.

use std::path::{Path, PathBuf};

use yardstick_core::run::TestOutcome;
use yardstick_core::sut::{QuerySampleLibrary, SystemUnderTest};
use yardstick_pipeline::power_meters::ptd::{DirectorClient, Mode};
use yardstick_pipeline::power_meters::{PowerError, PowerMeter, PowerTrace};
use yardstick_pipeline::record::{RunKind, RunRecord};
use yardstick_pipeline::{execute, FinishedRun, PowerHook, RunSpec};

use crate::power::{PowerArgs, PowerChoice};

/// The session label the director puts in its session name.
const LABEL: &str = "yardstick";

/// A director session around one `run`.
pub struct DirectorRun {
    addr: String,
    output: PathBuf,
    client: Option<DirectorClient>,
    error: Option<PowerError>,
}

impl DirectorRun {
    /// Connects when `--power` is `director://`; `None` otherwise.
    pub fn begin(power: &PowerArgs, output: &Path) -> Option<DirectorRun> {
        let Some(PowerChoice::Director(addr)) = &power.power else {
            return None;
        };
        eprintln!(
            "yardstick: power: director://{addr}: a ranging run first, then the testing run (the result)"
        );
        let mut run = DirectorRun {
            addr: addr.clone(),
            output: output.to_path_buf(),
            client: None,
            error: None,
        };
        match DirectorClient::connect(addr, LABEL, output) {
            Ok(client) => run.client = Some(client),
            Err(e) => run.fail(e.into()),
        }
        Some(run)
    }

    /// The ranging run: the same test, its logs apart, no record.
    pub fn ranging(
        &mut self,
        spec: &RunSpec,
        sut: &dyn SystemUnderTest,
        qsl: &dyn QuerySampleLibrary,
    ) {
        self.ranging_with(|dir| {
            let mut ranging = RunSpec::new(
                RunKind::Loadgen,
                spec.resolved.clone(),
                dir,
                spec.workload.clone(),
            );
            ranging.write_record = false;
            execute(&ranging, sut, qsl, &[])
                .map(|_| ())
                .map_err(|e| format!("{:#}", anyhow::Error::new(e)))
        });
    }

    /// The ranging run, done by `run_test` with its logs in the folder it
    /// is given (`<output>/ranging_run`); its error, if any, costs the
    /// power figures only.
    pub fn ranging_with(&mut self, run_test: impl FnOnce(&Path) -> Result<(), String>) {
        let Some(client) = self.client.as_mut() else {
            return;
        };
        if let Err(e) = client.start(Mode::Ranging) {
            return self.fail(e.into());
        }
        let dir = self.output.join("ranging_run");
        eprintln!("yardstick: power: ranging run (logs in {})", dir.display());
        if let Err(e) = run_test(&dir) {
            let reason = format!("the ranging run failed: {e}");
            let source_name = format!("director://{}", self.addr);
            return self.fail(PowerError::Unavailable {
                source_name,
                reason,
            });
        }
        if let Some(client) = self.client.as_mut() {
            if let Err(e) = client.stop(Mode::Ranging, &dir) {
                self.fail(e.into());
            }
        }
    }

    /// Right before the testing run.
    pub fn start_testing(&mut self) {
        if let Some(client) = self.client.as_mut() {
            if let Err(e) = client.start(Mode::Testing) {
                self.fail(e.into());
            }
        }
    }

    /// After the testing run: the session closed, the power folders
    /// downloaded, the record's energy from the testing run's samples.
    pub fn finish(self, run: &mut FinishedRun) {
        let dir = run.dir.clone();
        self.finish_test(&mut run.record, &run.outcome, &dir);
    }

    /// As [`finish`](Self::finish), for a front end that runs the test
    /// and keeps its record itself: the testing run's logs are in
    /// `logs_dir`, where the trace is written too.
    pub fn finish_test(mut self, record: &mut RunRecord, outcome: &TestOutcome, logs_dir: &Path) {
        let source = format!("director://{}", self.addr);
        let trace = match self.client.take() {
            None => Err(self
                .error
                .take()
                .unwrap_or(PowerError::WrongState("without a director session"))),
            Some(mut client) => client
                .stop(Mode::Testing, logs_dir)
                .and_then(|()| client.finish())
                .and_then(|folders| {
                    eprintln!(
                        "yardstick: power: power folders in {}",
                        folders.root.display()
                    );
                    folders.testing_trace(&source)
                })
                .map_err(PowerError::from),
        };
        if let Err(e) = &trace {
            eprintln!("yardstick: power: {source}: {e}; the result stands without power");
        }
        let meter = DirectorTrace {
            source,
            trace: Some(trace),
        };
        // No set rate: the samples come at PTDaemon's (power-dev asks for
        // one a second, `Go,1000`; the simulator may be set faster), and the
        // report shows the rate they actually came at.
        let hook = PowerHook::new(Box::new(meter), None);
        hook.finish_test(record, outcome, Some(logs_dir));
    }

    fn fail(&mut self, error: PowerError) {
        eprintln!(
            "yardstick: power: director://{}: {error}; the run goes on without power",
            self.addr
        );
        self.client = None;
        self.error = Some(error);
    }
}

/// The director session's outcome, handed to the pipeline as a meter's
/// (the trace comes from the downloaded spl.txt, not from a meter the
/// pipeline starts and stops).
struct DirectorTrace {
    source: String,
    trace: Option<Result<PowerTrace, PowerError>>,
}

impl PowerMeter for DirectorTrace {
    fn describe(&self) -> String {
        self.source.clone()
    }
    fn start(&mut self) -> Result<(), PowerError> {
        Ok(())
    }
    fn stop(&mut self) -> Result<PowerTrace, PowerError> {
        self.trace
            .take()
            .unwrap_or(Err(PowerError::WrongState("already read")))
    }
}

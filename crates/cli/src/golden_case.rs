//! `yardstick golden-case CASE.json OUTDIR`: what `../shared/golden/gen.py`
//! does with the official LoadGen, done with yardstick, writing the same
//! files, so the two can be compared file by file (golden and differential
//! tests).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use clap::Args;
use serde::Deserialize;
use yardstick_core::log::{AccuracyEntry, DetailEvent, LogSink};
use yardstick_core::results::PerformanceSummary;
use yardstick_core::run::{start_test, RunOptions, RunTimeline};
use yardstick_core::settings::TestSettings;
use yardstick_core::sut::{
    BoxError, Completer, QuerySample, QuerySampleLibrary, SampleIndex, SystemUnderTest,
};
use yardstick_core::{Mode, Scenario};
use yardstick_suts::NullSut;

#[derive(Debug, Args)]
pub struct GoldenCaseArgs {
    /// gen.py's case description.
    pub case: PathBuf,
    /// Output folder; the case's files go to OUTDIR/<name>/.
    pub outdir: PathBuf,
}

/// gen.py's case.json.
#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    scenario: Scenario,
    mode: Mode,
    total: usize,
    perf: usize,
    model: Option<String>,
    #[serde(default)]
    user_conf: Vec<String>,
    #[serde(default)]
    settings: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    trace: bool,
    #[serde(default)]
    tokens: bool,
}

/// The null SUT, recording each `issue_query` call's sample indices.
struct RecordingSut {
    inner: NullSut,
    issued: Mutex<Vec<Vec<usize>>>,
}

impl SystemUnderTest for RecordingSut {
    fn name(&self) -> &str {
        // The official reference SUT's name, so the logs compare equal.
        "PySUT"
    }

    fn issue_query(&self, samples: &[QuerySample], completer: &Completer) -> Result<(), BoxError> {
        self.issued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(samples.iter().map(|s| s.index).collect());
        self.inner.issue_query(samples, completer)
    }
}

struct RecordingQsl {
    total: usize,
    perf: usize,
    loaded: Mutex<Vec<Vec<usize>>>,
}

impl QuerySampleLibrary for RecordingQsl {
    fn name(&self) -> &str {
        "PyQSL"
    }
    fn total_sample_count(&self) -> usize {
        self.total
    }
    fn performance_sample_count(&self) -> usize {
        self.perf
    }
    fn load_samples_to_ram(&self, indices: &[SampleIndex]) -> Result<(), BoxError> {
        self.loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(indices.to_vec());
        Ok(())
    }
    fn unload_samples_from_ram(&self, _indices: &[SampleIndex]) -> Result<(), BoxError> {
        Ok(())
    }
}

/// Forwards to the log writer and keeps each Server run's schedule.
struct ScheduleTap {
    inner: Arc<dyn LogSink>,
    schedule: Mutex<Vec<i64>>,
    wanted: bool,
}

impl LogSink for ScheduleTap {
    fn detail(&self, event: DetailEvent) {
        self.inner.detail(event)
    }
    fn accuracy(&self, entry: AccuracyEntry<'_>) {
        self.inner.accuracy(entry)
    }
    fn summary(&self, summary: &PerformanceSummary) {
        self.inner.summary(summary)
    }
    fn wants_timeline(&self) -> bool {
        self.wanted || self.inner.wants_timeline()
    }
    fn timeline(&self, t: &RunTimeline<'_>) {
        if self.wanted {
            // gen.py keeps the scheduled time of every completed sample.
            let mut out = self.schedule.lock().unwrap_or_else(|e| e.into_inner());
            for q in 0..t.query_count() {
                let start = t.query_start(q);
                for k in 0..t.query_samples(q).len() {
                    if t.completed_ns(start + k).is_some() {
                        out.push(t.scheduled_ns(q));
                    }
                }
            }
        }
        if self.inner.wants_timeline() {
            self.inner.timeline(t)
        }
    }
}

/// Applies gen.py's `settings` dict: each key is a TestSettings field.
fn apply_fields(
    settings: &mut TestSettings,
    fields: &serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let mut value = serde_json::to_value(&*settings)?;
    let obj = value
        .as_object_mut()
        .context("settings serialise to an object")?;
    for (k, v) in fields {
        if !obj.contains_key(k) {
            bail!("case settings: `{k}` is not a TestSettings field");
        }
        // Python writes booleans for bool fields and numbers for the rest.
        obj.insert(k.clone(), v.clone());
    }
    *settings =
        serde_json::from_value(value).context("case settings: a value has the wrong type")?;
    Ok(())
}

fn write_jsonl(path: &Path, rows: &[Vec<usize>]) -> Result<()> {
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
    );
    // Python's json.dumps layout ("[1, 2, 3]"), so files compare byte for byte.
    for r in rows {
        let items: Vec<String> = r.iter().map(|i| i.to_string()).collect();
        writeln!(f, "[{}]", items.join(", "))?;
    }
    f.flush()?;
    Ok(())
}

pub fn run(args: GoldenCaseArgs) -> Result<ExitCode> {
    let text = std::fs::read_to_string(&args.case)
        .with_context(|| format!("cannot read {}", args.case.display()))?;
    let case: Case = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a case description", args.case.display()))?;
    let dir = args.outdir.join(&case.name);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;

    let mut settings = TestSettings::default();
    if let Some(model) = &case.model {
        let user_conf = case.user_conf.join("\n") + "\n";
        std::fs::write(dir.join("user.conf"), &user_conf)?;
        let (s, _warnings) =
            TestSettings::from_config("user.conf", &user_conf, model, case.scenario.as_str())?;
        settings = s;
    }
    apply_fields(&mut settings, &case.settings)?;
    settings.scenario = case.scenario;
    settings.mode = case.mode;

    let sut = RecordingSut {
        inner: if case.tokens {
            NullSut::with_tokens()
        } else {
            NullSut::new()
        },
        issued: Mutex::new(Vec::new()),
    };
    let qsl = RecordingQsl {
        total: case.total,
        perf: case.perf,
        loaded: Mutex::new(Vec::new()),
    };
    let logs = yardstick_pipeline::open_logs(
        &yardstick_logs::LogOutputSettings {
            outdir: dir.clone(),
            ..Default::default()
        },
        None,
        Vec::new(),
    )?;
    logs.header(sut.name(), &qsl, &[]);
    let tap = Arc::new(ScheduleTap {
        inner: logs.sink(),
        schedule: Mutex::new(Vec::new()),
        wanted: case.scenario == Scenario::Server && case.trace,
    });
    let outcome = start_test(&sut, &qsl, &settings, tap.clone(), &RunOptions::default())?;
    logs.finish()?;

    write_jsonl(
        &dir.join("issued.jsonl"),
        &sut.issued.lock().unwrap_or_else(|e| e.into_inner()),
    )?;
    write_jsonl(
        &dir.join("loaded.jsonl"),
        &qsl.loaded.lock().unwrap_or_else(|e| e.into_inner()),
    )?;
    if tap.wanted {
        let schedule = tap.schedule.lock().unwrap_or_else(|e| e.into_inner());
        let t0 = schedule.first().copied().unwrap_or(0);
        let body: String = schedule.iter().map(|t| format!("{}\n", t - t0)).collect();
        std::fs::write(dir.join("schedule_ns.txt"), body)?;
    }
    std::fs::write(
        dir.join("case.json"),
        serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&text)?)?,
    )?;
    if !outcome.faults.is_empty() {
        for f in &outcome.faults {
            eprintln!("yardstick: SUT fault: {f}");
        }
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

//! `yardstick runs`: list, show, tag, delete and export the runs of the
//! results store.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use yardstick_store::{parse_date, DateBound, RowStatus, RunFilter, RunRow, Store};

/// `--store FILE`, shared by `runs` and `import`.
#[derive(Debug, Clone, Default, Args)]
pub struct StoreArg {
    /// The results store (SQLite) [default: $YARDSTICK_STORE, else
    /// $XDG_DATA_HOME/yardstick/runs.sqlite, else
    /// ~/.local/share/yardstick/runs.sqlite].
    #[arg(long, global = true, value_name = "FILE")]
    pub store: Option<PathBuf>,
}

impl StoreArg {
    pub fn open(&self) -> Result<Store> {
        let path = match &self.store {
            Some(p) => p.clone(),
            None => Store::default_path()?,
        };
        Store::open(&path).with_context(|| format!("opening the results store {}", path.display()))
    }
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    #[command(flatten)]
    pub store: StoreArg,
    #[command(subcommand)]
    pub command: Option<RunsCommand>,
    /// `yardstick runs` alone lists, with these filters.
    #[command(flatten)]
    pub list: ListArgs,
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// List runs, newest first (the default).
    List(ListArgs),
    /// Show one run: settings and where each came from, validity checks,
    /// metrics, system, files.
    Show {
        /// A run id or a unique prefix of one.
        id: String,
        /// Print the full record as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add (+TAG or TAG) and remove (-TAG) tags: `yardstick runs tag ID +gpu -old`.
    Tag {
        id: String,
        #[arg(required = true, allow_hyphen_values = true, value_name = "+TAG|-TAG")]
        changes: Vec<String>,
    },
    /// Delete runs from the store (their files stay).
    Delete {
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Export the full records (JSON) or one row per run (CSV).
    Export(ExportArgs),
}

/// Which runs.
#[derive(Debug, Clone, Default, Args)]
pub struct FilterArgs {
    /// Runs with this tag.
    #[arg(long)]
    pub tag: Option<String>,
    /// Runs of this workload (or benchmark).
    #[arg(long)]
    pub workload: Option<String>,
    /// Runs of this scenario (Offline, Server, ...; endpoint runs: the load pattern).
    #[arg(long)]
    pub scenario: Option<String>,
    /// Runs of this system under test (its name).
    #[arg(long)]
    pub sut: Option<String>,
    /// Started on or after (YYYY-MM-DD, UTC, or an RFC 3339 time).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Started on or before (YYYY-MM-DD: the whole day).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// running, completed, interrupted, failed or incomplete (its process died).
    #[arg(long)]
    pub status: Option<String>,
    /// Runs of this group (a sweep, --repeat, a training set).
    #[arg(long)]
    pub group: Option<String>,
    /// At most this many (the newest).
    #[arg(long)]
    pub limit: Option<usize>,
}

impl FilterArgs {
    fn to_filter(&self) -> Result<RunFilter> {
        Ok(RunFilter {
            tag: self.tag.clone(),
            workload: self.workload.clone(),
            scenario: self.scenario.clone(),
            sut: self.sut.clone(),
            since: self
                .since
                .as_deref()
                .map(|d| parse_date(d, DateBound::StartOfDay))
                .transpose()?,
            until: self
                .until
                .as_deref()
                .map(|d| parse_date(d, DateBound::EndOfDay))
                .transpose()?,
            status: self.status.as_deref().map(RowStatus::parse).transpose()?,
            group: self.group.clone(),
            limit: self.limit,
        })
    }
}

#[derive(Debug, Clone, Default, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Print the rows as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Json,
    Csv,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    #[arg(long, value_enum, default_value = "json")]
    pub format: ExportFormat,
    /// Write to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(args: RunsArgs) -> Result<ExitCode> {
    let mut store = args.store.open()?;
    match args.command {
        None => list(&store, &args.list),
        Some(RunsCommand::List(l)) => list(&store, &l),
        Some(RunsCommand::Show { id, json }) => show(&store, &id, json),
        Some(RunsCommand::Tag { id, changes }) => tag(&mut store, &id, &changes),
        Some(RunsCommand::Delete { ids }) => {
            for spec in &ids {
                let id = store.delete(spec)?;
                println!("deleted {id}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(RunsCommand::Export(e)) => export(&store, &e),
    }
}

fn list(store: &Store, args: &ListArgs) -> Result<ExitCode> {
    let rows = store.list(&args.filter.to_filter()?)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("no runs in {}", store.path().display());
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", table(&rows));
    Ok(ExitCode::SUCCESS)
}

/// `1234.5 samples/s`, with a sensible number of digits.
pub(crate) fn format_value(value: f64, unit: &str) -> String {
    let digits = if value.abs() >= 1000.0 || value.fract() == 0.0 {
        0
    } else if value.abs() >= 10.0 {
        1
    } else {
        3
    };
    match unit {
        "1" | "" => format!("{value:.digits$}"),
        "ns" if value.abs() >= 1e6 => format!("{:.3} ms", value / 1e6),
        "ns" if value.abs() >= 1e3 => format!("{:.3} us", value / 1e3),
        _ => format!("{value:.digits$} {unit}"),
    }
}

/// The value as recorded (every digit), then a readable form of a latency.
fn exact_value(value: f64, unit: &str) -> String {
    match unit {
        "1" | "" => format!("{value}"),
        "ns" if value.abs() >= 1e3 => format!("{value} ns ({})", format_value(value, unit)),
        _ => format!("{value} {unit}"),
    }
}

/// The readable table of `runs list`.
fn table(rows: &[RunRow]) -> String {
    let headers = [
        "id",
        "when (UTC)",
        "workload",
        "scenario",
        "sut",
        "verdict",
        "main metric",
        "tags",
        "status",
    ];
    let cells: Vec<[String; 9]> = rows
        .iter()
        .map(|r| {
            let metric = match (&r.metric_name, r.metric_value) {
                (Some(n), Some(v)) => {
                    format!(
                        "{n} {}",
                        format_value(v, r.metric_unit.as_deref().unwrap_or(""))
                    )
                }
                _ => "-".to_string(),
            };
            let dash =
                |s: &Option<String>| s.clone().filter(|s| !s.is_empty()).unwrap_or("-".into());
            [
                r.id.clone(),
                r.started_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                if r.workload.is_empty() {
                    "-".into()
                } else {
                    r.workload.clone()
                },
                dash(&r.scenario),
                dash(&r.sut),
                r.verdict.clone(),
                metric,
                if r.tags.is_empty() {
                    "-".into()
                } else {
                    r.tags.join(",")
                },
                r.status.as_str().to_string(),
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cols: &[&str]| {
        let mut l = String::new();
        for (i, (c, w)) in cols.iter().zip(widths).enumerate() {
            if i + 1 == cols.len() {
                l.push_str(c);
            } else {
                let _ = write!(l, "{c:<w$}  ");
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&headers);
    for row in &cells {
        line(&row.iter().map(String::as_str).collect::<Vec<_>>());
    }
    out
}

fn show(store: &Store, spec: &str, json: bool) -> Result<ExitCode> {
    let record = store.get(spec)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&record)?);
        return Ok(ExitCode::SUCCESS);
    }
    let row = store.row(&record.id)?;
    let mut o = String::new();
    let _ = writeln!(o, "run {}  ({})", record.id, row.status.as_str());
    let _ = writeln!(
        o,
        "  kind      : {}   tool: {} {}{}",
        row.kind,
        record.tool.name,
        record.tool.version,
        record
            .tool
            .git_commit
            .as_deref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default()
    );
    let ended = record
        .ended_at
        .map(|e| {
            let secs = (e - record.started_at).num_milliseconds() as f64 / 1000.0;
            format!("   ended {}  ({secs:.1} s)", e.to_rfc3339())
        })
        .unwrap_or_default();
    let _ = writeln!(o, "  started   : {}{ended}", record.started_at.to_rfc3339());
    let w = &record.workload;
    let _ = writeln!(
        o,
        "  workload  : {}   scenario: {}   mode: {}{}",
        if w.name.is_empty() { "-" } else { &w.name },
        w.scenario.as_deref().unwrap_or("-"),
        w.mode.as_deref().unwrap_or("-"),
        w.model
            .as_deref()
            .filter(|m| *m != w.name)
            .map(|m| format!("   model: {m}"))
            .unwrap_or_default()
    );
    let params: Vec<String> = w
        .sut
        .params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let _ = writeln!(
        o,
        "  SUT       : {} ({}){}",
        if w.sut.name.is_empty() {
            "-"
        } else {
            &w.sut.name
        },
        w.sut.kind,
        if params.is_empty() {
            String::new()
        } else {
            format!("  {}", params.join(" "))
        }
    );
    if let Some(g) = &record.group {
        let _ = writeln!(
            o,
            "  group     : {} ({:?}, member {}{}, {})",
            g.id,
            g.kind,
            g.index + 1,
            g.size.map(|s| format!(" of {s}")).unwrap_or_default(),
            g.label
        );
    }
    if let Some(l) = &record.load {
        let _ = writeln!(o, "  load      : {}", l.label);
    }
    if !record.tags.is_empty() {
        let _ = writeln!(o, "  tags      : {}", record.tags.join(", "));
    }
    if !record.command_line.is_empty() {
        let _ = writeln!(o, "  command   : {}", record.command_line.join(" "));
    }
    let _ = writeln!(o, "\nvalidity: {}", record.validity.verdict.as_str());
    for c in &record.validity.checks {
        let _ = writeln!(
            o,
            "  [{}] {}: {}",
            if c.passed { "ok" } else { "FAIL" },
            c.name,
            c.detail.replace('\n', "; ")
        );
    }
    if let Some(a) = &record.accuracy {
        let _ = writeln!(
            o,
            "  accuracy {} = {}{}{}",
            a.metric,
            a.value,
            a.target
                .map(|t| format!(" (target {t})"))
                .unwrap_or_default(),
            match a.passed {
                Some(true) => " PASS",
                Some(false) => " FAIL",
                None => "",
            }
        );
    }
    if let Some(i) = &record.interruption {
        let _ = writeln!(o, "  interrupted: {}", i.reason);
    }
    if !record.metrics.is_empty() {
        let _ = writeln!(o, "\nmetrics:");
        let width = record
            .metrics
            .iter()
            .map(|m| m.name.len())
            .max()
            .unwrap_or(0);
        for m in &record.metrics {
            let _ = writeln!(o, "  {:<width$}  {}", m.name, exact_value(m.value, &m.unit));
        }
    }
    if !record.latencies.is_empty() {
        let _ = writeln!(o, "\nlatencies:");
        for (name, d) in &record.latencies {
            let pct: Vec<String> = d
                .percentiles
                .iter()
                .filter(|p| [50.0, 90.0, 99.0, 99.9].contains(&p.percent))
                .map(|p| format!("p{}={}", p.percent, format_value(p.value as f64, &d.unit)))
                .collect();
            let _ = writeln!(
                o,
                "  {name}: n={} min={} mean={} max={}  {}",
                d.count,
                format_value(d.min as f64, &d.unit),
                format_value(d.mean, &d.unit),
                format_value(d.max as f64, &d.unit),
                pct.join(" ")
            );
        }
    }
    if !record.settings.is_empty() {
        let _ = writeln!(o, "\nsettings (value, then where it came from):");
        let width = record
            .settings
            .iter()
            .map(|s| s.key.len())
            .max()
            .unwrap_or(0);
        for s in &record.settings {
            let _ = writeln!(
                o,
                "  {:<width$} = {:<22} {}",
                s.key,
                s.value,
                s.source.describe()
            );
        }
    }
    if let Some(system) = &record.system {
        let _ = writeln!(o, "\nsystem:");
        write_system(&mut o, system);
    }
    if !record.files.is_empty() {
        let _ = writeln!(o, "\nfiles:");
        for f in &record.files {
            let _ = writeln!(o, "  {:<14} {}", f.role, f.path.display());
        }
    }
    if !record.notes.is_empty() {
        let _ = writeln!(o, "\nnotes:");
        for n in &record.notes {
            let _ = writeln!(o, "  - {n}");
        }
    }
    print!("{o}");
    Ok(ExitCode::SUCCESS)
}

/// The system description, one line per top-level field (nested objects
/// compact, cut at 160 characters).
fn write_system(o: &mut String, system: &serde_json::Value) {
    // A description this yardstick can read is shown as `system show`
    // shows it; anything else (an older or foreign record) field by field.
    if let Ok(d) = serde_json::from_value::<yardstick_sysinfo::SystemDescription>(system.clone()) {
        for line in crate::system_cmd::summary(&d).lines() {
            let _ = writeln!(o, "  {line}");
        }
        return;
    }
    let Some(obj) = system.as_object() else {
        let _ = writeln!(o, "  {system}");
        return;
    };
    for (k, v) in obj {
        let text = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => continue,
            other => other.to_string(),
        };
        let short: String = text.chars().take(160).collect();
        let more = if short.len() < text.len() { " ..." } else { "" };
        let _ = writeln!(o, "  {k}: {short}{more}");
    }
}

fn tag(store: &mut Store, spec: &str, changes: &[String]) -> Result<ExitCode> {
    let mut add = Vec::new();
    let mut remove = Vec::new();
    // The changes take hyphen values (`-old`), so an option after them
    // lands here: say where it belongs rather than tag runs `--store`.
    if let Some(flag) = changes.iter().find(|c| c.starts_with("--")) {
        bail!("{flag} after the tags is read as a tag: put it before `tag` (yardstick runs {flag} ... tag ID +t -t)");
    }
    for c in changes {
        if let Some(t) = c.strip_prefix('-') {
            remove.push(t.to_string());
        } else {
            add.push(c.strip_prefix('+').unwrap_or(c).to_string());
        }
    }
    let id = store.resolve(spec)?;
    let tags = store.tag(&id, &add, &remove)?;
    println!(
        "{id}: {}",
        if tags.is_empty() {
            "no tags".to_string()
        } else {
            tags.join(", ")
        }
    );
    Ok(ExitCode::SUCCESS)
}

fn export(store: &Store, args: &ExportArgs) -> Result<ExitCode> {
    let rows = store.list_records(&args.filter.to_filter()?)?;
    let text = match args.format {
        ExportFormat::Json => {
            let records: Vec<_> = rows.into_iter().map(|(_, r)| r).collect();
            yardstick_store::to_json(&records)?
        }
        ExportFormat::Csv => yardstick_store::to_csv(&rows),
    };
    match &args.output {
        Some(path) => {
            if path.as_os_str().is_empty() {
                bail!("-o needs a file name");
            }
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::format_value;

    #[test]
    fn values_read_well() {
        assert_eq!(format_value(1234.56, "samples/s"), "1235 samples/s");
        assert_eq!(format_value(12.345, "x"), "12.3 x");
        assert_eq!(format_value(2_500_000.0, "ns"), "2.500 ms");
        assert_eq!(format_value(2898.0, "ns"), "2.898 us");
        assert_eq!(format_value(3.0, "1"), "3");
        assert_eq!(super::exact_value(2064.2, "samples/s"), "2064.2 samples/s");
        assert_eq!(super::exact_value(2898.0, "ns"), "2898 ns (2.898 us)");
    }
}

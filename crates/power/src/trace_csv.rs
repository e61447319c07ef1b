//! The raw trace kept beside a run: `power_trace.csv`, one row per reading
//! (`unix_seconds,watts,counter_joules`, then `<channel>_watts` for each
//! channel the source reads apart, e.g. `gpu0_watts,gpu1_watts` for NVML; a
//! column empty where the reading had no such value), with the reader
//! beside the writer.

use std::io::{BufRead, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::{ChannelSample, CounterReading, PowerError, PowerSample, PowerTrace};

const HEADER: &str = "unix_seconds,watts,counter_joules";
/// The suffix of a channel's column name.
const CHANNEL_SUFFIX: &str = "_watts";

/// One row: a time and what was read then.
struct Row<'a> {
    wall: SystemTime,
    watts: Option<f64>,
    joules: Option<f64>,
    channels: Option<&'a [f64]>,
}

/// Writes `trace`'s readings to `path`.
pub fn write_trace_csv(path: &Path, trace: &PowerTrace) -> Result<(), PowerError> {
    let io = |source| PowerError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut rows: Vec<Row<'_>> = trace
        .samples
        .iter()
        .map(|s| Row {
            wall: s.wall,
            watts: Some(s.watts),
            joules: None,
            channels: None,
        })
        .collect();
    for c in &trace.counter {
        match rows
            .iter_mut()
            .find(|r| r.wall == c.wall && r.joules.is_none())
        {
            Some(row) => row.joules = Some(c.joules),
            None => rows.push(Row {
                wall: c.wall,
                watts: None,
                joules: Some(c.joules),
                channels: None,
            }),
        }
    }
    for c in &trace.channels {
        match rows
            .iter_mut()
            .find(|r| r.wall == c.wall && r.channels.is_none())
        {
            Some(row) => row.channels = Some(&c.watts),
            None => rows.push(Row {
                wall: c.wall,
                watts: None,
                joules: None,
                channels: Some(&c.watts),
            }),
        }
    }
    rows.sort_by_key(|r| r.wall);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
    let cell = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let names = &trace.channel_names;
    let mut header = HEADER.to_string();
    for name in names {
        header.push_str(&format!(",{name}{CHANNEL_SUFFIX}"));
    }
    writeln!(out, "{header}").map_err(io)?;
    for row in rows {
        let secs = row
            .wall
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        write!(out, "{secs:.6},{},{}", cell(row.watts), cell(row.joules)).map_err(io)?;
        for k in 0..names.len() {
            let watts = row.channels.and_then(|c| c.get(k).copied());
            write!(out, ",{}", cell(watts)).map_err(io)?;
        }
        writeln!(out).map_err(io)?;
    }
    out.flush().map_err(io)
}

/// Reads a trace written by [`write_trace_csv`] (its source and notes are
/// not in the file: they stay empty).
pub fn read_trace_csv(path: &Path) -> Result<PowerTrace, PowerError> {
    let io = |source| PowerError::Io {
        path: path.to_path_buf(),
        source,
    };
    let malformed = |line: &str| PowerError::Malformed {
        path: path.to_path_buf(),
        content: line.to_string(),
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut trace = PowerTrace::default();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(io)?;
        if i == 0 {
            if let Some(rest) = line.trim().strip_prefix(HEADER) {
                trace.channel_names = channel_names(rest).ok_or_else(|| malformed(&line))?;
                continue;
            }
        }
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() != 3 + trace.channel_names.len() {
            return Err(malformed(&line));
        }
        let secs: f64 = cells[0].trim().parse().map_err(|_| malformed(&line))?;
        let wall = SystemTime::UNIX_EPOCH
            + Duration::try_from_secs_f64(secs).map_err(|_| malformed(&line))?;
        let number = |c: &str| -> Result<Option<f64>, PowerError> {
            match c.trim() {
                "" => Ok(None),
                v => v.parse().map(Some).map_err(|_| malformed(&line)),
            }
        };
        if let Some(watts) = number(cells[1])? {
            trace.samples.push(PowerSample { wall, watts });
        }
        if let Some(joules) = number(cells[2])? {
            trace.counter.push(CounterReading { wall, joules });
        }
        let channels = cells[3..]
            .iter()
            .map(|c| number(c))
            .collect::<Result<Vec<_>, _>>()?;
        if !channels.is_empty() && channels.iter().all(Option::is_some) {
            trace.channels.push(ChannelSample {
                wall,
                watts: channels.into_iter().flatten().collect(),
            });
        }
    }
    if let (Some(first), Some(last)) = (trace.counter.first(), trace.counter.last()) {
        trace.counter_joules = Some(last.joules - first.joules);
    }
    Ok(trace)
}

/// The channel names of the header's columns after [`HEADER`]
/// (`,gpu0_watts,gpu1_watts` gives `gpu0`, `gpu1`); `None` if one is not a
/// channel's column.
fn channel_names(rest: &str) -> Option<Vec<String>> {
    if rest.is_empty() {
        return Some(Vec::new());
    }
    rest.strip_prefix(',')?
        .split(',')
        .map(|c| c.trim().strip_suffix(CHANNEL_SUFFIX).map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_survives_the_file() {
        let t = |ms: u64| SystemTime::UNIX_EPOCH + Duration::from_millis(1_800_000_000_000 + ms);
        let trace = PowerTrace {
            source: "x".into(),
            samples: vec![
                PowerSample {
                    wall: t(100),
                    watts: 61.5,
                },
                PowerSample {
                    wall: t(200),
                    watts: 70.25,
                },
            ],
            counter: vec![
                CounterReading {
                    wall: t(0),
                    joules: 0.0,
                },
                CounterReading {
                    wall: t(200),
                    joules: 13.5,
                },
            ],
            counter_joules: Some(13.5),
            notes: vec![],
            ..PowerTrace::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("power_trace.csv");
        write_trace_csv(&path, &trace).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], HEADER);
        assert_eq!(lines[1], "1800000000.000000,,0");
        assert_eq!(lines[2], "1800000000.100000,61.5,");
        assert_eq!(lines[3], "1800000000.200000,70.25,13.5");
        let back = read_trace_csv(&path).unwrap();
        assert_eq!(back.samples.len(), 2);
        assert_eq!(back.samples[1].watts, 70.25);
        assert_eq!(back.counter.len(), 2);
        assert_eq!(back.counter_joules, Some(13.5));
        let ms = |w: SystemTime| (w.duration_since(t(0)).unwrap().as_secs_f64() * 1e3).round();
        assert_eq!(ms(back.samples[0].wall), 100.0);
    }

    #[test]
    fn a_bad_row_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("power_trace.csv");
        std::fs::write(&path, format!("{HEADER}\n1.0,abc,\n")).unwrap();
        let err = read_trace_csv(&path).unwrap_err();
        assert!(err.to_string().contains("1.0,abc,"), "{err}");
    }
}

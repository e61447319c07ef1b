//! spl.txt: PTDaemon's sample lines,
//! `Time,<MM-DD-YYYY HH:MM:SS.mmm>,Watts,<w>,Volts,<v>,Amps,<a>,PF,<pf>,Mark,<mark>`.

use super::clock::{format_ptd_time, parse_ptd_time};
use super::PtdError;
use crate::{PowerSample, PowerTrace};
use std::path::Path;
use std::time::SystemTime;

/// One sample line of spl.txt.
#[derive(Debug, Clone, PartialEq)]
pub struct SplSample {
    /// When PTDaemon took it (UTC on the wire).
    pub wall: SystemTime,
    /// Watts (the sum over channels on a multi-channel meter).
    pub watts: f64,
    /// Volts (-1 when unknown).
    pub volts: f64,
    /// Amps (-1 when unknown).
    pub amps: f64,
    /// Power factor (-1 when unknown).
    pub pf: f64,
    /// The mark of the measurement (`Go`'s last argument); empty in an
    /// `RL` reply, which carries no mark.
    pub mark: String,
}

impl SplSample {
    /// The line without its mark, as PTDaemon's `RL` sends it.
    pub(crate) fn unmarked_line(&self) -> String {
        format!(
            "Time,{},Watts,{:.6},Volts,{:.6},Amps,{:.6},PF,{:.6}",
            format_ptd_time(self.wall),
            self.watts,
            self.volts,
            self.amps,
            self.pf
        )
    }

    /// The full spl.txt line.
    pub fn line(&self) -> String {
        format!("{},Mark,{}", self.unmarked_line(), self.mark)
    }

    /// Parse a sample line (with or without its mark); `None` for anything
    /// else (PTDaemon's log mixes notices into the same file).
    pub fn parse(line: &str) -> Option<SplSample> {
        let fields: Vec<&str> = line.trim_end().split(',').collect();
        let labels = [
            (0, "Time"),
            (2, "Watts"),
            (4, "Volts"),
            (6, "Amps"),
            (8, "PF"),
        ];
        if fields.len() < 10 || labels.iter().any(|(at, label)| fields[*at] != *label) {
            return None;
        }
        let number = |at: usize| fields[at].trim().parse::<f64>().ok();
        let mark = match fields.get(10) {
            Some(&"Mark") => fields.get(11).copied().unwrap_or("").to_string(),
            _ => String::new(),
        };
        Some(SplSample {
            wall: parse_ptd_time(fields[1])?,
            watts: number(3)?,
            volts: number(5)?,
            amps: number(7)?,
            pf: number(9)?,
            mark,
        })
    }
}

/// Every sample line of an spl.txt.
pub fn read_spl(path: &Path) -> Result<Vec<SplSample>, PtdError> {
    let text = std::fs::read_to_string(path).map_err(|source| PtdError::File {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(text.lines().filter_map(SplSample::parse).collect())
}

/// spl.txt's content for `samples`.
pub(crate) fn spl_text(samples: &[SplSample]) -> String {
    let mut text = String::new();
    for sample in samples {
        text.push_str(&sample.line());
        text.push('\n');
    }
    text
}

/// A [`PowerTrace`] of the samples (their watts, stamped with their times).
pub(crate) fn trace_of(source: String, samples: &[SplSample], notes: Vec<String>) -> PowerTrace {
    PowerTrace {
        source,
        samples: samples
            .iter()
            .map(|sample| PowerSample {
                wall: sample.wall,
                watts: sample.watts,
            })
            .collect(),
        notes,
        ..PowerTrace::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_power_dev_readme_lines() {
        let line = "Time,12-28-2020 15:21:14.682,Watts,22.950000,Volts,228.570000,Amps,0.206430,PF,0.486400,Mark,2020-12-28_15-20-52_mylabel_testing";
        let sample = SplSample::parse(line).expect("a sample line");
        assert_eq!(sample.watts, 22.95);
        assert_eq!(sample.volts, 228.57);
        assert_eq!(sample.amps, 0.20643);
        assert_eq!(sample.pf, 0.4864);
        assert_eq!(sample.mark, "2020-12-28_15-20-52_mylabel_testing");
        assert_eq!(sample.line(), line);
        assert_eq!(
            SplSample::parse("Time,11-07-2020 17:49:06.145,NOTICE,Analyzer identity"),
            None
        );
    }
}

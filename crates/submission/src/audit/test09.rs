//! TEST09 (new in v6.0): the mean output length of every answer of a
//! performance run must lie within the benchmark's bounds, so a SUT cannot
//! shorten (or pad) its answers to look faster. The official
//! `compliance/TEST09/run_verification.py` reads the bounds from the
//! audit.config's `test09_min_output_tokens` / `test09_max_output_tokens`,
//! decodes each logged answer as 4-byte little-endian token ids and writes
//! `verify_output_len.txt`; this is that verdict, in its words.

use super::accuracy_log::AccuracyLogError;
use super::{from_hex, parse_accuracy_log};

/// The bounds an audit.config sets (`*.*.test09_min_output_tokens = 1150.38`):
/// (min, max), each `None` where the file has none.
pub fn thresholds(audit_config: &str) -> (Option<f64>, Option<f64>) {
    let mut bounds = (None, None);
    for line in audit_config.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let Ok(value) = value.trim().parse::<f64>() else {
            continue;
        };
        match key.trim().rsplit('.').next() {
            Some("test09_min_output_tokens") => bounds.0 = Some(value),
            Some("test09_max_output_tokens") => bounds.1 = Some(value),
            _ => {}
        }
    }
    bounds
}

/// TEST09's verdict on one compliance run.
#[derive(Debug, Clone, PartialEq)]
pub struct Test09Verdict {
    /// Answers whose length was counted.
    pub samples: usize,
    pub mean_tokens: f64,
    pub passed: bool,
    /// `verify_output_len.txt` as the official script writes it.
    pub verify_file: String,
}

/// Python's `f"{x:.2f}"`.
fn two_places(x: f64) -> String {
    format!("{x:.2}")
}

/// Python's `str(bool)`.
fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// The verdict on the compliance run's accuracy log (every answer logged)
/// within `min_tokens..=max_tokens`. An answer is counted by its whole
/// 4-byte tokens; an empty or undecodable one is left out, as there.
pub fn verify(
    accuracy_log: &str,
    min_tokens: f64,
    max_tokens: f64,
) -> Result<Test09Verdict, AccuracyLogError> {
    let lengths: Vec<usize> = parse_accuracy_log(accuracy_log)?
        .iter()
        .filter(|entry| !entry.data.is_empty())
        .filter_map(|entry| from_hex(&entry.data))
        .map(|bytes| bytes.len() / 4)
        .collect();
    let n = lengths.len();
    let mean = if n == 0 {
        0.0
    } else {
        lengths.iter().sum::<usize>() as f64 / n as f64
    };
    let (min_pass, max_pass) = (mean >= min_tokens, mean <= max_tokens);
    let passed = min_pass && max_pass;
    let rule = "=".repeat(80);
    let mut text = format!(
        "{rule}\nTEST09: Verify Output Token Length in Performance Mode\n{rule}\n\n\
         Output Token Length Statistics\n{}\nTotal samples: {n}\nMean output tokens: {}\n\
         Min output tokens: {}\nMax output tokens: {}\n",
        "-".repeat(40),
        two_places(mean),
        lengths.iter().min().copied().unwrap_or(0),
        lengths.iter().max().copied().unwrap_or(0),
    );
    if n > 0 {
        let variance = lengths
            .iter()
            .map(|&l| (l as f64 - mean).powi(2))
            .sum::<f64>()
            / n as f64;
        text.push_str(&format!("Std deviation: {}\n", two_places(variance.sqrt())));
    }
    text.push_str(&format!(
        "\n{rule}\nVerification Results\n{rule}\nMean output tokens: {}\nMin threshold: {}\n\
         Max threshold: {}\nMin check pass: {}\nMax check pass: {}\n\n{}\n",
        two_places(mean),
        yardstick_formats::pyfloat::repr(min_tokens),
        yardstick_formats::pyfloat::repr(max_tokens),
        py_bool(min_pass),
        py_bool(max_pass),
        if passed { "TEST PASS" } else { "TEST FAIL" },
    ));
    Ok(Test09Verdict {
        samples: n,
        mean_tokens: mean,
        passed,
        verify_file: text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(token_counts: &[usize]) -> String {
        let entries: Vec<String> = token_counts
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                format!(
                    "{{ \"seq_id\" : {i}, \"qsl_idx\" : {i}, \"data\" : \"{}\" }}",
                    "01000000".repeat(n)
                )
            })
            .collect();
        format!("[\n{}\n]\n", entries.join(",\n"))
    }

    #[test]
    fn bounds_come_from_the_official_audit_config_lines() {
        let config = "# TEST09\n*.*.mode = 2\n*.*.test09_min_output_tokens = 1150.38\n\
                      *.*.test09_max_output_tokens = 1406.02  # +10%\n";
        assert_eq!(thresholds(config), (Some(1150.38), Some(1406.02)));
        assert_eq!(thresholds("*.*.mode = 2\n"), (None, None));
    }

    #[test]
    fn the_mean_length_must_lie_within_the_bounds() {
        let v = verify(&log(&[2, 3, 4]), 2.5, 3.5).unwrap();
        assert_eq!((v.samples, v.mean_tokens, v.passed), (3, 3.0, true));
        assert!(v.verify_file.contains(
            "Total samples: 3\nMean output tokens: 3.00\nMin output tokens: 2\nMax output tokens: 4\nStd deviation: 0.82\n"
        ), "{}", v.verify_file);
        assert!(v.verify_file.contains("Min threshold: 2.5\nMax threshold: 3.5\nMin check pass: True\nMax check pass: True\n\nTEST PASS\n"));
        // Shortened answers fail the lower bound, padded ones the upper.
        let short = verify(&log(&[1, 1, 2]), 2.5, 3.5).unwrap();
        assert!(!short.passed && short.verify_file.contains("Min check pass: False\n"));
        assert!(short.verify_file.ends_with("\nTEST FAIL\n"));
        let long = verify(&log(&[9, 9]), 2.5, 3.5).unwrap();
        assert!(!long.passed && long.verify_file.contains("Max check pass: False\n"));
    }
}

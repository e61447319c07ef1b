//! TEST06: an LLM's output is consistent (`run_verification.py` of
//! compliance/TEST06, over the accuracy log of a performance run that
//! logged 100 sampled answers): the reported first token is the first
//! token of the answer (not checked Offline), an answer ends with at most
//! one EOS token, and the reported token count is the answer's length.

use super::test01::crash;
use super::{from_hex, parse_accuracy_log, AccuracyLogEntry, Dtype, ScriptOutput};

/// How the answers are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerEncoding {
    /// Token ids of this dtype, as the official script reads them
    /// (`--dtype`, default int32), with this EOS token id (default 2).
    Tokens { dtype: Dtype, eos_token_id: i64 },
    /// yardstick's reading for SUTs that answer text (an HTTP endpoint):
    /// the first-token answer must be a prefix of the answer's bytes (the
    /// official element-wise comparison, per byte); the answer must not
    /// end with `eos_text` twice; and the token count must be 0 exactly
    /// for an empty answer and at most its byte count (no token is shorter
    /// than a byte, so a SUT claiming more tokens than it sent fails).
    Text { eos_text: String },
}

/// The three checks and the verdict file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Test06Verdict {
    /// `None`: Offline, where the first token is not reported.
    pub first_token_pass: Option<bool>,
    pub eos_pass: bool,
    pub sample_len_pass: bool,
    /// The text of `TEST06/verify_accuracy.txt`; `None` where the official
    /// script dies before writing it (its length check raises on an answer
    /// that is not whole tokens, or an entry without `token_count`).
    pub verify_file: Option<String>,
    /// What the script printed besides.
    pub output: ScriptOutput,
}

impl Test06Verdict {
    /// The file says `TEST06 verification complete`.
    pub fn passed(&self) -> bool {
        self.verify_file
            .as_deref()
            .is_some_and(|t| t.contains("TEST06 verification complete"))
    }
}

fn tokens(hex: &str, dtype: Dtype) -> Option<Vec<super::Element>> {
    dtype.decode(&from_hex(hex)?)
}

fn eos_check_tokens(log: &[AccuracyLogEntry], dtype: Dtype, eos: i64) -> Option<bool> {
    for sample in log {
        let data = tokens(&sample.data, dtype)?;
        // From the end, index 0 excluded, as the official loop.
        let mut trailing = 0;
        for t in data.iter().skip(1).rev() {
            if !t.equals_int(eos) {
                break;
            }
            trailing += 1;
            if trailing >= 2 {
                return Some(false);
            }
        }
    }
    Some(true)
}

fn first_token_check_tokens(log: &[AccuracyLogEntry], dtype: Dtype) -> Option<bool> {
    for sample in log {
        let data = tokens(&sample.data, dtype)?;
        let first = tokens(sample.token_data.as_deref()?, dtype)?;
        if data.iter().zip(&first).any(|(a, b)| a != b) {
            return Some(false);
        }
    }
    Some(true)
}

/// `int(sample["token_count"])`.
fn token_count(sample: &AccuracyLogEntry) -> Option<i64> {
    match sample.token_count.as_ref()? {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        serde_json::Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

fn sample_len_check_tokens(log: &[AccuracyLogEntry], dtype: Dtype) -> Result<bool, String> {
    for sample in log {
        let data = tokens(&sample.data, dtype)
            .ok_or("ValueError: buffer size must be a multiple of element size")?;
        let count = token_count(sample).ok_or("KeyError: 'token_count'")?;
        if data.len() as i64 != count {
            return Ok(false);
        }
    }
    Ok(true)
}

fn text_checks(log: &[AccuracyLogEntry], eos: &str) -> (Option<bool>, bool, bool) {
    let mut first_token = Some(true);
    let mut eos_pass = true;
    let mut len_pass = true;
    for sample in log {
        let Some(data) = from_hex(&sample.data) else {
            return (Some(false), false, false);
        };
        match sample.token_data.as_deref().map(from_hex) {
            Some(Some(first)) if data.starts_with(&first) || first.starts_with(&data) => {}
            _ => first_token = Some(false),
        }
        let twice = eos.repeat(2);
        if !eos.is_empty() && data.ends_with(twice.as_bytes()) {
            eos_pass = false;
        }
        match token_count(sample) {
            Some(n) if (n == 0) == data.is_empty() && n >= 0 && n as usize <= data.len() => {}
            _ => len_pass = false,
        }
    }
    (first_token, eos_pass, len_pass)
}

/// TEST06's verdict over the compliance run's accuracy log; `scenario` as
/// the run's (`Offline` skips the first-token check).
pub fn verify(accuracy_log: &str, scenario: &str, encoding: &AnswerEncoding) -> Test06Verdict {
    let mut output = ScriptOutput::default();
    let log = match parse_accuracy_log(accuracy_log) {
        Ok(l) => l,
        Err(e) => {
            crash(&mut output, &format!("json.decoder.JSONDecodeError: {e}"));
            return Test06Verdict {
                first_token_pass: None,
                eos_pass: false,
                sample_len_pass: false,
                verify_file: None,
                output,
            };
        }
    };
    let need_first_token = scenario != "Offline";
    let (first_token_pass, eos_pass, sample_len_pass) = match encoding {
        AnswerEncoding::Tokens {
            dtype,
            eos_token_id,
        } => {
            let eos_pass = eos_check_tokens(&log, *dtype, *eos_token_id).unwrap_or_else(|| {
                output.out("Unexpected error occured while doing the EOS check");
                false
            });
            let first = need_first_token.then(|| {
                first_token_check_tokens(&log, *dtype).unwrap_or_else(|| {
                    output.out("Unexpected error occured while doing the first token check");
                    false
                })
            });
            match sample_len_check_tokens(&log, *dtype) {
                Ok(len) => (first, eos_pass, len),
                Err(exception) => {
                    crash(&mut output, &exception);
                    return Test06Verdict {
                        first_token_pass: first,
                        eos_pass,
                        sample_len_pass: false,
                        verify_file: None,
                        output,
                    };
                }
            }
        }
        AnswerEncoding::Text { eos_text } => {
            let (first, eos_pass, len) = text_checks(&log, eos_text);
            (first.filter(|_| need_first_token), eos_pass, len)
        }
    };
    let py_bool = |b: bool| if b { "True" } else { "False" };
    let mut text = match first_token_pass {
        Some(b) => format!("First token check pass: {}\n", py_bool(b)),
        None => "First token check pass: Skipped\n".to_string(),
    };
    text.push_str(&format!("EOS check pass: {}\n", py_bool(eos_pass)));
    text.push_str(&format!(
        "Sample length check pass: {}\n",
        py_bool(sample_len_pass)
    ));
    if eos_pass && first_token_pass.unwrap_or(true) && sample_len_pass {
        text.push_str("TEST06 verification complete\n");
    } else {
        text.push_str("TEST06 verification failed\n");
    }
    // The script prints the file's text too (`print(output)`).
    output.out(&text);
    Test06Verdict {
        first_token_pass,
        eos_pass,
        sample_len_pass,
        verify_file: Some(text),
        output,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex32(tokens: &[i32]) -> String {
        tokens
            .iter()
            .flat_map(|t| t.to_le_bytes())
            .map(|b| format!("{b:02X}"))
            .collect()
    }

    fn entry(data: &str, first: &str, count: i64) -> String {
        format!("{{ \"seq_id\" : 0, \"qsl_idx\" : 0, \"data\" : \"{data}\", \"token_data\" : \"{first}\", \"token_count\" : {count} }}")
    }

    fn log(entries: &[String]) -> String {
        format!("[\n{}\n]\n", entries.join(",\n"))
    }

    const INT32: AnswerEncoding = AnswerEncoding::Tokens {
        dtype: Dtype::Int32,
        eos_token_id: 2,
    };

    #[test]
    fn a_consistent_answer_passes() {
        let l = log(&[entry(&hex32(&[5, 6, 7, 2]), &hex32(&[5]), 4)]);
        let v = verify(&l, "Server", &INT32);
        assert_eq!(
            v.verify_file.as_deref(),
            Some("First token check pass: True\nEOS check pass: True\nSample length check pass: True\nTEST06 verification complete\n")
        );
        assert!(v.passed());
        let v = verify(&l, "Offline", &INT32);
        assert!(v
            .verify_file
            .unwrap()
            .starts_with("First token check pass: Skipped\n"));
    }

    #[test]
    fn each_check_fails_on_its_own() {
        let first = log(&[entry(&hex32(&[5, 6]), &hex32(&[9]), 2)]);
        let v = verify(&first, "Server", &INT32);
        assert_eq!(v.first_token_pass, Some(false));
        assert!(!v.passed());
        assert!(v
            .verify_file
            .unwrap()
            .ends_with("TEST06 verification failed\n"));
        let eos = log(&[entry(&hex32(&[5, 2, 2]), &hex32(&[5]), 3)]);
        assert!(!verify(&eos, "Server", &INT32).eos_pass);
        // Index 0 is not looked at: [2, 2] has one trailing EOS counted.
        let eos0 = log(&[entry(&hex32(&[2, 2]), &hex32(&[2]), 2)]);
        assert!(verify(&eos0, "Server", &INT32).eos_pass);
        let short = log(&[entry(&hex32(&[5, 6]), &hex32(&[5]), 7)]);
        assert!(!verify(&short, "Offline", &INT32).sample_len_pass);
        // Not whole int32 tokens: the official script dies in the length check.
        let ragged = log(&[entry("050000", "05", 1)]);
        let v = verify(&ragged, "Server", &INT32);
        assert_eq!(v.verify_file, None);
        assert!(!v.passed());
        assert!(v.output.stdout.contains("EOS check"));
    }

    #[test]
    fn text_answers() {
        let enc = AnswerEncoding::Text {
            eos_text: "</s>".into(),
        };
        let hex = |s: &str| s.bytes().map(|b| format!("{b:02X}")).collect::<String>();
        let ok = log(&[entry(&hex("tok1 tok2 tok3"), &hex("tok1 "), 3)]);
        assert!(verify(&ok, "Server", &enc).passed());
        let wrong_first = log(&[entry(&hex("tok1 tok2"), &hex("tok9 "), 2)]);
        assert_eq!(
            verify(&wrong_first, "Server", &enc).first_token_pass,
            Some(false)
        );
        let claims_more = log(&[entry(&hex("tok1"), &hex("tok1"), 50)]);
        assert!(!verify(&claims_more, "Server", &enc).sample_len_pass);
        let eos = log(&[entry(&hex("a</s></s>"), &hex("a"), 3)]);
        assert!(!verify(&eos, "Server", &enc).eos_pass);
    }
}

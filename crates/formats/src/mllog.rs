//! `:::MLLOG` lines: MLPerf Training's result logs and the inference
//! detail log (`mlperf_log_detail.txt`) are made of them.
//!
//! A training line, as mlperf-logging's `mllog` writes it:
//!
//! ```text
//! :::MLLOG {"namespace": "", "time_ms": 1700000000123, "event_type": "INTERVAL_START", "key": "run_start", "value": null, "metadata": {"file": "train.py", "lineno": 42}}
//! ```
//!
//! The object is `json.dumps` of an ordered dict (Python's separators and
//! float spellings, see [`crate::pyjson`]). A [`Record`] keeps the object's
//! members in their written order, so a line read and written again is the
//! same bytes, whichever member order the writer used (LoadGen's detail log
//! starts with `key`).
//!
//! Reading follows the official compliance checker's parser
//! (`mlperf_logging.compliance_checker.mlp_parser`): a line counts when it
//! contains `:::MLLOG ` anywhere, everything up to the token's last
//! occurrence is dropped (a `[rank 0]` prefix, a second line glued to the
//! first), then surrounding whitespace; the rest must be JSON with
//! `time_ms` (a number, or a string `float()` takes), `key`, `value` and
//! `metadata`. A line that fails is a [`LineError`] with the reason and
//! reading goes on.

use std::io::Write;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::pyjson::{self, JsonError, JsonValue};

/// The token that marks a log line.
pub const TOKEN: &str = ":::MLLOG ";

/// The event types of mllog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    IntervalStart,
    IntervalEnd,
    PointInTime,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::IntervalStart => "INTERVAL_START",
            EventType::IntervalEnd => "INTERVAL_END",
            EventType::PointInTime => "POINT_IN_TIME",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "INTERVAL_START" => Some(EventType::IntervalStart),
            "INTERVAL_END" => Some(EventType::IntervalEnd),
            "POINT_IN_TIME" => Some(EventType::PointInTime),
            _ => None,
        }
    }
}

/// Keys of `mlperf_logging.mllog.constants` used by yardstick.
pub mod keys {
    pub const CACHE_CLEAR: &str = "cache_clear";
    pub const INIT_START: &str = "init_start";
    pub const INIT_STOP: &str = "init_stop";
    pub const RUN_START: &str = "run_start";
    pub const RUN_STOP: &str = "run_stop";
    pub const BLOCK_START: &str = "block_start";
    pub const BLOCK_STOP: &str = "block_stop";
    pub const EPOCH_START: &str = "epoch_start";
    pub const EPOCH_STOP: &str = "epoch_stop";
    pub const EVAL_START: &str = "eval_start";
    pub const EVAL_STOP: &str = "eval_stop";
    pub const EVAL_ACCURACY: &str = "eval_accuracy";
    pub const SUBMISSION_BENCHMARK: &str = "submission_benchmark";
    pub const SUBMISSION_ORG: &str = "submission_org";
    pub const SUBMISSION_DIVISION: &str = "submission_division";
    pub const SUBMISSION_STATUS: &str = "submission_status";
    pub const SUBMISSION_PLATFORM: &str = "submission_platform";
    pub const SEED: &str = "seed";
    pub const GLOBAL_BATCH_SIZE: &str = "global_batch_size";
    pub const TRAIN_SAMPLES: &str = "train_samples";
    pub const EVAL_SAMPLES: &str = "eval_samples";
    pub const OPT_NAME: &str = "opt_name";
    pub const OPT_BASE_LR: &str = "opt_base_learning_rate";
    pub const OPT_ADAMW_EPSILON: &str = "opt_adamw_epsilon";
    pub const OPT_ADAMW_WEIGHT_DECAY: &str = "opt_adamw_weight_decay";
    pub const OPT_ADAMW_BETA_1: &str = "opt_adamw_beta_1";
    pub const OPT_ADAMW_BETA_2: &str = "opt_adamw_beta_2";
    pub const OPT_LR_DECAY_FACTOR: &str = "opt_learning_rate_decay_factor";
    pub const LOWEST_NUMERICAL_PRECISION_IN_LINEAR: &str = "lowest_numerical_precision_in_linear";
    pub const LOWEST_NUMERICAL_PRECISION_IN_ATTN: &str = "lowest_numerical_precision_in_attn";
    pub const LOWEST_NUMERICAL_PRECISION_IN_COMM: &str = "lowest_numerical_precision_in_comm";
    pub const TENSOR_PARALLELISM: &str = "tensor_parallelism";
    pub const PIPELINE_PARALLELISM: &str = "pipeline_parallelism";
    pub const CONTEXT_PARALLELISM: &str = "context_parallelism";
    pub const EXPERT_PARALLELISM: &str = "expert_parallelism";
    pub const MICRO_BATCH_SIZE: &str = "micro_batch_size";
    pub const CONFIG_FILENAME: &str = "config_filename";
    pub const TRAINED_SAMPLES: &str = "trained_samples";
    pub const WEIGHTS_INITIALIZATION: &str = "weights_initialization";
    pub const SUCCESS: &str = "success";
    pub const ABORTED: &str = "aborted";
}

/// One `:::MLLOG` record: the line's JSON object, members in written order.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub members: Vec<(String, JsonValue)>,
}

impl Record {
    /// A training record in mllog's member order: `namespace`, `time_ms`,
    /// `event_type`, `key`, `value`, `metadata`.
    pub fn training(
        namespace: &str,
        time_ms: u64,
        event_type: EventType,
        key: &str,
        value: JsonValue,
        metadata: Vec<(String, JsonValue)>,
    ) -> Self {
        Record {
            members: vec![
                ("namespace".into(), namespace.into()),
                ("time_ms".into(), time_ms.into()),
                ("event_type".into(), event_type.as_str().into()),
                ("key".into(), key.into()),
                ("value".into(), value),
                ("metadata".into(), JsonValue::Object(metadata)),
            ],
        }
    }

    pub fn get(&self, name: &str) -> Option<&JsonValue> {
        self.members.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The `key` (`None` when absent or not a string).
    pub fn key(&self) -> Option<&str> {
        self.get("key").and_then(JsonValue::as_str)
    }

    /// `time_ms` as the official parser reads it: `float(time_ms)`.
    pub fn time_ms(&self) -> Option<f64> {
        match self.get("time_ms")? {
            JsonValue::Str(s) => crate::pyfloat::parse(s),
            v => v.as_f64(),
        }
    }

    pub fn event_type(&self) -> Option<EventType> {
        self.get("event_type")
            .and_then(JsonValue::as_str)
            .and_then(EventType::parse)
    }

    pub fn namespace(&self) -> Option<&str> {
        self.get("namespace").and_then(JsonValue::as_str)
    }

    /// The `value` (JSON `null` when absent).
    pub fn value(&self) -> &JsonValue {
        self.get("value").unwrap_or(&JsonValue::Null)
    }

    /// A field of `metadata` (`epoch_num`, `status`, ...).
    pub fn metadata(&self, name: &str) -> Option<&JsonValue> {
        self.get("metadata").and_then(|m| m.get(name))
    }

    /// The JSON object as `json.dumps` writes it.
    pub fn to_json(&self) -> String {
        JsonValue::Object(self.members.clone()).dumps()
    }

    /// The whole line, `:::MLLOG {...}`, without a newline.
    pub fn to_line(&self) -> String {
        format!("{TOKEN}{}", self.to_json())
    }
}

/// Why a `:::MLLOG` line was not read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LineErrorReason {
    /// What `json.loads` raises (the official checker reports this text).
    #[error("{0}")]
    Json(#[from] JsonError),
    /// The JSON is not an object.
    #[error("the record is not a JSON object")]
    NotAnObject,
    /// One of `time_ms`, `key`, `value`, `metadata` is missing.
    #[error("the record has no '{0}'")]
    MissingField(&'static str),
    /// `time_ms` is not a number nor a string `float()` takes.
    #[error("time_ms is not a number: {0}")]
    BadTime(String),
}

/// A `:::MLLOG` line that could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line_number}: {reason}")]
pub struct LineError {
    /// The file's line, from 1.
    pub line_number: usize,
    /// Index among the file's `:::MLLOG` lines, from 0 (the official
    /// parser's `lineno`).
    pub mllog_index: usize,
    /// The line from the token on, stripped (what the official checker
    /// prints).
    pub text: String,
    pub reason: LineErrorReason,
}

/// A record read from a log, with where it was.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub line_number: usize,
    pub mllog_index: usize,
    /// Text before the token's last occurrence (`[rank 0] `, ...).
    pub prefix: String,
    pub record: Record,
}

/// A whole log read: its records and the lines that failed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedLog {
    pub lines: Vec<LogLine>,
    pub errors: Vec<LineError>,
}

/// Python's `str.isspace()` for a latin-1 character (the official parser
/// decodes a log as latin-1, one character per byte).
pub fn is_latin1_space(b: u8) -> bool {
    matches!(
        b,
        b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1c..=0x1f | b' ' | 0x85 | 0xa0
    )
}

/// Python's universal newlines on a latin-1 file's bytes: `\n`, `\r\n` and
/// `\r` end a line.
pub fn latin1_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match memchr::memchr2(b'\n', b'\r', rest) {
            Some(i) => {
                let line = &rest[..i];
                let skip = if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                rest = &rest[i + skip..];
                Some(line)
            }
            None => {
                let line = rest;
                rest = &[];
                Some(line)
            }
        }
    })
}

/// A latin-1 line's part from the token's last occurrence on, right-stripped
/// as Python strips it; `None` when the line has no token. The official
/// checker reads (and prints) this text.
pub fn latin1_mllog_text(line: &[u8]) -> Option<&[u8]> {
    let at = memchr::memmem::rfind(line, TOKEN.as_bytes())?;
    let mut text = &line[at..];
    while let [head @ .., last] = text {
        if !is_latin1_space(*last) {
            break;
        }
        text = head;
    }
    Some(text)
}

/// The part of a line from the token's last occurrence on, right-stripped,
/// and the text before it; `None` when the line has no token.
pub fn split_line(line: &str) -> Option<(&str, &str)> {
    let at = line.rfind(TOKEN)?;
    Some((&line[..at], line[at..].trim_end()))
}

/// Reads one line's record (the line must contain the token).
pub fn parse_record(mllog_text: &str) -> Result<Record, LineErrorReason> {
    let body = mllog_text.strip_prefix(TOKEN).unwrap_or(mllog_text);
    let JsonValue::Object(members) = pyjson::loads(body)? else {
        return Err(LineErrorReason::NotAnObject);
    };
    let record = Record { members };
    for field in ["time_ms", "key", "value", "metadata"] {
        if record.get(field).is_none() {
            return Err(LineErrorReason::MissingField(field));
        }
    }
    if record.time_ms().is_none() {
        let shown = record
            .get("time_ms")
            .map(JsonValue::dumps)
            .unwrap_or_default();
        return Err(LineErrorReason::BadTime(shown));
    }
    Ok(record)
}

/// Reads lines one at a time (a log being written, or a whole file):
/// keeps the line and `:::MLLOG` counts.
#[derive(Debug, Clone, Default)]
pub struct LineReader {
    line_number: usize,
    mllog_index: usize,
}

impl LineReader {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next line of the log (without its newline): `None` when it holds
    /// no `:::MLLOG` token, else the record or why it failed.
    pub fn push(&mut self, line: &str) -> Option<Result<LogLine, LineError>> {
        self.line_number += 1;
        let (prefix, text) = split_line(line)?;
        let mllog_index = self.mllog_index;
        self.mllog_index += 1;
        Some(match parse_record(text) {
            Ok(record) => Ok(LogLine {
                line_number: self.line_number,
                mllog_index,
                prefix: prefix.to_string(),
                record,
            }),
            Err(reason) => Err(LineError {
                line_number: self.line_number,
                mllog_index,
                text: text.trim_start().to_string(),
                reason,
            }),
        })
    }
}

/// Reads a whole log: UTF-8, or latin-1 where it is not valid UTF-8 (the
/// official parser reads latin-1); lines split on `\n`, `\r\n` and `\r`.
pub fn read_log(bytes: &[u8]) -> ParsedLog {
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => std::borrow::Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    };
    let mut reader = LineReader::new();
    let mut parsed = ParsedLog::default();
    for line in universal_lines(&text) {
        match reader.push(line) {
            Some(Ok(l)) => parsed.lines.push(l),
            Some(Err(e)) => parsed.errors.push(e),
            None => {}
        }
    }
    parsed
}

/// Python's universal newlines: `\n`, `\r\n` and `\r` end a line.
fn universal_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match rest.find(['\n', '\r']) {
            Some(i) => {
                let line = &rest[..i];
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[i + skip..];
                Some(line)
            }
            None => {
                let line = rest;
                rest = "";
                Some(line)
            }
        }
    })
}

/// Milliseconds since the Unix epoch, as mllog's `int(time.time() * 1e3)`.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A writer of training log lines, as mllog's `MLLogger`: each line goes to
/// every output (stdout, a result file), flushed.
pub struct MlLogger {
    namespace: String,
    outputs: Mutex<Vec<Box<dyn Write + Send>>>,
    /// Path prefix removed from `metadata.file` (mllog's `root_dir`).
    root_dir: Option<String>,
    /// Clock in ms since the epoch; replaceable for tests.
    clock: fn() -> u64,
}

impl std::fmt::Debug for MlLogger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MlLogger")
            .field("namespace", &self.namespace)
            .finish()
    }
}

impl MlLogger {
    pub fn new(outputs: Vec<Box<dyn Write + Send>>) -> Self {
        MlLogger {
            namespace: String::new(),
            outputs: Mutex::new(outputs),
            root_dir: None,
            clock: now_ms,
        }
    }

    pub fn with_clock(mut self, clock: fn() -> u64) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_root_dir(mut self, root: impl Into<String>) -> Self {
        self.root_dir = Some(root.into());
        self
    }

    /// `mllogger.start(key, value, metadata)`; returns the line's `time_ms`.
    #[track_caller]
    pub fn start(
        &self,
        key: &str,
        value: impl Into<JsonValue>,
        metadata: &[(&str, JsonValue)],
    ) -> std::io::Result<u64> {
        self.log(EventType::IntervalStart, key, value.into(), metadata)
    }

    /// `mllogger.end(key, value, metadata)`; returns the line's `time_ms`.
    #[track_caller]
    pub fn end(
        &self,
        key: &str,
        value: impl Into<JsonValue>,
        metadata: &[(&str, JsonValue)],
    ) -> std::io::Result<u64> {
        self.log(EventType::IntervalEnd, key, value.into(), metadata)
    }

    /// `mllogger.event(key, value, metadata)`; returns the line's `time_ms`.
    #[track_caller]
    pub fn event(
        &self,
        key: &str,
        value: impl Into<JsonValue>,
        metadata: &[(&str, JsonValue)],
    ) -> std::io::Result<u64> {
        self.log(EventType::PointInTime, key, value.into(), metadata)
    }

    #[track_caller]
    fn log(
        &self,
        event_type: EventType,
        key: &str,
        value: JsonValue,
        metadata: &[(&str, JsonValue)],
    ) -> std::io::Result<u64> {
        let caller = std::panic::Location::caller();
        let mut file = caller.file().replace('\\', "/");
        if let Some(root) = &self.root_dir {
            if let Some(rest) = file.strip_prefix(&format!("{root}/")) {
                file = rest.to_string();
            }
        }
        // mllog's dict: the caller's file and line, then `update(metadata)`
        // (a given `file` or `lineno` replaces the value in its place).
        let mut meta: Vec<(String, JsonValue)> = vec![
            ("file".into(), file.into()),
            ("lineno".into(), u64::from(caller.line()).into()),
        ];
        for (k, v) in metadata {
            match meta.iter_mut().find(|(existing, _)| existing == k) {
                Some(slot) => slot.1 = v.clone(),
                None => meta.push(((*k).to_string(), v.clone())),
            }
        }
        let time_ms = (self.clock)();
        let record = Record::training(&self.namespace, time_ms, event_type, key, value, meta);
        let line = format!("{}\n", record.to_line());
        let mut outs = self.outputs.lock().unwrap_or_else(|p| p.into_inner());
        for o in outs.iter_mut() {
            o.write_all(line.as_bytes())?;
            o.flush()?;
        }
        Ok(time_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn latin1_lines_split_and_strip_as_python() {
        let log =
            b"a\r\n[rank 0] x :::MLLOG :::MLLOG {\"k\": 1} \x1f\xa0\rno token\n:::MLLOG {}\xe9";
        let texts: Vec<&[u8]> = latin1_lines(log).filter_map(latin1_mllog_text).collect();
        assert_eq!(
            texts,
            vec![&b":::MLLOG {\"k\": 1}"[..], &b":::MLLOG {}\xe9"[..]]
        );
        assert_eq!(latin1_lines(b"a\r\rb\n").count(), 3);
    }

    #[test]
    fn lines_match_mllog() {
        let buf = Buf::default();
        let log = MlLogger::new(vec![Box::new(buf.clone())]).with_clock(|| 1234567890123);
        let line_no = line!() + 1;
        let t = log.start("run_start", JsonValue::Null, &[]).unwrap();
        assert_eq!(t, 1234567890123);
        log.event("eval_accuracy", 0.9123, &[("epoch_num", 3i64.into())])
            .unwrap();
        log.end("run_stop", JsonValue::Null, &[("status", "success".into())])
            .unwrap();
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            format!(
                ":::MLLOG {{\"namespace\": \"\", \"time_ms\": 1234567890123, \"event_type\": \"INTERVAL_START\", \"key\": \"run_start\", \"value\": null, \"metadata\": {{\"file\": \"{}\", \"lineno\": {line_no}}}}}",
                file!()
            )
        );
        assert_eq!(
            lines[1],
            format!(
                ":::MLLOG {{\"namespace\": \"\", \"time_ms\": 1234567890123, \"event_type\": \"POINT_IN_TIME\", \"key\": \"eval_accuracy\", \"value\": 0.9123, \"metadata\": {{\"file\": \"{}\", \"lineno\": {}, \"epoch_num\": 3}}}}",
                file!(),
                line_no + 2
            )
        );
        assert!(lines[2].ends_with(", \"status\": \"success\"}}"));
        let parsed = read_log(text.as_bytes());
        assert!(parsed.errors.is_empty());
        assert_eq!(parsed.lines.len(), 3);
        assert_eq!(parsed.lines[1].record.key(), Some("eval_accuracy"));
        assert_eq!(parsed.lines[1].record.value().as_f64(), Some(0.9123));
        assert_eq!(
            parsed.lines[1]
                .record
                .metadata("epoch_num")
                .and_then(JsonValue::as_i64),
            Some(3)
        );
        assert_eq!(
            parsed.lines[2].record.event_type(),
            Some(EventType::IntervalEnd)
        );
        for (l, original) in parsed.lines.iter().zip(&lines) {
            assert_eq!(&l.record.to_line(), original);
        }
    }

    #[test]
    fn given_metadata_replaces_in_place() {
        let buf = Buf::default();
        let log = MlLogger::new(vec![Box::new(buf.clone())]).with_clock(|| 7);
        log.event("k", 1i64, &[("file", "x.py".into())]).unwrap();
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.contains("\"metadata\": {\"file\": \"x.py\", \"lineno\": "),
            "{text}"
        );
    }

    #[test]
    fn tolerant_reader() {
        let log = b"noise\r\n[rank 0] :::MLLOG {\"time_ms\": 5, \"key\": \"a\", \"value\": 1, \"metadata\": {}}  \r\
x :::MLLOG junk :::MLLOG {\"time_ms\": \"7.5\", \"key\": \"b\", \"value\": null, \"metadata\": null}\n\
:::MLLOG {\"time_ms\": 1, \"key\": \"c\"\n\
:::MLLOG {\"time_ms\": \"x\", \"key\": \"d\", \"value\": 1, \"metadata\": {}}\n\
:::MLLOG {\"time_ms\": 1, \"key\": \"d\", \"value\": 1}\n\
:::MLLOG [1]\n";
        let parsed = read_log(log);
        assert_eq!(parsed.lines.len(), 2);
        assert_eq!(parsed.lines[0].record.key(), Some("a"));
        assert_eq!(parsed.lines[0].prefix, "[rank 0] ");
        assert_eq!(parsed.lines[0].line_number, 2);
        assert_eq!(parsed.lines[0].mllog_index, 0);
        assert_eq!(parsed.lines[1].record.time_ms(), Some(7.5));
        assert_eq!(parsed.lines[1].prefix, "x :::MLLOG junk ");
        let reasons: Vec<(usize, usize, String)> = parsed
            .errors
            .iter()
            .map(|e| (e.line_number, e.mllog_index, e.reason.to_string()))
            .collect();
        assert_eq!(
            reasons,
            vec![
                (
                    4,
                    2,
                    "Expecting ',' delimiter: line 1 column 26 (char 25)".to_string()
                ),
                (5, 3, "time_ms is not a number: \"x\"".to_string()),
                (6, 4, "the record has no 'metadata'".to_string()),
                (7, 5, "the record is not a JSON object".to_string()),
            ]
        );
        assert_eq!(
            parsed.errors[0].text,
            ":::MLLOG {\"time_ms\": 1, \"key\": \"c\""
        );
    }
}

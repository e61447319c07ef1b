//! MLPerf Training's `:::MLLOG` log lines, as the `mlperf-logging` package's
//! `mllog` writes them:
//!
//! ```text
//! :::MLLOG {"namespace": "", "time_ms": 1700000000123, "event_type": "INTERVAL_START", "key": "run_start", "value": null, "metadata": {"file": "crates/workloads/src/train.rs", "lineno": 42}}
//! ```
//!
//! The JSON object has the keys `namespace`, `time_ms` (integer milliseconds
//! since the Unix epoch), `event_type` (`INTERVAL_START`, `INTERVAL_END` or
//! `POINT_IN_TIME`), `key`, `value` and `metadata`, in that order, with
//! Python's `json.dumps` separators (`", "` and `": "`). As in mllog, the
//! metadata always holds the caller's `file` and `lineno`, then any extra
//! fields (`epoch_num`, `status`, ...).

use std::io::Write;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

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
}

/// Keys of `mlperf_logging.mllog.constants` used here.
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

/// Milliseconds since the Unix epoch, as mllog's `int(time.time() * 1e3)`.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// One log line's JSON text (without the `:::MLLOG ` prefix).
pub fn encode(
    namespace: &str,
    time_ms: u64,
    event_type: EventType,
    key: &str,
    value: &Value,
    metadata: &[(String, Value)],
) -> String {
    // serde_json keeps insertion order only with `preserve_order`; build the
    // object text by hand to keep mllog's key order whatever the features.
    let mut s = String::from("{\"namespace\": ");
    s.push_str(&python_json(&Value::from(namespace)));
    s.push_str(&format!(", \"time_ms\": {time_ms}, \"event_type\": "));
    s.push_str(&python_json(&Value::from(event_type.as_str())));
    s.push_str(", \"key\": ");
    s.push_str(&python_json(&Value::from(key)));
    s.push_str(", \"value\": ");
    s.push_str(&python_json(value));
    s.push_str(", \"metadata\": {");
    for (i, (k, v)) in metadata.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&python_json(&Value::from(k.as_str())));
        s.push_str(": ");
        s.push_str(&python_json(v));
    }
    s.push_str("}}");
    s
}

/// JSON text with Python's default `json.dumps` separators.
fn python_json(v: &Value) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    serde::Serialize::serialize(v, &mut ser).expect("serialising a JSON value to memory");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

struct PythonFormatter;

impl serde_json::ser::Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }
    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
    fn write_f64<W: ?Sized + Write>(&mut self, w: &mut W, value: f64) -> std::io::Result<()> {
        w.write_all(python_float_repr(value).as_bytes())
    }
    fn write_f32<W: ?Sized + Write>(&mut self, w: &mut W, value: f32) -> std::io::Result<()> {
        w.write_all(python_float_repr(value as f64).as_bytes())
    }
}

/// Python's `repr(float)` (what `json.dumps` writes): the shortest digits
/// that round-trip, in positional notation when the decimal point falls
/// within -4 < decpt <= 16, else as `d.ddde-XX` with at least two exponent
/// digits; integral values keep a `.0`.
pub fn python_float_repr(x: f64) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "NaN".into()
        } else if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: `-1.2345e-8`.
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("an integer exponent");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let n = digits.len() as i32;
    let decpt = exp + 1;
    if x == 0.0 {
        return format!("{sign}0.0");
    }
    if decpt > -4 && decpt <= 16 {
        if decpt <= 0 {
            format!("{sign}0.{}{digits}", "0".repeat((-decpt) as usize))
        } else if decpt >= n {
            format!("{sign}{digits}{}.0", "0".repeat((decpt - n) as usize))
        } else {
            let (a, b) = digits.split_at(decpt as usize);
            format!("{sign}{a}.{b}")
        }
    } else {
        let (a, b) = digits.split_at(1);
        let e_sign = if exp < 0 { '-' } else { '+' };
        if b.is_empty() {
            format!("{sign}{a}e{e_sign}{:02}", exp.abs())
        } else {
            format!("{sign}{a}.{b}e{e_sign}{:02}", exp.abs())
        }
    }
}

/// Where log lines go: any number of writers (stdout, a result file).
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
        value: Value,
        metadata: &[(&str, Value)],
    ) -> std::io::Result<u64> {
        self.log(EventType::IntervalStart, key, value, metadata)
    }

    /// `mllogger.end(key, value, metadata)`; returns the line's `time_ms`.
    #[track_caller]
    pub fn end(&self, key: &str, value: Value, metadata: &[(&str, Value)]) -> std::io::Result<u64> {
        self.log(EventType::IntervalEnd, key, value, metadata)
    }

    /// `mllogger.event(key, value, metadata)`; returns the line's `time_ms`.
    #[track_caller]
    pub fn event(
        &self,
        key: &str,
        value: Value,
        metadata: &[(&str, Value)],
    ) -> std::io::Result<u64> {
        self.log(EventType::PointInTime, key, value, metadata)
    }

    #[track_caller]
    fn log(
        &self,
        event_type: EventType,
        key: &str,
        value: Value,
        metadata: &[(&str, Value)],
    ) -> std::io::Result<u64> {
        let caller = std::panic::Location::caller();
        let mut file = caller.file().replace('\\', "/");
        if let Some(root) = &self.root_dir {
            if let Some(rest) = file.strip_prefix(&format!("{root}/")) {
                file = rest.to_string();
            }
        }
        // mllog's order: the caller's file and line, then the fields given.
        let mut meta = vec![
            ("file".to_string(), Value::from(file)),
            ("lineno".to_string(), Value::from(caller.line())),
        ];
        for (k, v) in metadata {
            meta.retain(|(existing, _)| existing != k);
            meta.push(((*k).to_string(), v.clone()));
        }
        let time_ms = (self.clock)();
        let line = format!(
            ":::MLLOG {}\n",
            encode(&self.namespace, time_ms, event_type, key, &value, &meta)
        );
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
    fn lines_match_mllog() {
        // The expected line of mllog's own test_mllog_start_simple, with our
        // file and line.
        let buf = Buf::default();
        let log = MlLogger::new(vec![Box::new(buf.clone())]).with_clock(|| 1234567890123);
        let line_no = line!() + 1;
        let t = log.start("run_start", Value::Null, &[]).unwrap();
        assert_eq!(t, 1234567890123);
        log.event(
            "eval_accuracy",
            Value::from(0.9123),
            &[("epoch_num", Value::from(3))],
        )
        .unwrap();
        log.end(
            "run_stop",
            Value::Null,
            &[("status", Value::from("success"))],
        )
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
        assert!(lines[1].contains("\"event_type\": \"POINT_IN_TIME\", \"key\": \"eval_accuracy\", \"value\": 0.9123, \"metadata\": {"));
        let tail = format!(", \"lineno\": {}, \"epoch_num\": 3}}}}", line_no + 2);
        assert!(lines[1].ends_with(&tail), "{}", lines[1]);
        assert!(lines[2].ends_with(", \"status\": \"success\"}}"));
        for l in lines {
            let v: Value = serde_json::from_str(l.strip_prefix(":::MLLOG ").unwrap()).unwrap();
            assert!(v["time_ms"].is_u64());
        }
    }

    #[test]
    fn floats_as_python_repr() {
        for (x, py) in [
            (1e-8, "1e-08"),
            (1.5e-8, "1.5e-08"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (0.9137, "0.9137"),
            (0.002, "0.002"),
            (1.0, "1.0"),
            (-2.5, "-2.5"),
            (0.0, "0.0"),
            (123456.0, "123456.0"),
            (1e16, "1e+16"),
            (1234567890123456.0, "1234567890123456.0"),
            (1.2345e20, "1.2345e+20"),
            (0.1 + 0.2, "0.30000000000000004"),
        ] {
            assert_eq!(python_float_repr(x), py, "{x}");
        }
        assert_eq!(python_json(&Value::from(1e-8)), "1e-08");
    }

    #[test]
    fn nested_values_use_python_separators() {
        let v = serde_json::json!({"a": [1, 2], "b": {"c": "d"}});
        assert_eq!(python_json(&v), "{\"a\": [1, 2], \"b\": {\"c\": \"d\"}}");
    }
}

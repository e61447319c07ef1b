//! `mlperf_log_accuracy.json` as the compliance scripts read it
//! (`json.load`): a list of objects with `qsl_idx`, `data` (hex) and, for
//! LLMs, `token_data` and `token_count`.

use serde::Deserialize;

/// One logged response.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AccuracyLogEntry {
    #[serde(default)]
    pub seq_id: Option<u64>,
    pub qsl_idx: u64,
    pub data: String,
    #[serde(default)]
    pub token_data: Option<String>,
    /// LoadGen writes an integer; kept as written (`int()` is applied by
    /// TEST06).
    #[serde(default)]
    pub token_count: Option<serde_json::Value>,
}

#[derive(Debug, thiserror::Error)]
#[error("not a JSON list of accuracy entries")]
pub struct AccuracyLogError(#[from] serde_json::Error);

/// The entries of an accuracy log's text.
pub fn parse_accuracy_log(text: &str) -> Result<Vec<AccuracyLogEntry>, AccuracyLogError> {
    Ok(serde_json::from_str(text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_loadgen_entries() {
        let text = "[\n{ \"seq_id\" : 0, \"qsl_idx\" : 7, \"data\" : \"0A000000\", \"token_data\" : \"0A000000\", \"token_count\" : 1 }\n]\n";
        let e = parse_accuracy_log(text).unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].qsl_idx, 7);
        assert_eq!(e[0].data, "0A000000");
        assert_eq!(e[0].token_count, Some(serde_json::json!(1)));
        assert!(parse_accuracy_log("{}").is_err());
    }
}

//! JSON as Python's `json` module writes and reads it.
//!
//! MLPerf's tools are Python: a `:::MLLOG` line is `json.dumps` of an
//! ordered dict, and checkers read it with `json.loads`. To write the same
//! bytes and to read what they accept, values here keep their key order and
//! whether a number was an integer or a float (serde_json's `Value` does
//! neither without crate features that would change it for the whole
//! workspace), floats are spelled as Python spells them, and `NaN`,
//! `Infinity`, `-Infinity` are read and written.

use std::fmt::Write as _;

use crate::pyfloat;

mod decode;

pub use decode::{
    loads_latin1, loads_with, scan_record, JsonBuilder, JsonError, JsonText, JsonValueBuilder,
    RecordScan,
};

/// A JSON value as Python holds it after `json.loads`.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonValue {
    Null,
    Bool(bool),
    /// A number written without fraction or exponent (Python `int`). Beyond
    /// i128 it is read as a [`JsonValue::Float`].
    Int(i128),
    Float(f64),
    Str(String),
    Array(Vec<JsonValue>),
    /// Members in their written order (Python dicts keep it). A duplicate
    /// key keeps its first position and its last value, as `json.loads` does.
    Object(Vec<(String, JsonValue)>),
}

impl JsonValue {
    /// The member `name` of an object.
    pub fn get(&self, name: &str) -> Option<&JsonValue> {
        match self {
            JsonValue::Object(members) => members.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            JsonValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A number (int or float) as f64.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            JsonValue::Int(i) => Some(*i as f64),
            JsonValue::Float(f) => Some(*f),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            JsonValue::Int(i) => i64::try_from(*i).ok(),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, JsonValue::Null)
    }

    /// `json.dumps(value)`: separators `", "` and `": "`, ASCII only
    /// (`ensure_ascii=True`), floats as `repr`, non-finite as `NaN`,
    /// `Infinity`, `-Infinity`.
    pub fn dumps(&self) -> String {
        let mut out = String::new();
        self.write_to(&mut out);
        out
    }

    fn write_to(&self, out: &mut String) {
        match self {
            JsonValue::Null => out.push_str("null"),
            JsonValue::Bool(true) => out.push_str("true"),
            JsonValue::Bool(false) => out.push_str("false"),
            JsonValue::Int(i) => {
                let _ = write!(out, "{i}");
            }
            JsonValue::Float(f) => out.push_str(&pyfloat::json(*f)),
            JsonValue::Str(s) => write_string(s, out),
            JsonValue::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write_to(out);
                }
                out.push(']');
            }
            JsonValue::Object(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_string(k, out);
                    out.push_str(": ");
                    v.write_to(out);
                }
                out.push('}');
            }
        }
    }
}

impl From<&serde_json::Value> for JsonValue {
    fn from(v: &serde_json::Value) -> Self {
        use serde_json::Value as V;
        match v {
            V::Null => JsonValue::Null,
            V::Bool(b) => JsonValue::Bool(*b),
            V::Number(n) => {
                if let Some(i) = n.as_i64() {
                    JsonValue::Int(i.into())
                } else if let Some(u) = n.as_u64() {
                    JsonValue::Int(u.into())
                } else {
                    JsonValue::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            V::String(s) => JsonValue::Str(s.clone()),
            V::Array(a) => JsonValue::Array(a.iter().map(JsonValue::from).collect()),
            V::Object(o) => {
                JsonValue::Object(o.iter().map(|(k, v)| (k.clone(), v.into())).collect())
            }
        }
    }
}

impl From<serde_json::Value> for JsonValue {
    fn from(v: serde_json::Value) -> Self {
        (&v).into()
    }
}

impl From<&str> for JsonValue {
    fn from(s: &str) -> Self {
        JsonValue::Str(s.to_string())
    }
}

impl From<String> for JsonValue {
    fn from(s: String) -> Self {
        JsonValue::Str(s)
    }
}

impl From<f64> for JsonValue {
    fn from(f: f64) -> Self {
        JsonValue::Float(f)
    }
}

impl From<i64> for JsonValue {
    fn from(i: i64) -> Self {
        JsonValue::Int(i.into())
    }
}

impl From<u64> for JsonValue {
    fn from(i: u64) -> Self {
        JsonValue::Int(i.into())
    }
}

macro_rules! from_integer {
    ($($t:ty),*) => {$(
        impl From<$t> for JsonValue {
            fn from(i: $t) -> Self {
                JsonValue::Int(i as i128)
            }
        }
    )*};
}
from_integer!(i32, u32, usize);

impl From<f32> for JsonValue {
    /// Widened to f64, as Python's `float(np.float32(x))`.
    fn from(f: f32) -> Self {
        JsonValue::Float(f64::from(f))
    }
}

impl From<bool> for JsonValue {
    fn from(b: bool) -> Self {
        JsonValue::Bool(b)
    }
}

/// A string as `json.dumps` writes it with `ensure_ascii=True`.
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// `json.loads(text)`: the value, or Python's error (message, line,
/// column, char offset as its `JSONDecodeError` gives them).
pub fn loads(text: &str) -> Result<JsonValue, JsonError> {
    loads_with(JsonText::Utf8(text), &mut JsonValueBuilder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_python_text() {
        for text in [
            r#"{"a": [1, 2.5, -0.0, 1e-08, NaN, Infinity, -Infinity], "b": {"c": null, "d": true}}"#,
            r#"["caf\u00e9", "\ud83d\ude00", "tab\there", "q\"uote\\"]"#,
            r#"170000000000000000000000"#,
        ] {
            assert_eq!(loads(text).unwrap().dumps(), text);
        }
    }

    #[test]
    fn keeps_key_order_and_number_kinds() {
        let v = loads(r#"{"z": 1, "a": 1.0, "z": 2}"#).unwrap();
        assert_eq!(
            v,
            JsonValue::Object(vec![
                ("z".into(), JsonValue::Int(2)),
                ("a".into(), JsonValue::Float(1.0)),
            ])
        );
    }

    #[test]
    fn errors_as_python_reports_them() {
        // Each message is what Python 3.11's json.loads raises for the text.
        for (text, message) in [
            (
                r#"{"a": 1 "b": 2}"#,
                "Expecting ',' delimiter: line 1 column 9 (char 8)",
            ),
            (
                r#"{"a" 1}"#,
                "Expecting ':' delimiter: line 1 column 6 (char 5)",
            ),
            (r#"{"a": }"#, "Expecting value: line 1 column 7 (char 6)"),
            (
                r#"{"a": 1,}"#,
                "Expecting property name enclosed in double quotes: line 1 column 9 (char 8)",
            ),
            (
                r#"{"a": "x"#,
                "Unterminated string starting at: line 1 column 7 (char 6)",
            ),
            (r#"{"a": 1} x"#, "Extra data: line 1 column 10 (char 9)"),
            ("", "Expecting value: line 1 column 1 (char 0)"),
            (r#"["\q"]"#, "Invalid \\escape: line 1 column 3 (char 2)"),
            (
                r#"["\uZZ12"]"#,
                "Invalid \\uXXXX escape: line 1 column 4 (char 3)",
            ),
            (
                r#"["\ud800\uZZ12"]"#,
                "Invalid \\uXXXX escape: line 1 column 10 (char 9)",
            ),
        ] {
            assert_eq!(loads(text).unwrap_err().to_string(), message, "{text}");
        }
    }

    #[test]
    fn from_serde_json() {
        let v = serde_json::json!({"k": [1, 0.5, "s", null, false]});
        assert_eq!(
            JsonValue::from(&v).dumps(),
            r#"{"k": [1, 0.5, "s", null, false]}"#
        );
    }
}

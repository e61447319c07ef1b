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

/// Why `json.loads` rejects a text, with its message and position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}: line {line} column {column} (char {position})")]
pub struct JsonError {
    /// Python's message, e.g. `Expecting ',' delimiter`.
    pub message: &'static str,
    /// Character offset into the text.
    pub position: usize,
    pub line: usize,
    pub column: usize,
}

/// `json.loads(text)`: the value, or Python's error (message, line,
/// column, char offset as its `JSONDecodeError` gives them).
pub fn loads(text: &str) -> Result<JsonValue, JsonError> {
    let chars: Vec<char> = text.chars().collect();
    let mut parser = Parser {
        chars: &chars,
        pos: 0,
    };
    parser.skip_ws();
    let value = parser.value()?;
    parser.skip_ws();
    if parser.pos != chars.len() {
        return Err(parser.error("Extra data", parser.pos));
    }
    Ok(value)
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, message: &'static str, position: usize) -> JsonError {
        let before = &self.chars[..position.min(self.chars.len())];
        let line = before.iter().filter(|&&c| c == '\n').count() + 1;
        let column = match before.iter().rposition(|&c| c == '\n') {
            Some(nl) => position - nl,
            None => position + 1,
        };
        JsonError {
            message,
            position,
            line,
            column,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.pos += 1;
        }
    }

    fn starts_with(&self, word: &str) -> bool {
        let mut rest = self.chars[self.pos..].iter();
        word.chars().all(|c| rest.next() == Some(&c))
    }

    fn value(&mut self) -> Result<JsonValue, JsonError> {
        let start = self.pos;
        let literal = |p: &mut Self, word: &str, v: JsonValue| {
            p.pos += word.chars().count();
            Ok(v)
        };
        match self.peek() {
            Some('"') => {
                self.pos += 1;
                self.string(start).map(JsonValue::Str)
            }
            Some('{') => {
                self.pos += 1;
                self.object()
            }
            Some('[') => {
                self.pos += 1;
                self.array()
            }
            Some('n') if self.starts_with("null") => literal(self, "null", JsonValue::Null),
            Some('t') if self.starts_with("true") => literal(self, "true", JsonValue::Bool(true)),
            Some('f') if self.starts_with("false") => {
                literal(self, "false", JsonValue::Bool(false))
            }
            Some('N') if self.starts_with("NaN") => {
                literal(self, "NaN", JsonValue::Float(f64::NAN))
            }
            Some('I') if self.starts_with("Infinity") => {
                literal(self, "Infinity", JsonValue::Float(f64::INFINITY))
            }
            Some('-') if self.starts_with("-Infinity") => {
                literal(self, "-Infinity", JsonValue::Float(f64::NEG_INFINITY))
            }
            Some('-' | '0'..='9') => self.number(),
            _ => Err(self.error("Expecting value", start)),
        }
    }

    /// `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`, as Python's scanner: a part
    /// that does not match ends the number there.
    fn number(&mut self) -> Result<JsonValue, JsonError> {
        let start = self.pos;
        let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
        let mut i = self.pos;
        if self.chars.get(i) == Some(&'-') {
            i += 1;
        }
        match self.chars.get(i) {
            Some('0') => i += 1,
            Some('1'..='9') => {
                while digit(self.chars.get(i).copied()) {
                    i += 1;
                }
            }
            _ => return Err(self.error("Expecting value", start)),
        }
        let mut is_float = false;
        if self.chars.get(i) == Some(&'.') && digit(self.chars.get(i + 1).copied()) {
            is_float = true;
            i += 1;
            while digit(self.chars.get(i).copied()) {
                i += 1;
            }
        }
        if matches!(self.chars.get(i), Some('e' | 'E')) {
            let mut j = i + 1;
            if matches!(self.chars.get(j), Some('+' | '-')) {
                j += 1;
            }
            if digit(self.chars.get(j).copied()) {
                while digit(self.chars.get(j).copied()) {
                    j += 1;
                }
                is_float = true;
                i = j;
            }
        }
        let text: String = self.chars[start..i].iter().collect();
        self.pos = i;
        if !is_float {
            if let Ok(n) = text.parse::<i128>() {
                return Ok(JsonValue::Int(n));
            }
        }
        Ok(JsonValue::Float(text.parse().unwrap_or(f64::NAN)))
    }

    /// After the opening quote at `start`.
    fn string(&mut self, start: usize) -> Result<String, JsonError> {
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error("Unterminated string starting at", start));
            };
            match c {
                '"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                '\\' => {
                    let esc_at = self.pos;
                    let Some(e) = self.chars.get(self.pos + 1).copied() else {
                        return Err(self.error("Unterminated string starting at", start));
                    };
                    self.pos += 2;
                    match e {
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        '/' => out.push('/'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        'u' => {
                            // Python reports a bad `\uXXXX` at its `u`.
                            let unit = self.hex4(esc_at + 1)?;
                            let c = if (0xd800..0xdc00).contains(&unit)
                                && self.chars.get(self.pos) == Some(&'\\')
                                && self.chars.get(self.pos + 1) == Some(&'u')
                            {
                                let save = self.pos;
                                self.pos += 2;
                                let low = self.hex4(save + 1)?;
                                if (0xdc00..0xe000).contains(&low) {
                                    char::from_u32(
                                        0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00),
                                    )
                                } else {
                                    self.pos = save;
                                    None
                                }
                            } else {
                                char::from_u32(unit)
                            };
                            // A lone surrogate: Python keeps it; a Rust
                            // string cannot, so it becomes U+FFFD.
                            out.push(c.unwrap_or('\u{fffd}'));
                        }
                        _ => return Err(self.error("Invalid \\escape", esc_at)),
                    }
                }
                c if (c as u32) < 0x20 => {
                    return Err(self.error("Invalid control character at", self.pos));
                }
                c => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn hex4(&mut self, esc_at: usize) -> Result<u32, JsonError> {
        let hex: String = self.chars[self.pos..].iter().take(4).collect();
        if hex.len() != 4 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(self.error("Invalid \\uXXXX escape", esc_at));
        }
        self.pos += 4;
        u32::from_str_radix(&hex, 16).map_err(|_| self.error("Invalid \\uXXXX escape", esc_at))
    }

    /// After `{`.
    fn object(&mut self) -> Result<JsonValue, JsonError> {
        let mut members: Vec<(String, JsonValue)> = Vec::new();
        self.skip_ws();
        if self.peek() == Some('}') {
            self.pos += 1;
            return Ok(JsonValue::Object(members));
        }
        loop {
            if self.peek() != Some('"') {
                return Err(self.error(
                    "Expecting property name enclosed in double quotes",
                    self.pos,
                ));
            }
            let key_start = self.pos;
            self.pos += 1;
            let key = self.string(key_start)?;
            self.skip_ws();
            if self.peek() != Some(':') {
                return Err(self.error("Expecting ':' delimiter", self.pos));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value()?;
            match members.iter_mut().find(|(k, _)| *k == key) {
                Some(existing) => existing.1 = value,
                None => members.push((key, value)),
            }
            self.skip_ws();
            match self.peek() {
                Some('}') => {
                    self.pos += 1;
                    return Ok(JsonValue::Object(members));
                }
                Some(',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                _ => return Err(self.error("Expecting ',' delimiter", self.pos)),
            }
        }
    }

    /// After `[`.
    fn array(&mut self) -> Result<JsonValue, JsonError> {
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(']') {
            self.pos += 1;
            return Ok(JsonValue::Array(items));
        }
        loop {
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(']') => {
                    self.pos += 1;
                    return Ok(JsonValue::Array(items));
                }
                Some(',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                _ => return Err(self.error("Expecting ',' delimiter", self.pos)),
            }
        }
    }
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

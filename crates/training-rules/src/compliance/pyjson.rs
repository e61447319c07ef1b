//! `json.loads` as the official parser runs it: Python's grammar (it also
//! takes `NaN`, `Infinity` and `-Infinity`), duplicate keys keep their first
//! position and last value, and errors read as Python's `JSONDecodeError`
//! ("Expecting ',' delimiter: line 1 column 122 (char 121)").
//!
//! The input is the line's bytes as the official parser decodes the file:
//! latin-1, one character per byte, so byte offsets are Python's character
//! offsets.

use std::rc::Rc;

use super::value::{Dict, Value};

/// A `JSONDecodeError`, formatted as Python formats it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{msg}: line {line} column {column} (char {pos})")]
pub struct JsonError {
    pub msg: &'static str,
    pub line: usize,
    pub column: usize,
    pub pos: usize,
}

struct Decoder<'a> {
    s: &'a [u8],
    /// `false`: only check the syntax (and find where it breaks), building
    /// no values; containers and strings then read as `None`/empty.
    build: bool,
}

type Parsed = Result<(Value, usize), (&'static str, usize)>;

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl Decoder<'_> {
    fn skip_ws(&self, mut i: usize) -> usize {
        while i < self.s.len() && is_ws(self.s[i]) {
            i += 1;
        }
        i
    }

    fn value(&self, i: usize) -> Parsed {
        let Some(&c) = self.s.get(i) else {
            return Err(("Expecting value", i));
        };
        let rest = &self.s[i..];
        match c {
            b'"' => self
                .string(i + 1)
                .map(|(s, end)| (Value::Str(Rc::from(s)), end)),
            b'{' => self.object(i + 1),
            b'[' => self.array(i + 1),
            b'n' if rest.starts_with(b"null") => Ok((Value::None, i + 4)),
            b't' if rest.starts_with(b"true") => Ok((Value::Bool(true), i + 4)),
            b'f' if rest.starts_with(b"false") => Ok((Value::Bool(false), i + 5)),
            b'N' if rest.starts_with(b"NaN") => Ok((Value::Float(f64::NAN), i + 3)),
            b'I' if rest.starts_with(b"Infinity") => Ok((Value::Float(f64::INFINITY), i + 8)),
            b'-' if rest.starts_with(b"-Infinity") => Ok((Value::Float(f64::NEG_INFINITY), i + 9)),
            b'-' | b'0'..=b'9' => self.number(i),
            _ => Err(("Expecting value", i)),
        }
    }

    /// `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`, as Python's scanner reads it.
    fn number(&self, start: usize) -> Parsed {
        let s = self.s;
        let mut i = start;
        if s[i] == b'-' {
            i += 1;
        }
        match s.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while i < s.len() && s[i].is_ascii_digit() {
                    i += 1;
                }
            }
            _ => return Err(("Expecting value", start)),
        }
        let mut is_float = false;
        if s.get(i) == Some(&b'.') && s.get(i + 1).is_some_and(u8::is_ascii_digit) {
            is_float = true;
            i += 1;
            while i < s.len() && s[i].is_ascii_digit() {
                i += 1;
            }
        }
        if matches!(s.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(s.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            if s.get(j).is_some_and(u8::is_ascii_digit) {
                while j < s.len() && s[j].is_ascii_digit() {
                    j += 1;
                }
                is_float = true;
                i = j;
            }
        }
        // The slice is ASCII digits and signs only.
        let text = std::str::from_utf8(&s[start..i]).unwrap_or("0");
        let value = if is_float {
            Value::Float(text.parse().unwrap_or(f64::NAN))
        } else {
            match text.parse::<i64>() {
                Ok(n) => Value::Int(n),
                // Python keeps an exact big int; the nearest float is what
                // this reader keeps.
                Err(_) => Value::Float(text.parse().unwrap_or(f64::NAN)),
            }
        };
        Ok((value, i))
    }

    /// A string body from just after its opening quote.
    fn string(&self, begin: usize) -> Result<(String, usize), (&'static str, usize)> {
        let s = self.s;
        let mut out = String::new();
        let mut i = begin;
        loop {
            let Some(&b) = s.get(i) else {
                return Err(("Unterminated string starting at", begin - 1));
            };
            match b {
                b'"' => return Ok((out, i + 1)),
                b'\\' => {
                    let Some(&e) = s.get(i + 1) else {
                        return Err(("Unterminated string starting at", begin - 1));
                    };
                    let simple = match e {
                        b'"' => Some('"'),
                        b'\\' => Some('\\'),
                        b'/' => Some('/'),
                        b'b' => Some('\u{8}'),
                        b'f' => Some('\u{c}'),
                        b'n' => Some('\n'),
                        b'r' => Some('\r'),
                        b't' => Some('\t'),
                        _ => None,
                    };
                    if let Some(ch) = simple {
                        if self.build {
                            out.push(ch);
                        }
                        i += 2;
                        continue;
                    }
                    if e != b'u' {
                        return Err(("Invalid \\escape", i));
                    }
                    let unit = self.hex4(i + 2).ok_or(("Invalid \\uXXXX escape", i + 1))?;
                    i += 6;
                    let mut code = u32::from(unit);
                    if (0xd800..0xdc00).contains(&unit)
                        && s.get(i) == Some(&b'\\')
                        && s.get(i + 1) == Some(&b'u')
                    {
                        if let Some(low) = self.hex4(i + 2) {
                            if (0xdc00..0xe000).contains(&low) {
                                code =
                                    0x10000 + ((code - 0xd800) << 10) + (u32::from(low) - 0xdc00);
                                i += 6;
                            }
                        }
                    }
                    // A lone surrogate has no Rust `char`; it can only be
                    // compared or printed, where U+FFFD stands in for it.
                    if self.build {
                        out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                    }
                }
                0x00..=0x1f => return Err(("Invalid control character at", i)),
                _ => {
                    if self.build {
                        out.push(char::from(b));
                    }
                    i += 1;
                }
            }
        }
    }

    fn hex4(&self, i: usize) -> Option<u16> {
        let digits = self.s.get(i..i + 4)?;
        let text = std::str::from_utf8(digits).ok()?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u16::from_str_radix(text, 16).ok()
    }

    fn object(&self, start: usize) -> Parsed {
        let mut dict = Dict::new();
        let mut i = self.skip_ws(start);
        match self.s.get(i) {
            Some(b'}') => return Ok((Value::dict(dict), i + 1)),
            Some(b'"') => {}
            _ => return Err(("Expecting property name enclosed in double quotes", i)),
        }
        loop {
            let (key, after_key) = self.string(i + 1)?;
            i = self.skip_ws(after_key);
            if self.s.get(i) != Some(&b':') {
                return Err(("Expecting ':' delimiter", i));
            }
            i = self.skip_ws(i + 1);
            let (value, after_value) = self.value(i)?;
            if self.build {
                dict.insert(Value::Str(Rc::from(key)), value);
            }
            i = self.skip_ws(after_value);
            match self.s.get(i) {
                Some(b'}') => return Ok((Value::dict(dict), i + 1)),
                Some(b',') => {}
                _ => return Err(("Expecting ',' delimiter", i)),
            }
            i = self.skip_ws(i + 1);
            if self.s.get(i) != Some(&b'"') {
                return Err(("Expecting property name enclosed in double quotes", i));
            }
        }
    }

    fn array(&self, start: usize) -> Parsed {
        let mut items = Vec::new();
        let mut i = self.skip_ws(start);
        if self.s.get(i) == Some(&b']') {
            return Ok((Value::List(Rc::new(items)), i + 1));
        }
        loop {
            let (value, after) = self.value(i)?;
            if self.build {
                items.push(value);
            }
            i = self.skip_ws(after);
            match self.s.get(i) {
                Some(b']') => return Ok((Value::List(Rc::new(items)), i + 1)),
                Some(b',') => {}
                _ => return Err(("Expecting ',' delimiter", i)),
            }
            i = self.skip_ws(i + 1);
        }
    }
}

fn decode_error(text: &[u8], (msg, pos): (&'static str, usize)) -> JsonError {
    let before = &text[..pos.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = match before.iter().rposition(|&b| b == b'\n') {
        Some(nl) => pos - nl,
        None => pos + 1,
    };
    JsonError {
        msg,
        line,
        column,
        pos,
    }
}

/// What [`scan_record`] learns of a JSON text without building it.
#[derive(Debug, Clone)]
pub enum RecordScan {
    /// The top level is an object: its `time_ms` and `key` members (the
    /// last of each, as `json.loads` keeps), and whether `value` and
    /// `metadata` are there.
    Object {
        time_ms: Option<Value>,
        key: Option<Value>,
        has_value: bool,
        has_metadata: bool,
    },
    /// Valid JSON, but not an object; its type name.
    NotObject(&'static str),
}

/// Checks `text` exactly as [`loads`] would (same errors) but builds only
/// the top-level `time_ms` and `key`: most lines of a training log carry
/// keys no rule reads, and only need to be valid.
pub fn scan_record(text: &[u8]) -> Result<RecordScan, JsonError> {
    let full = Decoder {
        s: text,
        build: true,
    };
    let check = Decoder {
        s: text,
        build: false,
    };
    let start = check.skip_ws(0);
    if text.get(start) != Some(&b'{') {
        let (value, end) = full.value(start).map_err(|e| decode_error(text, e))?;
        let end = full.skip_ws(end);
        if end != text.len() {
            return Err(decode_error(text, ("Extra data", end)));
        }
        return Ok(RecordScan::NotObject(value.type_name()));
    }
    let (mut time_ms, mut key, mut has_value, mut has_metadata) = (None, None, false, false);
    let mut i = check.skip_ws(start + 1);
    let end = match text.get(i) {
        Some(b'}') => i + 1,
        Some(b'"') => loop {
            let (name, after_name) = full.string(i + 1).map_err(|e| decode_error(text, e))?;
            i = check.skip_ws(after_name);
            if text.get(i) != Some(&b':') {
                return Err(decode_error(text, ("Expecting ':' delimiter", i)));
            }
            i = check.skip_ws(i + 1);
            let wanted = matches!(name.as_str(), "time_ms" | "key");
            let decoder = if wanted { &full } else { &check };
            let (value, after_value) = decoder.value(i).map_err(|e| decode_error(text, e))?;
            match name.as_str() {
                "time_ms" => time_ms = Some(value),
                "key" => key = Some(value),
                "value" => has_value = true,
                "metadata" => has_metadata = true,
                _ => {}
            }
            i = check.skip_ws(after_value);
            match text.get(i) {
                Some(b'}') => break i + 1,
                Some(b',') => {}
                _ => return Err(decode_error(text, ("Expecting ',' delimiter", i))),
            }
            i = check.skip_ws(i + 1);
            if text.get(i) != Some(&b'"') {
                return Err(decode_error(
                    text,
                    ("Expecting property name enclosed in double quotes", i),
                ));
            }
        },
        _ => {
            return Err(decode_error(
                text,
                ("Expecting property name enclosed in double quotes", i),
            ))
        }
    };
    let end = check.skip_ws(end);
    if end != text.len() {
        return Err(decode_error(text, ("Extra data", end)));
    }
    Ok(RecordScan::Object {
        time_ms,
        key,
        has_value,
        has_metadata,
    })
}

/// `json.loads(text)` for latin-1 text given as its bytes.
pub fn loads(text: &[u8]) -> Result<Value, JsonError> {
    let decoder = Decoder {
        s: text,
        build: true,
    };
    let error = |e| decode_error(text, e);
    let start = decoder.skip_ws(0);
    let (value, end) = decoder.value(start).map_err(error)?;
    let end = decoder.skip_ws(end);
    if end != text.len() {
        return Err(error(("Extra data", end)));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_as_python_reports_them() {
        let truncated = br#"{"namespace": "", "key": "train_loss", "value": 1.3017"#;
        assert_eq!(
            loads(truncated).unwrap_err().to_string(),
            format!(
                "Expecting ',' delimiter: line 1 column {} (char {})",
                truncated.len() + 1,
                truncated.len()
            )
        );
        assert_eq!(
            loads(b"").unwrap_err().to_string(),
            "Expecting value: line 1 column 1 (char 0)"
        );
        assert_eq!(loads(b"{\"a\": 1} x").unwrap_err().msg, "Extra data");
        assert_eq!(
            loads(b"{\"a\": 1,}").unwrap_err().msg,
            "Expecting property name enclosed in double quotes"
        );
        assert_eq!(
            loads(b"{\"a\" 1}").unwrap_err().msg,
            "Expecting ':' delimiter"
        );
        assert_eq!(loads(b"[1,]").unwrap_err().msg, "Expecting value");
        assert_eq!(
            loads(b"\"ab").unwrap_err().msg,
            "Unterminated string starting at"
        );
    }

    #[test]
    fn python_extensions_and_dict_order() {
        let v = loads(b"{\"b\": NaN, \"a\": -Infinity, \"b\": 2, \"s\": \"\\u00e9\xe9\"}").unwrap();
        assert_eq!(v.py_repr(), "{'b': 2, 'a': -inf, 's': '\u{e9}\u{e9}'}");
        assert_eq!(
            loads(b"12345678901234").unwrap().py_repr(),
            "12345678901234"
        );
        assert_eq!(loads(b"1.5e3").unwrap().py_repr(), "1500.0");
    }
}

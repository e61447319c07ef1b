//! The Python values the rule expressions work on, with Python's semantics
//! where the rules depend on them: truthiness, `==` across int/float/bool,
//! ordering, `in`, `str()`/`repr()`, and `json.dumps` for the context the
//! official messages print.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;

use yardstick_formats::pyjson::{self, JsonBuilder, JsonError, JsonText};

/// A Python object as the rules see it. Dicts are shared and mutable (the
/// state `s` is updated in place by `POST` code); everything else is a value.
#[derive(Debug, Clone)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    List(Rc<Vec<Value>>),
    Dict(Rc<RefCell<Dict>>),
}

/// An insertion-ordered dict (Python 3.7+ order). Lookups are linear: the
/// dicts here (metadata, the rule state) hold a handful of keys.
#[derive(Debug, Clone, Default)]
pub struct Dict {
    entries: Vec<(Value, Value)>,
}

impl Dict {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, key: &Value) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(k, _)| py_eq(k, key))
            .map(|(_, v)| v)
    }

    pub fn get_str(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(k, _)| matches!(k, Value::Str(s) if &**s == key))
            .map(|(_, v)| v)
    }

    /// Python's `d[key] = value`: an existing key keeps its position.
    pub fn insert(&mut self, key: Value, value: Value) {
        match self.entries.iter_mut().find(|(k, _)| py_eq(k, &key)) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((key, value)),
        }
    }

    pub fn contains(&self, key: &Value) -> bool {
        self.get(key).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = &(Value, Value)> {
        self.entries.iter()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Rc::from(s))
    }

    pub fn dict(d: Dict) -> Value {
        Value::Dict(Rc::new(RefCell::new(d)))
    }

    /// Python's type name, as `TypeError` messages spell it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
        }
    }

    /// Python's `bool(x)`.
    pub fn truthy(&self) -> bool {
        match self {
            Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Dict(d) => !d.borrow().is_empty(),
        }
    }

    /// The value as a number, for arithmetic and comparisons (bool is an int
    /// in Python).
    pub fn as_number(&self) -> Option<Number> {
        match self {
            Value::Bool(b) => Some(Number::Int(i64::from(*b))),
            Value::Int(i) => Some(Number::Int(*i)),
            Value::Float(f) => Some(Number::Float(*f)),
            _ => None,
        }
    }

    /// Python's `str(x)`.
    pub fn py_str(&self) -> String {
        match self {
            Value::Str(s) => s.to_string(),
            other => other.py_repr(),
        }
    }

    /// Python's `repr(x)`.
    pub fn py_repr(&self) -> String {
        let mut out = String::new();
        self.write_repr(&mut out);
        out
    }

    fn write_repr(&self, out: &mut String) {
        match self {
            Value::None => out.push_str("None"),
            Value::Bool(true) => out.push_str("True"),
            Value::Bool(false) => out.push_str("False"),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => out.push_str(&float_repr(*f)),
            Value::Str(s) => write_str_repr(s, out),
            Value::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write_repr(out);
                }
                out.push(']');
            }
            Value::Dict(d) => {
                out.push('{');
                for (i, (k, v)) in d.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    k.write_repr(out);
                    out.push_str(": ");
                    v.write_repr(out);
                }
                out.push('}');
            }
        }
    }
}

/// `json.loads(text)` of a latin-1 text given as its bytes (as the official
/// parser decodes a log), into the rules' Python objects.
pub fn json_loads(text: &[u8]) -> Result<Value, JsonError> {
    pyjson::loads_with(JsonText::Latin1(text), &mut PyObjects)
}

/// Builds the rules' Python objects from the formats crate's `json.loads`.
#[derive(Debug, Default, Clone, Copy)]
pub struct PyObjects;

impl JsonBuilder for PyObjects {
    type Value = Value;
    type Object = Dict;

    fn null(&mut self) -> Value {
        Value::None
    }
    fn bool(&mut self, value: bool) -> Value {
        Value::Bool(value)
    }
    /// Python keeps an int beyond i64 exact; the nearest float is what the
    /// rules get (`as` rounds to nearest, as parsing the digits would).
    fn int(&mut self, value: i128) -> Value {
        i64::try_from(value).map_or(Value::Float(value as f64), Value::Int)
    }
    fn float(&mut self, value: f64) -> Value {
        Value::Float(value)
    }
    fn string(&mut self, value: String) -> Value {
        Value::Str(Rc::from(value))
    }
    fn array(&mut self, items: Vec<Value>) -> Value {
        Value::List(Rc::new(items))
    }
    fn object(&mut self) -> Dict {
        Dict::new()
    }
    fn member(&mut self, object: &mut Dict, key: String, value: Value) {
        object.insert(Value::Str(Rc::from(key)), value);
    }
    fn end_object(&mut self, object: Dict) -> Value {
        Value::dict(object)
    }
}

/// A Python number: arithmetic keeps ints exact and turns to float as
/// Python does.
#[derive(Debug, Clone, Copy)]
pub enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    pub fn to_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    pub fn into_value(self) -> Value {
        match self {
            Number::Int(i) => Value::Int(i),
            Number::Float(f) => Value::Float(f),
        }
    }
}

/// Python's `a == b`.
pub fn py_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::None, Value::None) => true,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| py_eq(p, q))
        }
        (Value::Dict(x), Value::Dict(y)) => {
            if Rc::ptr_eq(x, y) {
                return true;
            }
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)))
        }
        _ => match (a.as_number(), b.as_number()) {
            (Some(x), Some(y)) => num_cmp(x, y) == Some(std::cmp::Ordering::Equal),
            _ => false,
        },
    }
}

/// Exact comparison of two numbers (Python compares int and float exactly,
/// not through a rounded float).
pub fn num_cmp(a: Number, b: Number) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Number::Int(x), Number::Int(y)) => Some(x.cmp(&y)),
        (Number::Int(x), Number::Float(y)) => int_float_cmp(x, y),
        (Number::Float(x), Number::Int(y)) => int_float_cmp(y, x).map(|o| o.reverse()),
        (Number::Float(x), Number::Float(y)) => x.partial_cmp(&y),
    }
}

/// 2^63, exactly representable as an f64.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

fn int_float_cmp(i: i64, f: f64) -> Option<std::cmp::Ordering> {
    if f.is_nan() {
        return None;
    }
    // Every f64 beyond +-2^63 is outside i64; below that, compare the
    // integer parts exactly and break ties with the fraction.
    if f >= TWO_POW_63 {
        return Some(std::cmp::Ordering::Less);
    }
    if f < -TWO_POW_63 {
        return Some(std::cmp::Ordering::Greater);
    }
    let whole = f.trunc();
    let by_whole = i.cmp(&(whole as i64));
    if by_whole != std::cmp::Ordering::Equal {
        return Some(by_whole);
    }
    let frac = f - whole;
    Some(if frac > 0.0 {
        std::cmp::Ordering::Less
    } else if frac < 0.0 {
        std::cmp::Ordering::Greater
    } else {
        std::cmp::Ordering::Equal
    })
}

/// Python's `float.__repr__` (the formats crate's, one home for it).
pub use yardstick_formats::pyfloat::repr as float_repr;

/// Python's `repr(str)`: single quotes unless the text has a single quote
/// and no double quote.
fn write_str_repr(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..0xa1).contains(&(c as u32)) || c == '\u{ad}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// Python's `json.dumps(x, sort_keys=True, indent=2)` (the checker's
/// `preety_dict`), ASCII-escaped as `json.dumps` does by default.
pub fn json_dumps_pretty(value: &Value) -> String {
    let mut out = String::new();
    write_json(value, 0, &mut out);
    out
}

fn write_json(value: &Value, depth: usize, out: &mut String) {
    match value {
        Value::None => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => {
            if f.is_nan() {
                out.push_str("NaN");
            } else if f.is_infinite() {
                out.push_str(if *f > 0.0 { "Infinity" } else { "-Infinity" });
            } else {
                out.push_str(&float_repr(*f));
            }
        }
        Value::Str(s) => write_json_str(s, out),
        Value::List(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline_indent(depth + 1, out);
                write_json(item, depth + 1, out);
            }
            newline_indent(depth, out);
            out.push(']');
        }
        Value::Dict(d) => {
            let d = d.borrow();
            if d.is_empty() {
                out.push_str("{}");
                return;
            }
            let mut entries: Vec<(String, &Value)> =
                d.iter().map(|(k, v)| (json_key(k), v)).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline_indent(depth + 1, out);
                write_json_str(&k, out);
                out.push_str(": ");
                write_json(v, depth + 1, out);
            }
            newline_indent(depth, out);
            out.push('}');
        }
    }
}

/// `json.dumps` turns non-string keys into strings.
fn json_key(k: &Value) -> String {
    match k {
        Value::Str(s) => s.to_string(),
        Value::None => "null".into(),
        Value::Bool(b) => b.to_string(),
        other => other.py_repr(),
    }
}

fn newline_indent(depth: usize, out: &mut String) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn write_json_str(s: &str, out: &mut String) {
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
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{:04x}", unit);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_matches_python() {
        assert_eq!(float_repr(1755479566803.0), "1755479566803.0");
        assert_eq!(float_repr(0.1), "0.1");
        assert_eq!(float_repr(1e-8), "1e-08");
        assert_eq!(float_repr(9e99), "9e+99");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(123456789012345.6), "123456789012345.6");
        assert_eq!(float_repr(0.0001), "0.0001");
        assert_eq!(float_repr(-2.5), "-2.5");
    }

    #[test]
    fn int_and_float_compare_exactly() {
        assert!(py_eq(&Value::Int(1), &Value::Float(1.0)));
        assert!(py_eq(&Value::Bool(true), &Value::Int(1)));
        assert!(!py_eq(
            &Value::Int(9_007_199_254_740_993),
            &Value::Float(9_007_199_254_740_992.0)
        ));
        assert!(!py_eq(&Value::str("1"), &Value::Int(1)));
    }

    #[test]
    fn repr_of_containers() {
        let list = Value::List(Rc::new(vec![
            Value::str("a'b"),
            Value::None,
            Value::Float(2.0),
        ]));
        assert_eq!(list.py_repr(), "[\"a'b\", None, 2.0]");
    }

    #[test]
    fn json_loads_reads_a_log_line_as_python() {
        let v = json_loads(b"{\"b\": NaN, \"a\": -Infinity, \"b\": 2, \"s\": \"\\u00e9\xe9\"}")
            .unwrap();
        assert_eq!(v.py_repr(), "{'b': 2, 'a': -inf, 's': '\u{e9}\u{e9}'}");
        assert_eq!(
            json_loads(b"12345678901234").unwrap().py_repr(),
            "12345678901234"
        );
        // Beyond i64: the nearest float.
        assert_eq!(
            json_loads(b"9223372036854775808").unwrap().py_repr(),
            "9.223372036854776e+18"
        );
        assert_eq!(json_loads(b"1.5e3").unwrap().py_repr(), "1500.0");
        assert_eq!(
            json_loads(b"{\"a\" 1}").unwrap_err().to_string(),
            "Expecting ':' delimiter: line 1 column 6 (char 5)"
        );
        assert_eq!(
            json_loads(b"{\"a\": 1,}").unwrap_err().to_string(),
            "Expecting property name enclosed in double quotes: line 1 column 9 (char 8)"
        );
    }
}

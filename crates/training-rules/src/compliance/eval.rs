//! Evaluation of the rule language with Python's semantics: what a rule
//! sees (`s`, `v`, `ll`, the helpers the checker puts in scope and the
//! builtins the rules call) and which operations raise (a raise is what
//! turns a `CHECK` into "Failed executing CHECK code", or crashes the
//! official checker where it does not catch).

use std::cell::RefCell;
use std::rc::Rc;

use super::expr::{BinOp, CmpOp, Expr, Stmt, UnaryOp};
use super::value::{num_cmp, py_eq, Dict, Number, Value};

/// A Python exception raised by rule code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct Raised {
    /// The exception class, e.g. `KeyError`.
    pub kind: &'static str,
    pub message: String,
}

fn raise(kind: &'static str, message: impl Into<String>) -> Raised {
    Raised {
        kind,
        message: message.into(),
    }
}

fn type_error(message: impl Into<String>) -> Raised {
    raise("TypeError", message)
}

/// The log line a rule runs on (`ll`).
#[derive(Debug, Clone)]
pub struct LineView<'a> {
    pub full_string: &'a str,
    pub timestamp: f64,
    pub key: &'a str,
    pub lineno: usize,
    /// `{'value': ..., 'metadata': ...}`, the rule's `v`.
    pub value: &'a Value,
}

/// The names a rule can see: the config's state `s`, the line (when the
/// rule runs on one), names assigned by `exec`'d code, and the configs
/// `enqueue_config` asks for.
pub struct Scope<'a, 'q> {
    pub state: &'a Rc<RefCell<Dict>>,
    pub line: Option<&'a LineView<'a>>,
    pub locals: Dict,
    pub enqueued: &'q mut Vec<String>,
}

impl Scope<'_, '_> {
    pub fn eval(&mut self, expr: &Expr) -> Result<Value, Raised> {
        match expr {
            Expr::None => Ok(Value::None),
            Expr::Bool(b) => Ok(Value::Bool(*b)),
            Expr::Int(i) => Ok(Value::Int(*i)),
            Expr::Float(f) => Ok(Value::Float(*f)),
            Expr::Str(s) => Ok(Value::str(s)),
            Expr::List(items) => {
                let values = items
                    .iter()
                    .map(|e| self.eval(e))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Value::List(Rc::new(values)))
            }
            Expr::Dict(items) => {
                let mut dict = Dict::new();
                for (k, v) in items {
                    let key = self.eval(k)?;
                    check_hashable(&key)?;
                    let value = self.eval(v)?;
                    dict.insert(key, value);
                }
                Ok(Value::dict(dict))
            }
            Expr::Name(name) => self.name(name),
            Expr::Attr(obj, attr) => self.attribute(obj, attr),
            Expr::Subscript(obj, index) => {
                let container = self.eval(obj)?;
                let index = self.eval(index)?;
                subscript(&container, &index)
            }
            Expr::Call(callee, args) => self.call(callee, args),
            Expr::Unary(op, inner) => {
                let value = self.eval(inner)?;
                match op {
                    UnaryOp::Not => Ok(Value::Bool(!value.truthy())),
                    UnaryOp::Neg => match value.as_number() {
                        Some(Number::Int(i)) => Ok(i
                            .checked_neg()
                            .map_or(Value::Float(-(i as f64)), Value::Int)),
                        Some(Number::Float(f)) => Ok(Value::Float(-f)),
                        None => Err(type_error(format!(
                            "bad operand type for unary -: '{}'",
                            value.type_name()
                        ))),
                    },
                    UnaryOp::Pos => match value.as_number() {
                        Some(n) => Ok(n.into_value()),
                        None => Err(type_error(format!(
                            "bad operand type for unary +: '{}'",
                            value.type_name()
                        ))),
                    },
                }
            }
            Expr::Binary(op, left, right) => {
                let a = self.eval(left)?;
                let b = self.eval(right)?;
                binary(*op, &a, &b)
            }
            Expr::Compare(first, rest) => {
                let mut left = self.eval(first)?;
                for (op, right) in rest {
                    let right = self.eval(right)?;
                    if !compare(*op, &left, &right)? {
                        return Ok(Value::Bool(false));
                    }
                    left = right;
                }
                Ok(Value::Bool(true))
            }
            // `and`/`or` give one of their operands, as in Python.
            Expr::And(a, b) => {
                let left = self.eval(a)?;
                if !left.truthy() {
                    return Ok(left);
                }
                self.eval(b)
            }
            Expr::Or(a, b) => {
                let left = self.eval(a)?;
                if left.truthy() {
                    return Ok(left);
                }
                self.eval(b)
            }
            Expr::IfElse {
                then,
                cond,
                otherwise,
            } => {
                if self.eval(cond)?.truthy() {
                    self.eval(then)
                } else {
                    self.eval(otherwise)
                }
            }
        }
    }

    /// Runs `exec`'d statements.
    pub fn exec(&mut self, stmts: &[Stmt]) -> Result<(), Raised> {
        for stmt in stmts {
            match stmt {
                Stmt::Expr(e) => {
                    self.eval(e)?;
                }
                Stmt::If(branches, otherwise) => {
                    let mut taken = None;
                    for (cond, body) in branches {
                        if self.eval(cond)?.truthy() {
                            taken = Some(body);
                            break;
                        }
                    }
                    self.exec(taken.unwrap_or(otherwise))?;
                }
                Stmt::AugAssign(op, target, value) => {
                    let current = self.eval(target)?;
                    let rhs = self.eval(value)?;
                    let updated = binary(*op, &current, &rhs)?;
                    self.assign(target, updated)?;
                }
                Stmt::Assign(target, value) => {
                    let value = self.eval(value)?;
                    self.assign(target, value)?;
                }
            }
        }
        Ok(())
    }

    fn assign(&mut self, target: &Expr, value: Value) -> Result<(), Raised> {
        match target {
            Expr::Name(name) => {
                self.locals.insert(Value::str(name), value);
                Ok(())
            }
            Expr::Subscript(obj, index) => {
                let container = self.eval(obj)?;
                let index = self.eval(index)?;
                match container {
                    Value::Dict(d) => {
                        check_hashable(&index)?;
                        d.borrow_mut().insert(index, value);
                        Ok(())
                    }
                    other => Err(type_error(format!(
                        "'{}' object does not support item assignment",
                        other.type_name()
                    ))),
                }
            }
            _ => Err(raise(
                "AttributeError",
                "attribute assignment is not supported here",
            )),
        }
    }

    fn name(&self, name: &str) -> Result<Value, Raised> {
        if let Some(v) = self.locals.get_str(name) {
            return Ok(v.clone());
        }
        match (name, self.line) {
            ("s", _) => Ok(Value::Dict(Rc::clone(self.state))),
            ("v", Some(line)) => Ok(line.value.clone()),
            _ => Err(raise("NameError", format!("name '{name}' is not defined"))),
        }
    }

    fn attribute(&mut self, obj: &Expr, attr: &str) -> Result<Value, Raised> {
        if let (Expr::Name(n), Some(line)) = (obj, self.line) {
            if n == "ll" && self.locals.get_str("ll").is_none() {
                return match attr {
                    "timestamp" => Ok(Value::Float(line.timestamp)),
                    "key" => Ok(Value::str(line.key)),
                    "lineno" => Ok(Value::Int(line.lineno as i64)),
                    "full_string" => Ok(Value::str(line.full_string)),
                    "value" => Ok(line.value.clone()),
                    _ => Err(raise(
                        "AttributeError",
                        format!("'LogLine' object has no attribute '{attr}'"),
                    )),
                };
            }
        }
        if let Expr::Name(n) = obj {
            if n == "math" {
                return match attr {
                    "pi" => Ok(Value::Float(std::f64::consts::PI)),
                    "e" => Ok(Value::Float(std::f64::consts::E)),
                    "inf" => Ok(Value::Float(f64::INFINITY)),
                    _ => Err(raise(
                        "AttributeError",
                        format!("module 'math' has no attribute '{attr}' usable as a value"),
                    )),
                };
            }
        }
        let value = self.eval(obj)?;
        Err(raise(
            "AttributeError",
            format!("'{}' object has no attribute '{attr}'", value.type_name()),
        ))
    }

    fn call(&mut self, callee: &Expr, arg_exprs: &[Expr]) -> Result<Value, Raised> {
        match callee {
            Expr::Name(name) if self.locals.get_str(name).is_none() => {
                let args = self.eval_args(arg_exprs)?;
                self.call_function(name, &args)
            }
            Expr::Attr(obj, method) => {
                if matches!(&**obj, Expr::Name(n) if n == "math") {
                    let args = self.eval_args(arg_exprs)?;
                    return math_function(method, &args);
                }
                let receiver = self.eval(obj)?;
                let args = self.eval_args(arg_exprs)?;
                call_method(&receiver, method, &args)
            }
            other => {
                let value = self.eval(other)?;
                Err(type_error(format!(
                    "'{}' object is not callable",
                    value.type_name()
                )))
            }
        }
    }

    fn eval_args(&mut self, exprs: &[Expr]) -> Result<Vec<Value>, Raised> {
        exprs.iter().map(|e| self.eval(e)).collect()
    }

    fn call_function(&mut self, name: &str, args: &[Value]) -> Result<Value, Raised> {
        match name {
            // The checker's own helpers.
            "enqueue_config" => {
                let [config] = args else {
                    return Err(arity("enqueue_config", 1, args.len()));
                };
                match config {
                    Value::Str(s) => self.enqueued.push(s.to_string()),
                    // Python would fail later, joining a non-string path.
                    other => self.enqueued.push(other.py_str()),
                }
                Ok(Value::None)
            }
            "is_integer" => {
                let [x] = args else {
                    return Err(arity("is_integer", 1, args.len()));
                };
                let rounded = python_round(x)?;
                let diff = binary(BinOp::Sub, &rounded, x)?;
                let magnitude = abs(&diff)?;
                compare(CmpOp::Lt, &magnitude, &Value::Float(0.00001)).map(Value::Bool)
            }
            // Builtins.
            "min" | "max" => {
                let items: Vec<Value> = match args {
                    [Value::List(items)] => items.to_vec(),
                    [_] => {
                        return Err(type_error(format!(
                            "'{}' object is not iterable",
                            args[0].type_name()
                        )))
                    }
                    [] => {
                        return Err(type_error(format!(
                            "{name} expected at least 1 argument, got 0"
                        )))
                    }
                    _ => args.to_vec(),
                };
                let mut best = items.first().cloned().ok_or_else(|| {
                    raise("ValueError", format!("{name}() arg is an empty sequence"))
                })?;
                for item in &items[1..] {
                    let better = if name == "min" {
                        compare(CmpOp::Lt, item, &best)?
                    } else {
                        compare(CmpOp::Gt, item, &best)?
                    };
                    if better {
                        best = item.clone();
                    }
                }
                Ok(best)
            }
            "abs" => {
                let [x] = args else {
                    return Err(arity("abs", 1, args.len()));
                };
                abs(x)
            }
            "len" => {
                let [x] = args else {
                    return Err(arity("len", 1, args.len()));
                };
                match x {
                    Value::Str(s) => Ok(Value::Int(s.chars().count() as i64)),
                    Value::List(l) => Ok(Value::Int(l.len() as i64)),
                    Value::Dict(d) => Ok(Value::Int(d.borrow().len() as i64)),
                    other => Err(type_error(format!(
                        "object of type '{}' has no len()",
                        other.type_name()
                    ))),
                }
            }
            "int" => {
                let [x] = args else {
                    return Err(arity("int", 1, args.len()));
                };
                to_int(x)
            }
            "float" => {
                let [x] = args else {
                    return Err(arity("float", 1, args.len()));
                };
                match x {
                    Value::Str(s) => yardstick_formats::pyfloat::parse(s)
                        .map(Value::Float)
                        .ok_or_else(|| {
                            raise(
                                "ValueError",
                                format!("could not convert string to float: {}", x.py_repr()),
                            )
                        }),
                    other => other
                        .as_number()
                        .map(|n| Value::Float(n.to_f64()))
                        .ok_or_else(|| {
                            type_error(format!(
                                "float() argument must be a string or a real number, not '{}'",
                                other.type_name()
                            ))
                        }),
                }
            }
            "str" => {
                let [x] = args else {
                    return Err(arity("str", 1, args.len()));
                };
                Ok(Value::str(&x.py_str()))
            }
            "bool" => {
                let [x] = args else {
                    return Err(arity("bool", 1, args.len()));
                };
                Ok(Value::Bool(x.truthy()))
            }
            "round" => {
                let [x] = args else {
                    return Err(arity("round", 1, args.len()));
                };
                python_round(x)
            }
            _ => Err(raise("NameError", format!("name '{name}' is not defined"))),
        }
    }
}

fn arity(name: &str, expected: usize, got: usize) -> Raised {
    type_error(format!(
        "{name}() takes exactly {expected} argument ({got} given)"
    ))
}

fn check_hashable(key: &Value) -> Result<(), Raised> {
    match key {
        Value::List(_) | Value::Dict(_) => Err(type_error(format!(
            "unhashable type: '{}'",
            key.type_name()
        ))),
        _ => Ok(()),
    }
}

fn to_int(x: &Value) -> Result<Value, Raised> {
    match x {
        Value::Bool(b) => Ok(Value::Int(i64::from(*b))),
        Value::Int(i) => Ok(Value::Int(*i)),
        Value::Float(f) => float_to_int(f.trunc()),
        Value::Str(s) => {
            let t: String = s.trim().chars().filter(|&c| c != '_').collect();
            t.parse::<i64>().map(Value::Int).map_err(|_| {
                raise(
                    "ValueError",
                    format!("invalid literal for int() with base 10: {}", x.py_repr()),
                )
            })
        }
        other => Err(type_error(format!(
            "int() argument must be a string, a bytes-like object or a real number, not '{}'",
            other.type_name()
        ))),
    }
}

fn float_to_int(f: f64) -> Result<Value, Raised> {
    if f.is_nan() {
        return Err(raise("ValueError", "cannot convert float NaN to integer"));
    }
    if f.is_infinite() {
        return Err(raise(
            "OverflowError",
            "cannot convert float infinity to integer",
        ));
    }
    if f.abs() < 9.2e18 {
        Ok(Value::Int(f as i64))
    } else {
        // Beyond i64: Python has an exact big int; the float is the same number.
        Ok(Value::Float(f))
    }
}

/// Python's `round(x)`: to the nearest int, ties to even.
fn python_round(x: &Value) -> Result<Value, Raised> {
    match x.as_number() {
        Some(Number::Int(i)) => Ok(Value::Int(i)),
        Some(Number::Float(f)) => float_to_int(f.round_ties_even()),
        None => Err(type_error(format!(
            "type {} doesn't define __round__ method",
            x.type_name()
        ))),
    }
}

fn abs(x: &Value) -> Result<Value, Raised> {
    match x.as_number() {
        Some(Number::Int(i)) => Ok(i
            .checked_abs()
            .map_or(Value::Float((i as f64).abs()), Value::Int)),
        Some(Number::Float(f)) => Ok(Value::Float(f.abs())),
        None => Err(type_error(format!(
            "bad operand type for abs(): '{}'",
            x.type_name()
        ))),
    }
}

fn math_function(name: &str, args: &[Value]) -> Result<Value, Raised> {
    let [x] = args else {
        return Err(arity(&format!("math.{name}"), 1, args.len()));
    };
    let number = x
        .as_number()
        .ok_or_else(|| type_error(format!("must be real number, not {}", x.type_name())))?;
    match (name, number) {
        ("ceil" | "floor" | "trunc", Number::Int(i)) => Ok(Value::Int(i)),
        ("ceil", Number::Float(f)) => float_to_int(f.ceil()),
        ("floor", Number::Float(f)) => float_to_int(f.floor()),
        ("trunc", Number::Float(f)) => float_to_int(f.trunc()),
        ("sqrt", n) => {
            let f = n.to_f64();
            if f < 0.0 {
                Err(raise("ValueError", "math domain error"))
            } else {
                Ok(Value::Float(f.sqrt()))
            }
        }
        ("log", n) => {
            let f = n.to_f64();
            if f <= 0.0 {
                Err(raise("ValueError", "math domain error"))
            } else {
                Ok(Value::Float(f.ln()))
            }
        }
        ("isclose", _) => Err(arity("math.isclose", 2, 1)),
        _ => Err(raise(
            "AttributeError",
            format!("module 'math' has no attribute '{name}'"),
        )),
    }
}

fn call_method(receiver: &Value, method: &str, args: &[Value]) -> Result<Value, Raised> {
    match (receiver, method) {
        (Value::Dict(d), "update") => {
            let [Value::Dict(other)] = args else {
                return Err(type_error("dict.update() expects one dict here"));
            };
            let entries: Vec<(Value, Value)> = other.borrow().iter().cloned().collect();
            let mut target = d.borrow_mut();
            for (k, v) in entries {
                target.insert(k, v);
            }
            Ok(Value::None)
        }
        (Value::Dict(d), "get") => match args {
            [key] => {
                check_hashable(key)?;
                Ok(d.borrow().get(key).cloned().unwrap_or(Value::None))
            }
            [key, default] => {
                check_hashable(key)?;
                Ok(d.borrow()
                    .get(key)
                    .cloned()
                    .unwrap_or_else(|| default.clone()))
            }
            _ => Err(type_error(format!(
                "get expected at most 2 arguments, got {}",
                args.len()
            ))),
        },
        (Value::Dict(d), "keys") => Ok(Value::List(Rc::new(
            d.borrow().iter().map(|(k, _)| k.clone()).collect(),
        ))),
        (Value::Str(template), "format") => format_str(template, args),
        (Value::Str(s), "startswith") => match args {
            [Value::Str(prefix)] => Ok(Value::Bool(s.starts_with(&**prefix))),
            _ => Err(type_error("startswith first arg must be str")),
        },
        (Value::Str(s), "endswith") => match args {
            [Value::Str(suffix)] => Ok(Value::Bool(s.ends_with(&**suffix))),
            _ => Err(type_error("endswith first arg must be str")),
        },
        (Value::Str(s), "lower") => Ok(Value::str(&s.to_lowercase())),
        (Value::Str(s), "upper") => Ok(Value::str(&s.to_uppercase())),
        (Value::Str(s), "strip") => Ok(Value::str(s.trim())),
        (other, _) => Err(raise(
            "AttributeError",
            format!("'{}' object has no attribute '{method}'", other.type_name()),
        )),
    }
}

/// `str.format` with `{}` / `{n}` fields (the rules use nothing else).
fn format_str(template: &str, args: &[Value]) -> Result<Value, Raised> {
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    let mut next_auto = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut field = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(ch) => field.push(ch),
                        None => {
                            return Err(raise("ValueError", "expected '}' before end of string"))
                        }
                    }
                }
                let index = if field.is_empty() {
                    next_auto += 1;
                    next_auto - 1
                } else {
                    field.parse::<usize>().map_err(|_| {
                        raise("ValueError", format!("unsupported format field '{field}'"))
                    })?
                };
                let arg = args.get(index).ok_or_else(|| {
                    raise(
                        "IndexError",
                        format!("Replacement index {index} out of range for positional args tuple"),
                    )
                })?;
                out.push_str(&arg.py_str());
            }
            '}' => {
                return Err(raise(
                    "ValueError",
                    "Single '}' encountered in format string",
                ))
            }
            c => out.push(c),
        }
    }
    Ok(Value::str(&out))
}

fn subscript(container: &Value, index: &Value) -> Result<Value, Raised> {
    match container {
        Value::Dict(d) => {
            check_hashable(index)?;
            d.borrow()
                .get(index)
                .cloned()
                .ok_or_else(|| raise("KeyError", index.py_repr()))
        }
        Value::List(items) => {
            let i = list_index(index, items.len(), "list")?;
            Ok(items[i].clone())
        }
        Value::Str(s) => {
            let chars: Vec<char> = s.chars().collect();
            let i = list_index(index, chars.len(), "string")?;
            Ok(Value::str(&chars[i].to_string()))
        }
        other => Err(type_error(format!(
            "'{}' object is not subscriptable",
            other.type_name()
        ))),
    }
}

fn list_index(index: &Value, len: usize, what: &str) -> Result<usize, Raised> {
    let i = match index {
        Value::Int(i) => *i,
        Value::Bool(b) => i64::from(*b),
        other => {
            return Err(type_error(format!(
                "{what} indices must be integers or slices, not {}",
                other.type_name()
            )))
        }
    };
    let resolved = if i < 0 { i + len as i64 } else { i };
    if resolved < 0 || resolved >= len as i64 {
        return Err(raise("IndexError", format!("{what} index out of range")));
    }
    Ok(resolved as usize)
}

/// Python's binary operators on the values the rules meet.
pub fn binary(op: BinOp, a: &Value, b: &Value) -> Result<Value, Raised> {
    let symbol = match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::FloorDiv => "//",
        BinOp::Mod => "%",
        BinOp::Pow => "** or pow()",
        BinOp::BitOr => "|",
        BinOp::BitAnd => "&",
    };
    let unsupported = || {
        type_error(format!(
            "unsupported operand type(s) for {symbol}: '{}' and '{}'",
            a.type_name(),
            b.type_name()
        ))
    };
    // bool | bool and bool & bool stay bool.
    if let (Value::Bool(x), Value::Bool(y)) = (a, b) {
        match op {
            BinOp::BitOr => return Ok(Value::Bool(*x || *y)),
            BinOp::BitAnd => return Ok(Value::Bool(*x && *y)),
            _ => {}
        }
    }
    match (a, b, op) {
        (Value::Str(x), Value::Str(y), BinOp::Add) => return Ok(Value::str(&format!("{x}{y}"))),
        (Value::List(x), Value::List(y), BinOp::Add) => {
            let mut joined = x.to_vec();
            joined.extend(y.iter().cloned());
            return Ok(Value::List(Rc::new(joined)));
        }
        _ => {}
    }
    let (Some(x), Some(y)) = (a.as_number(), b.as_number()) else {
        return Err(unsupported());
    };
    match (x, y) {
        (Number::Int(x), Number::Int(y)) => int_binary(op, x, y).ok_or_else(unsupported)?,
        _ => {
            if matches!(op, BinOp::BitOr | BinOp::BitAnd) {
                return Err(unsupported());
            }
            float_binary(op, x.to_f64(), y.to_f64())
        }
    }
}

fn int_binary(op: BinOp, x: i64, y: i64) -> Option<Result<Value, Raised>> {
    let exact = match op {
        BinOp::Add => x.checked_add(y),
        BinOp::Sub => x.checked_sub(y),
        BinOp::Mul => x.checked_mul(y),
        BinOp::Div => return Some(float_binary(op, x as f64, y as f64)),
        BinOp::FloorDiv | BinOp::Mod => {
            if y == 0 {
                return Some(Err(raise(
                    "ZeroDivisionError",
                    "integer division or modulo by zero",
                )));
            }
            let q = x.div_euclid(y);
            let r = x.rem_euclid(y);
            // Python floors toward negative infinity; the remainder has the
            // divisor's sign.
            let (q, r) = if r != 0 && y < 0 {
                (q - 1, r + y)
            } else {
                (q, r)
            };
            Some(if op == BinOp::FloorDiv { q } else { r })
        }
        BinOp::Pow => {
            if y < 0 {
                return Some(float_binary(op, x as f64, y as f64));
            }
            u32::try_from(y).ok().and_then(|e| x.checked_pow(e))
        }
        BinOp::BitOr => Some(x | y),
        BinOp::BitAnd => Some(x & y),
    };
    Some(Ok(match exact {
        Some(v) => Value::Int(v),
        // Python's ints do not overflow; the float is the nearest this
        // evaluator keeps.
        None => return Some(float_binary(op, x as f64, y as f64)),
    }))
}

fn float_binary(op: BinOp, x: f64, y: f64) -> Result<Value, Raised> {
    let zero_div = |what: &str| raise("ZeroDivisionError", what.to_string());
    Ok(Value::Float(match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => {
            if y == 0.0 {
                return Err(zero_div("division by zero"));
            }
            x / y
        }
        BinOp::FloorDiv => {
            if y == 0.0 {
                return Err(zero_div("float floor division by zero"));
            }
            (x / y).floor()
        }
        BinOp::Mod => {
            if y == 0.0 {
                return Err(zero_div("float modulo"));
            }
            let r = x % y;
            if r != 0.0 && (r < 0.0) != (y < 0.0) {
                r + y
            } else {
                r
            }
        }
        BinOp::Pow => {
            if x == 0.0 && y < 0.0 {
                return Err(zero_div("0.0 cannot be raised to a negative power"));
            }
            if x < 0.0 && y.fract() != 0.0 {
                // Python gives a complex number; no rule can use one.
                return Err(raise("ValueError", "complex result"));
            }
            x.powf(y)
        }
        BinOp::BitOr | BinOp::BitAnd => {
            return Err(type_error(
                "unsupported operand type(s) for a bit operation: 'float'",
            ))
        }
    }))
}

/// Python's comparison operators.
pub fn compare(op: CmpOp, a: &Value, b: &Value) -> Result<bool, Raised> {
    use std::cmp::Ordering;
    match op {
        CmpOp::Eq => Ok(py_eq(a, b)),
        CmpOp::Ne => Ok(!py_eq(a, b)),
        CmpOp::In => contains(b, a),
        CmpOp::NotIn => contains(b, a).map(|found| !found),
        CmpOp::Is => Ok(identical(a, b)),
        CmpOp::IsNot => Ok(!identical(a, b)),
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
            let symbol = match op {
                CmpOp::Lt => "<",
                CmpOp::Le => "<=",
                CmpOp::Gt => ">",
                _ => ">=",
            };
            let ordering = order(a, b).map_err(|()| {
                type_error(format!(
                    "'{symbol}' not supported between instances of '{}' and '{}'",
                    a.type_name(),
                    b.type_name()
                ))
            })?;
            Ok(match (op, ordering) {
                // NaN: every ordering comparison is false.
                (_, None) => false,
                (CmpOp::Lt, Some(o)) => o == Ordering::Less,
                (CmpOp::Le, Some(o)) => o != Ordering::Greater,
                (CmpOp::Gt, Some(o)) => o == Ordering::Greater,
                (_, Some(o)) => o != Ordering::Less,
            })
        }
    }
}

/// `is` for the singletons the rules compare against (`None`, `True`,
/// `False`); other objects are identical only when they are the same dict.
fn identical(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::None, Value::None) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Dict(x), Value::Dict(y)) => Rc::ptr_eq(x, y),
        (Value::List(x), Value::List(y)) => Rc::ptr_eq(x, y),
        (Value::Str(x), Value::Str(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

fn order(a: &Value, b: &Value) -> Result<Option<std::cmp::Ordering>, ()> {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Ok(Some(x.cmp(y))),
        (Value::List(x), Value::List(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                if !py_eq(p, q) {
                    return order(p, q);
                }
            }
            Ok(Some(x.len().cmp(&y.len())))
        }
        _ => match (a.as_number(), b.as_number()) {
            (Some(x), Some(y)) => Ok(num_cmp(x, y)),
            _ => Err(()),
        },
    }
}

/// Python's `needle in haystack`.
fn contains(haystack: &Value, needle: &Value) -> Result<bool, Raised> {
    match haystack {
        Value::Str(s) => match needle {
            Value::Str(n) => Ok(s.contains(&**n)),
            other => Err(type_error(format!(
                "'in <string>' requires string as left operand, not {}",
                other.type_name()
            ))),
        },
        Value::List(items) => Ok(items.iter().any(|item| py_eq(item, needle))),
        Value::Dict(d) => {
            check_hashable(needle)?;
            Ok(d.borrow().contains(needle))
        }
        other => Err(type_error(format!(
            "argument of type '{}' is not iterable",
            other.type_name()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::super::expr::{parse_expression, parse_statements};
    use super::*;

    fn eval_with(src: &str, v: &Value, state: &Rc<RefCell<Dict>>) -> Result<Value, Raised> {
        let line = LineView {
            full_string: ":::MLLOG {}",
            timestamp: 1000.0,
            key: "k",
            lineno: 3,
            value: v,
        };
        let mut enqueued = Vec::new();
        let mut scope = Scope {
            state,
            line: Some(&line),
            locals: Dict::new(),
            enqueued: &mut enqueued,
        };
        scope.eval(&parse_expression(src).expect("test expression parses"))
    }

    fn line_value(value: Value, metadata: Value) -> Value {
        let mut d = Dict::new();
        d.insert(Value::str("value"), value);
        d.insert(Value::str("metadata"), metadata);
        Value::dict(d)
    }

    #[test]
    fn python_semantics_of_rule_expressions() {
        let state = Rc::new(RefCell::new(Dict::new()));
        let mut md = Dict::new();
        md.insert(Value::str("epoch_num"), Value::Int(3));
        let v = line_value(Value::Float(0.81), Value::dict(md));
        let check = |src: &str| eval_with(src, &v, &state);
        assert!(check("v['value'] >= 0.80275 and v['value'] <= 1.0")
            .unwrap()
            .truthy());
        assert!(
            check("('epoch_num' in v['metadata']) | ('samples_count' in v['metadata'])")
                .unwrap()
                .truthy()
        );
        assert!(check(
            "v['metadata']['epoch_count'] > 0 if 'epoch_count' in v['metadata'] else True"
        )
        .unwrap()
        .truthy());
        assert_eq!(
            check("v['metadata']['epoch_count']").unwrap_err().kind,
            "KeyError"
        );
        assert_eq!(check("v['value'] < 'a'").unwrap_err().kind, "TypeError");
        assert_eq!(
            check("math.ceil(1_200_000 * 1152 / 1000)")
                .unwrap()
                .py_repr(),
            "1382400"
        );
        assert_eq!(check("7 // -2").unwrap().py_repr(), "-4");
        assert_eq!(
            check("'training_5.1.0/closed_{}.yaml'.format('rgat')")
                .unwrap()
                .py_str(),
            "training_5.1.0/closed_rgat.yaml"
        );
        assert!(check("0 < 1 <= 1 < 2").unwrap().truthy());
        assert!(
            !check("1 < 0 < undefined_name").unwrap().truthy(),
            "chained comparison short-circuits"
        );
        assert_eq!(check("0 or 'x'").unwrap().py_str(), "x");
        assert!(check("is_integer(4.000001)").unwrap().truthy());
        assert!(!check("is_integer(4.5)").unwrap().truthy());
    }

    #[test]
    fn statements_update_the_state() {
        let state = Rc::new(RefCell::new(Dict::new()));
        let v = line_value(Value::str("open"), Value::None);
        let line = LineView {
            full_string: "",
            timestamp: 5.0,
            key: "submission_division",
            lineno: 0,
            value: &v,
        };
        let mut enqueued = Vec::new();
        let mut scope = Scope {
            state: &state,
            line: Some(&line),
            locals: Dict::new(),
            enqueued: &mut enqueued,
        };
        let code = parse_statements(
            "s.update({'first_init_start': 9e99,\n 'x': 1})\nenqueue_config('training_5.1.0/{}_common.yaml'.format(v['value'])); s['compile_time_mins'] = 240 if v['value'] == 'open' else 30; s['first_init_start']=min(s['first_init_start'], ll.timestamp)",
        )
        .unwrap();
        scope.exec(&code).unwrap();
        assert_eq!(
            enqueued,
            vec!["training_5.1.0/open_common.yaml".to_string()]
        );
        let s = state.borrow();
        assert_eq!(s.get_str("compile_time_mins").unwrap().py_repr(), "240");
        assert_eq!(s.get_str("first_init_start").unwrap().py_repr(), "5.0");
    }
}

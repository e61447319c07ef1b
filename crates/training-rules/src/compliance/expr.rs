//! The rule language: the subset of Python the official rule YAMLs use in
//! their `CHECK`, `ATLEAST_ONE_CHECK`, `FIRST_CHECK`, `PRE`, `POST`, `BEGIN`
//! and `END` fields (read from every YAML of training 5.1.0, 6.0.0 and
//! 6.1.0): literals (numbers with `_`, strings, `True`/`False`/`None`, lists,
//! dicts), names, subscripts, attributes, calls, arithmetic (`+ - * / // % **`),
//! `|`/`&`, comparisons (chained, `in`, `not in`, `is`, `is not`), `and`/`or`/
//! `not`, `x if c else y`; statements are expressions or assignments,
//! separated by `;` or new lines.

use std::fmt;

/// An expression of the rule language.
#[derive(Debug, Clone)]
pub enum Expr {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Expr>),
    Dict(Vec<(Expr, Expr)>),
    Name(String),
    Attr(Box<Expr>, String),
    Subscript(Box<Expr>, Box<Expr>),
    Call(Box<Expr>, Vec<Expr>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `a < b <= c`: each comparison of neighbours, all must hold.
    Compare(Box<Expr>, Vec<(CmpOp, Expr)>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    IfElse {
        then: Box<Expr>,
        cond: Box<Expr>,
        otherwise: Box<Expr>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Neg,
    Pos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    BitOr,
    BitAnd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Is,
    IsNot,
}

/// A statement of `exec`'d code.
#[derive(Debug, Clone)]
pub enum Stmt {
    Expr(Expr),
    Assign(Expr, Expr),
    /// `target op= value`.
    AugAssign(BinOp, Expr, Expr),
    /// `if c: ... elif c: ... else: ...`: the branches in order, then `else`.
    If(Vec<(Expr, Vec<Stmt>)>, Vec<Stmt>),
}

/// Code that Python would reject with a `SyntaxError`. As in the official
/// checker, it only matters when the rule runs (then it is an exception).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid syntax at offset {offset}: {reason}")]
pub struct SyntaxError {
    pub offset: usize,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Int(i64),
    Float(f64),
    Str(String),
    Name(String),
    Op(&'static str),
    Newline,
    End,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Int(i) => write!(f, "{i}"),
            Tok::Float(x) => write!(f, "{x}"),
            Tok::Str(s) => write!(f, "{s:?}"),
            Tok::Name(n) => write!(f, "{n}"),
            Tok::Op(o) => write!(f, "{o}"),
            Tok::Newline => write!(f, "newline"),
            Tok::End => write!(f, "end of code"),
        }
    }
}

const OPS: [&str; 32] = [
    "**", "//=", "//", "+=", "-=", "*=", "/=", "==", "!=", "<=", ">=", "(", ")", "[", "]", "{",
    "}", ",", ":", ".", ";", "+", "-", "*", "/", "%", "<", ">", "=", "|", "&", "~",
];

fn tokenize(src: &str) -> Result<Vec<(Tok, usize)>, SyntaxError> {
    let bytes = src.as_bytes();
    let mut toks = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    let err = |offset: usize, reason: &str| SyntaxError {
        offset,
        reason: reason.to_string(),
    };
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\n' {
            // Inside brackets a line break is only whitespace.
            if depth == 0 && !matches!(toks.last(), Some((Tok::Newline, _)) | None) {
                toks.push((Tok::Newline, i));
            }
            i += 1;
        } else if c == b' ' || c == b'\t' || c == b'\r' || c == b'\x0c' {
            i += 1;
        } else if c == b'#' {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if c == b'\\' && bytes.get(i + 1) == Some(&b'\n') {
            i += 2;
        } else if c.is_ascii_digit()
            || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let start = i;
            let mut is_float = false;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
                i += 1;
            }
            if i < bytes.len() && bytes[i] == b'.' {
                is_float = true;
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
                    i += 1;
                }
            }
            if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
                let save = i;
                i += 1;
                if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
                    i += 1;
                }
                if i < bytes.len() && bytes[i].is_ascii_digit() {
                    is_float = true;
                    while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
                        i += 1;
                    }
                } else {
                    i = save;
                }
            }
            let text: String = src[start..i].chars().filter(|&c| c != '_').collect();
            if src[start..i].ends_with('_') || src[start..i].contains("__") {
                return Err(err(start, "invalid decimal literal"));
            }
            if is_float {
                let f: f64 = text
                    .parse()
                    .map_err(|_| err(start, "invalid float literal"))?;
                toks.push((Tok::Float(f), start));
            } else {
                if text.len() > 1 && text.starts_with('0') && text.bytes().any(|b| b != b'0') {
                    return Err(err(
                        start,
                        "leading zeros in decimal integer literals are not permitted",
                    ));
                }
                match text.parse::<i64>() {
                    Ok(n) => toks.push((Tok::Int(n), start)),
                    // Beyond i64 Python keeps an exact int; a float is the
                    // nearest this evaluator has.
                    Err(_) => toks.push((
                        Tok::Float(text.parse().map_err(|_| err(start, "invalid integer"))?),
                        start,
                    )),
                }
            }
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            toks.push((Tok::Name(src[start..i].to_string()), start));
        } else if c == b'\'' || c == b'"' {
            let start = i;
            let quote = c;
            i += 1;
            let mut text = String::new();
            loop {
                let Some(&b) = bytes.get(i) else {
                    return Err(err(start, "unterminated string literal"));
                };
                if b == quote {
                    i += 1;
                    break;
                }
                if b == b'\n' {
                    return Err(err(start, "unterminated string literal"));
                }
                if b == b'\\' {
                    let Some(&e) = bytes.get(i + 1) else {
                        return Err(err(start, "unterminated string literal"));
                    };
                    let decoded = match e {
                        b'n' => Some('\n'),
                        b't' => Some('\t'),
                        b'r' => Some('\r'),
                        b'\\' => Some('\\'),
                        b'\'' => Some('\''),
                        b'"' => Some('"'),
                        b'0' => Some('\0'),
                        _ => None,
                    };
                    match decoded {
                        Some(ch) => {
                            text.push(ch);
                            i += 2;
                        }
                        None => {
                            // Python keeps unknown escapes as written.
                            text.push('\\');
                            i += 1;
                        }
                    }
                    continue;
                }
                let ch_len = utf8_len(b);
                text.push_str(&src[i..i + ch_len]);
                i += ch_len;
            }
            toks.push((Tok::Str(text), start));
        } else {
            let rest = &src[i..];
            let Some(op) = OPS.iter().find(|op| rest.starts_with(**op)) else {
                return Err(err(i, "invalid character"));
            };
            match *op {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => depth = depth.saturating_sub(1),
                _ => {}
            }
            toks.push((Tok::Op(op), i));
            i += op.len();
        }
    }
    toks.push((Tok::End, src.len()));
    Ok(toks)
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

struct Parser<'s> {
    src: &'s str,
    toks: Vec<(Tok, usize)>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }

    fn offset(&self) -> usize {
        self.toks[self.pos].1
    }

    fn advance(&mut self) -> Tok {
        let tok = self.toks[self.pos].0.clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        tok
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }

    fn is_name(&self, name: &str) -> bool {
        matches!(self.peek(), Tok::Name(n) if n == name)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if self.is_op(op) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn eat_name(&mut self, name: &str) -> bool {
        if self.is_name(name) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn expect_op(&mut self, op: &str) -> Result<(), SyntaxError> {
        if self.eat_op(op) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("expected '{op}'")))
        }
    }

    fn unexpected(&self, what: &str) -> SyntaxError {
        SyntaxError {
            offset: self.offset(),
            reason: format!("{what}, found {}", self.peek()),
        }
    }

    /// `test`: a conditional expression or anything below it.
    fn test(&mut self) -> Result<Expr, SyntaxError> {
        let then = self.or_test()?;
        if self.eat_name("if") {
            let cond = self.or_test()?;
            if !self.eat_name("else") {
                return Err(self.unexpected("expected 'else'"));
            }
            let otherwise = self.test()?;
            return Ok(Expr::IfElse {
                then: Box::new(then),
                cond: Box::new(cond),
                otherwise: Box::new(otherwise),
            });
        }
        Ok(then)
    }

    fn or_test(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.and_test()?;
        while self.eat_name("or") {
            let right = self.and_test()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_test(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.not_test()?;
        while self.eat_name("and") {
            let right = self.not_test()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not_test(&mut self) -> Result<Expr, SyntaxError> {
        if self.eat_name("not") {
            let inner = self.not_test()?;
            return Ok(Expr::Unary(UnaryOp::Not, Box::new(inner)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, SyntaxError> {
        let first = self.bit_or()?;
        let mut rest = Vec::new();
        loop {
            let op = if self.eat_op("==") {
                CmpOp::Eq
            } else if self.eat_op("!=") {
                CmpOp::Ne
            } else if self.eat_op("<=") {
                CmpOp::Le
            } else if self.eat_op(">=") {
                CmpOp::Ge
            } else if self.eat_op("<") {
                CmpOp::Lt
            } else if self.eat_op(">") {
                CmpOp::Gt
            } else if self.eat_name("in") {
                CmpOp::In
            } else if self.is_name("not")
                && matches!(self.toks.get(self.pos + 1), Some((Tok::Name(n), _)) if n == "in")
            {
                self.advance();
                self.advance();
                CmpOp::NotIn
            } else if self.eat_name("is") {
                if self.eat_name("not") {
                    CmpOp::IsNot
                } else {
                    CmpOp::Is
                }
            } else {
                break;
            };
            rest.push((op, self.bit_or()?));
        }
        if rest.is_empty() {
            Ok(first)
        } else {
            Ok(Expr::Compare(Box::new(first), rest))
        }
    }

    fn bit_or(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.bit_and()?;
        while self.eat_op("|") {
            let right = self.bit_and()?;
            left = Expr::Binary(BinOp::BitOr, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn bit_and(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.arith()?;
        while self.eat_op("&") {
            let right = self.arith()?;
            left = Expr::Binary(BinOp::BitAnd, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn arith(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.term()?;
        loop {
            let op = if self.eat_op("+") {
                BinOp::Add
            } else if self.eat_op("-") {
                BinOp::Sub
            } else {
                break;
            };
            let right = self.term()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.factor()?;
        loop {
            let op = if self.eat_op("*") {
                BinOp::Mul
            } else if self.eat_op("//") {
                BinOp::FloorDiv
            } else if self.eat_op("/") {
                BinOp::Div
            } else if self.eat_op("%") {
                BinOp::Mod
            } else {
                break;
            };
            let right = self.factor()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn factor(&mut self) -> Result<Expr, SyntaxError> {
        if self.eat_op("-") {
            return Ok(Expr::Unary(UnaryOp::Neg, Box::new(self.factor()?)));
        }
        if self.eat_op("+") {
            return Ok(Expr::Unary(UnaryOp::Pos, Box::new(self.factor()?)));
        }
        self.power()
    }

    fn power(&mut self) -> Result<Expr, SyntaxError> {
        let base = self.postfix()?;
        if self.eat_op("**") {
            // Right-associative, and binds tighter than a unary minus on its
            // left but not on its right: -2**2 == -4, 2**-1 == 0.5.
            let exponent = self.factor()?;
            return Ok(Expr::Binary(BinOp::Pow, Box::new(base), Box::new(exponent)));
        }
        Ok(base)
    }

    fn postfix(&mut self) -> Result<Expr, SyntaxError> {
        let mut expr = self.atom()?;
        loop {
            if self.eat_op("[") {
                let index = self.test()?;
                self.expect_op("]")?;
                expr = Expr::Subscript(Box::new(expr), Box::new(index));
            } else if self.eat_op("(") {
                let mut args = Vec::new();
                while !self.is_op(")") {
                    args.push(self.test()?);
                    if !self.eat_op(",") {
                        break;
                    }
                }
                self.expect_op(")")?;
                expr = Expr::Call(Box::new(expr), args);
            } else if self.eat_op(".") {
                match self.advance() {
                    Tok::Name(attr) => expr = Expr::Attr(Box::new(expr), attr),
                    _ => return Err(self.unexpected("expected an attribute name")),
                }
            } else {
                return Ok(expr);
            }
        }
    }

    fn atom(&mut self) -> Result<Expr, SyntaxError> {
        let offset = self.offset();
        match self.advance() {
            Tok::Int(i) => Ok(Expr::Int(i)),
            Tok::Float(f) => Ok(Expr::Float(f)),
            Tok::Str(s) => {
                // Adjacent literals concatenate.
                let mut text = s;
                while let Tok::Str(more) = self.peek().clone() {
                    self.advance();
                    text.push_str(&more);
                }
                Ok(Expr::Str(text))
            }
            Tok::Name(n) => Ok(match n.as_str() {
                "True" => Expr::Bool(true),
                "False" => Expr::Bool(false),
                "None" => Expr::None,
                "and" | "or" | "not" | "in" | "is" | "if" | "else" | "lambda" | "for" => {
                    return Err(SyntaxError {
                        offset,
                        reason: format!("unexpected keyword '{n}'"),
                    })
                }
                _ => Expr::Name(n),
            }),
            Tok::Op("(") => {
                let inner = self.test()?;
                self.expect_op(")")?;
                Ok(inner)
            }
            Tok::Op("[") => {
                let mut items = Vec::new();
                while !self.is_op("]") {
                    items.push(self.test()?);
                    if !self.eat_op(",") {
                        break;
                    }
                }
                self.expect_op("]")?;
                Ok(Expr::List(items))
            }
            Tok::Op("{") => {
                let mut items = Vec::new();
                while !self.is_op("}") {
                    let key = self.test()?;
                    self.expect_op(":")?;
                    let value = self.test()?;
                    items.push((key, value));
                    if !self.eat_op(",") {
                        break;
                    }
                }
                self.expect_op("}")?;
                Ok(Expr::Dict(items))
            }
            other => Err(SyntaxError {
                offset,
                reason: format!("unexpected {other}"),
            }),
        }
    }
}

/// Parses code for `eval`: exactly one expression.
pub fn parse_expression(src: &str) -> Result<Expr, SyntaxError> {
    let mut parser = Parser {
        src,
        toks: tokenize(src)?,
        pos: 0,
    };
    let expr = parser.test()?;
    while matches!(parser.peek(), Tok::Newline) {
        parser.advance();
    }
    if *parser.peek() != Tok::End {
        return Err(parser.unexpected("expected end of expression"));
    }
    Ok(expr)
}

/// Parses code for `exec`: statements separated by `;` or new lines,
/// with `if`/`elif`/`else` blocks by indentation.
pub fn parse_statements(src: &str) -> Result<Vec<Stmt>, SyntaxError> {
    let mut parser = Parser {
        src,
        toks: tokenize(src)?,
        pos: 0,
    };
    parser.skip_newlines();
    let stmts = parser.block(0)?;
    if *parser.peek() != Tok::End {
        return Err(parser.unexpected("unindent does not match any outer indentation level"));
    }
    Ok(stmts)
}

impl Parser<'_> {
    fn skip_newlines(&mut self) {
        while matches!(self.peek(), Tok::Newline) {
            self.advance();
        }
    }

    /// The column of the current token in its line.
    fn column(&self) -> usize {
        let offset = self.offset().min(self.src.len());
        let line_start = self.src[..offset].rfind('\n').map_or(0, |nl| nl + 1);
        offset - line_start
    }

    /// Statements at exactly `indent`, up to a dedent or the end.
    fn block(&mut self, indent: usize) -> Result<Vec<Stmt>, SyntaxError> {
        let mut stmts = Vec::new();
        loop {
            self.skip_newlines();
            if *self.peek() == Tok::End {
                return Ok(stmts);
            }
            let column = self.column();
            if column < indent {
                return Ok(stmts);
            }
            if column > indent {
                return Err(self.unexpected("unexpected indent"));
            }
            if self.is_name("if") {
                stmts.push(self.if_statement(indent)?);
            } else {
                self.simple_statements(&mut stmts)?;
            }
        }
    }

    /// `a; b = c; d += 1` up to the end of the line.
    fn simple_statements(&mut self, out: &mut Vec<Stmt>) -> Result<(), SyntaxError> {
        loop {
            out.push(self.simple_statement()?);
            if self.eat_op(";") {
                if matches!(self.peek(), Tok::Newline | Tok::End) {
                    return Ok(());
                }
                continue;
            }
            if matches!(self.peek(), Tok::Newline | Tok::End) {
                return Ok(());
            }
            return Err(self.unexpected("expected end of statement"));
        }
    }

    fn simple_statement(&mut self) -> Result<Stmt, SyntaxError> {
        let first = self.test()?;
        let augmented = [
            ("+=", BinOp::Add),
            ("-=", BinOp::Sub),
            ("*=", BinOp::Mul),
            ("/=", BinOp::Div),
            ("//=", BinOp::FloorDiv),
        ];
        let assignable = matches!(first, Expr::Name(_) | Expr::Subscript(..) | Expr::Attr(..));
        if self.eat_op("=") {
            if !assignable {
                return Err(SyntaxError {
                    offset: self.offset(),
                    reason: "cannot assign to expression".into(),
                });
            }
            let value = self.test()?;
            return Ok(Stmt::Assign(first, value));
        }
        for (op, bin) in augmented {
            if self.eat_op(op) {
                if !assignable {
                    return Err(SyntaxError {
                        offset: self.offset(),
                        reason: "illegal expression for augmented assignment".into(),
                    });
                }
                let value = self.test()?;
                return Ok(Stmt::AugAssign(bin, first, value));
            }
        }
        Ok(Stmt::Expr(first))
    }

    fn if_statement(&mut self, indent: usize) -> Result<Stmt, SyntaxError> {
        let mut branches = Vec::new();
        let mut otherwise = Vec::new();
        // `if`, then any `elif`s at the same indentation.
        self.advance();
        loop {
            let cond = self.test()?;
            self.expect_op(":")?;
            let body = self.suite(indent)?;
            branches.push((cond, body));
            self.skip_newlines();
            if *self.peek() != Tok::End && self.column() == indent && self.eat_name("elif") {
                continue;
            }
            if *self.peek() != Tok::End && self.column() == indent && self.eat_name("else") {
                self.expect_op(":")?;
                otherwise = self.suite(indent)?;
            }
            return Ok(Stmt::If(branches, otherwise));
        }
    }

    /// The body after `:`: on the same line, or an indented block.
    fn suite(&mut self, indent: usize) -> Result<Vec<Stmt>, SyntaxError> {
        if !matches!(self.peek(), Tok::Newline) {
            let mut stmts = Vec::new();
            self.simple_statements(&mut stmts)?;
            return Ok(stmts);
        }
        self.skip_newlines();
        if *self.peek() == Tok::End || self.column() <= indent {
            return Err(self.unexpected("expected an indented block"));
        }
        let body_indent = self.column();
        self.block(body_indent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rule_shapes() {
        for src in [
            "v['value'] >= 0.80275 and v['value'] <= 1.0",
            "('epoch_count' in v['metadata']) | ('samples_count' in v['metadata'])",
            "'first_epoch_num' in v['metadata'] if 'epoch_count' in v['metadata'] else True",
            "v['value'] == 1_200_000 - s['opt_learning_rate_warmup_steps']",
            "abs(v['value'] - 2.4e-05 * (s['global_batch_size'] / 16384) ** 0.5) < 1e-9",
            "s.get('lr_min') is not None and s['lr_min'] * (1 - 1e-9) <= v['value'] <= s['lr_max'] * (1 + 1e-9)",
        ] {
            parse_expression(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        }
        let stmts = parse_statements(
            "s['init_started'] = True; s['first_init_start']=min(s['first_init_start'], ll.timestamp)",
        )
        .unwrap();
        assert_eq!(stmts.len(), 2);
        assert!(matches!(stmts[0], Stmt::Assign(..)));
        let stmts = parse_statements(
            "s['a'] = 1\n# a comment\nif v['x'] == s['n']:\n    s['n'] += s['g']\n    s['m'] = max(\n  1, 2)\nelse:\n    s['k'] = 0\ns['z'] = 2",
        )
        .unwrap();
        assert_eq!(stmts.len(), 3);
        match &stmts[1] {
            Stmt::If(branches, otherwise) => {
                assert_eq!(branches[0].1.len(), 2);
                assert!(matches!(branches[0].1[0], Stmt::AugAssign(BinOp::Add, ..)));
                assert_eq!(otherwise.len(), 1);
            }
            other => panic!("not an if: {other:?}"),
        }
    }

    #[test]
    fn rejects_what_python_rejects() {
        assert!(parse_expression("s['x'] = 1").is_err());
        assert!(parse_expression("v['value'] >=").is_err());
        assert!(parse_expression("'open").is_err());
        assert!(parse_statements("1 +").is_err());
        assert!(
            parse_statements("a = 1\n  b = 2").is_err(),
            "unexpected indent"
        );
        assert!(
            parse_statements("if x:\ny = 1").is_err(),
            "expected an indented block"
        );
    }

    #[test]
    fn power_binds_tighter_than_unary_minus() {
        let e = parse_expression("-2 ** 2").unwrap();
        assert!(matches!(e, Expr::Unary(UnaryOp::Neg, _)));
    }
}

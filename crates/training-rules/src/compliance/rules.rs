//! The official rule files, as data: one YAML per config, a list of `KEY`
//! records (and at most one `BEGIN` and one `END`), every scalar read as a
//! string (the checker loads them with PyYAML's `BaseLoader`). Code fields
//! are parsed once here; code that does not parse stays as its syntax error,
//! which (as in Python) only matters when the rule runs.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use super::expr::{parse_expression, parse_statements, Expr, Stmt, SyntaxError};

include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));

/// A problem in a rule file itself.
#[derive(Debug, thiserror::Error)]
pub enum RuleFileError {
    #[error("rule file {file}: not YAML: {source}")]
    Yaml {
        file: String,
        #[source]
        source: yaml_rust2::ScanError,
    },
    #[error("rule file {file}: {reason}")]
    Shape { file: String, reason: String },
}

/// An expression field (`CHECK`, `ATLEAST_ONE_CHECK`, ...), with its text as
/// written (messages quote it).
#[derive(Debug, Clone)]
pub struct ExprCode {
    pub text: String,
    pub parsed: Result<Expr, SyntaxError>,
}

/// A code field run with `exec` (`PRE`, `POST`, `BEGIN`'s `CODE`).
#[derive(Debug, Clone)]
pub struct StmtCode {
    pub text: String,
    pub parsed: Result<Vec<Stmt>, SyntaxError>,
}

impl ExprCode {
    fn new(text: &str) -> Self {
        Self {
            text: text.to_string(),
            parsed: parse_expression(py_strip(text)),
        }
    }
}

impl StmtCode {
    fn new(text: &str) -> Self {
        Self {
            text: text.to_string(),
            parsed: parse_statements(py_strip(text)),
        }
    }
}

fn py_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// How often a key must occur (`REQ`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    ExactlyOne,
    AtLeastOne,
    AtLeast(usize),
    /// `AT_LEAST_ONE_OR(a, b)`: this key or one of the others.
    AtLeastOneOr(Vec<String>),
    Optional,
    /// A `REQ` the checker does not know: it checks nothing.
    Other(String),
}

/// One `KEY` record.
#[derive(Debug, Clone)]
pub struct KeyRule {
    pub name: String,
    pub req: Option<Requirement>,
    pub pre: Option<StmtCode>,
    pub check: Vec<ExprCode>,
    pub post: Option<StmtCode>,
    pub first_check: Vec<ExprCode>,
    pub atleast_one_check: Option<ExprCode>,
}

/// The `END` record.
#[derive(Debug, Clone, Default)]
pub struct EndBlock {
    pub pre: Option<StmtCode>,
    pub check: Vec<ExprCode>,
}

/// One rule file.
#[derive(Debug, Clone)]
pub struct Config {
    /// As the rules name it, e.g. `training_5.1.0/common.yaml`.
    pub path: String,
    pub begin: Option<StmtCode>,
    /// In file order; a key defined twice keeps its first place and its last
    /// definition (a Python dict update).
    pub keys: Vec<KeyRule>,
    pub end: Option<EndBlock>,
}

impl Config {
    pub fn key(&self, name: &str) -> Option<&KeyRule> {
        self.keys.iter().find(|k| k.name == name)
    }
}

/// A set of rule files by path: the embedded official ones, or any folder
/// of them.
#[derive(Debug, Clone, Default)]
pub struct RuleFiles {
    configs: HashMap<String, Config>,
    /// Every key any rule file names: records of other keys are never
    /// looked at by a rule.
    key_names: std::collections::HashSet<String>,
}

impl RuleFiles {
    /// Every rule file shipped in this crate (all rounds).
    pub fn embedded() -> Result<Self, RuleFileError> {
        Self::from_sources(
            EMBEDDED_RULE_FILES
                .iter()
                .map(|(p, t)| (p.to_string(), t.to_string())),
        )
    }

    /// Rule files from (path, YAML text) pairs.
    pub fn from_sources(
        sources: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, RuleFileError> {
        let mut configs = HashMap::new();
        for (path, text) in sources {
            let config = parse_config(&path, &text)?;
            configs.insert(path, config);
        }
        let key_names = configs
            .values()
            .flat_map(|c| c.keys.iter().map(|k| k.name.clone()))
            .collect();
        Ok(Self { configs, key_names })
    }

    /// Whether any rule file has a `KEY` record for `key`.
    pub fn names_key(&self, key: &str) -> bool {
        self.key_names.contains(key)
    }

    pub fn get(&self, path: &str) -> Option<&Config> {
        self.configs.get(path)
    }

    /// The rulesets there are rules for, e.g. `training_5.1.0`.
    pub fn rulesets(&self) -> Vec<String> {
        let mut sets: Vec<String> = self
            .configs
            .keys()
            .filter_map(|p| p.split_once('/').map(|(dir, _)| dir.to_string()))
            .collect();
        sets.sort();
        sets.dedup();
        sets
    }
}

/// A YAML node with every scalar as its text.
#[derive(Debug, Clone)]
enum Node {
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

#[derive(Default)]
struct TreeBuilder {
    stack: Vec<(Node, Option<String>)>,
    root: Option<Node>,
}

impl TreeBuilder {
    fn push_value(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some((Node::Seq(items), _)) => items.push(node),
            Some((Node::Map(entries), pending_key)) => match pending_key.take() {
                Some(key) => entries.push((key, node)),
                None => {
                    let key = match node {
                        Node::Scalar(s) => s,
                        // Not a rule file shape; keep something readable.
                        other => format!("{other:?}"),
                    };
                    *pending_key = Some(key);
                }
            },
            Some((Node::Scalar(_), _)) => {}
        }
    }
}

impl MarkedEventReceiver for TreeBuilder {
    fn on_event(&mut self, event: Event, _mark: Marker) {
        match event {
            Event::Scalar(text, ..) => self.push_value(Node::Scalar(text)),
            Event::SequenceStart(..) => self.stack.push((Node::Seq(Vec::new()), None)),
            Event::MappingStart(..) => self.stack.push((Node::Map(Vec::new()), None)),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((node, _)) = self.stack.pop() {
                    self.push_value(node);
                }
            }
            _ => {}
        }
    }
}

fn parse_config(path: &str, text: &str) -> Result<Config, RuleFileError> {
    let mut builder = TreeBuilder::default();
    Parser::new_from_str(text)
        .load(&mut builder, false)
        .map_err(|source| RuleFileError::Yaml {
            file: path.to_string(),
            source,
        })?;
    let shape = |reason: String| RuleFileError::Shape {
        file: path.to_string(),
        reason,
    };
    let mut config = Config {
        path: path.to_string(),
        begin: None,
        keys: Vec::new(),
        end: None,
    };
    let records = match builder.root {
        None => return Ok(config),
        Some(Node::Seq(records)) => records,
        Some(_) => return Err(shape("the top level is not a list of records".into())),
    };
    for record in records {
        let Node::Map(entries) = record else {
            return Err(shape("a record is not a mapping".into()));
        };
        // The checker looks at each record's first key only.
        let Some((kind, body)) = entries.into_iter().next() else {
            return Err(shape("an empty record".into()));
        };
        let Node::Map(fields) = body else {
            return Err(shape(format!("the {kind} record is not a mapping")));
        };
        let field = |name: &str| fields.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v);
        let scalar = |name: &str| -> Result<Option<&str>, RuleFileError> {
            match field(name) {
                None => Ok(None),
                Some(Node::Scalar(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(shape(format!("{kind}'s {name} is not a string"))),
            }
        };
        let expr_list = |name: &str| -> Result<Vec<ExprCode>, RuleFileError> {
            match field(name) {
                None => Ok(Vec::new()),
                Some(Node::Scalar(s)) => Ok(vec![ExprCode::new(s)]),
                Some(Node::Seq(items)) => items
                    .iter()
                    .map(|item| match item {
                        Node::Scalar(s) => Ok(ExprCode::new(s)),
                        _ => Err(shape(format!("{kind}'s {name} holds a non-string"))),
                    })
                    .collect(),
                Some(Node::Map(_)) => Err(shape(format!("{kind}'s {name} is a mapping"))),
            }
        };
        match kind.as_str() {
            "BEGIN" => {
                if config.begin.is_some() {
                    return Err(shape("more than one BEGIN record".into()));
                }
                let code = scalar("CODE")?.ok_or_else(|| shape("BEGIN without CODE".into()))?;
                config.begin = Some(StmtCode::new(code));
            }
            "END" => {
                if config.end.is_some() {
                    return Err(shape("more than one END record".into()));
                }
                config.end = Some(EndBlock {
                    pre: scalar("PRE")?.map(StmtCode::new),
                    check: expr_list("CHECK")?,
                });
            }
            "KEY" => {
                let name = scalar("NAME")?
                    .ok_or_else(|| shape("a KEY record without NAME".into()))?
                    .to_string();
                let rule = KeyRule {
                    req: scalar("REQ")?
                        .map(|r| parse_requirement(r).map_err(&shape))
                        .transpose()?,
                    pre: scalar("PRE")?.map(StmtCode::new),
                    check: expr_list("CHECK")?,
                    post: scalar("POST")?.map(StmtCode::new),
                    first_check: expr_list("FIRST_CHECK")?,
                    atleast_one_check: scalar("ATLEAST_ONE_CHECK")?.map(ExprCode::new),
                    name,
                };
                match config.keys.iter_mut().find(|k| k.name == rule.name) {
                    Some(existing) => *existing = rule,
                    None => config.keys.push(rule),
                }
            }
            // Other records are ignored by the checker.
            _ => {}
        }
    }
    Ok(config)
}

fn parse_requirement(text: &str) -> Result<Requirement, String> {
    Ok(match text {
        "EXACTLY_ONE" => Requirement::ExactlyOne,
        "AT_LEAST_ONE" => Requirement::AtLeastOne,
        "OPTIONAL" => Requirement::Optional,
        t if t.starts_with("AT_LEAST_ONE_OR(") => {
            let inner = &t
                ["AT_LEAST_ONE_OR(".len()..t.len().saturating_sub(1).max("AT_LEAST_ONE_OR(".len())];
            Requirement::AtLeastOneOr(inner.split(',').map(|s| s.trim().to_string()).collect())
        }
        t if t.starts_with("AT_LEAST(") => {
            let inner = &t["AT_LEAST(".len()..t.len().saturating_sub(1).max("AT_LEAST(".len())];
            // The official checker raises on a count int() does not take.
            let n = inner
                .trim()
                .parse()
                .map_err(|_| format!("REQ {t}: the count is not an integer"))?;
            Requirement::AtLeast(n)
        }
        other => Requirement::Other(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_rule_parses_as_code() {
        let files = RuleFiles::embedded().expect("embedded rules load");
        assert!(files.rulesets().contains(&"training_5.1.0".to_string()));
        assert!(files.rulesets().contains(&"training_6.0.0".to_string()));
        let mut checked = 0;
        for config in files.configs.values() {
            for key in &config.keys {
                for code in key
                    .check
                    .iter()
                    .chain(&key.first_check)
                    .chain(&key.atleast_one_check)
                {
                    assert!(
                        code.parsed.is_ok(),
                        "{} {}: {:?}",
                        config.path,
                        key.name,
                        code.parsed
                    );
                    checked += 1;
                }
                for code in key.pre.iter().chain(&key.post) {
                    assert!(
                        code.parsed.is_ok(),
                        "{} {}: {:?}",
                        config.path,
                        key.name,
                        code.parsed
                    );
                }
            }
            if let Some(begin) = &config.begin {
                assert!(
                    begin.parsed.is_ok(),
                    "{} BEGIN: {:?}",
                    config.path,
                    begin.parsed
                );
            }
        }
        assert!(checked > 100, "only {checked} checks");
    }

    #[test]
    fn common_rules_read_as_the_checker_reads_them() {
        let files = RuleFiles::embedded().unwrap();
        let common = files.get("training_5.1.0/common.yaml").unwrap();
        assert_eq!(common.keys[0].name, "submission_org");
        assert_eq!(
            common.key("block_start").unwrap().req,
            Some(Requirement::AtLeastOneOr(vec!["epoch_start".into()]))
        );
        let init_stop = common.key("init_stop").unwrap();
        assert_eq!(init_stop.check.len(), 3);
        let run_start = common.key("run_start").unwrap();
        // The text keeps its spaces: messages quote it as written.
        assert_eq!(run_start.check[0].text, " ( s['init_stopped'] == True )");
        let gbs = files
            .get("training_5.1.0/closed_llama31_8b.yaml")
            .unwrap()
            .key("global_batch_size")
            .unwrap();
        assert_eq!(
            gbs.post.as_ref().unwrap().text.trim(),
            "s['global_batch_size'] = v['value']"
        );
    }
}

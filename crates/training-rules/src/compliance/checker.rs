//! The engine: applies rule files to a parsed log exactly as the official
//! compliance checker (mlperf-logging 4.1.68) does.
//!
//! Per config, in the order configs are enqueued (`common.yaml` first, then
//! what its `POST` code enqueues): a fresh state `s`, `BEGIN`, then every
//! log line in order (`PRE`/`CHECK`/`POST` on each line of a key, but on
//! the first line only for `submission_*` keys; `FIRST_CHECK` on the first;
//! `ATLEAST_ONE_CHECK` counted on every line), then the `REQ` counts, the
//! `AT_LEAST_ONE_OR` alternatives and `END`. Messages are kept as the
//! official checker keeps them: warnings by key, messages by key (a later
//! config that redefines a key erases them; a later message for the same key
//! replaces the earlier one in its place), then messages without a key.

use std::cell::RefCell;
use std::rc::Rc;

use super::eval::{LineView, Raised, Scope};
use super::mllog::{LogLine, ParsedLog};
use super::rules::{Config, ExprCode, Requirement, RuleFiles, StmtCode};
use super::value::{json_dumps_pretty, Dict, Value};

/// Whether a message fails the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Logged, but the log still passes (e.g. an `EXACTLY_ONE` key repeated
    /// with identical values).
    Warning,
    Error,
}

/// Which rule a message comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleRef {
    /// The rule file, e.g. `training_5.1.0/common.yaml`.
    pub file: String,
    /// The `KEY` record's `NAME`, or `BEGIN`/`END`.
    pub record: String,
    /// The field: `REQ`, `CHECK`, `ATLEAST_ONE_CHECK`, `FIRST_CHECK`, `PRE`, `POST`.
    pub field: String,
}

/// One message of the check, as the official checker would log it, with
/// where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Message {
    pub severity: Severity,
    /// The official message's text (its first line is the head).
    pub text: String,
    /// The `:::MLLOG` line (index among the `:::MLLOG` lines, from 0) the
    /// message is about, where there is one.
    pub line: Option<usize>,
    /// The log key the message is about, where there is one.
    pub key: Option<String>,
    /// The rule, where one rule produced it.
    pub rule: Option<RuleRef>,
}

impl Message {
    /// The first line of the official text.
    pub fn head(&self) -> &str {
        self.text.lines().next().unwrap_or("")
    }
}

/// Why the official checker would stop without a verdict.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckCrash {
    #[error("no rule file {path} (asked for by {asked_by}); the official checker stops here with FileNotFoundError")]
    MissingConfig { path: String, asked_by: String },
    #[error("{rule} raised {raised} on MLLOG line {line:?}; the official checker does not catch it and stops")]
    Uncaught {
        rule: String,
        line: Option<usize>,
        #[source]
        raised: Raised,
    },
}

/// The outcome of checking one log.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Outcome {
    /// Rule files applied, in order.
    pub configs_checked: Vec<String>,
    /// In the official log's order: warnings, messages by key, other messages.
    pub messages: Vec<Message>,
}

impl Outcome {
    /// `true` when the official checker would say SUCCESS.
    pub fn passed(&self) -> bool {
        !self.messages.iter().any(|m| m.severity == Severity::Error)
    }
}

#[derive(Default)]
struct Messages {
    warnings: Vec<(String, Message)>,
    by_key: Vec<(String, Message)>,
    other: Vec<Message>,
}

impl Messages {
    fn put_keyed(&mut self, key: &str, message: Message) {
        match self.by_key.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = message,
            None => self.by_key.push((key.to_string(), message)),
        }
    }

    fn put_warning(&mut self, key: &str, message: Message) {
        match self.warnings.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = message,
            None => self.warnings.push((key.to_string(), message)),
        }
    }

    fn put(&mut self, key: Option<&str>, message: Message) {
        match key {
            Some(k) => self.put_keyed(k, message),
            None => self.other.push(message),
        }
    }

    fn into_list(self) -> Vec<Message> {
        self.warnings
            .into_iter()
            .map(|(_, m)| m)
            .chain(self.by_key.into_iter().map(|(_, m)| m))
            .chain(self.other)
            .collect()
    }
}

/// Checks a parsed log against `rules`, starting from `first_config` (e.g.
/// `training_5.1.0/common.yaml`).
pub fn check(
    rules: &RuleFiles,
    first_config: &str,
    log: &ParsedLog,
) -> Result<Outcome, CheckCrash> {
    let mut messages = Messages::default();
    if !log.errors.is_empty() {
        messages.other.push(Message {
            severity: Severity::Error,
            text: "Log lines had parsing errors.".into(),
            line: log.errors.first().map(|e| e.lineno),
            key: None,
            rule: None,
        });
    }
    if log.record_count == 0 {
        messages.other.push(Message {
            severity: Severity::Error,
            text: "No log lines detected".into(),
            line: None,
            key: None,
            rule: None,
        });
    }
    let mut queue =
        std::collections::VecDeque::from([(first_config.to_string(), String::from("the ruleset"))]);
    let mut configs_checked = Vec::new();
    while let Some((path, asked_by)) = queue.pop_front() {
        configs_checked.push(path.clone());
        let Some(config) = rules.get(&path) else {
            return Err(CheckCrash::MissingConfig { path, asked_by });
        };
        let mut enqueued = Vec::new();
        run_config(config, &log.lines, &mut messages, &mut enqueued)?;
        queue.extend(enqueued.into_iter().map(|p| (p, config.path.clone())));
    }
    Ok(Outcome {
        configs_checked,
        messages: messages.into_list(),
    })
}

fn rule_ref(config: &Config, record: &str, field: &str) -> RuleRef {
    RuleRef {
        file: config.path.clone(),
        record: record.to_string(),
        field: field.to_string(),
    }
}

fn state_json(state: &Rc<RefCell<Dict>>) -> String {
    json_dumps_pretty(&Value::Dict(Rc::clone(state)))
}

fn eval_code(code: &ExprCode, scope: &mut Scope) -> Result<Value, Raised> {
    match &code.parsed {
        Ok(expr) => scope.eval(expr),
        Err(e) => Err(Raised {
            kind: "SyntaxError",
            message: e.to_string(),
        }),
    }
}

fn exec_code(code: &StmtCode, scope: &mut Scope) -> Result<(), Raised> {
    match &code.parsed {
        Ok(stmts) => scope.exec(stmts),
        Err(e) => Err(Raised {
            kind: "SyntaxError",
            message: e.to_string(),
        }),
    }
}

fn run_config(
    config: &Config,
    lines: &[LogLine],
    messages: &mut Messages,
    enqueued: &mut Vec<String>,
) -> Result<(), CheckCrash> {
    let state = Rc::new(RefCell::new(Dict::new()));
    if let Some(begin) = &config.begin {
        let mut scope = Scope {
            state: &state,
            line: None,
            locals: Dict::new(),
            enqueued,
        };
        exec_code(begin, &mut scope).map_err(|raised| CheckCrash::Uncaught {
            rule: format!("{} BEGIN", config.path),
            line: None,
            raised,
        })?;
    }

    // A config that defines a key takes over its earlier messages.
    messages.by_key.retain(|(k, _)| config.key(k).is_none());

    let mut reported: Vec<Vec<Value>> = vec![Vec::new(); config.keys.len()];
    let mut first_seen = vec![false; config.keys.len()];
    let mut submission_done = vec![false; config.keys.len()];
    // (key index, passing lines), in order of the key's first line.
    let mut at_least_one: Vec<(usize, usize)> = Vec::new();

    for line in lines {
        let Some(key) = line.key.as_deref() else {
            continue;
        };
        let Some(index) = config.keys.iter().position(|k| k.name == key) else {
            continue;
        };
        let rule = &config.keys[index];
        reported[index].push(line.record_value());
        let view = LineView {
            full_string: &line.full_string,
            timestamp: line.timestamp,
            key,
            lineno: line.lineno,
            value: &line.value,
        };
        let mut scope = Scope {
            state: &state,
            line: Some(&view),
            locals: Dict::new(),
            enqueued,
        };
        if !submission_done[index] {
            if let Some(pre) = &rule.pre {
                run_exec(config, &rule.name, "PRE", pre, &mut scope, line, messages);
            }
            for test in &rule.check {
                run_check(
                    config, &rule.name, "CHECK", test, &mut scope, line, &state, messages,
                );
            }
            if let Some(post) = &rule.post {
                run_exec(config, &rule.name, "POST", post, &mut scope, line, messages);
            }
        }
        if !rule.first_check.is_empty() && !first_seen[index] {
            first_seen[index] = true;
            for test in &rule.first_check {
                run_check(
                    config,
                    &rule.name,
                    "FIRST_CHECK",
                    test,
                    &mut scope,
                    line,
                    &state,
                    messages,
                );
            }
        }
        if let Some(test) = &rule.atleast_one_check {
            let slot = match at_least_one.iter().position(|(i, _)| *i == index) {
                Some(slot) => slot,
                None => {
                    at_least_one.push((index, 0));
                    at_least_one.len() - 1
                }
            };
            // Not caught by the official checker.
            let ok = eval_code(test, &mut scope).map_err(|raised| CheckCrash::Uncaught {
                rule: format!("{} {} ATLEAST_ONE_CHECK", config.path, rule.name),
                line: Some(line.lineno),
                raised,
            })?;
            if ok.truthy() {
                at_least_one[slot].1 += 1;
            }
        }
        if key.contains("submission_") {
            submission_done[index] = true;
        }
    }

    for (index, passing) in &at_least_one {
        if *passing == 0 {
            let rule = &config.keys[*index];
            let text = rule
                .atleast_one_check
                .as_ref()
                .map(|c| c.text.as_str())
                .unwrap_or("");
            messages.other.push(Message {
                severity: Severity::Error,
                text: format!("Failed checks for {} : {}", rule.name, text),
                line: None,
                key: Some(rule.name.clone()),
                rule: Some(rule_ref(config, &rule.name, "ATLEAST_ONE_CHECK")),
            });
        }
    }

    let mut alternatives: Vec<Vec<String>> = Vec::new();
    for (index, rule) in config.keys.iter().enumerate() {
        let Some(req) = &rule.req else {
            continue;
        };
        let values = &reported[index];
        let found = values.len();
        let message = |severity, text: String| Message {
            severity,
            text,
            line: None,
            key: Some(rule.name.clone()),
            rule: Some(rule_ref(config, &rule.name, "REQ")),
        };
        match req {
            Requirement::ExactlyOne if found != 1 => {
                let head = format!(
                    "Required EXACTLY_ONE occurrence of '{}' but found {found}",
                    rule.name
                );
                if !values.is_empty() && values.iter().all(|v| super::value::py_eq(v, &values[0])) {
                    messages.put_warning(&rule.name, message(Severity::Warning, head));
                } else {
                    let text = if values.is_empty() {
                        head
                    } else {
                        // Python prints `set(str(v) for v in values)`: its order.
                        let texts: Vec<String> = values.iter().map(Value::py_str).collect();
                        let distinct = super::pyset::str_set_order(&texts);
                        format!("{head} with different values: [{}]", distinct.join(", "))
                    };
                    messages.put_keyed(&rule.name, message(Severity::Error, text));
                }
            }
            Requirement::AtLeastOne if found < 1 => {
                messages.put_keyed(
                    &rule.name,
                    message(
                        Severity::Error,
                        format!(
                            "Required AT_LEAST_ONE occurrence of '{}' but found {found}",
                            rule.name
                        ),
                    ),
                );
            }
            Requirement::AtLeast(n) if found < *n => {
                messages.put_keyed(
                    &rule.name,
                    message(
                        Severity::Error,
                        format!(
                            "Required AT_LEAST({n}) occurrence of '{}' but found {found}",
                            rule.name
                        ),
                    ),
                );
            }
            Requirement::AtLeastOneOr(others) => {
                // `tuple({k, *alternatives})`, in the set's order.
                let mut members = vec![rule.name.clone()];
                members.extend(others.iter().cloned());
                alternatives.push(super::pyset::str_set_order(&members));
            }
            _ => {}
        }
    }
    for group in python_alternatives_order(alternatives) {
        let mut any = false;
        for name in &group {
            let Some(index) = config.keys.iter().position(|k| &k.name == name) else {
                return Err(CheckCrash::Uncaught {
                    rule: format!("{} REQ AT_LEAST_ONE_OR", config.path),
                    line: None,
                    raised: Raised {
                        kind: "KeyError",
                        message: format!("'{name}' (an alternative that is no KEY of this file)"),
                    },
                });
            };
            any |= !reported[index].is_empty();
        }
        if !any {
            let names: Vec<String> = group.iter().map(|n| format!("'{n}'")).collect();
            messages.other.push(Message {
                severity: Severity::Error,
                text: format!("Required AT_LEAST_ONE occurrence of {}", names.join(" or ")),
                line: None,
                key: Some(group[0].clone()),
                rule: Some(rule_ref(config, &group[0], "REQ")),
            });
        }
    }

    if let Some(end) = &config.end {
        let mut scope = Scope {
            state: &state,
            line: None,
            locals: Dict::new(),
            enqueued,
        };
        if let Some(pre) = &end.pre {
            exec_code(pre, &mut scope).map_err(|raised| CheckCrash::Uncaught {
                rule: format!("{} END PRE", config.path),
                line: None,
                raised,
            })?;
        }
        for test in &end.check {
            let text = match eval_code(test, &mut scope) {
                Ok(v) if v.truthy() => continue,
                Ok(_) => format!(
                    "failed test: {}\ncurrent context[s]={}",
                    test.text,
                    state_json(&state)
                ),
                Err(_) => format!(
                    "Failed executing CHECK code:\n{}\ncurrent context[s]={}",
                    test.text,
                    state_json(&state)
                ),
            };
            messages.other.push(Message {
                severity: Severity::Error,
                text,
                line: None,
                key: None,
                rule: Some(rule_ref(config, "END", "CHECK")),
            });
        }
    }
    Ok(())
}

/// The checker keeps the alternatives in a set of tuples: equal tuples
/// once, in the set's iteration order.
fn python_alternatives_order(groups: Vec<Vec<String>>) -> Vec<Vec<String>> {
    let hashes: Vec<i64> = groups
        .iter()
        .map(|g| {
            let members: Vec<i64> = g.iter().map(|m| super::pyset::str_hash(m)).collect();
            super::pyset::tuple_hash(&members)
        })
        .collect();
    super::pyset::iteration_order(&hashes, |a, b| groups[a] == groups[b])
        .into_iter()
        .map(|i| groups[i].clone())
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn run_check(
    config: &Config,
    record: &str,
    field: &str,
    test: &ExprCode,
    scope: &mut Scope,
    line: &LogLine,
    state: &Rc<RefCell<Dict>>,
    messages: &mut Messages,
) {
    let text = match eval_code(test, scope) {
        Ok(v) if v.truthy() => return,
        Ok(_) => format!(
            "CHECK for '{}' failed in line {}:\n{}\nfailed test: {}\ncurrent context[s]={}\ncurrent line[v]={}",
            record,
            line.lineno,
            line.full_string,
            test.text,
            state_json(state),
            json_dumps_pretty(&line.value)
        ),
        Err(_) => format!(
            "Failed executing CHECK code:\n{}\ntriggered by line:\n{}\ncurrent context[s]={}",
            test.text,
            line.full_string,
            state_json(state)
        ),
    };
    messages.put(
        Some(record),
        Message {
            severity: Severity::Error,
            text,
            line: Some(line.lineno),
            key: Some(record.to_string()),
            rule: Some(rule_ref(config, record, field)),
        },
    );
}

fn run_exec(
    config: &Config,
    record: &str,
    field: &str,
    code: &StmtCode,
    scope: &mut Scope,
    line: &LogLine,
    messages: &mut Messages,
) {
    if exec_code(code, scope).is_ok() {
        return;
    }
    messages.put(
        Some(record),
        Message {
            severity: Severity::Error,
            text: format!(
                "Failed executing code {field} code triggered by line :\n{}",
                line.full_string
            ),
            line: Some(line.lineno),
            key: Some(record.to_string()),
            rule: Some(rule_ref(config, record, field)),
        },
    );
}

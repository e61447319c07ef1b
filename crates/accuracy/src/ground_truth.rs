//! Ground-truth files. Sample `i` of the dataset (LoadGen's `qsl_idx`) is
//! entry `i` of the file.
//!
//! | scorer | formats |
//! | --- | --- |
//! | top-1 | text: one integer label per line, or ImageNet's `val_map.txt` (`name label`: the last column is the label); JSON: an array of integers or `{"labels": [...]}` |
//! | text (ROUGE, WER, exact match) | `.jsonl`: per line a JSON string or an object with one of the fields `reference`, `target`, `output`, `gt_output`, `answer`, `transcript`, `text`; `.json`: an array of the same; otherwise text, one reference per line |
//! | SQuAD | the official `dev-v1.1.json` (questions in article, paragraph, question order); or `.jsonl` with `{"id": ..., "answers": ["...", ...]}` per line (answers may also be `{"text": ...}` objects) |
//!
//! Line numbers in errors are 1-based.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::error::{AccuracyError, Result};

/// Field names tried, in order, for a text reference in a JSON object.
pub const TEXT_FIELDS: [&str; 7] = [
    "reference",
    "target",
    "output",
    "gt_output",
    "answer",
    "transcript",
    "text",
];

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| AccuracyError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn bad(path: &Path, line: Option<usize>, reason: impl Into<String>) -> AccuracyError {
    AccuracyError::GroundTruth {
        path: path.to_path_buf(),
        line,
        reason: reason.into(),
    }
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Lines of a text file, without a final empty line.
fn lines(text: &str) -> Vec<&str> {
    let mut v: Vec<&str> = text.lines().collect();
    while v.last() == Some(&"") {
        v.pop();
    }
    v
}

/// Integer class labels.
#[derive(Debug, Clone)]
pub struct Labels {
    pub path: PathBuf,
    pub labels: Vec<i128>,
}

/// Reads a labels file (see the module docs for formats).
pub fn read_labels(path: impl AsRef<Path>) -> Result<Labels> {
    let path = path.as_ref();
    let text = read(path)?;
    let labels = if extension(path) == "json" {
        let v: Json = serde_json::from_str(&text).map_err(|e| bad(path, None, e.to_string()))?;
        let arr = match &v {
            Json::Array(a) => a,
            Json::Object(o) => match o.get("labels") {
                Some(Json::Array(a)) => a,
                _ => return Err(bad(path, None, "expected an array or {\"labels\": [...]}")),
            },
            _ => return Err(bad(path, None, "expected an array or {\"labels\": [...]}")),
        };
        arr.iter()
            .enumerate()
            .map(|(i, x)| {
                x.as_i64()
                    .map(i128::from)
                    .ok_or_else(|| bad(path, None, format!("entry {i} is not an integer: {x}")))
            })
            .collect::<Result<_>>()?
    } else {
        lines(&text)
            .into_iter()
            .enumerate()
            .map(|(i, l)| {
                let last = l
                    .split_whitespace()
                    .last()
                    .ok_or_else(|| bad(path, Some(i + 1), "empty line; one label per line"))?;
                last.parse::<i128>().map_err(|_| {
                    bad(
                        path,
                        Some(i + 1),
                        format!("'{last}' is not an integer label"),
                    )
                })
            })
            .collect::<Result<_>>()?
    };
    Ok(Labels {
        path: path.to_path_buf(),
        labels,
    })
}

/// Text references (summaries, transcripts, answers).
#[derive(Debug, Clone)]
pub struct TextReferences {
    pub path: PathBuf,
    pub items: Vec<String>,
}

fn text_of(path: &Path, line: Option<usize>, v: &Json) -> Result<String> {
    match v {
        Json::String(s) => Ok(s.clone()),
        // GSM8K answers are often numbers.
        Json::Number(n) => Ok(n.to_string()),
        Json::Object(o) => TEXT_FIELDS
            .iter()
            .find_map(|k| o.get(*k))
            .map(|x| text_of(path, line, x))
            .unwrap_or_else(|| {
                Err(bad(
                    path,
                    line,
                    format!("object has none of the fields {}", TEXT_FIELDS.join(", ")),
                ))
            }),
        other => Err(bad(
            path,
            line,
            format!("expected a string or an object, found {other}"),
        )),
    }
}

/// Reads text references (see the module docs for formats).
pub fn read_text_references(path: impl AsRef<Path>) -> Result<TextReferences> {
    let path = path.as_ref();
    let text = read(path)?;
    let items = match extension(path).as_str() {
        "jsonl" => lines(&text)
            .into_iter()
            .enumerate()
            .map(|(i, l)| {
                let v: Json =
                    serde_json::from_str(l).map_err(|e| bad(path, Some(i + 1), e.to_string()))?;
                text_of(path, Some(i + 1), &v)
            })
            .collect::<Result<_>>()?,
        "json" => {
            let v: Json =
                serde_json::from_str(&text).map_err(|e| bad(path, None, e.to_string()))?;
            let Json::Array(a) = v else {
                return Err(bad(path, None, "expected a JSON array"));
            };
            a.iter()
                .map(|x| text_of(path, None, x))
                .collect::<Result<_>>()?
        }
        _ => lines(&text).into_iter().map(str::to_string).collect(),
    };
    Ok(TextReferences {
        path: path.to_path_buf(),
        items,
    })
}

/// One SQuAD question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SquadQuestion {
    pub id: String,
    pub answers: Vec<String>,
}

/// SQuAD questions in dataset order.
#[derive(Debug, Clone)]
pub struct SquadReferences {
    pub path: PathBuf,
    pub questions: Vec<SquadQuestion>,
}

fn answers_of(path: &Path, line: Option<usize>, v: Option<&Json>) -> Result<Vec<String>> {
    let Some(Json::Array(a)) = v else {
        return Err(bad(path, line, "\"answers\" must be an array"));
    };
    let answers: Vec<String> = a
        .iter()
        .map(|x| match x {
            Json::String(s) => Ok(s.clone()),
            Json::Object(o) => match o.get("text") {
                Some(Json::String(s)) => Ok(s.clone()),
                _ => Err(bad(path, line, "an answer object needs a \"text\" string")),
            },
            _ => Err(bad(
                path,
                line,
                "answers are strings or {\"text\": ...} objects",
            )),
        })
        .collect::<Result<_>>()?;
    if answers.is_empty() {
        // evaluate-v1.1.py takes max() over the answers and fails on none.
        return Err(bad(path, line, "a question has no answers"));
    }
    Ok(answers)
}

fn id_of(path: &Path, line: Option<usize>, v: Option<&Json>) -> Result<String> {
    match v {
        Some(Json::String(s)) => Ok(s.clone()),
        Some(Json::Number(n)) => Ok(n.to_string()),
        _ => Err(bad(path, line, "a question needs an \"id\"")),
    }
}

/// Reads SQuAD v1.1 ground truth (see the module docs for formats).
pub fn read_squad(path: impl AsRef<Path>) -> Result<SquadReferences> {
    let path = path.as_ref();
    let text = read(path)?;
    let mut questions = Vec::new();
    if extension(path) == "jsonl" {
        for (i, l) in lines(&text).into_iter().enumerate() {
            let line = Some(i + 1);
            let v: Json = serde_json::from_str(l).map_err(|e| bad(path, line, e.to_string()))?;
            questions.push(SquadQuestion {
                id: id_of(path, line, v.get("id"))?,
                answers: answers_of(path, line, v.get("answers"))?,
            });
        }
    } else {
        let v: Json = serde_json::from_str(&text).map_err(|e| bad(path, None, e.to_string()))?;
        let Some(Json::Array(articles)) = v.get("data") else {
            return Err(bad(path, None, "expected SQuAD's {\"data\": [articles]}"));
        };
        for article in articles {
            let Some(Json::Array(paragraphs)) = article.get("paragraphs") else {
                return Err(bad(path, None, "an article has no \"paragraphs\" array"));
            };
            for p in paragraphs {
                let Some(Json::Array(qas)) = p.get("qas") else {
                    return Err(bad(path, None, "a paragraph has no \"qas\" array"));
                };
                for qa in qas {
                    questions.push(SquadQuestion {
                        id: id_of(path, None, qa.get("id"))?,
                        answers: answers_of(path, None, qa.get("answers"))?,
                    });
                }
            }
        }
    }
    Ok(SquadReferences {
        path: path.to_path_buf(),
        questions,
    })
}

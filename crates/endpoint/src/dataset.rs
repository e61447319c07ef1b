//! Prompts to send: MLPerf Endpoints JSONL, ShareGPT-style JSON, and
//! synthetic prompts of chosen input/output token lengths.

use std::path::Path;

use serde_json::Value;
use yardstick_core::rng::{uniform_int, Mt19937};

use crate::error::EndpointError;
use crate::tokenize::TokenCounter;

/// One prompt of a dataset.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Prompt {
    /// The user prompt (empty when `messages` holds the conversation).
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// A whole conversation, passed to chat APIs verbatim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<Value>>,
    /// Every turn of a ShareGPT conversation (`text` is the first user
    /// turn): multi-turn sessions send them one after another.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation: Option<Conversation>,
    /// The prompt is this turn (1-based) of a multi-turn session: later
    /// turns carry a history, so their input length is the server's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turn: Option<u32>,
    /// The prompt's own output length limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// The reference answer, for accuracy scoring.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// A verbatim JSON request body (plain JSON / KServe targets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_body: Option<Value>,
    /// Input length in tokens, when the dataset or generator knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u32>,
    /// Which shared prefix the prompt starts with (shared-prefix workloads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix_id: Option<u32>,
    /// `min_tokens` to send with this prompt (its drawn output length, when
    /// exact output lengths are asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_tokens: Option<u32>,
    /// The request class the prompt belongs to (`--model-mix`,
    /// `--class-field`): metrics are also reported per class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// The served model (or LoRA adapter) this prompt is sent to, instead
    /// of the run's `--served-model`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// One turn of a dataset conversation: the user's text and the answer the
/// dataset holds for it (a reference, never sent).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ConversationTurn {
    pub user: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// A whole dataset conversation: its system prompt and its turns.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Conversation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    pub turns: Vec<ConversationTurn>,
}

/// A ShareGPT conversation (`from`/`value` or `role`/`content` entries):
/// each human/user entry starts a turn, the first answer after it is its
/// reference, a system entry before the first turn is the system prompt;
/// other entries are left out.
pub fn sharegpt_conversation(conv: &[Value]) -> Conversation {
    let mut system: Option<String> = None;
    let mut turns: Vec<ConversationTurn> = Vec::new();
    for t in conv {
        let Some(from) = t
            .get("from")
            .or_else(|| t.get("role"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let Some(text) = t
            .get("value")
            .or_else(|| t.get("content"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        match from {
            "human" | "user" => turns.push(ConversationTurn {
                user: text.to_string(),
                reference: None,
            }),
            "gpt" | "assistant" | "chatgpt" | "bard" => {
                if let Some(last) = turns.last_mut() {
                    last.reference.get_or_insert_with(|| text.to_string());
                }
            }
            "system" if turns.is_empty() => {
                system.get_or_insert_with(|| text.to_string());
            }
            _ => {}
        }
    }
    Conversation { system, turns }
}

/// Dataset file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetFormat {
    /// One JSON object per line (MLPerf Endpoints).
    Jsonl,
    /// A JSON array of `{"conversations": [{"from": "human", "value": ...}, ...]}`.
    ShareGpt,
}

/// Field names read from JSONL records, in order of preference.
pub(crate) const PROMPT_FIELDS: [&str; 6] =
    ["prompt", "text_input", "input", "question", "text", "query"];
pub(crate) const MAX_TOKEN_FIELDS: [&str; 5] = [
    "max_tokens",
    "max_new_tokens",
    "max_output_tokens",
    "output_len",
    "max_completion_tokens",
];
pub(crate) const REFERENCE_FIELDS: [&str; 4] = ["ref_output", "reference", "output", "answer"];

/// A set of prompts.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub name: String,
    pub prompts: Vec<Prompt>,
}

fn as_u32(v: Option<&Value>) -> Option<u32> {
    v.and_then(Value::as_u64)
        .map(|n| n.min(u32::MAX as u64) as u32)
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.prompts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.prompts.is_empty()
    }

    /// Loads a dataset file; the format is guessed from its first byte when
    /// `format` is `None` (`[` is ShareGPT, `{` is JSONL).
    pub fn load(
        path: &Path,
        format: Option<DatasetFormat>,
        prompt_field: Option<&str>,
    ) -> Result<Dataset, EndpointError> {
        let text = std::fs::read_to_string(path).map_err(|source| EndpointError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let format = format.unwrap_or_else(|| {
            if text.trim_start().starts_with('[') {
                DatasetFormat::ShareGpt
            } else {
                DatasetFormat::Jsonl
            }
        });
        let prompts = match format {
            DatasetFormat::Jsonl => parse_jsonl(path, &text, prompt_field)?,
            DatasetFormat::ShareGpt => parse_sharegpt(path, &text)?,
        };
        if prompts.is_empty() {
            return Err(EndpointError::Dataset {
                path: path.to_path_buf(),
                line: 0,
                reason: "no prompts".into(),
            });
        }
        Ok(Dataset {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            prompts,
        })
    }

    /// Synthetic prompts of exactly `input_tokens` tokens (with a tokenizer:
    /// random non-special token ids among those that decode to clean text,
    /// decoded and re-encoded until the length holds; without one: words of
    /// a fixed vocabulary, one token each for a whitespace tokenizer), each
    /// asking for `output_tokens`. Deterministic in `seed`. The text never
    /// holds U+FFFD or control characters.
    pub fn synthetic(
        count: usize,
        input_tokens: u32,
        output_tokens: u32,
        tokenizer: Option<&TokenCounter>,
        seed: u64,
    ) -> Result<Dataset, EndpointError> {
        if count == 0 {
            return Err(EndpointError::Config(
                "synthetic dataset of 0 prompts".into(),
            ));
        }
        let mut rng = Mt19937::new(seed);
        let mut prompts = Vec::with_capacity(count);
        for i in 0..count {
            let text = match tokenizer {
                Some(t) => synthetic_with_tokenizer(t, input_tokens, &mut rng)?,
                None => {
                    let mut s = String::with_capacity(input_tokens as usize * 6);
                    for k in 0..input_tokens {
                        if k > 0 {
                            s.push(' ');
                        }
                        let w = WORDS[uniform_int(&mut rng, WORDS.len() as u64 - 1) as usize];
                        s.push_str(w);
                    }
                    if s.is_empty() {
                        s = format!("prompt {i}");
                    }
                    s
                }
            };
            prompts.push(Prompt {
                text,
                max_tokens: Some(output_tokens),
                input_tokens: Some(input_tokens),
                ..Prompt::default()
            });
        }
        Ok(Dataset {
            name: format!("synthetic-isl{input_tokens}-osl{output_tokens}"),
            prompts,
        })
    }

    /// One synthetic prompt per `(input tokens, output tokens)` pair, in
    /// order (a replayed trace's requests, [`crate::arrivals`]): the same
    /// text as [`Dataset::synthetic`] at each request's own lengths.
    pub fn synthetic_with_lengths(
        name: &str,
        lengths: &[(u32, u32)],
        tokenizer: Option<&TokenCounter>,
        seed: u64,
    ) -> Result<Dataset, EndpointError> {
        if lengths.is_empty() {
            return Err(EndpointError::Config(
                "synthetic dataset of 0 prompts".into(),
            ));
        }
        let mut rng = Mt19937::new(seed);
        let mut prompts = Vec::with_capacity(lengths.len());
        for (i, &(input_tokens, output_tokens)) in lengths.iter().enumerate() {
            let text = match tokenizer {
                Some(t) if input_tokens > 0 => synthetic_with_tokenizer(t, input_tokens, &mut rng)?,
                _ => {
                    let words: Vec<&str> = (0..input_tokens)
                        .map(|_| WORDS[uniform_int(&mut rng, WORDS.len() as u64 - 1) as usize])
                        .collect();
                    if words.is_empty() {
                        format!("prompt {i}")
                    } else {
                        words.join(" ")
                    }
                }
            };
            prompts.push(Prompt {
                text,
                max_tokens: Some(output_tokens),
                input_tokens: Some(input_tokens),
                ..Prompt::default()
            });
        }
        Ok(Dataset {
            name: name.to_string(),
            prompts,
        })
    }
}

const WORDS: [&str; 32] = [
    "the",
    "model",
    "serves",
    "tokens",
    "over",
    "http",
    "while",
    "clients",
    "measure",
    "latency",
    "and",
    "throughput",
    "across",
    "many",
    "concurrent",
    "streams",
    "with",
    "fair",
    "fast",
    "reproducible",
    "benchmarks",
    "for",
    "systems",
    "that",
    "learn",
    "from",
    "data",
    "every",
    "request",
    "counts",
    "once",
    "again",
];

/// Text a prompt may carry: no U+FFFD (a token that is part of a UTF-8
/// sequence, decoded alone) and no control characters.
pub fn is_clean_text(s: &str) -> bool {
    !s.chars()
        .any(|c| c == char::REPLACEMENT_CHARACTER || c.is_control())
}

/// Drops what [`is_clean_text`] refuses (replacing it by a space so words
/// do not merge), as a last resort after re-encoding.
fn clean_text(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == char::REPLACEMENT_CHARACTER || c.is_control() {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// Synthetic text of `n` tokens: exact with a tokenizer (clean text, see
/// [`Dataset::synthetic`]), else `n` words of a fixed vocabulary.
pub(crate) fn synthetic_text(
    tokenizer: Option<&TokenCounter>,
    n: u32,
    rng: &mut Mt19937,
) -> Result<String, EndpointError> {
    match tokenizer {
        Some(t) => synthetic_with_tokenizer(t, n, rng),
        None => {
            let words: Vec<&str> = (0..n)
                .map(|_| WORDS[uniform_int(rng, WORDS.len() as u64 - 1) as usize])
                .collect();
            Ok(words.join(" "))
        }
    }
}

fn synthetic_with_tokenizer(
    t: &TokenCounter,
    n: u32,
    rng: &mut Mt19937,
) -> Result<String, EndpointError> {
    let vocab = t.vocab_size() as u64;
    if vocab < 2 {
        return Err(EndpointError::Config(
            "the tokenizer has no vocabulary".into(),
        ));
    }
    // Ids are drawn only from tokens that decode, alone, to clean text:
    // byte-level vocabularies hold pieces of UTF-8 sequences (decoded
    // alone: U+FFFD) and control characters. Each id is judged once.
    let mut judged: std::collections::HashMap<u32, bool> = std::collections::HashMap::new();
    let mut draw = |rng: &mut Mt19937| -> Result<u32, EndpointError> {
        for _ in 0..10_000 {
            let id = uniform_int(rng, vocab - 1) as u32;
            let clean = *judged.entry(id).or_insert_with(|| {
                !t.is_special(id)
                    && t.decode(&[id])
                        .is_some_and(|s| !s.trim().is_empty() && is_clean_text(&s))
            });
            if clean {
                return Ok(id);
            }
        }
        Err(EndpointError::Config(
            "the tokenizer's vocabulary has (almost) no token that decodes to clean text".into(),
        ))
    };
    let mut ids: Vec<u32> = Vec::with_capacity(n as usize);
    for _ in 0..n {
        ids.push(draw(rng)?);
    }
    // Decoding and re-encoding merges or splits tokens; adjust a few times.
    for _ in 0..8 {
        let text = clean_text(&t.decode(&ids).unwrap_or_default());
        let re = t.encode(&text).unwrap_or_default();
        match re.len().cmp(&(n as usize)) {
            std::cmp::Ordering::Equal => return Ok(text),
            std::cmp::Ordering::Greater => {
                ids = re;
                ids.truncate(n as usize);
            }
            std::cmp::Ordering::Less => {
                ids = re;
                while ids.len() < n as usize {
                    ids.push(draw(rng)?);
                }
            }
        }
    }
    // A truncation may have cut a character in two: clean the result.
    Ok(clean_text(&t.decode(&ids).unwrap_or_default()))
}

fn parse_jsonl(
    path: &Path,
    text: &str,
    prompt_field: Option<&str>,
) -> Result<Vec<Prompt>, EndpointError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let err = |reason: String| EndpointError::Dataset {
            path: path.to_path_buf(),
            line: i + 1,
            reason,
        };
        let v: Value = serde_json::from_str(line).map_err(|e| err(e.to_string()))?;
        let obj = v
            .as_object()
            .ok_or_else(|| err("expected a JSON object".into()))?;
        let mut p = Prompt {
            max_tokens: MAX_TOKEN_FIELDS.iter().find_map(|f| as_u32(obj.get(*f))),
            reference: REFERENCE_FIELDS
                .iter()
                .find_map(|f| obj.get(*f).and_then(Value::as_str).map(str::to_string)),
            system: obj
                .get("system")
                .and_then(Value::as_str)
                .map(str::to_string),
            input_tokens: as_u32(obj.get("tok_input_len"))
                .or_else(|| as_u32(obj.get("input_tokens"))),
            ..Prompt::default()
        };
        if let Some(Value::Array(m)) = obj.get("messages") {
            p.messages = Some(m.clone());
        } else if let Some(body) = obj.get("body").or_else(|| obj.get("inputs").map(|_| &v)) {
            p.raw_body = Some(body.clone());
        }
        let field_text = match prompt_field {
            Some(f) => obj.get(f).and_then(Value::as_str),
            None => PROMPT_FIELDS
                .iter()
                .find_map(|f| obj.get(*f).and_then(Value::as_str)),
        };
        match field_text {
            Some(t) => p.text = t.to_string(),
            None if p.messages.is_some() || p.raw_body.is_some() => {}
            None => {
                return Err(err(match prompt_field {
                    Some(f) => format!("no string field `{f}`"),
                    None => format!(
                        "no prompt: expected one of {PROMPT_FIELDS:?}, `messages` or `body`"
                    ),
                }))
            }
        }
        out.push(p);
    }
    Ok(out)
}

fn parse_sharegpt(path: &Path, text: &str) -> Result<Vec<Prompt>, EndpointError> {
    let err = |line: usize, reason: String| EndpointError::Dataset {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let v: Value = serde_json::from_str(text).map_err(|e| err(e.line(), e.to_string()))?;
    let items = v
        .as_array()
        .ok_or_else(|| err(1, "expected a JSON array".into()))?;
    let mut out = Vec::new();
    for item in items {
        let Some(conv) = item
            .get("conversations")
            .or_else(|| item.get("conversation"))
            .and_then(Value::as_array)
        else {
            continue;
        };
        let turn = |want: &[&str]| {
            conv.iter().find_map(|t| {
                let from = t.get("from").or_else(|| t.get("role"))?.as_str()?;
                if want.contains(&from) {
                    t.get("value").or_else(|| t.get("content"))?.as_str()
                } else {
                    None
                }
            })
        };
        // The first human turn is the prompt; the first answer is the
        // reference (and, as in vLLM's benchmark, sets the output length
        // when a tokenizer counts it later).
        let Some(prompt) = turn(&["human", "user"]) else {
            continue;
        };
        let turns = sharegpt_conversation(conv);
        out.push(Prompt {
            text: prompt.to_string(),
            reference: turn(&["gpt", "assistant", "chatgpt", "bard"]).map(str::to_string),
            conversation: (!turns.turns.is_empty()).then_some(turns),
            ..Prompt::default()
        });
    }
    Ok(out)
}

impl Dataset {
    /// Sets each prompt's output length to its reference answer's token
    /// count (ShareGPT practice), where it has a reference and no length.
    pub fn lengths_from_references(&mut self, t: &TokenCounter) {
        for p in &mut self.prompts {
            if p.max_tokens.is_none() {
                if let Some(r) = &p.reference {
                    p.max_tokens = t.count(r).map(|n| n.clamp(1, u32::MAX as u64) as u32);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ys-ds-{}-{name}", std::process::id()));
        std::fs::write(&dir, text).unwrap();
        dir
    }

    #[test]
    fn jsonl_fields() {
        let p = tmp(
            "a.jsonl",
            "{\"text_input\":\"hi\",\"ref_output\":\"yo\",\"max_new_tokens\":7}\n\n{\"messages\":[{\"role\":\"user\",\"content\":\"q\"}]}\n",
        );
        let d = Dataset::load(&p, None, None).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d.prompts[0].text, "hi");
        assert_eq!(d.prompts[0].max_tokens, Some(7));
        assert_eq!(d.prompts[0].reference.as_deref(), Some("yo"));
        assert!(d.prompts[1].messages.is_some());
        let bad = tmp("b.jsonl", "{\"nope\":1}\n");
        let e = Dataset::load(&bad, None, None).unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
        let bad = tmp("c.jsonl", "{\"prompt\":\"x\"}\nnot json\n");
        assert!(Dataset::load(&bad, None, None)
            .unwrap_err()
            .to_string()
            .contains("line 2"));
    }

    #[test]
    fn sharegpt() {
        let p = tmp(
            "s.json",
            r#"[{"id":"1","conversations":[{"from":"human","value":"q1"},{"from":"gpt","value":"a1"}]},{"id":"2","conversations":[]}]"#,
        );
        let d = Dataset::load(&p, None, None).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d.prompts[0].reference.as_deref(), Some("a1"));
    }

    /// A GPT-2 style byte-level BPE over the 256 bytes plus the two-byte
    /// token of `é`: most single bytes above 0x7f are pieces of UTF-8
    /// sequences, which decode alone to U+FFFD.
    fn byte_level_tokenizer() -> TokenCounter {
        let mut bs: Vec<u32> = (33..127).chain(161..173).chain(174..256).collect();
        let mut cs = bs.clone();
        let mut extra = 0;
        for b in 0..256u32 {
            if !bs.contains(&b) {
                bs.push(b);
                cs.push(256 + extra);
                extra += 1;
            }
        }
        let byte_char = |b: u32| {
            let i = bs.iter().position(|x| *x == b).unwrap();
            char::from_u32(cs[i]).unwrap()
        };
        let mut vocab = serde_json::Map::new();
        for b in 0..256u32 {
            vocab.insert(byte_char(b).to_string(), b.into());
        }
        let (e1, e2) = (byte_char(0xc3), byte_char(0xa9));
        vocab.insert(format!("{e1}{e2}"), 256.into());
        let json = serde_json::json!({
            "version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
            "normalizer": null,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
            "post_processor": null,
            "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
            "model": {"type": "BPE", "dropout": null, "unk_token": null,
                      "continuing_subword_prefix": null, "end_of_word_suffix": null,
                      "fuse_unk": false, "byte_fallback": false,
                      "vocab": vocab, "merges": [format!("{e1} {e2}")]}
        });
        TokenCounter::from_json(&json.to_string()).unwrap()
    }

    #[test]
    fn synthetic_text_is_clean_over_many_seeds() {
        let t = byte_level_tokenizer();
        // The hazard is real: random ids of this vocabulary decode to U+FFFD.
        let raw = t.decode(&[0xc3, 0x41, 0xff, 0x0a]).unwrap();
        assert!(!is_clean_text(&raw), "{raw:?}");
        for seed in 0..200 {
            let d = Dataset::synthetic(4, 32, 8, Some(&t), seed).unwrap();
            for p in &d.prompts {
                assert!(is_clean_text(&p.text), "seed {seed}: {:?}", p.text);
                assert!(!p.text.trim().is_empty(), "seed {seed}");
            }
        }
        for seed in 0..200 {
            let d = Dataset::synthetic(4, 32, 8, None, seed).unwrap();
            for p in &d.prompts {
                assert!(is_clean_text(&p.text), "seed {seed}: {:?}", p.text);
                assert!(p.text.split(' ').all(|w| WORDS.contains(&w)));
            }
        }
    }

    #[test]
    fn synthetic_without_tokenizer_is_deterministic() {
        let a = Dataset::synthetic(3, 16, 8, None, 7).unwrap();
        let b = Dataset::synthetic(3, 16, 8, None, 7).unwrap();
        assert_eq!(a.prompts, b.prompts);
        assert_eq!(a.prompts[0].text.split(' ').count(), 16);
        assert_eq!(a.prompts[0].max_tokens, Some(8));
    }
}

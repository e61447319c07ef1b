//! Chat templates: HF `tokenizer_config.json` Jinja templates rendered with
//! minijinja, to turn chat messages into a `/v1/completions` prompt exactly
//! as the server would (and to count input tokens of chat prompts).

use std::path::Path;

use minijinja::{context, Environment, Error as JinjaError, ErrorKind};
use serde_json::Value;

use crate::error::EndpointError;

/// A compiled chat template with its special tokens.
#[derive(Debug)]
pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
}

fn token_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => o
            .get("content")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        _ => String::new(),
    }
}

impl ChatTemplate {
    /// A template given as source text.
    pub fn from_source(
        source: &str,
        bos_token: &str,
        eos_token: &str,
    ) -> Result<Self, EndpointError> {
        let mut env = Environment::new();
        minijinja_contrib::add_to_environment(&mut env);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function(
            "raise_exception",
            |msg: String| -> Result<String, JinjaError> {
                Err(JinjaError::new(ErrorKind::InvalidOperation, msg))
            },
        );
        env.add_template_owned("chat", source.to_string())
            .map_err(|e| EndpointError::Template(e.to_string()))?;
        Ok(ChatTemplate {
            env,
            bos_token: bos_token.to_string(),
            eos_token: eos_token.to_string(),
        })
    }

    /// Loads a template from a file: a `tokenizer_config.json` (its
    /// `chat_template`, string or the `default` of a list, and its
    /// `bos_token`/`eos_token`) or a plain Jinja file.
    pub fn from_file(path: &Path) -> Result<Self, EndpointError> {
        let text = std::fs::read_to_string(path).map_err(|source| EndpointError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if path.extension().is_some_and(|e| e == "json") {
            let v: Value = serde_json::from_str(&text)
                .map_err(|e| EndpointError::Template(format!("{}: {e}", path.display())))?;
            let source = match v.get("chat_template") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(list)) => list
                    .iter()
                    .find(|t| t.get("name").and_then(Value::as_str) == Some("default"))
                    .or_else(|| list.first())
                    .and_then(|t| t.get("template"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| {
                        EndpointError::Template(format!(
                            "{}: chat_template list has no template",
                            path.display()
                        ))
                    })?,
                _ => {
                    return Err(EndpointError::Template(format!(
                        "{} has no chat_template",
                        path.display()
                    )))
                }
            };
            return Self::from_source(
                &source,
                &token_text(v.get("bos_token")),
                &token_text(v.get("eos_token")),
            );
        }
        Self::from_source(&text, "", "")
    }

    /// Renders `messages` with the generation prompt appended.
    pub fn render(&self, messages: &[Value]) -> Result<String, EndpointError> {
        let t = self
            .env
            .get_template("chat")
            .map_err(|e| EndpointError::Template(e.to_string()))?;
        t.render(context! {
            messages => messages,
            add_generation_prompt => true,
            bos_token => self.bos_token,
            eos_token => self.eos_token,
        })
        .map_err(|e| EndpointError::Template(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_a_chatml_style_template() {
        let src = "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] | trim }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";
        let t = ChatTemplate::from_source(src, "<s>", "</s>").unwrap();
        let out = t
            .render(&[
                json!({"role": "system", "content": "be brief "}),
                json!({"role": "user", "content": "hi"}),
            ])
            .unwrap();
        assert_eq!(out, "<s><|system|>be brief\n<|user|>hi\n<|assistant|>");
    }

    #[test]
    fn python_methods_and_raise_exception() {
        let src = "{% if messages[0]['role'] != 'user' %}{{ raise_exception('first must be user') }}{% endif %}{{ messages[0]['content'].strip().upper() }}";
        let t = ChatTemplate::from_source(src, "", "").unwrap();
        assert_eq!(
            t.render(&[json!({"role": "user", "content": " x "})])
                .unwrap(),
            "X"
        );
        assert!(t
            .render(&[json!({"role": "system", "content": "x"})])
            .is_err());
    }
}

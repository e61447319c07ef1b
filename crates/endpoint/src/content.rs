//! Synthetic request content: prompts whose input and output lengths are
//! drawn from [`LengthDistribution`]s, optionally each starting with one of
//! N shared prefixes (prefix-cache workloads). Deterministic in the seed:
//! the same seed and specs build byte-identical prompts.

use rand::RngCore;
use yardstick_core::rng::Mt19937;

use crate::dataset::{synthetic_text, Dataset, Prompt};
use crate::error::EndpointError;
use crate::lengths::{seeded_rng, stream, LengthDistribution, PrefixChoice};
use crate::tokenize::TokenCounter;

/// N prefixes of P tokens; each request starts with one of them.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedPrefixes {
    pub count: u32,
    pub tokens: u32,
    pub choice: PrefixChoice,
}

/// What to build.
#[derive(Debug, Clone)]
pub struct SyntheticSpec {
    pub count: usize,
    /// Prompt length; with shared prefixes, the length of the unique suffix
    /// (the prompt is the prefix's P tokens plus the suffix).
    pub input: LengthDistribution,
    /// Output length, sent as `max_tokens`.
    pub output: LengthDistribution,
    /// Also send the drawn output length as `min_tokens`.
    pub exact_output: bool,
    pub shared_prefixes: Option<SharedPrefixes>,
    pub seed: u64,
}

/// Joins a shared prefix and a request's suffix.
pub const PREFIX_SEPARATOR: &str = "\n";

/// A generator of token text seeded from a ChaCha stream (the text builder
/// of [`Dataset::synthetic`] draws from Mt19937).
fn text_rng(seed: u64) -> Mt19937 {
    let mut r = seeded_rng(seed, stream::TEXT);
    Mt19937::new(r.next_u64())
}

impl SyntheticSpec {
    /// The dataset name: lengths and prefixes at a glance.
    pub fn name(&self) -> String {
        let mut name = format!(
            "synthetic-isl[{}]-osl[{}]",
            self.input.spec(),
            self.output.spec()
        );
        if let Some(sp) = &self.shared_prefixes {
            name.push_str(&format!(
                "-prefixes[{}x{} {}]",
                sp.count,
                sp.tokens,
                sp.choice.spec()
            ));
        }
        name
    }

    /// Builds the prompts.
    pub fn build(&self, tokenizer: Option<&TokenCounter>) -> Result<Dataset, EndpointError> {
        if self.count == 0 {
            return Err(EndpointError::Config(
                "synthetic dataset of 0 prompts".into(),
            ));
        }
        let mut in_rng = seeded_rng(self.seed, stream::INPUT_LENGTHS);
        let mut out_rng = seeded_rng(self.seed, stream::OUTPUT_LENGTHS);
        let mut prefix_rng = seeded_rng(self.seed, stream::PREFIX_CHOICE);
        let mut text = text_rng(self.seed);

        let prefixes: Vec<String> = match &self.shared_prefixes {
            Some(sp) => {
                if sp.count == 0 || sp.tokens == 0 {
                    return Err(EndpointError::Config(
                        "shared prefixes need N >= 1 prefixes of P >= 1 tokens".into(),
                    ));
                }
                (0..sp.count)
                    .map(|_| synthetic_text(tokenizer, sp.tokens, &mut text))
                    .collect::<Result<_, _>>()?
            }
            None => Vec::new(),
        };

        let mut prompts = Vec::with_capacity(self.count);
        for i in 0..self.count {
            let input_len = self.input.sample(&mut in_rng);
            let output_len = self.output.sample(&mut out_rng);
            let mut prompt = Prompt {
                max_tokens: Some(output_len),
                min_tokens: self.exact_output.then_some(output_len),
                ..Prompt::default()
            };
            match &self.shared_prefixes {
                None => {
                    prompt.text = synthetic_text(tokenizer, input_len, &mut text)?;
                    prompt.input_tokens = Some(input_len);
                }
                Some(sp) => {
                    let id = sp.choice.sample(sp.count, &mut prefix_rng);
                    let prefix = prefixes.get(id as usize).map_or("", String::as_str);
                    let (prompt_text, tokens) =
                        prefixed_prompt(prefix, sp.tokens, input_len, i, tokenizer, &mut text)?;
                    prompt.text = prompt_text;
                    prompt.input_tokens = Some(tokens);
                    prompt.prefix_id = Some(id);
                }
            }
            prompts.push(prompt);
        }
        Ok(Dataset {
            name: self.name(),
            prompts,
        })
    }
}

/// `prefix` + separator + a unique suffix of `suffix_len` tokens, and the
/// prompt's length in tokens. The suffix starts with the request's number
/// (so no two suffixes are equal, and a prefix cache can hit only on the
/// prefix). With a tokenizer the whole prompt is made `prefix_tokens +
/// suffix_len` tokens where the boundary allows (re-drawing the suffix when
/// tokens merge across it); the count returned is the tokenizer's own.
fn prefixed_prompt(
    prefix: &str,
    prefix_tokens: u32,
    suffix_len: u32,
    index: usize,
    tokenizer: Option<&TokenCounter>,
    rng: &mut Mt19937,
) -> Result<(String, u32), EndpointError> {
    let marker = format!("#{index}");
    match tokenizer {
        None => {
            // Words: the marker is one, the rest are drawn.
            let rest = synthetic_text(None, suffix_len.saturating_sub(1), rng)?;
            let suffix = if rest.is_empty() {
                marker
            } else {
                format!("{marker} {rest}")
            };
            Ok((
                format!("{prefix}{PREFIX_SEPARATOR}{suffix}"),
                prefix_tokens + suffix_len.max(1),
            ))
        }
        Some(t) => {
            let target = i64::from(prefix_tokens) + i64::from(suffix_len.max(1));
            let marker_tokens = t.count(&marker).unwrap_or(1) as i64;
            let mut drawn = (i64::from(suffix_len) - marker_tokens).max(0);
            let mut best: Option<(String, i64)> = None;
            for _ in 0..8 {
                let rest = synthetic_text(Some(t), drawn as u32, rng)?;
                let text = if rest.is_empty() {
                    format!("{prefix}{PREFIX_SEPARATOR}{marker}")
                } else {
                    format!("{prefix}{PREFIX_SEPARATOR}{marker} {rest}")
                };
                let count = t.count(&text).unwrap_or(0) as i64;
                let miss = count - target;
                if best.as_ref().is_none_or(|(_, m)| miss.abs() < m.abs()) {
                    best = Some((text, miss));
                }
                if miss == 0 {
                    break;
                }
                drawn = (drawn - miss).max(0);
            }
            let (text, miss) = best.unwrap_or_default();
            Ok((text, (target + miss).clamp(1, u32::MAX as i64) as u32))
        }
    }
}

//! Counting tokens with the model's own tokenizer (an HF `tokenizer.json`
//! loaded through the `tokenizers` crate; never downloaded at run time).

use std::path::Path;

use crate::error::EndpointError;

/// A tokenizer used to count tokens and to build synthetic prompts.
pub struct TokenCounter {
    tok: tokenizers::Tokenizer,
}

impl std::fmt::Debug for TokenCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCounter")
            .field("vocab", &self.tok.get_vocab_size(true))
            .finish()
    }
}

impl TokenCounter {
    /// Loads `tokenizer.json` (or the `tokenizer.json` inside a directory).
    pub fn from_file(path: &Path) -> Result<Self, EndpointError> {
        let file = if path.is_dir() {
            path.join("tokenizer.json")
        } else {
            path.to_path_buf()
        };
        let tok =
            tokenizers::Tokenizer::from_file(&file).map_err(|e| EndpointError::Tokenizer {
                path: file.clone(),
                reason: e.to_string(),
            })?;
        Ok(TokenCounter { tok })
    }

    /// From the JSON text of a `tokenizer.json`.
    pub fn from_json(json: &str) -> Result<Self, EndpointError> {
        let tok = json
            .parse::<tokenizers::Tokenizer>()
            .map_err(|e| EndpointError::Tokenizer {
                path: "<inline>".into(),
                reason: e.to_string(),
            })?;
        Ok(TokenCounter { tok })
    }

    /// Tokens in `text`, without special tokens (an output's length).
    /// A text the tokenizer rejects counts as `None`.
    pub fn count(&self, text: &str) -> Option<u64> {
        if text.is_empty() {
            return Some(0);
        }
        self.tok
            .encode_fast(text, false)
            .ok()
            .map(|e| e.get_ids().len() as u64)
    }

    /// The byte offset in `text` where each of its tokens starts (special
    /// tokens left out): one encoding gives every chunk's token count.
    pub fn token_starts(&self, text: &str) -> Option<Vec<usize>> {
        if text.is_empty() {
            return Some(Vec::new());
        }
        self.tok
            .encode(text, false)
            .ok()
            .map(|e| e.get_offsets().iter().map(|&(start, _)| start).collect())
    }

    pub fn encode(&self, text: &str) -> Option<Vec<u32>> {
        self.tok
            .encode_fast(text, false)
            .ok()
            .map(|e| e.get_ids().to_vec())
    }

    pub fn decode(&self, ids: &[u32]) -> Option<String> {
        self.tok.decode(ids, true).ok()
    }

    pub fn vocab_size(&self) -> usize {
        self.tok.get_vocab_size(false)
    }

    /// Ids of special (added) tokens, which synthetic prompts avoid.
    pub fn is_special(&self, id: u32) -> bool {
        self.tok
            .get_added_vocabulary()
            .simple_id_to_token(id)
            .is_some()
    }
}

use yardstick_core::sut::{BoxError, Completer, QuerySample, QuerySampleResponse, SystemUnderTest};

use crate::index_response;

/// Answers every sample inside `issue_query`, before returning: what is left
/// of the latency is the load generator's own overhead.
#[derive(Debug, Clone, Default)]
pub struct NullSut {
    /// Report `2 + index % 7` output tokens and a first token first, like
    /// the reference outputs' LLM-style SUT.
    pub tokens: bool,
}

impl NullSut {
    pub fn new() -> Self {
        NullSut { tokens: false }
    }

    pub fn with_tokens() -> Self {
        NullSut { tokens: true }
    }
}

/// Responses are built in chunks so an Offline query of millions of samples
/// needs no allocation proportional to its size.
const CHUNK: usize = 1024;

impl SystemUnderTest for NullSut {
    fn name(&self) -> &str {
        "NullSUT"
    }

    fn issue_query(&self, samples: &[QuerySample], completer: &Completer) -> Result<(), BoxError> {
        if let [s] = samples {
            // The common case (Server, SingleStream): no buffers at all.
            let data = index_response(s.index);
            if self.tokens {
                completer.first_token(&[QuerySampleResponse::new(s.id, &data)])?;
                let n = 2 + (s.index % 7) as u64;
                completer.complete(&[QuerySampleResponse::with_tokens(s.id, &data, n)])?;
            } else {
                completer.complete(&[QuerySampleResponse::new(s.id, &data)])?;
            }
            return Ok(());
        }
        let mut data = [[0u8; 4]; CHUNK];
        for chunk in samples.chunks(CHUNK) {
            for (d, s) in data.iter_mut().zip(chunk) {
                *d = index_response(s.index);
            }
            if self.tokens {
                let responses: Vec<_> = chunk
                    .iter()
                    .zip(&data)
                    .map(|(s, d)| QuerySampleResponse::new(s.id, d))
                    .collect();
                completer.first_token(&responses)?;
            }
            let responses: Vec<_> = chunk
                .iter()
                .zip(&data)
                .map(|(s, d)| QuerySampleResponse {
                    id: s.id,
                    data: d,
                    n_tokens: self.tokens.then(|| 2 + (s.index % 7) as u64),
                })
                .collect();
            completer.complete(&responses)?;
        }
        Ok(())
    }
}

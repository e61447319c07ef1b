//! Token-length distributions for synthetic requests (`--input-tokens`,
//! `--output-tokens`): `fixed:N` (or a bare `N`), `uniform:A..B`,
//! `normal:MEAN,SD`, `lognormal:MEDIAN,SIGMA` and `empirical:FILE`.
//!
//! Draws come from a ChaCha8 generator seeded with the run's seed, one
//! stream per purpose, so the input lengths do not change when only the
//! output distribution does. rand, rand_chacha and rand_distr are pinned
//! exactly in Cargo.toml: the same seed then draws the same lengths.

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Normal, Zipf};

use crate::error::EndpointError;
use crate::tokenize::TokenCounter;

/// Streams of the seeded generator, one per purpose.
pub mod stream {
    pub const INPUT_LENGTHS: u64 = 1;
    pub const OUTPUT_LENGTHS: u64 = 2;
    pub const PREFIX_CHOICE: u64 = 3;
    pub const TEXT: u64 = 4;
}

/// A seeded generator on one stream.
pub fn seeded_rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Which length a dataset gives an empirical distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthSide {
    /// Prompt lengths.
    Input,
    /// Output lengths (a prompt's own limit, else its reference answer's).
    Output,
}

/// A distribution of token lengths. Every draw is at least 1.
#[derive(Debug, Clone, PartialEq)]
pub enum LengthDistribution {
    Fixed(u32),
    /// Inclusive bounds.
    Uniform {
        low: u32,
        high: u32,
    },
    Normal {
        mean: f64,
        sd: f64,
    },
    /// `median` = exp(mu); `sigma` of the underlying normal.
    LogNormal {
        median: f64,
        sigma: f64,
    },
    /// Lengths drawn uniformly from a list (of a file).
    Empirical {
        path: PathBuf,
        lengths: Vec<u32>,
    },
}

fn spec_error(spec: &str, reason: impl Into<String>) -> EndpointError {
    EndpointError::Config(format!(
        "length distribution `{spec}`: {}; expected N, fixed:N, uniform:A..B, normal:MEAN,SD, lognormal:MEDIAN,SIGMA or empirical:FILE",
        reason.into()
    ))
}

fn parse_num<T: std::str::FromStr>(spec: &str, what: &str, s: &str) -> Result<T, EndpointError> {
    s.trim()
        .parse::<T>()
        .map_err(|_| spec_error(spec, format!("{what} `{s}` is not a number")))
}

impl LengthDistribution {
    /// Parses a flag's value. `empirical:FILE` reads FILE: a list of
    /// integers (whitespace or comma separated), else a dataset whose
    /// `side` lengths are counted (with the tokenizer when given, else in
    /// whitespace-separated words).
    pub fn parse(
        spec: &str,
        side: LengthSide,
        tokenizer: Option<&TokenCounter>,
    ) -> Result<LengthDistribution, EndpointError> {
        let (kind, rest) = match spec.split_once(':') {
            Some((k, r)) => (k.trim(), r),
            None => ("fixed", spec),
        };
        let d = match kind {
            "fixed" => LengthDistribution::Fixed(parse_num(spec, "length", rest)?),
            "uniform" => {
                let (a, b) = rest
                    .split_once("..")
                    .ok_or_else(|| spec_error(spec, "uniform needs A..B"))?;
                let low: u32 = parse_num(spec, "low bound", a)?;
                let high: u32 = parse_num(spec, "high bound", b.trim_start_matches('='))?;
                if low > high {
                    return Err(spec_error(spec, "the low bound is above the high bound"));
                }
                LengthDistribution::Uniform { low, high }
            }
            "normal" => {
                let (m, s) = rest
                    .split_once(',')
                    .ok_or_else(|| spec_error(spec, "normal needs MEAN,SD"))?;
                let mean: f64 = parse_num(spec, "mean", m)?;
                let sd: f64 = parse_num(spec, "standard deviation", s)?;
                if !(mean.is_finite() && sd.is_finite() && sd >= 0.0) {
                    return Err(spec_error(spec, "the mean and SD must be finite, SD >= 0"));
                }
                LengthDistribution::Normal { mean, sd }
            }
            "lognormal" => {
                let (m, s) = rest
                    .split_once(',')
                    .ok_or_else(|| spec_error(spec, "lognormal needs MEDIAN,SIGMA"))?;
                let median: f64 = parse_num(spec, "median", m)?;
                let sigma: f64 = parse_num(spec, "sigma", s)?;
                if !(median.is_finite() && median > 0.0 && sigma.is_finite() && sigma >= 0.0) {
                    return Err(spec_error(spec, "the median must be > 0 and sigma >= 0"));
                }
                LengthDistribution::LogNormal { median, sigma }
            }
            "empirical" => {
                let path = PathBuf::from(rest.trim());
                let lengths = empirical_lengths(&path, side, tokenizer)?;
                LengthDistribution::Empirical { path, lengths }
            }
            other => return Err(spec_error(spec, format!("unknown distribution `{other}`"))),
        };
        if let LengthDistribution::Fixed(0) = d {
            return Err(spec_error(spec, "a length must be at least 1"));
        }
        Ok(d)
    }

    /// The spec, as recorded (an empirical one names its file and size).
    pub fn spec(&self) -> String {
        match self {
            LengthDistribution::Fixed(n) => format!("fixed:{n}"),
            LengthDistribution::Uniform { low, high } => format!("uniform:{low}..{high}"),
            LengthDistribution::Normal { mean, sd } => format!("normal:{mean},{sd}"),
            LengthDistribution::LogNormal { median, sigma } => {
                format!("lognormal:{median},{sigma}")
            }
            LengthDistribution::Empirical { path, lengths } => {
                format!("empirical:{} ({} lengths)", path.display(), lengths.len())
            }
        }
    }

    /// The one length of a fixed distribution.
    pub fn fixed(&self) -> Option<u32> {
        match self {
            LengthDistribution::Fixed(n) => Some(*n),
            _ => None,
        }
    }

    /// One draw, at least 1.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        let clamp = |x: f64| {
            if x.is_finite() {
                x.round().clamp(1.0, u32::MAX as f64) as u32
            } else {
                1
            }
        };
        match self {
            LengthDistribution::Fixed(n) => (*n).max(1),
            LengthDistribution::Uniform { low, high } => rng.random_range(*low..=*high).max(1),
            LengthDistribution::Normal { mean, sd } => match Normal::new(*mean, *sd) {
                Ok(d) => clamp(d.sample(rng)),
                Err(_) => clamp(*mean),
            },
            LengthDistribution::LogNormal { median, sigma } => {
                match LogNormal::new(median.ln(), *sigma) {
                    Ok(d) => clamp(d.sample(rng)),
                    Err(_) => clamp(*median),
                }
            }
            LengthDistribution::Empirical { lengths, .. } => {
                // Never empty: empirical_lengths refuses an empty file.
                let i = rng.random_range(0..lengths.len().max(1));
                lengths.get(i).copied().unwrap_or(1).max(1)
            }
        }
    }
}

fn count_tokens(text: &str, tokenizer: Option<&TokenCounter>) -> u64 {
    match tokenizer.and_then(|t| t.count(text)) {
        Some(n) => n,
        None => text.split_whitespace().count() as u64,
    }
}

fn empirical_lengths(
    path: &Path,
    side: LengthSide,
    tokenizer: Option<&TokenCounter>,
) -> Result<Vec<u32>, EndpointError> {
    let bytes = std::fs::read(path).map_err(|source| EndpointError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    // A plain list of integers?
    if let Ok(text) = std::str::from_utf8(&bytes) {
        let words: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| !w.is_empty())
            .collect();
        if !words.is_empty() && words.iter().all(|w| w.parse::<u32>().is_ok()) {
            let lengths: Vec<u32> = words
                .iter()
                .filter_map(|w| w.parse::<u32>().ok())
                .filter(|n| *n > 0)
                .collect();
            if lengths.is_empty() {
                return Err(EndpointError::Dataset {
                    path: path.to_path_buf(),
                    line: 1,
                    reason: "expected lengths of at least 1".into(),
                });
            }
            return Ok(lengths);
        }
    }
    let loaded = crate::datafile::load(path, None, None)?;
    let mut lengths = Vec::with_capacity(loaded.dataset.len());
    for p in &loaded.dataset.prompts {
        let n = match side {
            LengthSide::Input => p.input_tokens.map(u64::from).unwrap_or_else(|| {
                let text = match &p.messages {
                    Some(m) => m
                        .iter()
                        .filter_map(|v| v.get("content").and_then(|c| c.as_str()))
                        .collect::<Vec<_>>()
                        .join("\n"),
                    None => p.text.clone(),
                };
                count_tokens(&text, tokenizer)
            }),
            LengthSide::Output => match (p.max_tokens, &p.reference) {
                (Some(n), _) => u64::from(n),
                (None, Some(r)) => count_tokens(r, tokenizer),
                (None, None) => 0,
            },
        };
        if n > 0 {
            lengths.push(n.min(u32::MAX as u64) as u32);
        }
    }
    if lengths.is_empty() {
        return Err(EndpointError::Dataset {
            path: path.to_path_buf(),
            line: 0,
            reason: match side {
                LengthSide::Input => "no prompt with a length of at least 1 token".into(),
                LengthSide::Output => {
                    "no output lengths: expected a max_tokens field or a reference answer".into()
                }
            },
        });
    }
    Ok(lengths)
}

/// How requests pick one of the shared prefixes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PrefixChoice {
    Uniform,
    /// Zipf with exponent `s` over prefix ranks (prefix 0 the most used).
    Zipf(f64),
}

impl PrefixChoice {
    pub fn parse(spec: &str) -> Result<PrefixChoice, EndpointError> {
        let err = || {
            EndpointError::Config(format!(
                "prefix distribution `{spec}`: expected uniform or zipf:S (S > 0)"
            ))
        };
        match spec.trim() {
            "uniform" => Ok(PrefixChoice::Uniform),
            s => {
                let exp = s.strip_prefix("zipf:").ok_or_else(err)?;
                let exp: f64 = exp.trim().parse().map_err(|_| err())?;
                if !(exp.is_finite() && exp > 0.0) {
                    return Err(err());
                }
                Ok(PrefixChoice::Zipf(exp))
            }
        }
    }

    pub fn spec(&self) -> String {
        match self {
            PrefixChoice::Uniform => "uniform".into(),
            PrefixChoice::Zipf(s) => format!("zipf:{s}"),
        }
    }

    /// A prefix index in `0..n` (n >= 1).
    pub fn sample<R: Rng + ?Sized>(&self, n: u32, rng: &mut R) -> u32 {
        let n = n.max(1);
        match self {
            PrefixChoice::Uniform => rng.random_range(0..n),
            PrefixChoice::Zipf(s) => match Zipf::new(f64::from(n), *s) {
                // Zipf draws ranks 1..=n.
                Ok(z) => (z.sample(rng) as u32).clamp(1, n) - 1,
                Err(_) => rng.random_range(0..n),
            },
        }
    }
}

//! A latency distribution that merges exactly: an HDR histogram (3
//! significant digits: every recorded value is kept within 0.1 %), stored in
//! `run.json` as the standard HdrHistogram V2 compressed encoding in base64,
//! which every HdrHistogram implementation (Java, C, Go, Python) can decode.

use std::borrow::Cow;

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Significant decimal digits kept for every value.
const SIGNIFICANT_DIGITS: u8 = 3;

#[derive(Debug, thiserror::Error)]
pub enum HistogramError {
    #[error("the histogram is not valid base64")]
    Base64(#[from] base64::DecodeError),
    #[error("the histogram's HdrHistogram encoding cannot be read")]
    Decode(#[from] hdrhistogram::serialization::DeserializeError),
    #[error("the histogram cannot be encoded")]
    Encode(#[from] hdrhistogram::serialization::V2DeflateSerializeError),
    #[error("cannot merge histograms")]
    Merge(#[from] hdrhistogram::AdditionError),
    #[error("cannot create a histogram")]
    Create(#[from] hdrhistogram::CreationError),
}

/// Latencies in nanoseconds (or any non-negative integer unit).
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    inner: Histogram<u64>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for LatencyHistogram {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner
    }
}

impl LatencyHistogram {
    pub fn new() -> Self {
        // Auto-resizing from a fixed precision cannot fail for 3 digits.
        let inner = Histogram::new(SIGNIFICANT_DIGITS)
            .unwrap_or_else(|_| unreachable!("3 significant digits is a valid precision"));
        LatencyHistogram { inner }
    }

    /// A histogram of these values.
    pub fn from_values(values: impl IntoIterator<Item = u64>) -> Self {
        let mut h = Self::new();
        for v in values {
            h.record(v);
        }
        h
    }

    /// Records one value. Values above the histogram's range grow it
    /// (auto-resize); recording never fails.
    pub fn record(&mut self, value: u64) {
        if self.inner.record(value).is_err() {
            // Only a value beyond what any resize can track gets here.
            self.inner.saturating_record(value);
        }
    }

    /// Adds every count of `other` to this one. Exact: merging the
    /// histograms of two runs equals the histogram of both runs' values.
    pub fn merge(&mut self, other: &LatencyHistogram) -> Result<(), HistogramError> {
        self.inner.add(&other.inner)?;
        Ok(())
    }

    pub fn len(&self) -> u64 {
        self.inner.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    pub fn min(&self) -> u64 {
        self.inner.min()
    }

    pub fn max(&self) -> u64 {
        self.inner.max()
    }

    pub fn mean(&self) -> f64 {
        self.inner.mean()
    }

    /// The value at quantile `q` (0..=1), within the histogram's precision.
    pub fn quantile(&self, q: f64) -> u64 {
        self.inner.value_at_quantile(q)
    }

    /// `(value, fraction of values at or below it)` pairs for a CDF plot,
    /// one per recorded bucket.
    pub fn cdf(&self) -> Vec<(u64, f64)> {
        let total = self.inner.len();
        if total == 0 {
            return Vec::new();
        }
        let mut below = 0u64;
        self.inner
            .iter_recorded()
            .map(|v| {
                below += v.count_at_value();
                (
                    self.inner.highest_equivalent(v.value_iterated_to()),
                    below as f64 / total as f64,
                )
            })
            .collect()
    }

    /// The V2 compressed encoding, in base64.
    pub fn to_base64(&self) -> Result<String, HistogramError> {
        let mut bytes = Vec::new();
        V2DeflateSerializer::new().serialize(&self.inner, &mut bytes)?;
        Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn from_base64(text: &str) -> Result<Self, HistogramError> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim())?;
        let inner: Histogram<u64> = Deserializer::new().deserialize(&mut bytes.as_slice())?;
        Ok(LatencyHistogram { inner })
    }
}

impl Serialize for LatencyHistogram {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self.to_base64().map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for LatencyHistogram {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Cow::<str>::deserialize(d)?;
        LatencyHistogram::from_base64(&text).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for LatencyHistogram {
    fn schema_name() -> Cow<'static, str> {
        "LatencyHistogram".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "contentEncoding": "base64",
            "description": "HdrHistogram V2 compressed encoding (3 significant digits), base64"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quantiles_are_within_precision() {
        let h = LatencyHistogram::from_values(1..=100_000u64);
        let p99 = h.quantile(0.99) as f64;
        assert!((p99 - 99_000.0).abs() / 99_000.0 < 0.001, "{p99}");
        assert_eq!(h.len(), 100_000);
        assert_eq!(h.min(), 1);
    }

    #[test]
    fn base64_round_trip() {
        let h = LatencyHistogram::from_values([5, 10, 1_000_000, 3_000_000_000]);
        let back = LatencyHistogram::from_base64(&h.to_base64().unwrap()).unwrap();
        assert_eq!(h, back);
        assert!(LatencyHistogram::from_base64("not base64 !").is_err());
        assert!(LatencyHistogram::from_base64("aGVsbG8=").is_err());
    }

    #[test]
    fn cdf_ends_at_one() {
        let h = LatencyHistogram::from_values([1, 2, 2, 3, 1000]);
        let cdf = h.cdf();
        assert_eq!(cdf.last().unwrap().1, 1.0);
        assert!(cdf.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1));
    }

    proptest! {
        #[test]
        fn merge_is_exact(a in proptest::collection::vec(1u64..10_000_000_000, 0..200),
                          b in proptest::collection::vec(1u64..10_000_000_000, 0..200)) {
            let mut merged = LatencyHistogram::from_values(a.iter().copied());
            merged.merge(&LatencyHistogram::from_values(b.iter().copied())).unwrap();
            let both = LatencyHistogram::from_values(a.iter().chain(b.iter()).copied());
            prop_assert_eq!(merged.len(), both.len());
            for q in [0.0, 0.5, 0.9, 0.99, 1.0] {
                prop_assert_eq!(merged.quantile(q), both.quantile(q));
            }
        }
    }
}

//! Loadable sample sets: which sample indices are loaded into memory together
//! (LoadGen's `GenerateLoadableSets`).

use crate::rng::{shuffle, Mt19937};
use crate::Scenario;

/// A random set of samples that fit in memory together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadableSet {
    /// The indices to load, in load order. In MultiStream the first
    /// `samples_per_query - 1` indices are repeated at the end as padding,
    /// so every query can take contiguous samples from any start position.
    pub indices: Vec<u32>,
    /// How many of `indices` are the set proper (excludes the padding).
    pub distribution_end: usize,
}

/// Shuffles `0..min(sample_count, qsl_total)` with `qsl_rng_seed` and cuts it
/// into sets of `set_size`, the last one possibly shorter, each padded for
/// MultiStream.
pub fn loadable_sets(
    qsl_rng_seed: u64,
    sample_count: usize,
    qsl_total: usize,
    set_size: usize,
    scenario: Scenario,
    samples_per_query: usize,
) -> Vec<LoadableSet> {
    let count = sample_count.min(qsl_total);
    let mut rng = Mt19937::new(qsl_rng_seed);
    let mut samples: Vec<u32> = (0..count as u32).collect();
    shuffle(&mut samples, &mut rng);

    let padding = if scenario == Scenario::MultiStream {
        samples_per_query.saturating_sub(1)
    } else {
        0
    };
    let set_size = set_size.max(1);
    samples
        .chunks(set_size)
        .map(|chunk| {
            let mut indices = Vec::with_capacity(chunk.len() + padding);
            indices.extend_from_slice(chunk);
            // Padding repeats from the start of the set; LoadGen indexes
            // `set[i]` for i < padding, which for a set shorter than the
            // padding reads the padding it has just appended.
            for i in 0..padding {
                let p = indices[i];
                indices.push(p);
            }
            LoadableSet {
                indices,
                distribution_end: chunk.len(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_partition_the_shuffled_range() {
        let sets = loadable_sets(1, 10, 100, 4, Scenario::Offline, 1);
        assert_eq!(sets.len(), 3);
        assert_eq!(sets[2].indices.len(), 2);
        let mut all: Vec<u32> = sets.iter().flat_map(|s| s.indices.clone()).collect();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn multistream_sets_are_padded_from_their_start() {
        let sets = loadable_sets(3, 20, 20, 8, Scenario::MultiStream, 4);
        for s in &sets {
            assert_eq!(s.indices.len(), s.distribution_end + 3);
            assert_eq!(&s.indices[s.distribution_end..], &s.indices[..3]);
        }
    }
}

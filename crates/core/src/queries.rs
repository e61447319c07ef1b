//! Query generation: which samples each query carries and, in Server, when it
//! is scheduled (LoadGen's `GenerateQueries`).
//!
//! Queries are generated before timing starts, as LoadGen does, but stored
//! compactly: a flat array of 4-byte sample indices plus, in Server only, one
//! 8-byte scheduled offset per query. LoadGen keeps a ~300-byte object per
//! query; this layout is what lets a 20M-query run fit in under 48 bytes each.

use crate::rng::{exponential, seconds_to_ns_trunc, shuffle, uniform_int, uniform_real, Mt19937};
use crate::sample_sets::LoadableSet;
use crate::settings::EffectiveSettings;
use crate::{Mode, Scenario};

/// Sequence ids shared by every query and sample of one test (across the
/// accuracy and performance phases of a submission run), and LoadGen's
/// per-sample accuracy-log random value.
#[derive(Debug, Clone)]
pub struct SequenceGen {
    next_query_id: u64,
    next_sample_id: u64,
    /// LoadGen never seeds this generator, so it starts from mt19937's
    /// default seed in every test; each sample draws one value from it.
    accuracy_log_rng: Mt19937,
    /// Draws owed to `accuracy_log_rng` by samples whose value was not needed.
    pending_draws: u64,
}

impl Default for SequenceGen {
    fn default() -> Self {
        SequenceGen {
            next_query_id: 0,
            next_sample_id: 0,
            accuracy_log_rng: Mt19937::new(Mt19937::DEFAULT_SEED),
            pending_draws: 0,
        }
    }
}

impl SequenceGen {
    pub fn current_sample_id(&self) -> u64 {
        self.next_sample_id
    }

    pub fn current_query_id(&self) -> u64 {
        self.next_query_id
    }

    fn take_queries(&mut self, queries: u64, samples: u64) -> (u64, u64) {
        let ids = (self.next_query_id, self.next_sample_id);
        self.next_query_id += queries;
        self.next_sample_id += samples;
        ids
    }

    /// Accuracy-log values for `n` samples, or just account for them.
    fn accuracy_log_values(&mut self, n: u64, wanted: bool) -> Option<Vec<f64>> {
        if !wanted {
            self.pending_draws += 2 * n;
            return None;
        }
        self.accuracy_log_rng
            .discard(std::mem::take(&mut self.pending_draws));
        Some(
            (0..n)
                .map(|_| uniform_real(&mut self.accuracy_log_rng, 0.0, 1.0))
                .collect(),
        )
    }
}

/// The queries of one run (one call of LoadGen's `IssueQueries`).
#[derive(Debug, Clone, PartialEq)]
pub struct QueryPlan {
    /// Sample indices of all queries, back to back.
    samples: Vec<u32>,
    /// Every query has this many samples except possibly the last.
    samples_per_query: usize,
    query_count: usize,
    /// Server: each query's scheduled offset from the start, ns.
    scheduled_ns: Vec<i64>,
    /// Other scenarios: the fixed period between nominal query times, ns.
    period_ns: i64,
    /// The generated timeline's length (LoadGen's `generated_query_duration`).
    pub duration_ns: i64,
    /// Sequence id of the first query and the first sample.
    pub first_query_id: u64,
    pub first_sample_id: u64,
    /// Per-sample accuracy-log values, when performance mode logs a sample
    /// of responses (`accuracy_log_probability` / `_sampling_target`).
    pub accuracy_log_values: Option<Vec<f64>>,
    /// `samples_per_query` as generated (may differ from the setting with
    /// equal issue or in Offline accuracy).
    pub generated_samples_per_query: usize,
}

impl QueryPlan {
    pub fn len(&self) -> usize {
        self.query_count
    }

    pub fn is_empty(&self) -> bool {
        self.query_count == 0
    }

    pub fn total_samples(&self) -> usize {
        self.samples.len()
    }

    /// Position in the flat sample array of query `q`'s first sample.
    #[inline]
    pub fn query_start(&self, q: usize) -> usize {
        q * self.samples_per_query
    }

    /// The sample indices of query `q`.
    #[inline]
    pub fn query(&self, q: usize) -> &[u32] {
        let start = self.query_start(q);
        let end = (start + self.samples_per_query).min(self.samples.len());
        &self.samples[start..end]
    }

    /// Which query the sample at flat position `pos` belongs to.
    #[inline]
    pub fn query_of(&self, pos: usize) -> usize {
        pos / self.samples_per_query
    }

    /// All sample indices, in issue order.
    pub fn samples(&self) -> &[u32] {
        &self.samples
    }

    /// Query `q`'s scheduled offset from the start of the run, ns. Only the
    /// Server scenario honours it; others issue as fast as they may.
    #[inline]
    pub fn scheduled_ns(&self, q: usize) -> i64 {
        if self.scheduled_ns.is_empty() {
            q as i64 * self.period_ns
        } else {
            self.scheduled_ns[q]
        }
    }

    /// Heap bytes held by the plan (for memory accounting in benchmarks).
    pub fn heap_bytes(&self) -> usize {
        self.samples.capacity() * 4
            + self.scheduled_ns.capacity() * 8
            + self
                .accuracy_log_values
                .as_ref()
                .map_or(0, |v| v.capacity() * 8)
    }
}

/// Draws sample positions (indices into the loaded set) the way each of
/// LoadGen's sample distributions does.
enum Draw {
    /// `uniform_int_distribution<>(0, n - 1)`.
    Uniform(u64),
    /// A shuffled list consumed in order (accuracy mode and
    /// `performance_issue_unique`), or cycled (equal issue).
    List {
        items: Vec<u32>,
        next: usize,
        cycle: bool,
    },
}

impl Draw {
    fn shuffled_stride(count: usize, stride: usize, rng: &mut Mt19937) -> Draw {
        let mut items: Vec<u32> = (0..count)
            .step_by(stride.max(1))
            .map(|i| i as u32)
            .collect();
        shuffle(&mut items, rng);
        Draw::List {
            items,
            next: 0,
            cycle: false,
        }
    }

    fn equal_issue(count: usize, set_size: usize, rng: &mut Mt19937) -> Draw {
        let mut items = Vec::new();
        if set_size > 0 {
            let mut perm: Vec<u32> = (0..set_size as u32).collect();
            let mut j = 0;
            while j < count {
                shuffle(&mut perm, rng);
                items.extend_from_slice(&perm);
                j += set_size;
            }
        }
        Draw::List {
            items,
            next: 0,
            cycle: true,
        }
    }

    fn next(&mut self, rng: &mut Mt19937) -> Result<usize, PlanError> {
        match self {
            Draw::Uniform(n) => Ok(uniform_int(rng, n.saturating_sub(1)) as usize),
            Draw::List { items, next, cycle } => {
                if items.is_empty() {
                    return Err(PlanError::OutOfSamples);
                }
                let i = if *cycle { *next % items.len() } else { *next };
                let v = items.get(i).ok_or(PlanError::OutOfSamples)?;
                *next += 1;
                Ok(*v as usize)
            }
        }
    }
}

/// Settings that cannot produce a query plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("the loaded sample set is empty: the sample library reported no samples")]
    EmptySampleSet,
    #[error("ran out of unique samples while generating queries")]
    OutOfSamples,
    #[error("performance_issue_same_index {index} is outside the loaded set of {loaded} samples")]
    SameIndexOutOfRange { index: u64, loaded: usize },
    #[error("the sample library has more than 2^32 samples")]
    TooManySamples,
    #[error("{0}")]
    Invalid(String),
}

/// Generates the queries of one run exactly as LoadGen 6.0.x does.
pub fn generate_queries(
    settings: &EffectiveSettings,
    mode: Mode,
    set: &LoadableSet,
    seq: &mut SequenceGen,
) -> Result<QueryPlan, PlanError> {
    let scenario = settings.scenario;
    let loaded = &set.indices;
    if loaded.is_empty() || set.distribution_end == 0 {
        return Err(PlanError::EmptySampleSet);
    }
    let accuracy = mode == Mode::AccuracyOnly;

    // Non-Server scenarios generate twice the expected duration in case the
    // SUT is faster than expected; Server's duration is its ideal schedule.
    let duration_multiplier: i64 = if scenario == Scenario::Server { 1 } else { 2 };
    let mut gen_duration_ns = duration_multiplier * settings.target_duration_ms as i64 * 1_000_000;
    let mut min_queries = settings.min_query_count as usize;
    let mut samples_per_query = settings.samples_per_query as usize;
    if accuracy && scenario == Scenario::Offline {
        samples_per_query = set.distribution_end;
    }
    if samples_per_query == 0 {
        return Err(PlanError::Invalid("samples_per_query is 0".into()));
    }
    if accuracy || settings.performance_issue_unique {
        gen_duration_ns = 0;
        min_queries = loaded.len() / samples_per_query;
    }

    let mut sample_rng = Mt19937::new(settings.sample_index_rng_seed);
    let mut schedule_rng = Mt19937::new(settings.schedule_rng_seed);
    let stride = if scenario == Scenario::MultiStream {
        samples_per_query
    } else {
        1
    };

    // LoadGen constructs all three distributions up front, whether used or
    // not, and their construction consumes `sample_rng`: keep that order.
    let mut dist = if accuracy {
        Draw::shuffled_stride(set.distribution_end, stride, &mut sample_rng)
    } else {
        Draw::Uniform(set.distribution_end as u64)
    };
    let mut dist_unique = Draw::shuffled_stride(set.distribution_end, stride, &mut sample_rng);
    let mut dist_equal_issue = Draw::equal_issue(min_queries, loaded.len(), &mut sample_rng);

    let server = scenario == Scenario::Server;
    let period_ns = if server {
        0
    } else {
        seconds_to_ns_trunc(1.0 / settings.target_qps)
    };

    let equal_issue = settings.sample_concatenate_permutation;
    if !accuracy && equal_issue {
        let n = loaded.len();
        if scenario == Scenario::Offline && !samples_per_query.is_multiple_of(n) {
            samples_per_query += n - samples_per_query % n;
        } else if scenario != Scenario::Offline && !min_queries.is_multiple_of(n) {
            min_queries += n - min_queries % n;
        }
    }

    let same = settings.performance_issue_same_index as usize;
    let same_ok = same < loaded.len();
    if settings.performance_issue_same && !same_ok {
        return Err(PlanError::SameIndexOutOfRange {
            index: settings.performance_issue_same_index,
            loaded: loaded.len(),
        });
    }

    let mut out: Vec<u32> = Vec::new();
    let mut scheduled: Vec<i64> = Vec::new();
    let mut query_count = 0usize;
    let mut timestamp: i64 = 0;
    let mut prev_timestamp: i64 = 0;
    if server {
        // Reserve for the expected schedule to avoid regrowth at millions of queries.
        let expected = (settings.target_qps * gen_duration_ns as f64 / 1e9) as usize;
        let reserve = expected.max(min_queries).saturating_add(expected / 32);
        scheduled.reserve(reserve);
        out.reserve(reserve);
    }

    while prev_timestamp < gen_duration_ns || query_count < min_queries {
        match scenario {
            Scenario::MultiStream => {
                let start = if settings.performance_issue_unique {
                    dist_unique.next(&mut sample_rng)?
                } else if settings.performance_issue_same {
                    same
                } else {
                    dist.next(&mut sample_rng)?
                };
                // Contiguous samples: the MultiStream padding keeps this in range.
                let run = loaded
                    .get(start..start + samples_per_query)
                    .ok_or(PlanError::OutOfSamples)?;
                out.extend_from_slice(run);
            }
            Scenario::Offline => {
                let n = loaded.len();
                if settings.performance_issue_same {
                    out.extend(std::iter::repeat_n(loaded[same], samples_per_query));
                } else {
                    let full = samples_per_query / n;
                    let rem = samples_per_query % n;
                    for _ in 0..full {
                        let begin = out.len();
                        out.extend_from_slice(loaded);
                        if equal_issue {
                            shuffle(&mut out[begin..], &mut sample_rng);
                        }
                    }
                    out.extend_from_slice(&loaded[..rem]);
                }
            }
            Scenario::SingleStream | Scenario::Server => {
                for _ in 0..samples_per_query {
                    let pos = if settings.performance_issue_unique {
                        dist_unique.next(&mut sample_rng)?
                    } else if settings.performance_issue_same {
                        same
                    } else if equal_issue {
                        dist_equal_issue.next(&mut sample_rng)?
                    } else {
                        dist.next(&mut sample_rng)?
                    };
                    out.push(*loaded.get(pos).ok_or(PlanError::OutOfSamples)?);
                }
            }
        }
        if server {
            scheduled.push(timestamp);
        }
        query_count += 1;
        prev_timestamp = timestamp;
        timestamp += if server {
            seconds_to_ns_trunc(exponential(&mut schedule_rng, settings.target_qps))
        } else {
            period_ns
        };
        // Equal issue keeps whole permutations: grow the run by a full set
        // while the schedule is shorter than the target duration.
        if equal_issue
            && query_count >= min_queries
            && prev_timestamp < gen_duration_ns
            && scenario != Scenario::Offline
        {
            min_queries += loaded.len();
        }
    }

    // Offline accuracy: a remainder query so every loaded sample is issued.
    // (Offline never pads its sets, so with samples_per_query equal to the
    // set size this is empty; kept for parity.)
    if scenario == Scenario::Offline && accuracy {
        let remaining = loaded.len() % samples_per_query;
        if remaining != 0 {
            for _ in 0..remaining {
                let pos = dist.next(&mut sample_rng)?;
                out.push(loaded[pos]);
            }
            query_count += 1;
        }
    }

    let total = out.len() as u64;
    let (first_query_id, first_sample_id) = seq.take_queries(query_count as u64, total);
    let wants_acc_values = mode == Mode::PerformanceOnly
        && (settings.accuracy_log_probability > 0.0 || settings.accuracy_log_sampling_target > 0);
    let accuracy_log_values = seq.accuracy_log_values(total, wants_acc_values);

    Ok(QueryPlan {
        samples: out,
        samples_per_query,
        query_count,
        scheduled_ns: scheduled,
        period_ns,
        duration_ns: timestamp,
        first_query_id,
        first_sample_id,
        accuracy_log_values,
        generated_samples_per_query: samples_per_query,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample_sets::loadable_sets;
    use crate::TestSettings;
    use proptest::prelude::*;

    fn plan_for(s: TestSettings, mode: Mode, total: usize, perf: usize) -> QueryPlan {
        let eff = EffectiveSettings::new(&s, perf, total);
        let count = if mode == Mode::AccuracyOnly {
            total
        } else {
            perf
        };
        let sets = loadable_sets(
            eff.qsl_rng_seed,
            count,
            total,
            eff.performance_sample_count as usize,
            eff.scenario,
            eff.samples_per_query as usize,
        );
        generate_queries(&eff, mode, &sets[0], &mut SequenceGen::default()).unwrap()
    }

    #[test]
    fn offline_issues_one_query_of_repeated_loaded_samples() {
        let s = TestSettings {
            scenario: Scenario::Offline,
            min_query_count: 2500,
            min_duration_ms: 0,
            ..TestSettings::default()
        };
        let p = plan_for(s, Mode::PerformanceOnly, 5000, 1000);
        assert_eq!(p.len(), 1);
        assert_eq!(p.total_samples(), 2500);
        let q = p.query(0);
        assert_eq!(&q[..1000], &q[1000..2000]);
        assert_eq!(&q[2000..], &q[..500]);
    }

    #[test]
    fn equal_issue_pads_to_whole_permutations() {
        let s = TestSettings {
            scenario: Scenario::Server,
            server_target_qps: 1000.0,
            min_query_count: 150,
            min_duration_ms: 0,
            sample_concatenate_permutation: true,
            ..TestSettings::default()
        };
        let p = plan_for(s, Mode::PerformanceOnly, 64, 64);
        assert_eq!(p.len() % 64, 0);
        for chunk in p.samples().chunks(64) {
            let mut c = chunk.to_vec();
            c.sort_unstable();
            assert_eq!(
                c,
                (0..64).collect::<Vec<u32>>(),
                "each block is a permutation of the set"
            );
        }
    }

    #[test]
    fn issue_same_repeats_one_sample() {
        let s = TestSettings {
            scenario: Scenario::SingleStream,
            min_query_count: 20,
            min_duration_ms: 0,
            performance_issue_same: true,
            performance_issue_same_index: 3,
            ..TestSettings::default()
        };
        let p = plan_for(s, Mode::PerformanceOnly, 100, 10);
        assert!(p.samples().windows(2).all(|w| w[0] == w[1]));
    }

    #[test]
    fn same_index_outside_the_set_is_an_error() {
        let s = TestSettings {
            scenario: Scenario::SingleStream,
            performance_issue_same: true,
            performance_issue_same_index: 10,
            ..TestSettings::default()
        };
        let eff = EffectiveSettings::new(&s, 10, 100);
        let sets = loadable_sets(0, 10, 100, 10, Scenario::SingleStream, 1);
        let err = generate_queries(
            &eff,
            Mode::PerformanceOnly,
            &sets[0],
            &mut SequenceGen::default(),
        );
        assert!(matches!(err, Err(PlanError::SameIndexOutOfRange { .. })));
    }

    #[test]
    fn sequence_ids_continue_across_runs() {
        let s = TestSettings {
            scenario: Scenario::SingleStream,
            min_query_count: 5,
            min_duration_ms: 0,
            ..TestSettings::default()
        };
        let eff = EffectiveSettings::new(&s, 10, 10);
        let sets = loadable_sets(0, 10, 10, 10, Scenario::SingleStream, 1);
        let mut seq = SequenceGen::default();
        let a = generate_queries(&eff, Mode::AccuracyOnly, &sets[0], &mut seq).unwrap();
        let b = generate_queries(&eff, Mode::PerformanceOnly, &sets[0], &mut seq).unwrap();
        assert_eq!(a.first_sample_id, 0);
        assert_eq!(b.first_sample_id, a.total_samples() as u64);
        assert_eq!(b.first_query_id, a.len() as u64);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn same_seeds_same_plan(seed in any::<u64>(), qps in 100.0f64..50_000.0, scen in 0usize..4) {
            let s = TestSettings {
                scenario: Scenario::ALL[scen],
                server_target_qps: qps,
                offline_expected_qps: qps,
                min_duration_ms: 20,
                min_query_count: 10,
                sample_index_rng_seed: seed,
                schedule_rng_seed: seed.rotate_left(7),
                qsl_rng_seed: seed.rotate_left(13),
                multi_stream_samples_per_query: 4,
                ..TestSettings::default()
            };
            let a = plan_for(s.clone(), Mode::PerformanceOnly, 500, 64);
            let b = plan_for(s, Mode::PerformanceOnly, 500, 64);
            prop_assert_eq!(a, b);
        }

        #[test]
        fn accuracy_covers_every_sample_once(total in 1usize..400, perf in 1usize..100, scen in 0usize..4, spq in 1u64..6) {
            let s = TestSettings {
                scenario: Scenario::ALL[scen],
                mode: Mode::AccuracyOnly,
                multi_stream_samples_per_query: spq,
                ..TestSettings::default()
            };
            let eff = EffectiveSettings::new(&s, perf, total);
            let sets = loadable_sets(
                eff.qsl_rng_seed,
                total,
                total,
                eff.performance_sample_count as usize,
                eff.scenario,
                eff.samples_per_query as usize,
            );
            let mut seen = vec![0u32; total];
            let mut seq = SequenceGen::default();
            for set in &sets {
                let p = generate_queries(&eff, Mode::AccuracyOnly, set, &mut seq).unwrap();
                for &i in p.samples() {
                    seen[i as usize] += 1;
                }
            }
            if eff.scenario == Scenario::MultiStream {
                // Whole queries of contiguous samples: padding may repeat a few.
                prop_assert!(seen.iter().all(|&c| c >= 1));
            } else {
                prop_assert!(seen.iter().all(|&c| c == 1));
            }
        }

        #[test]
        fn server_schedule_is_non_decreasing(seed in any::<u64>(), qps in 10.0f64..1e6) {
            let s = TestSettings {
                scenario: Scenario::Server,
                server_target_qps: qps,
                min_duration_ms: 5,
                min_query_count: 50,
                schedule_rng_seed: seed,
                ..TestSettings::default()
            };
            let p = plan_for(s, Mode::PerformanceOnly, 100, 100);
            for q in 1..p.len() {
                prop_assert!(p.scheduled_ns(q) >= p.scheduled_ns(q - 1));
            }
            prop_assert!(p.duration_ns >= p.scheduled_ns(p.len() - 1));
        }
    }
}

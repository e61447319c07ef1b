//! A `RunRecord`'s measured parts from the core's `TestOutcome`.

use std::collections::BTreeMap;

use yardstick_core::results::{Latency, PerformanceSummary};
use yardstick_core::run::TestOutcome;
use yardstick_core::settings::{ResolvedSettings, SettingSource as CoreSource};
use yardstick_core::Scenario;
use yardstick_record::{
    Better, LatencyDistribution, Metric, SettingRecord, SettingSource, Validity, ValidityCheck,
    Verdict, STANDARD_PERCENTS,
};

/// What a record is made of besides the outcome.
#[derive(Debug, Clone, Default)]
pub struct RecordInputs {
    pub metrics: Vec<Metric>,
    pub latencies: BTreeMap<String, LatencyDistribution>,
}

/// The settings with their provenance, as the record keeps them.
pub fn record_settings(resolved: &ResolvedSettings) -> Vec<SettingRecord> {
    resolved
        .provenance
        .iter()
        .map(|o| SettingRecord {
            key: o.field.clone(),
            value: o.value.clone(),
            source: convert_source(&o.source),
        })
        .collect()
}

fn convert_source(s: &CoreSource) -> SettingSource {
    let line = |l: &usize| u32::try_from(*l).unwrap_or(u32::MAX);
    match s {
        CoreSource::Default => SettingSource::Default,
        CoreSource::MlperfConf { file, line: l, key } => SettingSource::MlperfConf {
            file: file.clone(),
            line: line(l),
            key: key.clone(),
        },
        CoreSource::UserConf { file, line: l, key } => SettingSource::UserConf {
            file: file.clone(),
            line: line(l),
            key: key.clone(),
        },
        CoreSource::AuditConf { file, line: l, key } => SettingSource::AuditConf {
            file: file.clone(),
            line: line(l),
            key: key.clone(),
        },
        CoreSource::Flag { name } => SettingSource::Flag { name: name.clone() },
        CoreSource::Api { name } => SettingSource::Api { name: name.clone() },
    }
}

/// Every check behind the verdict, each with its reason.
pub fn validity_of(outcome: &TestOutcome) -> Validity {
    let mut checks = Vec::new();
    if let Some(s) = outcome.result() {
        let reason = |met: bool, rec: &str, ok: &str| {
            if met {
                ok.to_string()
            } else if rec.trim().is_empty() {
                "not met".to_string()
            } else {
                rec.trim().to_string()
            }
        };
        if let Some(i) = &s.interrupted {
            checks.push(ValidityCheck {
                name: "interrupted".into(),
                passed: false,
                detail: i.reason(),
            });
        }
        let st = &s.settings;
        // The duration LoadGen checks against min_duration, per scenario.
        let (measured, what) = match st.scenario {
            Scenario::Offline => (s.pr.max_latency, "the query lasted"),
            Scenario::Server => (s.pr.final_query_scheduled_time, "the schedule spans"),
            Scenario::SingleStream | Scenario::MultiStream => {
                (s.pr.final_query_issued_time, "issuing lasted")
            }
        };
        let required = st.min_duration_ms as f64 / 1000.0;
        checks.push(ValidityCheck {
            name: "min_duration".into(),
            passed: s.min_duration_met,
            detail: if s.min_duration_met {
                format!("{what} {measured:.3} s, at least {required:.3} s required")
            } else {
                format!(
                    "{what} {measured:.3} s, less than the {required:.3} s required. {}",
                    s.min_duration_recommendation.trim()
                )
            },
        });
        checks.push(ValidityCheck {
            name: "min_queries".into(),
            passed: s.min_queries_met,
            detail: if s.min_queries_met {
                format!(
                    "{} queries, at least {} required",
                    s.query_count, st.min_query_count
                )
            } else {
                format!(
                    "{} queries, fewer than the {} required",
                    s.query_count, st.min_query_count
                )
            },
        });
        if s.has_perf_constraints() {
            checks.push(ValidityCheck {
                name: "latency_constraint".into(),
                passed: s.perf_constraints_met,
                detail: reason(
                    s.perf_constraints_met,
                    &s.perf_constraints_recommendation,
                    &format!(
                        "p{} latency {:.3} ms within the {:.3} ms bound",
                        s.target_latency_percentile.percentile * 100.0,
                        s.target_latency_percentile.sample_latency as f64 / 1e6,
                        st.target_latency_ns as f64 / 1e6
                    ),
                ),
            });
        }
        // Token runs have their own early-stopping estimates for TTFT and
        // TPOT; say whichever LoadGen gave.
        let early: Vec<&str> = [
            s.early_stopping_recommendation.as_str(),
            s.early_stopping_ttft_recommendation.as_str(),
            s.early_stopping_tpot_recommendation.as_str(),
        ]
        .into_iter()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
        checks.push(ValidityCheck {
            name: "early_stopping".into(),
            passed: s.early_stopping_met,
            detail: if early.is_empty() {
                if s.early_stopping_met {
                    "met"
                } else {
                    "not met"
                }
                .to_string()
            } else {
                early.join("\n")
            },
        });
    }
    if outcome.result().is_none() {
        if let Some(i) = &outcome.interrupted {
            checks.push(ValidityCheck {
                name: "interrupted".into(),
                passed: false,
                detail: i.reason(),
            });
        }
    }
    checks.push(ValidityCheck {
        name: "sut_faults".into(),
        passed: outcome.faults.is_empty(),
        detail: if outcome.faults.is_empty() {
            "none".into()
        } else {
            outcome
                .faults
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        },
    });
    let verdict =
        if outcome.result().is_none() && outcome.faults.is_empty() && outcome.interrupted.is_none()
        {
            // Accuracy-only: no performance rules; the accuracy verdict decides.
            Verdict::NotApplicable
        } else if outcome.is_valid() {
            Verdict::Valid
        } else {
            Verdict::Invalid
        };
    Validity { verdict, checks }
}

fn ns(v: Latency) -> f64 {
    v as f64
}

/// The metrics and latency distributions of the final performance result.
pub fn measurements(outcome: &TestOutcome) -> RecordInputs {
    let mut out = RecordInputs::default();
    let Some(s) = outcome.result() else {
        return out;
    };
    let m = &mut out.metrics;
    let lower = Better::Lower;
    let higher = Better::Higher;
    match s.settings.scenario {
        Scenario::Server => m.push(Metric::new(
            "completed_samples_per_second",
            s.completed_samples_per_sec,
            "samples/s",
            higher,
        )),
        Scenario::Offline => m.push(Metric::new(
            "samples_per_second",
            s.samples_per_second,
            "samples/s",
            higher,
        )),
        Scenario::SingleStream => m.push(Metric::new(
            format!(
                "latency.p{}",
                trim_percent(s.target_latency_percentile.percentile * 100.0)
            ),
            ns(s.target_latency_percentile.sample_latency),
            "ns",
            lower,
        )),
        Scenario::MultiStream => m.push(Metric::new(
            format!(
                "query_latency.p{}",
                trim_percent(s.target_latency_percentile.percentile * 100.0)
            ),
            ns(s.target_latency_percentile.query_latency),
            "ns",
            lower,
        )),
    }
    if s.settings.scenario == Scenario::Server {
        m.push(Metric::new(
            "scheduled_samples_per_second",
            s.scheduled_samples_per_sec,
            "samples/s",
            Better::Neither,
        ));
    }
    let sorted = s.sorted_sample_latencies();
    let sample = LatencyDistribution::from_sorted_by("ns", sorted.len(), &STANDARD_PERCENTS, |i| {
        sorted[i].max(0) as u64
    });
    for p in [50.0, 90.0, 99.0, 99.9] {
        if let Some(v) = sample.percentile(p) {
            let name = format!("latency.p{}", trim_percent(p));
            if m.iter().all(|x| x.name != name) {
                m.push(Metric::new(name, v as f64, "ns", lower));
            }
        }
    }
    m.push(Metric::new("latency.mean", sample.mean, "ns", lower));
    m.push(Metric::new(
        "samples",
        s.sample_count as f64,
        "1",
        Better::Neither,
    ));
    m.push(Metric::new(
        "queries",
        s.query_count as f64,
        "1",
        Better::Neither,
    ));
    m.push(Metric::new(
        "duration",
        s.pr.final_query_all_samples_done_time.max(s.pr.max_latency),
        "s",
        Better::Neither,
    ));
    out.latencies.insert("sample".into(), sample);

    if s.settings.scenario == Scenario::MultiStream {
        out.latencies.insert(
            "query".into(),
            LatencyDistribution::from_values(
                "ns",
                &s.pr
                    .query_latencies
                    .iter()
                    .map(|&v| v.max(0) as u64)
                    .collect::<Vec<_>>(),
                &STANDARD_PERCENTS,
            ),
        );
    }
    let tr = &s.pr.token_results;
    if s.settings.use_token_latencies && !tr.first_token_latencies.is_empty() {
        token_measurements(s, &mut out);
    }
    out
}

fn token_measurements(s: &PerformanceSummary, out: &mut RecordInputs) {
    let tr = &s.pr.token_results;
    let dist = |v: &[Latency]| {
        LatencyDistribution::from_values(
            "ns",
            &v.iter().map(|&x| x.max(0) as u64).collect::<Vec<_>>(),
            &STANDARD_PERCENTS,
        )
    };
    let ttft = dist(&tr.first_token_latencies);
    let tpot = dist(&tr.time_per_output_token);
    let m = &mut out.metrics;
    let rate = match s.settings.scenario {
        Scenario::Offline => s.tokens_per_sec,
        _ => s.completed_tokens_per_sec,
    };
    m.push(Metric::new(
        "tokens_per_second",
        rate,
        "tokens/s",
        Better::Higher,
    ));
    for (name, d) in [("ttft", &ttft), ("tpot", &tpot)] {
        for p in [50.0, 90.0, 99.0] {
            if let Some(v) = d.percentile(p) {
                m.push(Metric::new(
                    format!("{name}.p{}", trim_percent(p)),
                    v as f64,
                    "ns",
                    Better::Lower,
                ));
            }
        }
    }
    out.latencies.insert("ttft".into(), ttft);
    out.latencies.insert("tpot".into(), tpot);
}

/// `99.0` -> `99`, `99.9` -> `99.9`.
fn trim_percent(p: f64) -> String {
    let t = format!("{p:.2}");
    t.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn percent_names() {
        assert_eq!(super::trim_percent(99.0), "99");
        assert_eq!(super::trim_percent(99.9), "99.9");
        assert_eq!(super::trim_percent(50.0), "50");
    }
}

//! An endpoint point as a run record: the client's metrics by stable name,
//! the per-request latency distributions (TTFT, TPOT, end-to-end, chunk
//! gaps) as exact percentiles and mergeable histograms, and the checks
//! behind its verdict. A pure function of the point: the pipeline and the
//! front end add the rest (settings, system, files, group).

use yardstick_record::{
    Better, LatencyDistribution, LoadPoint, Metric, RateTimeline, RunRecord, Validity,
    ValidityCheck, Verdict, STANDARD_PERCENTS,
};

use crate::bench::PointResult;

/// Fills `record` with what `point` measured. `loadgen_verdict` is the
/// core's validity for points driven through LoadGen's scenarios (their
/// checks are already in the record), `None` for the client's own loads.
pub fn fill_point_record(
    record: &mut RunRecord,
    point: &PointResult,
    loadgen_verdict: Option<bool>,
) {
    let s = &point.summary;
    let m = &s.metrics;
    record.load = Some(LoadPoint {
        label: s.label.clone(),
        concurrency: s.concurrency.map(|c| c as u64),
        rate: s.target_rate,
    });
    let sut = &mut record.workload.sut;
    sut.kind = "http".into();
    sut.params.insert("url".into(), s.url.clone());
    sut.params.insert("api".into(), s.api.as_str().to_string());
    sut.params.insert("model".into(), s.model.clone());
    sut.params
        .insert("streaming".into(), s.streaming.to_string());
    sut.params.insert("dataset".into(), s.dataset.clone());
    sut.params
        .insert("load_pattern".into(), s.load_pattern.clone());
    if sut.name.is_empty() {
        sut.name = format!("HttpSUT({})", s.url);
    }

    // The client's own metrics; a LoadGen point keeps the core's first.
    let mut metrics = vec![
        Metric::new("requests_per_second", m.qps, "requests/s", Better::Higher),
        Metric::new(
            "output_tokens_per_second",
            m.tps,
            "tokens/s",
            Better::Higher,
        ),
        Metric::new(
            "system_tokens_per_second",
            m.system_tps,
            "tokens/s",
            Better::Higher,
        ),
    ];
    if let Some(u) = m.tps_per_user {
        metrics.push(Metric::new(
            "tokens_per_second_per_user",
            u,
            "tokens/s",
            Better::Higher,
        ));
    }
    metrics.push(Metric::new(
        "requests_failed",
        m.n_samples_failed as f64,
        "1",
        Better::Lower,
    ));
    metrics.push(Metric::new(
        "requests_completed",
        m.n_samples_completed as f64,
        "1",
        Better::Neither,
    ));
    metrics.push(Metric::new(
        "output_tokens",
        m.total_output_tokens as f64,
        "1",
        Better::Neither,
    ));
    if let Some(g) = &m.goodput {
        if let Ok(v) = serde_json::to_value(g) {
            record.extra.insert("goodput".into(), v);
        }
    }

    // Issued and completed over time, from the point's time origin (every
    // request, failed ones included: they were sent and they ended).
    if record.timeline.is_none() {
        let since = |t: std::time::Instant| {
            t.checked_duration_since(point.origin)
                .map_or(0, |d| d.as_nanos() as u64)
        };
        let issued: Vec<u64> = point
            .records
            .iter()
            .map(|r| since(r.sent.unwrap_or(r.scheduled)))
            .collect();
        let done: Vec<u64> = point
            .records
            .iter()
            .filter_map(|r| r.done.map(since))
            .collect();
        if !issued.is_empty() {
            record.timeline = Some(RateTimeline::from_offsets(&issued, &done, 240));
        }
    }

    let ok: Vec<_> = point.records.iter().filter(|r| r.ok()).collect();
    let mut dists = Vec::new();
    let ttft: Vec<u64> = ok.iter().filter_map(|r| r.ttft_ns()).collect();
    let e2e: Vec<u64> = ok.iter().filter_map(|r| r.latency_ns()).collect();
    let tpot: Vec<u64> = ok
        .iter()
        .filter_map(|r| r.tpot_ns())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| v.round() as u64)
        .collect();
    let gaps: Vec<u64> = ok.iter().flat_map(|r| r.gaps_ns.iter().copied()).collect();
    let ttft_content: Vec<u64> = ok.iter().filter_map(|r| r.ttft_content_ns()).collect();
    // Per token: a chunk of k tokens is k gaps of a k-th (rounded to ns).
    let itl_token: Vec<u64> = ok
        .iter()
        .flat_map(|r| r.token_gaps_ns())
        .map(|v| v.round() as u64)
        .collect();
    for (name, values) in [
        ("ttft", ttft),
        ("tpot", tpot),
        ("e2e", e2e),
        ("chunk_gap", gaps),
        ("ttft_content", ttft_content),
        ("itl_token", itl_token),
    ] {
        if !values.is_empty() {
            dists.push((
                name.to_string(),
                LatencyDistribution::from_values("ns", &values, &STANDARD_PERCENTS),
            ));
        }
    }
    // Prefix-cache hits against misses, when the server reported any hit.
    if m.prefix_cache.is_some() {
        for (name, hit) in [("ttft_prefix_hit", true), ("ttft_prefix_miss", false)] {
            let values: Vec<u64> = ok
                .iter()
                .filter(|r| r.cached_tokens().is_some_and(|c| (c > 0) == hit))
                .filter_map(|r| r.ttft_ns().or(r.latency_ns()))
                .collect();
            if !values.is_empty() {
                dists.push((
                    name.to_string(),
                    LatencyDistribution::from_values("ns", &values, &STANDARD_PERCENTS),
                ));
            }
        }
    }
    // Per request class: `ttft@lora-a`, `tpot@lora-a`, `e2e@lora-a`.
    for class in m.classes.keys() {
        let mine: Vec<_> = ok
            .iter()
            .filter(|r| r.class.as_deref() == Some(class.as_str()))
            .collect();
        let series: [(&str, Vec<u64>); 3] = [
            ("ttft", mine.iter().filter_map(|r| r.ttft_ns()).collect()),
            (
                "tpot",
                mine.iter()
                    .filter_map(|r| r.tpot_ns())
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .map(|v| v.round() as u64)
                    .collect(),
            ),
            ("e2e", mine.iter().filter_map(|r| r.latency_ns()).collect()),
        ];
        for (name, values) in series {
            if !values.is_empty() {
                dists.push((
                    format!("{name}@{class}"),
                    LatencyDistribution::from_values("ns", &values, &STANDARD_PERCENTS),
                ));
            }
        }
    }
    if !m.classes.is_empty() {
        if let Ok(v) = serde_json::to_value(&m.classes) {
            record.extra.insert("classes".into(), v);
        }
    }
    if m.total_reasoning_tokens > 0 {
        metrics.push(Metric::new(
            "reasoning_tokens",
            m.total_reasoning_tokens as f64,
            "1",
            Better::Neither,
        ));
        if let Some(p50) = m.reasoning_tokens.as_ref().and_then(|s| s.p("50")) {
            metrics.push(Metric::new(
                "reasoning_tokens_per_request.p50",
                p50,
                "1",
                Better::Neither,
            ));
        }
    }
    if let Some(pc) = &m.prefix_cache {
        metrics.push(Metric::new(
            "prefix_cache_hit_requests",
            pc.hits as f64,
            "1",
            Better::Neither,
        ));
        metrics.push(Metric::new(
            "cached_prompt_tokens",
            pc.cached_prompt_tokens as f64,
            "1",
            Better::Neither,
        ));
    }
    if let Some(e) = &m.embeddings {
        metrics.push(Metric::new(
            "embeddings_per_second",
            e.items_per_second,
            "1/s",
            Better::Higher,
        ));
    }
    if !m.itl_token_source.is_empty() {
        if let Ok(v) = serde_json::to_value(&m.itl_token_source) {
            record.extra.insert("itl_token_source".into(), v);
        }
    }
    for (name, d) in &dists {
        for p in [50.0, 90.0, 99.0] {
            if let Some(v) = d.percentile(p) {
                if matches!(name.as_str(), "ttft" | "tpot" | "e2e" | "ttft_content") {
                    metrics.push(Metric::new(
                        format!("{name}.p{}", p as u32),
                        v as f64,
                        "ns",
                        Better::Lower,
                    ));
                }
            }
        }
    }
    for (name, d) in dists {
        record.latencies.insert(name, d);
    }
    // Multi-turn sessions: how long completed sessions took, and what
    // became of the sessions.
    if let Some(sessions) = &s.sessions {
        if !sessions.durations_ns.is_empty() {
            record.latencies.insert(
                "session".into(),
                LatencyDistribution::from_values("ns", &sessions.durations_ns, &STANDARD_PERCENTS),
            );
        }
        for (name, value) in [
            ("sessions_completed", sessions.sessions_completed),
            ("sessions_stopped", sessions.sessions_stopped),
            ("session_turns_skipped", sessions.turns_skipped),
        ] {
            metrics.push(Metric::new(name, value as f64, "1", Better::Neither));
        }
        record.notes.push(format!(
            "multi-turn sessions: {} started, {} completed, {} stopped early ({} turns skipped), {} unfinished; think time {}",
            sessions.sessions_started,
            sessions.sessions_completed,
            sessions.sessions_stopped,
            sessions.turns_skipped,
            sessions.sessions_unfinished,
            sessions.think_time
        ));
    }
    if loadgen_verdict.is_some() {
        // The core's metrics lead; the client's follow under their names.
        for metric in metrics {
            if record.metric(&metric.name).is_none() {
                record.metrics.push(metric);
            }
        }
    } else {
        record.metrics = metrics;
    }

    let failed = ValidityCheck {
        name: "failed_requests".into(),
        passed: m.n_samples_failed == 0,
        detail: if m.n_samples_failed == 0 {
            format!("none of {} requests failed", m.n_samples_issued)
        } else {
            format!(
                "{} of {} requests failed{}; first error: {}",
                m.n_samples_failed,
                m.n_samples_issued,
                if s.most_requests_failed {
                    " (most: the numbers describe the few that succeeded)"
                } else {
                    ""
                },
                m.first_error.as_deref().unwrap_or("-")
            )
        },
    };
    match loadgen_verdict {
        Some(valid) => {
            record.validity.checks.push(failed.clone());
            record.validity.verdict = if valid && failed.passed {
                Verdict::Valid
            } else {
                Verdict::Invalid
            };
        }
        None => {
            record.validity = Validity {
                verdict: if failed.passed {
                    Verdict::Valid
                } else {
                    Verdict::Invalid
                },
                checks: vec![failed],
            };
        }
    }
    for w in &s.warnings {
        record.notes.push(w.clone());
    }
}

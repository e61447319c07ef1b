//! Scrapes of one run, summarised into the record's [`ServerMetrics`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use yardstick_record::{
    ServerCounter, ServerGauge, ServerMetrics, ServerMetricsSeries, ServerMetricsStatus,
};

use crate::recognise::{self, Kind, CANONICAL};
use crate::FlatSample;

/// Most points a record's series keeps (a long run is thinned evenly).
pub const MAX_SERIES_POINTS: usize = 1000;

/// The header of the raw samples file.
pub const CSV_HEADER: &str = "t_seconds,metric,labels,value\n";

/// One successful scrape, reduced to the canonical values.
#[derive(Debug, Clone)]
struct Point {
    t_seconds: f64,
    /// By index into [`CANONICAL`].
    values: Vec<Option<f64>>,
}

/// Collects the scrapes of one run.
#[derive(Debug, Default)]
pub struct Collector {
    points: Vec<Point>,
    failed: u64,
    first_error: Option<String>,
    engines: BTreeSet<&'static str>,
    /// By canonical name: the engine names it was read from.
    sources: BTreeMap<&'static str, BTreeSet<&'static str>>,
    raw_csv: String,
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn number(v: f64) -> String {
    // Whole numbers print without a fraction; others keep every digit.
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

impl Collector {
    pub fn new() -> Self {
        Self::default()
    }

    /// A scrape that answered, `t_seconds` after the run's start.
    pub fn add(&mut self, t_seconds: f64, samples: &[FlatSample]) {
        let mut values = Vec::with_capacity(CANONICAL.len());
        for c in CANONICAL {
            match recognise::read(c, samples) {
                Some((v, engine, metric)) => {
                    self.engines.insert(engine);
                    self.sources.entry(c.name).or_default().insert(metric);
                    values.push(Some(v));
                }
                None => values.push(None),
            }
        }
        for s in samples.iter().filter(|s| recognise::is_recognised(&s.name)) {
            let _ = writeln!(
                self.raw_csv,
                "{t_seconds:.3},{},{},{}",
                csv_field(&s.name),
                csv_field(&s.labels),
                number(s.value)
            );
        }
        self.points.push(Point { t_seconds, values });
    }

    /// A scrape that failed (connection, HTTP status, not Prometheus text).
    pub fn add_failure(&mut self, error: impl Into<String>) {
        self.failed += 1;
        if self.first_error.is_none() {
            self.first_error = Some(error.into());
        }
    }

    /// Successful scrapes so far.
    pub fn scrapes(&self) -> u64 {
        self.points.len() as u64
    }

    /// Every recognised series of every scrape: `t_seconds,metric,labels,value`.
    pub fn raw_csv(&self) -> String {
        format!("{CSV_HEADER}{}", self.raw_csv)
    }

    /// The record of the run.
    pub fn finish(&self, url: &str, interval_seconds: f64) -> ServerMetrics {
        let window = match (self.points.first(), self.points.last()) {
            (Some(a), Some(b)) => b.t_seconds - a.t_seconds,
            _ => 0.0,
        };
        let mut gauges = Vec::new();
        let mut counters = Vec::new();
        for (i, c) in CANONICAL.iter().enumerate() {
            let values: Vec<f64> = self.points.iter().filter_map(|p| p.values[i]).collect();
            if values.is_empty() {
                continue;
            }
            let sources: Vec<String> = self
                .sources
                .get(c.name)
                .map(|s| s.iter().map(|m| m.to_string()).collect())
                .unwrap_or_default();
            match c.kind {
                Kind::Gauge => gauges.push(ServerGauge {
                    name: c.name.to_string(),
                    sources,
                    unit: c.unit.to_string(),
                    samples: values.len() as u64,
                    min: values.iter().copied().fold(f64::INFINITY, f64::min),
                    mean: values.iter().sum::<f64>() / values.len() as f64,
                    max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                }),
                Kind::Counter => {
                    let delta = increase(&values);
                    counters.push(ServerCounter {
                        name: c.name.to_string(),
                        sources,
                        unit: c.unit.to_string(),
                        delta,
                        per_second: if window > 0.0 { delta / window } else { 0.0 },
                    });
                }
            }
        }
        let counter = |name: &str| counters.iter().find(|c: &&ServerCounter| c.name == name);
        let hit_rate = match (
            counter(recognise::PREFIX_QUERIES),
            counter(recognise::PREFIX_HITS),
        ) {
            (Some(q), Some(h)) if q.delta > 0.0 => Some(h.delta / q.delta),
            _ => gauges
                .iter()
                .find(|g| g.name == recognise::HIT_RATE_GAUGE)
                .map(|g| g.mean),
        };
        ServerMetrics {
            url: url.to_string(),
            status: if self.points.is_empty() {
                ServerMetricsStatus::Skipped
            } else {
                ServerMetricsStatus::Scraped
            },
            skipped_reason: if self.points.is_empty() {
                self.first_error.clone()
            } else {
                None
            },
            interval_seconds,
            engines: self.engines.iter().map(|e| e.to_string()).collect(),
            scrapes: self.points.len() as u64,
            failed_scrapes: self.failed,
            first_error: self.first_error.clone(),
            window_seconds: window,
            gauges,
            counters,
            prefix_cache_hit_rate: hit_rate,
            series: self.series(),
            raw_file: None,
        }
    }

    /// Gauges per scrape and counter rates between kept scrapes.
    fn series(&self) -> Option<ServerMetricsSeries> {
        if self.points.is_empty() {
            return None;
        }
        let step = self.points.len().div_ceil(MAX_SERIES_POINTS).max(1);
        let kept: Vec<&Point> = self.points.iter().step_by(step).collect();
        let mut values: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
        for (i, c) in CANONICAL.iter().enumerate() {
            if kept.iter().all(|p| p.values[i].is_none()) {
                continue;
            }
            match c.kind {
                Kind::Gauge => {
                    values.insert(
                        c.name.to_string(),
                        kept.iter().map(|p| p.values[i]).collect(),
                    );
                }
                Kind::Counter => {
                    let mut rates = vec![None];
                    for w in kept.windows(2) {
                        let dt = w[1].t_seconds - w[0].t_seconds;
                        rates.push(match (w[0].values[i], w[1].values[i]) {
                            (Some(a), Some(b)) if dt > 0.0 => Some(increase(&[a, b]) / dt),
                            _ => None,
                        });
                    }
                    values.insert(format!("{}_per_second", c.name), rates);
                }
            }
        }
        Some(ServerMetricsSeries {
            t_seconds: kept.iter().map(|p| p.t_seconds).collect(),
            values,
        })
    }
}

/// A counter's increase over its values in order; a drop is a restart of
/// the server, after which the counter counts from zero again.
pub fn increase(values: &[f64]) -> f64 {
    values
        .windows(2)
        .map(|w| if w[1] >= w[0] { w[1] - w[0] } else { w[1] })
        .sum()
}

/// The record of a run whose first scrape failed: no server metrics.
pub fn skipped(url: &str, interval_seconds: f64, reason: impl Into<String>) -> ServerMetrics {
    let mut c = Collector::new();
    c.add_failure(reason);
    let mut m = c.finish(url, interval_seconds);
    // The one failure is the reason, not a failed scrape mid-run.
    m.failed_scrapes = 0;
    m.first_error = None;
    m
}

fn count(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

/// The one printed line of a point:
/// `server: running max 4, waiting max 12, kv-cache max 80%, prefix-cache hits 62%`.
pub fn summary_line(m: &ServerMetrics) -> String {
    if m.status == ServerMetricsStatus::Skipped {
        return format!(
            "server: metrics skipped ({})",
            m.skipped_reason.as_deref().unwrap_or("no answer")
        );
    }
    let mut parts: Vec<String> = Vec::new();
    if let Some(g) = m.gauge(recognise::RUNNING) {
        parts.push(format!("running max {}", count(g.max)));
    }
    if let Some(g) = m.gauge(recognise::WAITING) {
        parts.push(format!("waiting max {}", count(g.max)));
    }
    if let Some(g) = m.gauge(recognise::KV_CACHE) {
        parts.push(format!("kv-cache max {:.0}%", g.max * 100.0));
    }
    if let Some(r) = m.prefix_cache_hit_rate {
        parts.push(format!("prefix-cache hits {:.0}%", r * 100.0));
    }
    if let Some(c) = m.counter(recognise::GENERATION_TOKENS) {
        parts.push(format!("generation {:.1} tokens/s", c.per_second));
    }
    if parts.is_empty() {
        parts.push("no recognised metrics".into());
    }
    let mut line = format!("server: {}", parts.join(", "));
    let _ = write!(line, " ({} scrapes", m.scrapes);
    if m.failed_scrapes > 0 {
        let _ = write!(line, ", {} failed", m.failed_scrapes);
    }
    line.push(')');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(name: &str, labels: &str, value: f64) -> FlatSample {
        FlatSample {
            name: name.into(),
            labels: labels.into(),
            value,
        }
    }

    #[test]
    fn gauges_sum_over_label_sets_and_counters_become_deltas() {
        let mut c = Collector::new();
        let scrape = |running_a: f64, running_b: f64, kv: f64, hits: f64, queries: f64| {
            vec![
                s("vllm:num_requests_running", "model_name=\"a\"", running_a),
                s("vllm:num_requests_running", "model_name=\"b\"", running_b),
                s("vllm:kv_cache_usage_perc", "model_name=\"a\"", kv),
                s("vllm:kv_cache_usage_perc", "model_name=\"b\"", kv / 2.0),
                s("vllm:prefix_cache_hits_total", "model_name=\"a\"", hits),
                s(
                    "vllm:prefix_cache_queries_total",
                    "model_name=\"a\"",
                    queries,
                ),
                s("vllm:generation_tokens_total", "model_name=\"a\"", queries),
                s("python_gc_objects_collected_total", "", 1.0),
            ]
        };
        c.add(0.0, &scrape(1.0, 0.0, 0.1, 100.0, 1000.0));
        c.add(1.0, &scrape(3.0, 1.0, 0.8, 400.0, 1500.0));
        c.add(2.0, &scrape(2.0, 0.0, 0.4, 720.0, 1500.0 + 500.0));
        let m = c.finish("http://x/metrics", 1.0);
        assert_eq!(m.status, ServerMetricsStatus::Scraped);
        assert_eq!(m.engines, vec!["vllm".to_string()]);
        let running = m.gauge("running_requests").unwrap();
        assert_eq!((running.min, running.max), (1.0, 4.0));
        assert!((running.mean - (1.0 + 4.0 + 2.0) / 3.0).abs() < 1e-9);
        assert_eq!(m.gauge("kv_cache_usage").unwrap().max, 0.8);
        let hits = m.counter("prefix_cache_hits").unwrap();
        assert_eq!(hits.delta, 620.0);
        assert_eq!(hits.per_second, 310.0);
        assert_eq!(m.prefix_cache_hit_rate, Some(620.0 / 1000.0));
        let series = m.series.as_ref().unwrap();
        assert_eq!(series.t_seconds, vec![0.0, 1.0, 2.0]);
        assert_eq!(
            series.values["running_requests"],
            vec![Some(1.0), Some(4.0), Some(2.0)]
        );
        assert_eq!(
            series.values["generation_tokens_per_second"],
            vec![None, Some(500.0), Some(500.0)]
        );
        // Raw rows: recognised series only, every label set.
        let csv = c.raw_csv();
        assert!(csv.starts_with(CSV_HEADER));
        assert!(csv.contains("1.000,vllm:num_requests_running,\"model_name=\"\"b\"\"\",1\n"));
        assert!(!csv.contains("python_gc"));
        assert_eq!(
            summary_line(&m),
            "server: running max 4, kv-cache max 80%, prefix-cache hits 62%, generation 500.0 tokens/s (3 scrapes)"
        );
    }

    #[test]
    fn a_counter_reset_counts_from_zero() {
        assert_eq!(increase(&[10.0, 30.0, 5.0, 8.0]), 20.0 + 5.0 + 3.0);
    }

    #[test]
    fn sglang_hit_rate_comes_from_its_gauge() {
        let mut c = Collector::new();
        c.add(0.0, &[s("sglang:cache_hit_rate", "", 0.5)]);
        c.add(1.0, &[s("sglang:cache_hit_rate", "", 0.7)]);
        let m = c.finish("u", 1.0);
        assert!((m.prefix_cache_hit_rate.unwrap() - 0.6).abs() < 1e-9);
        assert_eq!(m.engines, vec!["sglang".to_string()]);
    }

    #[test]
    fn failures_are_counted_and_a_run_without_a_scrape_is_skipped() {
        let mut c = Collector::new();
        c.add(0.0, &[s("yardstick_mock_requests_waiting", "", 3.0)]);
        c.add_failure("HTTP 503");
        c.add_failure("connection refused");
        let m = c.finish("u", 1.0);
        assert_eq!(m.failed_scrapes, 2);
        assert_eq!(m.first_error.as_deref(), Some("HTTP 503"));
        assert_eq!(
            summary_line(&m),
            "server: waiting max 3 (1 scrapes, 2 failed)"
        );
        let skipped = skipped("http://h/metrics", 1.0, "HTTP 404");
        assert_eq!(skipped.status, ServerMetricsStatus::Skipped);
        assert_eq!(skipped.skipped_reason.as_deref(), Some("HTTP 404"));
        assert_eq!(skipped.failed_scrapes, 0);
        assert_eq!(summary_line(&skipped), "server: metrics skipped (HTTP 404)");
    }
}

//! Writing results, one layout for one point or many: every point in its
//! own folder named by its label (`<out>/c4/`, `<out>/poisson-100/`, ...)
//! holding `result_summary.json` (MLPerf Endpoints' summary fields),
//! `requests.jsonl` (every request with its full output and, when it
//! failed, why) and `requests.csv` (plus LoadGen's logs for runs through
//! the scenarios); the index at the top (`sweep.json`, `pareto.csv`); and
//! the Pareto table for the terminal.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{json, Value};

use crate::bench::{PointResult, PointSummary};
use crate::error::EndpointError;
use crate::metrics::{guarded_pareto_front, queueing_points, ParetoPoint, QUEUE_TTFT_RATIO};
use crate::record::RequestRecord;

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> EndpointError + '_ {
    move |source| EndpointError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn rel(origin: Instant, t: Option<Instant>) -> Option<u64> {
    t.map(|t| t.saturating_duration_since(origin).as_nanos() as u64)
}

/// One request as a JSON object (times in ns since the run's origin).
pub fn record_json(r: &RequestRecord, origin: Instant) -> Value {
    json!({
        "seq": r.seq,
        "sample": r.sample,
        "ok": r.ok(),
        "error": r.error,
        "status": r.status,
        "scheduled_ns": rel(origin, Some(r.scheduled)),
        "sent_ns": rel(origin, r.sent),
        "headers_ns": rel(origin, r.headers),
        "first_event_ns": rel(origin, r.first_event),
        "first_token_ns": rel(origin, r.first_token),
        "done_ns": rel(origin, r.done),
        "send_wait_ns": r.send_wait_ns(),
        "ttft_ns": r.ttft_ns(),
        "tpot_ns": r.tpot_ns(),
        "latency_ns": r.latency_ns(),
        "chunk_gaps_ns": r.gaps_ns,
        "events": r.events,
        "text_chunks": r.text_chunks,
        "output_tokens": r.output_tokens(),
        "token_source": r.token_source(),
        "tokens_tokenizer": r.tokens,
        "tokens_usage": r.usage.and_then(|u| u.completion_tokens),
        "prompt_tokens_usage": r.usage.and_then(|u| u.prompt_tokens),
        "new_connection": r.new_connection,
        "retried": r.retried,
        "first_token_delay_vs_server_ns": r.first_token_delay_ns(),
        "prefix_id": r.prefix_id,
        "session": r.session.map(|s| s.session),
        "turn": r.session.map(|s| s.turn),
        "ttft_content_ns": r.ttft_content_ns(),
        "reasoning_tokens": r.reasoning_tokens(),
        "cached_tokens": r.cached_tokens(),
        "chunk_tokens": r.chunk_tokens,
        "chunk_token_source": (!r.chunk_token_source.is_empty()).then_some(r.chunk_token_source),
        "class": r.class,
        "embeddings": r.items,
        "embedding_inputs": r.items_sent,
        "output": r.output,
    })
}

const CSV_HEADER: &str = "seq,sample,ok,error_kind,status,scheduled_ns,sent_ns,send_wait_ns,ttft_ns,tpot_ns,latency_ns,text_chunks,output_tokens,token_source,tokens_tokenizer,tokens_usage,new_connection,first_token_delay_vs_server_ns,prefix_id,session,turn,ttft_content_ns,reasoning_tokens,cached_tokens,chunk_token_source,class,embeddings";

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_row(r: &RequestRecord, origin: Instant) -> String {
    format!(
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
        r.seq,
        r.sample,
        r.ok(),
        r.error.as_ref().map_or("", |e| e.kind()),
        opt(r.status),
        opt(rel(origin, Some(r.scheduled))),
        opt(rel(origin, r.sent)),
        opt(r.send_wait_ns()),
        opt(r.ttft_ns()),
        opt(r.tpot_ns().map(|v| format!("{v:.0}"))),
        opt(r.latency_ns()),
        r.text_chunks,
        opt(r.output_tokens()),
        r.token_source(),
        opt(r.tokens),
        opt(r.usage.and_then(|u| u.completion_tokens)),
        r.new_connection,
        opt(r.first_token_delay_ns()),
        opt(r.prefix_id),
        opt(r.session.map(|s| s.session)),
        opt(r.session.map(|s| s.turn)),
        opt(r.ttft_content_ns()),
        opt(r.reasoning_tokens()),
        opt(r.cached_tokens()),
        r.chunk_token_source,
        // A class name is the user's text: quoted if it needs it.
        r.class.as_deref().map(csv_field).unwrap_or_default(),
        opt(r.items),
    )
}

/// Writes `result_summary.json`, `requests.jsonl` and `requests.csv` of one
/// point into `dir` (created if missing).
pub fn write_point(dir: &Path, point: &PointResult) -> Result<(), EndpointError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let p = dir.join("result_summary.json");
    let text = serde_json::to_string_pretty(&point.summary)
        .map_err(|e| EndpointError::Config(e.to_string()))?;
    std::fs::write(&p, text + "\n").map_err(io_err(&p))?;

    let p = dir.join("requests.jsonl");
    let f = std::fs::File::create(&p).map_err(io_err(&p))?;
    let mut w = std::io::BufWriter::new(f);
    for r in &point.records {
        serde_json::to_writer(&mut w, &record_json(r, point.origin))
            .map_err(|e| EndpointError::Config(e.to_string()))?;
        w.write_all(b"\n").map_err(io_err(&p))?;
    }
    w.flush().map_err(io_err(&p))?;

    let p = dir.join("requests.csv");
    let f = std::fs::File::create(&p).map_err(io_err(&p))?;
    let mut w = std::io::BufWriter::new(f);
    writeln!(w, "{CSV_HEADER}").map_err(io_err(&p))?;
    for r in &point.records {
        writeln!(w, "{}", csv_row(r, point.origin)).map_err(io_err(&p))?;
    }
    w.flush().map_err(io_err(&p))?;
    Ok(())
}

/// The folder of one point: `<out>/<label>` (`c4`, `poisson-100`,
/// `offline`, ...). A single point is a sweep of one and gets its folder
/// too, so every run has the same layout.
pub fn point_dir(out: &Path, label: &str) -> PathBuf {
    out.join(label)
}

/// How the sweep's points stand on the Pareto front.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrontFlags {
    pub on_front: bool,
    /// The point queues (TTFT p90 over [`QUEUE_TTFT_RATIO`] x the lowest).
    pub queues: bool,
    /// Most requests failed: left off the front.
    pub excluded: bool,
}

/// The Pareto flags of every point (see [`guarded_pareto_front`]).
pub fn front_flags(points: &[&PointSummary]) -> Vec<FrontFlags> {
    let eligible: Vec<bool> = points.iter().map(|s| !s.most_requests_failed).collect();
    let ttft: Vec<Option<f64>> = points.iter().map(|s| s.metrics.ttft_p90_ms).collect();
    let queues = queueing_points(&ttft, &eligible);
    let pts: Vec<ParetoPoint> = points
        .iter()
        .zip(queues.iter().zip(&eligible))
        .map(|(s, (&q, &e))| ParetoPoint {
            system_tps: s.metrics.system_tps,
            tps_per_user: s.metrics.tps_per_user.unwrap_or(0.0),
            queues: q,
            eligible: e,
        })
        .collect();
    guarded_pareto_front(&pts)
        .into_iter()
        .zip(queues.iter().zip(&eligible))
        .map(|(on_front, (&queues, &e))| FrontFlags {
            on_front,
            queues,
            excluded: !e,
        })
        .collect()
}

fn ttft_ms(s: &PointSummary, key: &str) -> Option<f64> {
    s.metrics
        .ttft
        .as_ref()
        .and_then(|t| t.p(key))
        .map(|v| v / 1e6)
}

/// Writes the run's index at the top of `out`: `sweep.json` (every point's
/// summary with its folder and its `pareto`, `queues` and `excluded`
/// flags) and `pareto.csv`. Written for a single point too.
pub fn write_index(out: &Path, points: &[&PointSummary]) -> Result<(), EndpointError> {
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    let flags = front_flags(points);
    let mut list = Vec::with_capacity(points.len());
    for (s, f) in points.iter().zip(&flags) {
        let mut v = serde_json::to_value(s).map_err(|e| EndpointError::Config(e.to_string()))?;
        if let Value::Object(o) = &mut v {
            o.insert("dir".into(), json!(s.label));
            o.insert("pareto".into(), json!(f.on_front));
            o.insert("queues".into(), json!(f.queues));
            o.insert("excluded".into(), json!(f.excluded));
        }
        list.push(v);
    }
    let p = out.join("sweep.json");
    let text =
        serde_json::to_string_pretty(&list).map_err(|e| EndpointError::Config(e.to_string()))?;
    std::fs::write(&p, text + "\n").map_err(io_err(&p))?;
    let p = out.join("pareto.csv");
    let mut s = String::from("dir,concurrency,target_rate,issued,completed,failed,qps,system_tps,tps_per_user,ttft_p50_ms,ttft_p90_ms,tpot_p90_ms,e2e_p90_ms,queues,excluded,pareto\n");
    for (x, f) in points.iter().zip(&flags) {
        let m = &x.metrics;
        let ms3 = |v: Option<f64>| opt(v.map(|v| format!("{v:.3}")));
        s.push_str(&format!(
            "{},{},{},{},{},{},{:.3},{:.3},{},{},{},{},{},{},{},{}\n",
            x.label,
            opt(x.concurrency),
            opt(x.target_rate),
            m.n_samples_issued,
            m.n_samples_completed,
            m.n_samples_failed,
            m.qps,
            m.system_tps,
            ms3(m.tps_per_user),
            ms3(ttft_ms(x, "50")),
            ms3(m.ttft_p90_ms),
            ms3(m.tpot_p90_ms),
            ms3(m.latency.as_ref().and_then(|l| l.p("90")).map(|v| v / 1e6)),
            f.queues,
            f.excluded,
            f.on_front
        ));
    }
    std::fs::write(&p, s).map_err(io_err(&p))?;
    Ok(())
}

/// The rule of the `pareto` column, printed under the table.
pub fn pareto_footer() -> String {
    format!(
        "pareto: * = on the front of system_tps against tps_per_user. Q = the point queues (TTFT p90 over {QUEUE_TTFT_RATIO}x the sweep's lowest: waiting that tokens/s per user does not show); a Q point never pushes a point without Q off the front. ! = more than half the requests failed: never on the front.\n"
    )
}

/// The terminal table of points with the Pareto front and its footer.
pub fn pareto_table(points: &[&PointSummary]) -> String {
    let flags = front_flags(points);
    let mut s = format!(
        "{:>13} {:>8} {:>8} {:>6} {:>10} {:>11} {:>12} {:>11} {:>11} {:>11} {:>11}  pareto\n",
        "load",
        "issued",
        "ok",
        "failed",
        "req/s",
        "system_tps",
        "tps_per_user",
        "ttft_p50_ms",
        "ttft_p90_ms",
        "tpot_p90_ms",
        "e2e_p90_ms"
    );
    let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
    for (x, fl) in points.iter().zip(flags) {
        let m = &x.metrics;
        let load = match (x.concurrency, x.target_rate) {
            (Some(c), _) => format!("c={c}"),
            (None, Some(r)) => format!("{r:.0}/s"),
            _ => x.load_pattern.clone(),
        };
        let mut mark = String::new();
        if fl.on_front {
            mark.push('*');
        }
        if fl.queues {
            mark.push('Q');
        }
        if fl.excluded {
            mark.push('!');
        }
        s.push_str(&format!(
            "{:>13} {:>8} {:>8} {:>6} {:>10.1} {:>11.1} {:>12} {:>11} {:>11} {:>11} {:>11}  {}\n",
            load,
            m.n_samples_issued,
            m.n_samples_completed,
            m.n_samples_failed,
            m.qps,
            m.system_tps,
            f(m.tps_per_user),
            f(ttft_ms(x, "50")),
            f(m.ttft_p90_ms),
            f(m.tpot_p90_ms),
            f(m.latency.as_ref().and_then(|l| l.p("90")).map(|v| v / 1e6)),
            mark
        ));
    }
    s.push_str(&pareto_footer());
    s
}

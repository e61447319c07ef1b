//! Writing results: `result_summary.json` (MLPerf Endpoints' summary
//! fields), `requests.jsonl` (every request with its full output), and
//! `requests.csv`; and the Pareto table of a sweep for the terminal.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use serde_json::{json, Value};

use crate::bench::{PointResult, PointSummary};
use crate::error::EndpointError;
use crate::metrics::pareto_front;
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
        "first_token_delay_vs_server_ns": r.first_token_delay_ns(),
        "output": r.output,
    })
}

const CSV_HEADER: &str = "seq,sample,ok,error_kind,status,scheduled_ns,sent_ns,send_wait_ns,ttft_ns,tpot_ns,latency_ns,text_chunks,output_tokens,token_source,tokens_tokenizer,tokens_usage,new_connection,first_token_delay_vs_server_ns";

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn csv_row(r: &RequestRecord, origin: Instant) -> String {
    format!(
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
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

/// Writes `sweep.json` (every point's summary, with a `pareto` flag) and
/// `pareto.csv`.
pub fn write_sweep(dir: &Path, points: &[&PointSummary]) -> Result<(), EndpointError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let front = pareto_flags(points);
    let list: Vec<Value> = points
        .iter()
        .zip(&front)
        .map(|(s, f)| {
            let mut v = serde_json::to_value(s).unwrap_or(Value::Null);
            if let Value::Object(o) = &mut v {
                o.insert("pareto".into(), json!(f));
            }
            v
        })
        .collect();
    let p = dir.join("sweep.json");
    let text =
        serde_json::to_string_pretty(&list).map_err(|e| EndpointError::Config(e.to_string()))?;
    std::fs::write(&p, text + "\n").map_err(io_err(&p))?;
    let p = dir.join("pareto.csv");
    let mut s = String::from("concurrency,target_rate,issued,completed,failed,qps,system_tps,tps_per_user,ttft_p90_ms,tpot_p90_ms,e2e_p90_ms,pareto\n");
    for (x, f) in points.iter().zip(&front) {
        let m = &x.metrics;
        s.push_str(&format!(
            "{},{},{},{},{},{:.3},{:.3},{},{},{},{},{}\n",
            opt(x.concurrency),
            opt(x.target_rate),
            m.n_samples_issued,
            m.n_samples_completed,
            m.n_samples_failed,
            m.qps,
            m.system_tps,
            opt(m.tps_per_user.map(|v| format!("{v:.3}"))),
            opt(m.ttft_p90_ms.map(|v| format!("{v:.3}"))),
            opt(m.tpot_p90_ms.map(|v| format!("{v:.3}"))),
            opt(m
                .latency
                .as_ref()
                .and_then(|l| l.p("90"))
                .map(|v| format!("{:.3}", v / 1e6))),
            f
        ));
    }
    std::fs::write(&p, s).map_err(io_err(&p))?;
    Ok(())
}

fn pareto_flags(points: &[&PointSummary]) -> Vec<bool> {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .map(|s| (s.metrics.system_tps, s.metrics.tps_per_user.unwrap_or(0.0)))
        .collect();
    pareto_front(&pts)
}

/// The terminal table of points; `*` marks the Pareto front of
/// (system_tps, tps_per_user).
pub fn pareto_table(points: &[&PointSummary]) -> String {
    let front = pareto_flags(points);
    let mut s = format!(
        "{:>11} {:>8} {:>8} {:>6} {:>10} {:>11} {:>12} {:>11} {:>11} {:>11}  pareto\n",
        "load",
        "issued",
        "ok",
        "failed",
        "req/s",
        "system_tps",
        "tps_per_user",
        "ttft_p90_ms",
        "tpot_p90_ms",
        "e2e_p90_ms"
    );
    let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
    for (x, on) in points.iter().zip(front) {
        let m = &x.metrics;
        let load = match (x.concurrency, x.target_rate) {
            (Some(c), _) => format!("c={c}"),
            (None, Some(r)) => format!("{r:.0}/s"),
            _ => x.load_pattern.clone(),
        };
        s.push_str(&format!(
            "{:>11} {:>8} {:>8} {:>6} {:>10.1} {:>11.1} {:>12} {:>11} {:>11} {:>11}  {}\n",
            load,
            m.n_samples_issued,
            m.n_samples_completed,
            m.n_samples_failed,
            m.qps,
            m.system_tps,
            f(m.tps_per_user),
            f(m.ttft_p90_ms),
            f(m.tpot_p90_ms),
            f(m.latency.as_ref().and_then(|l| l.p("90")).map(|v| v / 1e6)),
            if on { "*" } else { "" }
        ));
    }
    s
}

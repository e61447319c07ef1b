//! What the client-side token metrics cost: on the stream's hot path, the
//! per-chunk bookkeeping (`RequestRecord::note_text_chunk`: the chunk's
//! boundary, its cumulative usage, the first-content stamp) against the
//! chunk's parse alone; after the run, tokens per chunk by the tokenizer
//! (one encoding per text, as `fill_chunk_tokens` does) against one
//! encoding per chunk. Interleaved rounds; prints each and the medians.
//!
//! cargo run --release -p yardstick-endpoint --example token_metrics_cost -- [requests] [chunks] [rounds]

use std::time::{Duration, Instant};

use yardstick_endpoint::api::apply_stream_event;
use yardstick_endpoint::{RequestRecord, TokenCounter};

/// A WordLevel tokenizer over `w0..w999`, splitting on whitespace.
fn tokenizer() -> Result<TokenCounter, Box<dyn std::error::Error>> {
    let mut vocab = serde_json::Map::new();
    vocab.insert("[UNK]".into(), 0.into());
    for i in 0..1000u64 {
        vocab.insert(format!("w{i}"), (i + 1).into());
    }
    let json = serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
        "normalizer": null, "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": null, "decoder": null,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"}
    });
    Ok(TokenCounter::from_json(&json.to_string())?)
}

/// Streams `events` into fresh records, `requests` times; with `note`, the
/// client's per-chunk bookkeeping too. Returns ns per chunk.
fn stream(events: &[Vec<u8>], requests: usize, note: bool) -> (f64, Vec<RequestRecord>) {
    let t0 = Instant::now();
    let mut kept = Vec::with_capacity(requests);
    let start = Instant::now();
    for _ in 0..requests {
        let mut r = RequestRecord::new(0, 0, t0, true);
        for e in events {
            let o = &r.output;
            let before = (o.reasoning.len(), o.content.len(), o.tool_calls.len());
            let Ok(info) = apply_stream_event(e, &mut r.output) else {
                continue;
            };
            if info.text_bytes > 0 {
                r.text_chunks += 1;
                if note {
                    r.note_text_chunk(before, info.usage, t0);
                }
            }
        }
        kept.push(r);
    }
    let ns = start.elapsed().as_nanos() as f64 / (requests * events.len()) as f64;
    (ns, kept)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let requests: usize = args.next().map_or(Ok(2000), |a| a.parse())?;
    let chunks: usize = args.next().map_or(Ok(256), |a| a.parse())?;
    let rounds: usize = args.next().map_or(Ok(5), |a| a.parse())?;
    let tok = tokenizer()?;
    // One word a chunk, as most servers stream.
    let events: Vec<Vec<u8>> = (0..chunks)
        .map(|i| {
            format!(
                r#"{{"id":"c","object":"chat.completion.chunk","choices":[{{"index":0,"delta":{{"content":"w{} "}},"finish_reason":null}}]}}"#,
                i % 1000
            )
            .into_bytes()
        })
        .collect();
    let (mut parse, mut noted, mut per_text, mut per_chunk) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (a, _) = stream(&events, requests, false);
        let (b, records) = stream(&events, requests, true);
        // After the run: tokens per chunk from one encoding per text.
        let mut recs = records.clone();
        let start = Instant::now();
        for r in &mut recs {
            r.fill_chunk_tokens(Some(&tok));
        }
        let c = start.elapsed().as_nanos() as f64 / (requests * chunks) as f64;
        assert!(recs.iter().all(|r| r.chunk_tokens.len() == chunks));
        // The alternative: one encoding per chunk.
        let start = Instant::now();
        let mut total = 0u64;
        for r in &records {
            for text in r.chunk_texts() {
                total += tok.count(&text).unwrap_or(0);
            }
        }
        let d = start.elapsed().as_nanos() as f64 / (requests * chunks) as f64;
        assert_eq!(total, (requests * chunks) as u64);
        println!(
            "round {round}: parse {a:.1} ns/chunk, parse + bookkeeping {b:.1} ns/chunk (+{:.1}); after the run: tokenizer per text {c:.1} ns/chunk, per chunk {d:.1} ns/chunk",
            b - a
        );
        parse.push(a);
        noted.push(b);
        per_text.push(c);
        per_chunk.push(d);
        std::thread::sleep(Duration::from_millis(10));
    }
    let (a, b, c, d) = (
        median(parse),
        median(noted),
        median(per_text),
        median(per_chunk),
    );
    println!(
        "medians over {rounds} rounds of {requests} requests x {chunks} chunks: parse {a:.1} ns/chunk; with bookkeeping {b:.1} ns/chunk ({:+.1}%); tokens per chunk after the run: {c:.1} ns/chunk by one encoding per text, {d:.1} ns/chunk by one per chunk ({:.1}x)",
        (b / a - 1.0) * 100.0,
        d / c
    );
    Ok(())
}

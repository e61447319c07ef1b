//! Client-side token metrics: first-content TTFT and reasoning tokens,
//! per-token inter-token latency, prefix-cache hits, embeddings and request
//! classes. The parsing and the arithmetic are checked on records built by
//! hand; the wire path through scripted servers and the mock server.

mod common;

use std::time::{Duration, Instant};

use serde_json::Value;
use yardstick_endpoint::api::{apply_full_response, apply_stream_event, OutputText};
use yardstick_endpoint::metrics::{class_metrics, prefix_cache_split, Aggregate, ClassSlos};
use yardstick_endpoint::record::annotate_records;
use yardstick_endpoint::{ApiKind, Prompt, RequestError, RequestOptions, RequestRecord, Slo};

/// Feeds stream events into a record the way the client does, each at its
/// own arrival time, and ends it at the last one.
fn streamed(events: &[(&str, u64)]) -> RequestRecord {
    let t0 = Instant::now();
    let mut r = RequestRecord::new(0, 0, t0, true);
    for (data, at_ms) in events {
        let now = t0 + Duration::from_millis(*at_ms);
        let o = &r.output;
        let before = (o.reasoning.len(), o.content.len(), o.tool_calls.len());
        let info = apply_stream_event(data.as_bytes(), &mut r.output).expect("event parses");
        if let Some(u) = info.usage {
            r.usage = Some(u);
        }
        if info.text_bytes > 0 {
            r.text_chunks += 1;
            r.note_text_chunk(before, info.usage, now);
            match r.last_token {
                None => r.first_token = Some(now),
                Some(prev) => r.gaps_ns.push((now - prev).as_nanos() as u64),
            }
            r.last_token = Some(now);
        }
        r.done = Some(now);
    }
    r
}

fn content(text: &str) -> String {
    format!(r#"{{"choices":[{{"delta":{{"content":"{text}"}}}}]}}"#)
}

#[test]
fn reasoning_then_content_stamps_both_ttfts_and_reads_reasoning_tokens() {
    let reasoning =
        |t: &str| format!(r#"{{"choices":[{{"delta":{{"reasoning_content":"{t}"}}}}]}}"#);
    let usage = r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":5,"completion_tokens_details":{"reasoning_tokens":3},"prompt_tokens_details":{"cached_tokens":0}}}"#;
    let r1 = reasoning("a ");
    let r2 = reasoning("b ");
    let r3 = reasoning("c ");
    let c1 = content("x ");
    let c2 = content("y");
    let r = streamed(&[
        (
            r#"{"choices":[{"delta":{"role":"assistant","content":""}}]}"#,
            10,
        ),
        (&r1, 20),
        (&r2, 30),
        (&r3, 40),
        (&c1, 70),
        (&c2, 80),
        (usage, 81),
    ]);
    assert_eq!(
        r.ttft_ns(),
        Some(20_000_000),
        "first token: the first reasoning chunk"
    );
    assert_eq!(r.ttft_content_ns(), Some(70_000_000), "first content chunk");
    assert_eq!(
        r.reasoning_tokens(),
        Some(3),
        "usage.completion_tokens_details"
    );
    assert_eq!(r.cached_tokens(), Some(0));
    assert_eq!(r.chunk_texts(), vec!["a ", "b ", "c ", "x ", "y"]);
}

#[test]
fn reasoning_tokens_fall_back_to_the_tokenizer() {
    let r1 = r#"{"choices":[{"delta":{"reasoning":"think hard now"}}]}"#.to_string();
    let c1 = content("ok");
    let mut r = streamed(&[(&r1, 5), (&c1, 9)]);
    assert_eq!(r.reasoning_tokens(), None, "no usage, not counted yet");
    let tok = common::tokenizer();
    r.fill_chunk_tokens(Some(&tok));
    assert_eq!(r.reasoning_tokens(), Some(3));
    assert_eq!(r.chunk_tokens, vec![3, 1]);
    assert_eq!(r.chunk_token_source, "tokenizer");
    // A tool call is content for the first-content stamp.
    let tool = r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"f","arguments":"{}"}}]}}]}"#;
    let r = streamed(&[(&r1, 5), (tool, 12)]);
    assert_eq!(r.ttft_content_ns(), Some(12_000_000));
}

/// 8 chunks of 4 tokens each, 40 ms apart: 7 chunk gaps, 28 token gaps of
/// 10 ms each.
#[test]
fn a_chunk_of_k_tokens_yields_k_gaps_of_a_kth() {
    let chunk = |i: u64| {
        format!(
            r#"{{"choices":[{{"delta":{{"content":"w w w w "}}}}],"usage":{{"prompt_tokens":3,"completion_tokens":{}}}}}"#,
            4 * (i + 1)
        )
    };
    let texts: Vec<String> = (0..8).map(chunk).collect();
    let events: Vec<(&str, u64)> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), 100 + 40 * i as u64))
        .collect();
    let mut r = streamed(&events);
    r.fill_chunk_tokens(None);
    assert_eq!(r.chunk_token_source, "usage");
    assert_eq!(r.chunk_tokens, vec![4; 8]);
    assert_eq!(r.gaps_ns.len(), 7);
    let gaps = r.token_gaps_ns();
    assert_eq!(gaps.len(), 4 * r.gaps_ns.len());
    for g in &gaps {
        assert!((g - 10e6).abs() < 1.0, "{g}");
    }
    let a = Aggregate::new(&[r], &Slo::default(), &|_| None);
    assert_eq!(a.itl_token.as_ref().map(|s| s.count), Some(28));
    assert_eq!(a.chunk_gap.as_ref().map(|s| s.count), Some(7));
    assert_eq!(a.itl_token_source.get("usage"), Some(&1));
}

#[test]
fn token_gaps_from_the_tokenizer_or_one_per_chunk() {
    let c: Vec<String> = ["one two ", "three ", "four five six"]
        .iter()
        .map(|t| content(t))
        .collect();
    let mut r = streamed(&[(&c[0], 0), (&c[1], 10), (&c[2], 40)]);
    let mut plain = r.clone();
    r.fill_chunk_tokens(Some(&common::tokenizer()));
    assert_eq!(r.chunk_tokens, vec![2, 1, 3]);
    let gaps = r.token_gaps_ns();
    assert_eq!(gaps, vec![10e6, 10e6, 10e6, 10e6]);
    // Without usage or a tokenizer: one token per chunk, said so.
    plain.fill_chunk_tokens(None);
    assert_eq!(plain.chunk_token_source, "chunks");
    assert_eq!(plain.token_gaps_ns(), vec![10e6, 30e6]);
    // A chunk the tokenizer finds no token in hands its gap on.
    let mut z = plain.clone();
    z.chunk_tokens = vec![1, 0, 2];
    assert_eq!(z.token_gaps_ns(), vec![20e6, 20e6]);
}

#[test]
fn a_token_split_over_two_chunks_counts_in_the_first() {
    let (a, b, c) = (content("hel"), content("lo wor"), content("ld again"));
    let mut r = streamed(&[(&a, 0), (&b, 10), (&c, 30)]);
    r.fill_chunk_tokens(Some(&common::tokenizer()));
    // "hello" starts in the first chunk, "world" in the second.
    assert_eq!(r.chunk_tokens, vec![1, 1, 1]);
    assert_eq!(r.token_gaps_ns(), vec![10e6, 20e6]);
}

#[test]
fn usage_on_only_some_chunks_is_not_used_per_chunk() {
    let with_usage = r#"{"choices":[{"delta":{"content":"a b"}}],"usage":{"completion_tokens":2}}"#;
    let c = content("c");
    let mut r = streamed(&[(with_usage, 0), (&c, 10)]);
    r.fill_chunk_tokens(None);
    assert_eq!(r.chunk_token_source, "chunks");
}

fn record_with_cache(ttft_ms: u64, cached: u64, prompt: u64) -> RequestRecord {
    let t0 = Instant::now();
    let mut r = RequestRecord::new(0, 0, t0, true);
    r.first_token = Some(t0 + Duration::from_millis(ttft_ms));
    r.done = Some(t0 + Duration::from_millis(ttft_ms + 10));
    let data = format!(
        r#"{{"choices":[],"usage":{{"prompt_tokens":{prompt},"completion_tokens":1,"prompt_tokens_details":{{"cached_tokens":{cached}}}}}}}"#
    );
    r.usage = apply_stream_event(data.as_bytes(), &mut OutputText::default())
        .expect("usage chunk")
        .usage;
    r
}

#[test]
fn prefix_cache_hits_and_misses_split_the_ttft() {
    let recs = [
        record_with_cache(100, 0, 64),
        record_with_cache(110, 0, 64),
        record_with_cache(20, 48, 64),
        record_with_cache(25, 48, 64),
        record_with_cache(30, 32, 64),
    ];
    let ok: Vec<&RequestRecord> = recs.iter().collect();
    let s = prefix_cache_split(&ok).expect("a split");
    assert_eq!((s.hits, s.misses, s.requests_reporting), (3, 2, 5));
    assert_eq!(s.cached_prompt_tokens, 128);
    assert_eq!(s.cached_token_fraction, Some(128.0 / 320.0));
    assert_eq!(s.ttft_hit.as_ref().map(|t| t.max), Some(30e6));
    assert_eq!(s.ttft_miss.as_ref().map(|t| t.min), Some(100e6));
    // No cached token anywhere: no split.
    let cold = [record_with_cache(100, 0, 64)];
    let ok: Vec<&RequestRecord> = cold.iter().collect();
    assert!(prefix_cache_split(&ok).is_none());
}

#[test]
fn embeddings_bodies_and_answers() {
    let prompts: Vec<Prompt> = ["a", "b", "c"]
        .iter()
        .map(|t| Prompt {
            text: t.to_string(),
            ..Prompt::default()
        })
        .collect();
    let mut o = RequestOptions::new(ApiKind::Embeddings, "emb", true);
    assert!(!o.stream, "embeddings are not streamed");
    o.embedding_inputs = 2;
    let b: Value = serde_json::from_slice(&o.build_body_at(&prompts, 2, None).unwrap()).unwrap();
    assert_eq!(b, serde_json::json!({"model": "emb", "input": ["c", "a"]}));
    let mut out = OutputText::default();
    let info = apply_full_response(
        ApiKind::Embeddings,
        br#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"model":"emb","usage":{"prompt_tokens":2,"total_tokens":2}}"#,
        &mut out,
    )
    .unwrap();
    assert_eq!(info.items, Some(1));
    assert!(matches!(
        apply_full_response(ApiKind::Embeddings, br#"{"object":"list"}"#, &mut out),
        Err(RequestError::InvalidJson { .. })
    ));
    // One vector for two inputs: a failed request with its reason.
    let t0 = Instant::now();
    let mut short = RequestRecord::new(0, 0, t0, false);
    short.items = info.items;
    short.done = Some(t0 + Duration::from_millis(5));
    let mut good = short.clone();
    good.items = Some(2);
    let mut recs = vec![short, good];
    annotate_records(&mut recs, &|_| None, None, Some(2));
    assert!(matches!(
        recs[0].error,
        Some(RequestError::EmbeddingCount { got: 1, sent: 2 })
    ));
    assert!(recs[1].ok());
    let a = Aggregate::new(&recs, &Slo::default(), &|_| None);
    let e = a.embeddings.expect("embedding stats");
    assert_eq!((e.items, e.inputs_per_request), (2, 2));
    assert_eq!(a.errors.get("embedding_count"), Some(&1));
}

#[test]
fn continuous_usage_only_when_asked_and_a_prompt_may_name_its_model() {
    let p = Prompt {
        text: "hi".into(),
        model: Some("lora-a".into()),
        ..Prompt::default()
    };
    let mut o = RequestOptions::new(ApiKind::Chat, "base", true);
    let b: Value = serde_json::from_slice(&o.build_body(&p, None).unwrap()).unwrap();
    assert_eq!(
        b["stream_options"],
        serde_json::json!({"include_usage": true})
    );
    assert_eq!(b["model"], "lora-a");
    o.continuous_usage = true;
    let b: Value = serde_json::from_slice(&o.build_body(&p, None).unwrap()).unwrap();
    assert_eq!(b["stream_options"]["continuous_usage_stats"], true);
}

#[test]
fn per_class_metrics_use_each_class_slo() {
    let t0 = Instant::now();
    let rec = |class: &str, ttft_ms: u64, ok: bool| {
        let mut r = RequestRecord::new(0, 0, t0, true);
        r.class = Some(class.to_string());
        r.first_token = Some(t0 + Duration::from_millis(ttft_ms));
        r.done = Some(t0 + Duration::from_millis(ttft_ms + 50));
        if !ok {
            r.error = Some(RequestError::Send {
                message: "x".into(),
            });
        }
        r
    };
    let recs = vec![
        rec("base", 10, true),
        rec("base", 20, true),
        rec("lora-a", 150, true),
        rec("lora-a", 250, true),
        rec("lora-a", 100, false),
    ];
    let slo = Slo {
        ttft_ms: Some(100.0),
        ..Slo::default()
    };
    let mut own = ClassSlos::new();
    own.insert(
        "lora-a".into(),
        Slo {
            ttft_ms: Some(200.0),
            ..Slo::default()
        },
    );
    let c = class_metrics(&recs, &slo, &own, 1.0);
    assert_eq!(c["base"].n_samples_issued, 2);
    assert_eq!(c["lora-a"].n_samples_failed, 1);
    assert_eq!(c["lora-a"].ttft.as_ref().map(|s| s.count), Some(2));
    assert_eq!(
        c["base"].goodput.as_ref().map(|g| g.requests_meeting_slo),
        Some(2)
    );
    // lora-a's own 200 ms: 150 passes, 250 and the failure do not.
    assert_eq!(
        c["lora-a"].goodput.as_ref().map(|g| g.requests_meeting_slo),
        Some(1)
    );
    assert_eq!(c["lora-a"].errors.get("send"), Some(&1));
}

// ---- Against the mock server (loopback) ----

use std::net::SocketAddr;

use yardstick_endpoint::api::ModelMix;
use yardstick_endpoint::mock::PrefixCacheConfig;
use yardstick_endpoint::{Bench, Dataset, MockConfig, MockMode, MockServer, UsageMode};

fn mock(cfg: MockConfig) -> MockServer {
    MockServer::start(cfg, SocketAddr::from(([127, 0, 0, 1], 0))).expect("mock")
}

fn simulated(ttft_ms: u64, tpot_ms: u64, tokens: u32) -> MockConfig {
    MockConfig {
        mode: MockMode::Simulated,
        ttft: Duration::from_millis(ttft_ms),
        tpot: Duration::from_millis(tpot_ms),
        output_tokens: tokens,
        ..MockConfig::default()
    }
}

fn texts(texts: &[String], max_tokens: u32) -> Dataset {
    Dataset {
        name: "test".into(),
        prompts: texts
            .iter()
            .map(|t| Prompt {
                text: t.clone(),
                max_tokens: Some(max_tokens),
                ..Prompt::default()
            })
            .collect(),
    }
}

/// The bar: with 4 tokens per chunk, a stream of 8 chunks yields 4x as
/// many per-token gaps as chunk gaps, each a quarter of its chunk gap;
/// tokens per chunk from continuous usage, else the tokenizer, else one
/// per chunk (and the summary says which).
#[test]
fn four_tokens_per_chunk_give_four_gaps_per_chunk_gap() {
    let server = mock(MockConfig {
        tokens_per_chunk: 4,
        ..simulated(5, 2, 32)
    });
    let run = |continuous: bool, tok: bool| {
        let mut cfg = common::config(&server.url(), ApiKind::Chat, true, Duration::from_secs(10));
        cfg.request.max_tokens = Some(32);
        cfg.request.force_max_tokens = true;
        cfg.request.continuous_usage = continuous;
        cfg.usage = UsageMode::Prefer;
        let tokenizer = tok.then(common::tokenizer);
        let b = Bench::new(cfg, common::dataset(4, "hello world"), tokenizer, None).expect("bench");
        b.run_concurrency(2, None, Some(6), 0).expect("run")
    };
    for (continuous, tok, source) in [
        (true, false, "usage"),
        (false, true, "tokenizer"),
        (true, true, "usage"),
    ] {
        let p = run(continuous, tok);
        assert_eq!(p.summary.metrics.n_samples_failed, 0, "{source}");
        for r in &p.records {
            assert_eq!(r.text_chunks, 8, "32 tokens in chunks of 4");
            assert_eq!(r.chunk_token_source, source);
            assert_eq!(r.chunk_tokens, vec![4; 8]);
            let gaps = r.token_gaps_ns();
            assert_eq!(gaps.len(), 4 * r.gaps_ns.len());
            for (j, &g) in r.gaps_ns.iter().enumerate() {
                for t in &gaps[4 * j..4 * j + 4] {
                    assert!((t - g as f64 / 4.0).abs() < 1e-6, "{t} vs {g}/4");
                }
            }
        }
        let m = &p.summary.metrics;
        let chunk_gaps = m.chunk_gap.as_ref().expect("chunk gaps").count;
        assert_eq!(chunk_gaps, 6 * 7);
        assert_eq!(m.itl_token.as_ref().expect("itl").count, 4 * chunk_gaps);
        assert_eq!(m.itl_token_source.get(source), Some(&6));
    }
    // Neither: one token per chunk, and said so.
    let p = run(false, false);
    let m = &p.summary.metrics;
    assert_eq!(m.itl_token_source.get("chunks"), Some(&6));
    assert_eq!(
        m.itl_token.as_ref().map(|s| s.count),
        m.chunk_gap.as_ref().map(|s| s.count)
    );
}

#[test]
fn reasoning_tokens_and_first_content_from_the_mock() {
    let server = mock(MockConfig {
        reasoning_tokens: 5,
        ..simulated(5, 4, 8)
    });
    let mut cfg = common::config(&server.url(), ApiKind::Chat, true, Duration::from_secs(10));
    cfg.usage = UsageMode::Prefer;
    let b = Bench::new(cfg, common::dataset(2, "hello world"), None, None).expect("bench");
    let p = b.run_concurrency(1, None, Some(3), 0).expect("run");
    assert_eq!(p.summary.metrics.n_samples_failed, 0);
    for r in &p.records {
        assert_eq!(r.reasoning_tokens(), Some(5));
        assert!(!r.output.reasoning.is_empty() && !r.output.content.is_empty());
        let (ttft, content) = (r.ttft_ns().unwrap(), r.ttft_content_ns().unwrap());
        assert!(content > ttft, "{ttft} {content}");
        // The five reasoning chunks carry no content; the sixth does, and
        // its arrival is the first-content stamp.
        assert!(r.chunk_ends[..5].iter().all(|&(_, c, _)| c == 0));
        assert!(r.chunk_ends[5].0 > 0 && r.chunk_ends[5].1 > 0);
        let sixth = r.gaps_ns[..5].iter().sum::<u64>();
        assert_eq!(content - ttft, sixth);
    }
    let m = &p.summary.metrics;
    assert_eq!(m.total_reasoning_tokens, 15);
    assert_eq!(m.ttft_content.as_ref().map(|s| s.count), Some(3));
}

/// A shared-prefix run shows prefix-cache hits with a lower TTFT than the
/// misses (the mock charges prefill per uncached prompt token).
#[test]
fn shared_prefixes_show_a_lower_ttft_for_hits() {
    let server = mock(MockConfig {
        prefill_per_token: Duration::from_micros(500),
        prefix_cache: Some(PrefixCacheConfig {
            block_tokens: 16,
            capacity_blocks: 4096,
        }),
        ..simulated(2, 1, 4)
    });
    // Two 96-word prefixes, each followed by a unique 4-word suffix.
    let prefix = |k: usize| vec![format!("p{k}"); 96].join(" ");
    let prompts: Vec<String> = (0..12)
        .map(|i| format!("{} s{i} t{i} u{i} v{i}", prefix(i % 2)))
        .collect();
    let mut cfg = common::config(&server.url(), ApiKind::Chat, true, Duration::from_secs(10));
    cfg.usage = UsageMode::Prefer;
    let b = Bench::new(cfg, texts(&prompts, 4), None, None).expect("bench");
    let p = b.run_concurrency(1, None, Some(12), 0).expect("run");
    let m = &p.summary.metrics;
    assert_eq!(m.n_samples_failed, 0);
    let pc = m
        .prefix_cache
        .as_ref()
        .expect("cached tokens were reported");
    assert!(pc.misses >= 2, "each prefix misses once: {pc:?}");
    assert!(pc.hits >= 8, "{pc:?}");
    let hit = pc.ttft_hit.as_ref().unwrap().median;
    let miss = pc.ttft_miss.as_ref().unwrap().median;
    // A miss prefills ~100 tokens (50 ms), a hit ~4 (2 ms).
    assert!(hit < miss, "hit p50 {hit} ns vs miss p50 {miss} ns");
}

#[test]
fn embeddings_count_vectors_and_items_per_second() {
    let server = mock(simulated(2, 1, 4));
    let mut cfg = common::config(
        &server.url(),
        ApiKind::Embeddings,
        true,
        Duration::from_secs(10),
    );
    cfg.request.embedding_inputs = 3;
    cfg.usage = UsageMode::Prefer;
    let prompts: Vec<String> = (0..5).map(|i| format!("text number {i}")).collect();
    let b = Bench::new(cfg, texts(&prompts, 4), None, None).expect("bench");
    assert_eq!(b.target.path, "/v1/embeddings");
    let p = b.run_concurrency(2, None, Some(8), 0).expect("run");
    let m = &p.summary.metrics;
    assert_eq!(m.n_samples_failed, 0, "{:?}", m.first_error);
    let e = m.embeddings.as_ref().expect("embedding stats");
    assert_eq!((e.items, e.inputs_per_request), (24, 3));
    assert!(e.items_per_second > 0.0);
    assert!(m.latency.is_some() && m.ttft.is_none());
    assert!(p.records.iter().all(|r| r.items == Some(3)));
    // Input lengths count the three texts of each request (3 words each).
    let mut cfg = common::config(
        &server.url(),
        ApiKind::Embeddings,
        true,
        Duration::from_secs(10),
    );
    cfg.request.embedding_inputs = 3;
    cfg.usage = UsageMode::Prefer;
    let b = Bench::new(cfg, texts(&prompts, 4), Some(common::tokenizer()), None).expect("bench");
    let p = b.run_concurrency(1, None, Some(5), 0).expect("run");
    let isl = p
        .summary
        .metrics
        .input_sequence_lengths
        .as_ref()
        .expect("isl");
    assert_eq!((isl.min, isl.max), (9.0, 9.0));
}

#[test]
fn a_model_mix_sends_each_class_to_its_model_and_reports_it() {
    let server = mock(MockConfig {
        served_models: vec!["base".into(), "lora-a".into()],
        request_log: true,
        ..simulated(2, 1, 4)
    });
    let mut cfg = common::config(&server.url(), ApiKind::Chat, true, Duration::from_secs(10));
    cfg.usage = UsageMode::Prefer;
    cfg.request.model = "base".into();
    cfg.class_slos.insert(
        "lora-a".into(),
        Slo {
            ttft_ms: Some(60_000.0),
            ..Slo::default()
        },
    );
    let prompts: Vec<String> = (0..40).map(|i| format!("prompt {i}")).collect();
    let mut data = texts(&prompts, 4);
    ModelMix::parse("base=2,lora-a=1")
        .unwrap()
        .assign(&mut data.prompts, 7);
    let b = Bench::new(cfg, data, None, None).expect("bench");
    let p = b.run_concurrency(1, None, Some(40), 0).expect("run");
    let m = &p.summary.metrics;
    assert_eq!(m.n_samples_failed, 0, "{:?}", m.first_error);
    let (base, lora) = (&m.classes["base"], &m.classes["lora-a"]);
    assert_eq!(base.n_samples_issued + lora.n_samples_issued, 40);
    assert!(base.n_samples_issued > lora.n_samples_issued, "weights 2:1");
    assert!(lora.n_samples_issued >= 5);
    assert!(base.ttft.is_some() && lora.tpot.is_some());
    assert!(base.goodput.is_none(), "no SLO for base");
    assert_eq!(
        lora.goodput.as_ref().map(|g| g.requests_meeting_slo),
        Some(lora.n_samples_issued)
    );
    // The server saw each request under its class's model (one at a time:
    // arrival order is issue order).
    let log = server.request_log();
    assert_eq!(log.len(), 40);
    let mut recs: Vec<&RequestRecord> = p.records.iter().collect();
    recs.sort_by_key(|r| r.seq);
    for (r, l) in recs.iter().zip(&log) {
        assert_eq!(r.class.as_deref(), l.model.as_deref());
    }
}

//! `yardstick endpoint`'s client-side token metrics end to end against the
//! mock server (127.0.0.1 only): per-token inter-token latency with several
//! tokens per chunk, reasoning tokens and first-content TTFT, embeddings,
//! request classes with their own SLOs, in the summary, the CSV and the
//! run record.

mod common;

use std::path::Path;

use common::{bin, read_json, start_mock, stdout, temp_scratch, text};
use serde_json::Value;

fn endpoint(url: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    bin()
        .args([
            "endpoint",
            "--url",
            url,
            "--synthetic",
            "40",
            "--input-tokens",
            "8",
            "--no-store",
            "-o",
        ])
        .arg(out)
        .args(extra)
        .output()
        .expect("run yardstick")
}

#[test]
fn tokens_per_chunk_reasoning_and_model_mix_are_reported() {
    let mock = start_mock(
        "120s",
        &[
            "--mode",
            "simulated",
            "--ttft",
            "5ms",
            "--tpot",
            "1ms",
            "--tokens-per-chunk",
            "4",
            "--reasoning-tokens",
            "4",
            "--served-model",
            "base",
            "--served-model",
            "lora-a",
        ],
    );
    let out = temp_scratch("ys-metrics", "mix");
    let o = endpoint(
        &mock.url,
        &out,
        &[
            "--concurrency",
            "2",
            "--requests",
            "30",
            "--output-tokens",
            "32",
            "--continuous-usage",
            "--model-mix",
            "base=2,lora-a=1",
            "--slo-ttft",
            "30s",
            "--slo-class",
            "lora-a:ttft=60s,tpot=10s",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s = read_json(&out.join("c2/result_summary.json"));
    assert_eq!(s["n_samples_failed"], 0, "{s}");
    // 4 reasoning + 32 answer tokens in chunks of 4: 9 chunks, 8 gaps, each
    // 4 per-token gaps; the tokens per chunk from the continuous usage.
    let chunk_gaps = s["chunk_gap"]["count"].as_u64().expect("chunk gaps");
    assert_eq!(chunk_gaps, 30 * 8, "{}", s["chunk_gap"]);
    assert_eq!(s["itl_token"]["count"].as_u64(), Some(4 * chunk_gaps));
    assert_eq!(s["itl_token_source"]["usage"], 30);
    assert_eq!(s["total_reasoning_tokens"], 30 * 4);
    assert!(s["ttft_content"]["median"].as_f64() > s["ttft"]["median"].as_f64());
    let classes = &s["classes"];
    let (base, lora) = (&classes["base"], &classes["lora-a"]);
    assert_eq!(
        base["n_samples_issued"].as_u64().unwrap() + lora["n_samples_issued"].as_u64().unwrap(),
        30
    );
    assert!(lora["ttft"]["count"].as_u64() > Some(0), "{classes}");
    assert_eq!(lora["goodput"]["slo"]["ttft_ms"], 60_000.0);
    assert_eq!(base["goodput"]["slo"]["ttft_ms"], 30_000.0);
    let printed = stdout(&o);
    assert!(
        printed.contains("inter-token latency per token"),
        "{printed}"
    );
    assert!(printed.contains("class lora-a:"), "{printed}");
    assert!(printed.contains("reasoning: 120 tokens"), "{printed}");

    // requests.csv: each request's class (the model it was sent to).
    let csv = std::fs::read_to_string(out.join("c2/requests.csv")).expect("csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (class, reasoning) = (col("class"), col("reasoning_tokens"));
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        assert!(["base", "lora-a"].contains(&f[class]), "{line}");
        assert_eq!(f[reasoning], "4");
    }

    // The run record: per-token ITL, first-content TTFT, per-class series.
    let run = read_json(&out.join("c2/run.json"));
    let lat = &run["latencies"];
    for name in [
        "itl_token",
        "chunk_gap",
        "ttft_content",
        "ttft@lora-a",
        "e2e@base",
    ] {
        assert!(lat[name].is_object(), "no latency {name}: {lat}");
    }
    assert!(run["extra"]["classes"]["lora-a"].is_object());
    let metric = |name: &str| {
        run["metrics"]
            .as_array()
            .and_then(|m| m.iter().find(|v| v["name"] == name))
            .map(|v| v["value"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(metric("reasoning_tokens"), 120.0);
}

#[test]
fn embeddings_report_vectors_per_second() {
    let mock = start_mock("120s", &["--mode", "simulated", "--ttft", "2ms"]);
    let out = temp_scratch("ys-metrics", "emb");
    let o = endpoint(
        &mock.url,
        &out,
        &[
            "--api",
            "embeddings",
            "--served-model",
            "mock",
            "--embedding-inputs",
            "3",
            "--concurrency",
            "2",
            "--requests",
            "12",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s = read_json(&out.join("c2/result_summary.json"));
    assert_eq!(s["api"], "embeddings");
    assert_eq!(s["n_samples_completed"], 12);
    assert_eq!(s["embeddings"]["items"], 36);
    assert_eq!(s["embeddings"]["inputs_per_request"], 3);
    assert!(s["embeddings"]["items_per_second"].as_f64() > Some(0.0));
    assert!(s["latency"]["count"].as_u64() == Some(12));
    assert!(
        stdout(&o).contains("embeddings: 36 vectors"),
        "{}",
        text(&o)
    );
}

#[test]
fn slo_search_fails_a_trial_when_one_class_misses_its_own_slo() {
    let mock = start_mock(
        "120s",
        &[
            "--mode",
            "simulated",
            "--ttft",
            "20ms",
            "--tpot",
            "1ms",
            "--served-model",
            "base",
            "--served-model",
            "lora-a",
        ],
    );
    let out = temp_scratch("ys-metrics", "search");
    // base's SLO is loose; lora-a's TTFT objective (1 ms) is below the
    // mock's 20 ms: every trial fails on lora-a alone.
    let o = endpoint(
        &mock.url,
        &out,
        &[
            "--slo-search",
            "concurrency",
            "--requests",
            "12",
            "--output-tokens",
            "4",
            "--model-mix",
            "base=1,lora-a=1",
            "--slo-ttft",
            "30s",
            "--slo-class",
            "lora-a:ttft=1ms",
        ],
    );
    let printed = stdout(&o);
    assert!(
        printed.contains("of class lora-a (the worst class)") && printed.contains("FAIL"),
        "{}",
        text(&o)
    );
    assert!(printed.contains("no trial met the SLOs"), "{}", text(&o));
}

#[test]
fn a_jsonl_field_gives_the_request_classes() {
    let mock = start_mock("120s", &["--mode", "simulated", "--ttft", "2ms"]);
    let dir = temp_scratch("ys-metrics", "tags");
    let data = dir.join("data.jsonl");
    let mut rows = String::new();
    for i in 0..12 {
        let tag = match i % 3 {
            0 => r#","tag":"chat""#,
            1 => r#","tag":"code""#,
            _ => "",
        };
        rows.push_str(&format!("{{\"prompt\":\"question {i}\"{tag}}}\n"));
    }
    // A row without a prompt is skipped by the loader; the walk stays aligned.
    rows.insert_str(0, "{\"tag\":\"chat\"}\n");
    std::fs::write(&data, rows).unwrap();
    let out = dir.join("out");
    let o = bin()
        .args(["endpoint", "--url", &mock.url, "--dataset"])
        .arg(&data)
        .args([
            "--class-field",
            "tag",
            "--concurrency",
            "1",
            "--requests",
            "12",
            "--max-tokens",
            "4",
            "--no-store",
            "-o",
        ])
        .arg(&out)
        .output()
        .expect("run yardstick");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s = read_json(&out.join("c1/result_summary.json"));
    let c = &s["classes"];
    assert_eq!(c["chat"]["n_samples_issued"], 4, "{c}");
    assert_eq!(c["code"]["n_samples_issued"], 4, "{c}");
    assert_eq!(c["none"]["n_samples_issued"], 4, "{c}");
    let jsonl = std::fs::read_to_string(out.join("c1/requests.jsonl")).expect("jsonl");
    for line in jsonl.lines() {
        let r: Value = serde_json::from_str(line).expect("json");
        let prompt_no: u64 = r["sample"].as_u64().expect("sample");
        let want = match prompt_no % 3 {
            0 => "chat",
            1 => "code",
            _ => "none",
        };
        assert_eq!(r["class"], want, "{line}");
    }
    assert!(text(&o).contains("4 of 12 prompts have no `tag` field"));
}

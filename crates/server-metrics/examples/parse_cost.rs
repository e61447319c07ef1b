//! What one scrape costs the scraping thread: parsing and summarising a
//! vLLM-sized `/metrics` page (two models, two engine replicas, 40 families
//! of which 15 histograms of 30 buckets), timed over many repeats.
//!
//! `cargo run --release -p yardstick-server-metrics --example parse_cost`

use std::fmt::Write as _;
use std::time::Instant;

use yardstick_server_metrics::{
    parse_exposition, parse_recognised, Collector, Exposition, ParseError,
};

type Parse = fn(&str) -> Result<Exposition, ParseError>;

fn page(scrape: u64) -> String {
    let mut s = String::new();
    let labels = [
        ("0", "meta-llama/Llama-3.1-8B-Instruct"),
        ("1", "meta-llama/Llama-3.1-8B-Instruct"),
        ("0", "lora-a"),
        ("1", "lora-a"),
    ];
    for f in 0..25 {
        let (name, kind) = match f {
            0 => ("vllm:num_requests_running".to_string(), "gauge"),
            1 => ("vllm:num_requests_waiting".to_string(), "gauge"),
            2 => ("vllm:kv_cache_usage_perc".to_string(), "gauge"),
            3 => ("vllm:prefix_cache_queries_total".to_string(), "counter"),
            4 => ("vllm:prefix_cache_hits_total".to_string(), "counter"),
            5 => ("vllm:generation_tokens_total".to_string(), "counter"),
            6 => ("vllm:prompt_tokens_total".to_string(), "counter"),
            n => (format!("vllm:other_metric_{n}_total"), "counter"),
        };
        let _ = writeln!(s, "# HELP {name} Some help text for {name}.");
        let _ = writeln!(s, "# TYPE {name} {kind}");
        for (engine, model) in labels {
            let _ = writeln!(
                s,
                "{name}{{engine=\"{engine}\",model_name=\"{model}\"}} {}",
                scrape * 17 + f
            );
        }
    }
    for h in 0..15 {
        let name = format!("vllm:histogram_{h}_seconds");
        let _ = writeln!(s, "# HELP {name} Histogram of something in seconds.");
        let _ = writeln!(s, "# TYPE {name} histogram");
        for (engine, model) in labels {
            let mut count = 0;
            for b in 0..30 {
                count += b;
                let _ = writeln!(
                    s,
                    "{name}_bucket{{engine=\"{engine}\",le=\"{}\",model_name=\"{model}\"}} {count}.0",
                    0.001 * (1u64 << (b % 20)) as f64
                );
            }
            let _ = writeln!(
                s,
                "{name}_bucket{{engine=\"{engine}\",le=\"+Inf\",model_name=\"{model}\"}} {count}.0"
            );
            let _ = writeln!(
                s,
                "{name}_count{{engine=\"{engine}\",model_name=\"{model}\"}} {count}.0"
            );
            let _ = writeln!(
                s,
                "{name}_sum{{engine=\"{engine}\",model_name=\"{model}\"}} 12.5"
            );
        }
    }
    s
}

fn main() {
    let repeats = 300u64;
    let pages: Vec<String> = (0..repeats).map(page).collect();
    println!(
        "page {} bytes, {} lines",
        pages[0].len(),
        pages[0].lines().count()
    );
    for (what, parse) in [
        (
            "the whole page (the first scrape)",
            parse_exposition as Parse,
        ),
        (
            "recognised families only (every later scrape)",
            parse_recognised as Parse,
        ),
    ] {
        let mut collector = Collector::new();
        let start = Instant::now();
        for (i, p) in pages.iter().enumerate() {
            let e = parse(p).expect("parses");
            collector.add(i as f64, &e.samples);
        }
        let per_scrape = start.elapsed().as_secs_f64() / repeats as f64;
        let m = collector.finish("x", 1.0);
        println!(
            "{what}: parse + summarise {:.0} us per scrape ({:.3}% of one core at one scrape per second); {} gauges, {} counters",
            per_scrape * 1e6,
            per_scrape * 100.0,
            m.gauges.len(),
            m.counters.len()
        );
    }
}

//! Prometheus text (format 0.0.4) to flat samples, through
//! `openmetrics-parser`, one metric family at a time.

use std::panic::{catch_unwind, AssertUnwindSafe};

use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::PrometheusValue;

/// One series' value in one scrape: histograms and summaries give their
/// `_sum` and `_count` (buckets and quantiles are left out).
#[derive(Debug, Clone, PartialEq)]
pub struct FlatSample {
    /// The metric name as exposed (`vllm:prompt_tokens_total`,
    /// `tgi_request_generated_tokens_sum`).
    pub name: String,
    /// `k="v"` pairs sorted by name, comma-separated (values escaped as in
    /// the exposition format).
    pub labels: String,
    pub value: f64,
}

/// Why a text is not (or not all) Prometheus text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line of the text.
    pub line: usize,
    /// The parser's complaint, on one line. (openmetrics-parser's error
    /// type is only `Display`: its text is all there is to keep.)
    pub message: String,
}

/// A parsed exposition: the samples of every family that parsed, and the
/// families that did not (a server with one odd family still gives the
/// rest).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exposition {
    pub samples: Vec<FlatSample>,
    pub skipped_families: Vec<ParseError>,
}

/// The lines of one metric family, with their line numbers in the text.
struct Chunk<'a> {
    /// The family's name (of its `# TYPE`/`# HELP`, else of its first
    /// sample).
    family: &'a str,
    lines: Vec<(usize, &'a str)>,
}

/// The metric name of a `# HELP name ...` or `# TYPE name ...` line.
fn descriptor_name(line: &str) -> Option<&str> {
    let rest = line.strip_prefix('#')?.trim_start();
    let rest = rest
        .strip_prefix("HELP ")
        .or_else(|| rest.strip_prefix("TYPE "))?;
    rest.split_whitespace().next()
}

fn sample_name(line: &str) -> &str {
    let end = line.find(['{', ' ', '\t']).unwrap_or(line.len());
    &line[..end]
}

/// Whether the sample `name` belongs to the family `family` (histogram and
/// summary series, counters' `_total`, `_created`).
pub(crate) fn belongs(name: &str, family: &str) -> bool {
    name == family
        || name.strip_prefix(family).is_some_and(|suffix| {
            matches!(
                suffix,
                "_bucket" | "_sum" | "_count" | "_created" | "_total" | "_info"
            )
        })
}

/// Splits the text into metric families. The parser attaches an untyped
/// sample that follows a typed family to that family (and fails), and one
/// bad family would fail the whole text; parsed one family at a time, a
/// bad family costs only itself and its line number is exact.
fn chunks(text: &str) -> Vec<Chunk<'_>> {
    let mut out: Vec<Chunk<'_>> = Vec::new();
    let mut family: Option<&str> = None;
    let mut has_sample = false;
    for (i, raw) in text.lines().enumerate() {
        // Trailing blanks (and \r) are tolerated by Prometheus itself; the
        // parser's grammar is stricter.
        let line = raw.trim_end();
        if line.trim_start().is_empty() {
            continue;
        }
        let number = i + 1;
        if line.starts_with('#') {
            // Plain comments carry nothing.
            let Some(name) = descriptor_name(line) else {
                continue;
            };
            if out.is_empty() || has_sample || family != Some(name) {
                out.push(Chunk {
                    family: name,
                    lines: Vec::new(),
                });
                family = Some(name);
                has_sample = false;
            }
            if let Some(c) = out.last_mut() {
                c.lines.push((number, line));
            }
            continue;
        }
        let name = sample_name(line);
        if !family.is_some_and(|f| belongs(name, f)) {
            out.push(Chunk {
                family: name,
                lines: Vec::new(),
            });
            family = Some(name);
        }
        has_sample = true;
        if let Some(c) = out.last_mut() {
            c.lines.push((number, line));
        }
    }
    out
}

/// One line out of the parser's message (pest's are several lines, with
/// ` --> L:C` and `= expected ...`), and the chunk-relative line it names.
fn condense(message: &str) -> (Option<usize>, String) {
    let position = message.lines().find_map(|l| {
        let (line, _col) = l.trim().strip_prefix("--> ")?.split_once(':')?;
        line.trim().parse::<usize>().ok()
    });
    let expected = message
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("= ").map(str::to_string));
    let text = expected.unwrap_or_else(|| message.lines().next().unwrap_or("").trim().to_string());
    (position, text)
}

fn snippet(line: &str) -> String {
    let mut s: String = line.chars().take(60).collect();
    if s.len() < line.len() {
        s.push('…');
    }
    s
}

fn parse_chunk(chunk: &Chunk<'_>, out: &mut Vec<FlatSample>) -> Result<(), ParseError> {
    let mut text = String::new();
    for (_, l) in &chunk.lines {
        text.push_str(l);
        text.push('\n');
    }
    let first_line = chunk.lines.first().map_or(1, |(n, _)| *n);
    // The parser unwraps in places; a panic on a server's odd text must
    // not take the scraper down with it.
    let parsed =
        catch_unwind(AssertUnwindSafe(|| parse_prometheus(&text))).map_err(|_| ParseError {
            line: first_line,
            message: "the parser gave up on this family".into(),
        })?;
    let exposition = parsed.map_err(|e| {
        let (position, message) = condense(&e.to_string());
        let (line, text) = position
            .and_then(|p| chunk.lines.get(p.saturating_sub(1)))
            .copied()
            .unwrap_or((first_line, chunk.lines.first().map_or("", |(_, l)| l)));
        ParseError {
            line,
            message: format!("{message}: `{}`", snippet(text)),
        }
    })?;
    for (name, family) in &exposition.families {
        for sample in family.iter_samples() {
            let labels = match sample.get_labelset() {
                Ok(set) => {
                    let mut pairs: Vec<String> = set
                        .iter()
                        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                        .collect();
                    pairs.sort();
                    pairs.join(",")
                }
                Err(_) => String::new(),
            };
            let mut push = |name: String, value: f64| {
                out.push(FlatSample {
                    name,
                    labels: labels.clone(),
                    value,
                })
            };
            match &sample.value {
                PrometheusValue::Gauge(n) | PrometheusValue::Unknown(n) => {
                    push(name.clone(), n.as_f64())
                }
                PrometheusValue::Counter(c) => push(name.clone(), c.value.as_f64()),
                PrometheusValue::Histogram(h) => {
                    if let Some(sum) = h.sum {
                        push(format!("{name}_sum"), sum.as_f64());
                    }
                    if let Some(count) = h.count {
                        push(format!("{name}_count"), count as f64);
                    }
                }
                PrometheusValue::Summary(s) => {
                    if let Some(sum) = s.sum {
                        push(format!("{name}_sum"), sum.as_f64());
                    }
                    if let Some(count) = s.count {
                        push(format!("{name}_count"), count as f64);
                    }
                }
            }
        }
    }
    Ok(())
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Parses a `/metrics` answer. Families that do not parse are skipped and
/// listed; a text of which no family parses (an HTML page, JSON, an error
/// message) is not Prometheus text: the first bad line is the error. An
/// empty text (or comments only) is an exposition with no samples.
pub fn parse_exposition(text: &str) -> Result<Exposition, ParseError> {
    parse_families(&chunks(text))
}

/// As [`parse_exposition`], parsing only the families that hold a
/// recognised metric ([`crate::recognise`]): what a scrape after the first
/// needs, at a fraction of the cost (a vLLM page is mostly histograms
/// nobody reads here). A text with none of them is parsed whole, so that
/// an answer that is not Prometheus text is still told apart.
pub fn parse_recognised(text: &str) -> Result<Exposition, ParseError> {
    let all = chunks(text);
    let wanted: Vec<Chunk<'_>> = all
        .iter()
        .filter(|c| crate::recognise::is_wanted_family(c.family))
        .map(|c| Chunk {
            family: c.family,
            lines: c.lines.clone(),
        })
        .collect();
    if wanted.is_empty() {
        return parse_families(&all);
    }
    parse_families(&wanted)
}

fn parse_families(chunks: &[Chunk<'_>]) -> Result<Exposition, ParseError> {
    let mut samples = Vec::new();
    let mut skipped = Vec::new();
    for chunk in chunks {
        if let Err(e) = parse_chunk(chunk, &mut samples) {
            skipped.push(e);
        }
    }
    if samples.is_empty() {
        if let Some(first) = skipped.into_iter().next() {
            return Err(first);
        }
        return Ok(Exposition::default());
    }
    samples.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.labels.cmp(&b.labels)));
    Ok(Exposition {
        samples,
        skipped_families: skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VLLM: &str = r#"# HELP python_gc_objects_collected_total Objects collected during gc
# TYPE python_gc_objects_collected_total counter
python_gc_objects_collected_total{generation="0"} 12345.0
# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="meta-llama/Llama-3.1-8B"} 3.0
vllm:num_requests_running{engine="1",model_name="meta-llama/Llama-3.1-8B"} 2.0
# HELP vllm:prompt_tokens_total Number of prefill tokens processed.
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{engine="0",model_name="meta-llama/Llama-3.1-8B"} 1024.0
# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_sum{engine="0",model_name="m"} 0.5
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.001",model_name="m"} 0.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="m"} 6.0
vllm:time_to_first_token_seconds_count{engine="0",model_name="m"} 6.0
# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig
# TYPE vllm:cache_config_info gauge
vllm:cache_config_info{block_size="16",model_name="a \"q\" , b=c"} 1.0
"#;

    fn value(e: &Exposition, name: &str, labels: &str) -> Option<f64> {
        e.samples
            .iter()
            .find(|s| s.name == name && s.labels == labels)
            .map(|s| s.value)
    }

    #[test]
    fn vllm_names_with_colons_labels_and_histograms() {
        let e = parse_exposition(VLLM).unwrap();
        assert!(e.skipped_families.is_empty(), "{:?}", e.skipped_families);
        assert_eq!(
            value(
                &e,
                "vllm:num_requests_running",
                r#"engine="1",model_name="meta-llama/Llama-3.1-8B""#
            ),
            Some(2.0)
        );
        assert_eq!(
            value(
                &e,
                "vllm:prompt_tokens_total",
                r#"engine="0",model_name="meta-llama/Llama-3.1-8B""#
            ),
            Some(1024.0)
        );
        assert_eq!(
            value(
                &e,
                "vllm:time_to_first_token_seconds_count",
                r#"engine="0",model_name="m""#
            ),
            Some(6.0)
        );
        assert_eq!(
            value(
                &e,
                "vllm:cache_config_info",
                r#"block_size="16",model_name="a \"q\" , b=c""#
            ),
            Some(1.0)
        );
    }

    #[test]
    fn html_is_not_prometheus_text_and_names_its_line() {
        let err = parse_exposition("\n<html>\n<body>nope</body>\n").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        assert!(err.message.contains("<html>"), "{err}");
    }

    #[test]
    fn a_bad_line_after_good_families_skips_only_its_family() {
        let text = "# TYPE a gauge\na 1\n# TYPE b gauge\nb{x=\"1\"} 2\nthis is not prometheus\n";
        let e = parse_exposition(text).unwrap();
        assert_eq!(value(&e, "a", ""), Some(1.0));
        assert_eq!(value(&e, "b", "x=\"1\""), Some(2.0));
        assert_eq!(e.skipped_families.len(), 1);
        assert_eq!(e.skipped_families[0].line, 5);
    }

    #[test]
    fn untyped_samples_trailing_blanks_and_crlf_are_read() {
        let text = "# TYPE a gauge\r\na 1 \r\nplain_untyped 7\nllamacpp:requests_deferred 3\n";
        let e = parse_exposition(text).unwrap();
        assert!(e.skipped_families.is_empty(), "{:?}", e.skipped_families);
        assert_eq!(value(&e, "a", ""), Some(1.0));
        assert_eq!(value(&e, "plain_untyped", ""), Some(7.0));
        assert_eq!(value(&e, "llamacpp:requests_deferred", ""), Some(3.0));
    }

    #[test]
    fn only_recognised_families_are_parsed_after_the_first_scrape() {
        let text = format!("{VLLM}# TYPE broken gauge\nbroken{{ 1\n");
        let whole = parse_exposition(&text).unwrap();
        assert_eq!(whole.skipped_families.len(), 1);
        let recognised = parse_recognised(&text).unwrap();
        assert!(recognised.skipped_families.is_empty());
        let names: Vec<&str> = recognised.samples.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "vllm:num_requests_running",
                "vllm:num_requests_running",
                "vllm:prompt_tokens_total"
            ]
        );
        // Nothing recognised: the whole text, so garbage is still garbage.
        assert!(parse_recognised("<html>\n").is_err());
        assert_eq!(
            parse_recognised("# TYPE other gauge\nother 1\n")
                .unwrap()
                .samples
                .len(),
            1
        );
    }

    #[test]
    fn quirks_seen_in_the_wild_are_read() {
        // Empty braces, a family with HELP only, untyped series one after
        // another after a typed one, an empty label value.
        let text = "# TYPE vllm:kv_cache_usage_perc gauge\n\
                    vllm:kv_cache_usage_perc 0.42\n\
                    vllm:num_requests_running{} 2\n\
                    vllm:num_requests_waiting 0\n\
                    # HELP vllm:cache_config_info Information\n\
                    vllm:cache_config_info{block_size=\"16\",num_gpu_blocks=\"None\"} 1.0\n\
                    vllm:lora_requests_info{running_lora_adapters=\"\"} 1.7e9\n";
        let e = parse_exposition(text).unwrap();
        assert!(e.skipped_families.is_empty(), "{:?}", e.skipped_families);
        assert_eq!(value(&e, "vllm:kv_cache_usage_perc", ""), Some(0.42));
        assert_eq!(value(&e, "vllm:num_requests_running", ""), Some(2.0));
        assert_eq!(value(&e, "vllm:num_requests_waiting", ""), Some(0.0));
        assert_eq!(
            value(&e, "vllm:lora_requests_info", "running_lora_adapters=\"\""),
            Some(1.7e9)
        );
    }

    #[test]
    fn empty_text_has_no_samples() {
        assert_eq!(parse_exposition("").unwrap(), Exposition::default());
        assert_eq!(
            parse_exposition("# just a comment\n").unwrap(),
            Exposition::default()
        );
    }
}

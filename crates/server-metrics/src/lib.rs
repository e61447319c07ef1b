//! yardstick-server-metrics: what a model server says about itself.
//!
//! LLM servers publish their own state as Prometheus text on `/metrics`:
//! requests running and waiting, KV-cache use, prefix-cache hits, tokens
//! processed. Scraped during a run and kept beside the client's own
//! numbers, they explain them (a TTFT that grows because requests queue, a
//! cache that fills). This crate turns scrapes into the run record's
//! [`ServerMetrics`](yardstick_record::ServerMetrics); it does no I/O (the
//! endpoint crate scrapes, on its own thread).
//!
//! - [`parse_exposition`]: Prometheus text to flat samples (histograms and
//!   summaries as `_sum` and `_count`), one metric family at a time, so a
//!   bad family costs only itself; a text no family of which parses is not
//!   Prometheus text, and the error names its line.
//! - [`recognise`]: the table of engine names (vLLM, SGLang, TGI,
//!   llama.cpp, Triton, the built-in mock) under canonical names, summed
//!   over label sets (several models, several engine replicas); fractions
//!   take the largest.
//! - [`Collector`]: the scrapes of one run; gauges as min/mean/max,
//!   counters as their increase over the run (a drop is a server restart)
//!   and its rate, the prefix-cache hit rate (hit tokens / queried tokens
//!   from vLLM's counters, else SGLang's own hit-rate gauge), a series for
//!   charts, and the raw samples as CSV; [`summary_line`] prints a point's
//!   line.
//!
//! # The parser
//!
//! `openmetrics-parser` (0.5): a pest grammar of both the Prometheus 0.0.4
//! text format and OpenMetrics, kept up (UTF-8 quoted names, escapes and
//! exemplars in its latest release), with positioned syntax errors. The
//! obvious alternative, `prometheus-parse` (0.2.5, regex-based, last
//! release years ago), reads metric names as `\w+`: vLLM's and SGLang's
//! names (`vllm:num_requests_running`) hold a colon and are silently
//! dropped, and malformed lines are ignored rather than reported. Both
//! build offline from crates.io. openmetrics-parser is LGPL-3.0 (yardstick
//! is Apache-2.0): fine for a project that ships its source, worth knowing
//! for anyone who ships a closed binary. Its grammar is stricter than
//! Prometheus (trailing blanks, an untyped sample after a typed family):
//! [`parse_exposition`] trims lines and splits families before parsing.

mod collect;
mod parse;
pub mod recognise;

pub use collect::{increase, skipped, summary_line, Collector, CSV_HEADER, MAX_SERIES_POINTS};
pub use parse::{parse_exposition, parse_recognised, Exposition, FlatSample, ParseError};

/// The name of the raw samples file in a point's folder.
pub const RAW_FILE: &str = "server_metrics.csv";

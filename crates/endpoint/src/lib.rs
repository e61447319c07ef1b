//! yardstick-endpoint: benchmarking LLM and model servers over HTTP.
//!
//! The client speaks OpenAI-compatible `/v1/chat/completions` and
//! `/v1/completions` (streamed as SSE or not) and plain JSON POST targets
//! (KServe v2 / Triton `/v2/models/{m}/infer`). It measures MLPerf
//! Endpoints' metrics (TTFT to the first chunk with text, TPOT as
//! `(completion - first chunk) / tokens after the first chunk`, inter-chunk
//! gaps, end-to-end latency, `system_tps`, `tps_per_user = 1000 / TPOT p90`)
//! under four kinds of load:
//!
//! - fixed concurrency (closed loop, MLPerf Endpoints' pattern) and a
//!   concurrency sweep giving the Pareto front ([`Bench::run_concurrency`]);
//! - a constant request rate (open loop, [`Bench::run_constant_rate`]);
//! - the core load generator's scenarios, the Server scenario being the
//!   Poisson open loop, with LoadGen's logs and results ([`Bench::run_core`]
//!   through [`HttpSut`]).
//!
//! Latency always counts from the time a request was due, so time a request
//! waits inside the client (for a connection, or behind a late timer) is
//! charged to the run, never hidden (no coordinated omission); the wait is
//! also reported on its own, with the delivered request rate.
//!
//! Threads: the client runs N shards, each an OS thread with a
//! single-threaded tokio runtime and its own connections ([`runtime`]).
//! Each body frame is stamped with its arrival `Instant` before parsing.
//!
//! [`mock`] is an OpenAI-compatible server for tests and for measuring the
//! client; [`probe`] checks what an endpoint serves.

pub mod api;
pub mod arrivals;
pub mod bench;
pub mod client;
pub mod content;
pub mod datafile;
pub mod dataset;
pub mod error;
pub mod import;
pub mod lengths;
pub mod metrics;
pub mod mock;
pub mod output;
pub mod probe;
pub mod record;
pub mod run_record;
pub mod runtime;
pub mod server_metrics;
pub mod session;
pub mod slo_search;
pub mod sse;
pub mod stamped_io;
pub mod sut;
pub mod template;
pub mod tls;
pub mod tokenize;

pub use api::{ApiKind, RequestOptions, Target};
pub use bench::{Bench, BenchConfig, PointResult, PointSummary, UsageMode};
pub use client::Timeouts;
pub use dataset::{Dataset, DatasetFormat, Prompt};
pub use error::{EndpointError, RequestError};
pub use metrics::{Slo, Stats};
pub use mock::{
    LoggedRequest, MockConfig, MockFault, MockMetrics, MockMode, MockServer, PrefixCacheConfig,
};
pub use record::RequestRecord;
pub use sut::HttpSut;
pub use template::ChatTemplate;
pub use tls::TlsTrust;
pub use tokenize::TokenCounter;

//! yardstick-scale: how a benchmark's throughput grows with the number of
//! GPUs of one host.
//!
//! * [`driver`]: the sweep. For each GPU count `n` the benchmark command is
//!   started with `CUDA_VISIBLE_DEVICES=0..n-1` (so a harness that uses
//!   every visible GPU runs one worker per GPU), recording turned on
//!   (`YARDSTICK_RECORD=1`) and NVLink multicast off; the run records it
//!   writes under the point's folder become the point.
//! * [`summary`]: from the points' records, per GPU count: throughput
//!   (Offline samples/s), the highest VALID Server QPS where the point ran
//!   Server trials, and scaling efficiency = value(n) / (n x value(1)).
//! * [`collectives`]: all-reduce and all-gather algorithm and bus
//!   bandwidth, as nccl-tests defines them, from the timings the probe
//!   (`python/yardstick/collectives.py`) measured.
//!
//! A leaf: it reads and writes run records, never the store or the core.

pub mod collectives;
pub mod driver;
pub mod summary;

pub use collectives::{bus_bandwidth_factor, Collective, CollectiveResult};
pub use driver::{GpuCounts, ScaleError};
pub use summary::{summarize, CountSummary, ScaleTag, SCALE_KEY};

//! yardstick-workloads: workload description files and the built-in
//! reference workload, Fashion-MNIST image classification.
//!
//! - [`spec`]: the workload file format (TOML) and the built-in workloads.
//! - [`idx`], [`dataset`]: IDX files and labelled image sets.
//! - [`model`]: the reference CNN (candle, CPU) and its safetensors weights;
//!   [`candle_model`]: the CNN as a [`batching::Model`].
//! - [`train`], [`mllog`]: training to a target accuracy with MLPerf
//!   Training's `:::MLLOG` logging and time-to-train.
//! - [`tensor`], [`sample`]: tensor specs and the sample sources behind
//!   the generic sample library.
//! - [`batching`], [`instance`]: the batching, multi-threaded SUT over any
//!   [`batching::Model`] (the CNN, an ONNX model) and the sample library
//!   that serve a workload to yardstick's load generator.

pub mod batching;
pub mod candle_model;
pub mod data;
pub mod dataset;
pub mod idx;
pub mod instance;
/// The `:::MLLOG` writer and reader now live in yardstick-formats.
pub use yardstick_formats::mllog;
pub mod model;
#[cfg(feature = "onnx")]
pub mod onnx;
pub mod sample;
#[cfg(feature = "onnx")]
pub mod short_form;
pub mod spec;
pub mod tensor;
pub mod train;

pub use instance::{Instance, OpenError};
pub use spec::{Workload, WorkloadError};

/// Sets the process up for CPU model work; call it first thing, before any
/// thread starts. Unless the user set `RAYON_NUM_THREADS`, candle's kernels
/// run single-threaded (`RAYON_NUM_THREADS=1`): the SUT's workers and the
/// trainer's shards already use every core, and candle's own threads
/// spin-wait at barriers, which on a small or shared machine costs more than
/// it gains. On glibc it also keeps freed memory in the heap (mmap and trim
/// thresholds raised), so the many short-lived tensors of a step do not each
/// cost page faults.
pub fn configure_cpu_runtime() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        std::env::set_var("RAYON_NUM_THREADS", "1");
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tunables; it is called before
    // other threads exist (documented requirement of this function).
    unsafe {
        // M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3 (malloc.h).
        libc::mallopt(-1, 256 << 20);
        libc::mallopt(-3, 32 << 20);
    }
}

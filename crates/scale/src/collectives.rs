//! NCCL collective bandwidth as nccl-tests defines it
//! (<https://github.com/NVIDIA/nccl-tests/blob/master/doc/PERFORMANCE.md>):
//!
//! * algorithm bandwidth `algbw = S / t`, with `S` the operation's size in
//!   bytes (all-reduce: the buffer each rank reduces; all-gather: the
//!   gathered output, every rank's part together) and `t` the time of one
//!   operation;
//! * bus bandwidth `busbw = algbw x factor`, the factor making the figure
//!   comparable with the links' peak whatever the rank count:
//!   all-reduce `2(n-1)/n`, all-gather `(n-1)/n`.
//!
//! At one rank both factors are 0: nothing crosses a link, so the bus
//! bandwidth is 0 by definition and the algorithm bandwidth measures a
//! local copy.
//!
//! The probe (`probe/collectives.py`, started by the driver) measures the
//! times; the bandwidths are computed here, once.

use serde::{Deserialize, Serialize};

use crate::driver::ScaleError;

/// The probe script, shipped inside the binary and written next to the
/// point's results when it runs.
pub const PROBE_SCRIPT: &str = include_str!("../probe/collectives.py");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Collective {
    AllReduce,
    AllGather,
}

impl Collective {
    pub fn as_str(self) -> &'static str {
        match self {
            Collective::AllReduce => "all_reduce",
            Collective::AllGather => "all_gather",
        }
    }
}

/// nccl-tests' bus bandwidth factor of `op` over `ranks` ranks.
pub fn bus_bandwidth_factor(op: Collective, ranks: u32) -> f64 {
    if ranks == 0 {
        return 0.0;
    }
    let n = f64::from(ranks);
    match op {
        Collective::AllReduce => 2.0 * (n - 1.0) / n,
        Collective::AllGather => (n - 1.0) / n,
    }
}

/// One timing of the probe: `iterations` operations of `bytes` each took
/// `seconds` on average.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeTiming {
    pub op: Collective,
    pub bytes: u64,
    pub iterations: u32,
    pub seconds: f64,
    /// Whether the probe's check of the result (the sum or the gathered
    /// ranks) passed.
    pub correct: bool,
}

/// What the probe writes (`collectives.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeOutput {
    pub world_size: u32,
    pub backend: String,
    #[serde(default)]
    pub device: Option<String>,
    #[serde(default)]
    pub torch: Option<String>,
    #[serde(default)]
    pub nccl: Option<String>,
    pub warmup: u32,
    pub timings: Vec<ProbeTiming>,
}

/// One collective at one size, with its bandwidths (GB/s = 1e9 bytes/s,
/// as nccl-tests prints them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectiveResult {
    pub op: Collective,
    pub ranks: u32,
    pub bytes: u64,
    pub iterations: u32,
    pub seconds: f64,
    pub algbw_gb_per_s: f64,
    pub busbw_gb_per_s: f64,
    pub correct: bool,
}

impl CollectiveResult {
    pub fn from_timing(t: &ProbeTiming, ranks: u32) -> CollectiveResult {
        let algbw = if t.seconds > 0.0 {
            t.bytes as f64 / t.seconds / 1e9
        } else {
            0.0
        };
        CollectiveResult {
            op: t.op,
            ranks,
            bytes: t.bytes,
            iterations: t.iterations,
            seconds: t.seconds,
            algbw_gb_per_s: algbw,
            busbw_gb_per_s: algbw * bus_bandwidth_factor(t.op, ranks),
            correct: t.correct,
        }
    }
}

/// The probe's output file, read and turned into results.
pub fn read_probe_output(text: &str) -> Result<(ProbeOutput, Vec<CollectiveResult>), ScaleError> {
    let out: ProbeOutput = serde_json::from_str(text).map_err(ScaleError::ProbeOutput)?;
    let results = out
        .timings
        .iter()
        .map(|t| CollectiveResult::from_timing(t, out.world_size))
        .collect();
    Ok((out, results))
}

/// `1 GiB`, `256 MiB`, `8 B`: sizes as the table prints them.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (size, unit) in UNITS {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{} {unit}", bytes / size);
        }
    }
    format!("{bytes} B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bus_bandwidth_factors_are_nccl_tests_ones() {
        assert_eq!(bus_bandwidth_factor(Collective::AllReduce, 1), 0.0);
        assert_eq!(bus_bandwidth_factor(Collective::AllReduce, 2), 1.0);
        assert_eq!(bus_bandwidth_factor(Collective::AllReduce, 4), 1.5);
        assert_eq!(bus_bandwidth_factor(Collective::AllReduce, 8), 1.75);
        assert_eq!(bus_bandwidth_factor(Collective::AllGather, 1), 0.0);
        assert_eq!(bus_bandwidth_factor(Collective::AllGather, 2), 0.5);
        assert_eq!(bus_bandwidth_factor(Collective::AllGather, 8), 0.875);
    }

    #[test]
    fn bandwidths_from_a_timing() {
        // 1 GiB all-reduce over 8 ranks in 5 ms: algbw 214.75 GB/s,
        // busbw x 1.75 = 375.8 GB/s.
        let t = ProbeTiming {
            op: Collective::AllReduce,
            bytes: 1 << 30,
            iterations: 20,
            seconds: 0.005,
            correct: true,
        };
        let r = CollectiveResult::from_timing(&t, 8);
        assert!((r.algbw_gb_per_s - 214.748_364_8).abs() < 1e-9);
        assert!((r.busbw_gb_per_s - 375.809_638_4).abs() < 1e-9);
        let g = CollectiveResult::from_timing(
            &ProbeTiming {
                op: Collective::AllGather,
                ..t
            },
            4,
        );
        assert!((g.busbw_gb_per_s - 214.748_364_8 * 0.75).abs() < 1e-9);
    }

    #[test]
    fn the_probe_output_is_read() {
        let text = r#"{"world_size": 2, "backend": "nccl", "device": "NVIDIA H100", "warmup": 5,
            "timings": [{"op": "all_reduce", "bytes": 1048576, "iterations": 20, "seconds": 0.0001, "correct": true},
                        {"op": "all_gather", "bytes": 8, "iterations": 20, "seconds": 0.00002, "correct": false}]}"#;
        let (out, results) = read_probe_output(text).unwrap();
        assert_eq!(out.world_size, 2);
        assert_eq!(results.len(), 2);
        assert!((results[0].busbw_gb_per_s - 10.485_76).abs() < 1e-9);
        assert!(!results[1].correct);
        assert!(read_probe_output("{\"world_size\": 2}").is_err());
    }

    #[test]
    fn sizes_print_in_binary_units() {
        assert_eq!(format_bytes(8), "8 B");
        assert_eq!(format_bytes(1 << 30), "1 GiB");
        assert_eq!(format_bytes(256 << 20), "256 MiB");
        assert_eq!(format_bytes(3000), "3000 B");
    }
}

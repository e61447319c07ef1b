//! Prints this machine's description (JSON), its MLPerf fields, and how long
//! the capture took: `cargo run -p yardstick-sysinfo --example describe`.

use std::time::Instant;

use yardstick_sysinfo::{capture, CaptureOptions};

fn main() -> Result<(), serde_json::Error> {
    let options = CaptureOptions::default();
    let started = Instant::now();
    let description = capture(&options);
    let with_gpus = started.elapsed();
    let started = Instant::now();
    capture(&CaptureOptions {
        probe_gpus: false,
        ..options
    });
    let without_gpus = started.elapsed();
    println!("{}", serde_json::to_string_pretty(&description)?);
    println!(
        "{}",
        serde_json::to_string_pretty(&description.mlperf_fields())?
    );
    eprintln!("capture: {with_gpus:?} with GPUs, {without_gpus:?} without");
    Ok(())
}

//! `capture` on the machine the tests run on (Linux): the probes that every
//! Linux machine can answer do answer, and the capture is quick.

use std::time::Instant;

use yardstick_sysinfo::{capture, CaptureOptions};

#[test]
fn this_linux_machine_is_described() {
    let options = CaptureOptions {
        probe_gpus: false,
        system_file: Some(std::env::temp_dir().join("yardstick-no-such-system.toml")),
        ..CaptureOptions::default()
    };
    // Warm the page cache, then time a capture (reported, not asserted: a
    // loaded CI machine must not fail this).
    capture(&options);
    let started = Instant::now();
    let d = capture(&options);
    eprintln!("capture without GPUs: {:?}", started.elapsed());

    assert!(d.cpu.model_name.is_some(), "{:?}", d.notes);
    let logical = d.cpu.logical_cpus.expect("logical CPUs");
    let usable = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    assert!(
        logical >= usable,
        "{logical} present CPUs < {usable} usable"
    );
    assert!(d
        .cpu
        .physical_cores()
        .is_some_and(|c| c >= 1 && c <= logical));
    let meminfo = std::fs::read_to_string("/proc/meminfo").expect("meminfo");
    assert!(meminfo.contains(&format!(
        "{} kB",
        d.memory.total_bytes.expect("memory") / 1024
    )));
    assert!(d.os.kernel_release.is_some());
    assert!(
        !d.storage.disks.is_empty() || !d.storage.filesystems.is_empty(),
        "{:?}",
        d.notes
    );
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
    assert_eq!(d.hostname.as_deref(), Some(hostname.trim()));
}

#[test]
fn gpus_are_probed_or_their_absence_explained() {
    let d = capture(&CaptureOptions {
        system_file: Some(std::env::temp_dir().join("yardstick-no-such-system.toml")),
        ..CaptureOptions::default()
    });
    eprintln!("gpus: {:#?}\nnotes: {:#?}", d.gpus, d.notes);
    if d.gpu_driver.is_none() {
        assert!(d.gpus.is_empty());
        assert!(
            d.notes.iter().any(|n| n.starts_with("no NVML: ")),
            "{:?}",
            d.notes
        );
    } else {
        assert_eq!(d.accelerators as usize, d.gpus.len());
        for gpu in &d.gpus {
            assert!(
                gpu.name.is_some() && gpu.memory_total_bytes.is_some_and(|m| m > 0),
                "{gpu:?}"
            );
        }
    }
}

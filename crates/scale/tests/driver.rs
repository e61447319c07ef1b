//! The sweep driver with a fake benchmark: a shell command that writes the
//! run record of its GPU count, and a fake "python" for the probe. No GPU.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use yardstick_record::{Better, Metric, RunKind, RunRecord, RunStatus, Verdict, WorkloadInfo};
use yardstick_scale::collectives::read_probe_output;
use yardstick_scale::driver::{Point, ProbeSpec};
use yardstick_scale::{summarize, Collective, GpuCounts};

fn offline_record(samples_per_second: f64) -> RunRecord {
    let mut r = RunRecord::new(
        RunKind::Python,
        chrono::Utc::now(),
        WorkloadInfo {
            name: "fake".into(),
            scenario: Some("Offline".into()),
            ..Default::default()
        },
    );
    r.status = RunStatus::Completed;
    r.validity.verdict = Verdict::Valid;
    r.metrics.push(Metric::new(
        "samples_per_second",
        samples_per_second,
        "samples/s",
        Better::Higher,
    ));
    r
}

/// A benchmark that "runs" on however many GPUs it is given: it copies the
/// record of its count into the point's folder and notes its environment.
fn fake_benchmark(templates: &Path) -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        "mkdir -p \"$YARDSTICK_SCALE_DIR/logs\" && cp \"$0/record-$YARDSTICK_SCALE_GPUS.json\" \"$YARDSTICK_SCALE_DIR/logs/run.json\" \
         && echo \"$CUDA_VISIBLE_DEVICES $NCCL_NVLS_ENABLE $YARDSTICK_RECORD\" > \"$1\""
            .into(),
        templates.display().to_string(),
        "{dir}/env-{gpus}.txt".into(),
    ]
}

#[test]
fn a_sweep_over_one_and_two_gpus_gives_the_efficiency() {
    let tmp = tempfile::tempdir().unwrap();
    let templates = tmp.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    for (gpus, sps) in [(1, 1000.0), (2, 1900.0)] {
        yardstick_record::write_record_to(
            &templates.join(format!("record-{gpus}.json")),
            &offline_record(sps),
        )
        .unwrap();
    }
    let out = tmp.path().join("sweep");
    let counts = GpuCounts::parse("1,2,4").unwrap();
    let (run, skipped) = counts.split(2);
    assert_eq!(skipped, vec![4]);
    let mut records = Vec::new();
    for gpus in run {
        let point = Point::new(gpus, &out, None);
        let status = point.run(&fake_benchmark(&templates)).unwrap();
        assert!(status.success());
        let env = std::fs::read_to_string(point.dir.join(format!("env-{gpus}.txt"))).unwrap();
        let want = if gpus == 1 { "0 0 1" } else { "0,1 0 1" };
        assert_eq!(env.trim(), want);
        let found = point.records().unwrap();
        assert_eq!(found.len(), 1);
        for (_, mut r) in found {
            let group = yardstick_record::GroupRef {
                id: "g-test".into(),
                kind: yardstick_record::GroupKind::Sweep,
                index: records.len() as u32,
                size: None,
                label: format!("{gpus} GPUs"),
            };
            point.tag(&mut r, group, &[]);
            records.push(r);
        }
    }
    let s = summarize(&records);
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].offline_samples_per_second, Some(1000.0));
    assert_eq!(s[0].offline_efficiency, Some(1.0));
    assert_eq!(s[1].offline_samples_per_second, Some(1900.0));
    assert!((s[1].offline_efficiency.unwrap() - 0.95).abs() < 1e-12);
    assert!(records
        .iter()
        .all(|r| r.group.as_ref().unwrap().id == "g-test"));
}

#[test]
fn the_probe_runs_with_the_points_gpus_and_its_output_becomes_bandwidths() {
    let tmp = tempfile::tempdir().unwrap();
    // A stand-in for python: `fake-python SCRIPT --out FILE ...` writes what
    // the real probe writes, with the world size it was given.
    let fake = tmp.path().join("fake-python");
    std::fs::write(
        &fake,
        "#!/bin/sh\nn=$(echo \"$CUDA_VISIBLE_DEVICES\" | tr ',' '\\n' | wc -l)\n\
         test -f \"$1\" || exit 3\n\
         printf '{\"world_size\": %s, \"backend\": \"nccl\", \"warmup\": 1, \"timings\": [{\"op\": \"all_reduce\", \"bytes\": 1000000000, \"iterations\": 2, \"seconds\": 0.01, \"correct\": true}]}' \"$n\" > \"$3\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let probe = ProbeSpec {
        python: fake.display().to_string(),
        min_bytes: 8,
        max_bytes: 1 << 20,
        step_factor: 4,
        warmup: 1,
        iterations: 2,
    };
    let point = Point::new(4, &tmp.path().join("sweep"), Some("3,4,5,6,7"));
    assert_eq!(point.visible_devices, "3,4,5,6");
    let (status, out) = probe.run(&point).unwrap();
    assert!(status.success());
    let (output, results) = read_probe_output(&std::fs::read_to_string(out).unwrap()).unwrap();
    assert_eq!(output.world_size, 4);
    assert_eq!(results[0].op, Collective::AllReduce);
    // 1e9 B in 10 ms: algbw 100 GB/s, busbw x 2(4-1)/4 = 150 GB/s.
    assert!((results[0].algbw_gb_per_s - 100.0).abs() < 1e-9);
    assert!((results[0].busbw_gb_per_s - 150.0).abs() < 1e-9);
}

//! On this machine, yardstick's MLPerf fields against MLCommons'
//! mlperf-sysinfo 1.0.0a12 (PyPI, profile `inference`): every field it writes
//! exists in ours, and the values are equal wherever both can know them. The
//! exceptions are listed in [`exception`] with their reasons.
//!
//! Needs the venv of `.ci/setup-sysinfo.sh` (<repo>/.venv-sysinfo). Without it
//! the test fails under CI (`CI=true`) and skips otherwise. The reference
//! capture takes about 40 s (mlc-scripts runs lscpu, df, lsblk, ...).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Map, Value};
use yardstick_sysinfo::{capture, CaptureOptions, SystemDescription, UserSystem};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether this is a CI run (`CI` set, as CI services do, and not "false").
fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The facts no probe can know, the same for both tools: into our system
/// file, and into mlperf-sysinfo's config by tests/sysinfo/reference_capture.py.
/// `framework` and `host_networking_topology` are left out: mlperf-sysinfo's
/// inference profile does not take them from its config (it writes "").
const FACTS: &[(&str, &str)] = &[
    ("system_name", "yardstick_ci_box"),
    ("submitter", "Yardstick"),
    ("submitter_contact", "ci@example.com"),
    ("division", "closed"),
    ("status", "available"),
    ("system_type", "datacenter"),
    ("system_type_detail", "a CI machine"),
    ("cooling", "air"),
    ("hw_notes", "hardware notes"),
    ("sw_notes", "software notes"),
    ("other_hardware", "none"),
];

/// Runs mlperf-sysinfo; None when its venv is not installed.
fn reference(dir: &Path) -> Option<Map<String, Value>> {
    let python = repo_root().join(".venv-sysinfo/bin/python");
    if !python.exists() {
        return None;
    }
    let facts: Map<String, Value> = FACTS
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let facts_path = dir.join("facts.json");
    std::fs::write(&facts_path, serde_json::to_vec(&facts).expect("json")).expect("write facts");
    let script = repo_root().join("tests/sysinfo/reference_capture.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(&facts_path)
        .arg(dir.join("reference"))
        .output()
        .expect("run reference_capture.py");
    assert!(
        out.status.success(),
        "mlperf-sysinfo capture failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let value: Value = serde_json::from_slice(&out.stdout).expect("mlperf-sysinfo wrote JSON");
    match value {
        Value::Object(map) => Some(map),
        other => panic!("mlperf-sysinfo wrote {other}, not an object"),
    }
}

/// Why a field's values are not compared, or None when they must be equal.
fn exception(field: &str, ours: &SystemDescription) -> Option<&'static str> {
    match field {
        // Its own provenance block (tool version, mlc-scripts commit, capture
        // time); ours is "yardstick" (version, commit), checked below.
        "mlperf_sysinfo" => Some("provenance of the tool that wrote the file"),
        // mlc-scripts reads DIMMs with dmidecode as root; yardstick does not
        // run privileged tools, so it leaves the field to the system file's
        // [mlperf] table (and must then say nothing rather than guess: see
        // below).
        "host_memory_configuration" => Some("DIMM layout needs dmidecode as root"),
        // mlc-scripts finds GPUs by compiling a CUDA program (nvcc), which a
        // plain machine lacks: the reference is captured with accelerator
        // "none". Where NVML sees GPUs ours are filled and theirs empty.
        "system_size"
        | "accelerator_model_name"
        | "accelerators_per_node"
        | "accelerator_memory_capacity"
        | "accelerator_memory_configuration"
        | "accelerator_host_interconnect"
        | "accelerator_interconnect"
        | "accelerator_interconnect_topology"
        | "accelerator_frequency"
        | "accelerator_on-chip_memories"
        | "other_software_stack"
            if !ours.gpus.is_empty() =>
        {
            Some("GPUs: NVML here, CUDA (nvcc) there")
        }
        _ => None,
    }
}

/// Values compared as sets of "; "-separated parts: mlc-scripts lists RDMA
/// devices in directory order, yardstick sorted.
fn unordered(field: &str) -> bool {
    field == "host_networking"
}

#[test]
fn every_mlperf_sysinfo_field_exists_in_ours_with_the_same_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(theirs) = reference(dir.path()) else {
        assert!(
            !is_ci(),
            "CI=true but mlperf-sysinfo is not installed: run .ci/setup-sysinfo.sh"
        );
        eprintln!("skipped: no .venv-sysinfo (run .ci/setup-sysinfo.sh); this fails under CI=true");
        return;
    };

    let mut user = UserSystem::default();
    for (key, value) in FACTS {
        assert!(user.set_text(key, value), "{key}");
    }
    let system_file = dir.path().join("system.toml");
    user.save(&system_file).expect("save the system file");
    let description = capture(&CaptureOptions {
        system_file: Some(system_file),
        ..CaptureOptions::default()
    });
    let ours = description.mlperf_fields();

    let mut compared = 0;
    let mut mismatches = Vec::new();
    for (field, their_value) in &theirs {
        if let Some(reason) = exception(field, &description) {
            eprintln!("not compared: {field} ({reason})");
            continue;
        }
        let Some(our_value) = ours.get(field) else {
            mismatches.push(format!("{field}: missing in ours (theirs {their_value})"));
            continue;
        };
        let equal = if unordered(field) {
            let parts = |v: &Value| {
                let mut parts: Vec<String> = v
                    .as_str()
                    .unwrap_or_default()
                    .split("; ")
                    .map(str::to_owned)
                    .collect();
                parts.sort();
                parts
            };
            parts(our_value) == parts(their_value)
        } else {
            our_value == their_value
        };
        if !equal {
            mismatches.push(format!("{field}: ours {our_value}, theirs {their_value}"));
        }
        compared += 1;
    }
    assert!(
        mismatches.is_empty(),
        "fields that differ from mlperf-sysinfo:\n  {}",
        mismatches.join("\n  ")
    );
    // Not a vacuous pass: the reference had the inference field set.
    assert!(
        compared >= 30,
        "only {compared} fields compared: {theirs:?}"
    );
    assert_eq!(theirs.get("number_of_nodes"), Some(&json!(1)));

    // Exceptions still exist in ours; what we cannot know we leave empty.
    for field in theirs.keys().filter(|f| *f != "mlperf_sysinfo") {
        assert!(ours.get(field).is_some(), "{field} missing in ours");
    }
    assert_eq!(ours.get("host_memory_configuration"), Some(&json!("")));
    let provenance = ours.get("yardstick").expect("our provenance block");
    assert_eq!(provenance["version"], json!(env!("CARGO_PKG_VERSION")));
    // Every field the submission checker requires.
    for field in yardstick_sysinfo::MLPERF_REQUIRED_FIELDS {
        assert!(
            ours.get(field).is_some(),
            "required field {field} missing in ours"
        );
        assert!(
            theirs.contains_key(*field),
            "required field {field} missing in theirs"
        );
    }
}

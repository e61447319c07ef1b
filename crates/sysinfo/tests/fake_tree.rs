//! `capture` over fake /proc, /sys and /etc trees: every probe reads what the
//! tree holds, and the MLPerf fields come out as mlperf-sysinfo would write
//! them for such a machine.

use std::fs;
use std::path::Path;

use serde_json::{json, Value};
use yardstick_sysinfo::{capture, CaptureOptions, UserSystem};

fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

/// Two sockets of two cores of two threads (8 CPUs), two NUMA nodes, 252 GiB,
/// Ubuntu 24.04, one NIC plus a bridge and an InfiniBand HCA, an NVMe disk,
/// a SATA HDD, a loop device and a RAM disk.
fn fake_server(root: &Path) {
    let mut cpuinfo = String::new();
    for cpu in 0..8 {
        cpuinfo.push_str(&format!(
            "processor\t: {cpu}\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\n\n"
        ));
        let dir = format!("sys/devices/system/cpu/cpu{cpu}");
        let package = cpu / 4;
        let core = cpu / 2;
        write(
            root,
            &format!("{dir}/topology/physical_package_id"),
            &format!("{package}\n"),
        );
        write(
            root,
            &format!("{dir}/topology/core_id"),
            &format!("{}\n", core % 2),
        );
        write(
            root,
            &format!("{dir}/topology/thread_siblings_list"),
            &format!("{}-{}\n", core * 2, core * 2 + 1),
        );
        write(
            root,
            &format!("{dir}/topology/core_siblings_list"),
            &format!("{}-{}\n", package * 4, package * 4 + 3),
        );
        write(
            root,
            &format!("{dir}/cpufreq/cpuinfo_max_freq"),
            "3500000\n",
        );
        let caches = [
            ("index0", "1", "Data", "48K", core),
            ("index1", "1", "Instruction", "32K", core),
            ("index2", "2", "Unified", "2048K", core),
            ("index3", "3", "Unified", "105M", package),
        ];
        for (index, level, kind, size, id) in caches {
            write(root, &format!("{dir}/cache/{index}/level"), level);
            write(root, &format!("{dir}/cache/{index}/type"), kind);
            write(root, &format!("{dir}/cache/{index}/size"), size);
            write(root, &format!("{dir}/cache/{index}/id"), &id.to_string());
        }
    }
    write(root, "proc/cpuinfo", &cpuinfo);
    write(root, "sys/devices/system/cpu/present", "0-7\n");
    write(root, "sys/devices/system/node/node0/cpulist", "0-3\n");
    write(root, "sys/devices/system/node/node1/cpulist", "4-7\n");
    write(root, "sys/devices/system/node/possible", "0-1\n");
    write(
        root,
        "proc/meminfo",
        "MemTotal:       264241152 kB\nMemFree:  1 kB\n",
    );
    write(
        root,
        "etc/os-release",
        "PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\nID=ubuntu\nID_LIKE=debian\n",
    );
    write(root, "proc/sys/kernel/osrelease", "6.8.0-45-generic\n");
    write(
        root,
        "proc/sys/kernel/version",
        "#45-Ubuntu SMP PREEMPT_DYNAMIC\n",
    );
    write(root, "proc/sys/kernel/hostname", "gpu-node-17\n");

    // Network: eth0 is backed by a PCI device, br0 and lo are virtual.
    fs::create_dir_all(root.join("sys/devices/pci0000:00/0000:00:03.0")).expect("mkdir");
    fs::create_dir_all(root.join("sys/class/net/eth0")).expect("mkdir");
    std::os::unix::fs::symlink(
        "../../../devices/pci0000:00/0000:00:03.0",
        root.join("sys/class/net/eth0/device"),
    )
    .expect("symlink");
    fs::create_dir_all(root.join("sys/class/net/br0")).expect("mkdir");
    fs::create_dir_all(root.join("sys/class/net/lo")).expect("mkdir");
    write(
        root,
        "sys/class/infiniband/mlx5_0/ports/1/link_layer",
        "InfiniBand\n",
    );

    // Disks.
    write(root, "sys/block/nvme0n1/queue/rotational", "0\n");
    write(root, "sys/block/nvme0n1/size", "3750748848\n");
    write(root, "sys/block/nvme0n1/dev", "259:0\n");
    write(root, "sys/block/sda/queue/rotational", "1\n");
    write(root, "sys/block/sda/device/model", "ST4000NM0035\n");
    write(root, "sys/block/sda/dev", "8:0\n");
    write(root, "sys/block/loop0/queue/rotational", "0\n");
    write(root, "sys/block/ram0/queue/rotational", "0\n");
    write(root, "sys/block/ram0/dev", "1:0\n");

    // One mount, of an NVMe partition: its size is whatever statvfs says of
    // the fake root's filesystem.
    write(
        root,
        "proc/mounts",
        "/dev/nvme0n1p1 / ext4 rw 0 0\nproc /proc proc rw 0 0\n",
    );
}

fn options(root: &Path) -> CaptureOptions {
    CaptureOptions {
        root: root.to_owned(),
        probe_gpus: false,
        system_file: Some(root.join("no-such-system.toml")),
        ..CaptureOptions::default()
    }
}

#[test]
fn probes_read_the_fake_tree() {
    let dir = tempfile::tempdir().expect("tempdir");
    fake_server(dir.path());
    let d = capture(&options(dir.path()));

    assert_eq!(
        d.cpu.model_name.as_deref(),
        Some("Intel(R) Xeon(R) Platinum 8480+")
    );
    assert_eq!(d.cpu.vendor_id.as_deref(), Some("GenuineIntel"));
    assert_eq!(d.cpu.sockets, Some(2));
    assert_eq!(d.cpu.cores_per_socket, Some(2));
    assert_eq!(d.cpu.threads_per_core, Some(2));
    assert_eq!(d.cpu.physical_cores(), Some(4));
    assert_eq!(d.cpu.logical_cpus, Some(8));
    assert_eq!(d.cpu.max_mhz, Some(3500.0));
    assert_eq!(d.cpu.numa_nodes, Some(2));
    let caches: Vec<(&str, u64, u32)> = d
        .cpu
        .caches
        .iter()
        .map(|c| (c.name.as_str(), c.total_bytes, c.instances))
        .collect();
    assert_eq!(
        caches,
        vec![
            ("L1d", 4 * 48 * 1024, 4),
            ("L1i", 4 * 32 * 1024, 4),
            ("L2", 4 * 2048 * 1024, 4),
            ("L3", 2 * 105 * 1024 * 1024, 2),
        ]
    );
    assert_eq!(d.memory.total_bytes, Some(264_241_152 * 1024));
    assert_eq!(d.os.id.as_deref(), Some("ubuntu"));
    assert_eq!(d.os.version_id.as_deref(), Some("24.04"));
    assert_eq!(d.os.kernel_release.as_deref(), Some("6.8.0-45-generic"));
    assert_eq!(d.hostname.as_deref(), Some("gpu-node-17"));
    assert_eq!(d.network.physical_interfaces, vec!["eth0".to_owned()]);
    assert_eq!(d.network.rdma_devices.len(), 1);
    assert_eq!(
        d.network.rdma_devices[0].link_layer.as_deref(),
        Some("InfiniBand")
    );
    let disks: Vec<(&str, &str)> = d
        .storage
        .disks
        .iter()
        .map(|k| (k.name.as_str(), k.kind.as_str()))
        .collect();
    assert_eq!(disks, vec![("nvme0n1", "NVMe SSD"), ("sda", "HDD")]);
    assert_eq!(d.storage.disks[0].size_bytes, Some(3_750_748_848 * 512));
    assert_eq!(
        d.storage.filesystems.len(),
        1,
        "{:?}",
        d.storage.filesystems
    );
    assert_eq!(d.storage.filesystems[0].kind, "NVMe SSD");
    assert!(d.storage.filesystems[0].size_bytes > 0);
    assert!(d.gpus.is_empty());
    assert_eq!(d.accelerators, 0);
    assert!(
        d.notes.iter().any(|n| n.contains("GPUs not probed")),
        "{:?}",
        d.notes
    );
    assert!(
        d.notes.iter().any(|n| n.contains("no-such-system.toml")),
        "{:?}",
        d.notes
    );
    assert!(!d.yardstick.version.is_empty());
    assert!(!d.yardstick.commit.is_empty());
}

#[test]
fn mlperf_fields_of_the_fake_tree() {
    let dir = tempfile::tempdir().expect("tempdir");
    fake_server(dir.path());
    let system_file = dir.path().join("system.toml");
    let mut user = UserSystem::default();
    for (key, value) in [
        ("system_name", "2xSPR"),
        ("submitter", "ACME"),
        ("division", "closed"),
        ("status", "available"),
        ("system_type", "datacenter"),
        ("framework", "yardstick 0.1"),
        ("cooling", "air"),
    ] {
        assert!(user.set_text(key, value));
    }
    user.mlperf.insert(
        "host_memory_configuration".to_owned(),
        json!("16 x 16GB DDR5-4800"),
    );
    user.save(&system_file).expect("save");
    let d = capture(&CaptureOptions {
        system_file: Some(system_file.clone()),
        ..options(dir.path())
    });
    assert_eq!(d.system_file.as_deref(), Some(system_file.as_path()));
    let f = d.mlperf_fields();
    let expected: &[(&str, Value)] = &[
        ("submitter", json!("ACME")),
        ("submitter_contact", json!("")),
        ("system_name", json!("2xSPR")),
        ("status", json!("available")),
        ("system_type", json!("datacenter")),
        ("division", json!("closed")),
        ("system_size", json!("2x Intel(R) Xeon(R) Platinum 8480+")),
        ("number_of_nodes", json!(1)),
        ("host_processor_model_name", json!("Intel(R) Xeon(R) Platinum 8480+")),
        ("host_processors_per_node", json!(2)),
        ("host_processor_core_count", json!(4)),
        ("host_processor_vcpu_count", json!(8)),
        ("host_processor_frequency", json!("3.50 GHz")),
        (
            "host_processor_caches",
            json!("L1d: 192 KiB (4 instances); L1i: 128 KiB (4 instances); L2: 8 MiB (4 instances); L3: 210 MiB (2 instances)"),
        ),
        ("host_processor_interconnect", json!("UPI (2 NUMA nodes)")),
        // 270.6 GB: too long for free's four characters, so "270G".
        ("host_memory_capacity", json!("270G")),
        ("host_storage_type", json!("NVMe SSD + HDD")),
        ("host_memory_configuration", json!("16 x 16GB DDR5-4800")),
        ("host_networking", json!("mlx5_0: native InfiniBand")),
        ("host_networking_topology", json!("")),
        ("host_network_card_count", json!("1x mlx5_0: native InfiniBand")),
        ("accelerator_model_name", json!("")),
        ("accelerators_per_node", json!("")),
        ("accelerator_memory_capacity", json!("")),
        ("framework", json!("yardstick 0.1")),
        ("operating_system", json!("ubuntu 24.04")),
        ("other_software_stack", json!("")),
        ("cooling", json!("air")),
        ("system_type_detail", json!("")),
    ];
    for (name, value) in expected {
        assert_eq!(f.get(name), Some(value), "{name}");
    }
    for name in yardstick_sysinfo::MLPERF_REQUIRED_FIELDS {
        assert!(f.get(name).is_some(), "required field {name} missing");
    }
    let provenance = f.get("yardstick").expect("provenance");
    assert_eq!(provenance["version"], json!(env!("CARGO_PKG_VERSION")));
    // The map serialises in order, submitter first.
    let text = serde_json::to_string(&f).expect("json");
    assert!(text.starts_with("{\"submitter\":\"ACME\""), "{text}");
}

#[test]
fn the_hostname_can_be_withheld() {
    let dir = tempfile::tempdir().expect("tempdir");
    fake_server(dir.path());
    let d = capture(&CaptureOptions {
        withhold_hostname: true,
        ..options(dir.path())
    });
    assert_eq!(d.hostname, None);
    let json = serde_json::to_string(&d).expect("json");
    assert!(!json.contains("gpu-node-17"), "{json}");
}

#[test]
fn an_empty_root_gives_empty_values_and_notes_not_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = capture(&options(dir.path()));
    assert_eq!(d.cpu.model_name, None);
    assert_eq!(d.cpu.sockets, None);
    assert_eq!(d.memory.total_bytes, None);
    assert_eq!(d.os.id, None);
    assert_eq!(d.hostname, None);
    assert!(d.storage.disks.is_empty());
    for probe in [
        "cpu:",
        "memory:",
        "os:",
        "storage:",
        "network:",
        "hostname:",
    ] {
        assert!(
            d.notes.iter().any(|n| n.starts_with(probe)),
            "no note from {probe}: {:?}",
            d.notes
        );
    }
    let f = d.mlperf_fields();
    assert_eq!(f.get("host_processor_model_name"), Some(&json!("")));
    assert_eq!(f.get("host_processors_per_node"), Some(&json!("")));
    assert_eq!(f.get("host_memory_capacity"), Some(&json!("")));
    assert_eq!(f.get("operating_system"), Some(&json!("")));
    assert_eq!(f.get("system_size"), Some(&json!("")));
}

#[test]
fn without_nvml_there_are_no_gpus_and_a_note() {
    let dir = tempfile::tempdir().expect("tempdir");
    fake_server(dir.path());
    let d = capture(&CaptureOptions {
        probe_gpus: true,
        nvml_library: Some(dir.path().join("libnvidia-ml.so.1")),
        ..options(dir.path())
    });
    assert!(d.gpus.is_empty());
    assert_eq!(d.gpu_driver, None);
    assert_eq!(d.gpu_topology.kind, "none");
    assert!(d.gpu_topology.pairs.is_empty());
    assert!(
        d.notes.iter().any(|n| n.starts_with("no NVML: ")),
        "{:?}",
        d.notes
    );
}

#[test]
fn a_broken_system_file_is_a_note_and_the_capture_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    fake_server(dir.path());
    let system_file = dir.path().join("system.toml");
    fs::write(&system_file, "division = [\n").expect("write");
    let d = capture(&CaptureOptions {
        system_file: Some(system_file),
        ..options(dir.path())
    });
    assert_eq!(d.user, UserSystem::default());
    assert_eq!(d.system_file, None);
    assert!(
        d.notes.iter().any(|n| n.contains("is not valid")),
        "{:?}",
        d.notes
    );
    assert_eq!(d.cpu.sockets, Some(2));
}

#[test]
fn the_description_round_trips_through_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    fake_server(dir.path());
    let d = capture(&options(dir.path()));
    let text = serde_json::to_string(&d).expect("json");
    let back: yardstick_sysinfo::SystemDescription = serde_json::from_str(&text).expect("parse");
    assert_eq!(back, d);
}

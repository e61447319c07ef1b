//! The store against real SQLite files: round trips, filters, tags, ids,
//! a newer schema refused untouched, and a run whose process is killed
//! with SIGKILL between begin and finish.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use yardstick_record::{
    Better, GroupKind, GroupRef, Metric, RunKind, RunRecord, RunStatus, SutInfo, Verdict,
    WorkloadInfo,
};
use yardstick_store::{
    imported_run_id, parse_date, DateBound, RowStatus, RunFilter, Store, StoreError, SCHEMA_VERSION,
};

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, h, m, 0).unwrap()
}

fn record(
    id: &str,
    started: DateTime<Utc>,
    workload: &str,
    scenario: &str,
    sut: &str,
) -> RunRecord {
    let mut r = RunRecord::new(
        RunKind::Loadgen,
        started,
        WorkloadInfo {
            name: workload.into(),
            scenario: Some(scenario.into()),
            mode: Some("PerformanceOnly".into()),
            model: None,
            sut: SutInfo {
                name: sut.into(),
                kind: "null".into(),
                params: Default::default(),
            },
        },
    );
    r.id = id.into();
    r.status = RunStatus::Completed;
    r.ended_at = Some(started + chrono::Duration::seconds(10));
    r.validity.verdict = Verdict::Valid;
    r.metrics.push(Metric::new(
        "samples_per_second",
        1234.5,
        "samples/s",
        Better::Higher,
    ));
    r
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("store-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("runs.sqlite")
}

#[test]
fn records_round_trip_and_filters_select() {
    let path = scratch("round-trip");
    let mut store = Store::open(&path).unwrap();
    let mut a = record(
        "20261206-010000-aaaaaa",
        at(1, 0),
        "resnet50",
        "Offline",
        "gpu-box",
    );
    a.tags = vec!["baseline".into()];
    let b = record(
        "20261206-020000-bbbbbb",
        at(2, 0),
        "resnet50",
        "Server",
        "gpu-box",
    );
    let mut c = record(
        "20261207-030000-cccccc",
        at(3, 0) + chrono::Duration::days(1),
        "bert",
        "Offline",
        "cpu-box",
    );
    c.validity.verdict = Verdict::Invalid;
    c.group = Some(GroupRef {
        id: "sweep-1".into(),
        kind: GroupKind::Sweep,
        index: 1,
        size: Some(2),
        label: "c4".into(),
    });
    for r in [&a, &b, &c] {
        store.finish(r).unwrap();
    }
    assert_eq!(store.get("20261206-010000-aaaaaa").unwrap(), a);
    assert_eq!(store.get("20261207").unwrap(), c, "a unique prefix");
    match store.get("20261206") {
        Err(StoreError::Ambiguous { matches, .. }) => assert_eq!(matches.len(), 2),
        other => panic!("expected an ambiguity, got {other:?}"),
    }
    assert!(matches!(store.get("1999"), Err(StoreError::NotFound(_))));

    let ids = |f: &RunFilter| -> Vec<String> {
        store.list(f).unwrap().into_iter().map(|r| r.id).collect()
    };
    let all = ids(&RunFilter::default());
    assert_eq!(
        all,
        [c.id.as_str(), b.id.as_str(), a.id.as_str()],
        "newest first"
    );
    let f = RunFilter {
        workload: Some("RESNET50".into()),
        scenario: Some("offline".into()),
        ..Default::default()
    };
    assert_eq!(ids(&f), [a.id.as_str()]);
    let f = RunFilter {
        sut: Some("cpu-box".into()),
        ..Default::default()
    };
    assert_eq!(ids(&f), [c.id.as_str()]);
    let f = RunFilter {
        tag: Some("baseline".into()),
        ..Default::default()
    };
    assert_eq!(ids(&f), [a.id.as_str()]);
    let f = RunFilter {
        since: Some(parse_date("2026-12-06T01:30:00Z", DateBound::StartOfDay).unwrap()),
        until: Some(parse_date("2026-12-06", DateBound::EndOfDay).unwrap()),
        ..Default::default()
    };
    assert_eq!(ids(&f), [b.id.as_str()]);
    let f = RunFilter {
        limit: Some(2),
        ..Default::default()
    };
    assert_eq!(ids(&f), [c.id.as_str(), b.id.as_str()]);
    let f = RunFilter {
        status: Some(RowStatus::Completed),
        limit: Some(1),
        ..Default::default()
    };
    assert_eq!(ids(&f), [c.id.as_str()]);

    let row = store.row(&c.id).unwrap();
    assert_eq!(row.verdict, "INVALID");
    assert_eq!(row.metric_name.as_deref(), Some("samples_per_second"));
    assert_eq!(row.metric_value, Some(1234.5));
    assert_eq!(row.group_id.as_deref(), Some("sweep-1"));
    assert_eq!(store.group("sweep-1").unwrap(), vec![c.clone()]);

    // Tags change in the record and in the filter table together.
    let tags = store
        .tag(&b.id, &["gpu".into(), "nightly".into()], &[])
        .unwrap();
    assert_eq!(tags, ["gpu", "nightly"]);
    let tags = store.tag(&b.id, &[], &["gpu".into()]).unwrap();
    assert_eq!(tags, ["nightly"]);
    assert_eq!(store.get(&b.id).unwrap().tags, ["nightly"]);
    assert_eq!(store.row(&b.id).unwrap().tags, ["nightly"]);
    assert_eq!(store.by_tag("nightly").unwrap().len(), 1);
    assert!(store.by_tag("gpu").unwrap().is_empty());
    assert!(matches!(
        store.tag(&b.id, &["two words".into()], &[]),
        Err(StoreError::BadTag(_))
    ));

    // Re-putting replaces, never duplicates; delete removes tags too.
    store.put(&b).unwrap();
    assert_eq!(store.list(&RunFilter::default()).unwrap().len(), 3);
    assert_eq!(store.delete("20261206-02").unwrap(), b.id);
    assert!(store.by_tag("nightly").unwrap().is_empty());
    assert_eq!(store.list(&RunFilter::default()).unwrap().len(), 2);

    // The data survives reopening; the file is a WAL database.
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.get(&a.id).unwrap(), a);
    assert_eq!(store.integrity_check().unwrap(), ["ok"]);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

#[test]
fn begin_then_finish_replaces_the_running_row() {
    let path = scratch("begin-finish");
    let mut store = Store::open(&path).unwrap();
    let mut r = record(
        "20261206-040000-dddddd",
        at(4, 0),
        "null",
        "Offline",
        "null",
    );
    r.status = RunStatus::Running;
    store.begin(&r).unwrap();
    assert!(matches!(store.begin(&r), Err(StoreError::Duplicate(_))));
    let row = store.row(&r.id).unwrap();
    assert_eq!(row.status, RowStatus::Running, "this process is alive");
    assert!(row.host.is_some());
    r.status = RunStatus::Completed;
    store.finish(&r).unwrap();
    assert_eq!(store.row(&r.id).unwrap().status, RowStatus::Completed);
    assert_eq!(store.get(&r.id).unwrap().status, RunStatus::Completed);
}

#[test]
fn imported_ids_are_stable_per_source() {
    let t = at(5, 6);
    let a = imported_run_id(t, "/data/run1");
    assert_eq!(a, imported_run_id(t, "/data/run1"));
    assert_ne!(a, imported_run_id(t, "/data/run2"));
    assert!(a.starts_with("20261206-050600-"), "{a}");
    assert_eq!(a.len(), "20261206-050600-".len() + 6);
}

fn sha_like(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn a_newer_schema_is_refused_and_left_untouched() {
    let path = scratch("newer");
    {
        let mut store = Store::open(&path).unwrap();
        store
            .finish(&record(
                "20261206-060000-eeeeee",
                at(6, 0),
                "x",
                "Offline",
                "y",
            ))
            .unwrap();
    }
    {
        // A future yardstick's store: a higher version, back in rollback
        // journal mode so the whole database is in the one file.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 41)
            .unwrap();
    }
    let dir = path.parent().unwrap();
    let listing = |d: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let before = sha_like(&path);
    let files_before = listing(dir);
    let err = Store::open(&path).unwrap_err();
    let text = err.to_string();
    let newer = SCHEMA_VERSION + 41;
    assert!(
        text.contains(&format!("store schema {newer}"))
            && text.contains(&format!("knows up to {SCHEMA_VERSION}"))
            && text.contains(&path.display().to_string())
            && text.contains("--store/YARDSTICK_STORE"),
        "{text}"
    );
    assert!(
        matches!(err, StoreError::TooNew { found, supported, .. } if found == newer && supported == SCHEMA_VERSION)
    );
    assert_eq!(
        sha_like(&path),
        before,
        "the file is byte for byte unchanged"
    );
    assert_eq!(
        listing(dir),
        files_before,
        "no journal or WAL file was left"
    );
}

#[test]
fn an_empty_file_is_migrated() {
    let path = scratch("empty");
    std::fs::write(&path, b"").unwrap();
    let store = Store::open(&path).unwrap();
    assert!(store.list(&RunFilter::default()).unwrap().is_empty());
}

/// The child of the SIGKILL test: begins a run, says so, then waits to be
/// killed. Runs only when the parent test starts it.
#[test]
fn sigkill_child() {
    let Ok(path) = std::env::var("YARDSTICK_STORE_TEST_CHILD") else {
        return;
    };
    let mut store = Store::open(Path::new(&path)).unwrap();
    let mut r = record("20261206-070000-ffffff", at(7, 0), "null", "Server", "null");
    r.status = RunStatus::Running;
    store.begin(&r).unwrap();
    // Keep writing other runs so the kill may land mid-transaction too.
    println!("BEGUN");
    use std::io::Write;
    std::io::stdout().flush().unwrap();
    let mut i = 0u64;
    loop {
        let mut other = record(
            &format!("20261206-080000-{i:06x}"),
            at(8, 0),
            "busy",
            "Offline",
            "null",
        );
        other.notes.push("x".repeat(4096));
        store.finish(&other).unwrap();
        i += 1;
    }
}

#[test]
fn a_run_killed_with_sigkill_leaves_a_sound_store_and_an_incomplete_run() {
    let path = scratch("sigkill");
    // The parent creates the store, so the child's open does not race it.
    drop(Store::open(&path).unwrap());
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "sigkill_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("YARDSTICK_STORE_TEST_CHILD", &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut out = child.stdout.take().unwrap();
    // Wait for BEGUN (the test harness prints other lines first).
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    use std::io::Read;
    while !String::from_utf8_lossy(&seen).contains("BEGUN") {
        assert!(Instant::now() < deadline, "the child never began its run");
        let n = out.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "the child exited: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    // Let it write for a moment, then kill it without warning.
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: signalling our own child, not yet reaped, by its pid.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) }, 0);
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(9), "killed by SIGKILL");

    let store = Store::open(&path).unwrap();
    assert_eq!(store.integrity_check().unwrap(), ["ok"]);
    let row = store.row("20261206-070000-ffffff").unwrap();
    assert_eq!(row.status, RowStatus::Incomplete);
    let incomplete = store
        .list(&RunFilter {
            status: Some(RowStatus::Incomplete),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(incomplete.len(), 1);
    assert_eq!(incomplete[0].id, "20261206-070000-ffffff");
    let busy = store
        .list(&RunFilter {
            workload: Some("busy".into()),
            ..Default::default()
        })
        .unwrap();
    assert!(!busy.is_empty(), "the child's committed writes are kept");
    assert!(busy.iter().all(|r| r.status == RowStatus::Completed));
}

#[test]
fn read_only_stores_read_and_refuse_writes() {
    let path = scratch("read-only");
    let r = record("20261206-090000-abcdef", at(9, 0), "x", "Offline", "y");
    {
        let mut store = Store::open(&path).unwrap();
        store.finish(&r).unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let mut ro = Store::open_read_only(&path).unwrap();
    assert_eq!(ro.get(&r.id).unwrap(), r);
    assert_eq!(ro.list(&RunFilter::default()).unwrap().len(), 1);
    assert!(matches!(ro.delete(&r.id), Err(StoreError::Sql(_))));
    assert!(ro.tag(&r.id, &["t".into()], &[]).is_err());
    drop(ro);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert!(Store::open_read_only(&path.with_file_name("missing.sqlite")).is_err());
}

#[test]
fn two_writers_at_once_lose_nothing() {
    let path = scratch("two-writers");
    drop(Store::open(&path).unwrap());
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                // Each writer its own connection, as two processes would have.
                let mut store = Store::open(&path).unwrap();
                for i in 0..50 {
                    let id = format!("20261206-10{w:02}00-{i:06x}");
                    let r = record(&id, at(10, w), "w", "Offline", "s");
                    // begin reads before it writes: the path that needs
                    // the write lock taken up front.
                    store.begin(&r).unwrap();
                    store.finish(&r).unwrap();
                    store.tag(&id, &[format!("w{w}")], &[]).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.list(&RunFilter::default()).unwrap().len(), 100);
    assert_eq!(store.by_tag("w1").unwrap().len(), 50);
    assert_eq!(store.integrity_check().unwrap(), ["ok"]);
}

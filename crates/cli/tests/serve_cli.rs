//! `yardstick serve` through the binary: lists and filters runs, serves a
//! run's report and a comparison, stays read-only unless told otherwise,
//! and answers only requests addressed to it.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};

use common::{bin, target_scratch, text};

/// Kills the server when the test ends, passing or not.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `yardstick serve` on a free port; returns it and `host:port`.
fn serve(store: &Path, extra: &[&str]) -> (Served, String) {
    let mut child = bin()
        .arg("serve")
        .arg("--store")
        .arg(store)
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (Served(child), addr)
}

/// One request; returns (status, body).
fn request(
    addr: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut req = format!("{method} {target} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| *k == "Host") {
        req.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn get(addr: &str, target: &str) -> (u16, String) {
    request(addr, "GET", target, &[], "")
}

fn imported_store(name: &str) -> (std::path::PathBuf, Vec<String>) {
    let golden = common::repo().join("../shared/golden/loadgen-6.0.17");
    assert!(golden.is_dir(), "golden logs missing: {}", golden.display());
    let dir = target_scratch("serve-cli", name);
    let store = dir.join("runs.sqlite");
    let o = bin()
        .args(["import", "--store"])
        .arg(&store)
        .arg(&golden)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = bin()
        .args(["runs", "--store"])
        .arg(&store)
        .args(["list", "--json"])
        .output()
        .unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    let ids = rows
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    (store, ids)
}

#[test]
fn serves_lists_reports_and_comparisons_read_only() {
    let (store, ids) = imported_store("read-only");
    assert_eq!(ids.len(), 6);
    let before = std::fs::read(&store).unwrap();
    let (_server, addr) = serve(&store, &[]);

    let (status, page) = get(&addr, "/");
    assert_eq!(status, 200, "{page}");
    for id in &ids {
        assert!(
            page.contains(&format!("href=\"/runs/{id}\"")),
            "{id} not listed"
        );
    }
    assert!(page.contains("(read-only)"));
    let (_, servers) = get(&addr, "/?scenario=Server");
    assert_eq!(servers.matches("href=\"/runs/").count(), 2, "{servers}");
    let (status, bad) = get(&addr, "/?since=yesterday");
    assert_eq!(status, 400, "{bad}");

    let (status, report) = get(&addr, &format!("/runs/{}", ids[0]));
    assert_eq!(status, 200);
    assert!(
        report.starts_with("<!doctype html") || report.starts_with("<!DOCTYPE html"),
        "{}",
        &report[..100.min(report.len())]
    );
    assert!(report.contains(&ids[0]));
    let (status, json) = get(&addr, &format!("/runs/{}.json", ids[1]));
    assert_eq!(status, 200);
    let record: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(record["id"], ids[1].as_str());

    let (status, cmp) = get(&addr, &format!("/compare?a={}&b={}", ids[0], ids[1]));
    assert_eq!(status, 200, "{cmp}");
    assert!(
        cmp.contains("<pre>") && cmp.contains("latency.p99"),
        "{cmp}"
    );
    let (status, _) = get(&addr, &format!("/compare?a={}", ids[0]));
    assert_eq!(status, 400);
    let (status, both) = get(&addr, &format!("/report?a={}&b={}", ids[0], ids[1]));
    assert_eq!(status, 200);
    assert!(both.contains(&ids[0]) && both.contains(&ids[1]));
    let (status, _) = get(&addr, "/runs/19990101-000000-000000");
    assert_eq!(status, 404);

    // Read-only: no change is accepted, and the file is never written.
    let origin = format!("http://{addr}");
    let (status, body) = request(
        &addr,
        "POST",
        "/delete",
        &[
            ("Origin", origin.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &format!("id={}", ids[0]),
    );
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("read-only"), "{body}");
    // A request for another host name (DNS rebinding) is refused.
    let (status, _) = request(&addr, "GET", "/", &[("Host", "evil.example")], "");
    assert_eq!(status, 403);
    assert_eq!(
        std::fs::read(&store).unwrap(),
        before,
        "the store was written"
    );
}

#[test]
fn writes_only_when_allowed_and_only_from_its_own_page() {
    let (store, ids) = imported_store("writes");
    let (_server, addr) = serve(&store, &["--allow-writes"]);
    let origin = format!("http://{addr}");
    let form = [
        ("Origin", origin.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    // Another site's form post: refused.
    let (status, _) = request(
        &addr,
        "POST",
        "/delete",
        &[("Origin", "http://evil.example")],
        &format!("id={}", ids[0]),
    );
    assert_eq!(status, 403);
    let (status, _) = request(
        &addr,
        "POST",
        "/tag",
        &form,
        &format!("id={}&changes=%2Bkeep+nightly", ids[0]),
    );
    assert_eq!(status, 303);
    let (_, page) = get(&addr, "/?tag=keep");
    assert_eq!(page.matches("href=\"/runs/").count(), 1, "{page}");
    assert!(page.contains("keep, nightly"), "{page}");
    let (status, _) = request(&addr, "POST", "/delete", &form, &format!("id={}", ids[1]));
    assert_eq!(status, 303);
    let (_, page) = get(&addr, "/");
    assert_eq!(page.matches("href=\"/runs/").count(), 5);
    assert!(!page.contains(&ids[1]));
}

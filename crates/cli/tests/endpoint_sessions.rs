//! `yardstick endpoint` multi-turn sessions end to end against
//! `yardstick mock-server --request-log` (127.0.0.1 only): each turn's body
//! carries the previous turn's logged answer verbatim as the assistant
//! message and arrives after that answer finished plus the think time; an
//! empty answer stops its session with a clear note and the run completes;
//! the same seed sends the same bodies; the outputs name each request's
//! session and turn; the wrong API or load is refused with a clear message.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{bin, read_json, start_mock, stderr, stdout, temp_scratch, Mock};
use serde_json::Value;

/// A simulated mock (5 words an answer unless asked otherwise) logging
/// every request to `log`.
fn mock(log: &Path, extra: &[&str]) -> Mock {
    let log = log.to_str().expect("utf-8 path");
    let mut args = vec![
        "--mode",
        "simulated",
        "--ttft",
        "5ms",
        "--tpot",
        "1ms",
        "--request-log",
        log,
    ];
    args.extend_from_slice(extra);
    start_mock("120s", &args)
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn endpoint(url: &str, out: &Path, extra: &[&str]) -> Run {
    let o = bin()
        .args([
            "endpoint",
            "--url",
            url,
            "--served-model",
            "mock",
            "--no-store",
            "-o",
        ])
        .arg(out)
        .args(extra)
        .output()
        .expect("run yardstick");
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: stdout(&o),
        stderr: stderr(&o),
    }
}

/// The mock's request log, one JSON object per finished request (waits
/// for `n` lines: a line is written when its request finished).
fn read_log(path: &Path, n: usize) -> Vec<Value> {
    for _ in 0..100 {
        let lines: Vec<Value> = std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        if lines.len() >= n {
            return lines;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("{} has fewer than {n} lines", path.display());
}

fn messages(r: &Value) -> Vec<Value> {
    r["body"]["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The logged requests by conversation (first user message), each in turn
/// order (by history length).
fn conversations(log: &[Value]) -> BTreeMap<String, Vec<Value>> {
    let mut by: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for r in log {
        let first = messages(r)
            .iter()
            .find(|m| m["role"] == "user")
            .and_then(|m| m["content"].as_str())
            .unwrap_or("")
            .to_string();
        by.entry(first).or_default().push(r.clone());
    }
    for v in by.values_mut() {
        v.sort_by_key(|r| messages(r).len());
    }
    by
}

/// Turn k+1 holds turn k's logged answer verbatim as its last assistant
/// message, and was received after turn k finished plus `think_ns`.
fn assert_turns_follow_answers(log: &[Value], turns: usize, think_ns: u64) -> usize {
    let convs = conversations(log);
    for (first, reqs) in &convs {
        assert_eq!(reqs.len(), turns, "conversation {first:?}");
        for k in 1..reqs.len() {
            let (prev, this) = (&reqs[k - 1], &reqs[k]);
            let m = messages(this);
            let answer = &m[m.len() - 2];
            assert_eq!(answer["role"], "assistant");
            let logged = prev["answer"].as_str().expect("answer");
            assert!(!logged.is_empty());
            assert_eq!(answer["content"].as_str(), Some(logged), "turn {}", k + 1);
            assert_eq!(&m[..m.len() - 2], &messages(prev)[..], "history carried");
            let finished = prev["finished_ns"].as_u64().expect("finished");
            let received = this["received_ns"].as_u64().expect("received");
            assert!(
                received >= finished + think_ns,
                "turn {} received {} ns after turn {k} finished",
                k + 1,
                received as i64 - finished as i64
            );
        }
    }
    convs.len()
}

fn scratch(name: &str) -> PathBuf {
    temp_scratch("ys-sessions", name)
}

#[test]
fn synthetic_sessions_carry_answers_and_are_reported() {
    let dir = scratch("synthetic");
    let log = dir.join("log.jsonl");
    let m = mock(&log, &[]);
    let out = dir.join("out");
    let r = endpoint(
        &m.url,
        &out,
        &[
            "--turns",
            "3",
            "--think-time",
            "20ms",
            "--concurrency",
            "2",
            "--requests",
            "4",
            "--synthetic",
            "8",
            "--input-tokens",
            "uniform:3..9",
            "--output-tokens",
            "5",
        ],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("sessions: 4 started, 4 completed, 0 stopped (0 turns skipped)"),
        "{}",
        r.stdout
    );
    let log = read_log(&log, 12);
    assert_eq!(log.len(), 12);
    assert_eq!(assert_turns_follow_answers(&log, 3, 20_000_000), 4);

    let point = out.join("c2");
    let summary = read_json(&point.join("result_summary.json"));
    let s = &summary["sessions"];
    assert_eq!(s["sessions_started"], 4);
    assert_eq!(s["sessions_completed"], 4);
    assert_eq!(s["ttft_first_turn"]["count"], 4);
    assert_eq!(s["ttft_later_turns"]["count"], 8);
    assert_eq!(summary["n_samples_issued"], 12);
    // Each request names its session and turn, in the JSONL and the CSV.
    let csv = std::fs::read_to_string(point.join("requests.csv")).expect("csv");
    let header: Vec<&str> = csv.lines().next().expect("header").split(',').collect();
    let (si, ti) = (
        header
            .iter()
            .position(|h| *h == "session")
            .expect("session column"),
        header
            .iter()
            .position(|h| *h == "turn")
            .expect("turn column"),
    );
    let mut tags: Vec<(u64, u64)> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[si].parse().expect("session"),
                f[ti].parse().expect("turn"),
            )
        })
        .collect();
    tags.sort();
    let want: Vec<(u64, u64)> = (0..4).flat_map(|s| (1..=3).map(move |t| (s, t))).collect();
    assert_eq!(tags, want);
    let jsonl = std::fs::read_to_string(point.join("requests.jsonl")).expect("jsonl");
    let first: Value = serde_json::from_str(jsonl.lines().next().expect("a line")).expect("json");
    assert!(
        first["session"].is_u64() && first["turn"].is_u64(),
        "{first}"
    );
    // The run record: the session distribution, counts and settings.
    let run = read_json(&point.join("run.json"));
    assert_eq!(
        run["latencies"]["session"]["count"], 4,
        "{}",
        run["latencies"]
    );
    let metric = |name: &str| {
        run["metrics"]
            .as_array()
            .and_then(|ms| ms.iter().find(|m| m["name"] == name))
            .map(|m| m["value"].clone())
    };
    assert_eq!(metric("sessions_completed"), Some(Value::from(4.0)));
    let setting = |key: &str| {
        run["settings"]
            .as_array()
            .and_then(|s| s.iter().find(|v| v["key"] == key))
            .map(|v| v["value"].clone())
    };
    assert_eq!(
        setting("endpoint.sessions"),
        Some("synthetic, turns 3".into())
    );
    assert_eq!(setting("endpoint.think_time"), Some("20ms".into()));
    assert!(
        run["notes"].as_array().is_some_and(|n| n.iter().any(|n| n
            .as_str()
            .is_some_and(|n| n.starts_with("multi-turn sessions: 4 started, 4 completed")))),
        "{}",
        run["notes"]
    );
}

#[test]
fn an_empty_answer_stops_its_session_and_the_run_completes() {
    let dir = scratch("empty");
    let log = dir.join("log.jsonl");
    let m = mock(&log, &["--fault", "empty-answer", "--fault-every", "4"]);
    let out = dir.join("out");
    let r = endpoint(
        &m.url,
        &out,
        &[
            "--turns",
            "3",
            "--concurrency",
            "1",
            "--requests",
            "4",
            "--output-tokens",
            "5",
        ],
    );
    // Requests 4 and 8 (session 1's and session 3's first turns) are empty.
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(
            "session 1 stopped after turn 1 of 3: the server's answer was empty; 2 turns skipped"
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout
            .contains("sessions: 4 started, 2 completed, 2 stopped (4 turns skipped)"),
        "{}",
        r.stdout
    );
    let summary = read_json(&out.join("c1/result_summary.json"));
    assert_eq!(summary["sessions"]["sessions_stopped"], 2);
    assert_eq!(summary["sessions"]["turns_skipped"], 4);
    assert_eq!(summary["n_samples_issued"], 8);
    assert_eq!(read_log(&log, 8).len(), 8);
    let run = read_json(&out.join("c1/run.json"));
    let notes = run["notes"].as_array().expect("notes");
    assert!(
        notes.iter().any(|n| n
            .as_str()
            .is_some_and(|n| n.contains("session 3 stopped after turn 1 of 3"))),
        "{notes:?}"
    );
}

fn logged_bodies(name: &str, seed: &str) -> Vec<Value> {
    let dir = scratch(name);
    let log = dir.join("log.jsonl");
    let m = mock(&log, &[]);
    let r = endpoint(
        &m.url,
        &dir.join("out"),
        &[
            "--turns",
            "uniform:1..4",
            "--think-time",
            "uniform:0ms..5ms",
            "--concurrency",
            "1",
            "--requests",
            "3",
            "--synthetic",
            "3",
            "--input-tokens",
            "uniform:2..6",
            "--output-tokens",
            "uniform:2..5",
            "--seed",
            seed,
        ],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let summary = read_json(&dir.join("out/c1/result_summary.json"));
    let n = summary["n_samples_issued"].as_u64().expect("issued") as usize;
    read_log(&log, n)
        .into_iter()
        .map(|r| r["body"].clone())
        .collect()
}

#[test]
fn the_same_seed_sends_the_same_bodies() {
    let a = logged_bodies("seed-a", "9");
    let b = logged_bodies("seed-b", "9");
    assert!(a.len() >= 3, "{a:?}");
    assert_eq!(a, b);
    assert_ne!(a, logged_bodies("seed-c", "10"));
}

#[test]
fn sharegpt_conversations_run_open_loop() {
    let dir = scratch("sharegpt");
    let data = dir.join("conv.json");
    std::fs::write(
        &data,
        r#"[{"conversations":[{"from":"human","value":"alpha one"},{"from":"gpt","value":"ref"},{"from":"human","value":"alpha two"}]},
            {"conversations":[{"from":"human","value":"beta one"},{"from":"gpt","value":"ref"},{"from":"human","value":"beta two"}]},
            {"conversations":[{"from":"gpt","value":"no human turn"}]}]"#,
    )
    .expect("write");
    let log = dir.join("log.jsonl");
    let m = mock(&log, &[]);
    let out = dir.join("out");
    let r = endpoint(
        &m.url,
        &out,
        &[
            "--dataset",
            data.to_str().expect("utf-8"),
            "--multi-turn",
            "--think-time",
            "10ms",
            "--load",
            "constant",
            "--rate",
            "20",
            "--requests",
            "2",
        ],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let log = read_log(&log, 4);
    assert_eq!(assert_turns_follow_answers(&log, 2, 10_000_000), 2);
    let convs = conversations(&log);
    let alpha = &convs["alpha one"];
    let last = messages(&alpha[1]);
    assert_eq!(last[2]["content"], "alpha two");
    assert_ne!(
        last[1]["content"], "ref",
        "the server's answer, not the dataset's"
    );
    let summary = read_json(&out.join("constant-20/result_summary.json"));
    assert_eq!(summary["sessions"]["sessions_completed"], 2);
}

#[test]
fn sessions_need_the_chat_api_and_the_clients_own_loads() {
    let dir = scratch("refused");
    let url = "http://127.0.0.1:9";
    for (extra, want) in [
        (
            vec!["--api", "completions", "--turns", "2"],
            "multi-turn sessions need --api chat",
        ),
        (
            vec!["--load", "poisson", "--rate", "5", "--turns", "2"],
            "not LoadGen's scenarios",
        ),
        (
            vec!["--think-time", "1s"],
            "--think-time goes with multi-turn sessions",
        ),
        (
            vec!["--turns", "2", "--think-time", "soon"],
            "think time `soon`",
        ),
        (vec!["--turns", "fixed:0"], "--turns"),
    ] {
        let r = endpoint(url, &dir.join("out"), &extra);
        assert_ne!(r.code, 0, "{extra:?}");
        assert!(r.stderr.contains(want), "{extra:?}: {}", r.stderr);
    }
}

#[test]
fn a_model_mix_keeps_each_session_on_one_model() {
    let dir = scratch("mix");
    let log = dir.join("log.jsonl");
    let m = mock(&log, &[]);
    let r = endpoint(
        &m.url,
        &dir.join("out"),
        &[
            "--turns",
            "3",
            "--model-mix",
            "base=1,lora-a=1",
            "--concurrency",
            "2",
            "--requests",
            "8",
            "--synthetic",
            "8",
        ],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let log = read_log(&log, 24);
    let convs = conversations(&log);
    assert_eq!(convs.len(), 8);
    let mut seen = std::collections::BTreeSet::new();
    for reqs in convs.values() {
        let models: Vec<&Value> = reqs.iter().map(|r| &r["model"]).collect();
        assert!(models.iter().all(|m| *m == models[0]), "{models:?}");
        seen.insert(models[0].to_string());
    }
    assert_eq!(seen.len(), 2, "both models drawn: {seen:?}");
}

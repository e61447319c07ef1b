//! `yardstick endpoint` request content end to end against the mock
//! server (127.0.0.1 only): length distributions and shared prefixes are
//! seeded and recorded; dataset files (JSONL, Parquet) with bad rows run
//! on and say what they skipped; wrong shapes fail with a clear message.

mod common;

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use common::{bin, read_json, start_mock, stderr, temp_scratch, Mock};
use serde_json::Value;

fn mock() -> Mock {
    start_mock("120s", &[])
}

fn endpoint(url: &str, out: &Path, extra: &[&str]) -> (i32, String) {
    let o = bin()
        .args([
            "endpoint",
            "--url",
            url,
            "--concurrency",
            "4",
            "--requests",
            "40",
            "--synthetic",
            "40",
            "--no-store",
            "-o",
        ])
        .arg(out)
        .args(extra)
        .output()
        .expect("run yardstick");
    (o.status.code().unwrap_or(-1), stderr(&o))
}

fn setting<'a>(run: &'a Value, key: &str) -> &'a Value {
    run["settings"]
        .as_array()
        .and_then(|s| s.iter().find(|v| v["key"] == key))
        .map_or(&Value::Null, |v| &v["value"])
}

/// requests.jsonl's (sample, answer) pairs, sorted by sample.
fn answers(dir: &Path) -> Vec<(u64, String)> {
    let text = std::fs::read_to_string(dir.join("requests.jsonl")).expect("requests.jsonl");
    let mut v: Vec<(u64, String)> = text
        .lines()
        .map(|l| {
            let r: Value = serde_json::from_str(l).expect("json");
            (
                r["sample"].as_u64().expect("sample"),
                r["output"]["content"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn distributions_and_shared_prefixes_are_seeded_recorded_and_in_the_csv() {
    let m = mock();
    let dir = temp_scratch("ys-ep-content", "prefixes");
    let flags = [
        "--input-tokens",
        "uniform:8..24",
        "--output-tokens",
        "normal:16,4",
        "--shared-prefixes",
        "3",
        "--prefix-tokens",
        "12",
        "--prefix-distribution",
        "zipf:1.2",
        "--seed",
        "9",
    ];
    let (code, err) = endpoint(&m.url, &dir.join("a"), &flags);
    assert_eq!(code, 0, "{err}");
    let point = dir.join("a/c4");
    let csv = std::fs::read_to_string(point.join("requests.csv")).expect("csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "prefix_id")
        .expect("prefix_id column");
    let ids: Vec<u32> = lines
        .map(|l| l.split(',').nth(col).expect("cell").parse().expect("id"))
        .collect();
    assert_eq!(ids.len(), 40);
    assert!(ids.iter().all(|id| *id < 3), "{ids:?}");
    assert!(ids.contains(&0));

    let run = read_json(&point.join("run.json"));
    assert_eq!(setting(&run, "endpoint.input_tokens"), "uniform:8..24");
    assert_eq!(setting(&run, "endpoint.output_tokens"), "normal:16,4");
    assert_eq!(setting(&run, "endpoint.shared_prefixes"), "3x12 zipf:1.2");
    assert_eq!(setting(&run, "endpoint.seed"), "9");

    // The echo answers are the prompts: the same seed sent the same ones.
    let (code, err) = endpoint(&m.url, &dir.join("b"), &flags);
    assert_eq!(code, 0, "{err}");
    let a = answers(&point);
    assert_eq!(a, answers(&dir.join("b/c4")));
    assert!(a.iter().all(|(_, text)| !text.is_empty()));
    let mut other = flags.to_vec();
    let last = other.len() - 1;
    other[last] = "10";
    let (code, err) = endpoint(&m.url, &dir.join("c"), &other);
    assert_eq!(code, 0, "{err}");
    assert_ne!(a, answers(&dir.join("c/c4")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn datasets_with_bad_rows_run_on_and_say_what_they_skipped() {
    let m = mock();
    let dir = temp_scratch("ys-ep-content", "datasets");
    std::fs::create_dir_all(&dir).expect("dir");
    let jsonl = dir.join("mixed.jsonl");
    std::fs::write(
        &jsonl,
        "{\"prompt\":\"one two\"}\n{\"prompt\":\"three\"\n{\"text\":\"four five\"}\n",
    )
    .expect("write");
    let jsonl_arg = jsonl.display().to_string();
    let (code, err) = endpoint(&m.url, &dir.join("j"), &["--dataset", &jsonl_arg]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("skipped 1 of 3") && err.contains("line 2"),
        "{err}"
    );
    let run = read_json(&dir.join("j/c4/run.json"));
    let notes = run["notes"].to_string();
    assert!(notes.contains("skipped 1 of 3 rows"), "{notes}");
    assert_eq!(setting(&run, "endpoint.dataset"), jsonl_arg.as_str());

    let schema = Arc::new(Schema::new(vec![
        Field::new("question", DataType::Utf8, true),
        Field::new("max_new_tokens", DataType::Int64, true),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec![
                Some("alpha beta"),
                None,
                Some("gamma"),
            ])) as ArrayRef,
            Arc::new(Int64Array::from(vec![4, 5, 6])),
        ],
    )
    .expect("batch");
    let pq = dir.join("qa.parquet");
    let f = std::fs::File::create(&pq).expect("create");
    let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), None).expect("writer");
    w.write(&batch).expect("write");
    w.close().expect("close");
    let pq_arg = pq.display().to_string();
    let (code, err) = endpoint(&m.url, &dir.join("p"), &["--dataset", &pq_arg]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("skipped 1 of 3") && err.contains("row 2"),
        "{err}"
    );
    let a = answers(&dir.join("p/c4"));
    assert_eq!(a.len(), 40);
    assert!(a
        .iter()
        .all(|(_, t)| t.contains("alpha beta") || t.contains("gamma")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn wrong_shapes_and_bad_specs_fail_with_a_clear_message() {
    let dir = temp_scratch("ys-ep-content", "wrong");
    std::fs::create_dir_all(&dir).expect("dir");
    let bad = dir.join("bad.jsonl");
    std::fs::write(&bad, "{\"nope\":1}\n{\"nope\":2}\n").expect("write");
    // No server is needed: the content is checked before any request.
    let url = "http://127.0.0.1:9";
    let bad_arg = bad.display().to_string();
    let (code, err) = endpoint(
        url,
        &dir.join("o"),
        &["--dataset", &bad_arg, "--served-model", "m"],
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("bad.jsonl") && err.contains("line 1") && err.contains("expected one of"),
        "{err}"
    );
    let (code, err) = endpoint(
        url,
        &dir.join("o"),
        &["--input-tokens", "normal:5", "--served-model", "m"],
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("--input-tokens") && err.contains("normal:MEAN,SD"),
        "{err}"
    );
    let (code, err) = endpoint(
        url,
        &dir.join("o"),
        &["--shared-prefixes", "2", "--served-model", "m"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("--prefix-tokens"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

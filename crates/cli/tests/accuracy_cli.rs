//! End-to-end tests of `yardstick accuracy`: scoring, targets, exit codes,
//! accuracy.txt, and the error messages for bad input.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{bin, repo, stderr, stdout, target_scratch, yardstick};

/// A fresh scratch directory with copies of some fixture files.
fn scratch(name: &str, files: &[&str]) -> PathBuf {
    let d = target_scratch("accuracy-cli", name);
    let fixtures = repo().join("crates/accuracy/tests/fixtures");
    for f in files {
        let to = d.join(Path::new(f).file_name().unwrap());
        std::fs::copy(fixtures.join(f), to).unwrap();
    }
    d
}

/// `yardstick accuracy --log <log> --ground-truth <truth>`.
fn accuracy_cmd(log: &Path, truth: &Path) -> Command {
    let mut c = bin();
    c.args(["accuracy", "--log"])
        .arg(log)
        .arg("--ground-truth")
        .arg(truth);
    c
}

/// Runs `yardstick accuracy --log <log> --ground-truth <truth>`, then `rest`.
fn accuracy(log: &Path, truth: &Path, rest: &[&str]) -> Output {
    accuracy_cmd(log, truth).args(rest).output().unwrap()
}

fn text(o: &Output) -> (String, String) {
    (stdout(o), stderr(o))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn top1_meets_resnet_and_writes_accuracy_txt() {
    let d = scratch("top1", &["top1/int32.json", "top1/val_map.txt"]);
    let log = d.join("int32.json");
    let o = accuracy(
        &log,
        &d.join("val_map.txt"),
        &[
            "--metric",
            "top1",
            "--dtype",
            "int32",
            "--benchmark",
            "resnet50",
        ],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains("acc")
            && out.contains("76.923")
            && out.contains("75.6954")
            && out.contains("PASS: meets resnet"),
        "{out}"
    );
    let txt = std::fs::read_to_string(d.join("accuracy.txt")).unwrap();
    let hash = yardstick_accuracy::sha256_file(&log).unwrap();
    assert_eq!(
        txt,
        format!("accuracy=76.923%, good=10, total=13\n\nhash={hash}\n")
    );
}

#[test]
fn an_unmet_target_exits_1() {
    let d = scratch("squad", &["squad/answers.json", "squad/dev-v1.1.json"]);
    let out_file = d.join("out").join("acc.txt");
    std::fs::create_dir_all(out_file.parent().unwrap()).unwrap();
    let o = accuracy(
        &d.join("answers.json"),
        &d.join("dev-v1.1.json"),
        &["--benchmark", "bert-99", "-o", s(&out_file)],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        out.contains("F1")
            && out.contains("50.2165")
            && out.contains("FAIL: does not meet bert-99"),
        "{out}"
    );
    assert!(std::fs::read_to_string(&out_file)
        .unwrap()
        .starts_with("{\"exact_match\": 27.272727272727273, \"f1\": 50.216450216450205}\n"));
}

#[test]
fn explicit_minimum_and_no_target() {
    let d = scratch("wer", &["wer/texts.json", "wer/transcripts.txt"]);
    let (log, refs) = (d.join("texts.json"), d.join("transcripts.txt"));
    let args = ["--metric", "wer", "--no-accuracy-txt"];
    let o = accuracy(&log, &refs, &[&args[..], &["--target", "70"]].concat());
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains("ACCURACY")
            && out.contains("73.4177")
            && out.contains("PASS: meets the given minimum"),
        "{out}"
    );
    assert!(!d.join("accuracy.txt").exists());
    let o = accuracy(&log, &refs, &args);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0));
    assert!(out.contains("no target given"), "{out}");
}

#[test]
fn rouge_without_punkt_model_notes_it_and_misses_token_counts() {
    let d = scratch("rouge", &["rouge/references.jsonl"]);
    // A log without token counts: TOKENS_PER_SAMPLE cannot be checked.
    std::fs::write(
        d.join("log.json"),
        "[\n{ \"seq_id\" : 0, \"qsl_idx\" : 8, \"data\" : \"4964656E746963616C20746578742E204964656E746963616C20746578742E\" }\n]\n",
    )
    .unwrap();
    let empty = d.join("no-nltk");
    std::fs::create_dir_all(&empty).unwrap();
    let o = accuracy_cmd(&d.join("log.json"), &d.join("references.jsonl"))
        .args(["--benchmark", "llama2-70b-99.9"])
        .env("NLTK_DATA", &empty)
        .env("HOME", &empty)
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(out.contains("punkt_tab/english was not found"), "{out}");
    assert!(
        out.contains("ROUGE1")
            && out.contains("100")
            && out.contains("NOT SCORED")
            && out.contains("incomplete"),
        "{out}"
    );
    let txt = std::fs::read_to_string(d.join("accuracy.txt")).unwrap();
    assert!(txt.contains("{'rouge1': 100.0, 'rouge2': 100.0, 'rougeL': 100.0, 'rougeLsum': 100.0, 'gen_len': 31, 'gen_num': 1}"), "{txt}");
}

#[test]
fn metric_defaults_to_the_benchmarks() {
    let d = scratch("gsm8k", &["gsm8k/texts.json", "gsm8k/answers.jsonl"]);
    let (log, truth) = (d.join("texts.json"), d.join("answers.jsonl"));
    let o = accuracy(&log, &truth, &["--benchmark", "retinanet"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("retinanet is judged on mAP, which yardstick does not compute"),
        "{err}"
    );
    let o = accuracy(
        &log,
        &truth,
        &["--metric", "exact-match", "--benchmark", "mixtral-8x7b"],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        out.contains("gsm8k_accuracy") && out.contains("72.9234") && out.contains("NOT SCORED"),
        "{out}"
    );
}

#[test]
fn list_targets() {
    let o = yardstick(&["accuracy", "--list-targets"]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0));
    for needle in [
        "resnet",
        "acc >= 75.6954 (76.46 x 0.99)",
        "llama2-70b-99.9",
        "TOKENS_PER_SAMPLE <= 323.895",
        "whisper",
        "Interactive TTFT <= 450 ms, TPOT <= 40 ms",
    ] {
        assert!(out.contains(needle), "{needle} missing in\n{out}");
    }
}

#[test]
fn errors_name_the_file_and_the_problem() {
    let d = scratch("errors", &["top1/int32.json", "top1/val_map.txt"]);
    let log = d.join("int32.json");
    let labels = d.join("val_map.txt");
    std::fs::write(
        d.join("corrupt.json"),
        "[\n{ \"seq_id\" : 0, \"qsl_idx\" : 1, \"data\" : \"0G\" }\n]\n",
    )
    .unwrap();
    std::fs::write(d.join("few.txt"), "1 2\n").unwrap();
    let (corrupt, missing, nolabels, few) = (
        d.join("corrupt.json"),
        d.join("missing.json"),
        d.join("nolabels.txt"),
        d.join("few.txt"),
    );
    const TOP1_INT32: &[&str] = &["--metric", "top1", "--dtype", "int32"];
    let cases: [(&Path, &Path, &[&str], &[&str]); 10] = [
        (&corrupt, &labels, TOP1_INT32, &["corrupt.json", "not hex"]),
        (
            &missing,
            &labels,
            TOP1_INT32,
            &["cannot read", "missing.json"],
        ),
        (
            &log,
            &labels,
            &["--metric", "top1", "--dtype", "int64"],
            &["int32.json", "not a multiple of 8", "dtype int64"],
        ),
        (
            &log,
            &nolabels,
            TOP1_INT32,
            &["cannot read", "nolabels.txt"],
        ),
        (
            &log,
            &few,
            TOP1_INT32,
            &["few.txt has 1 samples", "out of range"],
        ),
        (
            &log,
            &labels,
            &["--metric", "top1"],
            &["--dtype is required for top1"],
        ),
        (
            &log,
            &labels,
            &["--metric", "top1", "--dtype", "int33"],
            &["unknown dtype 'int33'"],
        ),
        (
            &log,
            &labels,
            &["--benchmark", "resnet-51"],
            &["unknown benchmark 'resnet-51'"],
        ),
        (
            &log,
            &labels,
            &[
                "--metric",
                "top1",
                "--dtype",
                "int32",
                "--benchmark",
                "bert-99",
            ],
            &["bert-99 is judged on F1"],
        ),
        (&log, &labels, &[], &["give --metric"]),
    ];
    for (log, truth, rest, needles) in cases {
        let o = accuracy(log, truth, rest);
        let (out, err) = text(&o);
        let args = format!("{} {} {rest:?}", log.display(), truth.display());
        assert_eq!(o.status.code(), Some(2), "{args}: {out}{err}");
        for n in needles {
            assert!(err.contains(n), "{args}: expected {n:?} in {err}");
        }
    }
}

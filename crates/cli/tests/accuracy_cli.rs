//! End-to-end tests of `yardstick accuracy`: scoring, targets, exit codes,
//! accuracy.txt, and the error messages for bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../accuracy/tests/fixtures")
}

/// A fresh scratch directory with copies of some fixture files.
fn scratch(name: &str, files: &[&str]) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("accuracy-cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    for f in files {
        let to = d.join(Path::new(f).file_name().unwrap());
        std::fs::copy(fixtures().join(f), to).unwrap();
    }
    d
}

fn yardstick(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_yardstick"));
    c.arg("accuracy").args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn top1_meets_resnet_and_writes_accuracy_txt() {
    let d = scratch("top1", &["top1/int32.json", "top1/val_map.txt"]);
    let log = d.join("int32.json");
    let o = yardstick(
        &[
            "--log",
            s(&log),
            "--ground-truth",
            s(&d.join("val_map.txt")),
            "--metric",
            "top1",
            "--dtype",
            "int32",
            "--benchmark",
            "resnet50",
        ],
        &[],
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
    let o = yardstick(
        &[
            "--log",
            s(&d.join("answers.json")),
            "--ground-truth",
            s(&d.join("dev-v1.1.json")),
            "--benchmark",
            "bert-99",
            "-o",
            s(&out_file),
        ],
        &[],
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
    let args = [
        "--log",
        s(&log),
        "--ground-truth",
        s(&refs),
        "--metric",
        "wer",
        "--no-accuracy-txt",
    ];
    let o = yardstick(&[&args[..], &["--target", "70"]].concat(), &[]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains("ACCURACY")
            && out.contains("73.4177")
            && out.contains("PASS: meets the given minimum"),
        "{out}"
    );
    assert!(!d.join("accuracy.txt").exists());
    let o = yardstick(&args, &[]);
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
    let o = yardstick(
        &[
            "--log",
            s(&d.join("log.json")),
            "--ground-truth",
            s(&d.join("references.jsonl")),
            "--benchmark",
            "llama2-70b-99.9",
        ],
        &[("NLTK_DATA", &empty), ("HOME", &empty)],
    );
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
    let o = yardstick(
        &[
            "--log",
            s(&d.join("texts.json")),
            "--ground-truth",
            s(&d.join("answers.jsonl")),
            "--benchmark",
            "retinanet",
        ],
        &[],
    );
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("retinanet is judged on mAP, which yardstick does not compute"),
        "{err}"
    );
    let o = yardstick(
        &[
            "--log",
            s(&d.join("texts.json")),
            "--ground-truth",
            s(&d.join("answers.jsonl")),
            "--metric",
            "exact-match",
            "--benchmark",
            "mixtral-8x7b",
        ],
        &[],
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
    let o = yardstick(&["--list-targets"], &[]);
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
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec![
                "--log",
                s(&corrupt),
                "--ground-truth",
                s(&labels),
                "--metric",
                "top1",
                "--dtype",
                "int32",
            ],
            vec!["corrupt.json", "not hex"],
        ),
        (
            vec![
                "--log",
                s(&missing),
                "--ground-truth",
                s(&labels),
                "--metric",
                "top1",
                "--dtype",
                "int32",
            ],
            vec!["cannot read", "missing.json"],
        ),
        (
            vec![
                "--log",
                s(&log),
                "--ground-truth",
                s(&labels),
                "--metric",
                "top1",
                "--dtype",
                "int64",
            ],
            vec!["int32.json", "not a multiple of 8", "dtype int64"],
        ),
        (
            vec![
                "--log",
                s(&log),
                "--ground-truth",
                s(&nolabels),
                "--metric",
                "top1",
                "--dtype",
                "int32",
            ],
            vec!["cannot read", "nolabels.txt"],
        ),
        (
            vec![
                "--log",
                s(&log),
                "--ground-truth",
                s(&few),
                "--metric",
                "top1",
                "--dtype",
                "int32",
            ],
            vec!["few.txt has 1 samples", "out of range"],
        ),
        (
            vec![
                "--log",
                s(&log),
                "--ground-truth",
                s(&labels),
                "--metric",
                "top1",
            ],
            vec!["--dtype is required for top1"],
        ),
        (
            vec![
                "--log",
                s(&log),
                "--ground-truth",
                s(&labels),
                "--metric",
                "top1",
                "--dtype",
                "int33",
            ],
            vec!["unknown dtype 'int33'"],
        ),
        (
            vec![
                "--log",
                s(&log),
                "--ground-truth",
                s(&labels),
                "--benchmark",
                "resnet-51",
            ],
            vec!["unknown benchmark 'resnet-51'"],
        ),
        (
            vec![
                "--log",
                s(&log),
                "--ground-truth",
                s(&labels),
                "--metric",
                "top1",
                "--dtype",
                "int32",
                "--benchmark",
                "bert-99",
            ],
            vec!["bert-99 is judged on F1"],
        ),
        (
            vec!["--log", s(&log), "--ground-truth", s(&labels)],
            vec!["give --metric"],
        ),
    ];
    for (args, needles) in cases {
        let o = yardstick(&args, &[]);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {out}{err}");
        for n in needles {
            assert!(err.contains(n), "{args:?}: expected {n:?} in {err}");
        }
    }
}

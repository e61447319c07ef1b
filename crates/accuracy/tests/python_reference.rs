//! yardstick's scorers against the Python reference implementations on the
//! fixtures in tests/fixtures: `tests/accuracy/reference.py` (run with
//! `.venv-ref/bin/python`, see `.ci/setup-accuracy-python.sh`) scores them
//! with rouge-score, NLTK, Whisper's normaliser, jiwer and the MLPerf
//! scripts' own code, and every number must agree to 1e-6 (every string,
//! stem, sentence and extracted answer exactly). A second test does the
//! same for every text-processing step on 400 deterministic random texts
//! that the script generates.
//!
//! Without the reference environment the test is skipped with a message,
//! except under CI (`CI` set), where it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use yardstick_accuracy::exact_match::{Aime, Gsm8k};
use yardstick_accuracy::porter::PorterStemmer;
use yardstick_accuracy::rouge::RougeScorer;
use yardstick_accuracy::squad::normalize_answer;
use yardstick_accuracy::whisper::EnglishTextNormalizer;
use yardstick_accuracy::*;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(p)
}

/// The reference results, computed once for all tests.
fn reference() -> Option<&'static Value> {
    static REFERENCE: std::sync::OnceLock<Option<Value>> = std::sync::OnceLock::new();
    REFERENCE.get_or_init(run_reference).as_ref()
}

/// Runs the reference script, or explains why it cannot.
fn run_reference() -> Option<Value> {
    let python = root().join(".venv-ref/bin/python");
    let script = root().join("tests/accuracy/reference.py");
    let why = if python.exists() {
        match Command::new(&python).arg(&script).output() {
            Ok(out) if out.status.success() => {
                return Some(
                    serde_json::from_slice(&out.stdout).expect("reference.py prints JSON"),
                );
            }
            Ok(out) => format!(
                "reference.py failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => format!("cannot run {}: {e}", python.display()),
        }
    } else {
        format!("{} does not exist", python.display())
    };
    let msg = format!("Python reference unavailable ({why}); run .ci/setup-accuracy-python.sh");
    if std::env::var_os("CI").is_some() {
        panic!("{msg}");
    }
    eprintln!("SKIPPED: {msg}");
    None
}

fn lines(p: &str) -> Vec<String> {
    std::fs::read_to_string(fixture(p))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn jsonl(p: &str) -> Vec<String> {
    lines(p)
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<String>(l).unwrap())
        .collect()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

fn close(what: &str, ours: f64, theirs: &Value) {
    let t = f(theirs);
    assert!(
        (ours - t).abs() <= 1e-6,
        "{what}: yardstick {ours} vs reference {t}"
    );
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn punkt_english() -> PunktModel {
    PunktModel::from_dir(root().join(".venv-ref/nltk_data/tokenizers/punkt_tab/english"))
        .expect("punkt_tab/english")
}

#[test]
fn scorers_agree_with_the_python_references() {
    let Some(r) = reference() else { return };
    eprintln!("reference versions: {}", r["versions"]);

    // Porter stemmer (NLTK_EXTENSIONS).
    let stemmer = PorterStemmer::new();
    for (w, s) in lines("stems.txt").iter().zip(strings(&r["stems"])) {
        assert_eq!(stemmer.stem(w), s, "stem of {w:?}");
    }

    // rouge-score tokenisation and Punkt, on the sentence fixtures.
    let sentences = jsonl("sentences.jsonl");
    let mut scorer = RougeScorer::new();
    let punkt = punkt_english();
    let empty = PunktModel::empty();
    for (i, s) in sentences.iter().enumerate() {
        let toks: Vec<String> = r["rouge_tokens"][i]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().into())
            .collect();
        assert_eq!(scorer.tokenize(s), toks, "rouge tokens of {s:?}");
        assert_eq!(
            punkt.sent_tokenize(s),
            strings(&r["sent_tokenize"][i]),
            "sent_tokenize({s:?})"
        );
        assert_eq!(
            empty.sent_tokenize(s),
            strings(&r["sent_tokenize_empty_model"][i]),
            "empty-model sent_tokenize({s:?})"
        );
    }

    // Whisper's EnglishTextNormalizer.
    let normalizer = EnglishTextNormalizer::new();
    let mismatches: Vec<String> = jsonl("normalizer.jsonl")
        .iter()
        .zip(strings(&r["normalizer"]))
        .filter_map(|(s, want)| {
            let got = normalizer.normalize(s).unwrap();
            (got != want).then(|| format!("normalize({s:?}): yardstick {got:?}, whisper {want:?}"))
        })
        .collect();
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));

    // Top-1.
    let labels = read_labels(fixture("top1/val_map.txt")).unwrap();
    for (log, dtype, key) in [
        ("top1/int32.json", Dtype::Int32, "top1_int32"),
        ("top1/float32.json", Dtype::Float32, "top1_float32"),
    ] {
        let s = top1(&read_accuracy_log(fixture(log)).unwrap(), &labels, dtype).unwrap();
        assert_eq!(s.good as u64, u(&r[key]["good"]), "{key}");
        assert_eq!(s.total as u64, u(&r[key]["total"]), "{key}");
        close(key, s.accuracy(), &r[key]["accuracy"]);
    }

    // SQuAD.
    let log = read_accuracy_log(fixture("squad/answers.json")).unwrap();
    let s = squad(&log, &read_squad(fixture("squad/dev-v1.1.json")).unwrap()).unwrap();
    close(
        "squad exact_match",
        s.exact_match,
        &r["squad"]["exact_match"],
    );
    close("squad f1", s.f1, &r["squad"]["f1"]);
    let normalized: Vec<String> = log
        .first_per_sample()
        .into_iter()
        .map(|i| normalize_answer(log.text(i).unwrap()))
        .collect();
    assert_eq!(normalized, strings(&r["squad"]["normalized"]));

    // ROUGE, with NLTK's English model and with an empty one.
    let refs = read_text_references(fixture("rouge/references.jsonl")).unwrap();
    let log = read_accuracy_log(fixture("rouge/texts.json")).unwrap();
    for (model, key) in [(&punkt, "rouge"), (&empty, "rouge_empty_model")] {
        let s = rouge(&log, &refs, model).unwrap();
        let want = &r[key];
        close(&format!("{key} rouge1"), s.rouge1, &want["rouge1"]);
        close(&format!("{key} rouge2"), s.rouge2, &want["rouge2"]);
        close(&format!("{key} rougeL"), s.rouge_l, &want["rougeL"]);
        close(
            &format!("{key} rougeLsum"),
            s.rouge_lsum,
            &want["rougeLsum"],
        );
        // Bit-exact, so the 4-decimal rounding agrees too.
        assert_eq!(s.rouge1, f(&want["rouge1"]), "{key}");
        assert_eq!(s.rouge_lsum, f(&want["rougeLsum"]), "{key}");
        let score = Score::Rouge(s);
        let printed = score.metrics();
        for (k, pk) in [
            ("ROUGE1", "rouge1"),
            ("ROUGE2", "rouge2"),
            ("ROUGEL", "rougeL"),
            ("ROUGELSUM", "rougeLsum"),
        ] {
            let v = printed.iter().find(|(name, _)| *name == k).unwrap().1;
            assert_eq!(v, f(&want["rounded"][pk]), "{key} {k} as printed");
        }
        assert_eq!(s.gen_len, u(&want["gen_len"]), "{key} gen_len");
        assert_eq!(s.gen_num as u64, u(&want["gen_num"]));
        assert_eq!(s.gen_tok_len, Some(u(&want["gen_tok_len"])));
        assert_eq!(s.tokens_per_sample(), Some(f(&want["tokens_per_sample"])));
    }

    // WER: MLPerf's concatenation-aware WER on text and on label ids, and the plain WER.
    let refs = read_text_references(fixture("wer/transcripts.txt")).unwrap();
    let text_log = read_accuracy_log(fixture("wer/texts.json")).unwrap();
    let ids_log = read_accuracy_log(fixture("wer/labels_int64.json")).unwrap();
    let cases = [
        (&text_log, ResponseFormat::Text, WerMode::Mlperf, "text"),
        (
            &ids_log,
            ResponseFormat::WhisperLabels(Dtype::Int64),
            WerMode::Mlperf,
            "labels",
        ),
        (
            &text_log,
            ResponseFormat::Text,
            WerMode::Standard,
            "text_standard",
        ),
    ];
    for (log, format, mode, key) in cases {
        let s = wer(log, &refs, format, mode).unwrap();
        assert_eq!(
            s.errors as u64,
            u(&r["wer"][key]["errors"]),
            "wer {key} errors"
        );
        assert_eq!(
            s.words as u64,
            u(&r["wer"][key]["words"]),
            "wer {key} words"
        );
        if mode == WerMode::Mlperf {
            close(&format!("wer {key}"), s.wer(), &r["wer"][key]["wer"]);
            close(
                &format!("wer {key} accuracy"),
                s.accuracy(),
                &r["wer"][key]["accuracy"],
            );
        }
    }

    // GSM8K and AIME exact match.
    let log = read_accuracy_log(fixture("gsm8k/texts.json")).unwrap();
    let s = exact_match(
        &log,
        &read_text_references(fixture("gsm8k/answers.jsonl")).unwrap(),
        Extractor::Gsm8k,
    )
    .unwrap();
    assert_eq!(s.correct as u64, u(&r["gsm8k"]["correct"]));
    assert_eq!(s.total as u64, u(&r["gsm8k"]["total"]));
    close("gsm8k", s.accuracy(), &r["gsm8k"]["accuracy"]);
    assert_eq!(
        s.tokens_per_sample(),
        Some(f(&r["gsm8k"]["tokens_per_sample"]))
    );
    let g = Gsm8k::new();
    let extracted: Vec<String> = log
        .first_per_sample()
        .into_iter()
        .map(|i| g.extract(log.text(i).unwrap()))
        .collect();
    assert_eq!(extracted, strings(&r["gsm8k"]["extracted"]));

    let log = read_accuracy_log(fixture("aime/texts.json")).unwrap();
    let s = exact_match(
        &log,
        &read_text_references(fixture("aime/answers.jsonl")).unwrap(),
        Extractor::Aime,
    )
    .unwrap();
    assert_eq!(s.correct as u64, u(&r["aime"]["correct"]));
    assert_eq!(s.total as u64, u(&r["aime"]["total"]));
    let a = Aime::new();
    let parsed: Vec<Value> = log
        .first_per_sample()
        .into_iter()
        .map(|i| {
            a.extract(log.text(i).unwrap())
                .map_or(Value::Null, |v| Value::from(v as i64))
        })
        .collect();
    assert_eq!(Value::Array(parsed), r["aime"]["parsed"]);
}

/// 400 deterministic random texts from tricky pieces (abbreviations,
/// quotes, number words, currencies, Unicode, odd whitespace): every text
/// step must agree exactly.
#[test]
fn random_texts_agree_with_the_python_references() {
    let Some(r) = reference() else { return };
    let r = &r["random"];
    let texts = strings(&r["texts"]);
    let punkt = punkt_english();
    let empty = PunktModel::empty();
    let stemmer = PorterStemmer::new();
    let mut scorer = RougeScorer::new();
    let normalizer = EnglishTextNormalizer::new();
    let gsm8k = Gsm8k::new();
    let aime = Aime::new();
    let mut failures = Vec::new();
    let mut check = |what: &str, text: &str, ours: Value, theirs: &Value| {
        if &ours != theirs {
            failures.push(format!(
                "{what}({text:?}): yardstick {ours}, reference {theirs}"
            ));
        }
    };
    for (i, t) in texts.iter().enumerate() {
        check(
            "sent_tokenize",
            t,
            serde_json::json!(punkt.sent_tokenize(t)),
            &r["sent_tokenize"][i],
        );
        check(
            "empty-model sent_tokenize",
            t,
            serde_json::json!(empty.sent_tokenize(t)),
            &r["sent_tokenize_empty_model"][i],
        );
        check(
            "rouge tokenize",
            t,
            serde_json::json!(scorer.tokenize(t)),
            &r["rouge_tokens"][i],
        );
        let stems: Vec<String> = t
            .split(yardstick_accuracy::py::is_space)
            .filter(|w| !w.is_empty())
            .map(|w| stemmer.stem(w))
            .collect();
        check("stem", t, serde_json::json!(stems), &r["stems"][i]);
        check(
            "normalize",
            t,
            serde_json::json!(normalizer.normalize(t).unwrap()),
            &r["normalizer"][i],
        );
        check(
            "normalize_answer",
            t,
            serde_json::json!(normalize_answer(t)),
            &r["squad_normalized"][i],
        );
        check(
            "gsm8k extract",
            t,
            serde_json::json!(gsm8k.extract(t)),
            &r["gsm8k"][i],
        );
        check(
            "aime extract",
            t,
            serde_json::json!(aime.extract(t).map(|v| v as i64)),
            &r["aime"][i],
        );
    }
    for (k, pair) in texts.chunks_exact(2).enumerate() {
        let (a, b) = (&pair[0], &pair[1]);
        let f1 = yardstick_accuracy::squad::f1_score(a, b);
        if (f1 - f(&r["squad_f1"][k])).abs() > 1e-12 {
            failures.push(format!(
                "f1({a:?}, {b:?}): yardstick {f1}, reference {}",
                r["squad_f1"][k]
            ));
        }
        let target = yardstick_accuracy::rouge::postprocess_text(a, &punkt);
        let pred = yardstick_accuracy::rouge::postprocess_text(b, &punkt);
        let s = scorer.score(&target, &pred);
        let theirs: Vec<f64> = r["rouge"][k].as_array().unwrap().iter().map(f).collect();
        let ours = [s.rouge1, s.rouge2, s.rouge_l, s.rouge_lsum];
        if ours.iter().zip(&theirs).any(|(x, y)| (x - y).abs() > 1e-12) {
            failures.push(format!(
                "rouge({a:?}, {b:?}): yardstick {ours:?}, reference {theirs:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

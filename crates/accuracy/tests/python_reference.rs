//! yardstick's scorers against the Python reference implementations on the
//! fixtures in tests/fixtures: `tests/accuracy/reference.py` (run with
//! `.venv-ref/bin/python`, see `.ci/setup-accuracy-python.sh`) scores them
//! with rouge-score, NLTK, Whisper's normaliser, jiwer and the MLPerf
//! scripts' own code, and every number must agree to 1e-6 (every string,
//! stem, sentence and extracted answer exactly). A second test does the
//! same for every text-processing step on 400 deterministic random texts
//! that the script generates.
//!
//! Without the reference environment (the venv, the modules the script
//! imports, NLTK's Punkt data) the tests are skipped with a message, except
//! under CI (`CI=true`), where they fail. Once it is installed, a crash of the
//! script fails them everywhere.

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

/// Python modules `reference.py` imports: the optional dependencies of these
/// tests, installed by `.ci/setup-accuracy-python.sh`.
const REFERENCE_MODULES: &[&str] = &["numpy", "nltk", "rouge_score", "jiwer", "whisper"];

/// NLTK's English Punkt parameters, written by `.ci/setup-accuracy-python.sh`.
const PUNKT_FILES: &[&str] = &[
    "abbrev_types.txt",
    "sent_starters.txt",
    "collocations.tab",
    "ortho_context.tab",
];

/// How many random texts `reference.py`'s `random_texts` generates.
const RANDOM_TEXTS: usize = 400;

fn punkt_dir() -> PathBuf {
    root().join(".venv-ref/nltk_data/tokenizers/punkt_tab/english")
}

/// Whether this is a CI run (`CI` set, as CI services do, and not to "false"
/// or "0"): there a missing reference environment is a failure.
fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The reference results, computed once for all tests; `None` (the tests skip
/// with a message) only when the reference environment is not installed and
/// this is not CI.
fn reference() -> Option<&'static Value> {
    static REFERENCE: std::sync::OnceLock<Option<Value>> = std::sync::OnceLock::new();
    REFERENCE
        .get_or_init(|| match missing_environment() {
            None => Some(run_reference()),
            Some(why) => {
                let msg = format!(
                    "Python reference environment not installed ({why}); \
                     run .ci/setup-accuracy-python.sh"
                );
                assert!(!under_ci(), "{msg}");
                eprintln!("SKIPPED: {msg}");
                None
            }
        })
        .as_ref()
}

/// What of the reference environment is missing (the venv, a module the
/// script imports, the Punkt data), or `None` when all of it is there. Only
/// this may skip a test: once it is all there, any failure of the script is
/// a test failure.
fn missing_environment() -> Option<String> {
    let python = root().join(".venv-ref/bin/python");
    if !python.exists() {
        return Some(format!("{} does not exist", python.display()));
    }
    let probe = "import importlib.util, sys\n\
                 print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))";
    let out = match Command::new(&python)
        .arg("-c")
        .arg(probe)
        .args(REFERENCE_MODULES)
        .output()
    {
        Ok(out) if out.status.success() => out,
        Ok(out) => {
            return Some(format!(
                "{} does not run: {}",
                python.display(),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
        Err(e) => return Some(format!("cannot run {}: {e}", python.display())),
    };
    let missing_modules = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !missing_modules.is_empty() {
        return Some(format!("Python modules missing: {missing_modules}"));
    }
    let punkt = punkt_dir();
    if let Some(file) = PUNKT_FILES.iter().find(|f| !punkt.join(f).is_file()) {
        return Some(format!("{} is missing", punkt.join(file).display()));
    }
    None
}

/// Runs the reference script; with its environment installed, a crash or an
/// unreadable answer is a failure of every test that needs it.
fn run_reference() -> Value {
    let python = root().join(".venv-ref/bin/python");
    let script = root().join("tests/accuracy/reference.py");
    let out = Command::new(&python)
        .arg(&script)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "{} failed ({}):\n{}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{} printed no JSON ({e}):\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// The length of the reference's array `v`, asserted to be `want`: a short (or
/// empty) answer would otherwise compare fewer items and pass.
fn assert_len(what: &str, v: &Value, want: usize) {
    let got = v
        .as_array()
        .unwrap_or_else(|| panic!("reference {what} is not an array: {v}"))
        .len();
    assert_eq!(got, want, "reference {what}: {got} items, expected {want}");
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
    PunktModel::from_dir(punkt_dir()).expect("punkt_tab/english")
}

#[test]
fn scorers_agree_with_the_python_references() {
    let Some(r) = reference() else { return };
    eprintln!("reference versions: {}", r["versions"]);

    // Porter stemmer (NLTK_EXTENSIONS).
    let stemmer = PorterStemmer::new();
    let words = lines("stems.txt");
    assert!(!words.is_empty(), "stems.txt is empty");
    assert_len("stems", &r["stems"], words.len());
    for (w, s) in words.iter().zip(strings(&r["stems"])) {
        assert_eq!(stemmer.stem(w), s, "stem of {w:?}");
    }

    // rouge-score tokenisation and Punkt, on the sentence fixtures.
    let sentences = jsonl("sentences.jsonl");
    assert!(!sentences.is_empty(), "sentences.jsonl is empty");
    for key in ["rouge_tokens", "sent_tokenize", "sent_tokenize_empty_model"] {
        assert_len(key, &r[key], sentences.len());
    }
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
    let normalizer_inputs = jsonl("normalizer.jsonl");
    assert!(!normalizer_inputs.is_empty(), "normalizer.jsonl is empty");
    assert_len("normalizer", &r["normalizer"], normalizer_inputs.len());
    let mismatches: Vec<String> = normalizer_inputs
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
    assert_eq!(texts.len(), RANDOM_TEXTS, "random texts from the reference");
    for key in [
        "sent_tokenize",
        "sent_tokenize_empty_model",
        "rouge_tokens",
        "stems",
        "normalizer",
        "squad_normalized",
        "gsm8k",
        "aime",
    ] {
        assert_len(key, &r[key], RANDOM_TEXTS);
    }
    for key in ["squad_f1", "rouge"] {
        assert_len(key, &r[key], RANDOM_TEXTS / 2);
    }
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

//! accuracy.txt is parsed by the MLPerf submission checker with the
//! patterns of `ACC_PATTERN` (tools/submission/submission_checker/
//! constants.py), applied with `re.match` to each line, plus
//! `^hash=([\w\d]+)$`. These are those patterns (with `{` escaped for Rust).

use std::path::Path;

use regex::Regex;
use yardstick_accuracy::exact_match::ExactMatchScore;
use yardstick_accuracy::*;

const ACC_PATTERN: &[(&str, &str)] = &[
    ("acc", r#"^(?:\{"accuracy|accuracy)[": ]*=?\s*([\d\.]+).*"#),
    (
        "F1",
        r#"^\{["']exact_match["']:\s*[\d\.]+,\s*["']f1["']:\s*([\d\.]+)\}"#,
    ),
    ("ACCURACY", r"Word Error Rate:.*, accuracy=([0-9\.]+)%"),
    ("ROUGE1", r".*'rouge1':\s+'?([\d.]+)'?.*"),
    ("ROUGE2", r".*'rouge2':\s+'?([\d.]+)'?.*"),
    ("ROUGEL", r".*'rougeL':\s+'?([\d.]+)'?.*"),
    ("ROUGELSUM", r".*'rougeLsum':\s+'?([\d.]+)'?.*"),
    ("GEN_LEN", r".*'gen_len':\s([\d.]+).*"),
    ("TOKENS_PER_SAMPLE", r".*'tokens_per_sample':\s([\d.]+).*"),
    ("gsm8k_accuracy", r".*'gsm8k':\s([\d.]+).*"),
    ("exact_match", r".*'exact_match':\s([\d.]+).*"),
];

/// What the checker reads for `key` from `text` (last match wins, as its
/// loop overwrites), and the hash.
fn checker_reads(text: &str, key: &str) -> (Option<f64>, Option<String>) {
    let pat = ACC_PATTERN.iter().find(|(k, _)| *k == key).unwrap().1;
    let re = Regex::new(&format!("^(?:{pat})")).unwrap();
    let hash = Regex::new(r"^hash=([\w\d]+)$").unwrap();
    let mut value = None;
    let mut h = None;
    for line in text.lines() {
        if let Some(c) = re.captures(line) {
            value = Some(c[1].parse::<f64>().unwrap());
        }
        if let Some(c) = hash.captures(line) {
            h = Some(c[1].to_string());
        }
    }
    (value, h)
}

fn check_all(score: Score) {
    let text = accuracy_txt(&score, "ab12");
    for (key, value) in score.metrics() {
        let (read, hash) = checker_reads(&text, key);
        assert_eq!(read, Some(value), "{key} in\n{text}");
        assert_eq!(hash.as_deref(), Some("ab12"));
    }
}

#[test]
fn every_score_is_read_back_by_the_checker_patterns() {
    check_all(Score::Top1(Top1Score {
        good: 38228,
        total: 50000,
    }));
    check_all(Score::Squad(SquadScore {
        exact_match: 83.5,
        f1: 90.91234567,
        answered: 3,
        total: 3,
    }));
    check_all(Score::Rouge(RougeScore {
        rouge1: 44.45425,
        rouge2: 22.0,
        rouge_l: 28.61,
        rouge_lsum: 42.0,
        gen_len: 29579723,
        gen_num: 24576,
        gen_tok_len: Some(7399913),
    }));
    check_all(Score::Wer(WerScore {
        errors: 21,
        words: 1000,
        samples: 5,
    }));
    check_all(Score::ExactMatch(ExactMatchScore {
        correct: 7,
        total: 9,
        extractor: Extractor::Gsm8k,
        gen_tok_len: Some(90),
    }));
}

#[test]
fn values_pass_exactly_where_the_checker_passes() {
    // 76.46 * 0.99 = 75.6954 (75.69539999999999 in binary): a printed
    // 75.695 fails, 75.696 passes.
    let t = quality_target("resnet").unwrap();
    let below = Score::Top1(Top1Score {
        good: 75695,
        total: 100000,
    });
    let above = Score::Top1(Top1Score {
        good: 75696,
        total: 100000,
    });
    assert_eq!(check_target(&below, t).unwrap().outcome(), Outcome::Fail);
    assert_eq!(check_target(&above, t).unwrap().outcome(), Outcome::Pass);
}

#[test]
fn hash_is_sha256_of_the_log() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("accuracy-txt");
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("mlperf_log_accuracy.json");
    std::fs::write(&log, "abc").unwrap();
    assert_eq!(
        sha256_file(&log).unwrap(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let out = dir.join("accuracy.txt");
    write_accuracy_txt(&out, &Score::Top1(Top1Score { good: 1, total: 2 }), &log).unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "accuracy=50.000%, good=1, total=2\n\nhash=ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
    );
}

#[test]
fn golden_loadgen_log_reads_and_scores() {
    // The reference LoadGen 6.0.17 run of ../shared: its SUT answers each
    // sample with its own index as int32, so labels 0..N score 100 %.
    let log_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/golden/loadgen-6.0.17/resnet50-singlestream-accuracy/mlperf_log_accuracy.json");
    // Like every golden test: the reference outputs are part of the checkout's
    // surroundings (../shared), so their absence is a failure, not a skip.
    assert!(
        log_path.is_file(),
        "golden LoadGen accuracy log missing at {} (shared/ must sit beside the checkout)",
        log_path.display()
    );
    let log = read_accuracy_log(&log_path).unwrap();
    assert_eq!(log.records.len(), 3000);
    assert_eq!(
        (log.records[0].qsl_idx, log.records[0].data.clone()),
        (1541, vec![5, 6, 0, 0])
    );
    let labels = Labels {
        path: "identity".into(),
        labels: (0..3000).collect(),
    };
    let s = top1(&log, &labels, Dtype::Int32).unwrap();
    assert_eq!((s.good, s.total), (3000, 3000));
}

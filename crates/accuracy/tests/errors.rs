//! Bad input gives a typed error that names the file and the problem.

use std::path::{Path, PathBuf};

use yardstick_accuracy::*;

/// A scratch directory under Cargo's per-target temp dir.
fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("accuracy-errors")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const LOG: &str = "[\n{ \"seq_id\" : 0, \"qsl_idx\" : 1, \"data\" : \"05000000\" },\n{ \"seq_id\" : 1, \"qsl_idx\" : 0, \"data\" : \"07000000\" }\n]\n";

#[test]
fn missing_log_file() {
    let d = scratch("missing-log");
    let e = read_accuracy_log(d.join("nope.json")).unwrap_err();
    assert!(matches!(e, AccuracyError::Io { .. }));
    let m = e.to_string();
    assert!(m.contains("nope.json") && m.contains("cannot read"), "{m}");
}

#[test]
fn corrupt_logs() {
    let d = scratch("corrupt");
    for (name, text, expect) in [
        ("notjson.json", "[\n{ \"seq_id\" : 0, \"qsl_idx\" : 1, \"data\" : \"05\" ", "EOF"),
        ("truncated.json", "[\n{ \"seq_id\" : 0, \"qsl_idx\" : 1, \"data\" : \"05\" },\n\n...\n\n{ \"seq_id\" : 9 }\n]", "truncated"),
        ("fields.json", "[{\"seq_id\": 0, \"data\": \"05\"}]", "qsl_idx"),
        ("oddhex.json", "[{\"seq_id\": 0, \"qsl_idx\": 3, \"data\": \"050\"}]", "odd number of digits"),
        ("badhex.json", "[{\"seq_id\": 0, \"qsl_idx\": 3, \"data\": \"zz\"}]", "not hex"),
        ("object.json", "{\"seq_id\": 0}", "invalid type"),
    ] {
        let p = write(&d, name, text);
        let e = read_accuracy_log(&p).unwrap_err();
        assert!(matches!(e, AccuracyError::CorruptLog { .. }), "{name}: {e:?}");
        let m = e.to_string();
        assert!(m.contains(name) && m.contains("not a valid accuracy log") && m.contains(expect), "{name}: {m}");
    }
}

#[test]
fn wrong_dtype_width() {
    let d = scratch("dtype");
    let log = read_accuracy_log(write(&d, "log.json", LOG)).unwrap();
    let labels = read_labels(write(&d, "labels.txt", "7\n5\n")).unwrap();
    assert_eq!(top1(&log, &labels, Dtype::Int32).unwrap().good, 2);
    let e = top1(&log, &labels, Dtype::Int64).unwrap_err();
    assert!(
        matches!(
            e,
            AccuracyError::DtypeMismatch {
                len: 4,
                width: 8,
                ..
            }
        ),
        "{e:?}"
    );
    let m = e.to_string();
    assert!(
        m.contains("log.json")
            && m.contains("qsl_idx 1")
            && m.contains("int64")
            && m.contains("not a multiple of 8"),
        "{m}"
    );
    assert!("int99"
        .parse::<Dtype>()
        .unwrap_err()
        .to_string()
        .contains("unknown dtype"));
}

#[test]
fn missing_ground_truth() {
    let d = scratch("missing-gt");
    for e in [
        read_labels(d.join("labels.txt")).unwrap_err(),
        read_text_references(d.join("refs.jsonl")).unwrap_err(),
        read_squad(d.join("dev.json")).unwrap_err(),
    ] {
        assert!(matches!(e, AccuracyError::Io { .. }), "{e:?}");
        assert!(e.to_string().contains(d.to_str().unwrap()), "{e}");
    }
}

#[test]
fn sample_index_out_of_range() {
    let d = scratch("range");
    let log = read_accuracy_log(write(&d, "log.json", LOG)).unwrap();
    let labels = read_labels(write(&d, "one_label.txt", "7\n")).unwrap();
    let e = top1(&log, &labels, Dtype::Int32).unwrap_err();
    let m = e.to_string();
    assert!(
        matches!(
            e,
            AccuracyError::SampleOutOfRange {
                qsl_idx: 1,
                count: 1,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        m.contains("log.json")
            && m.contains("one_label.txt")
            && m.contains("qsl_idx 1, out of range")
            && m.contains("has 1 samples"),
        "{m}"
    );

    let text_log = "[{\"seq_id\": 0, \"qsl_idx\": 5, \"data\": \"6869\"}]";
    let log = read_accuracy_log(write(&d, "text.json", text_log)).unwrap();
    let refs = read_text_references(write(&d, "refs.txt", "a\nb\n")).unwrap();
    let punkt = PunktModel::empty();
    assert!(matches!(
        rouge(&log, &refs, &punkt),
        Err(AccuracyError::SampleOutOfRange {
            qsl_idx: 5,
            count: 2,
            ..
        })
    ));
    assert!(matches!(
        wer(&log, &refs, ResponseFormat::Text, WerMode::Mlperf),
        Err(AccuracyError::SampleOutOfRange { .. })
    ));
    assert!(matches!(
        exact_match(&log, &refs, Extractor::Gsm8k),
        Err(AccuracyError::SampleOutOfRange { .. })
    ));
}

#[test]
fn malformed_ground_truth() {
    let d = scratch("bad-gt");
    let e = read_labels(write(&d, "labels.txt", "1\ncat\n")).unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains("labels.txt:2") && m.contains("'cat' is not an integer label"),
        "{m}"
    );
    let e = read_labels(write(&d, "labels.json", "{\"x\": 1}")).unwrap_err();
    assert!(e.to_string().contains("expected an array"), "{e}");
    let e = read_text_references(write(&d, "refs.jsonl", "\"ok\"\n{\"nope\": 1}\n")).unwrap_err();
    assert!(
        e.to_string().contains("refs.jsonl:2") && e.to_string().contains("none of the fields"),
        "{e}"
    );
    let e = read_squad(write(
        &d,
        "dev.json",
        "{\"data\": [{\"paragraphs\": [{\"qas\": [{\"id\": \"q\", \"answers\": []}]}]}]}",
    ))
    .unwrap_err();
    assert!(e.to_string().contains("no answers"), "{e}");
    let e = read_squad(write(&d, "v2.json", "{\"version\": \"2.0\"}")).unwrap_err();
    assert!(e.to_string().contains("\"data\""), "{e}");
}

#[test]
fn non_text_responses_and_empty_logs() {
    let d = scratch("text");
    let log = read_accuracy_log(write(
        &d,
        "bin.json",
        "[{\"seq_id\": 0, \"qsl_idx\": 0, \"data\": \"FF00\"}]",
    ))
    .unwrap();
    let refs = read_text_references(write(&d, "refs.txt", "a\n")).unwrap();
    let e = rouge(&log, &refs, &PunktModel::empty()).unwrap_err();
    assert!(
        matches!(e, AccuracyError::NotText { .. }) && e.to_string().contains("not UTF-8"),
        "{e}"
    );

    let empty = read_accuracy_log(write(&d, "empty.json", "[\n]\n")).unwrap();
    let e = exact_match(&empty, &refs, Extractor::Gsm8k).unwrap_err();
    assert!(
        matches!(e, AccuracyError::NoSamples { .. }) && e.to_string().contains("empty.json"),
        "{e}"
    );

    let e = top1(
        &log,
        &read_labels(write(&d, "l.txt", "1\n")).unwrap(),
        Dtype::Int32,
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            AccuracyError::DtypeMismatch {
                len: 2,
                width: 4,
                ..
            }
        ),
        "{e}"
    );

    let ids = read_accuracy_log(write(
        &d,
        "ids.json",
        "[{\"seq_id\": 0, \"qsl_idx\": 0, \"data\": \"2A00000000000000\"}]",
    ))
    .unwrap();
    let e = wer(
        &ids,
        &refs,
        ResponseFormat::WhisperLabels(Dtype::Int64),
        WerMode::Mlperf,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("not an index into the 42 Whisper labels"),
        "{e}"
    );

    // A reference that normalises to nothing ("hmm" is a filler word).
    let filler = read_text_references(write(&d, "filler.txt", "hmm\n")).unwrap();
    let one = read_accuracy_log(write(
        &d,
        "one.json",
        "[{\"seq_id\": 0, \"qsl_idx\": 0, \"data\": \"6869\"}]",
    ))
    .unwrap();
    let e = wer(&one, &filler, ResponseFormat::Text, WerMode::Mlperf).unwrap_err();
    assert!(
        matches!(e, AccuracyError::Undefined { .. })
            && e.to_string()
                .contains("filler.txt: every reference is empty"),
        "{e}"
    );
}

#[test]
fn punkt_model_errors_name_the_file() {
    let d = scratch("punkt");
    let e = PunktModel::from_dir(&d).unwrap_err();
    assert!(
        matches!(e, AccuracyError::PunktModel { .. }) && e.to_string().contains("abbrev_types.txt"),
        "{e}"
    );
    for f in ["abbrev_types.txt", "sent_starters.txt", "collocations.tab"] {
        write(&d, f, "");
    }
    write(&d, "ortho_context.tab", "word\tlots\n");
    let e = PunktModel::from_dir(&d).unwrap_err();
    assert!(
        e.to_string().contains("ortho_context.tab") && e.to_string().contains("line 1"),
        "{e}"
    );
}

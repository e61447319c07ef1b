//! Request content: length distributions, shared prefixes and dataset
//! files (JSONL, ShareGPT, Parquet, Arrow IPC), all seeded.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder, StructBuilder};
use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Fields, Schema};
use rand::SeedableRng;
use yardstick_endpoint::content::{SharedPrefixes, SyntheticSpec, PREFIX_SEPARATOR};
use yardstick_endpoint::datafile::{self, DataFileFormat};
use yardstick_endpoint::lengths::{LengthDistribution, LengthSide, PrefixChoice};
use yardstick_endpoint::{ApiKind, RequestOptions, TokenCounter};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ys-rc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

fn dist(spec: &str) -> LengthDistribution {
    LengthDistribution::parse(spec, LengthSide::Input, None).expect("spec")
}

fn draws(d: &LengthDistribution, n: usize) -> Vec<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    (0..n).map(|_| f64::from(d.sample(&mut rng))).collect()
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64;
    (m, var.sqrt())
}

#[test]
fn distribution_moments_over_many_draws() {
    let n = 40_000;
    let v = draws(&dist("uniform:100..200"), n);
    let (m, sd) = mean_sd(&v);
    assert!((m - 150.0).abs() < 1.0, "uniform mean {m}");
    // Discrete uniform on 101 values: sd = sqrt((101^2 - 1) / 12) = 29.15.
    assert!((sd - 29.15).abs() < 0.6, "uniform sd {sd}");
    assert_eq!(v.iter().cloned().fold(f64::MAX, f64::min), 100.0);
    assert_eq!(v.iter().cloned().fold(0.0, f64::max), 200.0);

    let (m, sd) = mean_sd(&draws(&dist("normal:500,50"), n));
    assert!((m - 500.0).abs() < 1.5, "normal mean {m}");
    assert!((sd - 50.0).abs() < 1.5, "normal sd {sd}");

    // Clamped at 1: a normal around 1 never draws 0 or less.
    let v = draws(&dist("normal:1,10"), n);
    assert!(v.iter().all(|x| *x >= 1.0));
    assert!(v.iter().filter(|x| **x == 1.0).count() > n / 3);

    let mut v = draws(&dist("lognormal:200,0.5"), n);
    let (m, _) = mean_sd(&v);
    // mean = median * exp(sigma^2 / 2) = 226.6
    assert!((m - 226.6).abs() < 3.0, "lognormal mean {m}");
    v.sort_by(f64::total_cmp);
    let median = v[n / 2];
    assert!((median - 200.0).abs() < 4.0, "lognormal median {median}");

    assert_eq!(draws(&dist("128"), 10), vec![128.0; 10]);
    assert_eq!(draws(&dist("fixed:64"), 3), vec![64.0; 3]);

    let list = tmp("lengths.txt");
    std::fs::write(&list, "10\n20, 30\n").expect("write");
    let d = LengthDistribution::parse(
        &format!("empirical:{}", list.display()),
        LengthSide::Input,
        None,
    )
    .expect("empirical");
    let v = draws(&d, 3000);
    for want in [10.0, 20.0, 30.0] {
        let c = v.iter().filter(|x| **x == want).count();
        assert!((900..1100).contains(&c), "{want}: {c}");
    }
    assert!(d.spec().contains("3 lengths"), "{}", d.spec());
}

#[test]
fn empirical_lengths_from_a_dataset() {
    let path = tmp("emp.jsonl");
    std::fs::write(
        &path,
        "{\"prompt\":\"a b c\",\"max_tokens\":9}\n{\"prompt\":\"a b c d e\",\"output\":\"x y\"}\n",
    )
    .expect("write");
    let spec = format!("empirical:{}", path.display());
    let input = LengthDistribution::parse(&spec, LengthSide::Input, None).expect("input");
    let output = LengthDistribution::parse(&spec, LengthSide::Output, None).expect("output");
    match (&input, &output) {
        (
            LengthDistribution::Empirical { lengths: i, .. },
            LengthDistribution::Empirical { lengths: o, .. },
        ) => {
            assert_eq!(i, &vec![3, 5]);
            assert_eq!(o, &vec![9, 2]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_specs_say_what_was_expected() {
    for bad in [
        "uniform:9..3",
        "uniform:5",
        "normal:5",
        "lognormal:0,1",
        "gamma:3,4",
        "fixed:0",
        "abc",
    ] {
        let e = LengthDistribution::parse(bad, LengthSide::Input, None)
            .expect_err(bad)
            .to_string();
        assert!(e.contains(bad) && e.contains("uniform:A..B"), "{bad}: {e}");
    }
    let e = LengthDistribution::parse("empirical:/no/such/file", LengthSide::Input, None)
        .expect_err("missing")
        .to_string();
    assert!(e.contains("/no/such/file"), "{e}");
    assert!(PrefixChoice::parse("zipf:0").is_err());
    assert!(PrefixChoice::parse("pareto").is_err());
    assert_eq!(
        PrefixChoice::parse("zipf:1.2").ok(),
        Some(PrefixChoice::Zipf(1.2))
    );
}

/// A GPT-2 style byte-level BPE over the 256 bytes plus `é`'s two-byte
/// token (as in dataset.rs's tests): tokens merge and split on re-encoding.
fn byte_level_tokenizer() -> TokenCounter {
    let mut bs: Vec<u32> = (33..127).chain(161..173).chain(174..256).collect();
    let mut cs = bs.clone();
    let mut extra = 0;
    for b in 0..256u32 {
        if !bs.contains(&b) {
            bs.push(b);
            cs.push(256 + extra);
            extra += 1;
        }
    }
    let byte_char = |b: u32| {
        let i = bs.iter().position(|x| *x == b).expect("byte");
        char::from_u32(cs[i]).expect("char")
    };
    let mut vocab = serde_json::Map::new();
    for b in 0..256u32 {
        vocab.insert(byte_char(b).to_string(), b.into());
    }
    let (e1, e2) = (byte_char(0xc3), byte_char(0xa9));
    vocab.insert(format!("{e1}{e2}"), 256.into());
    let json = serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
        "normalizer": null,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
        "post_processor": null,
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
        "model": {"type": "BPE", "dropout": null, "unk_token": null,
                  "continuing_subword_prefix": null, "end_of_word_suffix": null,
                  "fuse_unk": false, "byte_fallback": false,
                  "vocab": vocab, "merges": [format!("{e1} {e2}")]}
    });
    TokenCounter::from_json(&json.to_string()).expect("tokenizer")
}

fn spec(seed: u64, prefixes: Option<SharedPrefixes>) -> SyntheticSpec {
    SyntheticSpec {
        count: 64,
        input: dist("uniform:20..60"),
        output: dist("lognormal:50,0.4"),
        exact_output: true,
        shared_prefixes: prefixes,
        seed,
    }
}

fn bodies(spec: &SyntheticSpec, t: Option<&TokenCounter>) -> Vec<Vec<u8>> {
    let d = spec.build(t).expect("build");
    let opts = RequestOptions::new(ApiKind::Completions, "m", true);
    d.prompts
        .iter()
        .map(|p| opts.build_body(p, None).expect("body").to_vec())
        .collect()
}

#[test]
fn same_seed_sends_byte_identical_requests() {
    let t = byte_level_tokenizer();
    let prefixes = Some(SharedPrefixes {
        count: 3,
        tokens: 16,
        choice: PrefixChoice::Zipf(1.1),
    });
    for tok in [None, Some(&t)] {
        let a = bodies(&spec(11, prefixes.clone()), tok);
        let b = bodies(&spec(11, prefixes.clone()), tok);
        assert_eq!(a, b);
        let c = bodies(&spec(12, prefixes.clone()), tok);
        assert_ne!(a, c);
        let plain = bodies(&spec(11, None), tok);
        assert_eq!(plain, bodies(&spec(11, None), tok));
    }
    // The drawn output length goes out as max_tokens and min_tokens.
    let d = spec(11, None).build(None).expect("build");
    let body: serde_json::Value = serde_json::from_slice(
        &RequestOptions::new(ApiKind::Completions, "m", true)
            .build_body(&d.prompts[0], None)
            .expect("body"),
    )
    .expect("json");
    assert_eq!(body["max_tokens"], d.prompts[0].max_tokens.expect("max"));
    assert_eq!(body["min_tokens"], body["max_tokens"]);
    let lengths: std::collections::BTreeSet<_> = d.prompts.iter().map(|p| p.max_tokens).collect();
    assert!(lengths.len() > 10, "output lengths vary: {lengths:?}");
}

#[test]
fn synthetic_lengths_are_exact_in_tokens() {
    let t = byte_level_tokenizer();
    let d = spec(5, None).build(Some(&t)).expect("build");
    for p in &d.prompts {
        let n = p.input_tokens.expect("length");
        assert!((20..=60).contains(&n), "{n}");
        assert_eq!(t.count(&p.text), Some(u64::from(n)), "{:?}", p.text);
    }
    let d = spec(5, None).build(None).expect("build");
    for p in &d.prompts {
        assert_eq!(
            p.text.split(' ').count() as u32,
            p.input_tokens.expect("length")
        );
    }
}

#[test]
fn shared_prefix_requests_share_exactly_the_prefix() {
    let t = byte_level_tokenizer();
    for tok in [None, Some(&t)] {
        let sp = SharedPrefixes {
            count: 4,
            tokens: 24,
            choice: PrefixChoice::Uniform,
        };
        let mut s = spec(3, Some(sp));
        s.count = 400;
        let d = s.build(tok).expect("build");
        let mut prefix_of: std::collections::BTreeMap<u32, String> = Default::default();
        let mut suffixes = std::collections::HashSet::new();
        for p in &d.prompts {
            let id = p.prefix_id.expect("prefix id");
            let (prefix, suffix) = p.text.split_once(PREFIX_SEPARATOR).expect("separator");
            let known = prefix_of.entry(id).or_insert_with(|| prefix.to_string());
            assert_eq!(known, prefix, "prefix {id}");
            assert!(
                suffixes.insert(suffix.to_string()),
                "suffix repeats: {suffix}"
            );
            match tok {
                Some(t) => {
                    assert_eq!(t.count(prefix), Some(24));
                    assert_eq!(t.count(&p.text), p.input_tokens.map(u64::from));
                }
                None => assert_eq!(prefix.split(' ').count(), 24),
            }
        }
        assert_eq!(prefix_of.len(), 4, "every prefix used");
        let distinct: std::collections::HashSet<_> = prefix_of.values().collect();
        assert_eq!(distinct.len(), 4, "prefixes differ");
        // Uniform choice: each of 4 prefixes about 100 of 400.
        for id in 0..4 {
            let c = d.prompts.iter().filter(|p| p.prefix_id == Some(id)).count();
            assert!((60..140).contains(&c), "prefix {id}: {c}");
        }
    }
    // Most prompts hit the exact total (prefix + suffix) with a tokenizer.
    let sp = SharedPrefixes {
        count: 2,
        tokens: 10,
        choice: PrefixChoice::Uniform,
    };
    let mut s = spec(9, Some(sp));
    s.input = dist("fixed:30");
    let d = s.build(Some(&t)).expect("build");
    let exact = d
        .prompts
        .iter()
        .filter(|p| p.input_tokens == Some(40))
        .count();
    assert!(exact * 10 >= d.prompts.len() * 9, "{exact} of {}", d.len());
}

#[test]
fn zipf_prefers_the_first_prefixes() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let z = PrefixChoice::Zipf(1.5);
    let mut counts = [0usize; 8];
    for _ in 0..20_000 {
        counts[z.sample(8, &mut rng) as usize] += 1;
    }
    // P(rank 1) / P(rank 2) = 2^1.5 = 2.83
    let ratio = counts[0] as f64 / counts[1] as f64;
    assert!((ratio - 2.83).abs() < 0.25, "{counts:?}");
    assert!(counts.windows(2).all(|w| w[0] > w[1]), "{counts:?}");
}

fn write_parquet(path: &PathBuf, batch: &RecordBatch) {
    let f = std::fs::File::create(path).expect("create");
    let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), None).expect("writer");
    w.write(batch).expect("write");
    w.close().expect("close");
}

fn prompt_batch() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("prompt", DataType::Utf8, true),
        Field::new("max_tokens", DataType::Int64, true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef,
            Arc::new(StringArray::from(vec![
                Some("hello there"),
                None,
                Some("third"),
            ])),
            Arc::new(Int64Array::from(vec![Some(7), Some(8), None])),
        ],
    )
    .expect("batch")
}

#[test]
fn parquet_and_arrow_files_load_and_skip_bad_rows() {
    let batch = prompt_batch();
    let pq = tmp("prompts.parquet");
    write_parquet(&pq, &batch);
    let ipc_file = tmp("prompts.arrow");
    {
        let f = std::fs::File::create(&ipc_file).expect("create");
        let mut w = arrow_ipc::writer::FileWriter::try_new(f, &batch.schema()).expect("w");
        w.write(&batch).expect("write");
        w.finish().expect("finish");
    }
    // Hugging Face's cache: the IPC stream format, under an odd name.
    let ipc_stream = tmp("data-00000-of-00001.bin");
    {
        let f = std::fs::File::create(&ipc_stream).expect("create");
        let mut w = arrow_ipc::writer::StreamWriter::try_new(f, &batch.schema()).expect("w");
        w.write(&batch).expect("write");
        w.finish().expect("finish");
    }
    for (path, format) in [
        (&pq, DataFileFormat::Parquet),
        (&ipc_file, DataFileFormat::Arrow),
        (&ipc_stream, DataFileFormat::Arrow),
    ] {
        let l = datafile::load(path, None, None).expect("load");
        assert_eq!(l.format, format, "{}", path.display());
        assert_eq!(l.rows, 3);
        assert_eq!(l.skipped, 1);
        assert_eq!(l.dataset.len(), 2);
        assert_eq!(l.dataset.prompts[0].text, "hello there");
        assert_eq!(l.dataset.prompts[0].max_tokens, Some(7));
        assert_eq!(l.dataset.prompts[1].text, "third");
        assert_eq!(l.dataset.prompts[1].max_tokens, None);
        let note = l.skip_note().expect("note");
        assert!(
            note.contains("skipped 1 of 3") && note.contains("row 2"),
            "{note}"
        );
    }
}

#[test]
fn sharegpt_conversations_in_parquet() {
    // conversations: list<struct<from, value>>, as ShareGPT datasets on the Hub.
    let turn = Fields::from(vec![
        Field::new("from", DataType::Utf8, true),
        Field::new("value", DataType::Utf8, true),
    ]);
    let mut conv = ListBuilder::new(StructBuilder::from_fields(turn.clone(), 4));
    for (from, value) in [("human", "what is 2+2?"), ("gpt", "four, as it happens")] {
        let s = conv.values();
        s.field_builder::<StringBuilder>(0)
            .expect("from")
            .append_value(from);
        s.field_builder::<StringBuilder>(1)
            .expect("value")
            .append_value(value);
        s.append(true);
    }
    conv.append(true);
    let conv = conv.finish();
    let schema = Arc::new(Schema::new(vec![Field::new(
        "conversations",
        conv.data_type().clone(),
        true,
    )]));
    let batch = RecordBatch::try_new(schema, vec![Arc::new(conv) as ArrayRef]).expect("batch");
    let pq = tmp("sharegpt.parquet");
    write_parquet(&pq, &batch);
    let l = datafile::load(&pq, None, None).expect("load");
    assert_eq!(l.dataset.len(), 1);
    assert_eq!(l.dataset.prompts[0].text, "what is 2+2?");
    assert_eq!(
        l.dataset.prompts[0].reference.as_deref(),
        Some("four, as it happens")
    );
}

#[test]
fn jsonl_and_sharegpt_skip_bad_rows_with_a_count() {
    let jsonl = tmp("mixed.jsonl");
    std::fs::write(
        &jsonl,
        "{\"prompt\":\"a\"}\nnot json\n\n{\"nope\":1}\n{\"messages\":[{\"role\":\"user\",\"content\":\"q\"}]}\n[1]\n",
    )
    .expect("write");
    let l = datafile::load(&jsonl, None, None).expect("load");
    assert_eq!((l.rows, l.skipped, l.dataset.len()), (5, 3, 2));
    let note = l.skip_note().expect("note");
    for want in [
        "line 2: not JSON",
        "line 4: no prompt",
        "line 6: expected a JSON object",
    ] {
        assert!(note.contains(want), "{want}: {note}");
    }

    let sg = tmp("sg.json");
    std::fs::write(
        &sg,
        r#"[{"conversations":[{"from":"human","value":"q1"},{"from":"gpt","value":"a1"}]},
            {"conversations":[{"from":"gpt","value":"only an answer"}]},
            {"conversations":[{"from":"human","value":"q3"}]}]"#,
    )
    .expect("write");
    let l = datafile::load(&sg, None, None).expect("load");
    assert_eq!(l.format, DataFileFormat::ShareGpt);
    assert_eq!((l.rows, l.skipped), (3, 1));
    assert_eq!(l.dataset.prompts[0].reference.as_deref(), Some("a1"));
    assert!(l.skip_note().expect("note").contains("item 2: no human"));
}

#[test]
fn wrong_shapes_name_the_file_the_row_and_what_was_expected() {
    let all_bad = tmp("bad.jsonl");
    std::fs::write(&all_bad, "\n{\"text_x\":\"a\"}\n{\"other\":2}\n").expect("write");
    let e = datafile::load(&all_bad, None, None)
        .expect_err("all bad")
        .to_string();
    assert!(
        e.contains("bad.jsonl") && e.contains("line 2") && e.contains("no usable lines"),
        "{e}"
    );
    assert!(e.contains("\"prompt\""), "says what was expected: {e}");

    let not_array = tmp("obj.json");
    std::fs::write(&not_array, "[1,").expect("write");
    let e = datafile::load(&not_array, Some(DataFileFormat::ShareGpt), None)
        .expect_err("broken")
        .to_string();
    assert!(e.contains("obj.json") && e.contains("ShareGPT"), "{e}");

    // A Parquet file with no prompt column names the columns it has.
    let schema = Arc::new(Schema::new(vec![Field::new(
        "label",
        DataType::Int64,
        false,
    )]));
    let batch = RecordBatch::try_new(
        schema,
        vec![Arc::new(Int64Array::from(vec![1])) as ArrayRef],
    )
    .expect("batch");
    let pq = tmp("labels.parquet");
    write_parquet(&pq, &batch);
    let e = datafile::load(&pq, None, None)
        .expect_err("no prompt column")
        .to_string();
    assert!(
        e.contains("labels.parquet") && e.contains("no prompt column") && e.contains("[\"label\"]"),
        "{e}"
    );
    // --prompt-field names the column to read.
    let e = datafile::load(&pq, None, Some("question"))
        .expect_err("no such column")
        .to_string();
    assert!(e.contains("`question`"), "{e}");

    // Not a Parquet file at all.
    let fake = tmp("fake.parquet");
    std::fs::write(&fake, "{\"prompt\":\"a\"}\n").expect("write");
    let e = datafile::load(&fake, None, None)
        .expect_err("not parquet")
        .to_string();
    assert!(e.contains("fake.parquet") && e.contains("Parquet"), "{e}");

    // Binary data read as JSONL.
    let bin = tmp("blob.jsonl");
    std::fs::write(&bin, [0xffu8, 0xfe, 0x00, 0x01]).expect("write");
    let e = datafile::load(&bin, Some(DataFileFormat::Jsonl), None)
        .expect_err("binary")
        .to_string();
    assert!(e.contains("blob.jsonl") && e.contains("UTF-8"), "{e}");
}

#[test]
fn images_named_by_a_row_go_inline_in_a_chat_message() {
    use base64::Engine;
    let dir = std::env::temp_dir().join(format!("ys-rc-img-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("imgs")).expect("dir");
    let png: &[u8] = b"\x89PNG\r\n\x1a\nnot really a png";
    std::fs::write(dir.join("imgs/a.png"), png).expect("png");
    std::fs::write(dir.join("imgs/b.jpg"), b"jpeg bytes").expect("jpg");
    let path = dir.join("vision.jsonl");
    std::fs::write(
        &path,
        concat!(
            "{\"prompt\":\"what is this?\",\"image\":\"imgs/a.png\"}\n",
            "{\"prompt\":\"compare\",\"images\":[\"imgs/a.png\",\"imgs/b.jpg\"]}\n",
            "{\"prompt\":\"missing\",\"image\":\"imgs/nope.png\"}\n",
            "{\"prompt\":\"odd\",\"image\":\"imgs/a.tiff\"}\n",
            "{\"prompt\":\"plain text\"}\n",
        ),
    )
    .expect("write");
    let l = datafile::load(&path, None, None).expect("load");
    assert_eq!((l.rows, l.skipped, l.dataset.len()), (5, 2, 3));
    let note = l.skip_note().expect("note");
    assert!(
        note.contains("line 3") && note.contains("nope.png"),
        "{note}"
    );
    assert!(
        note.contains("line 4") && note.contains(".png, .jpg"),
        "{note}"
    );

    let opts = RequestOptions::new(ApiKind::Chat, "m", true);
    let body: serde_json::Value =
        serde_json::from_slice(&opts.build_body(&l.dataset.prompts[1], None).expect("body"))
            .expect("json");
    let content = &body["messages"][0]["content"];
    assert_eq!(body["messages"][0]["role"], "user");
    assert_eq!(
        content[0],
        serde_json::json!({"type": "text", "text": "compare"})
    );
    let url = content[1]["image_url"]["url"].as_str().expect("url");
    let data = url
        .strip_prefix("data:image/png;base64,")
        .expect("png data url");
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("base64"),
        png
    );
    assert!(content[2]["image_url"]["url"]
        .as_str()
        .is_some_and(|u| u.starts_with("data:image/jpeg;base64,")));
    // A row without images stays a plain text prompt.
    assert!(l.dataset.prompts[2].messages.is_none());
    assert_eq!(l.dataset.prompts[2].text, "plain text");
}

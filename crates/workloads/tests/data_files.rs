//! Data sets from files (crate module `data`): every reader on small
//! generated files, the image preprocessing against MLPerf's ResNet-50
//! reference steps run by OpenCV and NumPy (tests/data/reference.py, in
//! `.venv-ref`: see `.ci/setup-data-python.sh`), and the errors a user
//! meets: an unreadable image, a wrong element type, a truncated `.npy`, a
//! label count that does not match.

use std::path::{Path, PathBuf};
use std::process::Command;

use yardstick_core::sut::QuerySampleLibrary;
use yardstick_workloads::data::idx::{IdxScaling, IdxSource};
use yardstick_workloads::data::images::{
    decode_rgb, ChannelOrder, ImageFolderSource, PixelType, Preprocess,
};
use yardstick_workloads::data::jsonl::{JsonlOptions, JsonlSource};
use yardstick_workloads::data::labels::read_labels;
use yardstick_workloads::data::npy::{NpyArray, NpySource};
use yardstick_workloads::idx::encode_idx;
use yardstick_workloads::sample::{Label, SampleSource, TensorLibrary};
use yardstick_workloads::tensor::{DType, Dim, TensorSpec};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("yardstick-data-{tag}-{}", std::process::id()));
    std::fs::remove_dir_all(&d).ok();
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs tests/data/reference.py with the reference venv's Python; a missing
/// venv or package fails the test (it is installed by CI).
fn reference(args: &[&str]) {
    let python = root().join(".venv-ref/bin/python");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/reference.py");
    let out = Command::new(&python)
        .arg(&script)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {}: {e}; install the reference packages with .ci/setup-data-python.sh",
                python.display()
            )
        });
    assert!(
        out.status.success(),
        "reference.py failed (run .ci/setup-data-python.sh?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// A deterministic test picture: gradients plus pseudo-random noise, so
/// that every resize weight matters.
fn picture(w: u32, h: u32, seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2654435761).wrapping_add(1);
    let mut out = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            for c in 0..3u32 {
                state = state.wrapping_mul(1664525).wrapping_add(1013904223);
                let noise = (state >> 24) % 64;
                let base = (x * (c + 1) * 255 / w + y * 255 / h) / 2;
                out.push(((base + noise) % 256) as u8);
            }
        }
    }
    out
}

fn npy_f32(path: &Path) -> Vec<f32> {
    let a = NpyArray::open(path).unwrap();
    let mut all = Vec::new();
    for i in 0..a.len() {
        all.extend(a.sample(i).unwrap());
    }
    // A (3, 224, 224) array is 3 "samples" of (224, 224).
    f32s(&all)
}

#[test]
fn image_preprocessing_matches_the_opencv_reference() {
    let dir = tmpdir("golden");
    let refs = dir.join("ref");
    std::fs::create_dir_all(&refs).unwrap();
    // Landscape and portrait shrinks by odd factors, whole-factor shrinks
    // (2x: OpenCV's fast path; 3x), an enlargement, grey and RGBA files.
    let sizes = [
        ("land", 500, 375),
        ("port", 375, 500),
        ("two", 512, 512),
        ("three", 768, 1000),
        ("slight", 300, 257),
        ("up", 300, 200),
    ];
    let mut paths = Vec::new();
    for (i, (name, w, h)) in sizes.iter().enumerate() {
        let p = dir.join(format!("{name}.png"));
        image::RgbImage::from_raw(*w, *h, picture(*w, *h, i as u32))
            .unwrap()
            .save(&p)
            .unwrap();
        paths.push(p);
    }
    let grey: Vec<u8> = picture(400, 300, 9).iter().step_by(3).copied().collect();
    let p = dir.join("grey.png");
    image::GrayImage::from_raw(400, 300, grey)
        .unwrap()
        .save(&p)
        .unwrap();
    paths.push(p);
    let rgba: Vec<u8> = picture(320, 280, 11)
        .chunks(3)
        .flat_map(|c| [c[0], c[1], c[2], 77])
        .collect();
    let p = dir.join("rgba.png");
    image::RgbaImage::from_raw(320, 280, rgba)
        .unwrap()
        .save(&p)
        .unwrap();
    paths.push(p);
    let jpeg = dir.join("photo.jpg");
    image::RgbImage::from_raw(500, 333, picture(500, 333, 5))
        .unwrap()
        .save(&jpeg)
        .unwrap();

    let mut args = vec!["images".to_string(), refs.display().to_string()];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    args.push(jpeg.display().to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    reference(&args);

    let pre = Preprocess::default();
    for p in &paths {
        let name = p.file_stem().unwrap().to_str().unwrap();
        let (rgb, w, h) = decode_rgb(p).unwrap();
        // PNG decoding is lossless: the same pixels as cv2.imread.
        let ref_rgb = NpyArray::open(&refs.join(format!("{name}.rgb.npy"))).unwrap();
        let mut ref_pixels = Vec::new();
        for i in 0..ref_rgb.len() {
            ref_pixels.extend(ref_rgb.sample(i).unwrap());
        }
        assert_eq!(rgb, ref_pixels, "{name}: decoded pixels differ");
        let ours = f32s(&pre.apply(&rgb, w, h));
        let theirs = npy_f32(&refs.join(format!("{name}.npy")));
        assert_eq!((ours.len(), theirs.len()), (3 * 224 * 224, 3 * 224 * 224));
        let differing = ours.iter().zip(&theirs).filter(|(a, b)| a != b).count();
        assert_eq!(
            differing, 0,
            "{name} ({w}x{h}): {differing} values differ from cv2"
        );
    }

    // JPEG: the decoders differ (zune-jpeg here, libjpeg-turbo in cv2), by at
    // most a few levels a pixel; after the area resize the preprocessed
    // values stay within 2.0 of the reference's (pixel units).
    let (rgb, w, h) = decode_rgb(&jpeg).unwrap();
    let ours = f32s(&pre.apply(&rgb, w, h));
    let theirs = npy_f32(&refs.join("photo.npy"));
    let worst = ours
        .iter()
        .zip(&theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert_eq!(theirs.len(), ours.len());
    eprintln!("JPEG: largest difference from cv2 {worst}");
    assert!(worst <= 2.0, "JPEG: largest difference {worst}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn image_folder_loads_only_the_samples_asked_for() {
    let dir = tmpdir("folder");
    for (i, name) in ["b.png", "a.png", "c.PNG"].iter().enumerate() {
        image::RgbImage::from_raw(64, 48, picture(64, 48, i as u32))
            .unwrap()
            .save_with_format(dir.join(name), image::ImageFormat::Png)
            .unwrap();
    }
    std::fs::write(dir.join("notes.txt"), "not an image").unwrap();
    let pre = Preprocess {
        crop: 32,
        order: ChannelOrder::Nhwc,
        pixel: PixelType::U8,
        ..Preprocess::default()
    };
    // Sorted names without a list; labels from a list file.
    let source = ImageFolderSource::open(&dir, None, pre.clone()).unwrap();
    let names: Vec<_> = source
        .paths()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["a.png", "b.png", "c.PNG"]);
    assert!(!source.has_labels());
    let spec = TensorSpec {
        name: "images".into(),
        dtype: DType::U8,
        shape: vec![Dim::Dynamic, Dim::Fixed(32), Dim::Fixed(32), Dim::Fixed(3)],
    };
    source.check(std::slice::from_ref(&spec)).unwrap();

    std::fs::write(dir.join("val_map.txt"), "c.PNG 7\na.png 2\n").unwrap();
    let listed =
        ImageFolderSource::open(&dir, Some(&dir.join("val_map.txt")), pre.clone()).unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(
        (listed.label(0), listed.label(1)),
        (Label::Class(7), Label::Class(2))
    );
    let library = TensorLibrary::new("images", Box::new(listed), 1);
    library.load_samples_to_ram(&[1]).unwrap();
    assert_eq!(library.loaded_count(), 1);
    let sample = library.read_sample(1).unwrap();
    let (rgb, w, h) = decode_rgb(&dir.join("a.png")).unwrap();
    assert_eq!(&*sample[0], &pre.apply(&rgb, w, h)[..]);

    // A list naming a file that is not there.
    std::fs::write(dir.join("bad_map.txt"), "a.png 1\nzzz.png 3\n").unwrap();
    let e = ImageFolderSource::open(&dir, Some(&dir.join("bad_map.txt")), pre.clone())
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad_map.txt:2") && e.contains("zzz.png"), "{e}");

    // Labels that do not match the image count.
    let source = ImageFolderSource::open(&dir, None, pre.clone()).unwrap();
    let e = source
        .with_labels(&dir.join("labels.txt"), vec![1, 2])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("3 samples") && e.contains("labels.txt has 2 labels"),
        "{e}"
    );

    // An unreadable image: the load (before any timing) names the file.
    std::fs::write(
        dir.join("broken.jpg"),
        b"\xff\xd8\xff\xe0 not really a jpeg",
    )
    .unwrap();
    let source = ImageFolderSource::open(&dir, None, pre).unwrap();
    let library = TensorLibrary::new("images", Box::new(source), 4);
    let e = library
        .load_samples_to_ram(&[0, 2])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("broken.jpg") && e.contains("cannot decode"),
        "{e}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn numpy_arrays_written_by_numpy() {
    let dir = tmpdir("npy");
    reference(&["arrays", dir.to_str().unwrap()]);
    let expected: Vec<f32> = (0..30).map(|i| i as f32 * 0.5 - 3.0).collect();
    for name in ["f32.npy", "f32_big.npy", "f32_fortran.npy"] {
        let source = NpySource::open(&dir.join(name), &[]).unwrap();
        assert_eq!(source.len(), 5, "{name}");
        let mut all = Vec::new();
        for i in 0..5 {
            let t = source.load(i).unwrap();
            assert_eq!((t[0].dtype, t[0].shape.clone()), (DType::F32, vec![2, 3]));
            all.extend(f32s(&t[0].bytes));
        }
        assert_eq!(all, expected, "{name}");
    }
    let i64s = NpySource::open(&dir.join("i64.npy"), &[]).unwrap();
    let t = i64s.load(2).unwrap();
    assert_eq!(t[0].dtype, DType::I64);
    assert_eq!(t[0].bytes[..8], 1i64.to_le_bytes());
    let bools = NpySource::open(&dir.join("bool.npy"), &[]).unwrap();
    assert_eq!(bools.load(4).unwrap()[0].bytes, vec![1, 0]);

    // Labels from a .npy, checked against the sample count.
    let labels = read_labels(&dir.join("labels.npy")).unwrap();
    assert_eq!(labels, vec![3, 1, 4, 1, 5]);
    let u8s = NpySource::open(&dir.join("u8.npy"), &[])
        .unwrap()
        .with_labels(&dir.join("labels.npy"), labels.clone())
        .unwrap();
    assert_eq!(
        (u8s.label(2), u8s.load(1).unwrap()[0].bytes.clone()),
        (Label::Class(4), vec![3, 4, 5])
    );
    let e = NpySource::open(&dir.join("u8.npy"), &[])
        .unwrap()
        .with_labels(&dir.join("labels.npy"), labels[..4].to_vec())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("5 samples") && e.contains("labels.npy has 4 labels"),
        "{e}"
    );

    // .npz, stored (read in place) and compressed (read whole), by member.
    for name in ["stored.npz", "compressed.npz"] {
        let members = ["input_ids".to_string(), "attention_mask".to_string()];
        let source = NpySource::open(&dir.join(name), &members).unwrap();
        let t = source.load(3).unwrap();
        let ids: Vec<u8> = (12i64..16).flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(t[0].bytes, ids, "{name}");
        assert_eq!(
            t[1].bytes,
            [1i64; 4]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect::<Vec<_>>()
        );
        let e = NpySource::open(&dir.join(name), &["token_type_ids".to_string()])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no array `token_type_ids`") && e.contains("input_ids"),
            "{e}"
        );
    }

    // A wrong element type for the model, and one NumPy has but we do not.
    let spec = TensorSpec {
        name: "x".into(),
        dtype: DType::F32,
        shape: vec![Dim::Dynamic, Dim::Fixed(4)],
    };
    let e = i64s.check(&[spec]).unwrap_err().to_string();
    assert!(
        e.contains("i64.npy: input 0 is int64 [?, 4], the model's input x is float32"),
        "{e}"
    );
    let e = NpySource::open(&dir.join("u16.npy"), &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("u16.npy") && e.contains("element type `<u2`"),
        "{e}"
    );

    // A truncated file.
    let mut bytes = std::fs::read(dir.join("f32.npy")).unwrap();
    bytes.truncate(bytes.len() - 3);
    std::fs::write(dir.join("cut.npy"), bytes).unwrap();
    let e = NpySource::open(&dir.join("cut.npy"), &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cut.npy: truncated") && e.contains("needs 120 data bytes, the file has 117"),
        "{e}"
    );
    std::fs::write(dir.join("text.npy"), "hello").unwrap();
    let e = NpySource::open(&dir.join("text.npy"), &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("text.npy: not a .npy array"), "{e}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn jsonl_token_ids_are_padded() {
    let dir = tmpdir("jsonl");
    let path = dir.join("tokens.jsonl");
    std::fs::write(
        &path,
        "{\"input_ids\": [101, 7, 102], \"attention_mask\": [1, 1, 1], \"label\": 1}\n\n\
         {\"input_ids\": [101, 102], \"label\": 0}\n\
         {\"input_ids\": [1, 2, 3, 4, 5, 6], \"label\": 1}\n\
         {\"input_ids\": [1, \"x\"], \"label\": 0}\n\
         not json\n",
    )
    .unwrap();
    let options = JsonlOptions {
        seq_len: 4,
        pad: vec![("input_ids".into(), -1)],
        label_field: None,
        ..JsonlOptions::default()
    };
    let source = JsonlSource::open(&path, options.clone()).unwrap();
    assert_eq!(source.len(), 5);
    let i64s = |v: &[i64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let t = source.load(0).unwrap();
    assert_eq!(t[0].bytes, i64s(&[101, 7, 102, -1]));
    assert_eq!(t[1].bytes, i64s(&[1, 1, 1, 0]));
    // No attention_mask on the line: made from the ids.
    let t = source.load(1).unwrap();
    assert_eq!(t[1].bytes, i64s(&[1, 1, 0, 0]));
    let e = source.load(2).unwrap_err().to_string();
    assert!(
        e.contains(
            "tokens.jsonl:4: field `input_ids`: 6 tokens, longer than the sequence length 4"
        ),
        "{e}"
    );
    let e = source.load(3).unwrap_err().to_string();
    assert!(
        e.contains("tokens.jsonl:5: field `input_ids`: entry 1 (\"x\") is not an integer"),
        "{e}"
    );
    let e = source.load(4).unwrap_err().to_string();
    assert!(e.contains("tokens.jsonl:6: not a JSON object"), "{e}");

    let truncating = JsonlSource::open(
        &path,
        JsonlOptions {
            truncate: true,
            dtype: DType::I32,
            ..options.clone()
        },
    )
    .unwrap();
    let t = truncating.load(2).unwrap();
    assert_eq!(
        t[0].bytes,
        [1i32, 2, 3, 4]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect::<Vec<_>>()
    );

    // Labels from a field: every line must have one (line 6 is not JSON).
    let e = JsonlSource::open(
        &path,
        JsonlOptions {
            label_field: Some("label".into()),
            ..options
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("tokens.jsonl:6"), "{e}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn idx_files_with_text_labels() {
    let dir = tmpdir("idx");
    let images = dir.join("images-idx3-ubyte.gz");
    std::fs::write(
        &images,
        encode_idx(&[3, 2, 2], &[0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8], true),
    )
    .unwrap();
    std::fs::write(dir.join("labels.txt"), "4\n0\n9\n").unwrap();
    let labels = read_labels(&dir.join("labels.txt")).unwrap();
    let raw = IdxSource::open(&images, IdxScaling::Raw)
        .unwrap()
        .with_labels(&dir.join("labels.txt"), labels.clone())
        .unwrap();
    assert_eq!(raw.load(1).unwrap()[0].bytes, vec![1, 2, 3, 4]);
    assert_eq!(raw.label(2), Label::Class(9));
    let scaled = IdxSource::open(
        &images,
        IdxScaling::Normalized {
            mean: 0.5,
            std: 0.5,
        },
    )
    .unwrap();
    let t = scaled.load(0).unwrap();
    assert_eq!((t[0].dtype, t[0].shape.clone()), (DType::F32, vec![2, 2]));
    assert_eq!(
        f32s(&t[0].bytes),
        vec![-1.0, 1.0, (0.2 - 0.5) / 0.5, (0.4 - 0.5) / 0.5]
    );
    let e = IdxSource::open(&images, IdxScaling::Raw)
        .unwrap()
        .with_labels(&dir.join("labels.txt"), labels[..2].to_vec())
        .unwrap_err()
        .to_string();
    assert!(e.contains("3 samples") && e.contains("has 2 labels"), "{e}");
    // IDX labels, read by content.
    std::fs::write(
        dir.join("labels-idx1-ubyte"),
        encode_idx(&[3], &[1, 2, 3], false),
    )
    .unwrap();
    assert_eq!(
        read_labels(&dir.join("labels-idx1-ubyte")).unwrap(),
        vec![1, 2, 3]
    );
    std::fs::remove_dir_all(dir).ok();
}

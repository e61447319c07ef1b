//! A short training run (1 epoch on a subset of the test split) logs the
//! MLPerf Training sequence and learns something.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use yardstick_workloads::dataset::ImageDataset;
use yardstick_workloads::mllog::MlLogger;
use yardstick_workloads::train::{train_run, TrainConfig};
use yardstick_workloads::Workload;

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn data() -> ImageDataset {
    let w = Workload::resolve("fashion-mnist").unwrap();
    w.open_dataset().unwrap()
}

fn lines(buf: &Buf) -> Vec<Value> {
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l.strip_prefix(":::MLLOG ").expect("prefix")).unwrap())
        .collect()
}

#[test]
fn one_epoch_on_a_subset() {
    let all = data();
    let buf = Buf::default();
    let log = MlLogger::new(vec![Box::new(buf.clone())]);
    let cfg = TrainConfig {
        seed: 7,
        max_epochs: 1,
        target_accuracy: 0.3,
        threads: 2,
        learning_rate: 0.002,
        ..TrainConfig::default()
    };
    let mut load = || {
        let train = all.clone().truncated(2048);
        // Evaluate on samples not trained on.
        let mut eval = all.clone();
        eval.images.drain(..8000 * 784);
        eval.labels.drain(..8000);
        Ok((train, eval.truncated(1000)))
    };
    let mut progress = Vec::new();
    let r = train_run(&cfg, &log, &mut load, &mut |l| progress.push(l.to_string())).unwrap();
    assert!(r.success, "{progress:?}");
    assert_eq!(r.epochs.len(), 1);
    assert!(r.final_accuracy() >= 0.3, "{progress:?}");
    assert!(progress[0].starts_with("epoch 1: train loss"));

    let v = lines(&buf);
    let keys: Vec<&str> = v.iter().map(|l| l["key"].as_str().unwrap()).collect();
    let pos = |k: &str| {
        keys.iter()
            .position(|x| *x == k)
            .unwrap_or_else(|| panic!("no {k}"))
    };
    for k in [
        "init_start",
        "init_stop",
        "run_start",
        "block_start",
        "epoch_start",
        "epoch_stop",
        "eval_start",
        "eval_accuracy",
        "eval_stop",
        "block_stop",
        "run_stop",
    ] {
        pos(k);
    }
    assert!(pos("init_start") < pos("init_stop") && pos("init_stop") < pos("run_start"));
    assert!(pos("run_start") < pos("epoch_start") && pos("eval_accuracy") < pos("run_stop"));
    assert_eq!(*keys.last().unwrap(), "run_stop");
    let stop = v.last().unwrap();
    assert_eq!(stop["metadata"]["status"], "success");
    assert_eq!(stop["event_type"], "INTERVAL_END");
    let start = &v[pos("run_start")];
    assert_eq!(start["time_ms"].as_u64().unwrap(), r.run_start_ms);
    assert_eq!(stop["time_ms"].as_u64().unwrap(), r.run_stop_ms);
    assert_eq!(v[pos("seed")]["value"], 7);
    assert_eq!(v[pos("train_samples")]["value"], 2048);
    assert_eq!(v[pos("eval_samples")]["value"], 1000);
    let acc = &v[pos("eval_accuracy")];
    assert_eq!(acc["metadata"]["epoch_num"], 1);
    assert_eq!(acc["value"].as_f64().unwrap(), r.final_accuracy());
    for l in &v {
        assert_eq!(l["namespace"], "");
        assert!(["INTERVAL_START", "INTERVAL_END", "POINT_IN_TIME"]
            .contains(&l["event_type"].as_str().unwrap()));
        assert!(l["metadata"]["file"].as_str().unwrap().ends_with(".rs"));
        assert!(l["metadata"]["lineno"].as_u64().unwrap() > 0);
    }
}

#[test]
fn an_unreachable_target_aborts_and_a_data_error_stops_the_run() {
    let all = data();
    let buf = Buf::default();
    let log = MlLogger::new(vec![Box::new(buf.clone())]);
    let cfg = TrainConfig {
        max_epochs: 1,
        target_accuracy: 1.0,
        threads: 1,
        ..TrainConfig::default()
    };
    let mut load = || Ok((all.clone().truncated(256), all.clone().truncated(256)));
    let r = train_run(&cfg, &log, &mut load, &mut |_| {}).unwrap();
    assert!(!r.success);
    assert_eq!(lines(&buf).last().unwrap()["metadata"]["status"], "aborted");

    let buf = Buf::default();
    let log = MlLogger::new(vec![Box::new(buf.clone())]);
    let missing = Path::new("/no/such/train-images-idx3-ubyte.gz");
    let mut load = || ImageDataset::load_idx(missing, missing, 10).map(|d| (d.clone(), d));
    let e = train_run(&cfg, &log, &mut load, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("/no/such/train-images-idx3-ubyte.gz"), "{e}");
    let v = lines(&buf);
    assert_eq!(v.last().unwrap()["key"], "run_stop");
    assert_eq!(v.last().unwrap()["metadata"]["status"], "aborted");
}

#[test]
fn training_is_reproducible_for_a_seed() {
    let all = data();
    let run = |seed| {
        let log = MlLogger::new(vec![]);
        let cfg = TrainConfig {
            seed,
            max_epochs: 1,
            target_accuracy: 1.0,
            threads: 2,
            ..TrainConfig::default()
        };
        let mut load = || Ok((all.clone().truncated(512), all.clone().truncated(512)));
        train_run(&cfg, &log, &mut load, &mut |_| {}).unwrap()
    };
    let (a, b, c) = (run(3), run(3), run(4));
    assert_eq!(a.epochs[0].mean_loss, b.epochs[0].mean_loss);
    assert_eq!(a.epochs[0].eval_accuracy, b.epochs[0].eval_accuracy);
    assert_ne!(a.epochs[0].mean_loss, c.epochs[0].mean_loss);
}

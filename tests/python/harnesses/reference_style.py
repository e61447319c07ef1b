#!/usr/bin/env python3
"""A harness in the style of the MLPerf inference reference implementations
(vision/classification_and_detection/python/main.py): a QSL that loads
preprocessed numpy arrays from disk when LoadGen asks, a model behind a
"backend", a runner that batches queries onto a pool of worker threads, and
responses built from array.array buffers. It imports the module the way the
references do::

    import mlperf_loadgen as lg

so it runs on the official wheel as is, and on yardstick with
``python -m yardstick.mlperf_loadgen reference_style.py ...`` (or with
LOADGEN_MODULE=yardstick.loadgen).

Writes OUTDIR/result.json: the loaded sets, the number of samples each worker
call got, the top-1 accuracy computed from LoadGen's accuracy log, and the
summary's validity.
"""
from __future__ import annotations

import argparse
import array
import importlib
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

if os.environ.get("LOADGEN_MODULE"):
    lg = importlib.import_module(os.environ["LOADGEN_MODULE"])
else:
    import mlperf_loadgen as lg  # noqa: E402

SCENARIOS = {"SingleStream": lg.TestScenario.SingleStream, "MultiStream": lg.TestScenario.MultiStream,
             "Server": lg.TestScenario.Server, "Offline": lg.TestScenario.Offline}
MODES = {"AccuracyOnly": lg.TestMode.AccuracyOnly, "PerformanceOnly": lg.TestMode.PerformanceOnly,
         "SubmissionRun": lg.TestMode.SubmissionRun}


class Dataset:
    """Preprocessed samples on disk (one .npy a sample), labels in memory."""

    def __init__(self, data_dir: str, count: int, features: int, classes: int):
        self.data_dir = data_dir
        os.makedirs(data_dir, exist_ok=True)
        rng = np.random.default_rng(1)
        self.labels = rng.integers(0, classes, count)
        centers = rng.normal(size=(classes, features)).astype(np.float32)
        for i in range(count):
            p = os.path.join(data_dir, f"{i}.npy")
            if not os.path.exists(p):
                x = centers[self.labels[i]] + 0.8 * rng.normal(size=features).astype(np.float32)
                np.save(p, x)
        self.count = count
        self.image_list_inmemory: dict[int, np.ndarray] = {}
        self.loaded_sets: list[list[int]] = []
        self.centers = centers

    def load_query_samples(self, sample_list):
        self.loaded_sets.append(sorted(sample_list))
        for s in sample_list:
            self.image_list_inmemory[s] = np.load(os.path.join(self.data_dir, f"{s}.npy"))

    def unload_query_samples(self, sample_list):
        for s in sample_list:
            self.image_list_inmemory.pop(s, None)

    def get_samples(self, id_list):
        return np.stack([self.image_list_inmemory[i] for i in id_list])


class Backend:
    """A nearest-centre classifier (stands in for the framework backend)."""

    def __init__(self, centers: np.ndarray):
        self.w = centers.T.copy()
        self.b = -0.5 * (centers ** 2).sum(axis=1)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.argmax(x @ self.w + self.b, axis=1)


class QueueRunner:
    """Splits queries into batches of at most max_batchsize onto worker threads."""

    def __init__(self, model: Backend, ds: Dataset, threads: int, max_batchsize: int):
        self.model, self.ds = model, ds
        self.max_batchsize = max_batchsize
        self.pool = ThreadPoolExecutor(threads)
        self.lock = threading.Lock()
        self.batch_sizes: list[int] = []

    def run_one_item(self, query_id, content_id):
        data = self.ds.get_samples(content_id)
        results = self.model.predict(data)
        with self.lock:
            self.batch_sizes.append(len(query_id))
        response_array_refs, response = [], []
        for idx in range(len(query_id)):
            response_array = array.array("B", np.array([results[idx]], np.int64).tobytes())
            response_array_refs.append(response_array)
            bi = response_array.buffer_info()
            response.append(lg.QuerySampleResponse(query_id[idx], bi[0], bi[1]))
        lg.QuerySamplesComplete(response)

    def enqueue(self, query_samples):
        idx = [q.index for q in query_samples]
        query_id = [q.id for q in query_samples]
        if len(query_samples) < self.max_batchsize:
            self.pool.submit(self.run_one_item, query_id, idx)
        else:
            bs = self.max_batchsize
            for i in range(0, len(idx), bs):
                self.pool.submit(self.run_one_item, query_id[i:i + bs], idx[i:i + bs])

    def finish(self):
        self.pool.shutdown(wait=True)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="Offline", choices=list(SCENARIOS))
    ap.add_argument("--mode", default="AccuracyOnly", choices=list(MODES))
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--perf-count", type=int, default=100)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--max-batchsize", type=int, default=16)
    ap.add_argument("--qps", type=float, default=2000)
    args = ap.parse_args(argv)

    ds = Dataset(args.data_dir, args.count, features=32, classes=10)
    runner = QueueRunner(Backend(ds.centers), ds, args.threads, args.max_batchsize)

    def issue_queries(query_samples):
        runner.enqueue(query_samples)

    def flush_queries():
        pass

    settings = lg.TestSettings()
    settings.scenario = SCENARIOS[args.scenario]
    settings.mode = MODES[args.mode]
    # Offline finishes at once on this toy model: no minimum duration.
    settings.min_duration_ms = 0 if args.scenario == "Offline" else 200
    settings.min_query_count = 1000 if args.scenario in ("Server", "MultiStream") else 200
    settings.server_target_qps = args.qps
    settings.offline_expected_qps = args.qps
    settings.single_stream_expected_latency_ns = 20_000
    settings.multi_stream_expected_latency_ns = 40_000

    log_settings = lg.LogSettings()
    log_settings.log_output.outdir = args.outdir
    log_settings.log_output.copy_summary_to_stdout = False
    log_settings.enable_trace = False
    os.makedirs(args.outdir, exist_ok=True)

    sut = lg.ConstructSUT(issue_queries, flush_queries)
    qsl = lg.ConstructQSL(args.count, args.perf_count, ds.load_query_samples, ds.unload_query_samples)
    lg.StartTestWithLogSettings(sut, qsl, settings, log_settings)
    runner.finish()
    lg.DestroyQSL(qsl)
    lg.DestroySUT(sut)

    # accuracy-imagenet.py style: read the accuracy log, compare with the labels
    with open(os.path.join(args.outdir, "mlperf_log_accuracy.json")) as f:
        entries = json.load(f)
    good = 0
    predictions = {}
    for e in entries:
        pred = int(np.frombuffer(bytes.fromhex(e["data"]), np.int64)[0])
        predictions[e["qsl_idx"]] = pred
        good += pred == ds.labels[e["qsl_idx"]]
    summary = open(os.path.join(args.outdir, "mlperf_log_summary.txt")).read()
    result = {
        "module": lg.__name__,
        "file": os.path.realpath(lg.__file__),
        "loaded_sets": ds.loaded_sets,
        "accuracy_entries": len(entries),
        "predictions": {str(k): v for k, v in sorted(predictions.items())},
        "top1": good / len(entries) if entries else None,
        "valid": "Result is : VALID" in summary,
        "max_batch": max(runner.batch_sizes) if runner.batch_sizes else 0,
    }
    with open(os.path.join(args.outdir, "result.json"), "w") as f:
        json.dump(result, f)
    print(json.dumps({k: v for k, v in result.items() if k != "predictions" and k != "loaded_sets"}))


if __name__ == "__main__":
    main()

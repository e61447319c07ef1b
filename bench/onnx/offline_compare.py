#!/usr/bin/env python3
"""Offline samples/s of the same ONNX model (models/fashion-mnist/fashion-cnn-v1.onnx),
batch size and threads, three ways, in interleaved rounds:

  plain     a plain ONNX Runtime loop in Python over preloaded batches
  loadgen   the official LoadGen wheel (mlcommons-loadgen) driving a Python ONNX
            Runtime SUT (the shape of MLPerf's reference harness)
  yardstick `yardstick run --workload fashion-mnist-onnx --mode performance`

    .venv-ref/bin/python bench/onnx/offline_compare.py [--bin target/release/yardstick]
        [--batch 64] [--threads 2] [--seconds 5] [--rounds 3] [--qps-factor 2]

Each Offline query (LoadGen wheel and yardstick) is sized for --qps-factor times
the plain loop's rate over --seconds (x1.1, LoadGen's margin), so it lasts at
least --seconds for a SUT up to that much faster than the plain loop; a smaller
factor gives shorter rounds.
"""
import argparse
import os
import gzip
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mlperf_loadgen as lg
import numpy as np
import onnxruntime as ort

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models/fashion-mnist/fashion-cnn-v1.onnx"
IMAGES = REPO / "data/fashion-mnist/t10k-images-idx3-ubyte.gz"


def images():
    raw = gzip.decompress(IMAGES.read_bytes())
    x = np.frombuffer(raw[16:], dtype=np.uint8).reshape(-1, 1, 28, 28)
    return ((x.astype(np.float32) / 255.0 - 0.2860) / 0.3530).astype(np.float32)


def session(threads):
    o = ort.SessionOptions()
    o.intra_op_num_threads = threads
    o.inter_op_num_threads = 1
    return ort.InferenceSession(str(MODEL), o, providers=["CPUExecutionProvider"])


def plain(x, batch, threads, seconds):
    s = session(threads)
    s.run(None, {"image": x[:batch]})
    done, i, t0 = 0, 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        b = x[i : i + batch]
        s.run(None, {"image": b})[0].argmax(1)
        done += len(b)
        i = (i + batch) % (len(x) - batch)
    return done / (time.perf_counter() - t0)


def loadgen(x, batch, threads, seconds, qps):
    s = session(threads)

    def issue(samples):
        for k in range(0, len(samples), batch):
            chunk = samples[k : k + batch]
            idx = [q.index for q in chunk]
            classes = s.run(None, {"image": x[idx]})[0].argmax(1).astype(np.int32)
            resp = []
            for q, c in zip(chunk, classes):
                buf = np.array([c], dtype=np.int32)
                resp.append(lg.QuerySampleResponse(q.id, buf.ctypes.data, 4))
            lg.QuerySamplesComplete(resp)

    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(len(x), len(x), lambda i: None, lambda i: None)
    st = lg.TestSettings()
    st.scenario = lg.TestScenario.Offline
    st.mode = lg.TestMode.PerformanceOnly
    st.offline_expected_qps = qps
    st.min_duration_ms = int(seconds * 1000)
    with tempfile.TemporaryDirectory() as d:
        log = lg.LogOutputSettings()
        log.outdir = d
        ls = lg.LogSettings()
        ls.log_output = log
        lg.StartTestWithLogSettings(sut, qsl, st, ls)
        text = Path(d, "mlperf_log_summary.txt").read_text()
    lg.DestroyQSL(qsl)
    lg.DestroySUT(sut)
    return float(re.search(r"Samples per second\s*:\s*([\d.]+)", text).group(1))


def yardstick(binary, batch, threads, seconds, qps):
    with tempfile.TemporaryDirectory() as d:
        out = subprocess.run(
            [binary, "run", "--workload", "fashion-mnist-onnx", "--scenario", "Offline",
             "--mode", "performance", "--duration", f"{int(seconds * 1000)}ms", "--target-qps", str(qps),
             "--sut-threads", "1", "--intra-op-threads", str(threads), "--inter-op-threads", "1",
             "--batch-size", str(batch), "--no-record", "-o", d],
            capture_output=True, text=True, env={**os.environ, "VIRTUAL_ENV": sys.prefix})
        summary = Path(d, "mlperf_log_summary.txt")
        if not summary.exists():
            sys.exit(f"yardstick run failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
        text = summary.read_text()
    return float(re.search(r"Samples per second\s*:\s*([\d.]+)", text).group(1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", default=str(REPO / "target/release/yardstick"))
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--qps-factor", type=float, default=2.0)
    a = p.parse_args()
    x = images()
    qps = a.qps_factor * plain(x, a.batch, a.threads, 1.0)
    res = {"plain": [], "loadgen": [], "yardstick": []}
    for r in range(a.rounds):
        res["plain"].append(plain(x, a.batch, a.threads, a.seconds))
        res["loadgen"].append(loadgen(x, a.batch, a.threads, a.seconds, qps))
        res["yardstick"].append(yardstick(a.bin, a.batch, a.threads, a.seconds, qps))
        print(f"round {r}: " + ", ".join(f"{k} {v[-1]:.0f}" for k, v in res.items()), flush=True)
    med = {k: statistics.median(v) for k, v in res.items()}
    print(f"onnxruntime {ort.__version__}, batch {a.batch}, intra-op threads {a.threads}, {a.seconds:.0f} s x {a.rounds} rounds, query sized for {a.qps_factor}x the plain rate (median samples/s)")
    for k, v in med.items():
        print(f"  {k:10s} {v:10.0f}  x{v / med['plain']:.3f} of plain  x{v / med['loadgen']:.3f} of loadgen")


if __name__ == "__main__":
    sys.exit(main())

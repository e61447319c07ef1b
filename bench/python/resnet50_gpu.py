#!/usr/bin/env python3
"""ResNet-50 on a GPU under both LoadGen Python modules: the same SUT file, the
official mlperf_loadgen and yardstick.loadgen, one process each, same machine.

The SUT is what an MLPerf submitter would write in Python: torchvision's
ResNet-50 (random weights, bf16, channels_last, inference mode), a QSL that
keeps the loaded sample set on the GPU (random "preprocessed images"), and one
batching worker thread for the whole process: IssueQuery only enqueues; the
worker takes whatever is queued (up to --max-batch, padded to a few fixed batch
sizes so cuDNN sees a handful of shapes, all warmed up first), launches the
model with the previous batch still in flight, copies the top-1 classes to
pinned host memory and answers through QuerySamplesComplete with responses
that point there. Options: --cuda-graphs (one graph per batch size),
--gc-freeze (freeze the objects that exist after warm-up); --fake-model checks
the harness without a GPU.

Per module it measures:
  * the plain loop: the same model and batch size, gather + forward + argmax +
    copy to host, back to back, no LoadGen (the ceiling for Offline);
  * Offline: samples/s of a run of --offline-seconds;
  * Server: the highest VALID target QPS with a 15 ms p99 bound
    (server_target_latency_ns), found by doubling then bisecting to --precision;
    each trial is a run of --server-seconds.

    python bench/python/resnet50_gpu.py all --out DIR          # both modules, JSON + table
    LOADGEN_MODULE=yardstick.loadgen python bench/python/resnet50_gpu.py one --out DIR
"""
from __future__ import annotations

import argparse
import collections
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BUCKETS = [1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512]


def bucket_for(n: int, max_batch: int) -> int:
    for b in BUCKETS:
        if b >= n and b <= max_batch:
            return b
    return max_batch


class Model:
    """ResNet-50, bf16, channels_last, on the GPU, with the loaded samples on the GPU."""

    def __init__(self, total: int, max_batch: int, seed: int = 0, cuda_graphs: bool = False):
        import torch
        import torchvision

        torch.manual_seed(seed)
        torch.backends.cudnn.benchmark = True
        self.torch = torch
        self.dev = torch.device("cuda")
        self.net = torchvision.models.resnet50(weights=None).to(self.dev, torch.bfloat16)
        self.net = self.net.to(memory_format=torch.channels_last).eval()
        self.max_batch = max_batch
        self.total = total
        self.data = None
        self.slot_of = torch.full((total,), -1, dtype=torch.int64, device=self.dev)
        # Pinned host buffers for sample indices and results, used in turn
        # (two batches in flight, so three buffers).
        self.ring = [torch.empty(max_batch, dtype=torch.int32).pin_memory() for _ in range(3)]
        self.idx_ring = [torch.empty(max_batch, dtype=torch.int64).pin_memory() for _ in range(3)]
        self.ring_pos = 0
        self.cuda_graphs = cuda_graphs
        self.graphs = {}  # bucket -> (static input, static top-1, CUDA graph)

    def _forward(self, x):
        with self.torch.inference_mode():
            return self.net(x).argmax(1).to(self.torch.int32)

    def capture(self):
        """One CUDA graph per batch bucket (after warm-up: cuDNN has chosen its
        algorithms): a batch is then a handful of launches instead of ~160."""
        torch = self.torch
        pool = torch.cuda.graph_pool_handle()
        for b in BUCKETS:
            if b > self.max_batch:
                continue
            static_in = torch.randn((b, 3, 224, 224), device=self.dev, dtype=torch.bfloat16).contiguous(
                memory_format=torch.channels_last)
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                for _ in range(2):
                    self._forward(static_in)
            torch.cuda.current_stream().wait_stream(side)
            g = torch.cuda.CUDAGraph()
            with torch.cuda.graph(g, pool=pool):
                static_out = self._forward(static_in)
            self.graphs[b] = (static_in, static_out, g)
        torch.cuda.synchronize()

    def load(self, indices):
        torch = self.torch
        g = torch.Generator(device=self.dev)
        g.manual_seed(len(indices))
        n = len(indices)
        self.data = torch.randn((n, 3, 224, 224), generator=g, device=self.dev, dtype=torch.bfloat16)
        self.data = self.data.contiguous(memory_format=torch.channels_last)
        self.slot_of.fill_(-1)
        self.slot_of[torch.tensor(list(indices), dtype=torch.int64, device=self.dev)] = torch.arange(
            n, device=self.dev)
        torch.cuda.synchronize()

    def unload(self, indices):
        """The set stays on the GPU until the next load replaces it."""

    def launch(self, sample_indices):
        """Starts inference of these samples on the GPU and the copy of their
        top-1 classes to pinned host memory; returns a handle for `wait`."""
        torch = self.torch
        n = len(sample_indices)
        b = bucket_for(n, self.max_batch)
        self.ring_pos = (self.ring_pos + 1) % len(self.ring)
        staged = self.idx_ring[self.ring_pos][:b]
        staged.copy_(torch.tensor(sample_indices + [sample_indices[-1]] * (b - n), dtype=torch.int64))
        idx = staged.to(self.dev, non_blocking=True)
        x = self.data.index_select(0, self.slot_of.index_select(0, idx))
        graph = self.graphs.get(b)
        if graph is not None:
            static_in, static_out, g = graph
            static_in.copy_(x)
            g.replay()
            top1 = static_out[:n]
        else:
            top1 = self._forward(x)[:n]
        host = self.ring[self.ring_pos][:n]
        host.copy_(top1, non_blocking=True)
        done = torch.cuda.Event()
        done.record()
        return host, done

    def wait(self, handle):
        """The top-1 classes of a launched batch (int32 numpy array, valid until
        two more batches have been launched)."""
        host, done = handle
        done.synchronize()
        return host.numpy()

    def infer(self, sample_indices):
        return self.wait(self.launch(sample_indices))

    def warmup(self, seconds: float = 1.0):
        """Every batch shape once (cuDNN picks its algorithms), then a little more."""
        if self.data is None:
            self.load(range(min(self.total, 1024)))
        n = self.data.shape[0]
        for b in BUCKETS:
            if b <= self.max_batch:
                self.infer([i % n for i in range(b)])
        if self.cuda_graphs and not self.graphs:
            self.capture()
        t = time.monotonic()
        while time.monotonic() - t < seconds:
            self.infer([i % n for i in range(self.max_batch)])

    def plain_loop(self, batch: int, seconds: float) -> dict:
        """The model alone at one batch size: gather, forward, argmax, copy to
        the host, with the next batch launched before the previous one is
        waited for (as the SUT's worker does)."""
        n = self.data.shape[0]
        batches = [[(k * batch + i) % n for i in range(batch)] for k in range(16)]
        self.infer(batches[0])
        t = time.perf_counter()
        done = 0
        k = 0
        inflight = self.launch(batches[0])
        while True:
            k += 1
            nxt = self.launch(batches[k % 16])
            self.wait(inflight)
            done += batch
            inflight = nxt
            el = time.perf_counter() - t
            if el >= seconds:
                break
        self.wait(inflight)
        el = time.perf_counter() - t
        done += batch
        return {"batch": batch, "samples": done, "seconds": el, "samples_per_s": done / el}


class FakeModel(Model):
    """No GPU: sleeps like a small accelerator (0.5 ms + 20 us a sample); for
    checking the harness itself (--fake-model)."""

    def __init__(self, total: int, max_batch: int, seed: int = 0):
        import numpy as np

        self.np = np
        self.max_batch, self.total = max_batch, total
        self.data = None
        self.cuda_graphs, self.graphs = False, {}

    def load(self, indices):
        self.data = self.np.zeros(len(indices))

    def launch(self, sample_indices):
        n = len(sample_indices)
        time.sleep(0.0005 + 20e-6 * bucket_for(n, self.max_batch))
        return self.np.array([i % 1000 for i in sample_indices], dtype=self.np.int32)

    def wait(self, handle):
        return handle


class BatchingSut:
    """IssueQuery enqueues; one worker thread batches, infers and answers.

    The worker thread lives for the whole process and does all the GPU work,
    the warm-up and the plain loop included: PyTorch keeps cuDNN/cuBLAS
    handles (and in effect cuDNN's autotuning) per thread, so a fresh thread
    per test would pay seconds of autotuning inside the timed run."""

    def __init__(self, lg, model: Model, max_batch: int):
        self.lg, self.model, self.max_batch = lg, model, max_batch
        self.pending = collections.deque()
        self.tasks = collections.deque()
        self.cv = threading.Condition()
        self.stop = False
        self.batches = 0
        # per batch: (size, launch CPU s, launch to results on host s, answering s)
        self.stats: list[tuple] = []
        self.thread = threading.Thread(target=self._worker, daemon=True)
        self.thread.start()

    def run_in_worker(self, fn):
        """Runs fn() on the worker thread (between batches) and returns its result."""
        box = {}
        done = threading.Event()

        def task():
            try:
                box["value"] = fn()
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller
                box["error"] = e
            done.set()

        with self.cv:
            self.tasks.append(task)
            self.cv.notify()
        done.wait()
        if "error" in box:
            raise box["error"]
        return box["value"]

    def issue_queries(self, query_samples):
        with self.cv:
            self.pending.extend((s.id, s.index) for s in query_samples)
            self.cv.notify()

    def flush_queries(self):
        pass

    def _take(self, block: bool):
        """Up to max_batch queued samples (or a task); waits for work unless `block` is false."""
        with self.cv:
            while block and not self.pending and not self.tasks and not self.stop:
                self.cv.wait()
            if not self.pending and self.tasks and block:
                return self.tasks.popleft()
            n = min(len(self.pending), self.max_batch)
            return [self.pending.popleft() for _ in range(n)]

    def _answer(self, batch, handle, t_launch):
        top1 = self.model.wait(handle)
        t_ready = time.perf_counter()
        base = top1.ctypes.data
        Response = self.lg.QuerySampleResponse
        self.lg.QuerySamplesComplete([Response(rid, base + 4 * k, 4) for k, (rid, _) in enumerate(batch)])
        self.batches += 1
        self.stats.append((len(batch), t_launch[1] - t_launch[0], t_ready - t_launch[0],
                           time.perf_counter() - t_ready))

    def _worker(self):
        """Two batches in flight: the next is launched on the GPU before the
        previous one's answers are built, so the GPU does not wait for Python."""
        inflight = None
        while True:
            work = self._take(block=inflight is None)
            if callable(work):
                work()
                continue
            batch = work
            if batch:
                t0 = time.perf_counter()
                h = self.model.launch([i for _, i in batch])
                launched = (batch, h, (t0, time.perf_counter()))
            else:
                launched = None
            if inflight is not None:
                self._answer(*inflight)
            inflight = launched
            if inflight is None and self.stop and not self.pending:
                return

    def close(self):
        with self.cv:
            self.stop = True
            self.cv.notify()
        self.thread.join()


def batch_stats(stats) -> dict:
    """Percentiles of the worker's per-batch timings (ms) and sizes."""
    if not stats:
        return {}

    def pct(vals, q):
        v = sorted(vals)
        return v[min(len(v) - 1, int(q * len(v)))]

    out = {"mean_size": sum(s[0] for s in stats) / len(stats)}
    for k, name in ((1, "launch_ms"), (2, "gpu_ms"), (3, "answer_ms")):
        vals = [s[k] * 1e3 for s in stats]
        out[name] = {"p50": round(pct(vals, 0.5), 3), "p99": round(pct(vals, 0.99), 3), "max": round(max(vals), 3)}
    return out


def summary_fields(path: Path) -> dict:
    out = {}
    for line in path.read_text().splitlines():
        if ":" in line:
            k, _, v = line.partition(":")
            out.setdefault(k.strip(), v.strip())
    return out


def num(s):
    try:
        return float(s.split()[0])
    except (AttributeError, ValueError, IndexError):
        return None


class Runner:
    def __init__(self, lg, model: Model, total: int, perf: int, logroot: Path):
        self.lg, self.model, self.total, self.perf = lg, model, total, perf
        self.logroot = logroot
        self.count = 0

    def run(self, sut_impl: BatchingSut, scenario: str, max_batch: int, **fields) -> dict:
        lg = self.lg
        sut_impl.max_batch = max_batch
        sut_impl.batches = 0
        sut_impl.stats = []
        sut = lg.ConstructSUT(sut_impl.issue_queries, sut_impl.flush_queries)
        qsl = lg.ConstructQSL(self.total, self.perf, self.model.load, self.model.unload)
        ts = lg.TestSettings()
        ts.scenario = getattr(lg.TestScenario, scenario)
        ts.mode = lg.TestMode.PerformanceOnly
        for k, v in fields.items():
            setattr(ts, k, v)
        self.count += 1
        d = self.logroot / f"{self.count:02d}-{scenario}"
        d.mkdir(parents=True, exist_ok=True)
        ls = lg.LogSettings()
        ls.log_output.outdir = str(d)
        ls.log_output.copy_summary_to_stdout = False
        ls.enable_trace = False
        t = time.monotonic()
        lg.StartTestWithLogSettings(sut, qsl, ts, ls)
        wall = time.monotonic() - t
        lg.DestroyQSL(qsl)
        lg.DestroySUT(sut)
        s = summary_fields(d / "mlperf_log_summary.txt")
        text = (d / "mlperf_log_summary.txt").read_text()
        return {
            "scenario": scenario,
            "fields": fields,
            "valid": "Result is : VALID" in text,
            "samples_per_s": num(s.get("Samples per second")),
            "completed_samples_per_s": num(s.get("Completed samples per second")),
            "p50_ns": num(s.get("50.00 percentile latency (ns)")),
            "p90_ns": num(s.get("90.00 percentile latency (ns)")),
            "p99_ns": num(s.get("99.00 percentile latency (ns)")),
            "p999_ns": num(s.get("99.90 percentile latency (ns)")),
            "max_ns": num(s.get("Max latency (ns)")),
            "batches": sut_impl.batches,
            "batch_stats": batch_stats(sut_impl.stats),
            "wall_s": round(wall, 2),
        }


def one(a) -> dict:
    """All measurements for the module in $LOADGEN_MODULE, in this process."""
    mod_name = os.environ.get("LOADGEN_MODULE", "mlperf_loadgen")
    lg = importlib.import_module(mod_name)
    log = lambda m: print(f"[{mod_name}] {m}", file=sys.stderr, flush=True)  # noqa: E731
    if a.fake_model:
        model = FakeModel(a.total, max(a.offline_batch, a.max_batch))
        res = {"module": mod_name, "device": "none (fake model)", "torch": None}
    else:
        import torch

        model = Model(a.total, max(a.offline_batch, a.max_batch), cuda_graphs=a.cuda_graphs)
        res = {"module": mod_name, "device": torch.cuda.get_device_name(0), "torch": torch.__version__,
               "cuda_graphs": a.cuda_graphs}
    res["python"] = platform.python_version()
    res["module_file"] = getattr(lg, "__file__", None)
    sut_impl = BatchingSut(lg, model, a.max_batch)
    t = time.monotonic()
    sut_impl.run_in_worker(lambda: model.warmup(a.warmup_seconds))
    log(f"warm-up {time.monotonic() - t:.1f} s")
    if a.gc_freeze:
        # What long-running Python servers do: the objects made so far (torch,
        # the model) are never collected, so collections stay short.
        import gc

        gc.collect()
        gc.freeze()
    res["gc_freeze"] = a.gc_freeze
    res["plain_loop"] = sut_impl.run_in_worker(lambda: model.plain_loop(a.offline_batch, a.loop_seconds))
    log(f"plain loop b={a.offline_batch}: {res['plain_loop']['samples_per_s']:.0f} samples/s")
    runner = Runner(lg, model, a.total, a.perf, Path(a.logs) / mod_name)

    qps_guess = res["plain_loop"]["samples_per_s"]
    r = runner.run(sut_impl, "Offline", a.offline_batch, min_duration_ms=int(a.offline_seconds * 1000),
                   offline_expected_qps=qps_guess, min_query_count=1)
    res["offline"] = r
    log(f"Offline: {r['samples_per_s']} samples/s valid={r['valid']} "
        f"({r['samples_per_s'] / res['plain_loop']['samples_per_s'] * 100:.1f}% of the plain loop)")
    res["plain_loop_after"] = sut_impl.run_in_worker(lambda: model.plain_loop(a.offline_batch, a.loop_seconds / 2))

    trials = []

    def trial(qps):
        r = runner.run(sut_impl, "Server", a.max_batch, server_target_qps=float(qps), server_target_latency_ns=15_000_000,
                       min_duration_ms=int(a.server_seconds * 1000), min_query_count=100)
        trials.append(r)
        bs = r["batch_stats"]
        log(f"Server {qps:8.0f} qps: {'VALID  ' if r['valid'] else 'INVALID'} p50/p99/max "
            f"{(r['p50_ns'] or 0) / 1e6:.2f}/{(r['p99_ns'] or 0) / 1e6:.2f}/{(r['max_ns'] or 0) / 1e6:.1f} ms, "
            f"{r['batches']} batches of {bs.get('mean_size', 0):.1f}, launch {bs.get('launch_ms')}, "
            f"gpu {bs.get('gpu_ms')}, answer {bs.get('answer_ms')}")
        return r["valid"]

    lo, hi = 0.0, None
    q = a.server_start
    while hi is None and q < 1e6:
        if trial(q):
            lo, q = q, q * 2
        else:
            hi = q
    while lo == 0 and hi is not None and hi > 50:
        q = hi / 2
        if trial(q):
            lo = q
        else:
            hi = q
    while hi is not None and lo > 0 and (hi - lo) / lo > a.precision:
        mid = (lo + hi) / 2
        if trial(mid):
            lo = mid
        else:
            hi = mid
    res["server"] = {"max_valid_qps": lo, "first_invalid_qps": hi, "trials": trials}
    for q in a.confirm_qps:
        res.setdefault("server_confirm", []).append({"qps": q, "valid": trial(q)})
    sut_impl.close()
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=["all", "one"])
    ap.add_argument("--out", type=Path, required=True, help="folder for the JSON results")
    ap.add_argument("--logs", default=None, help="LoadGen log folder (default: a temporary one)")
    ap.add_argument("--total", type=int, default=50000, help="QSL total sample count")
    ap.add_argument("--perf", type=int, default=1024, help="QSL performance sample count (kept on the GPU)")
    ap.add_argument("--offline-batch", type=int, default=256)
    ap.add_argument("--max-batch", type=int, default=128, help="Server: largest batch")
    ap.add_argument("--loop-seconds", type=float, default=6.0)
    ap.add_argument("--offline-seconds", type=float, default=8.0)
    ap.add_argument("--server-seconds", type=float, default=5.0)
    ap.add_argument("--server-start", type=float, default=2000.0)
    ap.add_argument("--precision", type=float, default=0.03)
    ap.add_argument("--warmup-seconds", type=float, default=2.0)
    ap.add_argument("--confirm-qps", type=float, nargs="*", default=[])
    ap.add_argument("--modules", nargs="*", default=["mlperf_loadgen", "yardstick.loadgen"])
    ap.add_argument("--fake-model", action="store_true", help="no GPU: a sleeping stand-in model")
    ap.add_argument("--cuda-graphs", action="store_true",
                    help="replay one CUDA graph per batch size instead of eager PyTorch (not yet run on a GPU)")
    ap.add_argument("--gc-freeze", action="store_true",
                    help="gc.freeze() after warm-up, so full collections skip torch's objects (not yet run on a GPU)")
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    if a.logs is None:
        a.logs = tempfile.mkdtemp(prefix="rn50-logs-")

    if a.command == "one":
        res = one(a)
        name = res["module"].replace(".", "_")
        (a.out / f"resnet50_{name}.json").write_text(json.dumps(res, indent=1))
        print(json.dumps({k: v for k, v in res.items() if k != "server"}, indent=None))
        return 0

    results = {}
    passthrough = [x for x in (argv if argv is not None else sys.argv[1:]) if x != "all"]
    for mod in a.modules:
        env = dict(os.environ, LOADGEN_MODULE=mod, PYTHONUNBUFFERED="1")
        r = subprocess.run([sys.executable, __file__, "one"] + passthrough, env=env)
        if r.returncode != 0:
            print(f"{mod}: failed (rc {r.returncode})", file=sys.stderr)
            continue
        results[mod] = json.loads((a.out / f"resnet50_{mod.replace('.', '_')}.json").read_text())
    (a.out / "resnet50_all.json").write_text(json.dumps(results, indent=1))
    if len(results) == 2:
        o, y = results["mlperf_loadgen"], results["yardstick.loadgen"]
        print(f"\ndevice: {o['device']}, torch {o['torch']}, Python {o['python']}\n")
        print("| metric | official mlperf_loadgen | yardstick.loadgen | ratio |")
        print("| --- | --- | --- | --- |")
        for label, get in [
            (f"plain loop, batch {a.offline_batch} (samples/s)", lambda r: r["plain_loop"]["samples_per_s"]),
            ("Offline samples/s", lambda r: r["offline"]["samples_per_s"]),
            ("Offline / plain loop", lambda r: r["offline"]["samples_per_s"] / r["plain_loop"]["samples_per_s"]),
            ("Server: highest VALID QPS (p99 <= 15 ms)", lambda r: r["server"]["max_valid_qps"]),
        ]:
            ov, yv = get(o), get(y)
            ratio = f"{yv / ov:.3f}" if ov else "-"
            fmt = ",.3f" if ov < 10 else ",.0f"
            print(f"| {label} | {ov:{fmt}} | {yv:{fmt}} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

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
that point there. Every visible GPU gets its own replica of the model and of
the loaded samples, and its own worker thread; the workers take batches from
one shared queue, so batches spread over the GPUs as they free up (run it
under `yardstick scale --gpus 1,2,4,8` for the scaling curve; --devices N
uses only the first N). Options: --cuda-graphs (one graph per batch size),
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

    def __init__(self, total: int, max_batch: int, seed: int = 0, cuda_graphs: bool = False, device: int = 0):
        import torch
        import torchvision

        torch.manual_seed(seed)
        torch.backends.cudnn.benchmark = True
        self.torch = torch
        self.dev = torch.device("cuda", device)
        # Every replica's constructor and later work runs on its own worker
        # thread with this device current (BatchingSut sets it).
        torch.cuda.set_device(self.dev)
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
        self.load_warmup_seconds = 0.0

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
        self.prime()

    def prime(self):
        """Untimed work a harness does in load_samples: every batch shape once
        on the newly loaded set, then back-to-back batches for
        --load-warmup-seconds, so the first timed queries meet a busy GPU
        (clocks up) and warm allocator blocks rather than an idle card."""
        if self.load_warmup_seconds <= 0 or self.data is None:
            return
        n = self.data.shape[0]
        for b in BUCKETS:
            if b <= self.max_batch:
                self.infer([i % n for i in range(b)])
        t = time.monotonic()
        while time.monotonic() - t < self.load_warmup_seconds:
            self.infer([i % n for i in range(self.max_batch)])

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
            try:
                self.capture()
            except Exception as e:  # noqa: BLE001 - reported, then eager PyTorch
                print(f"CUDA graph capture failed ({e!r}); running eager", file=sys.stderr, flush=True)
                self.graphs = {}
                self.torch.cuda.synchronize()
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

    def __init__(self, total: int, max_batch: int, seed: int = 0, device: int = 0):
        import numpy as np

        self.np = np
        self.max_batch, self.total = max_batch, total
        self.data = None
        self.cuda_graphs, self.graphs = False, {}
        self.load_warmup_seconds = 0.0

    def load(self, indices):
        self.data = self.np.zeros(len(indices))
        self.prime()

    def launch(self, sample_indices):
        n = len(sample_indices)
        time.sleep(0.0005 + 20e-6 * bucket_for(n, self.max_batch))
        return self.np.array([i % 1000 for i in sample_indices], dtype=self.np.int32)

    def wait(self, handle):
        return handle


class BatchingSut:
    """IssueQuery enqueues; one worker thread per GPU batches, infers and answers.

    Each worker thread owns one model replica (one GPU) and lives for the
    whole process: it builds the replica and does all of its GPU work, the
    warm-up and the plain loop included, since PyTorch keeps cuDNN/cuBLAS
    handles (and in effect cuDNN's autotuning) per thread, so a fresh thread
    per test would pay seconds of autotuning inside the timed run. The
    workers share one queue of samples: whichever is free takes the next
    batch."""

    def __init__(self, lg, make_model, devices: int, max_batch: int):
        self.lg, self.max_batch = lg, max_batch
        self.pending = collections.deque()
        self.tasks = [collections.deque() for _ in range(devices)]
        self.cv = threading.Condition()
        self.stop = False
        # per batch: (size, launch CPU s, launch to results on host s, answering s, ...)
        self.stats: list[tuple] = []
        self.models = [None] * devices
        self.threads = [threading.Thread(target=self._worker, args=(k,), daemon=True) for k in range(devices)]
        for t in self.threads:
            t.start()
        self.run_on_all(lambda k, _: self.models.__setitem__(k, make_model(k)))

    @property
    def batches(self) -> int:
        return len(self.stats)

    @property
    def model(self):
        return self.models[0]

    def run_on_all(self, fn):
        """Runs fn(worker index, its model) on every worker thread at once
        (each between its batches); returns the results in worker order."""
        boxes = [{} for _ in self.threads]
        done = [threading.Event() for _ in self.threads]

        def task_for(k):
            def task():
                try:
                    boxes[k]["value"] = fn(k, self.models[k])
                except BaseException as e:  # noqa: BLE001 - re-raised in the caller
                    boxes[k]["error"] = e
                done[k].set()
            return task

        with self.cv:
            for k, q in enumerate(self.tasks):
                q.append(task_for(k))
            self.cv.notify_all()
        for d in done:
            d.wait()
        for b in boxes:
            if "error" in b:
                raise b["error"]
        return [b["value"] for b in boxes]

    def issue_queries(self, query_samples):
        with self.cv:
            t = time.perf_counter()
            self.pending.extend((s.id, s.index, t) for s in query_samples)
            if len(self.threads) == 1:
                self.cv.notify()
            else:
                self.cv.notify_all()

    def flush_queries(self):
        pass

    def _take(self, k: int, block: bool):
        """Up to max_batch queued samples (or a task of worker k); waits for
        work unless `block` is false."""
        with self.cv:
            tasks = self.tasks[k]
            while block and not self.pending and not tasks and not self.stop:
                self.cv.wait()
            if not self.pending and tasks and block:
                return tasks.popleft()
            n = min(len(self.pending), self.max_batch)
            return [self.pending.popleft() for _ in range(n)]

    def _answer(self, model, batch, handle, t_launch):
        top1 = model.wait(handle)
        t_ready = time.perf_counter()
        base = top1.ctypes.data
        Response = self.lg.QuerySampleResponse
        self.lg.QuerySamplesComplete([Response(rid, base + 4 * k, 4) for k, (rid, _, _) in enumerate(batch)])
        t_done = time.perf_counter()
        # (size, launch CPU s, launch to results on host s, answering s,
        #  oldest sample's issue time, launch start, done)
        self.stats.append((len(batch), t_launch[1] - t_launch[0], t_ready - t_launch[0],
                           t_done - t_ready, batch[0][2], t_launch[0], t_done))

    def _worker(self, k: int):
        """Two batches in flight: the next is launched on the GPU before the
        previous one's answers are built, so the GPU does not wait for Python."""
        inflight = None
        while True:
            work = self._take(k, block=inflight is None)
            if callable(work):
                work()
                continue
            batch = work
            model = self.models[k]
            if batch:
                t0 = time.perf_counter()
                h = model.launch([i for _, i, _ in batch])
                launched = (batch, h, (t0, time.perf_counter()))
            else:
                launched = None
            if inflight is not None:
                self._answer(model, *inflight)
            inflight = launched
            if inflight is None and self.stop and not self.pending:
                return

    def close(self):
        with self.cv:
            self.stop = True
            self.cv.notify_all()
        for t in self.threads:
            t.join()

    # What the runner and measure() ask of "the model", over every replica.

    def load_all(self, indices):
        self.run_on_all(lambda _, m: m.load(list(indices)))

    def plain_loop(self, batch: int, seconds: float) -> dict:
        """Every replica's plain loop at once: the ceiling of all the GPUs."""
        per = self.run_on_all(lambda _, m: m.plain_loop(batch, seconds))
        out = {"batch": batch, "samples": sum(p["samples"] for p in per),
               "seconds": max(p["seconds"] for p in per),
               "samples_per_s": sum(p["samples_per_s"] for p in per)}
        if len(per) > 1:
            out["per_gpu"] = per
        return out


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
    # The batches whose oldest sample waited longest (issue to answered), with
    # where in the run they fell and where the time went: queueing before the
    # launch, the launch itself, the GPU, the answer.
    t0 = min(s[4] for s in stats)
    worst = sorted(stats, key=lambda s: s[6] - s[4], reverse=True)[:6]
    out["worst"] = [{"at_ms": round((s[4] - t0) * 1e3, 1), "size": s[0],
                     "total_ms": round((s[6] - s[4]) * 1e3, 2),
                     "queued_ms": round((s[5] - s[4]) * 1e3, 2), "launch_ms": round(s[1] * 1e3, 2),
                     "gpu_ms": round(s[2] * 1e3, 2), "answer_ms": round(s[3] * 1e3, 2)} for s in worst]
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
    """One LoadGen test at a time, through whichever module is passed in."""

    def __init__(self, sut_impl: "BatchingSut", total: int, perf: int, logroot: Path):
        self.sut_impl, self.total, self.perf = sut_impl, total, perf
        self.logroot = logroot
        self.count = 0

    def run(self, lg, scenario: str, max_batch: int, **fields) -> dict:
        sut_impl = self.sut_impl
        sut_impl.lg = lg
        sut_impl.max_batch = max_batch
        sut_impl.stats = []
        sut = lg.ConstructSUT(sut_impl.issue_queries, sut_impl.flush_queries)
        # The load (and the untimed warm-up in it) runs on every worker
        # thread, each loading the set onto its own GPU.
        qsl = lg.ConstructQSL(self.total, self.perf, sut_impl.load_all, lambda idx: None)
        ts = lg.TestSettings()
        ts.scenario = getattr(lg.TestScenario, scenario)
        ts.mode = lg.TestMode.PerformanceOnly
        for k, v in fields.items():
            setattr(ts, k, v)
        self.count += 1
        d = self.logroot / f"{self.count:02d}-{lg.__name__}-{scenario}"
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
            "module": lg.__name__,
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


class ServerSearch:
    """Highest VALID Server target QPS: doubling from a start until INVALID,
    halving while the start is INVALID, then bisecting to a precision."""

    def __init__(self, start: float, precision: float):
        self.lo, self.hi, self.q, self.precision = 0.0, None, start, precision
        self.trials = []

    def next_qps(self):
        """The next rate to try, or None when done."""
        return self.q

    def record(self, valid: bool):
        q = self.q
        if valid:
            self.lo = q
        else:
            self.hi = q
        if self.hi is None:
            self.q = q * 2 if q * 2 < 1e6 else None
        elif self.lo == 0:
            self.q = self.hi / 2 if self.hi > 50 else None
        elif (self.hi - self.lo) / self.lo > self.precision:
            self.q = (self.lo + self.hi) / 2
        else:
            self.q = None


def measure(a, mod_names) -> dict:
    """All measurements for each module, in this process, on one model and one
    worker thread; the modules take turns at every step (plain loop, Offline,
    each Server trial), so they meet the same GPU, clocks and process state."""
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    mods = [importlib.import_module(m) for m in mod_names]
    biggest = max(a.offline_batch, a.max_batch)
    if a.fake_model:
        devices = a.devices or 1
        make = lambda k: FakeModel(a.total, biggest, device=k)  # noqa: E731
        device, torch_version = "none (fake model)", None
    else:
        import torch

        visible = torch.cuda.device_count()
        devices = min(a.devices, visible) if a.devices else visible
        if devices < 1:
            raise SystemExit("no CUDA device visible")
        make = lambda k: Model(a.total, biggest, cuda_graphs=a.cuda_graphs, device=k)  # noqa: E731
        device, torch_version = torch.cuda.get_device_name(0), torch.__version__
    sut_impl = BatchingSut(mods[0], make, devices, a.max_batch)
    model = sut_impl.model
    t = time.monotonic()
    sut_impl.run_on_all(lambda _, m: m.warmup(a.warmup_seconds))
    for m in sut_impl.models:
        m.load_warmup_seconds = a.load_warmup_seconds
    log(f"{devices} GPU worker(s); warm-up {time.monotonic() - t:.1f} s (cuda graphs: {bool(model.graphs)})")
    if a.gc_freeze:
        # What long-running Python servers do: the objects made so far (torch,
        # the model) are never collected, so collections stay short.
        import gc

        gc.collect()
        gc.freeze()
    common = {"device": device, "devices": devices, "torch": torch_version, "python": platform.python_version(),
              "cuda_graphs": bool(model.graphs), "gc_freeze": a.gc_freeze,
              "load_warmup_seconds": a.load_warmup_seconds, "in_process": True,
              "order": mod_names}
    res = {m.__name__: dict(common, module=m.__name__, module_file=getattr(m, "__file__", None)) for m in mods}
    runner = Runner(sut_impl, a.total, a.perf, Path(a.logs))

    for m in mods:
        r = res[m.__name__]
        r["plain_loop"] = sut_impl.plain_loop(a.offline_batch, a.loop_seconds)
        log(f"[{m.__name__}] plain loop b={a.offline_batch}: {r['plain_loop']['samples_per_s']:.0f} samples/s")
    for m in mods:
        r = res[m.__name__]
        o = runner.run(m, "Offline", a.offline_batch, min_duration_ms=int(a.offline_seconds * 1000),
                       offline_expected_qps=r["plain_loop"]["samples_per_s"], min_query_count=1)
        r["offline"] = o
        log(f"[{m.__name__}] Offline: {o['samples_per_s']} samples/s valid={o['valid']} "
            f"({o['samples_per_s'] / r['plain_loop']['samples_per_s'] * 100:.1f}% of the plain loop)")

    def trial(m, qps):
        r = runner.run(m, "Server", a.max_batch, server_target_qps=float(qps),
                       server_target_latency_ns=15_000_000,
                       min_duration_ms=int(a.server_seconds * 1000), min_query_count=100)
        bs = r["batch_stats"]
        log(f"[{m.__name__}] Server {qps:8.0f} qps: {'VALID  ' if r['valid'] else 'INVALID'} p50/p99/max "
            f"{(r['p50_ns'] or 0) / 1e6:.2f}/{(r['p99_ns'] or 0) / 1e6:.2f}/{(r['max_ns'] or 0) / 1e6:.1f} ms, "
            f"{r['batches']} batches of {bs.get('mean_size', 0):.1f}, launch {bs.get('launch_ms')}, "
            f"gpu {bs.get('gpu_ms')}, answer {bs.get('answer_ms')}")
        if not r["valid"]:
            log(f"    worst batches: {bs.get('worst')}")
        return r

    searches = {m.__name__: ServerSearch(a.server_start, a.precision) for m in mods}
    if a.skip_server:
        for s in searches.values():
            s.q = None
    while any(s.next_qps() is not None for s in searches.values()):
        for m in mods:
            s = searches[m.__name__]
            q = s.next_qps()
            if q is None:
                continue
            r = trial(m, q)
            s.trials.append(r)
            s.record(r["valid"])
    for m in mods:
        s = searches[m.__name__]
        res[m.__name__]["server"] = {"max_valid_qps": s.lo, "first_invalid_qps": s.hi, "trials": s.trials}
    # Every module again at each confirmation rate and at each module's best, in turn.
    confirm = sorted(set(a.confirm_qps) | {s.lo for s in searches.values() if s.lo > 0})
    for q in confirm:
        for m in mods:
            r = trial(m, q)
            res[m.__name__].setdefault("server_confirm", []).append(
                {"qps": q, "valid": r["valid"], "p99_ns": r["p99_ns"]})
    for m in mods:
        res[m.__name__]["plain_loop_after"] = sut_impl.plain_loop(a.offline_batch, a.loop_seconds / 2)
    sut_impl.close()
    return res


def one(a) -> dict:
    """All measurements for the module in $LOADGEN_MODULE, alone in this process."""
    mod_name = os.environ.get("LOADGEN_MODULE", "mlperf_loadgen")
    res = measure(a, [mod_name])[mod_name]
    res["in_process"] = False
    return res


def print_table(results: dict, a) -> None:
    o, y = results["mlperf_loadgen"], results["yardstick.loadgen"]
    print(f"\ndevice: {o['device']}, torch {o['torch']}, Python {o['python']}, cuda graphs {o['cuda_graphs']}, "
          f"gc.freeze {o['gc_freeze']}, in one process {o['in_process']}\n")
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
    for name, r in (("official", o), ("yardstick", y)):
        for c in r.get("server_confirm", []):
            print(f"confirm {name} at {c['qps']:.0f} qps: valid={c['valid']} p99={(c['p99_ns'] or 0) / 1e6:.2f} ms")


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
    ap.add_argument("--devices", type=int, default=0,
                    help="GPUs to use, one worker and model replica each (default: every visible one)")
    ap.add_argument("--skip-server", action="store_true", help="no Server search (plain loop and Offline only)")
    ap.add_argument("--separate", action="store_true",
                    help="one process per module, one after the other (default: both in one process, taking turns)")
    ap.add_argument("--load-warmup-seconds", type=float, default=0.5,
                    help="untimed warm-up inside each QSL load (every batch shape, then this long at the largest)")
    ap.add_argument("--cuda-graphs", action="store_true",
                    help="replay one CUDA graph per batch size instead of eager PyTorch")
    ap.add_argument("--gc-freeze", action="store_true",
                    help="gc.freeze() after warm-up, so full collections skip torch's objects")
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

    if not a.separate:
        results = measure(a, a.modules)
        for mod, r in results.items():
            (a.out / f"resnet50_{mod.replace('.', '_')}.json").write_text(json.dumps(r, indent=1))
    else:
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
        print_table(results, a)
    return 0


if __name__ == "__main__":
    sys.exit(main())

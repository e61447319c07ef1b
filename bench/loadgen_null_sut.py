#!/usr/bin/env python3
"""Benchmark a LoadGen Python module with a null SUT.

The module is $LOADGEN_MODULE (default mlperf_loadgen, the official wheel); any module with
the same API (TestSettings, ConstructSUT, ConstructQSL, QuerySamplesComplete, ...) works.

The SUT answers every sample at once, inside issue_query, with one QuerySamplesComplete
call per IssueQuery call; responses point into a preallocated numpy buffer (4 bytes a
sample). Loading / unloading samples does nothing. LoadGen's logs go to a temporary folder
(or --log-dir) and are parsed for the result.

    LOADGEN_MODULE=mlperf_loadgen python bench/loadgen_null_sut.py --scenario Server \
        --target-qps 50000 --duration-ms 2000 --total 50000 --perf 1024
    python bench/loadgen_null_sut.py --scenario Offline --duration-ms 1000 --total 50000 \
        --perf 1024 --samples 1000000
    python bench/loadgen_null_sut.py --scenario SingleStream --target-qps 100000 \
        --duration-ms 2000 --total 50000 --perf 1024

Prints ONE JSON line:
  {"impl", "scenario", "target_qps", "valid", "completed_samples_per_s", "p99_latency_ns",
   "samples", "peak_rss_bytes", "wall_s"}
where completed_samples_per_s is the summary's "Completed samples per second" (Server),
"Samples per second" (Offline) or "QPS w/ loadgen overhead" (SingleStream), p99_latency_ns
the summary's "99.00 percentile latency (ns)", samples the number of samples of the
performance run (detail log: result_query_count x generated_samples_per_query), and wall_s
the wall time of StartTest.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import resource
import shutil
import sys
import tempfile
import time

import numpy as np


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", required=True, choices=["Server", "Offline", "SingleStream"])
    ap.add_argument("--target-qps", type=float, default=None,
                    help="Server: server_target_qps; SingleStream: 1e9 / single_stream_expected_latency_ns; "
                         "Offline: offline_expected_qps (when --samples is not given)")
    ap.add_argument("--duration-ms", type=int, required=True, help="min_duration_ms")
    ap.add_argument("--total", type=int, required=True, help="QSL total sample count")
    ap.add_argument("--perf", type=int, required=True, help="QSL performance sample count")
    ap.add_argument("--samples", type=int, default=None,
                    help="Offline: samples in the one query (sets min_query_count and offline_expected_qps)")
    ap.add_argument("--min-query-count", type=int, default=None, help="min_query_count (default: LoadGen's)")
    ap.add_argument("--target-latency-ms", type=float, default=None, help="Server: server_target_latency_ns / 1e6")
    ap.add_argument("--log-dir", default=None, help="keep LoadGen's logs here (default: a temporary folder)")
    a = ap.parse_args(argv)
    if a.scenario != "Offline" and a.target_qps is None:
        ap.error("--target-qps is required for Server and SingleStream")
    if a.scenario == "Offline" and a.target_qps is None and a.samples is None:
        ap.error("Offline needs --samples or --target-qps")
    if a.samples is not None and a.scenario != "Offline":
        ap.error("--samples is for Offline only")
    return a


def summary_fields(text: str) -> dict:
    out = {}
    for line in text.splitlines():
        if ":" in line:
            k, _, v = line.partition(":")
            out.setdefault(k.strip(), v.strip())
    return out


def detail_values(text: str) -> dict:
    out = {}
    for line in text.splitlines():
        if line.startswith(":::MLLOG "):
            try:
                j = json.loads(line[len(":::MLLOG "):])
            except json.JSONDecodeError:
                continue
            out.setdefault(j.get("key"), []).append(j.get("value"))
    return out


def _num(s):
    if s is None:
        return None
    m = re.match(r"[-+0-9.eE]+|nan|inf", s.strip())
    if not m:
        return None
    v = float(m.group(0))
    return int(v) if v.is_integer() and abs(v) < 2**63 else v


def main(argv=None) -> int:
    a = parse_args(sys.argv[1:] if argv is None else argv)
    mod_name = os.environ.get("LOADGEN_MODULE", "mlperf_loadgen")
    lg = importlib.import_module(mod_name)

    # --- settings
    ts = lg.TestSettings()
    ts.scenario = getattr(lg.TestScenario, a.scenario)
    ts.mode = lg.TestMode.PerformanceOnly
    ts.min_duration_ms = a.duration_ms
    if a.min_query_count is not None:
        ts.min_query_count = a.min_query_count
    target_qps = a.target_qps
    if a.scenario == "Server":
        ts.server_target_qps = target_qps
        if a.target_latency_ms is not None:
            ts.server_target_latency_ns = int(a.target_latency_ms * 1e6)
    elif a.scenario == "SingleStream":
        ts.single_stream_expected_latency_ns = 1e9 / target_qps
    else:
        if a.samples is not None:
            # LoadGen issues max(min_query_count, floor(1.1 * min_duration_s * qps)) samples;
            # keep the second term at or below --samples so the query has exactly --samples.
            ts.min_query_count = a.samples
            dur_s = a.duration_ms / 1000.0
            cap = a.samples / (1.1 * dur_s) * (1 - 1e-9) if dur_s > 0 else float("inf")
            target_qps = min(target_qps, cap) if target_qps is not None else (cap if dur_s > 0 else 1.0)
        ts.offline_expected_qps = target_qps

    # --- null SUT and QSL
    buf = np.arange(max(1, a.total), dtype="<u4")
    base = buf.ctypes.data
    nbuf = len(buf)
    Response = lg.QuerySampleResponse
    complete = lg.QuerySamplesComplete

    def issue_query(samples):
        complete([Response(s.id, base + 4 * (s.index % nbuf), 4) for s in samples])

    def flush_queries():
        pass

    sut = lg.ConstructSUT(issue_query, flush_queries)
    qsl = lg.ConstructQSL(a.total, a.perf, lambda idx: None, lambda idx: None)

    log_dir = a.log_dir or tempfile.mkdtemp(prefix="lg-bench-")
    os.makedirs(log_dir, exist_ok=True)
    ls = lg.LogSettings()
    ls.log_output.outdir = log_dir
    ls.log_output.copy_summary_to_stdout = False
    ls.enable_trace = False

    t0 = time.perf_counter()
    lg.StartTestWithLogSettings(sut, qsl, ts, ls)
    wall = time.perf_counter() - t0
    lg.DestroyQSL(qsl)
    lg.DestroySUT(sut)

    # --- results
    summary_path = os.path.join(log_dir, "mlperf_log_summary.txt")
    detail_path = os.path.join(log_dir, "mlperf_log_detail.txt")
    summary = open(summary_path).read() if os.path.exists(summary_path) else ""
    detail = open(detail_path).read() if os.path.exists(detail_path) else ""
    sf = summary_fields(summary)
    dv = detail_values(detail)

    valid = "Result is : VALID" in summary
    if a.scenario == "Server":
        rate = _num(sf.get("Completed samples per second"))
    elif a.scenario == "Offline":
        rate = _num(sf.get("Samples per second"))
    else:
        rate = _num(sf.get("QPS w/ loadgen overhead"))
    p99 = _num(sf.get("99.00 percentile latency (ns)"))
    qc = (dv.get("result_query_count") or [None])[-1]
    spq = (dv.get("generated_samples_per_query") or [1])[-1]
    samples = qc * spq if isinstance(qc, int) and isinstance(spq, int) else None

    if not a.log_dir:
        shutil.rmtree(log_dir, ignore_errors=True)

    print(json.dumps({
        "impl": mod_name,
        "scenario": a.scenario,
        "target_qps": target_qps,
        "valid": valid,
        "completed_samples_per_s": rate,
        "p99_latency_ns": p99,
        "samples": samples,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "wall_s": round(wall, 4),
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

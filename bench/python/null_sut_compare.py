#!/usr/bin/env python3
"""The Python-module benchmark: the same null-SUT harness file (bench/loadgen_null_sut.py)
under the official mlperf_loadgen and under yardstick.loadgen, same machine, one
after the other.

* Server: the highest target QPS that is VALID (default latency bound, 100 ms at the
  99th percentile), found per module by doubling from --server-start until a run is
  INVALID, then bisecting to --precision. Each trial is its own process.
* Offline: one query of --offline-samples samples (default 5.5 million), --repeat
  times per module: samples/s (the summary's) and the process's peak RSS.

    python bench/python/null_sut_compare.py --out bench-null.json
    python bench/python/null_sut_compare.py --official-python .venv-ref/bin/python \
        --yardstick-python .venv-py/bin/python --duration-ms 5000

Prints a Markdown table (for docs/benchmarks.md) and writes every trial to --out.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HARNESS = REPO / "bench" / "loadgen_null_sut.py"


def run_trial(python: str, module: str, args: list[str], timeout: float) -> dict:
    env = dict(os.environ, LOADGEN_MODULE=module)
    t = time.monotonic()
    r = subprocess.run([python, str(HARNESS)] + args, capture_output=True, text=True, env=env, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed (rc {r.returncode}):\n{r.stderr[-2000:]}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    out["process_s"] = round(time.monotonic() - t, 2)
    return out


def server_search(python, module, a, log) -> dict:
    base = ["--scenario", "Server", "--duration-ms", str(a.duration_ms), "--total", str(a.total),
            "--perf", str(a.perf)]
    trials = []

    def trial(qps):
        r = run_trial(python, module, base + ["--target-qps", f"{qps:.0f}"], timeout=a.duration_ms / 1000 * 20 + 60)
        trials.append(r)
        log(f"  {module:18s} Server {qps:>10.0f} qps: {'VALID  ' if r['valid'] else 'INVALID'} "
            f"p99 {r['p99_latency_ns'] / 1e6 if r['p99_latency_ns'] else float('nan'):8.2f} ms, "
            f"completed {r['completed_samples_per_s']}/s")
        return r["valid"]

    lo, hi = 0.0, None
    q = a.server_start
    while hi is None:
        if trial(q):
            lo, q = q, q * 2
        else:
            hi = q
        if q > 1e8:
            break
    if lo == 0:  # even the start is too fast
        hi_ = hi
        q = hi_ / 2
        while q >= 1000 and not trial(q):
            hi_, q = q, q / 2
        lo, hi = (q, hi_) if q >= 1000 else (0.0, hi_)
    while hi is not None and lo > 0 and (hi - lo) / lo > a.precision:
        mid = (lo + hi) / 2
        if trial(mid):
            lo = mid
        else:
            hi = mid
    return {"max_valid_qps": lo, "first_invalid_qps": hi, "trials": trials}


def offline_runs(python, module, a, log) -> dict:
    args = ["--scenario", "Offline", "--duration-ms", "1000", "--total", str(a.total), "--perf", str(a.perf),
            "--samples", str(a.offline_samples)]
    trials = []
    for _ in range(a.repeat):
        r = run_trial(python, module, args, timeout=600)
        trials.append(r)
        log(f"  {module:18s} Offline {r['samples']} samples: {r['completed_samples_per_s']}/s, "
            f"peak RSS {r['peak_rss_bytes'] / 2**20:.0f} MiB, valid {r['valid']}")
    rates = [t["completed_samples_per_s"] for t in trials]
    return {"samples_per_s_median": statistics.median(rates), "samples_per_s_all": rates,
            "peak_rss_bytes_max": max(t["peak_rss_bytes"] for t in trials),
            "peak_rss_bytes_all": [t["peak_rss_bytes"] for t in trials],
            "valid_all": all(t["valid"] for t in trials), "trials": trials}


def machine() -> dict:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--official-python", default=sys.executable,
                    help="a Python with mlperf_loadgen (mlcommons-loadgen==6.0.17)")
    ap.add_argument("--yardstick-python", default=sys.executable, help="a Python with yardstick.loadgen")
    ap.add_argument("--duration-ms", type=int, default=3000, help="Server min_duration_ms per trial")
    ap.add_argument("--total", type=int, default=50000)
    ap.add_argument("--perf", type=int, default=1024)
    ap.add_argument("--server-start", type=float, default=100000)
    ap.add_argument("--precision", type=float, default=0.03, help="relative width of the final QPS bracket")
    ap.add_argument("--offline-samples", type=int, default=5_500_000)
    ap.add_argument("--repeat", type=int, default=3, help="Offline runs per module")
    ap.add_argument("--skip-server", action="store_true")
    ap.add_argument("--skip-offline", action="store_true")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    mods = [("official", a.official_python, "mlperf_loadgen"), ("yardstick", a.yardstick_python, "yardstick.loadgen")]
    res = {"machine": machine(), "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(a).items()}}
    for name, py, mod in mods:
        res[name] = {}
        if not a.skip_server:
            res[name]["server"] = server_search(py, mod, a, log)
        if not a.skip_offline:
            res[name]["offline"] = offline_runs(py, mod, a, log)
    if a.out:
        a.out.write_text(json.dumps(res, indent=1))

    o, y = res["official"], res["yardstick"]
    print(f"\nmachine: {res['machine']['cpu']} ({res['machine']['cores']} cores), Python {res['machine']['python']}\n")
    print("| metric | official mlperf_loadgen 6.0.17 | yardstick.loadgen | ratio |")
    print("| --- | --- | --- | --- |")
    if not a.skip_server:
        ov, yv = o["server"]["max_valid_qps"], y["server"]["max_valid_qps"]
        print(f"| Server: highest VALID target QPS | {ov:,.0f} | {yv:,.0f} | {yv / ov if ov else float('inf'):.2f}x |")
    if not a.skip_offline:
        ov, yv = o["offline"]["samples_per_s_median"], y["offline"]["samples_per_s_median"]
        print(f"| Offline {a.offline_samples:,} samples: samples/s (median of {a.repeat}) | {ov:,.0f} | "
              f"{yv:,.0f} | {yv / ov:.2f}x |")
        om, ym = o["offline"]["peak_rss_bytes_max"], y["offline"]["peak_rss_bytes_max"]
        print(f"| Offline {a.offline_samples:,} samples: peak RSS | {om / 2**20:,.0f} MiB | {ym / 2**20:,.0f} MiB "
              f"| {ym / om:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""What 10 Hz power sampling costs a run: a null-SUT Server run at a high
target QPS with the power meter on and off (--power off), in one session,
taking turns (alternating which goes first), each run a fresh process.

The meter is the RAPL source over a fake powercap tree in a temporary folder
(this machine may have no readable RAPL): a package zone whose energy_uj a
thread of this script advances 20 times a second (wrapping), so the sampler
reads, parses and integrates real files at --power-hz. The cost it measures is
the sampler's thread and its file reads beside the harness, which is what any
source (NVML, RAPL) adds.

    cargo build --release -p yardstick
    python3 bench/power/overhead.py --yardstick target/release/yardstick --qps 2000000 --duration 10s --pairs 5

With --power SOURCE (e.g. nvml on a GPU machine) the meter is that source
instead of the fake tree.

Reports per side the median completed samples/s, p99 latency and validity;
the bar: throughput with power on >= 99% of off.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def fake_rapl(root: Path, stop: threading.Event) -> threading.Thread:
    zone = root / "intel-rapl:0"
    zone.mkdir(parents=True)
    (zone / "name").write_text("package-0\n")
    max_range = 262_143_328_850
    (zone / "max_energy_range_uj").write_text(f"{max_range}\n")
    (zone / "energy_uj").write_text("0\n")

    def advance():
        uj = max_range - 3_000_000  # wraps within the first second
        while not stop.wait(0.05):
            uj = (uj + 4_000_000) % max_range  # 80 W
            tmp = zone / "energy_uj.tmp"
            tmp.write_text(f"{uj}\n")
            os.replace(tmp, zone / "energy_uj")

    t = threading.Thread(target=advance, daemon=True)
    t.start()
    return t


def run_once(binary, scenario, qps, duration, power, hz, workdir: Path):
    out = workdir / ("on" if power else "off")
    cmd = [binary, "run", "--sut", "null", "--scenario", scenario, "--duration", duration,
           "-o", str(out), "--no-store", "--power", power or "off", "--power-hz", str(hz)]
    # Server: the target rate; Offline: the expected rate, which sizes the
    # one query (the null SUT then runs as fast as the harness goes).
    cmd += ["--target-qps", str(qps)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    text = p.stdout + p.stderr
    m = re.search(r"result\s+:\s+([0-9.]+) samples/s", text)
    p99 = re.search(r"latency p50 / p90 / p99 : [0-9.]+ / [0-9.]+ / ([0-9.]+) ms", text)
    samples = re.search(r"samples completed\s+:\s+(\d+)", text)
    if not (m and samples and p99):
        sys.exit(f"could not parse the run's output:\n{text}")
    r = {"sps": float(m.group(1)), "p99_ms": float(p99.group(1)), "samples": int(samples.group(1)),
         "valid": "validity                : VALID" in text}
    if power:
        rec = json.loads((out / "run.json").read_text())
        pw = rec.get("power") or {}
        if pw.get("error") or not pw.get("samples_in_window"):
            sys.exit(f"power on but not measured: {pw}\n{text}")
        r["power_samples"] = pw["samples_in_window"]
        r["mean_watts"] = pw["mean_watts"]
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--yardstick", default="target/release/yardstick")
    ap.add_argument("--scenario", default="Server", choices=["Server", "Offline"])
    ap.add_argument("--qps", type=int, default=2_000_000)
    ap.add_argument("--duration", default="10s")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--hz", type=float, default=10.0)
    ap.add_argument("--json", type=Path, help="write every run here")
    ap.add_argument("--power", help="the meter (a --power value, e.g. nvml) instead of the fake RAPL tree")
    args = ap.parse_args()
    runs = {"on": [], "off": []}
    stop = threading.Event()
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        tree = work / "powercap"
        fake_rapl(tree, stop)
        power = args.power or f"rapl:{tree}"
        for i in range(args.pairs):
            order = [power, None] if i % 2 == 0 else [None, power]
            for side in order:
                r = run_once(args.yardstick, args.scenario, args.qps, args.duration, side, args.hz, work)
                key = "on" if side else "off"
                runs[key].append(r)
                extra = f", {r['power_samples']} power samples, {r['mean_watts']:.1f} W" if side else ""
                print(f"pair {i + 1} {key:3}: {r['sps']:,.0f} samples/s, p99 {r['p99_ms']:.3f} ms, "
                      f"{r['samples']:,} samples, {'VALID' if r['valid'] else 'INVALID'}{extra}", flush=True)
        stop.set()
    med = {k: {f: statistics.median(x[f] for x in v) for f in ("sps", "p99_ms", "samples")} for k, v in runs.items()}
    ratio = med["on"]["sps"] / med["off"]["sps"]
    print()
    print(f"median samples/s  on {med['on']['sps']:,.0f}  off {med['off']['sps']:,.0f}  ratio on/off {ratio:.4f}")
    print(f"median p99        on {med['on']['p99_ms']:.3f} ms  off {med['off']['p99_ms']:.3f} ms")
    valid = {k: sum(x["valid"] for x in v) for k, v in runs.items()}
    print(f"VALID             on {valid['on']} of {args.pairs}  off {valid['off']} of {args.pairs}")
    print(f"bar: throughput with power on >= 0.99 x off: {'met' if ratio >= 0.99 else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "median": med, "ratio": ratio}, indent=1))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""What recording a run costs: a null-SUT Server run at a high target QPS,
with recording on (run.json, store, system capture, the issue-time timeline)
and off (--no-record), in one session, taking turns, each in a fresh process.

Reports, per side, the median of the completed samples per second and of the
peak RSS, the ratio on/off, and the extra peak memory per query.

    cargo build --release -p yardstick
    python3 bench/record/overhead.py --yardstick target/release/yardstick --qps 2000000 --duration 10s --pairs 5

The issue's bar: throughput on >= 98% of off, extra peak memory <= 8 B/query.
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
from pathlib import Path


def run_once(binary: str, qps: int, duration: str, record: bool, workdir: Path, store: Path):
    out = workdir / ("on" if record else "off")
    cmd = ["/usr/bin/time", "-v", binary, "run", "--sut", "null", "--scenario", "Server",
           "--target-qps", str(qps), "--duration", duration, "-o", str(out)]
    if not record:
        cmd.append("--no-record")
    env = dict(os.environ, YARDSTICK_STORE=str(store))
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    text = p.stdout + p.stderr
    m = re.search(r"result\s+:\s+([0-9.]+) samples/s", text)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([0-9:.]+)", text)
    samples = re.search(r"samples completed\s+:\s+(\d+)", text)
    valid = "validity                : VALID" in text
    if not (m and rss and samples):
        sys.exit(f"could not parse the run's output:\n{text}")
    parts = [float(x) for x in wall.group(1).split(":")] if wall else [0.0]
    seconds = sum(v * 60 ** i for i, v in enumerate(reversed(parts)))
    if record and not (out / "run.json").is_file():
        sys.exit("recording on but no run.json was written")
    return {"sps": float(m.group(1)), "rss_kb": int(rss.group(1)), "samples": int(samples.group(1)),
            "valid": valid, "wall_s": seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--yardstick", default="target/release/yardstick")
    ap.add_argument("--qps", type=int, default=2_000_000)
    ap.add_argument("--duration", default="10s")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--json", type=Path, help="write every run here")
    args = ap.parse_args()
    runs = {"on": [], "off": []}
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        store = work / "store.sqlite"
        for i in range(args.pairs):
            # Alternate which side goes first, so drift hits both alike.
            order = [True, False] if i % 2 == 0 else [False, True]
            for record in order:
                r = run_once(args.yardstick, args.qps, args.duration, record, work, store)
                runs["on" if record else "off"].append(r)
                print(f"pair {i + 1} {'on ' if record else 'off'}: {r['sps']:,.0f} samples/s, "
                      f"peak RSS {r['rss_kb'] / 1024:.1f} MiB, {r['samples']:,} samples, "
                      f"{'VALID' if r['valid'] else 'INVALID'}, wall {r['wall_s']:.2f} s", flush=True)
    med = {k: {f: statistics.median(x[f] for x in v) for f in ("sps", "rss_kb", "samples", "wall_s")}
           for k, v in runs.items()}
    ratio = med["on"]["sps"] / med["off"]["sps"]
    extra_bytes = (med["on"]["rss_kb"] - med["off"]["rss_kb"]) * 1024 / med["on"]["samples"]
    print()
    print(f"median samples/s  on {med['on']['sps']:,.0f}  off {med['off']['sps']:,.0f}  ratio on/off {ratio:.4f}")
    print(f"median peak RSS   on {med['on']['rss_kb'] / 1024:.1f} MiB  off {med['off']['rss_kb'] / 1024:.1f} MiB  "
          f"extra {extra_bytes:.2f} B/query over {med['on']['samples']:,.0f} queries")
    print(f"median wall time  on {med['on']['wall_s']:.2f} s  off {med['off']['wall_s']:.2f} s")
    print(f"bar: throughput >= 0.98 x off: {'met' if ratio >= 0.98 else 'NOT met'}; "
          f"<= 8 B/query: {'met' if extra_bytes <= 8 else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "median": med, "ratio": ratio,
                                         "extra_bytes_per_query": extra_bytes}, indent=1))


if __name__ == "__main__":
    main()

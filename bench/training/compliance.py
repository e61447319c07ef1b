#!/usr/bin/env python3
"""Side-by-side: yardstick's compliance checker against the official one
(mlperf-logging 4.1.68, ruleset 5.1.0) on every log of the MLPerf Training
v5.1 DEV corpus (../shared/training/v5.1, 185 logs), same machine, one run.

Four timings, all over the same decompressed files (decompression is not
timed), each repeated --repeat times (median reported):
  official CLI       one `python -m mlperf_logging.compliance_checker` per log,
                     as the review runs it (verdicts.sh does the same)
  official in-proc   one Python process, a fresh ComplianceChecker per log
  yardstick per log  one process per log (the check_logs example, which is
                     what `yardstick train check-log` runs, without the CLI
                     binary's start-up cost)
  yardstick in-proc  one process for all logs
The verdicts of every variant are compared with expected.json.

Usage:
  cargo build --release -p yardstick-training-rules --example check_logs
  python3 bench/training/compliance.py --python /path/to/venv/bin/python
"""

import argparse
import json
import lzma
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "training" / "v5.1"

IN_PROCESS = r"""
import logging, sys, time
logging.disable(logging.CRITICAL)
from mlperf_logging.compliance_checker import mlp_compliance
files = sys.argv[1:]
out = []
t0 = time.perf_counter()
for f in files:
    mlp_compliance.enqueued_configs.clear()
    checker = mlp_compliance.make_checker('training', '5.1.0', False, False)
    try:
        ok = checker.check_file(f, 'training_5.1.0/common.yaml')
        out.append('pass' if ok else 'fail')
    except Exception:
        out.append('crash')
elapsed = time.perf_counter() - t0
print('\n'.join(out))
print(f'{elapsed:.6f}', file=sys.stderr)
"""


def timed(fn, repeat):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True, help="a Python with mlperf-logging==4.1.68")
    ap.add_argument("--binary", default=str(REPO / "target/release/examples/check_logs"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-official-cli", action="store_true")
    args = ap.parse_args()

    expected = json.loads((CORPUS / "expected.json").read_text())
    names = sorted(expected["files"])
    want = [expected["files"][n]["verdict"] for n in names]
    env = dict(os.environ, PYTHONHASHSEED="0")

    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, name in enumerate(names):
            out = Path(tmp) / f"{i:03d}_{Path(name).name[:-3]}"
            out.write_bytes(lzma.decompress((CORPUS / name).read_bytes()))
            files.append(str(out))
        total_mb = sum(os.path.getsize(f) for f in files) / 1e6
        rows = []

        def official_cli():
            verdicts = []
            for f in files:
                r = subprocess.run(
                    [args.python, "-m", "mlperf_logging.compliance_checker", "--usage", "training",
                     "--ruleset", "5.1.0", "--log_output", os.path.join(tmp, "cc.log"), f],
                    cwd=tmp, env=env, capture_output=True, text=True)
                if r.returncode == 0:
                    verdicts.append("pass")
                elif "Traceback" in r.stderr:
                    verdicts.append("crash")
                else:
                    verdicts.append("fail")
            return verdicts

        def official_in_process():
            r = subprocess.run([args.python, "-c", IN_PROCESS, *files], env=env,
                               capture_output=True, text=True, check=True)
            return r.stdout.split()

        def ours_per_log():
            verdicts = []
            for f in files:
                r = subprocess.run([args.binary, "5.1.0", f], capture_output=True, text=True)
                verdicts.append(r.stdout.split("\t")[0])
            return verdicts

        def ours_in_process():
            r = subprocess.run([args.binary, "5.1.0", *files], capture_output=True, text=True)
            return [line.split("\t")[0] for line in r.stdout.splitlines()]

        variants = [("yardstick, one process per log", ours_per_log),
                    ("yardstick, one process", ours_in_process),
                    ("official, one process", official_in_process)]
        if not args.skip_official_cli:
            variants.append(("official CLI, one process per log", official_cli))
        for label, fn in variants:
            seconds, verdicts = timed(fn, args.repeat)
            agree = sum(a == b for a, b in zip(verdicts, want))
            rows.append((label, seconds, agree))
            print(f"{label:38s} {seconds:8.3f} s   verdicts equal to expected.json: {agree}/{len(want)}",
                  flush=True)

    by = {label: s for label, s, _ in rows}
    print(f"\n{len(files)} logs, {total_mb:.1f} MB, median of {args.repeat}")
    print("| variant | seconds | verdicts as official |")
    print("|---|---|---|")
    for label, s, agree in rows:
        print(f"| {label} | {s:.3f} | {agree}/{len(want)} |")
    if "official CLI, one process per log" in by:
        print(f"\nofficial CLI / yardstick per log: {by['official CLI, one process per log'] / by['yardstick, one process per log']:.0f}x")
    print(f"official in-process / yardstick in-process: {by['official, one process'] / by['yardstick, one process']:.0f}x")
    if any(agree != len(want) for _, _, agree in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()

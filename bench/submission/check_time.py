#!/usr/bin/env python3
"""`yardstick check` beside the official submission checker on one tree of
~100 results (make_tree.py), wall-clock per process, median of --repeat.

    cargo build --release -p yardstick-submission --example check_tree
    git clone --depth 1 --branch v5.1 https://github.com/mlcommons/inference /tmp/check/inference
    python3 bench/submission/check_time.py \
        --checker /tmp/check/inference/tools/submission/submission_checker.py [--yardstick target/release/yardstick]

Both must pass the tree (the results of both are printed); the official
checker runs with the Python this script runs with.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def timed(cmd):
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    return time.perf_counter() - start, proc


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--checker", required=True)
    parser.add_argument("--example", default=os.path.join(ROOT, "target", "release", "examples", "check_tree"))
    parser.add_argument("--yardstick", help="the yardstick binary, timed as `yardstick check DIR` too")
    parser.add_argument("--systems", type=int, default=34)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        tree = os.path.join(scratch, "tree")
        subprocess.run([sys.executable, os.path.join(HERE, "make_tree.py"), tree, "--systems", str(args.systems)], check=True)
        variants = [("yardstick (check_tree example, release)", [args.example, tree, "v5.1"])]
        if args.yardstick:
            variants.append(("yardstick check (binary)", [args.yardstick, "check", tree, "--round", "v5.1", "--csv", os.path.join(scratch, "ys.csv")]))
        variants.append(("official submission_checker.py v5.1", [sys.executable, args.checker, "--input", tree, "--version", "v5.1", "--csv", os.path.join(scratch, "official.csv")]))
        for name, cmd in variants:
            times = []
            for _ in range(args.repeat):
                seconds, proc = timed(cmd)
                if proc.returncode != 0:
                    sys.exit(f"{name} failed ({proc.returncode}): {proc.stdout[-500:]} {proc.stderr[-500:]}")
                times.append(seconds)
            print(f"{name}: median {statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f}) over {args.repeat}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Side-by-side: the whole MLPerf Training v5.1 DEV corpus (../shared/training/v5.1:
3 submitters, 11 systems, 19 sets, 185 logs) checked by yardstick and by the
official tools (mlperf-logging 4.1.68, ruleset 5.1.0), same machine, one run.

What each side does per submitter folder, on the same decompressed copy
(decompression is not timed):
  official   python -m mlperf_logging.package_checker  <S> training 5.1.0
             (system descriptions, compliance of every log, seeds, RCPs)
             python -m mlperf_logging.result_summarizer <S> training 5.1.0 --csv ...
             (compliance of every log again, RCPs again, the scores)
  yardstick  yardstick train check <S> --format csv
             (all of the above in one process)
Also timed: yardstick on the published `.txt.xz` files as they are (it
decompresses them itself).

Each side's verdicts are compared: package verdict per submitter, and the
summarizer's time_to_train / RCP column per set (from the official CSV vs
yardstick's CSV). Timings: median of --repeat rounds, sides interleaved.

Usage:
  cargo build --release -p yardstick
  python3 bench/training/package.py --python /path/to/venv-with-mlperf-logging/bin/python
"""

import argparse
import csv
import io
import lzma
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "training" / "v5.1"
SUBMITTERS = ["AMD", "ASUSTeK", "Cisco"]


def decompressed_copy(dst: Path) -> None:
    for s in SUBMITTERS:
        shutil.copytree(CORPUS / s, dst / s)
    for xz in dst.rglob("*.txt.xz"):
        xz.with_suffix("").write_bytes(lzma.decompress(xz.read_bytes()))
        xz.unlink()


def restore_scaling(tree: Path) -> None:
    """The official RCP pass rewrites scaling.json: put the published ones back."""
    for s in SUBMITTERS:
        for f in (tree / s).rglob("scaling.json"):
            f.unlink()
        for f in (CORPUS / s).rglob("scaling.json"):
            shutil.copy(f, tree / f.relative_to(CORPUS))


def run(cmd, cwd, env=None):
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    return time.perf_counter() - t, p


def official(py, tree: Path, out: Path):
    env = dict(os.environ, PYTHONHASHSEED="0")
    total, verdicts, rows = 0.0, {}, {}
    for s in SUBMITTERS:
        restore_scaling(tree)
        dt, p = run([py, "-m", "mlperf_logging.package_checker", s, "training", "5.1.0",
                     "--log_output", str(out / f"pc_{s}.log")], tree, env)
        total += dt
        text = p.stdout + p.stderr
        verdicts[s] = "pass" if "PACKAGE CHECKER FOUND NO ERRORS" in text else "fail"
        restore_scaling(tree)
        csv_path = out / f"summary_{s}.csv"
        # The summarizer appends its detailed table: start from no file.
        for old in out.glob(f"summary_{s}*"):
            old.unlink()
        dt, p = run([py, "-m", "mlperf_logging.result_summarizer", s, "training", "5.1.0",
                     "--csv", str(csv_path)], tree, env)
        total += dt
        rows[s] = list(csv.DictReader(open(out / f"summary_{s}_detailed.csv")))
    restore_scaling(tree)
    return total, verdicts, rows


def yardstick(binary, tree: Path):
    total, verdicts, rows = 0.0, {}, {}
    for s in SUBMITTERS:
        dt, p = run([binary, "train", "check", s, "--format", "csv"], tree)
        total += dt
        if p.returncode not in (0, 1):
            sys.exit(f"yardstick failed on {s}: {p.stderr}")
        verdicts[s] = "pass" if p.returncode == 0 else "fail"
        rows[s] = list(csv.DictReader(io.StringIO(p.stdout)))
    return total, verdicts, rows


def scores(rows):
    """(submitter, system, benchmark) -> (time_to_train, RCP) for every set with a score."""
    out = {}
    for s, rs in rows.items():
        for r in rs:
            for col, v in r.items():
                if col.endswith(":time_to_train") and v not in ("", None):
                    b = col.split(":")[0]
                    # details_url names the system's folder (system names repeat).
                    out[(s, r["details_url"], b)] = (float(v), r[f"{b}:RCP"])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True, help="a Python with mlperf-logging==4.1.68")
    ap.add_argument("--yardstick", default=str(REPO / "target" / "release" / "yardstick"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tree, out = tmp / "tree", tmp / "out"
        out.mkdir()
        decompressed_copy(tree)
        t_off, t_ys, t_xz = [], [], []
        for _ in range(args.repeat):
            dt, off_v, off_rows = official(args.python, tree, out)
            t_off.append(dt)
            dt, ys_v, ys_rows = yardstick(args.yardstick, tree)
            t_ys.append(dt)
            dt, xz_v, _ = yardstick(args.yardstick, CORPUS)
            t_xz.append(dt)
        same_verdicts = off_v == ys_v == xz_v
        off_s, ys_s = scores(off_rows), scores(ys_rows)
        same_scores = off_s.keys() == ys_s.keys() and all(
            off_s[k][1] == ys_s[k][1] and abs(off_s[k][0] - ys_s[k][0]) <= 1e-9 * off_s[k][0]
            for k in off_s)
        m_off, m_ys, m_xz = (statistics.median(t) for t in (t_off, t_ys, t_xz))
        print(f"sets scored: official {len(off_s)}, yardstick {len(ys_s)}")
        print(f"package verdicts: official {off_v}, yardstick {ys_v} (.xz: {xz_v}) -> {'same' if same_verdicts else 'DIFFERENT'}")
        print(f"scores and RCP column: {'same' if same_scores else 'DIFFERENT'}")
        print(f"official (package_checker + result_summarizer, 3 submitters): {m_off:.2f} s  runs {[round(t, 2) for t in t_off]}")
        print(f"yardstick train check (decompressed files):                  {m_ys:.3f} s  runs {[round(t, 3) for t in t_ys]}")
        print(f"yardstick train check (published .txt.xz):                    {m_xz:.3f} s  runs {[round(t, 3) for t in t_xz]}")
        print(f"ratio: {m_off / m_ys:.1f}x (decompressed), {m_off / m_xz:.1f}x (.txt.xz)")
        if not (same_verdicts and same_scores):
            sys.exit(1)


if __name__ == "__main__":
    main()

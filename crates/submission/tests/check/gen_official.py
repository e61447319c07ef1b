#!/usr/bin/env python3
"""Records what the official MLPerf Inference submission checker says of the
valid tree and of each broken copy in cases.json (official_v5.1.json).

The checker is never part of this repository. Fetch it and point at it:

    git clone --depth 1 --branch v5.1 https://github.com/mlcommons/inference /tmp/check/inference
    python3 crates/submission/tests/check/gen_official.py \
        --checker /tmp/check/inference/tools/submission/submission_checker.py

It runs `submission_checker.py --input <tree> --version v5.1 --csv <csv>` on
each tree (built in a temporary folder) and keeps its exit status, the
results it lists as NoResults, its ERROR lines (timestamps and source lines
dropped) and, for the valid tree, its summary CSV.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def expand(text, variables):
    for name, value in variables.items():
        text = text.replace("{" + name + "}", value)
    return text


def apply(tree, op, variables):
    """One mutation; the same operations tests/check_agreement.rs applies."""
    kind = op["op"]
    if kind == "replace":
        path = os.path.join(tree, expand(op["file"], variables))
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
        if op["old"] not in text:
            sys.exit(f"{op['file']}: {op['old']!r} not found")
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text.replace(op["old"], op["new"], 1))
    elif kind == "append":
        with open(os.path.join(tree, expand(op["file"], variables)), "a", encoding="utf-8", newline="") as f:
            f.write(op["text"])
    elif kind == "pad":
        path = os.path.join(tree, expand(op["file"], variables))
        size = os.path.getsize(path)
        with open(path, "a", encoding="utf-8", newline="") as f:
            f.write(" " * max(0, op["bytes"] - size))
    elif kind == "delete":
        path = os.path.join(tree, expand(op["path"], variables))
        if os.path.isdir(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    elif kind == "mkdir":
        os.makedirs(os.path.join(tree, expand(op["path"], variables)))
    else:
        sys.exit(f"unknown op {kind}")


LINE = re.compile(r"^\[[^\]]* (ERROR|WARNING|INFO)\] (.*)$")


def run_checker(checker, tree, version):
    csv_path = os.path.join(tree, "..", "summary.csv")
    proc = subprocess.run(
        [sys.executable, checker, "--input", tree, "--version", version, "--csv", csv_path],
        capture_output=True, text=True, timeout=600,
    )
    errors, no_results = [], []
    for line in (proc.stdout + proc.stderr).splitlines():
        m = LINE.match(line)
        if not m or m.group(1) != "ERROR":
            continue
        message = m.group(2).replace(tree, "<tree>")
        if message.startswith("NoResults "):
            no_results.append(message[len("NoResults "):])
        elif not message.startswith("SUMMARY:"):
            errors.append(message)
    crashed = proc.returncode not in (0, 1)
    summary = open(csv_path, encoding="utf-8").read() if os.path.exists(csv_path) else ""
    return {
        "rc": proc.returncode,
        "crashed": crashed,
        "no_results": sorted(no_results),
        "errors": errors,
        "traceback_tail": proc.stderr.strip().splitlines()[-1] if crashed and proc.stderr.strip() else None,
    }, summary


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--checker", required=True, help="path to the official submission_checker.py (v5.1 tag)")
    parser.add_argument("--version", default="v5.1")
    parser.add_argument("--out", default=os.path.join(HERE, "official_v5.1.json"))
    args = parser.parse_args()
    checker = os.path.abspath(args.checker)
    with open(os.path.join(HERE, "cases.json"), encoding="utf-8") as f:
        cases = json.load(f)
    record = {
        "about": "What the official checker said of each tree; regenerate with gen_official.py (see its docstring).",
        "checker": "mlcommons/inference " + args.version + " tools/submission/submission_checker.py",
        "checker_sha256": hashlib.sha256(open(checker, "rb").read()).hexdigest(),
        "version": args.version,
        "cases": {},
    }
    with tempfile.TemporaryDirectory() as scratch:
        for case in [{"id": "valid", "ops": []}] + cases["cases"]:
            work = os.path.join(scratch, case["id"])
            tree = os.path.join(work, "tree")
            shutil.copytree(os.path.join(HERE, "valid"), tree)
            for op in case["ops"]:
                apply(tree, op, cases["vars"])
            verdict, summary = run_checker(checker, tree, args.version)
            if case["id"] == "valid":
                record["valid_summary_csv"] = summary
            said = case.get("official_says")
            if said and not any(said in e for e in verdict["errors"]):
                print(f"warning: {case['id']}: the official checker did not say {said!r}", file=sys.stderr)
            record["cases"][case["id"]] = verdict
            print(f"{case['id']}: rc={verdict['rc']} no_results={len(verdict['no_results'])}")
            shutil.rmtree(work)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1, sort_keys=False)
        f.write("\n")


if __name__ == "__main__":
    main()

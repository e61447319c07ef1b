#!/usr/bin/env python3
"""Records what the official MLPerf Inference submission checker says of the
valid tree and of each broken copy in cases.json (official_v5.1.json,
official_v6.0.json).

The checker is never part of this repository. Fetch it and point at it:

    git clone --depth 1 --branch v5.1 https://github.com/mlcommons/inference /tmp/check/inference
    python3 crates/submission/tests/check/gen_official.py \
        --checker /tmp/check/inference/tools/submission/submission_checker.py

v6.0 (official_v6.0.json): the checker is the `submission_checker` package
of mlcommons/inference main (b66003e1 was used; the repository has no v6.0
tag yet, only v6.0.0pre, which predates the package); each tree, after its
case's operations, is moved into the v6.0 layout with the v6.0 seeds, as
tests/check_agreement.rs's as_v6_tree does:

    git clone https://github.com/mlcommons/inference /tmp/check/inference6
    python3 crates/submission/tests/check/gen_official.py --version v6.0 \
        --checker /tmp/check/inference6/tools/submission/submission_checker

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


V5_1_TO_V6_0_SEEDS = [
    ("1780908523862526354", "2465351861681999779"),
    ("14771362308971278857", "14276810075590677512"),
    ("18209322760996052031", "3936089224930324775"),
]


def as_v6_tree(tree):
    """The v5.1 tree in the v6.0 layout: measurements (the JSON as
    measurements.json) and TESTxx beside the logs, src/ for code/, the
    v6.0 seeds in every detail log. What a case deleted stays deleted."""
    org = os.path.join(tree, "closed", "Lenovo")
    system = "SE100_RTX2000E_Ada_16GBx1_TRT"
    for scenario in ["SingleStream", "MultiStream", "Offline"]:
        result = os.path.join(org, "results", system, "resnet50", scenario)
        for top in ["measurements", "compliance"]:
            src = os.path.join(org, top, system, "resnet50", scenario)
            if not os.path.isdir(src) or not os.path.isdir(result):
                continue
            for name in sorted(os.listdir(src)):
                target = name
                if top == "measurements" and name.endswith(".json"):
                    target = "measurements.json"
                shutil.move(os.path.join(src, name), os.path.join(result, target))
    for top in ["measurements", "compliance"]:
        if os.path.isdir(os.path.join(org, top)):
            shutil.rmtree(os.path.join(org, top))
    if os.path.isdir(os.path.join(org, "code")):
        shutil.move(os.path.join(org, "code"), os.path.join(org, "src"))
    for folder, _, files in os.walk(org):
        for name in files:
            if name == "mlperf_log_detail.txt":
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8", newline="") as f:
                    text = f.read()
                for old, new in V5_1_TO_V6_0_SEEDS:
                    text = text.replace(old, new)
                with open(path, "w", encoding="utf-8", newline="") as f:
                    f.write(text)


def checker_command(checker, tree, version, csv_path):
    """v5.1: the script; v6.0: the package, run as a module from its parent."""
    if os.path.isdir(checker):
        return [sys.executable, "-m", os.path.basename(checker) + ".main", "--input", tree,
                "--version", version, "--csv", csv_path], os.path.dirname(checker)
    return [sys.executable, checker, "--input", tree, "--version", version, "--csv", csv_path], None


def checker_sha256(checker):
    """The script's sha256, or the package's: every .py file, by path."""
    digest = hashlib.sha256()
    if not os.path.isdir(checker):
        digest.update(open(checker, "rb").read())
        return digest.hexdigest()
    for folder, _, files in sorted(os.walk(checker)):
        for name in sorted(files):
            if name.endswith((".py", ".json")):
                path = os.path.join(folder, name)
                digest.update(os.path.relpath(path, checker).encode() + b"\0")
                digest.update(open(path, "rb").read())
    return digest.hexdigest()


LINE = re.compile(r"^\[[^\]]* (ERROR|WARNING|INFO)\] (.*)$")


def run_checker(checker, tree, version):
    csv_path = os.path.join(tree, "..", "summary.csv")
    command, cwd = checker_command(checker, tree, version, csv_path)
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=cwd)
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
    parser.add_argument("--checker", required=True,
                        help="the official submission_checker.py (v5.1 tag) or submission_checker package (v6.0)")
    parser.add_argument("--version", default="v5.1")
    parser.add_argument("--out", help="default: official_<version>.json here")
    args = parser.parse_args()
    checker = os.path.abspath(args.checker)
    out = args.out or os.path.join(HERE, f"official_{args.version}.json")
    with open(os.path.join(HERE, "cases.json"), encoding="utf-8") as f:
        cases = json.load(f)
    record = {
        "about": "What the official checker said of each tree; regenerate with gen_official.py (see its docstring).",
        "checker": "mlcommons/inference tools/submission/" + os.path.basename(checker)
        + (" (v5.1 tag)" if args.version == "v5.1" else " (main b66003e1)"),
        "checker_sha256": checker_sha256(checker),
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
            if args.version == "v6.0":
                as_v6_tree(tree)
            verdict, summary = run_checker(checker, tree, args.version)
            if case["id"] == "valid":
                record["valid_summary_csv"] = summary.replace(tree, "<tree>")
            said = case.get("official_says")
            if said and not any(said in e for e in verdict["errors"]):
                print(f"warning: {case['id']}: the official checker did not say {said!r}", file=sys.stderr)
            record["cases"][case["id"]] = verdict
            print(f"{case['id']}: rc={verdict['rc']} no_results={len(verdict['no_results'])}")
            shutil.rmtree(work)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1, sort_keys=False)
        f.write("\n")


if __name__ == "__main__":
    main()

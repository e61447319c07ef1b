#!/usr/bin/env python3
"""Differential check of `yardstick audit` against the official compliance
scripts of mlcommons/inference (compliance/TEST01, TEST04, TEST06).

Nothing of the official code is kept here: give a checkout of
mlcommons/inference (its compliance/ and tools/submission/log_parser.py are
run as they are) and a Python with numpy.

For every case, yardstick audits a SUT (or re-verifies a copy of a run's
logs altered to hit one rule), then the official run_verification.py of the
test runs over the very same logs and folders, and the two verdict folders
are compared: the verify files byte for byte (the log parser's time stamps
aside; a Python traceback is compared by its last line, as yardstick
abridges tracebacks) and the list of copied files.

    python3 tests/compliance/compare_official.py \
        --inference /path/to/mlcommons/inference \
        --yardstick target/debug/yardstick --python .venv-ref/bin/python \
        --work /tmp/audit/diff

Exit status 0 when every case agrees.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

OFFLINE = ["run", "--sut", "sleep", "--service-time", "5ms", "--workers", "16",
           "--scenario", "Offline", "--min-query-count", "3200", "--duration", "0s",
           "--total-samples", "1024", "--performance-samples", "1024", "--no-record"]
SINGLE_STREAM = ["run", "--sut", "sleep", "--service-time", "1ms", "--scenario",
                 "SingleStream", "--min-query-count", "300", "--duration", "0s",
                 "--total-samples", "1024", "--performance-samples", "1024", "--no-record"]
NULL_TOKENS = ["run", "--sut", "null", "--tokens", "--token-latencies", "--scenario",
               "Server", "--target-qps", "1000", "--total-samples", "1024",
               "--performance-samples", "1024", "--no-record"]

# (name, test, yardstick flags, command after --)
RUN_CASES = [
    ("test01_pass", "TEST01", [], OFFLINE),
    ("test01_wrong_repeat", "TEST01", [], OFFLINE + ["--fault", "wrong-repeat"]),
    ("test01_int32", "TEST01", ["--dtype", "int32"], OFFLINE + ["--fault", "wrong-repeat"]),
    ("test04_pass", "TEST04", [], SINGLE_STREAM),
    ("test04_cache", "TEST04", [], SINGLE_STREAM + ["--fault", "cache"]),
    ("test06_null_tokens", "TEST06", ["--dtype", "int32"], NULL_TOKENS),
]


def sub(path, old, new):
    with open(path) as f:
        text = f.read()
    if old not in text:
        raise SystemExit(f"{path}: `{old}` not found")
    with open(path, "w") as f:
        f.write(text.replace(old, new, 1))


# (name, test, source case, what to alter in the compliance run's logs)
ALTERED_CASES = [
    ("test01_invalid", "TEST01", "test01_pass",
     lambda c: sub(os.path.join(c, "mlperf_log_detail.txt"),
                   '"key": "result_validity", "value": "VALID"',
                   '"key": "result_validity", "value": "INVALID"')),
    ("test01_error_logged", "TEST01", "test01_pass",
     lambda c: sub(os.path.join(c, "mlperf_log_detail.txt"),
                   '"key": "num_errors", "value": 0', '"key": "num_errors", "value": 1')),
    ("test04_invalid", "TEST04", "test04_pass",
     lambda c: sub(os.path.join(c, "mlperf_log_summary.txt"),
                   "Result is : VALID", "Result is : INVALID")),
    ("test04_error_lines", "TEST04", "test04_pass",
     lambda c: open(os.path.join(c, "mlperf_log_summary.txt"), "a").write(
         "\n2 ERRORS encountered. See detailed log.\n")),
    ("test04_scenario", "TEST04", "test04_pass",
     lambda c: sub(os.path.join(c, "mlperf_log_summary.txt"),
                   "Scenario : SingleStream", "Scenario : Offline")),
]

STAMP = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")


def normalise(text):
    lines = [STAMP.sub("[TIME ", l) for l in text.splitlines()]
    if "Traceback (most recent call last):" in lines:
        # Keep what precedes the traceback and its last line (the exception).
        i = lines.index("Traceback (most recent call last):")
        lines = lines[:i] + ["Traceback ...", lines[-1]]
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def tree(root):
    found = []
    for d, _, files in os.walk(root):
        for f in files:
            found.append(os.path.relpath(os.path.join(d, f), root))
    return sorted(found)


def official(args, test, case_dir, results, compliance, dtype, scenario):
    cwd = os.path.join(case_dir, "official")
    shutil.rmtree(cwd, ignore_errors=True)
    os.makedirs(cwd)
    script = os.path.join(args.inference, "compliance", test, "run_verification.py")
    cmd = [args.python, script, "-c", compliance, "-o", os.path.join(cwd, "out")]
    if test != "TEST06":
        cmd += ["-r", results]
    if test == "TEST01" and dtype:
        cmd += ["--dtype", dtype]
    if test == "TEST06":
        cmd += ["-s", scenario, "--dtype", dtype or "int32"]
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED", None)  # as a submitter runs it: stdout buffered
    subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return os.path.join(cwd, "out", test)


def compare(name, ours, theirs):
    problems = []
    if tree(ours) != tree(theirs):
        problems.append(f"files: yardstick {tree(ours)} vs official {tree(theirs)}")
    for f in tree(theirs):
        if not f.endswith(".txt"):
            continue
        with open(os.path.join(theirs, f)) as t:
            want = normalise(t.read())
        try:
            with open(os.path.join(ours, f)) as o:
                got = normalise(o.read())
        except FileNotFoundError:
            continue
        if got != want:
            problems.append(f"{f} differs:\n--- official\n{want}--- yardstick\n{got}")
    verdicts = []
    for f in ("verify_accuracy.txt", "verify_performance.txt"):
        p = os.path.join(theirs, f)
        if os.path.exists(p):
            text = open(p).read()
            ok = "TEST PASS" in text or "verification complete" in text
            verdicts.append(f"{f[7:-4]} {'PASS' if ok else 'FAIL'}")
    status = "agree" if not problems else "DIFFER"
    print(f"{name:22} {status:6} official: {', '.join(verdicts) or 'no verify file'}")
    for p in problems:
        print("    " + p.replace("\n", "\n    "))
    return not problems


def scenario_of(compliance):
    with open(os.path.join(compliance, "mlperf_log_detail.txt")) as f:
        m = re.search(r'"key": "effective_scenario", "value": "(\w+)"', f.read())
    return m.group(1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--inference", required=True)
    p.add_argument("--yardstick", required=True)
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--work", required=True)
    args = p.parse_args()
    args.yardstick = os.path.abspath(args.yardstick)
    if os.sep in args.python:
        args.python = os.path.abspath(args.python)
    work = os.path.abspath(args.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    env = dict(os.environ, YARDSTICK_STORE=os.path.join(work, "store.sqlite"))
    # The mock server's token stream, read as int32 token ids: its text
    # answers are not whole int32 tokens, and both give no verify file.
    mock = subprocess.Popen([args.yardstick, "mock-server", "--listen", "127.0.0.1:0",
                             "--serve-for", "120s", "--mode", "simulated", "--ttft", "1ms",
                             "--tpot", "1ms"], stdout=subprocess.PIPE, text=True)
    url = mock.stdout.readline().split()[-1]
    endpoint = ["endpoint", "--url", url, "--load", "scenario", "--scenario", "Server",
                "--target-qps", "200", "--token-latencies", "--synthetic", "64",
                "--input-tokens", "8", "--output-tokens", "8", "--server-metrics", "off",
                "--no-record"]
    cases = RUN_CASES + [("test06_endpoint_int32", "TEST06", ["--dtype", "int32"], endpoint)]
    all_agree = True
    for name, test, flags, command in cases:
        case = os.path.join(work, name)
        subprocess.run([args.yardstick, "audit", test, "-o", case, *flags, "--", *command],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        compliance = os.path.join(case, "audit", test)
        dtype = flags[1] if flags[:1] == ["--dtype"] else None
        theirs = official(args, test, case, os.path.join(case, "results"), compliance,
                          dtype, scenario_of(compliance))
        all_agree &= compare(name, os.path.join(case, "compliance", test), theirs)
    mock.kill()
    mock.wait()
    for name, test, source, alter in ALTERED_CASES:
        case = os.path.join(work, name)
        src = os.path.join(work, source)
        results = os.path.join(src, "results")
        compliance = os.path.join(case, "compliance_run")
        shutil.copytree(os.path.join(src, "audit", test), compliance)
        alter(compliance)
        subprocess.run([args.yardstick, "audit", test, "-o", case, "--results", results,
                        "--compliance-dir", compliance],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        theirs = official(args, test, case, results, compliance, None, scenario_of(compliance))
        all_agree &= compare(name, os.path.join(case, "compliance", test), theirs)
    return 0 if all_agree else 1


if __name__ == "__main__":
    sys.exit(main())

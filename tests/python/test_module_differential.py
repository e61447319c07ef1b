"""Differential tests: the same harness file (gen.py, the golden-reference
harness) run by the official module and by yardstick.loadgen, in separate
processes, must load the same samples, issue the same queries (and in Server
the same schedule), log the same accuracy entries and the same effective
settings. Uses the case generator and comparison of tests/differential.

  YARDSTICK_PY_DIFF_RANDOM   random cases besides the hand-written ones (default 16)
  YARDSTICK_DIFF_SEED        their seed
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "differential"))
import differential as D  # noqa: E402

RANDOM = int(os.environ.get("YARDSTICK_PY_DIFF_RANDOM", "16"))
SEED = int(os.environ.get("YARDSTICK_DIFF_SEED", D.DEFAULT_SEED))


def run_yardstick_module(case_path: Path, outdir: Path, name: str, shim: bool = False) -> D.RunResult:
    env = dict(os.environ)
    if shim:  # `import mlperf_loadgen` inside gen.py resolves to yardstick
        env.pop("LOADGEN_MODULE", None)
        cmd = [sys.executable, "-m", "yardstick.mlperf_loadgen", str(D.GEN_PY), str(case_path), str(outdir)]
    else:
        env["LOADGEN_MODULE"] = "yardstick.loadgen"
        cmd = [sys.executable, str(D.GEN_PY), str(case_path), str(outdir)]
    return D._run(cmd, outdir / name, env)


def check_case(case: dict, ref_python: str, shim: bool = False) -> str | None:
    """None if equal, else what differs."""
    name = case["name"]
    tmp = Path(tempfile.mkdtemp(prefix="ypydiff-"))
    try:
        case_path = tmp / "case.json"
        case_path.write_text(json.dumps(case, indent=1))
        ra = D.run_official(case_path, tmp / "official", ref_python, name)
        if ra.rc != 0:
            return f"the official module failed (rc {ra.rc}):\n{ra.out}"
        rb = run_yardstick_module(case_path, tmp / "yardstick", name, shim)
        expect = case.get("expect_yardstick_error")
        if expect:  # yardstick refuses on purpose what LoadGen would misread
            if rb.rc == 0 or expect.lower() not in rb.out.lower():
                return f"expected an error containing {expect!r}, got rc {rb.rc}:\n{rb.out}"
            return None
        if rb.rc != 0:
            return f"yardstick.loadgen failed (rc {rb.rc}):\n{rb.out}"
        diffs = D.compare_outputs(case, ra.dir, rb.dir)
        if shim:
            ver = D.detail_values(rb.dir / "mlperf_log_detail.txt", ("loadgen_version",))
            if "yardstick" not in str(ver):
                diffs.append(f"the shim did not load yardstick: loadgen_version={ver}")
        return "\n".join(diffs) or None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_all(cases: list[dict], ref_python: str) -> list[str]:
    with ThreadPoolExecutor(2) as ex:
        results = list(ex.map(lambda c: (c["name"], check_case(c, ref_python)), cases))
    return [f"{n}: {msg}" for n, msg in results if msg]


def test_hand_written_cases(ref_python):
    cases = [D.load_case_file(p) for p in sorted(D.CASES_DIR.glob("*.json"))]
    assert cases
    failures = run_all(cases, ref_python)
    assert not failures, "\n\n".join(failures)


@pytest.mark.skipif(RANDOM <= 0, reason="YARDSTICK_PY_DIFF_RANDOM=0")
def test_random_cases(ref_python):
    cases = D.finalize_cases(D.random_cases(SEED, RANDOM), ref_python)
    failures = run_all(cases, ref_python)
    assert not failures, "\n\n".join(failures)


def test_mlperf_loadgen_shim(ref_python):
    """`python -m yardstick.mlperf_loadgen gen.py ...`: the unchanged harness gets
    yardstick when it imports mlperf_loadgen."""
    case = D.load_case_file(D.CASES_DIR / "server-equal-issue.json")
    assert check_case(case, ref_python, shim=True) is None


def test_shim_on_pythonpath(tmp_path):
    shim = subprocess.run([sys.executable, "-m", "yardstick.mlperf_loadgen", "--pythonpath"],
                          capture_output=True, text=True, check=True).stdout.strip()
    env = dict(os.environ, PYTHONPATH=shim)
    r = subprocess.run([sys.executable, "-c", "import mlperf_loadgen, yardstick.loadgen as y; "
                        "assert mlperf_loadgen is y; print(mlperf_loadgen.__name__)"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "yardstick.loadgen"

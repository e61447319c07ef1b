"""A harness in the style of the MLPerf reference implementations (numpy QSL,
worker thread pool, array.array responses), run unchanged under the official
module and under yardstick (through the `python -m yardstick.mlperf_loadgen`
shim): same samples loaded, same predictions in the accuracy log."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import official_env

HARNESS = Path(__file__).resolve().parent / "harnesses" / "reference_style.py"


def run(python, args, tmp_path, name, yardstick):
    out = tmp_path / name
    cmd = [python]
    if yardstick:
        cmd += ["-m", "yardstick.mlperf_loadgen"]
    cmd += [str(HARNESS), "--outdir", str(out), "--data-dir", str(tmp_path / "data")] + args
    env = dict(os.environ)
    env.pop("LOADGEN_MODULE", None)
    if not yardstick:  # the official side: as ref_official was proven, without the shim's PYTHONPATH
        env = official_env()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads((out / "result.json").read_text())


@pytest.mark.parametrize("scenario", ["Offline", "Server", "SingleStream", "MultiStream"])
def test_reference_harness_on_yardstick(tmp_path, scenario):
    res = run(sys.executable, ["--scenario", scenario, "--mode", "SubmissionRun"], tmp_path, "y", True)
    assert res["module"] == "yardstick.loadgen"
    # MultiStream rounds the accuracy set up to whole queries of 8 samples
    assert res["accuracy_entries"] == (208 if scenario == "MultiStream" else 200) and res["top1"] > 0.9
    assert res["valid"]


@pytest.mark.parametrize("scenario", ["Offline", "Server"])
def test_reference_harness_same_as_official(tmp_path, ref_official, scenario):
    args = ["--scenario", scenario, "--mode", "AccuracyOnly"]
    a = run(ref_official.python, args, tmp_path, "official", False)
    b = run(sys.executable, args, tmp_path, "yardstick", True)
    assert a["module"] == "mlperf_loadgen" and b["module"] == "yardstick.loadgen"
    assert a["file"] == ref_official.file, "the official side did not run the proven official wheel"
    assert a["loaded_sets"] == b["loaded_sets"]
    assert a["accuracy_entries"] == b["accuracy_entries"] == 200
    assert a["predictions"] == b["predictions"]
    assert a["top1"] == b["top1"]

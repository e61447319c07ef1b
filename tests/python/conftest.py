"""Shared fixtures of the yardstick.loadgen tests.

Run:  .ci/setup-python-module.sh && .venv-py/bin/python -m pytest tests/python

Tests that compare with the official module need `mlperf_loadgen` (the PyPI wheel
mlcommons-loadgen==6.0.17) in the same interpreter or in $YARDSTICK_REF_PYTHON /
.venv-ref; they are skipped when it is missing.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

import yardstick.loadgen as lg  # noqa: E402


@pytest.fixture(autouse=True)
def _default_stall_timeout():
    """Tests that shorten the stall timeout do not leak it."""
    yield
    lg.set_stall_timeout(60)


def _can_import(python: str, module: str) -> bool:
    try:
        r = subprocess.run([python, "-c", f"import {module}, numpy"], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


def reference_python() -> str | None:
    """A Python that imports the official mlperf_loadgen (and numpy)."""
    for c in (os.environ.get("YARDSTICK_REF_PYTHON"), sys.executable, str(REPO / ".venv-ref" / "bin" / "python")):
        if c and Path(c).exists() and _can_import(c, "mlperf_loadgen"):
            return c
    return None


_REF = None


@pytest.fixture(scope="session")
def ref_python():
    global _REF
    if _REF is None:
        _REF = reference_python() or ""
    if not _REF:
        pytest.skip("the official mlperf_loadgen wheel is not installed (pip install mlcommons-loadgen==6.0.17)")
    return _REF


@pytest.fixture(scope="session")
def official():
    """The official module in this interpreter, if installed."""
    return pytest.importorskip("mlperf_loadgen")


# ---------------------------------------------------------------- log parsing

def read_summary(d: Path) -> dict:
    out = {}
    p = Path(d) / "mlperf_log_summary.txt"
    for line in p.read_text().splitlines():
        if ":" in line:
            k, _, v = line.partition(":")
            out.setdefault(k.strip(), v.strip())
    return out


def read_detail(d: Path) -> dict[str, list]:
    out: dict[str, list] = {}
    for line in (Path(d) / "mlperf_log_detail.txt").read_text().splitlines():
        if line.startswith(":::MLLOG "):
            j = json.loads(line[len(":::MLLOG "):])
            out.setdefault(j["key"], []).append(j["value"])
    return out


def read_accuracy(d: Path) -> list[dict]:
    return json.loads((Path(d) / "mlperf_log_accuracy.json").read_text())


def is_valid(d: Path) -> bool:
    return "Result is : VALID" in (Path(d) / "mlperf_log_summary.txt").read_text()

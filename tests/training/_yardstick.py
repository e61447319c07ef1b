"""What the training tests share: the repository root, the toy training job,
and the yardstick binary under test ($YARDSTICK_BIN, else the newer of
target/{debug,release}/yardstick). pytest puts this folder on sys.path (the
tests are not a package), so each test imports it as `_yardstick`."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOY = REPO / "tests" / "training" / "toy_train.py"


def yardstick_bin():
    env = os.environ.get("YARDSTICK_BIN")
    if env:
        return Path(env)
    cands = [REPO / "target" / p / "yardstick" for p in ("debug", "release")]
    cands = [c for c in cands if c.exists()]
    if not cands:
        pytest.fail("no yardstick binary: run `cargo build -p yardstick` or set YARDSTICK_BIN")
    return max(cands, key=lambda c: c.stat().st_mtime)

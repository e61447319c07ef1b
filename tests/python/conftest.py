"""Shared fixtures of the yardstick.loadgen tests.

Run:  .ci/setup-python-module.sh && .venv-py/bin/python -m pytest tests/python

Tests that compare with the official module need `mlperf_loadgen` (the PyPI wheel
mlcommons-loadgen, at the version pinned in .ci) in the same interpreter or in
$YARDSTICK_REF_PYTHON / .venv-ref. Before comparing, they prove that the module is the
wheel's (its file is the wheel's, in site-packages, at the pinned version), so that
yardstick is never compared with itself. They are skipped when the wheel is not
installed, except under CI=true, where that fails; a module that fails the proof fails.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import sys
import sysconfig
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests" / "differential"))

import differential as D  # noqa: E402
import yardstick.loadgen as lg  # noqa: E402


@pytest.fixture(autouse=True)
def _default_stall_timeout():
    """Tests that shorten the stall timeout do not leak it."""
    yield
    lg.set_stall_timeout(60)


IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _missing(what: str):
    """An optional install is missing: skip with a message, except under CI, where it fails."""
    if IN_CI:
        pytest.fail(f"{what} (CI=true: it must be installed)", pytrace=False)
    pytest.skip(what)


_REF: D.OfficialModule | D.NotOfficial | None | bool = False  # False: not looked for yet


@pytest.fixture(scope="session")
def ref_official() -> D.OfficialModule:
    """The official side of a subprocess comparison: a Python whose mlperf_loadgen is proven
    to be the official wheel's (file and pinned version, see tests/differential's
    probe_official), with that file: $YARDSTICK_REF_PYTHON, .venv-ref or this one. Run it
    with official_env() (no PYTHONPATH, where yardstick's shim may sit), as the proof did."""
    global _REF
    if _REF is False:
        try:
            _REF = D.reference_official()
        except D.NotOfficial as e:
            _REF = e
    if isinstance(_REF, D.NotOfficial):
        pytest.fail(f"the reference Python is not the official LoadGen {D.OFFICIAL_VERSION}: {_REF}",
                    pytrace=False)
    if _REF is None:
        _missing(f"the official mlperf_loadgen wheel is not installed "
                 f"(pip install {D.OFFICIAL_DIST}=={D.OFFICIAL_VERSION}, or .ci/setup-python.sh)")
    return _REF


@pytest.fixture(scope="session")
def ref_python(ref_official) -> str:
    """The interpreter of ref_official."""
    return ref_official.python


def official_env() -> dict:
    """The environment of the official side: no PYTHONPATH, no LOADGEN_MODULE."""
    return D.official_env()


def _official_wheel_file() -> Path | None:
    """This interpreter's installed official wheel's mlperf_loadgen file, checked to be at
    the pinned version and inside this interpreter's site-packages; None if not installed."""
    try:
        dist = importlib.metadata.distribution(D.OFFICIAL_DIST)
    except importlib.metadata.PackageNotFoundError:
        return None
    assert dist.version == D.OFFICIAL_VERSION, (
        f"{D.OFFICIAL_DIST} {dist.version} is installed, expected {D.OFFICIAL_VERSION} (the pin in .ci)")
    files = [Path(os.path.realpath(dist.locate_file(f))) for f in dist.files or []
             if f.parts[0].startswith(D.OFFICIAL_MODULE) and f.suffix in (".so", ".pyd", ".py")]
    assert len(files) == 1, f"the {D.OFFICIAL_DIST} wheel has no single {D.OFFICIAL_MODULE} module: {files}"
    site_dirs = {Path(os.path.realpath(sysconfig.get_paths()[k])) for k in ("purelib", "platlib")}
    assert any(files[0].is_relative_to(d) for d in site_dirs), (files[0], site_dirs)
    return files[0]


@pytest.fixture(scope="session")
def official():
    """The official module, loaded in this interpreter from the official wheel's own file (so
    that neither PYTHONPATH with yardstick's shim nor lg.install() can put yardstick in its
    place), after checking the file and the version."""
    path = _official_wheel_file()
    if path is None:
        _missing(f"the official mlperf_loadgen wheel is not installed in {sys.executable} "
                 f"(pip install {D.OFFICIAL_DIST}=={D.OFFICIAL_VERSION}, or .ci/setup-python-module.sh)")
    loaded = sys.modules.get(D.OFFICIAL_MODULE)
    if loaded is not None and Path(os.path.realpath(getattr(loaded, "__file__", "") or "")) == path:
        module = loaded
    else:
        spec = importlib.util.spec_from_file_location(D.OFFICIAL_MODULE, path)
        assert spec is not None and spec.loader is not None, path
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    assert Path(os.path.realpath(module.__file__)) == path, (module.__file__, path)
    assert module is not lg and not hasattr(module, "LOADGEN_COMPAT_VERSION"), "got yardstick, not the wheel"
    return module


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

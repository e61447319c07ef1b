"""Differential test: yardstick `golden-case` vs the official LoadGen 6.0.17 wheel.

Run (after .ci/setup-python.sh and `cargo build -p yardstick`):

    .venv-ref/bin/python -m pytest tests/differential -q
    YARDSTICK_DIFF_CASES=1000 YARDSTICK_DIFF_SEED=7 .venv-ref/bin/python -m pytest tests/differential
    .venv-ref/bin/python -m pytest tests/differential -k edge          # hand-written cases only

Environment:
    YARDSTICK_DIFF_CASES   number of random cases (default 300)
    YARDSTICK_DIFF_SEED    seed of the random cases (default in differential.DEFAULT_SEED; it is
                           part of every random test id: r<seed>-<index>-<scenario>-<mode>)
    YARDSTICK_DIFF_JOBS    cases run in parallel (default 2)
    YARDSTICK_BIN          the yardstick binary (default: newer of target/{debug,release}/yardstick)
    YARDSTICK_REF_PYTHON   a Python with the official wheel (default: .venv-ref/bin/python, or this one);
                           its mlperf_loadgen must be the mlcommons-loadgen wheel's file, at the version
                           pinned in .ci/setup-python.sh, or every test fails. PYTHONPATH and
                           LOADGEN_MODULE are dropped on the official side.
    YARDSTICK_DIFF_OTHER   "yardstick" (default); "official" runs the official LoadGen on both sides
                           (checks that the cases are deterministic); "module:NAME" runs gen.py with
                           LOADGEN_MODULE=NAME on the second side
    CI                     when "true"/"1", a missing official wheel fails instead of skipping (a
                           broken one, a missing binary or gen_reference.py fail everywhere)

Failing cases are saved to tests/differential/failures/<name>.json (+ .diff.txt); rerun one with
    .venv-ref/bin/python tests/differential/differential.py tests/differential/failures/<name>.json
"""
from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import differential as D  # noqa: E402

SEED = int(os.environ.get("YARDSTICK_DIFF_SEED", D.DEFAULT_SEED))
N_CASES = int(os.environ.get("YARDSTICK_DIFF_CASES", D.DEFAULT_CASES))
JOBS = int(os.environ.get("YARDSTICK_DIFF_JOBS", "2"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

EDGE_FILES = sorted(D.CASES_DIR.glob("*.json"))
# Raw random cases are generated at collection time (pure Python, deterministic for SEED);
# they are resolved against mlperf.conf and repaired when the session runs them.
RAW_RANDOM = D.random_cases(SEED, N_CASES)

print(f"[differential] random cases: seed={SEED} count={N_CASES} (YARDSTICK_DIFF_SEED / YARDSTICK_DIFF_CASES)")


def _prereqs() -> tuple[str | None, str | None, list[str], list[str]]:
    """The reference Python, the yardstick binary, what is missing that may skip the tests
    outside CI (the official wheel, an optional install), and what is broken (fails them
    everywhere: an mlperf_loadgen that is not the official wheel's, no binary to test)."""
    missing, broken = [], []
    try:
        ref = D.reference_python()
        if not ref:
            missing.append("no Python with the official mlperf_loadgen and numpy "
                           "(run .ci/setup-python.sh, or set YARDSTICK_REF_PYTHON)")
    except D.NotOfficial as e:
        ref = None
        broken.append(f"the reference Python is not the official LoadGen {D.OFFICIAL_VERSION}: {e}")
    binary = D.yardstick_binary()
    if not binary and os.environ.get("YARDSTICK_DIFF_OTHER", "yardstick") == "yardstick":
        broken.append("no yardstick binary (cargo build -p yardstick, or set YARDSTICK_BIN)")
    if not D.GEN_PY.exists():
        broken.append(f"missing {D.GEN_PY}")
    return ref, binary, missing, broken


class _Session:
    """Runs every selected case once (in a small thread pool, each case = 2 subprocesses)
    the first time any test asks for a result."""

    def __init__(self, selected_ids: set[str]):
        self.selected = selected_ids
        self.outcomes: dict[str, D.CaseOutcome] = {}
        self.error: str | None = None  # something is broken: every test fails
        self.missing: str | None = None  # an optional install is missing: skip outside CI
        self.ran = False

    def run(self):
        if self.ran:
            return
        self.ran = True
        ref, binary, missing, broken = _prereqs()
        if broken:
            self.error = "; ".join(broken + missing)
            return
        if missing:
            self.missing = "; ".join(missing)
            return
        print(f"\n[differential] reference python: {ref}\n[differential] yardstick: {binary}"
              f" (other side: {os.environ.get('YARDSTICK_DIFF_OTHER', 'yardstick')})")
        cases: list[dict] = []
        for p in EDGE_FILES:
            c = D.load_case_file(p)
            if f"edge-{p.stem}" in self.selected:
                c["_id"] = f"edge-{p.stem}"
                cases.append(c)
        raw = [c for c in RAW_RANDOM if c["name"] in self.selected]
        t = time.monotonic()
        for c in D.finalize_cases(raw, ref):
            c["_id"] = c["name"]
            cases.append(c)
        print(f"[differential] {len(cases)} cases (resolved in {time.monotonic() - t:.1f}s), {JOBS} at a time")

        def one(c):
            cid = c.pop("_id")
            return cid, D.run_case(c, ref, binary)

        t = time.monotonic()
        with ThreadPoolExecutor(JOBS) as ex:
            for cid, o in ex.map(one, cases):
                self.outcomes[cid] = o
        n_bad = sum(not o.ok for o in self.outcomes.values())
        print(f"[differential] ran {len(cases)} cases in {time.monotonic() - t:.1f}s: {n_bad} failed; "
              f"official {sum(o.official_s for o in self.outcomes.values()):.1f}s, "
              f"yardstick {sum(o.yardstick_s for o in self.outcomes.values()):.1f}s in total")


@pytest.fixture(scope="session")
def diff_session(request):
    ids = set()
    for item in request.session.items:
        cs = getattr(item, "callspec", None)
        if cs and "case_id" in cs.params:
            ids.add(cs.params["case_id"])
    s = _Session(ids)
    s.run()
    return s


def _check(diff_session: _Session, case_id: str):
    if diff_session.error:
        pytest.fail(f"differential prerequisites broken: {diff_session.error}", pytrace=False)
    if diff_session.missing:
        if IN_CI:
            pytest.fail(f"differential prerequisites missing in CI: {diff_session.missing}", pytrace=False)
        pytest.skip(f"differential prerequisites missing: {diff_session.missing}")
    o = diff_session.outcomes.get(case_id)
    assert o is not None, f"case {case_id} did not run"
    if not o.ok:
        saved = D.save_failure(o)
        pytest.fail(D.failure_report(o, saved), pytrace=False)
    for stale in (D.FAILURES_DIR / f"{o.case['name']}.json", D.FAILURES_DIR / f"{o.case['name']}.diff.txt"):
        stale.unlink(missing_ok=True)  # fixed since an earlier run


@pytest.mark.parametrize("case_id", [f"edge-{p.stem}" for p in EDGE_FILES])
def test_edge_case(diff_session, case_id):
    _check(diff_session, case_id)


@pytest.mark.parametrize("case_id", [c["name"] for c in RAW_RANDOM])
def test_random_case(diff_session, case_id):
    _check(diff_session, case_id)


def test_gen_reference_matches_shared_copy():
    """gen_reference.py is a copy of ../shared/golden/gen.py (kept here so CI needs no shared/)."""
    shared = D.REPO.parent / "shared" / "golden" / "gen.py"
    # Like the golden tests: ../shared sits beside the checkout, so its absence fails.
    assert shared.is_file(), f"{shared} is missing (shared/ must sit beside the checkout)"
    assert D.GEN_PY.read_text() == shared.read_text(), f"{D.GEN_PY} differs from {shared}: copy it again"

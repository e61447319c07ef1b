"""Recording a Python harness's test (YARDSTICK_RECORD=1): run.json beside the
logs with the settings' provenance and the same numbers as the summary, and
the run in the results store. Without the variable an unchanged harness
writes exactly what it wrote before: no run.json, no store.

Each case runs in a fresh interpreter with its own environment.
"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent

SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[1])
    import yardstick.loadgen as lg
    from helpers import NullHarness, log_settings

    ts = lg.TestSettings()
    ts.scenario = lg.TestScenario.Offline
    ts.mode = lg.TestMode.PerformanceOnly
    ts.offline_expected_qps = 2000
    ts.min_duration_ms = 100
    ts.min_query_count = 100
    h = NullHarness(total=2048, perf=1024)
    lg.StartTestWithLogSettings(h.sut, h.qsl, ts, log_settings("out"))
    h.close()
    """
)


def run_harness(tmp_path: Path, record: str | None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("YARDSTICK_RECORD", None)
    env["YARDSTICK_STORE"] = str(tmp_path / "store.sqlite")
    if record is not None:
        env["YARDSTICK_RECORD"] = record
        env["YARDSTICK_RECORD_TAGS"] = "py-harness, nightly"
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(HERE)], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def summary_value(path: Path, key: str) -> str:
    for line in path.read_text().splitlines():
        if line.startswith(key):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{key} not in {path}")


def test_recording_on_writes_run_json_and_stores_the_run(tmp_path):
    r = run_harness(tmp_path, "1")
    run_json = tmp_path / "out" / "run.json"
    assert run_json.is_file(), r.stderr
    rec = json.loads(run_json.read_text())
    assert rec["kind"] == "python"
    assert rec["status"] == "completed"
    assert rec["workload"]["scenario"] == "Offline"
    assert rec["tags"] == ["py-harness", "nightly"]
    # The headline number is the summary's, to the 6 significant digits it
    # prints.
    sps = summary_value(tmp_path / "out" / "mlperf_log_summary.txt", "Samples per second")
    primary = rec["metrics"][0]
    assert primary["name"] == "samples_per_second"
    assert abs(primary["value"] - float(sps)) <= 1e-5 * float(sps), (primary, sps)
    # Provenance of the harness's attributes.
    settings = {s["key"]: s for s in rec["settings"]}
    assert settings["offline_expected_qps"]["value"] == "2000"
    assert settings["offline_expected_qps"]["source"] == {
        "kind": "api", "name": "TestSettings.offline_expected_qps"}
    assert rec["system"]["cpu"]["logical_cpus"] >= 1
    assert rec["id"] in r.stderr
    # The store has it, finished.
    db = sqlite3.connect(tmp_path / "store.sqlite")
    rows = db.execute("select id, status from runs").fetchall()
    assert rows == [(rec["id"], "completed")], rows


def test_recording_off_by_default_changes_nothing(tmp_path):
    run_harness(tmp_path, None)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "mlperf_log_accuracy.json", "mlperf_log_detail.txt", "mlperf_log_summary.txt"]
    assert not (tmp_path / "store.sqlite").exists()

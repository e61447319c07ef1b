"""Settings provenance in yardstick.loadgen: FromConfig records file and line,
attribute sets record ``TestSettings.<attribute>``, and StartTest applies
./audit.config last (it wins over attributes), as LoadGen and ``yardstick run``
do.

Each case runs in a fresh interpreter: LoadGen applies its mlperf.conf before
the first user.conf of a process only, so an earlier FromConfig in the pytest
process would change what this one does.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent

# user.conf over mlperf.conf (min_duration, min_query_count); an attribute
# over user.conf (offline_expected_qps); audit.config over an attribute
# (min_query_count). The same layers as crates/cli/tests/provenance.rs.
USER_CONF = "*.*.min_duration = 50\n*.*.min_query_count = 100\n*.Offline.target_qps = 100\n"
AUDIT_CONFIG = "# compliance\n*.*.min_query_count = 120\n"

SCRIPT = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, sys.argv[1])
    import yardstick.loadgen as lg
    from helpers import NullHarness, log_settings

    ts = lg.TestSettings()
    ts.FromConfig("user.conf", "resnet50", "Offline")
    ts.scenario = lg.TestScenario.Offline
    ts.offline_expected_qps = 500
    ts.min_query_count = 40
    before = ts.provenance()

    h = NullHarness(total=2048, perf=1024)
    # StartTest reads ./audit.config (the working directory).
    lg.StartTestWithLogSettings(h.sut, h.qsl, ts, log_settings("out"))
    h.close()
    out = lg.last_test_outcome()
    print(json.dumps({"before": before, "after": out["settings_provenance"]}))
    """
)


def by_field(provenance):
    return {o["field"]: o for o in provenance}


def detail(path: Path) -> dict:
    values = {}
    for line in path.read_text().splitlines():
        record = json.loads(line.split(" ", 1)[1])
        values[record["key"]] = record["value"]
    return values


def run_case(tmp_path: Path) -> dict:
    (tmp_path / "user.conf").write_text(USER_CONF)
    (tmp_path / "audit.config").write_text(AUDIT_CONFIG)
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(HERE)], cwd=tmp_path, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_provenance_follows_loadgen_order(tmp_path):
    got = run_case(tmp_path)
    before, after = by_field(got["before"]), by_field(got["after"])

    # Before StartTest: FromConfig's lines and the harness's attributes.
    assert before["min_duration_ms"]["value"] == "50"
    assert before["min_duration_ms"]["source"] == {
        "kind": "user_conf", "file": "user.conf", "line": 1, "key": "*.*.min_duration"}
    assert before["offline_expected_qps"]["value"] == "500"
    assert before["offline_expected_qps"]["source"] == {
        "kind": "api", "name": "TestSettings.offline_expected_qps"}
    assert before["min_query_count"]["value"] == "40"
    assert before["min_query_count"]["source"] == {"kind": "api", "name": "TestSettings.min_query_count"}
    seed = before["qsl_rng_seed"]
    assert seed["value"] == "2085463073848966840"
    assert seed["source"]["kind"] == "mlperf_conf"
    assert seed["source"]["file"] == "mlperf.conf (embedded)"
    assert seed["source"]["key"] == "*.*.qsl_rng_seed"
    assert before["print_timestamps"]["source"] == {"kind": "default"}

    # What the test ran with: audit.config won over the attribute.
    assert after["min_query_count"]["value"] == "120"
    assert after["min_query_count"]["source"] == {
        "kind": "audit_conf", "file": "audit.config", "line": 2, "key": "*.*.min_query_count"}
    assert after["offline_expected_qps"] == before["offline_expected_qps"]
    assert after["min_duration_ms"] == before["min_duration_ms"]

    # The effective values in the detail log agree.
    d = detail(tmp_path / "out" / "mlperf_log_detail.txt")
    assert d["requested_min_query_count"] == 120
    # Offline counts samples: one query of at least min_query_count samples.
    assert d["effective_min_sample_count"] == 120
    assert d["effective_target_qps"] == 500
    assert d["effective_min_duration_ms"] == 50


def test_an_attribute_set_back_to_the_config_value_keeps_the_config_line(tmp_path):
    import yardstick.loadgen as lg

    conf = tmp_path / "user.conf"
    conf.write_text("\n*.*.max_query_count = 7\n")
    ts = lg.TestSettings()
    # Whichever FromConfig of the process this is, user.conf's line 2 sets it.
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ts.FromConfig(str(conf), "resnet50", "Offline")
    p = by_field(ts.provenance())
    assert p["max_query_count"]["source"] == {
        "kind": "user_conf", "file": str(conf), "line": 2, "key": "*.*.max_query_count"}
    ts.max_query_count = 9
    assert by_field(ts.provenance())["max_query_count"]["source"] == {
        "kind": "api", "name": "TestSettings.max_query_count"}
    ts.max_query_count = 7
    assert by_field(ts.provenance())["max_query_count"]["source"]["kind"] == "user_conf"
    # A fresh object: every field is its default.
    assert all(o["source"] == {"kind": "default"} for o in lg.TestSettings().provenance())

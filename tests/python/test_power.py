"""Power and energy from a Python harness (issue 15: the module takes the same
setting as `yardstick run --power`): `YARDSTICK_POWER` for an unchanged harness,
`yardstick.loadgen.set_power` for one that asks. A fake RAPL tree, whose counter a
thread bumps while the test runs, stands in for the CPU's.

Each run is a fresh interpreter with its own environment.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import yardstick.loadgen as lg

HERE = Path(__file__).resolve().parent

# argv: tests dir, fake powercap root, set_power argument (or "" for none).
SCRIPT = textwrap.dedent(
    """
    import json, os, sys, threading, time
    sys.path.insert(0, sys.argv[1])
    import yardstick.loadgen as lg
    from helpers import NullHarness, log_settings

    zone = os.path.join(sys.argv[2], "intel-rapl:0")
    if sys.argv[3]:
        lg.set_power(sys.argv[3], sample_hz=50)

    stop = threading.Event()
    def bump():
        # 20 mJ every 2 ms of sleep: a few watts, whatever the scheduler does.
        energy = 1_000_000
        while not stop.is_set():
            energy += 20_000
            tmp = os.path.join(zone, "energy_uj.tmp")
            with open(tmp, "w") as f:
                f.write(f"{energy}\\n")
            os.replace(tmp, os.path.join(zone, "energy_uj"))
            time.sleep(0.002)
    bumper = threading.Thread(target=bump)
    if os.path.isdir(zone):
        bumper.start()

    class SlowHarness(NullHarness):
        # Offline's one query takes 0.7 s: a window the meter samples in.
        def issue(self, samples):
            time.sleep(0.7)
            super().issue(samples)

    ts = lg.TestSettings()
    ts.scenario = lg.TestScenario.Offline
    ts.mode = lg.TestMode.PerformanceOnly
    ts.offline_expected_qps = 2000
    ts.min_duration_ms = 100
    ts.min_query_count = 100
    h = SlowHarness(total=2048, perf=1024)
    lg.StartTestWithLogSettings(h.sut, h.qsl, ts, log_settings("out"))
    h.close()
    stop.set()
    if bumper.is_alive():
        bumper.join()
    outcome = lg.last_test_outcome()
    print("OUTCOME_POWER=" + json.dumps(outcome["power"]))
    print("OUTCOME_SAMPLES=" + json.dumps(outcome["samples"]))
    """
)


def fake_rapl(tmp_path: Path) -> Path:
    """A powercap tree with one package zone, as /sys/class/powercap has it."""
    root = tmp_path / "powercap"
    zone = root / "intel-rapl:0"
    zone.mkdir(parents=True)
    (zone / "name").write_text("package-0\n")
    (zone / "energy_uj").write_text("1000000\n")
    (zone / "max_energy_range_uj").write_text("262143328850\n")
    return root


def run_harness(tmp_path: Path, power_env: str | None, set_power: str = ""):
    env = dict(os.environ)
    env["YARDSTICK_RECORD"] = "1"
    env["YARDSTICK_RECORD_STORE"] = "0"
    env.pop("YARDSTICK_POWER", None)
    if power_env is not None:
        env["YARDSTICK_POWER"] = power_env
    root = tmp_path / "powercap"
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(HERE), str(root), set_power],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    outcome_lines = [line for line in r.stdout.splitlines() if line.startswith("OUTCOME_POWER=")]
    assert len(outcome_lines) == 1, r.stdout
    outcome_power = json.loads(outcome_lines[0].split("=", 1)[1])
    samples = [line for line in r.stdout.splitlines() if line.startswith("OUTCOME_SAMPLES=")]
    record_samples = json.loads(samples[0].split("=", 1)[1])
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    record["samples"] = record_samples  # not in run.json's schema: the test's count
    return r, record, outcome_power


def assert_measured(r, record, outcome_power, tmp_path: Path):
    power = record.get("power")
    assert power is not None, r.stderr
    assert power.get("error") is None, power
    assert "rapl" in power["source"] and "package-0" in power["source"], power["source"]
    assert power["sample_hz"] == 50 or power["sample_hz"] == 10
    # The window is LoadGen's power_begin..power_end: the SUT's 0.7 s at least.
    assert 0.6 <= power["window_seconds"] < 30, power
    assert power["samples_in_window"] >= 3, power
    assert power["joules"] > 0 and power["mean_watts"] > 0, power
    assert power["joules"] == pytest.approx(power["mean_watts"] * power["window_seconds"], rel=1e-6)
    assert record["samples"] >= 200
    assert power["samples_per_joule"] == pytest.approx(record["samples"] / power["joules"])
    # The trace is kept with the run; the outcome dict is the record's section.
    trace = tmp_path / "out" / "power_trace.csv"
    assert trace.is_file() and len(trace.read_text().splitlines()) > 3
    assert outcome_power == power
    # The summary's energy lines, as `yardstick run --power` prints them.
    assert f"power source            : {power['source']}" in r.stdout
    assert f"energy                  : {power['joules']:.1f} J over" in r.stdout
    assert f"samples per joule       : {power['samples_per_joule']:.3f}" in r.stdout


def test_yardstick_power_env_measures_an_unchanged_harness(tmp_path):
    root = fake_rapl(tmp_path)
    r, record, outcome_power = run_harness(tmp_path, f"rapl:{root}")
    assert_measured(r, record, outcome_power, tmp_path)
    assert record["power"]["sample_hz"] == 10  # the default rate
    assert "yardstick: power: rapl" in r.stderr


def test_set_power_measures_and_wins_over_the_environment(tmp_path):
    root = fake_rapl(tmp_path)
    r, record, outcome_power = run_harness(tmp_path, "off", set_power=f"rapl:{root}")
    assert_measured(r, record, outcome_power, tmp_path)
    assert record["power"]["sample_hz"] == 50


@pytest.mark.parametrize("power_env, set_power", [("off", ""), (None, ""), ("RAPL", "off")])
def test_off_records_no_power(tmp_path, power_env, set_power):
    root = fake_rapl(tmp_path)
    env_value = f"rapl:{root}" if power_env == "RAPL" else power_env
    r, record, outcome_power = run_harness(tmp_path, env_value, set_power=set_power)
    assert record.get("power") is None
    assert outcome_power is None
    assert "energy" not in r.stdout
    assert not (tmp_path / "out" / "power_trace.csv").exists()


def test_a_missing_source_is_a_message_not_a_failed_test(tmp_path):
    r, record, outcome_power = run_harness(tmp_path, f"rapl:{tmp_path / 'no-such-powercap'}")
    assert record.get("power") is None and outcome_power is None
    assert "yardstick: power: not measured: rapl is not available here" in r.stderr
    assert record["metrics"], record


def test_a_bad_environment_value_is_a_warning_and_no_meter(tmp_path):
    r, record, outcome_power = run_harness(tmp_path, "watts")
    assert record.get("power") is None and outcome_power is None
    assert "UserWarning: YARDSTICK_POWER=\"watts\" is not used" in r.stderr
    assert "unknown power source" in r.stderr


def test_set_power_rejects_what_it_cannot_run():
    try:
        with pytest.raises(ValueError, match=r'unknown power source "watts"'):
            lg.set_power("watts")
        with pytest.raises(ValueError, match="is not host:port"):
            lg.set_power("ptd://nohost")
        with pytest.raises(ValueError, match="rapl: needs a folder"):
            lg.set_power("rapl:")
        with pytest.raises(ValueError, match="runs the test twice"):
            lg.set_power("director://meter.lan:4950")
        with pytest.raises(ValueError, match="sample_hz must be a positive"):
            lg.set_power("rapl", sample_hz=0)
        lg.set_power("off")
        lg.set_power(None)
    finally:
        lg.set_power(None)

"""`yardstick train --power ... -- CMD` writes MLPerf Training's power layout
(power/result_<n>/node_0.txt beside result_<n>.txt), and the official
mlperf-logging 4.1.68 tools accept it: the package checker's PowerChecker
finds no error, and the result summarizer's own energy of each run
(_compute_total_power, the set's `Energy` column) equals the one yardstick
recorded.

The meter is a fake RAPL tree whose counter this test advances while the
job (tests/training/toy_train.py) trains, so the readings are not zero.

Setup: .ci/setup-training-python.sh, then
    .venv-ref/bin/python -m pytest tests/training/test_train_power.py
The binary is $YARDSTICK_BIN, else the newer of target/{debug,release}/yardstick.
"""

import json
import os
import subprocess
import sys
import threading
import time

import pytest
from mlperf_logging.package_checker.power_checker import PowerChecker
from mlperf_logging.result_summarizer import result_summarizer

from _yardstick import REPO, TOY, yardstick_bin


def fake_rapl(root):
    zone = root / "intel-rapl:0"
    zone.mkdir(parents=True)
    (zone / "name").write_text("package-0\n")
    (zone / "max_energy_range_uj").write_text("262143328850\n")
    energy = zone / "energy_uj"
    energy.write_text("0\n")
    return energy


def test_the_power_layout_is_what_the_official_tools_read(tmp_path):
    out = tmp_path / "set"
    energy = fake_rapl(tmp_path / "powercap")
    done = threading.Event()

    def burn():  # 50 J/s, advanced in uneven steps
        uj, step = 0, 0
        while not done.is_set():
            step += 1
            uj += 1_000_000 * (1 + step % 3) // 2
            # Atomically, as the kernel's file reads: never an empty file.
            fresh = energy.with_suffix(".new")
            fresh.write_text(f"{uj}\n")
            os.replace(fresh, energy)
            time.sleep(0.02)

    meter = threading.Thread(target=burn)
    meter.start()
    try:
        p = subprocess.run(
            [str(yardstick_bin()), "train", "--no-store", "--quiet", "--runs", "3", "--seed", "5",
             "--power", f"rapl:{tmp_path / 'powercap'}", "-o", str(out),
             "--", sys.executable, str(TOY), "--epoch-sleep", "0.1"],
            capture_output=True, text=True, timeout=300, cwd=REPO)
    finally:
        done.set()
        meter.join()
    log = p.stdout + p.stderr
    assert p.returncode == 0, log
    results = [str(out / f"result_{i}.txt") for i in range(3)]
    # The package checker: a power folder per result, node_<k> names.
    ok, errors = PowerChecker("5.1.0").check_power(str(out / "power"), results)
    assert ok and errors == set(), (errors, log)
    for i, result in enumerate(results):
        record = json.loads((out / f"result_{i}.run.json").read_text())
        ours = record["extra"]["training_power"]["summarizer_joules"]
        ttt_ms = record["metrics"][0]["value"] * 1000
        assert record["metrics"][0]["name"] == "time_to_train"
        official = result_summarizer._compute_total_power(str(out), result, ttt_ms, "5.1.0")
        assert official > 1.0, (official, log)
        assert ours == pytest.approx(official, rel=1e-9), (ours, official)
        # Close to yardstick's own energy-to-train over the same window.
        energy_to_train = next(m["value"] for m in record["metrics"] if m["name"] == "energy_to_train")
        assert ours == pytest.approx(energy_to_train, rel=0.25), (ours, energy_to_train)

"""`yardstick train -- CMD` on a Python training job that logs with
mlperf-logging's own `mllog` (tests/training/toy_train.py, numpy): three
seeded runs end with a compliance PASS each and a score; a job killed
mid-run (exit 137) is an incomplete run, never a result.

Setup: .ci/setup-training-python.sh, then
    .venv-ref/bin/python -m pytest tests/training/test_train_wrap.py
The binary is $YARDSTICK_BIN, else the newer of target/{debug,release}/yardstick.
"""

import json
import re
import subprocess
import sys

from mlperf_logging.compliance_checker import mlp_compliance, mlp_parser
from mlperf_logging.compliance_checker.mlp_parser import ruleset_510

from _yardstick import REPO, TOY, yardstick_bin


def train(out, *flags, toy_flags=()):
    args = [str(yardstick_bin()), "train", "--no-store", "--quiet", "-o", str(out), *flags,
            "--", sys.executable, str(TOY), *toy_flags]
    return subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=REPO)


def official_ttt_ms(path):
    lines, errors = ruleset_510.parse_file(str(path))
    assert not errors
    start = next(l.timestamp for l in lines if l.key == "run_start")
    stop = next(l.timestamp for l in lines if l.key == "run_stop")
    return stop - start


def test_three_seeded_runs_pass_compliance_and_score(tmp_path):
    p = train(tmp_path, "--runs", "3", "--seed", "5", "--target", "0.75")
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    runs = re.findall(r"\[run (\d)/3 seed (\d+)\] success: time-to-train (\d+)\.(\d{3}) s", p.stdout)
    assert [(r[0], r[1]) for r in runs] == [("1", "5"), ("2", "6"), ("3", "7")], out
    assert p.stdout.count("compliance (training 5.1.0 rules): PASS") == 3, out
    times = []
    for i, r in enumerate(runs):
        log = tmp_path / f"result_{i}.txt"
        # The printed time-to-train is run_stop - run_start of the log, as
        # the official parser reads it.
        ms = official_ttt_ms(log)
        assert int(r[2]) * 1000 + int(r[3]) == ms, out
        times.append(ms)
        # The log passes the official checker too, and the seed reached the job.
        checker = mlp_compliance.make_checker("training", "5.1.0", True, False)
        valid, _, _, _ = mlp_compliance.main(str(log), "training_5.1.0/common.yaml", checker)
        assert valid, log.read_text()
        assert f'"key": "seed", "value": {5 + i}' in log.read_text()
    times.sort()
    m = re.search(r"score \(3 runs, olympic mean dropping the 1 fastest and slowest; retinanet submissions need 5 runs\): ([\d.]+) min", p.stdout)
    assert m, out
    assert abs(float(m.group(1)) - times[1] / 60000) < 1e-4, out
    record = json.loads((tmp_path / "result_0.run.json").read_text())
    assert record["kind"] == "training" and record["status"] == "completed"
    assert len(record["extra"]["training"]["evals"]) >= 2
    assert "eval_accuracy" in p.stderr and "target 0.75" in p.stderr, out


def test_a_job_killed_mid_run_is_incomplete(tmp_path):
    p = train(tmp_path, "--runs", "3", toy_flags=["--exit-at-epoch", "2"])
    out = p.stdout + p.stderr
    assert p.returncode == 1, out
    assert p.stdout.count("INCOMPLETE, not a result: no run_stop logged (exit status 137)") == 3, out
    assert "time-to-train" not in p.stdout, out
    assert "score: none (3 of 3 runs incomplete" in p.stdout, out
    record = json.loads((tmp_path / "result_1.run.json").read_text())
    assert record["status"] == "failed"


def test_a_hanging_job_is_stopped_at_the_time_limit(tmp_path):
    p = train(tmp_path, "--time-limit", "3s", toy_flags=["--hang-at-epoch", "1"])
    out = p.stdout + p.stderr
    assert p.returncode == 1, out
    assert "INCOMPLETE, not a result: stopped at the time limit" in p.stdout, out

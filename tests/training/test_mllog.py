"""`yardstick train` logs against the mlperf-logging package (MLPerf Training).

Every `:::MLLOG` line yardstick writes must be accepted by the package's own
parser (mlperf_logging.compliance_checker.mlp_parser), be byte for byte what
`mllog` itself would write for the same event, and pass the structural rules
of the training compliance checker (common.yaml: init/run start and stop,
epochs, evaluations). The time-to-train yardstick prints must equal
run_stop - run_start read from the log.

Setup: .ci/setup-training-python.sh, then
    .venv-ref/bin/python -m pytest tests/training
The binary is $YARDSTICK_BIN, else the newer of target/{debug,release}/yardstick.

The runs train on a slice of the repository's test split (seconds). With
YARDSTICK_FULL_TRAINING=1 (and the Debian package dataset-fashion-mnist),
test_full_training_reaches_the_target also runs the real benchmark:
`yardstick train fashion-mnist --runs 3` (several minutes).
"""

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from mlperf_logging import mllog
from mlperf_logging.compliance_checker import mlp_compliance, mlp_parser
from mlperf_logging.compliance_checker.mlp_parser import ruleset_610

from _yardstick import REPO, yardstick_bin
DATA = REPO / "data" / "fashion-mnist"
RULESET = "6.1.0"
TTT = re.compile(r"\[run (\d+)/\d+ seed \d+\] (success|aborted): time-to-train (\d+)\.(\d{3}) s")


def train(out, *extra, full=False, timeout=600):
    args = [str(yardstick_bin()), "train", "fashion-mnist", "-o", str(out)]
    if not full:
        args += [
            "--train-images", str(DATA / "t10k-images-idx3-ubyte.gz"),
            "--train-labels", str(DATA / "t10k-labels-idx1-ubyte.gz"),
            "--train-limit", "2048", "--eval-limit", "1000", "--max-epochs", "2",
        ]
    args += list(extra)
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=REPO)


def parse(path):
    lines, errors = mlp_parser.parse_file(str(path), ruleset=RULESET)
    assert errors == [], f"{path}: lines the mlperf-logging parser rejects: {errors}"
    raw = [l for l in Path(path).read_text().splitlines() if l.strip()]
    assert len(lines) == len(raw), "every line of a result file is a :::MLLOG line"
    return lines


def check_mllog_encoding(path):
    """Each line is exactly what mllog's encoder writes for its fields."""
    for lineno, text in enumerate(Path(path).read_text().splitlines(), 1):
        m = ruleset_610.parse_line(text)
        assert m is not None, f"{path}:{lineno}: no :::MLLOG prefix"
        assert list(m) == ["namespace", "time_ms", "event_type", "key", "value", "metadata"], text
        assert isinstance(m["time_ms"], int), text
        assert m["event_type"] in (mllog.constants.INTERVAL_START, mllog.constants.INTERVAL_END,
                                   mllog.constants.POINT_IN_TIME), text
        assert list(m["metadata"])[:2] == ["file", "lineno"], text
        again = mllog.mllog._encode_log(m["namespace"], m["time_ms"], m["event_type"], m["key"],
                                        m["value"], m["metadata"])
        assert again == text, f"{path}:{lineno}:\n ours:  {text}\n mllog: {again}"


KNOWN_KEYS = {v for k, v in vars(mllog.constants).items() if k.isupper() and isinstance(v, str)}


def compliance(path, tmp_path):
    """The training checker's common rules (training_6.1.0/common.yaml). Its
    division rules, which common.yaml enqueues, would then require an MLPerf
    benchmark name; fashion-mnist is not one, so that one step is left out."""
    common = Path(mlp_compliance.__file__).parent / f"training_{RULESET}" / "common.yaml"
    rules = yaml.load(common.read_text(), Loader=yaml.BaseLoader)
    for r in rules:
        key = r.get("KEY")
        if key and key["NAME"] == "submission_division":
            post = key["POST"]
            assert "enqueue_config(" in post, post
            key["POST"] = post[post.index(";") + 1:]
    cfg = tmp_path / "common-no-division.yaml"
    cfg.write_text(yaml.safe_dump(rules, sort_keys=False))
    checker = mlp_compliance.make_checker("training", RULESET, quiet=False, werror=False)
    ok = checker.check_file(str(path), str(cfg))
    assert ok, f"{path}: compliance messages: {checker.not_overwritable + list(checker.overwritable.values())}"


def printed_ttt(stdout):
    return {int(m.group(1)) - 1: (m.group(2), int(m.group(3)) * 1000 + int(m.group(4)))
            for m in TTT.finditer(stdout)}


def key_lines(lines, key):
    return [l for l in lines if l.key == key]


def test_three_runs_are_parsed_encoded_and_timed_like_mlperf(tmp_path):
    out = tmp_path / "logs"
    p = train(out, "--runs", "3", "--seed", "11", "--target", "0.5")
    assert p.returncode == 0, p.stdout + p.stderr
    ttt = printed_ttt(p.stdout)
    assert sorted(ttt) == [0, 1, 2], p.stdout
    for i in range(3):
        path = out / f"result_{i}.txt"
        lines = parse(path)
        check_mllog_encoding(path)
        compliance(path, tmp_path)
        assert {l.key for l in lines} <= KNOWN_KEYS, {l.key for l in lines} - KNOWN_KEYS
        start, = key_lines(lines, "run_start")
        stop, = key_lines(lines, "run_stop")
        assert stop.value["metadata"]["status"] == "success"
        status, ms = ttt[i]
        assert status == "success"
        assert ms == stop.timestamp - start.timestamp, (ms, start.timestamp, stop.timestamp)
        seed, = key_lines(lines, "seed")
        assert seed.value["value"] == 11 + i
        acc = key_lines(lines, "eval_accuracy")
        assert acc and acc[-1].value["value"] >= 0.5
        assert [a.value["metadata"]["epoch_num"] for a in acc] == list(range(1, len(acc) + 1))
    # The same lines went to stdout, and the parser takes them from there too.
    lines, errors = ruleset_610.parse_generator(p.stdout.splitlines())
    assert errors == [] and len(lines) == sum(
        len(parse(out / f"result_{i}.txt")) for i in range(3))
    olympic = re.search(
        r"score \(3 runs, olympic mean dropping the 1 fastest and slowest\): [\d.]+ min \((\d+\.\d{3}) s\)",
        p.stdout)
    assert olympic, p.stdout
    assert float(olympic.group(1)) == pytest.approx(sorted(ms for _, ms in ttt.values())[1] / 1000, abs=5e-4)


def test_an_aborted_run_is_logged_as_such(tmp_path):
    out = tmp_path / "logs"
    p = train(out, "--target", "0.999", "--quiet")
    assert p.returncode == 1, p.stdout + p.stderr
    assert ":::MLLOG" not in p.stdout
    path = out / "result_0.txt"
    lines = parse(path)
    check_mllog_encoding(path)
    compliance(path, tmp_path)
    stop, = key_lines(lines, "run_stop")
    assert stop.value["metadata"]["status"] == "aborted"
    start, = key_lines(lines, "run_start")
    assert printed_ttt(p.stdout)[0] == ("aborted", stop.timestamp - start.timestamp)


@pytest.mark.skipif(os.environ.get("YARDSTICK_FULL_TRAINING") != "1",
                    reason="the full benchmark takes minutes: set YARDSTICK_FULL_TRAINING=1")
def test_full_training_reaches_the_target(tmp_path):
    assert Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz").exists(), \
        "apt-get install dataset-fashion-mnist"
    out = tmp_path / "logs"
    p = train(out, "--runs", "3", full=True, timeout=1800)
    assert p.returncode == 0, p.stdout + p.stderr
    ttt = printed_ttt(p.stdout)
    for i in range(3):
        lines = parse(out / f"result_{i}.txt")
        compliance(out / f"result_{i}.txt", tmp_path)
        acc = key_lines(lines, "eval_accuracy")[-1].value["value"]
        assert acc >= 0.90
        start, = key_lines(lines, "run_start")
        stop, = key_lines(lines, "run_stop")
        assert ttt[i] == ("success", stop.timestamp - start.timestamp)

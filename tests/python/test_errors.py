"""Misbehaving SUTs and sample libraries: a clear error, the run ends, no hang,
and the logs are complete and say what happened."""
from __future__ import annotations

import sys
import time

import numpy as np
import pytest

import yardstick.loadgen as lg
from conftest import read_detail
from helpers import NullHarness, log_settings, quick_settings


class Boom(Exception):
    pass


@pytest.mark.parametrize("scenario", ["SingleStream", "MultiStream", "Server", "Offline"])
def test_exception_in_issue_query(tmp_path, scenario):
    calls = []

    def issue(samples):
        calls.append(len(samples))
        if len(calls) == 3 or scenario == "Offline":
            raise Boom(f"bad query {len(calls)}")
        lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, 0, 0) for s in samples])

    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(64, 32, lambda i: None, lambda i: None)
    t = time.monotonic()
    with pytest.raises(Boom, match="bad query") as err:
        lg.StartTestWithLogSettings(sut, qsl, quick_settings(scenario, min_query_count=50), log_settings(tmp_path))
    assert time.monotonic() - t < 10
    lg.DestroySUT(sut)
    lg.DestroyQSL(qsl)
    assert len(calls) == (1 if scenario == "Offline" else 3)  # issuing stopped at the failure
    # Python 3.11+ has add_note: the error says that the test was stopped and where the logs are.
    notes = getattr(err.value, "__notes__", [])
    if sys.version_info >= (3, 11):
        assert len(notes) == 1, notes
        assert "raised in a LoadGen callback; the test was stopped" in notes[0], notes
        assert str(tmp_path / "mlperf_log_detail.txt") in notes[0], notes
    else:
        assert notes == []
    # The logs are complete and name the error.
    errors = read_detail(tmp_path)["error_runtime"]
    assert any("IssueQuery callback raised Boom: bad query" in e for e in errors)
    assert "Result is : INVALID" in (tmp_path / "mlperf_log_summary.txt").read_text()
    out = lg.last_test_outcome()
    assert not out["valid"] and any("Boom" in f for f in out["faults"])
    # The module is usable again afterwards.
    h = NullHarness()
    assert h.run(quick_settings("Offline", min_duration_ms=0), tmp_path / "again")["valid"]
    h.close()


def test_exception_in_load_samples(tmp_path):
    def load(indices):
        raise KeyError("no such sample file")

    sut = lg.ConstructSUT(lambda s: None, lambda: None)
    qsl = lg.ConstructQSL(64, 32, load, lambda i: None)
    with pytest.raises(KeyError, match="no such sample file"):
        lg.StartTestWithLogSettings(sut, qsl, quick_settings("Offline"), log_settings(tmp_path))
    lg.DestroySUT(sut)
    lg.DestroyQSL(qsl)
    assert (tmp_path / "mlperf_log_summary.txt").exists()


def test_exception_in_flush(tmp_path):
    h = NullHarness()

    def flush():
        raise Boom("flush failed")

    sut = lg.ConstructSUT(h.issue, flush)
    with pytest.raises(Boom, match="flush failed"):
        lg.StartTestWithLogSettings(sut, h.qsl, quick_settings("Offline", min_duration_ms=0), log_settings(tmp_path))
    lg.DestroySUT(sut)
    h.close()
    assert any("FlushQueries callback raised Boom" in e for e in read_detail(tmp_path)["error_runtime"])


def test_unknown_and_duplicate_response_ids(tmp_path):
    seen = []

    def issue(samples):
        rs = [lg.QuerySampleResponse(s.id, 0, 0) for s in samples]
        try:
            lg.QuerySamplesComplete(rs + [lg.QuerySampleResponse(0xDEAD, 0, 0)])
        except lg.CompletionFailed as e:
            seen.append(str(e))
        if len(seen) == 1:
            try:
                lg.QuerySamplesComplete(rs)  # the same samples again
            except ValueError as e:  # CompletionFailed is a ValueError
                seen.append(str(e))

    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(64, 32, lambda i: None, lambda i: None)
    lg.StartTestWithLogSettings(sut, qsl, quick_settings("SingleStream"), log_settings(tmp_path))
    lg.DestroySUT(sut)
    lg.DestroyQSL(qsl)
    assert "0xdead was never issued" in seen[0]
    assert "completed twice" in seen[1]
    out = lg.last_test_outcome()
    assert not out["valid"]  # refused completions make the test INVALID ...
    assert out["samples"] and out["samples"] > 20  # ... but the run went on
    errors = read_detail(tmp_path)["error_runtime"]
    assert any("never issued" in e for e in errors) and any("completed twice" in e for e in errors)


def test_bad_response_objects(tmp_path):
    problems = []

    def issue(samples):
        for bad in ([1, 2], [lg.QuerySampleResponse(samples[0].id, 0, 4)]):
            try:
                lg.QuerySamplesComplete(bad)
            except (TypeError, ValueError) as e:
                problems.append(type(e).__name__ + ": " + str(e))
        lg.QuerySamplesComplete(lg.QuerySampleResponse(s.id, 0, 0) for s in samples)  # a generator works

    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(8, 8, lambda i: None, lambda i: None)
    lg.StartTestWithLogSettings(sut, qsl, quick_settings("Offline", min_duration_ms=0, min_query_count=8),
                                log_settings(tmp_path))
    lg.DestroySUT(sut)
    lg.DestroyQSL(qsl)
    assert problems[0].startswith("TypeError: expected QuerySampleResponse objects, got int")
    assert "data address 0" in problems[1]
    assert lg.last_test_outcome()["valid"]


def test_stalled_sut_ends_the_run(tmp_path):
    lg.set_stall_timeout(0.5)
    sut = lg.ConstructSUT(lambda samples: None, lambda: None)  # never answers
    qsl = lg.ConstructQSL(16, 16, lambda i: None, lambda i: None)
    t = time.monotonic()
    lg.StartTestWithLogSettings(sut, qsl, quick_settings("Offline", min_query_count=16), log_settings(tmp_path))
    assert time.monotonic() - t < 5
    lg.DestroySUT(sut)
    lg.DestroyQSL(qsl)
    out = lg.last_test_outcome()
    assert not out["valid"] and "the SUT never answered" in out["faults"][0]


def test_keyboard_interrupt_in_callback_propagates(tmp_path):
    def issue(samples):
        raise KeyboardInterrupt

    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(16, 16, lambda i: None, lambda i: None)
    with pytest.raises(KeyboardInterrupt):
        lg.StartTestWithLogSettings(sut, qsl, quick_settings("Offline"), log_settings(tmp_path))
    lg.DestroySUT(sut)
    lg.DestroyQSL(qsl)


def test_start_test_inside_a_test_is_refused(tmp_path):
    inner_errors = []
    h = NullHarness()

    def issue(samples):
        try:
            lg.StartTestWithLogSettings(h.sut, h.qsl, quick_settings("Offline"), log_settings(tmp_path / "inner"))
        except RuntimeError as e:
            inner_errors.append(str(e))
        h.issue(samples)

    sut = lg.ConstructSUT(issue, lambda: None)
    lg.StartTestWithLogSettings(sut, h.qsl, quick_settings("Offline", min_duration_ms=0), log_settings(tmp_path))
    lg.DestroySUT(sut)
    h.close()
    assert "another test is running" in inner_errors[0]


def test_empty_library_is_an_error(tmp_path):
    sut = lg.ConstructSUT(lambda s: None, lambda: None)
    qsl = lg.ConstructQSL(0, 0, lambda i: None, lambda i: None)
    with pytest.raises(RuntimeError, match="at least 1"):
        lg.StartTestWithLogSettings(sut, qsl, quick_settings("Offline"), log_settings(tmp_path))
    lg.DestroySUT(sut)
    lg.DestroyQSL(qsl)


def test_response_callback(tmp_path):
    """response_cb runs for the responses that go to the accuracy log, before
    their bytes are read (it may move them to host memory first)."""
    host = np.zeros(64, dtype="<u4")
    called = []

    def to_host(response):
        called.append(response.id)
        idx = ids[response.id]
        host[idx] = idx + 1000
        response.data = host.ctypes.data + 4 * idx
        response.size = 4

    ids = {}

    def issue(samples):
        for s in samples:
            ids[s.id] = s.index
        # "device" responses: bogus address that must never be read
        lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, 8, 4) for s in samples], to_host)

    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(64, 32, lambda i: None, lambda i: None)
    lg.StartTestWithLogSettings(sut, qsl, quick_settings("Offline", "AccuracyOnly"), log_settings(tmp_path))
    import json
    entries = json.loads((tmp_path / "mlperf_log_accuracy.json").read_text())
    assert len(entries) == 64 and len(called) == 64
    assert all(int.from_bytes(bytes.fromhex(e["data"]), "little") == e["qsl_idx"] + 1000 for e in entries)
    # Performance mode logs nothing (probability 0): the callback is never called.
    called.clear()
    lg.StartTestWithLogSettings(sut, qsl, quick_settings("Offline", min_duration_ms=0, min_query_count=100),
                                log_settings(tmp_path / "perf"))
    assert called == [] and lg.last_test_outcome()["valid"]
    lg.DestroySUT(sut)
    lg.DestroyQSL(qsl)


def test_exception_in_response_callback(tmp_path):
    def cb(response):
        raise Boom("cb failed")

    def issue(samples):
        with pytest.raises(Boom):
            lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, 8, 4) for s in samples], cb)

    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(8, 8, lambda i: None, lambda i: None)
    lg.StartTestWithLogSettings(sut, qsl, quick_settings("Offline", "AccuracyOnly"), log_settings(tmp_path))
    lg.DestroySUT(sut)
    lg.DestroyQSL(qsl)
    import json
    entries = json.loads((tmp_path / "mlperf_log_accuracy.json").read_text())
    assert len(entries) == 8 and all(e["data"] == "" for e in entries)
    assert (tmp_path / "mlperf_log_summary.txt").exists()

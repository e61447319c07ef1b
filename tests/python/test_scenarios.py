"""A null SUT in every scenario and mode: the run completes, the logs say what
LoadGen's would, and every sample is answered exactly once."""
from __future__ import annotations

import json
import struct

import pytest

import yardstick.loadgen as lg
from conftest import is_valid, read_accuracy, read_detail, read_summary
from helpers import NullHarness, quick_settings

SCEN = ["SingleStream", "MultiStream", "Server", "Offline"]

# Per scenario: fields for a short run that a null SUT passes (Offline completes
# at once, so it cannot meet a minimum duration; Server needs enough queries for
# early stopping's 99th percentile estimate).
FAST = {
    "SingleStream": {},
    "MultiStream": {"min_query_count": 700},
    "Server": {"server_target_qps": 20000, "min_query_count": 1000},
    "Offline": {"min_duration_ms": 0, "min_query_count": 200},
}


def check_accuracy_log(d, expected_count=None):
    entries = read_accuracy(d)
    for e in entries:
        assert struct.unpack("<I", bytes.fromhex(e["data"]))[0] == e["qsl_idx"]
    if expected_count is not None:
        assert len(entries) == expected_count
    return entries


@pytest.mark.parametrize("scenario", SCEN)
@pytest.mark.parametrize("mode", ["PerformanceOnly", "AccuracyOnly", "SubmissionRun"])
def test_null_sut(tmp_path, scenario, mode):
    h = NullHarness(total=64, perf=32)
    out = h.run(quick_settings(scenario, mode, **FAST[scenario]), tmp_path)
    h.close()
    assert out["faults"] == []
    assert out["scenario"] == scenario and out["mode"] == mode
    detail = read_detail(tmp_path)
    assert detail["sut_name"] == ["PySUT"] and detail["qsl_name"] == ["PyQSL"]
    assert detail["loadgen_version"][0].startswith("6.0.17 @ yardstick")
    issued = sum(len(q) for q in h.issued)
    assert h.flushes >= 1 and len(h.loaded) >= 1
    if mode in ("AccuracyOnly", "SubmissionRun"):
        # every sample of the library once, in the accuracy log
        entries = check_accuracy_log(tmp_path)
        assert sorted(e["qsl_idx"] for e in entries) == list(range(64))
        assert out["accuracy_samples"] == 64
    else:
        assert read_accuracy(tmp_path) == []
    if mode == "AccuracyOnly":
        assert out["samples"] is None
        assert issued == 64
    else:
        assert out["valid"], (out, read_summary(tmp_path))
        assert is_valid(tmp_path)
        s = read_summary(tmp_path)
        assert s["SUT name"] == "PySUT" and s["Scenario"] == scenario
        assert out["samples"] == detail["result_query_count"][0] * detail["generated_samples_per_query"][0] \
            or scenario == "Offline"


def test_find_peak_performance(tmp_path):
    h = NullHarness()
    ts = quick_settings("Server", "FindPeakPerformance", server_target_qps=2000, min_query_count=700,
                        min_duration_ms=0, server_target_latency_ns=2_000_000,
                        server_find_peak_qps_decimals_of_precision=0,
                        server_find_peak_qps_boundary_step_size=64.0)
    out = h.run(ts, tmp_path)
    h.close()
    detail = read_detail(tmp_path)
    msgs = [m for m in detail.get("generic_message", []) if "FindPeak" in m or "FindBoundaries" in m]
    assert msgs, detail.get("generic_message")
    assert out["samples"] and out["samples"] > 0


def test_find_peak_outside_server_is_an_error_in_the_log(tmp_path):
    h = NullHarness()
    h.run(quick_settings("Offline", "FindPeakPerformance", min_duration_ms=0), tmp_path)
    h.close()
    assert "Finding peak performance is only supported in Server scenarios." in \
        read_detail(tmp_path)["error_invalid_config"]


def test_fast_sut(tmp_path):
    data = lg.QuerySampleList()  # unused; the fast SUT gets lists of int
    base_buf = __import__("numpy").arange(64, dtype="<u4")
    base = base_buf.ctypes.data
    got = []

    def fast_issue(ids, indices):
        assert isinstance(ids, list) and isinstance(indices, list)
        got.append(list(indices))
        lg.QuerySamplesComplete([lg.QuerySampleResponse(i, base + 4 * x, 4) for i, x in zip(ids, indices)])

    sut = lg.ConstructFastSUT(fast_issue, lambda: None)
    qsl = lg.ConstructQSL(64, 32, lambda i: None, lambda i: None)
    from helpers import log_settings
    lg.StartTestWithLogSettings(sut, qsl, quick_settings("MultiStream", "SubmissionRun", **FAST["MultiStream"]),
                                log_settings(tmp_path))
    lg.DestroySUT(sut)
    lg.DestroyQSL(qsl)
    assert got and len(data) == 0
    assert read_detail(tmp_path)["sut_name"] == ["PyFastSUT"]
    check_accuracy_log(tmp_path, 64)
    assert is_valid(tmp_path)


def test_qdl_name_and_default_log_settings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = __import__("numpy").arange(16, dtype="<u4")

    def issue(samples):
        lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, data.ctypes.data + 4 * s.index, 4)
                                 for s in samples])

    qdl = lg.ConstructQDL(issue, lambda: None, lambda: "remote-sut")
    qsl = lg.ConstructQSL(16, 16, lambda i: None, lambda i: None)
    lg.StartTest(qdl, qsl, quick_settings("SingleStream"))  # logs in the working directory, trace on
    lg.DestroyQDL(qdl)
    lg.DestroyQSL(qsl)
    assert read_detail(tmp_path)["sut_name"] == ["remote-sut"]
    assert (tmp_path / "mlperf_log_trace.json").exists()
    json.loads((tmp_path / "mlperf_log_trace.json").read_text())


def test_log_file_names(tmp_path):
    h = NullHarness()
    ls = lg.LogSettings()
    ls.log_output.outdir = str(tmp_path / "new" / "dir")
    ls.log_output.prefix = "p_"
    ls.log_output.suffix = "_s"
    ls.log_output.prefix_with_datetime = True
    ls.enable_trace = False
    lg.StartTestWithLogSettings(h.sut, h.qsl, quick_settings("Offline", **FAST["Offline"]), ls)
    h.close()
    names = sorted(p.name for p in (tmp_path / "new" / "dir").iterdir())
    assert len(names) == 3
    assert all(n.startswith("p_") for n in names)
    assert any(n.endswith("summary_s.txt") for n in names)


def test_tokens_and_first_token(tmp_path):
    import numpy as np
    data = np.arange(64, dtype="<u4")
    base = data.ctypes.data

    def issue(samples):
        lg.FirstTokenComplete([lg.QuerySampleResponse(s.id, base + 4 * s.index, 4) for s in samples])
        lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, base + 4 * s.index, 4, 2 + s.index % 7)
                                 for s in samples])

    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(64, 32, lambda i: None, lambda i: None)
    from helpers import log_settings
    ts = quick_settings("Server", "SubmissionRun", use_token_latencies=True, **FAST["Server"])
    lg.StartTestWithLogSettings(sut, qsl, ts, log_settings(tmp_path))
    lg.DestroySUT(sut)
    lg.DestroyQSL(qsl)
    entries = read_accuracy(tmp_path)
    assert len(entries) == 64 and all(e["token_count"] == 2 + e["qsl_idx"] % 7 for e in entries)
    s = read_summary(tmp_path)
    assert "Completed tokens per second" in s
    assert lg.last_test_outcome()["faults"] == []


def test_audit_config_overrides_settings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "audit.config").write_text("*.*.performance_issue_same = 1\n*.*.performance_issue_same_index = 3\n")
    h = NullHarness()
    lg.StartTest(h.sut, h.qsl, quick_settings("SingleStream"))
    h.close()
    assert all(q == [h.issued[0][0]] for q in h.issued) and len(h.issued) > 10
    assert any("audit.config" in w for w in read_detail(tmp_path)["warning_generic_message"])

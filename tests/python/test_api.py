"""The API surface: names, attributes, defaults and types of the official module."""
from __future__ import annotations

import copy
import os
import pickle
import subprocess
import sys
import textwrap

import pytest

import yardstick.loadgen as lg
from conftest import official_env

OFFICIAL_NAMES = [
    "ConstructFastSUT", "ConstructQDL", "ConstructQSL", "ConstructSUT",
    "DestroyFastSUT", "DestroyQDL", "DestroyQSL", "DestroySUT",
    "FirstTokenComplete", "LogOutputSettings", "LogSettings", "LoggingMode",
    "QuerySample", "QuerySampleResponse", "QuerySamplesComplete",
    "StartTest", "StartTestWithLogSettings", "TestMode", "TestScenario", "TestSettings",
    "VectorQuerySample", "VectorQuerySampleResponse",
]

SETTINGS_DEFAULTS = {
    "scenario": lg.TestScenario.SingleStream, "mode": lg.TestMode.PerformanceOnly,
    "single_stream_expected_latency_ns": 1e6, "single_stream_target_latency_percentile": 0.9,
    "multi_stream_expected_latency_ns": 8e6, "multi_stream_target_latency_percentile": 0.99,
    "multi_stream_samples_per_query": 8, "server_target_qps": 1.0,
    "server_target_latency_ns": 100_000_000, "server_target_latency_percentile": 0.99,
    "server_coalesce_queries": False, "server_find_peak_qps_decimals_of_precision": 1,
    "server_find_peak_qps_boundary_step_size": 1.0, "server_max_async_queries": 0,
    "server_num_issue_query_threads": 0, "offline_expected_qps": 1.0,
    "sample_concatenate_permutation": False, "min_duration_ms": 10_000, "max_duration_ms": 0,
    "min_query_count": 100, "max_query_count": 0, "qsl_rng_seed": 0, "sample_index_rng_seed": 0,
    "schedule_rng_seed": 0, "accuracy_log_rng_seed": 0, "accuracy_log_probability": 0.0,
    "accuracy_log_sampling_target": 0, "test05": False, "test05_qsl_rng_seed": 0,
    "test05_sample_index_rng_seed": 0, "test05_schedule_rng_seed": 0, "print_timestamps": False,
    "performance_issue_unique": False, "performance_issue_same": False,
    "performance_issue_same_index": 0, "performance_sample_count_override": 0,
    "accuracy_sample_count_override": 0, "use_token_latencies": False,
    "ttft_latency": 100_000_000, "tpot_latency": 100_000_000, "infer_token_latencies": False,
    "token_latency_scaling_factor": 0,
}


def test_every_official_name_is_here():
    missing = [n for n in OFFICIAL_NAMES if not hasattr(lg, n)]
    assert not missing


def test_same_public_names_as_the_official_module(official):
    ours = {n for n in dir(lg) if not n.startswith("_")}
    theirs = {n for n in dir(official) if not n.startswith("_")}
    assert theirs - ours == set()


def test_settings_defaults():
    ts = lg.TestSettings()
    for k, v in SETTINGS_DEFAULTS.items():
        assert getattr(ts, k) == v, k
        assert type(getattr(ts, k)) is type(v), k


@pytest.mark.parametrize("cls", ["TestSettings", "LogSettings", "LogOutputSettings", "QuerySample",
                                 "QuerySampleResponse"])
def test_same_attributes_and_defaults_as_official(official, cls):
    a, b = getattr(official, cls)(), getattr(lg, cls)()
    names = {n for n in dir(a) if not n.startswith("_")}
    assert names - set(dir(b)) == set()
    for n in names:
        va, vb = getattr(a, n), getattr(b, n)
        if callable(va) or n == "log_output":
            continue
        if hasattr(va, "name"):  # enums
            assert va.name == vb.name, n
        else:
            assert va == vb, n


def test_enums_match_official(official):
    for e in ("TestScenario", "TestMode", "LoggingMode"):
        for name, member in getattr(official, e).__members__.items():
            ours = getattr(getattr(lg, e), name)
            assert int(ours) == int(member)
            assert ours.name == name and ours.value == int(member)
            assert str(ours) == str(member)


def test_enum_semantics():
    s = lg.TestScenario.Server
    assert s == lg.TestScenario.Server and s != lg.TestScenario.Offline
    assert int(s) == 2 and s.name == "Server"
    assert {s: 1}[lg.TestScenario.Server] == 1
    assert [0, 1, 2, 3][lg.TestScenario.Offline] == 3  # __index__


def test_settings_types_are_checked():
    ts = lg.TestSettings()
    with pytest.raises(TypeError):
        ts.min_duration_ms = 1.5
    with pytest.raises((OverflowError, TypeError)):
        ts.min_query_count = -1
    with pytest.raises(TypeError):
        ts.scenario = 2
    ts.server_target_qps = 7  # ints are fine for doubles
    assert ts.server_target_qps == 7.0
    ts.server_coalesce_queries = 1  # truthy values for bools, as pybind11
    assert ts.server_coalesce_queries is True
    ts.ttft_latency = 5
    assert ts.ttft_latency == 5
    assert "ttft_latency=5" in repr(ts)


def test_settings_copy():
    ts = lg.TestSettings()
    ts.min_query_count = 7
    c = copy.copy(ts)
    c.min_query_count = 8
    assert ts.min_query_count == 7 and c.min_query_count == 8


def test_log_settings_hold_log_output_by_reference():
    ls = lg.LogSettings()
    assert ls.enable_trace is True and ls.log_mode == lg.LoggingMode.AsyncPoll
    assert ls.log_mode_async_poll_interval_ms == 1000
    ls.log_output.outdir = "/tmp/x"
    ls.log_output.prefix_with_datetime = True
    assert ls.log_output.outdir == "/tmp/x" and ls.log_output.prefix_with_datetime
    o = lg.LogOutputSettings()
    o.suffix = "_a"
    ls.log_output = o
    o.suffix = "_b"  # assignment copied it, as pybind11 does
    assert ls.log_output.suffix == "_a"
    from pathlib import Path
    ls.log_output.outdir = Path("/tmp/y")
    assert ls.log_output.outdir == "/tmp/y"


def test_query_sample_and_response():
    s = lg.QuerySample(3, 4)
    assert (s.id, s.index) == (3, 4)
    s.index = 9
    assert s.index == 9
    assert lg.QuerySample().id == 0
    r = lg.QuerySampleResponse(1, 2, 3)
    assert (r.id, r.data, r.size, r.n_tokens) == (1, 2, 3, 0)
    r = lg.QuerySampleResponse(1, 2, 3, 4)
    assert r.n_tokens == 4
    r.n_tokens = -2
    assert r.n_tokens == -2
    r = lg.QuerySampleResponse(id=5, data=6, size=7)
    assert (r.id, r.data, r.size) == (5, 6, 7)
    assert lg.QuerySampleResponse().size == 0
    import numpy as np
    r = lg.QuerySampleResponse(np.int64(8), np.uint64(2**63), 1)  # __index__ accepted
    assert r.id == 8 and r.data == 2**63
    with pytest.raises(TypeError):
        lg.QuerySampleResponse(1.5, 0, 0)
    with pytest.raises(OverflowError):
        lg.QuerySampleResponse(-1, 0, 0)
    with pytest.raises(TypeError):
        lg.QuerySampleResponse(1, 2, 3, 4, 5)
    with pytest.raises(TypeError):
        lg.QuerySampleResponse(1, id=2)
    with pytest.raises(TypeError):
        lg.QuerySampleResponse(bogus=2)
    assert "QuerySampleResponse(id=1" in repr(lg.QuerySampleResponse(1, 2, 3))


def test_pickle_samples_and_responses():
    s = pickle.loads(pickle.dumps(lg.QuerySample(2**60, 7)))
    assert (s.id, s.index) == (2**60, 7)
    r = pickle.loads(pickle.dumps(lg.QuerySampleResponse(1, 2, 3, 4)))
    assert (r.id, r.data, r.size, r.n_tokens) == (1, 2, 3, 4)
    r2 = copy.copy(r)
    assert r2.size == 3 and r2 is not r


def test_handles_are_checked():
    sut = lg.ConstructSUT(lambda s: None, lambda: None)
    qsl = lg.ConstructQSL(10, 10, lambda i: None, lambda i: None)
    ts = lg.TestSettings()
    with pytest.raises(ValueError, match="is a QSL"):
        lg.StartTest(qsl, qsl, ts)
    with pytest.raises(ValueError, match="not a live QSL"):
        lg.StartTest(sut, 12345, ts)
    lg.DestroySUT(sut)
    with pytest.raises(ValueError, match="not a live SUT"):
        lg.DestroySUT(sut)
    lg.DestroyQSL(qsl)
    fast = lg.ConstructFastSUT(lambda i, x: None, lambda: None)
    lg.DestroyFastSUT(fast)
    qdl = lg.ConstructQDL(lambda s: None, lambda: None, lambda: "name")
    lg.DestroyQDL(qdl)


def test_completion_outside_a_test_is_an_error():
    with pytest.raises(RuntimeError, match="no test is running"):
        lg.QuerySamplesComplete([lg.QuerySampleResponse(1, 0, 0)])
    with pytest.raises(RuntimeError, match="no test is running"):
        lg.FirstTokenComplete([lg.QuerySampleResponse(1, 0, 0)])


def test_stall_timeout_argument():
    with pytest.raises(ValueError):
        lg.set_stall_timeout(0)
    lg.set_stall_timeout(1.5)


FROM_CONFIG = textwrap.dedent("""
    import json, sys, os, importlib
    lg = importlib.import_module(sys.argv[1])
    conf, model, scenario = sys.argv[2:5]
    ts = lg.TestSettings()
    rc = ts.FromConfig(conf, model, scenario)
    ts2 = lg.TestSettings()
    rc2 = ts2.FromConfig(conf, model, scenario)   # the second: no mlperf.conf first
    ts3 = lg.TestSettings()
    ts3.FromConfig("ignored", model, scenario, 0)  # mlperf.conf only
    def dump(t):
        out = {}
        for k in dir(t):
            if k.startswith("_"): continue
            v = getattr(t, k)
            if callable(v): continue
            out[k] = v.name if hasattr(v, "name") else v
        return out
    print(json.dumps({"rc": [rc, rc2], "first": dump(ts), "second": dump(ts2), "mlperf": dump(ts3),
                      "file": os.path.realpath(lg.__file__)}))
""")


@pytest.mark.parametrize("model,scenario", [("resnet50", "Offline"), ("llama2-70b", "Server"),
                                            ("bert-99", "SingleStream"), ("unknown", "MultiStream")])
def test_from_config_matches_official(ref_official, tmp_path, model, scenario):
    conf = tmp_path / "user.conf"
    conf.write_text(textwrap.dedent("""
        # user.conf
        *.Offline.target_qps = 1234.5
        *.Server.target_qps = 99
        resnet50.*.performance_sample_count_override = 77
        *.SingleStream.target_latency = 3
        *.MultiStream.target_latency = 9
        *.*.min_duration = 600
        llama2-70b.Server.min_query_count = 5
    """))
    script = tmp_path / "fc.py"
    script.write_text(FROM_CONFIG)
    import json
    out = {}
    for mod, py, env in (("mlperf_loadgen", ref_official.python, official_env()),
                         ("yardstick.loadgen", sys.executable, None)):
        r = subprocess.run([py, str(script), mod, str(conf), model, scenario], capture_output=True,
                           text=True, timeout=60, env=env)
        assert r.returncode == 0, r.stderr
        out[mod] = json.loads(r.stdout.strip().splitlines()[-1])
    a, b = out["mlperf_loadgen"], out["yardstick.loadgen"]
    assert a["file"] == ref_official.file, "the official side did not run the proven official wheel"
    assert b["file"] == os.path.realpath(lg.__file__)
    assert a["rc"] == b["rc"] == [0, 0]
    for part in ("first", "second", "mlperf"):
        diffs = {k: (a[part][k], b[part][k]) for k in a[part] if a[part][k] != b[part][k]}
        assert not diffs, (part, diffs)


@pytest.mark.filterwarnings("ignore:Multiple conf files")
def test_from_config_errors(tmp_path):
    ts = lg.TestSettings()
    with pytest.raises(FileNotFoundError, match="can't open file"):
        ts.FromConfig(str(tmp_path / "missing.conf"), "resnet50", "Offline")
    bad = tmp_path / "bad.conf"
    bad.write_text("*.Offline.target_qps=3\n")
    with pytest.raises(ValueError, match="bad.conf:1"):
        ts.FromConfig(str(bad), "resnet50", "Offline")
    with pytest.raises(ValueError, match="conf_type"):
        ts.FromConfig(str(bad), "resnet50", "Offline", 7)
    unknown = tmp_path / "unknown.conf"
    unknown.write_text("*.Offline.no_such_key = 3\n")
    with pytest.warns(UserWarning, match="no_such_key"):
        ts.FromConfig(str(unknown), "resnet50", "Offline")

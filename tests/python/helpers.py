"""A null SUT and a small test runner for in-process tests of yardstick.loadgen."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import yardstick.loadgen as lg

SCENARIOS = {
    "SingleStream": lg.TestScenario.SingleStream,
    "MultiStream": lg.TestScenario.MultiStream,
    "Server": lg.TestScenario.Server,
    "Offline": lg.TestScenario.Offline,
}
MODES = {
    "SubmissionRun": lg.TestMode.SubmissionRun,
    "AccuracyOnly": lg.TestMode.AccuracyOnly,
    "PerformanceOnly": lg.TestMode.PerformanceOnly,
    "FindPeakPerformance": lg.TestMode.FindPeakPerformance,
}


def quick_settings(scenario: str, mode: str = "PerformanceOnly", **fields) -> "lg.TestSettings":
    """Settings for a run of well under a second."""
    ts = lg.TestSettings()
    ts.scenario = SCENARIOS[scenario]
    ts.mode = MODES[mode]
    ts.min_duration_ms = 50
    ts.min_query_count = 20
    ts.single_stream_expected_latency_ns = 2_000
    ts.multi_stream_expected_latency_ns = 2_000
    ts.server_target_qps = 2000
    ts.offline_expected_qps = 1000
    for k, v in fields.items():
        setattr(ts, k, v)
    return ts


def log_settings(outdir: Path, trace: bool = False) -> "lg.LogSettings":
    ls = lg.LogSettings()
    ls.log_output.outdir = str(outdir)
    ls.log_output.copy_summary_to_stdout = False
    ls.enable_trace = trace
    return ls


class NullHarness:
    """Answers every sample at once, inside IssueQuery, with the sample index as
    4 little-endian bytes; records what LoadGen asked for."""

    def __init__(self, total: int = 64, perf: int = 32):
        self.data = np.arange(total, dtype="<u4")
        self.base = self.data.ctypes.data
        self.issued: list[list[int]] = []
        self.loaded: list[list[int]] = []
        self.unloaded: list[list[int]] = []
        self.flushes = 0
        self.sut = lg.ConstructSUT(self.issue, self.flush)
        self.qsl = lg.ConstructQSL(total, perf, self.load, self.unload)

    def issue(self, samples):
        self.issued.append([s.index for s in samples])
        lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, self.base + 4 * s.index, 4) for s in samples])

    def flush(self):
        self.flushes += 1

    def load(self, indices):
        self.loaded.append(list(indices))

    def unload(self, indices):
        self.unloaded.append(list(indices))

    def run(self, settings, outdir: Path, trace: bool = False):
        lg.StartTestWithLogSettings(self.sut, self.qsl, settings, log_settings(outdir, trace))
        return lg.last_test_outcome()

    def close(self):
        lg.DestroyQSL(self.qsl)
        lg.DestroySUT(self.sut)

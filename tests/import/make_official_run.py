"""Makes official MLPerf LoadGen output folders for the import tests.

Runs the official `mlperf_loadgen` wheel (mlcommons-loadgen, installed in
.venv-ref by .ci/setup-python.sh) with a null SUT that answers every sample
at once, and writes LoadGen's own files:

    OUTDIR/offline/mlperf_log_summary.txt, mlperf_log_detail.txt, ...
    OUTDIR/server/...
    OUTDIR/singlestream/...

Usage: make_official_run.py OUTDIR
"""

import os
import sys

import numpy as np
import mlperf_loadgen as lg

TOTAL = 1024
PERF = 256

RUNS = {
    "offline": (lg.TestScenario.Offline, {"offline_expected_qps": 2000.0, "min_duration_ms": 200, "min_query_count": 1}),
    "server": (lg.TestScenario.Server, {"server_target_qps": 500.0, "server_target_latency_ns": 50_000_000,
                                        "min_duration_ms": 500, "min_query_count": 100}),
    "singlestream": (lg.TestScenario.SingleStream, {"single_stream_expected_latency_ns": 100_000,
                                                    "min_duration_ms": 200, "min_query_count": 200}),
}


def run(outdir, scenario, settings):
    os.makedirs(outdir, exist_ok=True)
    data = np.arange(TOTAL, dtype="<u4")
    base = data.ctypes.data

    def issue(samples):
        lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, base + 4 * s.index, 4) for s in samples])

    ts = lg.TestSettings()
    ts.scenario = scenario
    ts.mode = lg.TestMode.PerformanceOnly
    for k, v in settings.items():
        setattr(ts, k, v)
    ls = lg.LogSettings()
    ls.log_output.outdir = outdir
    ls.log_output.copy_summary_to_stdout = False
    ls.enable_trace = False
    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(TOTAL, PERF, lambda idx: None, lambda idx: None)
    lg.StartTestWithLogSettings(sut, qsl, ts, ls)
    lg.DestroyQSL(qsl)
    lg.DestroySUT(sut)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    for name, (scenario, settings) in RUNS.items():
        run(os.path.join(out, name), scenario, settings)
        print(os.path.join(out, name))


if __name__ == "__main__":
    main()

"""Writes tests/data/official_mllog.txt: lines written by mlperf-logging's own
`mllog` (the golden lines yardstick-formats must read and write byte for byte).

    .venv-ref/bin/python crates/formats/tests/data/gen_official.py
(after .ci/setup-training-python.sh; mlperf-logging==4.1.68, numpy).
"""
import logging
import sys
from pathlib import Path

import numpy as np
from mlperf_logging.mllog.mllog import MLLogger
from mlperf_logging.mllog import constants

out = Path(__file__).with_name("official_mllog.txt")
logger = logging.getLogger("golden")
logger.propagate = False
logger.setLevel(logging.INFO)
handler = logging.FileHandler(out, mode="w")
logger.addHandler(handler)
ml = MLLogger(logger=logger, root_dir=str(Path(__file__).parent))

ml.event(key=constants.CACHE_CLEAR, value=True)
ml.start(key=constants.INIT_START)
ml.event(key=constants.SUBMISSION_BENCHMARK, value="llama31_8b")
ml.event(key=constants.SUBMISSION_ORG, value="Ex\u00e4mple \u2603 \U0001F600 \"q\" \\ \t\n")
ml.event(key=constants.SEED, value=2**64 + 1)
ml.event(key=constants.GLOBAL_BATCH_SIZE, value=np.int64(512))
ml.event(key=constants.OPT_BASE_LR, value=np.float32(0.1))
ml.event(key=constants.OPT_ADAMW_EPSILON, value=1e-08)
ml.event(key="weird_floats", value=[float("nan"), float("inf"), -float("inf"), -0.0, 0.1 + 0.2, 1e16, 1e-5, 123456789012345.6])
ml.event(key="array", value=np.arange(3, dtype=np.float64) / 3)
ml.event(key="nested", value={"z": [1, {"b": None, "a": False}], "a": "x"}, metadata={"extra": {"k": [1.5]}})
ml.event(key="overridden", value=1, metadata={"file": "given.py", "epoch_num": 3})
ml.event(key="explicit_time", value=None, time_ms=1700000000123.5)
ml.event(key="namespaced", value=0, namespace="worker0")
ml.event(key="clear", value=0, clear_line=True)
ml.end(key=constants.INIT_STOP)
ml.start(key=constants.RUN_START)
ml.event(key=constants.EVAL_ACCURACY, value=0.7512345, metadata={"epoch_num": 1.25, "samples_count": 4096})
ml.end(key=constants.RUN_STOP, metadata={"status": "success"})
handler.close()
print(f"wrote {out}", file=sys.stderr)

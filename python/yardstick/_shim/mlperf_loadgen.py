"""``mlperf_loadgen`` shim: this directory is put first on PYTHONPATH by
``python -m yardstick.mlperf_loadgen --pythonpath`` so that ``import mlperf_loadgen``
gives ``yardstick.loadgen`` (the official wheel, if installed, is shadowed)."""
import sys

import yardstick.loadgen as _impl

sys.modules[__name__] = _impl

"""The MLPerf LoadGen Python API (``mlperf_loadgen`` 6.0.17) on the yardstick core.

Port a harness by changing one import::

    import yardstick.loadgen as lg          # was: import mlperf_loadgen as lg

or leave the harness untouched and make ``import mlperf_loadgen`` resolve here:

* ``python -m yardstick.mlperf_loadgen harness.py ARGS...`` runs the harness with
  ``mlperf_loadgen`` bound to this module;
* ``export PYTHONPATH="$(python -m yardstick.mlperf_loadgen --pythonpath):$PYTHONPATH"``
  puts a ``mlperf_loadgen`` shim first on the path (subprocesses included);
* ``yardstick.loadgen.install()`` in code, before the harness imports it.

Everything of the official module is here with the same names, signatures and
defaults: ``TestSettings`` (every field, ``FromConfig``), ``LogSettings``,
``LogOutputSettings``, ``TestScenario``, ``TestMode``, ``LoggingMode``,
``QuerySample``, ``QuerySampleResponse``, ``ConstructSUT``, ``ConstructFastSUT``,
``ConstructQDL``, ``ConstructQSL``, the ``Destroy*`` functions, ``StartTest``,
``StartTestWithLogSettings``, ``QuerySamplesComplete`` and ``FirstTokenComplete``.
The differences (all where the official module crashes, hangs or hides an
error, plus the sample list type) are listed in python/README.md.

Extensions, in snake_case: ``last_test_outcome()``, ``set_stall_timeout(s)``,
``set_power(source)`` (or ``YARDSTICK_POWER``; see docs/power.md), ``QuerySampleList.ids()`` / ``.indices()``, ``install()``, ``CompletionFailed``.
"""
from __future__ import annotations

import collections.abc as _abc
import sys as _sys

from yardstick import _loadgen
from yardstick._loadgen import (  # noqa: F401  (the public API)
    LOADGEN_COMPAT_VERSION,
    CompletionFailed,
    ConstructFastSUT,
    ConstructQDL,
    ConstructQSL,
    ConstructSUT,
    DestroyFastSUT,
    DestroyQDL,
    DestroyQSL,
    DestroySUT,
    FirstTokenComplete,
    LoggingMode,
    LogOutputSettings,
    LogSettings,
    QuerySample,
    QuerySampleList,
    QuerySampleResponse,
    QuerySamplesComplete,
    StartTest,
    StartTestWithLogSettings,
    TestMode,
    TestScenario,
    TestSettings,
    __version__,
    last_test_outcome,
    set_power,
    set_stall_timeout,
)

# IssueQuery receives a QuerySampleList: a list in all but type.
_abc.MutableSequence.register(QuerySampleList)

# The official module's vector types (pybind11 bind_vector); plain lists are
# what its functions take and give, and so here.
VectorQuerySample = list
VectorQuerySampleResponse = list

__all__ = [
    "TestScenario", "TestMode", "LoggingMode", "TestSettings", "LogOutputSettings",
    "LogSettings", "QuerySample", "QuerySampleResponse", "QuerySampleList",
    "VectorQuerySample", "VectorQuerySampleResponse",
    "ConstructSUT", "DestroySUT", "ConstructFastSUT", "DestroyFastSUT",
    "ConstructQDL", "DestroyQDL", "ConstructQSL", "DestroyQSL",
    "StartTest", "StartTestWithLogSettings", "QuerySamplesComplete", "FirstTokenComplete",
    "CompletionFailed", "last_test_outcome", "set_power", "set_stall_timeout", "install",
    "LOADGEN_COMPAT_VERSION",
]


def install() -> None:
    """Make ``import mlperf_loadgen`` give this module from now on (in this process).

    Call it before the harness imports ``mlperf_loadgen``; a harness that already
    imported the official module keeps it.
    """
    _sys.modules["mlperf_loadgen"] = _sys.modules[__name__]

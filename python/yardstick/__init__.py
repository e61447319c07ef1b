"""yardstick: fair, fast, reproducible benchmarks for ML systems.

``yardstick.loadgen`` is a drop-in replacement for the official MLPerf LoadGen
Python module (``mlperf_loadgen``)::

    import yardstick.loadgen as lg      # instead of: import mlperf_loadgen as lg
"""

from yardstick._loadgen import __version__  # noqa: F401

__all__ = ["__version__"]

"""Run a harness with ``mlperf_loadgen`` bound to ``yardstick.loadgen``.

    python -m yardstick.mlperf_loadgen harness.py [ARGS...]
    python -m yardstick.mlperf_loadgen -m package.module [ARGS...]
    python -m yardstick.mlperf_loadgen --pythonpath   # prints the shim directory:
        export PYTHONPATH="$(python -m yardstick.mlperf_loadgen --pythonpath):$PYTHONPATH"
"""
from __future__ import annotations

import os
import runpy
import sys

SHIM_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_shim")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if args else 2
    if args[0] == "--pythonpath":
        print(SHIM_DIR)
        return 0
    import yardstick.loadgen as lg

    lg.install()
    # Subprocesses of the harness get the shim too.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (SHIM_DIR, os.environ.get("PYTHONPATH", "")) if p
    )
    if args[0] == "-m":
        if len(args) < 2:
            print("yardstick.mlperf_loadgen: -m needs a module name", file=sys.stderr)
            return 2
        sys.argv = args[1:]
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = args
        sys.path.insert(0, os.path.dirname(os.path.abspath(args[0])))
        runpy.run_path(args[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())

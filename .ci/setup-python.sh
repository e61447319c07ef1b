#!/usr/bin/env bash
# Creates (idempotently) the reference Python environment at <repo>/.venv-ref with the
# official MLPerf LoadGen wheel and what the differential tests and benchmarks need.
#
#   .ci/setup-python.sh            # create or update .venv-ref
#   PYTHON=python3.11 .ci/setup-python.sh
#   VENV_DIR=/some/where .ci/setup-python.sh
#
# Afterwards:  .venv-ref/bin/python -m pytest tests/differential
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_DIR="${VENV_DIR:-$REPO_ROOT/.venv-ref}"
PYTHON="${PYTHON:-python3}"
# onnxruntime: the ONNX SUT tests load its libonnxruntime.so; onnx: the
# export script of models/fashion-mnist and a published model in its wheel.
PACKAGES=("mlcommons-loadgen==6.0.17" "numpy" "pytest" "onnxruntime==1.24.4" "onnx==1.20.1")

say() { echo "[setup-python] $*"; }
die() { echo "[setup-python] ERROR: $*" >&2; exit 1; }

source "$REPO_ROOT/.ci/lib/venv.sh"
ensure_venv "$VENV_DIR" "$PYTHON" "[setup-python]" || exit 1

PIP=("$VENV_DIR/bin/python" -m pip --disable-pip-version-check)
say "installing: ${PACKAGES[*]}"
"${PIP[@]}" install --quiet "${PACKAGES[@]}" || die "pip install failed"

# Check that the reference module imports and is the expected version.
"$VENV_DIR/bin/python" - <<'EOF' || die "the installed packages do not import"
import importlib.metadata as md
import mlperf_loadgen, numpy, pytest
v = md.version("mlcommons-loadgen")
assert v == "6.0.17", f"mlcommons-loadgen is {v}, expected 6.0.17"
print(f"[setup-python] ok: mlcommons-loadgen {v}, numpy {numpy.__version__}, pytest {pytest.__version__}")
EOF
say "done: $VENV_DIR/bin/python"

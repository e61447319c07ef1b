#!/usr/bin/env bash
# Installs (idempotently) the MLPerf Training logging package, mlperf-logging,
# into the reference Python environment <repo>/.venv-ref (created when
# missing), for tests/training: they check yardstick's `:::MLLOG` lines with
# the package's own parser and compliance rules.
#
#   .ci/setup-training-python.sh            # create or update .venv-ref
#   PYTHON=python3.11 .ci/setup-training-python.sh
#   VENV_DIR=/some/where .ci/setup-training-python.sh
#
# Afterwards:  .venv-ref/bin/python -m pytest tests/training
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_DIR="${VENV_DIR:-$REPO_ROOT/.venv-ref}"
PYTHON="${PYTHON:-python3}"
# Pinned: the tests compare against this version's parser and rules.
MLPERF_LOGGING_VERSION="4.1.68"
PACKAGES=("mlperf-logging==$MLPERF_LOGGING_VERSION" "pytest")

say() { echo "[setup-training-python] $*"; }
die() { echo "[setup-training-python] ERROR: $*" >&2; exit 1; }

source "$REPO_ROOT/.ci/lib/venv.sh"
ensure_venv "$VENV_DIR" "$PYTHON" "[setup-training-python]" || exit 1

PY="$VENV_DIR/bin/python"
check() {
    MLPERF_LOGGING_VERSION="$MLPERF_LOGGING_VERSION" "$PY" -c '
import importlib.metadata as md, os
v = md.version("mlperf-logging")
assert v == os.environ["MLPERF_LOGGING_VERSION"], v
import pytest, yaml
from mlperf_logging import mllog
from mlperf_logging.compliance_checker import mlp_compliance, mlp_parser
print(f"[setup-training-python] ok: mlperf-logging {v}, pytest {pytest.__version__}")
'
}

if check 2>/dev/null; then
    say "already installed"
else
    say "installing: ${PACKAGES[*]}"
    "$PY" -m pip --disable-pip-version-check install --quiet "${PACKAGES[@]}" || die "pip install failed"
    check || die "mlperf-logging does not import"
fi
say "done: $PY"

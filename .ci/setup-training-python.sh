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

command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found; install python3 first"

venv_works() {
    # `python3 -m venv` exists on Debian without python3-venv but then fails on ensurepip.
    local probe
    probe="$(mktemp -d)"
    if "$PYTHON" -m venv "$probe/v" >/dev/null 2>&1 && [ -x "$probe/v/bin/pip" ]; then
        rm -rf "$probe"; return 0
    fi
    rm -rf "$probe"; return 1
}

if [ -x "$VENV_DIR/bin/python" ] && "$VENV_DIR/bin/python" -m pip --version >/dev/null 2>&1; then
    say "venv already present at $VENV_DIR"
else
    if ! venv_works; then
        say "'$PYTHON -m venv' does not work here (python3-venv missing?)"
        if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
            pyver="$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq || die "apt-get update failed"
            if apt-cache show "python${pyver}-venv" >/dev/null 2>&1; then
                apt-get install -y -qq python3-venv "python${pyver}-venv" || die "apt-get install failed"
            else
                apt-get install -y -qq python3-venv || die "apt-get install python3-venv failed"
            fi
            venv_works || die "'$PYTHON -m venv' still fails after installing python3-venv"
        else
            die "install the venv module for $PYTHON (Debian: apt-get install python3-venv) and rerun"
        fi
    fi
    rm -rf "$VENV_DIR"
    say "creating venv at $VENV_DIR"
    "$PYTHON" -m venv "$VENV_DIR" || die "venv creation failed"
fi

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

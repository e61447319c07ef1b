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
PACKAGES=("mlcommons-loadgen==6.0.17" "numpy" "pytest")

say() { echo "[setup-python] $*"; }
die() { echo "[setup-python] ERROR: $*" >&2; exit 1; }

command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found; install python3 first"
say "using $("$PYTHON" --version 2>&1) at $(command -v "$PYTHON")"

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
            say "installing python3-venv (and python${pyver}-venv if available) with apt-get"
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

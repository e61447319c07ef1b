#!/usr/bin/env bash
# Installs (idempotently) MLCommons' mlperf-sysinfo, the Python tool whose
# system description crates/sysinfo is compared against, into its own venv
# <repo>/.venv-sysinfo (mlc-scripts pulls in a large dependency set, kept
# apart from .venv-ref):
#
#   mlperf-sysinfo 1.0.0a12 (with mlc-scripts 1.2.0a8, mlcflow)
#
#   .ci/setup-sysinfo.sh
#   PYTHON=python3.11 VENV_DIR=/some/where .ci/setup-sysinfo.sh
#
# Afterwards `cargo test -p yardstick-sysinfo --test mlperf_sysinfo` runs
# `mlperf-sysinfo capture` (about 40 s; its probes run lscpu, df, lsblk and, as
# root, apt-get install dmidecode/numactl when missing) and compares the
# fields. Without this venv that test fails under CI=true and skips otherwise.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_DIR="${VENV_DIR:-$REPO_ROOT/.venv-sysinfo}"
PYTHON="${PYTHON:-python3}"
PACKAGE="mlperf-sysinfo==1.0.0a12"

say() { echo "[setup-sysinfo] $*"; }
die() { echo "[setup-sysinfo] ERROR: $*" >&2; exit 1; }

source "$REPO_ROOT/.ci/lib/venv.sh"
ensure_venv "$VENV_DIR" "$PYTHON" "[setup-sysinfo]" || exit 1

PY="$VENV_DIR/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

if "$PY" -c 'import importlib.metadata as md, sys; sys.exit(md.version("mlperf-sysinfo") != "1.0.0a12")' >/dev/null 2>&1; then
    say "mlperf-sysinfo 1.0.0a12 already installed"
else
    say "installing: $PACKAGE"
    "${PIP[@]}" install --quiet "$PACKAGE" || die "pip install $PACKAGE failed"
fi

"$VENV_DIR/bin/mlperf-sysinfo" --help >/dev/null || die "the mlperf-sysinfo command does not run"
say "ok: mlperf-sysinfo $("$PY" -c 'import importlib.metadata as md; print(md.version("mlperf-sysinfo"))'), mlc-scripts $("$PY" -c 'import importlib.metadata as md; print(md.version("mlc-scripts"))')"
say "done: $VENV_DIR"

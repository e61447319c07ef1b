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
# and, as root with apt-get, the Debian tools mlc-scripts would otherwise
# apt-get install in the middle of the test (dmidecode, numactl, psmisc, jq).
#
# Afterwards `cargo test -p yardstick-sysinfo --test mlperf_sysinfo` runs
# `mlperf-sysinfo capture` (about 40 s; its probes run lscpu, df, lsblk, ...)
# and compares the fields. Without this venv that test fails under CI=true and
# skips otherwise.
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

DEBIAN_TOOLS=(dmidecode numactl psmisc jq)
missing=()
for tool in dmidecode numactl killall jq; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -eq 0 ]; then
    say "Debian tools present: ${DEBIAN_TOOLS[*]}"
elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "installing with apt-get: ${DEBIAN_TOOLS[*]} (missing: ${missing[*]})"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq "${DEBIAN_TOOLS[@]}" >/dev/null; } \
        || say "warning: apt-get failed; mlc-scripts will try again during the capture"
else
    say "warning: missing ${missing[*]} (not root, or no apt-get): mlc-scripts will report those fields as not detected"
fi

"$VENV_DIR/bin/mlperf-sysinfo" --help >/dev/null || die "the mlperf-sysinfo command does not run"
say "ok: mlperf-sysinfo $("$PY" -c 'import importlib.metadata as md; print(md.version("mlperf-sysinfo"))'), mlc-scripts $("$PY" -c 'import importlib.metadata as md; print(md.version("mlc-scripts"))')"
say "done: $VENV_DIR"

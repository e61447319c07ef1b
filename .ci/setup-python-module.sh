#!/usr/bin/env bash
# Builds the yardstick Python module (crates/python, `yardstick.loadgen`) as an
# abi3 wheel and installs it, with the official wheel and the test tools, into a
# venv (idempotent: rerun after changing the Rust or Python sources).
#
#   .ci/setup-python-module.sh                  # .venv-py, release build
#   VENV_DIR=/some/venv .ci/setup-python-module.sh
#   PROFILE=dev .ci/setup-python-module.sh      # faster build, slower module
#   PYTHON=python3.12 .ci/setup-python-module.sh
#
# Afterwards:  .venv-py/bin/python -m pytest tests/python
# The wheel is left in target/wheels/ (one abi3 wheel for CPython >= 3.9; its manylinux tag
# follows the glibc it was built against, e.g. manylinux_2_34 on Debian 12).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_DIR="${VENV_DIR:-$REPO_ROOT/.venv-py}"
PYTHON="${PYTHON:-python3}"
PROFILE="${PROFILE:-release}"
WHEEL_DIR="$REPO_ROOT/target/wheels"
PACKAGES=("maturin>=1.16,<1.17" "mlcommons-loadgen==6.0.17" "numpy" "pytest")

say() { echo "[setup-python-module] $*"; }
die() { echo "[setup-python-module] ERROR: $*" >&2; exit 1; }

command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found; install python3 (>= 3.9) first"
command -v cargo >/dev/null 2>&1 || die "cargo not found; install Rust (rustup) first"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 9))' || die "Python >= 3.9 is needed"

source "$REPO_ROOT/.ci/lib/venv.sh"
ensure_venv "$VENV_DIR" "$PYTHON" "[setup-python-module]" || exit 1

PIP=("$VENV_DIR/bin/python" -m pip --disable-pip-version-check)
say "installing: ${PACKAGES[*]}"
"${PIP[@]}" install --quiet "${PACKAGES[@]}" || die "pip install failed"

case "$PROFILE" in
    release) PROFILE_FLAG=(--release) ;;
    dev) PROFILE_FLAG=() ;;
    *) die "PROFILE must be release or dev, not '$PROFILE'" ;;
esac
say "building the wheel ($PROFILE) into $WHEEL_DIR"
mkdir -p "$WHEEL_DIR"
rm -f "$WHEEL_DIR"/yardstick-*.whl
(cd "$REPO_ROOT/python" && "$VENV_DIR/bin/maturin" build "${PROFILE_FLAG[@]}" \
    --interpreter "$VENV_DIR/bin/python" --out "$WHEEL_DIR") || die "maturin build failed"
WHEEL="$(ls "$WHEEL_DIR"/yardstick-*.whl | head -n 1)"
[ -n "$WHEEL" ] || die "no wheel was built"
"${PIP[@]}" install --quiet --force-reinstall --no-deps "$WHEEL" || die "installing $WHEEL failed"

"$VENV_DIR/bin/python" - <<'PY' || die "the installed module does not work"
import yardstick.loadgen as lg, mlperf_loadgen
assert lg.LOADGEN_COMPAT_VERSION == "6.0.17"
ts = lg.TestSettings()
print(f"[setup-python-module] ok: yardstick.loadgen {lg.__version__} "
      f"(LoadGen {lg.LOADGEN_COMPAT_VERSION} API) from {lg.__file__}")
PY
say "done: $VENV_DIR/bin/python -m pytest tests/python"

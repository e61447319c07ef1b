#!/usr/bin/env bash
# Installs (idempotently) the packages MLPerf's ResNet-50 reference
# preprocessing runs on, into the venv <repo>/.venv-ref (created if missing,
# the venv the other reference tests use):
#
#   opencv-python-headless 4.12.0.88   cv2.imread, cv2.resize(INTER_AREA)
#   numpy                              the .npy/.npz fixtures
#
# `cargo test -p yardstick-workloads --test data_files` compares the image
# preprocessing of crates/workloads/src/data/images.rs with
# crates/workloads/tests/data/reference.py run by this venv's Python (and
# reads .npy/.npz files NumPy wrote); it fails when they are missing.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_DIR="${VENV_DIR:-$REPO_ROOT/.venv-ref}"
PYTHON="${PYTHON:-python3}"
PACKAGES=("opencv-python-headless==4.12.0.88" "numpy")

say() { echo "[setup-data-python] $*"; }
die() { echo "[setup-data-python] ERROR: $*" >&2; exit 1; }

source "$REPO_ROOT/.ci/lib/venv.sh"
ensure_venv "$VENV_DIR" "$PYTHON" "[setup-data-python]" || exit 1
PY="$VENV_DIR/bin/python"

if "$PY" -c 'import cv2, numpy; assert cv2.__version__ == "4.12.0"' >/dev/null 2>&1; then
    say "packages already installed"
else
    say "installing: ${PACKAGES[*]}"
    "$PY" -m pip --disable-pip-version-check install --quiet "${PACKAGES[@]}" || die "pip install failed"
fi
"$PY" -c 'import cv2, numpy; print("[setup-data-python] ok: opencv", cv2.__version__, "numpy", numpy.__version__)' \
    || die "cv2 does not import"

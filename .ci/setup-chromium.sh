#!/usr/bin/env bash
# Installs (idempotently) Debian's headless-capable Chromium for the HTML
# report test (crates/cli/tests/report_chromium.rs), which opens each
# rendered report offline, checks the console and takes a screenshot.
#
#   .ci/setup-chromium.sh
#
# Afterwards `chromium --version` works; the test finds it on PATH (or at
# $YARDSTICK_CHROMIUM).
set -euo pipefail

say() { echo "[setup-chromium] $*"; }
die() { echo "[setup-chromium] ERROR: $*" >&2; exit 1; }

if command -v chromium >/dev/null 2>&1; then
    say "already installed: $(chromium --version 2>/dev/null || echo chromium)"
    exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo: install the Debian package chromium by hand"
    SUDO=(sudo)
fi

say "apt-get install chromium"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq || die "apt-get update failed"
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null \
    || die "apt-get install chromium failed"
command -v chromium >/dev/null 2>&1 || die "chromium is not on PATH after the install"
say "installed: $(chromium --version 2>/dev/null || echo chromium)"

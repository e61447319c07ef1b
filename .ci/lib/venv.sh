# Shared by the .ci/setup-*.sh scripts (sourced, not run): creates a Python
# venv if it is missing or broken, installing Debian's python3-venv first
# when `python -m venv` cannot work (root with apt-get only).
#
#   source "$REPO_ROOT/.ci/lib/venv.sh"
#   ensure_venv "$VENV_DIR" "$PYTHON" "[tag]"

venv_works() { # PYTHON
    # `python3 -m venv` exists on Debian without python3-venv but then fails
    # on ensurepip: try it for real in a scratch folder.
    local probe ok=1
    probe="$(mktemp -d)"
    if "$1" -m venv "$probe/v" >/dev/null 2>&1 && [ -x "$probe/v/bin/pip" ]; then
        ok=0
    fi
    rm -rf "$probe"
    return "$ok"
}

ensure_venv() { # VENV_DIR PYTHON TAG
    local dir="$1" python="$2" tag="$3" pyver
    if [ -x "$dir/bin/python" ] && "$dir/bin/python" -m pip --version >/dev/null 2>&1; then
        echo "$tag venv already present at $dir"
        return 0
    fi
    if ! command -v "$python" >/dev/null 2>&1; then
        echo "$tag ERROR: '$python' not found; install python3 (>= 3.9) first" >&2
        return 1
    fi
    if ! venv_works "$python"; then
        echo "$tag '$python -m venv' does not work here (python3-venv missing?)"
        if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != "0" ]; then
            echo "$tag ERROR: install the venv module for $python (Debian: apt-get install python3-venv) and rerun" >&2
            return 1
        fi
        pyver="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
        echo "$tag installing python3-venv (and python${pyver}-venv if there is one) with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq || { echo "$tag ERROR: apt-get update failed" >&2; return 1; }
        local pkgs=(python3-venv)
        apt-cache show "python${pyver}-venv" >/dev/null 2>&1 && pkgs+=("python${pyver}-venv")
        apt-get install -y -qq "${pkgs[@]}" || { echo "$tag ERROR: apt-get install ${pkgs[*]} failed" >&2; return 1; }
        venv_works "$python" || { echo "$tag ERROR: '$python -m venv' still fails after installing python3-venv" >&2; return 1; }
    fi
    rm -rf "$dir"
    echo "$tag creating venv at $dir with $("$python" --version 2>&1)"
    "$python" -m venv "$dir" || { echo "$tag ERROR: venv creation failed" >&2; return 1; }
}

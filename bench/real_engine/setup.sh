#!/usr/bin/env bash
# Installs what bench/real_engine/run.py drives, all outside version control
# (/.venv*/ is git-ignored) and all from the package registries:
#   .venv-engine    llama-cpp-python 0.3.36 built from its sdist (with its
#                   [server] extra), gguf 0.19, tokenizers; and llama.cpp's own
#                   llama-server built from the vendor/llama.cpp sources of the
#                   same sdist into .venv-engine/llama.cpp-build/bin/llama-server
#   .venv-aiperf    AIPerf 0.13
#   .venv-guidellm  guidellm 0.8 (its own venv: its pins differ from AIPerf's)
# Needs cmake, gcc and g++ (Debian: apt-get install -y cmake build-essential).
# Each step is skipped when its result is already there.
# Usage: bench/real_engine/setup.sh [all|engine|server|peers]   (from the repo root)
set -euo pipefail
cd "$(dirname "$0")/../.."
step=${1:-all}
LLAMA_CPP_PYTHON=0.3.36
# Two compile jobs at a lower priority: the machine is shared with Rust builds.
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}

engine() {
    [ -x .venv-engine/bin/python ] || python3 -m venv .venv-engine
    .venv-engine/bin/pip install -q --upgrade pip
    .venv-engine/bin/pip install -q 'gguf==0.19.*' tokenizers numpy
    if ! .venv-engine/bin/python -c "import llama_cpp, sys; sys.exit(llama_cpp.__version__ != '$LLAMA_CPP_PYTHON')" 2>/dev/null; then
        # --no-binary: compiled here from the sdist, for this CPU (GGML_NATIVE).
        CMAKE_ARGS="-DGGML_NATIVE=ON" nice -n 10 .venv-engine/bin/pip install \
            "llama-cpp-python[server]==$LLAMA_CPP_PYTHON" --no-binary llama-cpp-python
    fi
}

server() {
    local bin=.venv-engine/llama.cpp-build/bin/llama-server
    [ -x "$bin" ] && return 0
    mkdir -p .venv-engine/sdist
    [ -f .venv-engine/sdist/llama_cpp_python-$LLAMA_CPP_PYTHON.tar.gz ] ||
        .venv-engine/bin/pip download --no-deps --no-binary :all: -d .venv-engine/sdist \
            "llama-cpp-python==$LLAMA_CPP_PYTHON"
    tar xzf .venv-engine/sdist/llama_cpp_python-$LLAMA_CPP_PYTHON.tar.gz -C .venv-engine/sdist
    local src=.venv-engine/sdist/llama_cpp_python-$LLAMA_CPP_PYTHON/vendor/llama.cpp
    # No web UI (the prebuilt one would be downloaded from Hugging Face at
    # build time), no TLS, no tests or examples: the server binary only.
    cmake -S "$src" -B .venv-engine/llama.cpp-build -DCMAKE_BUILD_TYPE=Release \
        -DGGML_NATIVE=ON -DBUILD_SHARED_LIBS=OFF -DLLAMA_OPENSSL=OFF \
        -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON
    nice -n 10 cmake --build .venv-engine/llama.cpp-build --target llama-server
    "$bin" --version
}

peers() {
    [ -x .venv-aiperf/bin/aiperf ] || {
        python3 -m venv .venv-aiperf
        .venv-aiperf/bin/pip install -q --upgrade pip
        .venv-aiperf/bin/pip install -q 'aiperf==0.13.*'
    }
    [ -x .venv-guidellm/bin/guidellm ] || {
        python3 -m venv .venv-guidellm
        .venv-guidellm/bin/pip install -q --upgrade pip
        .venv-guidellm/bin/pip install -q 'guidellm==0.8.*'
    }
}

case $step in
    engine) engine ;;
    server) server ;;
    peers) peers ;;
    all) engine; server; peers ;;
    *) echo "usage: $0 [all|engine|server|peers]" >&2; exit 2 ;;
esac

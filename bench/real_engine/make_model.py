#!/usr/bin/env python3
"""Makes a tiny random-weight Llama model in GGUF, with a byte-level BPE
tokenizer trained here on the project's own text: nothing is downloaded.

Writes into OUT:
  tiny-llama.gguf        the model (llama architecture, F32 weights)
  tokenizer/             tokenizer.json + tokenizer_config.json for the clients
                         (yardstick --tokenizer, AIPerf and guidellm via HF AutoTokenizer)
  model.json             what was made (sizes, vocabulary, allowed output tokens)

The tokenizer is trained on the project's text as of commit CORPUS_COMMIT
(read with git archive), so the same model comes out on every run.

The weights are random, but two things are arranged so that every client
sees the same, countable answers:
- The model can never end an answer early: residual dimension 0 is a constant
  4.0 in every token embedding, and the output row of every token it must not
  emit (BOS/EOS, bare bytes, pieces that do not re-tokenize to themselves)
  has -100 there, so their logits sit some -400 below the rest. An answer is
  therefore always exactly max_tokens long, whatever the client sends
  (llama-cpp-python's server has no ignore_eos).
- The tokens it may emit are whole words with their leading space
  (" the", " client") whose text re-tokenizes to exactly that one token, so
  the tokenizer count of the answer equals the server's count of generated
  tokens: a client that re-counts with the tokenizer (AIPerf does) and one
  that reads `usage` (yardstick, guidellm) count the same tokens.

Usage: make_model.py OUT [--vocab 4096] [--embd 512] [--layers 4] [--seed 1]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import subprocess
import tarfile
from pathlib import Path

import gguf
import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

ROOT = Path(__file__).resolve().parents[2]
BOS, EOS = "<|bos|>", "<|eos|>"
# chatml-shaped, written with plain text markers so no marker is an
# end-of-generation token for llama.cpp (it treats "<|im_end|>" as one).
CHAT_TEMPLATE = (
    "{% for m in messages %}### {{ m['role'] }}:\n{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}### assistant:\n{% endif %}"
)


# The training text: the project's own prose and code as of this commit (read
# from git, so the tokenizer, and with it the model, is the same on every run
# whatever the working tree holds).
CORPUS_COMMIT = "6024d31"


def corpus() -> list[str]:
    tar = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", CORPUS_COMMIT, "--", "*.md", "docs", "crates"],
        check=True, capture_output=True,
    ).stdout
    texts = []
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        for m in sorted(t.getmembers(), key=lambda m: m.name):
            if m.isfile() and (m.name.endswith(".md") or (m.name.startswith("crates/") and "/src/" in m.name and m.name.endswith(".rs"))):
                texts.append(t.extractfile(m).read().decode(errors="replace"))
    return texts


def train_tokenizer(vocab_size: int) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[BOS, EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus(), trainer=trainer)
    return tok


def allowed_outputs(tok: Tokenizer) -> list[int]:
    """Token ids the model may emit: ' word' pieces that encode back to
    themselves alone (and so, after a space-led word, stay one token)."""
    ids = []
    for piece, i in tok.get_vocab().items():
        text = tok.decode([i])
        if re.fullmatch(r" [a-z]{2,}", text) and tok.encode(text).ids == [i]:
            ids.append(i)
    # Check on a sample sentence that counts are exact when pieces follow one another.
    sample = sorted(ids)[:200]
    joined = "".join(tok.decode([i]) for i in sample)
    assert tok.encode(joined).ids == sample, "allowed pieces do not re-tokenize one to one"
    return sorted(ids)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--embd", type=int, default=512)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--ff", type=int, default=1376)
    ap.add_argument("--ctx", type=int, default=4096)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)

    tok = train_tokenizer(a.vocab)
    tok_dir = a.out / "tokenizer"
    tok_dir.mkdir(exist_ok=True)
    tok.save(str(tok_dir / "tokenizer.json"))
    (tok_dir / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "PreTrainedTokenizerFast",
                "bos_token": BOS,
                "eos_token": EOS,
                "model_max_length": a.ctx,
                "chat_template": CHAT_TEMPLATE,
            },
            indent=1,
        )
    )
    (tok_dir / "config.json").write_text(json.dumps({"model_type": "llama"}))

    vocab = tok.get_vocab()
    n_vocab = len(vocab)
    by_id = sorted(vocab.items(), key=lambda kv: kv[1])
    assert [i for _, i in by_id] == list(range(n_vocab))
    tokens = [p for p, _ in by_id]
    specials = {vocab[BOS], vocab[EOS]}
    types = [gguf.TokenType.CONTROL if i in specials else gguf.TokenType.NORMAL for i in range(n_vocab)]
    merges = json.loads(tok.to_str())["model"]["merges"]
    merges = [m if isinstance(m, str) else " ".join(m) for m in merges]
    allowed = allowed_outputs(tok)

    rng = np.random.default_rng(a.seed)
    e, ff, L = a.embd, a.ff, a.layers

    def rand(*shape: int, std: float = 0.02) -> np.ndarray:
        return (rng.standard_normal(shape) * std).astype(np.float32)

    w = gguf.GGUFWriter(str(a.out / "tiny-llama.gguf"), "llama")
    w.add_name("yardstick tiny random llama")
    w.add_context_length(a.ctx)
    w.add_embedding_length(e)
    w.add_block_count(L)
    w.add_feed_forward_length(ff)
    w.add_rope_dimension_count(e // a.heads)
    w.add_head_count(a.heads)
    w.add_head_count_kv(a.heads)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(n_vocab)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(vocab[BOS])
    w.add_eos_token_id(vocab[EOS])
    w.add_add_bos_token(False)
    w.add_chat_template(CHAT_TEMPLATE)

    embd = rng.standard_normal((n_vocab, e)).astype(np.float32)
    embd[:, 0] = 4.0  # the constant dimension the output mask reads
    w.add_tensor("token_embd.weight", embd)
    for b in range(L):
        w.add_tensor(f"blk.{b}.attn_norm.weight", np.ones(e, np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            w.add_tensor(f"blk.{b}.{name}.weight", rand(e, e))
        w.add_tensor(f"blk.{b}.ffn_norm.weight", np.ones(e, np.float32))
        w.add_tensor(f"blk.{b}.ffn_gate.weight", rand(ff, e))
        w.add_tensor(f"blk.{b}.ffn_up.weight", rand(ff, e))
        w.add_tensor(f"blk.{b}.ffn_down.weight", rand(e, ff))
    w.add_tensor("output_norm.weight", np.ones(e, np.float32))
    out = rand(n_vocab, e, std=0.05)
    out[:, 0] = -100.0
    out[allowed, 0] = 0.0
    w.add_tensor("output.weight", out)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    info = {
        "gguf": str(a.out / "tiny-llama.gguf"),
        "tokenizer": str(tok_dir),
        "vocab": n_vocab,
        "embd": e,
        "layers": L,
        "heads": a.heads,
        "ff": ff,
        "ctx": a.ctx,
        "seed": a.seed,
        "params": int(2 * n_vocab * e + L * (4 * e * e + 3 * e * ff + 2 * e) + e),
        "allowed_output_tokens": len(allowed),
        "corpus_commit": CORPUS_COMMIT,
        "gguf_sha256": hashlib.sha256((a.out / "tiny-llama.gguf").read_bytes()).hexdigest(),
    }
    (a.out / "model.json").write_text(json.dumps(info, indent=1))
    print(json.dumps(info))


if __name__ == "__main__":
    main()

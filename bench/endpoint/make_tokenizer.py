#!/usr/bin/env python3
"""Writes a tiny word-level HF tokenizer (tokenizer.json + tokenizer_config.json)
for the mock server's vocabulary, so the Python clients can count tokens
without downloading a model. One mock "token" (tok0..tok99 or a word) is one
token here, as it is for the mock server's `usage`."""

import json
import sys
from pathlib import Path

from tokenizers import Tokenizer, models, pre_tokenizers

out = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/endpoint/tokenizer")
out.mkdir(parents=True, exist_ok=True)
words = ["[UNK]", "[BOS]", "[EOS]"] + [f"tok{i}" for i in range(100)]
words += "the model serves tokens over http while clients measure latency and throughput".split()
vocab = {w: i for i, w in enumerate(dict.fromkeys(words))}
tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
tok.pre_tokenizer = pre_tokenizers.Whitespace()
tok.save(str(out / "tokenizer.json"))
(out / "tokenizer_config.json").write_text(
    json.dumps(
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "unk_token": "[UNK]",
            "bos_token": "[BOS]",
            "eos_token": "[EOS]",
            "model_max_length": 1000000,
            "chat_template": "{% for m in messages %}{{ m['content'] }}\n{% endfor %}",
        },
        indent=1,
    )
)
(out / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
print(out)

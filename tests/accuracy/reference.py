#!/usr/bin/env python3
"""Scores the fixtures of crates/accuracy/tests/fixtures with the Python
reference implementations and prints the results as JSON on stdout.

crates/accuracy/tests/python_reference.rs runs this with .venv-ref/bin/python
(see .ci/setup-accuracy-python.sh) and requires yardstick's scorers to agree.

The scoring code below is the MLPerf Inference reference code, copied
(Apache-2.0, MLCommons) where it is short and self-contained, so that the
comparison is against what the benchmarks run:

- top-1: vision/classification_and_detection/tools/accuracy-imagenet.py (main loop)
- SQuAD: language/bert/evaluate_v1.1.py (normalize_answer, f1_score,
  exact_match_score, evaluate)
- ROUGE: language/llama2-70b/evaluate-accuracy.py (postprocess_text, the mean)
  with rouge_score.RougeScorer as the `evaluate` "rouge" metric calls it
  (use_stemmer=True, use_aggregator=False)
- WER: speech2text/accuracy_eval.py with helpers.compute_wer_with_concatenation
  and legacy_helpers.__levenshtein, Whisper's EnglishTextNormalizer; plus
  jiwer for the plain WER
- GSM8K: language/mixtral-8x7b/evaluate-accuracy.py (find_numbers,
  find_number, maybe_remove_comma, try_float)
- AIME: language/gpt-oss-120b/eval_accuracy.py (parse_aime_answer,
  evaluate_aime)
"""

import array
import importlib.util
import json
import os
import re
import string
import sys
import types
from collections import Counter

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "..", "crates", "accuracy", "tests", "fixtures")


def fixture(*p):
    return os.path.join(FIX, *p)


def load_log(name):
    with open(fixture(name)) as f:
        return json.load(f)


def jsonl(name):
    with open(fixture(name), encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def text_lines(name):
    with open(fixture(name), encoding="utf-8") as f:
        return f.read().split("\n")[:-1]


# Whisper's normaliser without importing whisper/__init__ (which needs torch).
_spec = importlib.util.find_spec("whisper")
_pkg = types.ModuleType("whisper")
_pkg.__path__ = list(_spec.submodule_search_locations)
sys.modules["whisper"] = _pkg
from whisper.normalizers import EnglishTextNormalizer  # noqa: E402

import jiwer  # noqa: E402
import nltk  # noqa: E402
from nltk.stem.porter import PorterStemmer  # noqa: E402
from nltk.tokenize.punkt import PunktSentenceTokenizer  # noqa: E402
from rouge_score import rouge_scorer  # noqa: E402


# ------------------------------------------------------------------ top-1
def top1(log_name, dtype):
    imagenet = []
    with open(fixture("top1", "val_map.txt")) as f:
        for line in f:
            cols = line.strip().split()
            imagenet.append((cols[0], int(cols[1])))
    results = load_log(log_name)
    seen = set()
    good = 0
    for j in results:
        idx = j["qsl_idx"]
        if idx in seen:
            continue
        seen.add(idx)
        img, label = imagenet[idx]
        data = np.frombuffer(bytes.fromhex(j["data"]), dtype)
        found = int(data[0])
        if label == found:
            good += 1
    return {"good": good, "total": len(seen), "accuracy": 100.0 * good / len(seen)}


# ------------------------------------------------------------------ SQuAD (evaluate_v1.1.py)
def normalize_answer(s):
    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


def f1_score(prediction, ground_truth):
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    f1 = (2 * precision * recall) / (precision + recall)
    return f1


def exact_match_score(prediction, ground_truth):
    return normalize_answer(prediction) == normalize_answer(ground_truth)


def metric_max_over_ground_truths(metric_fn, prediction, ground_truths):
    return max(metric_fn(prediction, gt) for gt in ground_truths)


def squad_evaluate(dataset, predictions):
    f1 = exact_match = total = 0
    for article in dataset:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                total += 1
                if qa["id"] not in predictions:
                    continue
                ground_truths = list(map(lambda x: x["text"], qa["answers"]))
                prediction = predictions[qa["id"]]
                exact_match += metric_max_over_ground_truths(exact_match_score, prediction, ground_truths)
                f1 += metric_max_over_ground_truths(f1_score, prediction, ground_truths)
    return {"exact_match": 100.0 * exact_match / total, "f1": 100.0 * f1 / total}


def squad():
    with open(fixture("squad", "dev-v1.1.json"), encoding="utf-8") as f:
        dataset = json.load(f)["data"]
    ids = [qa["id"] for a in dataset for p in a["paragraphs"] for qa in p["qas"]]
    predictions = {}
    for r in load_log("squad/answers.json"):
        qid = ids[r["qsl_idx"]]
        predictions.setdefault(qid, bytes.fromhex(r["data"]).decode("utf-8"))  # first response
    out = squad_evaluate(dataset, predictions)
    out["normalized"] = [normalize_answer(t) for t in predictions.values()]
    return out


# ------------------------------------------------------------------ ROUGE
def postprocess_text(preds, targets, sent_tokenize):
    preds = [pred.strip() for pred in preds]
    targets = [target.strip() for target in targets]
    preds = ["\n".join(sent_tokenize(pred)) for pred in preds]
    targets = ["\n".join(sent_tokenize(target)) for target in targets]
    return preds, targets


def rouge(sent_tokenize):
    targets_all = [x["reference"] for x in jsonl("rouge/references.jsonl")]
    results = load_log("rouge/texts.json")
    seen = set()
    target_required, preds_text, gen_tok_len = [], [], 0
    for pred in results:
        if pred["qsl_idx"] in seen:
            continue
        seen.add(pred["qsl_idx"])
        target_required.append(targets_all[pred["qsl_idx"]])
        preds_text.append(bytes.fromhex(pred["data"]).decode("utf-8"))
        gen_tok_len += pred["token_count"]
    preds, targets = postprocess_text(preds_text, target_required, sent_tokenize)
    # evaluate's "rouge" metric with use_aggregator=False: per-sample F-measures.
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=True)
    scores = [scorer.score(ref, pred) for ref, pred in zip(targets, preds)]
    per = {k: [s[k].fmeasure for s in scores] for k in ["rouge1", "rouge2", "rougeL", "rougeLsum"]}
    result = {k: float(np.mean(v) * 100) for k, v in per.items()}
    result["rounded"] = {k: round(np.mean(v) * 100, 4) for k, v in per.items()}
    result["per_sample"] = per
    result["gen_len"] = int(np.sum([len(p) for p in preds]))
    result["gen_num"] = len(preds)
    result["gen_tok_len"] = gen_tok_len
    result["tokens_per_sample"] = round(gen_tok_len / len(preds), 1)
    return result


# ------------------------------------------------------------------ WER
LABELS = [" "] + [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["'"] + [str(d) for d in range(10)] + ["$", "%", "+", "-"]


def levenshtein(a, b):
    """legacy_helpers.__levenshtein"""
    n, m = len(a), len(b)
    if n > m:
        a, b = b, a
        n, m = m, n
    current = list(range(n + 1))
    for i in range(1, m + 1):
        previous, current = current, [i] + [0] * n
        for j in range(1, n + 1):
            add, delete = previous[j] + 1, current[j - 1] + 1
            change = previous[j - 1]
            if a[j - 1] != b[i - 1]:
                change = change + 1
            current[j] = min(add, delete, change)
    return current[n]


def compute_wer_with_concatenation(prediction, reference):
    """helpers.compute_wer_with_concatenation"""
    ref_words = reference
    hyp_words = prediction
    alignment = []
    i = 0
    j = 0
    while i < len(ref_words) and j < len(hyp_words):
        if ref_words[i] == hyp_words[j]:
            alignment.append((ref_words[i], hyp_words[j]))
            i += 1
            j += 1
            continue
        ref_match_len = 1
        hyp_match_len = 1
        match_found = False
        for k in range(1, 4):
            if i + k <= len(ref_words):
                ref_concat = "".join(ref_words[i:i + k])
                if ref_concat == hyp_words[j]:
                    ref_match_len = k
                    hyp_match_len = 1
                    match_found = True
                    break
            if j + k <= len(hyp_words):
                hyp_concat = "".join(hyp_words[j:j + k])
                if hyp_concat == ref_words[i]:
                    ref_match_len = 1
                    hyp_match_len = k
                    match_found = True
                    break
        if match_found:
            alignment.append((" ".join(ref_words[i:i + ref_match_len]), " ".join(hyp_words[j:j + hyp_match_len])))
            i += ref_match_len
            j += hyp_match_len
        else:
            alignment.append((ref_words[i], hyp_words[j]))
            i += 1
            j += 1
    while i < len(ref_words):
        alignment.append((ref_words[i], None))
        i += 1
    while j < len(hyp_words):
        alignment.append((None, hyp_words[j]))
        j += 1
    ref_aligned = [x[0].replace(" ", "") for x in alignment if x[0] is not None]
    hyp_aligned = [x[1].replace(" ", "") for x in alignment if x[1] is not None]
    distance = levenshtein(ref_aligned, hyp_aligned)
    return distance, len(ref_words) if ref_words else 0


def word_error_rate(hypotheses, references):
    """accuracy_eval.word_error_rate"""
    normalizer = EnglishTextNormalizer()
    scores = 0
    words = 0
    for h, r in zip(hypotheses, references):
        h = normalizer(h)
        r = normalizer(r)
        scores_clip, words_clip = compute_wer_with_concatenation(h.split(), r.split())
        scores += scores_clip
        words += words_clip
    return scores / words, scores, words


def plain_wer(hypotheses, references):
    normalizer = EnglishTextNormalizer()
    errors = words = 0
    for h, r in zip(hypotheses, references):
        h, r = normalizer(h), normalizer(r)
        rw = r.split()
        if not rw:  # jiwer refuses empty references; all hypothesis words are insertions
            errors += len(h.split())
            continue
        o = jiwer.process_words(" ".join(rw), " ".join(h.split()) or "")
        errors += o.substitutions + o.deletions + o.insertions
        words += len(rw)
    return errors, words


def wer():
    transcripts = text_lines("wer/transcripts.txt")
    out = {}
    results = load_log("wer/texts.json")
    hyps = [bytes.fromhex(r["data"]).decode("utf-8") for r in results]
    refs = [transcripts[r["qsl_idx"]] for r in results]
    w, s, n = word_error_rate(hyps, refs)
    out["text"] = {"errors": s, "words": n, "wer": w, "accuracy": (1 - w) * 100}
    e, n = plain_wer(hyps, refs)
    out["text_standard"] = {"errors": e, "words": n}
    # The MLPerf harness: int64 indices into LABELS; references through the manifest's filter.
    results = load_log("wer/labels_int64.json")
    hyps = ["".join(LABELS[c] for c in array.array("q", bytes.fromhex(r["data"])).tolist()) for r in results]
    refs = ["".join(c for c in transcripts[r["qsl_idx"]] if c in LABELS) for r in results]
    w, s, n = word_error_rate(hyps, refs)
    out["labels"] = {"errors": s, "words": n, "wer": w, "accuracy": (1 - w) * 100}
    return out


# ------------------------------------------------------------------ GSM8K (mixtral)
def find_numbers(x):
    return re.compile(r"-?[\d,]*\.?\d+", re.MULTILINE | re.DOTALL | re.IGNORECASE).findall(x)


def find_number(x, answer_delimiter="The answer is"):
    if answer_delimiter in x:
        answer = x.split(answer_delimiter)[-1]
        numbers = find_numbers(answer)
        if numbers:
            return numbers[0]
    numbers = find_numbers(x)
    if numbers:
        return numbers[-1]
    return ""


def maybe_remove_comma(x):
    return x.replace(",", "")


def try_float(x):
    try:
        ret = float(x)
    except BaseException:
        ret = None
    return ret


def gsm8k():
    answers = [x["answer"] for x in jsonl("gsm8k/answers.jsonl")]
    seen = set()
    texts, targets, tok = [], [], 0
    for r in load_log("gsm8k/texts.json"):
        if r["qsl_idx"] in seen:
            continue
        seen.add(r["qsl_idx"])
        texts.append(bytes.fromhex(r["data"]).decode("utf-8"))
        targets.append(answers[r["qsl_idx"]])
        tok += r["token_count"]
    pred_nums = [maybe_remove_comma(find_number(t.split("\nQ:")[0])) for t in texts]
    correct = 0
    for idx in range(len(targets)):
        ref = try_float(targets[idx])
        tgt = try_float(pred_nums[idx])
        if tgt is None:
            continue
        correct += ref == tgt
    return {"correct": int(correct), "total": len(targets), "accuracy": 100.0 * correct / len(targets),
            "extracted": pred_nums, "tokens_per_sample": round(tok / len(targets), 1)}


# ------------------------------------------------------------------ AIME (gpt-oss)
def parse_aime_answer(text):
    if not text:
        return None
    boxed_matches = list(re.finditer(r"\\boxed{\s*(\d+)\s*}", text))
    if boxed_matches:
        extracted_str = boxed_matches[-1].group(1)
    else:
        answer_matches = list(re.finditer(r"Answer:\s*(\d+)(?!\.)\b", text, re.IGNORECASE | re.MULTILINE))
        if not answer_matches:
            return None
        extracted_str = answer_matches[-1].group(1)
    try:
        val = int(extracted_str)
        if 0 <= val <= 999:
            return val
    except ValueError:
        pass
    return None


def evaluate_aime(parsed, ground_truth):
    if parsed is None:
        return False
    try:
        gt_int = int(ground_truth)
        return int(parsed) == gt_int
    except (ValueError, TypeError):
        return False


def aime():
    answers = [x["answer"] for x in jsonl("aime/answers.jsonl")]
    seen = set()
    correct = total = 0
    parsed = []
    for r in load_log("aime/texts.json"):
        if r["qsl_idx"] in seen:
            continue
        seen.add(r["qsl_idx"])
        p = parse_aime_answer(bytes.fromhex(r["data"]).decode("utf-8"))
        parsed.append(p)
        correct += evaluate_aime(p, answers[r["qsl_idx"]])
        total += 1
    return {"correct": correct, "total": total, "parsed": parsed}


def random_texts(n=400, seed=20240601):
    """Deterministic random texts built from tricky pieces, for a broad
    differential check of the text-processing steps (the inputs are part of
    the output, so the Rust side needs no generator of its own)."""
    import random

    rng = random.Random(seed)
    words = ["the", "a", "an", "The", "Dr.", "Mr", "mrs.", "U.S.", "U.S.A.", "p.m.", "e.g.", "etc.", "J.", "St.",
             "No.", "Inc.", "vs.", "café", "naïve", "Straße", "ÆØ", "İstanbul", "ΣΟΦΙΑ", "日本語", "中文", "😀",
             "running", "generalizations", "agreed", "flies", "skies", "happy", "colour", "organise", "theatre",
             "can't", "won't", "it's", "we'll", "they've", "ma'am", "y'all", "o'clock", "rock'n'roll",
             "one", "two", "three", "five", "nine", "ten", "eleven", "twenty", "thirty", "ninety", "hundred",
             "thousand", "million", "billion", "first", "second", "third", "fifth", "twelfth", "nineteenth",
             "twenties", "hundredth", "oh", "zero", "o", "point", "and", "double", "triple", "half", "minus",
             "plus", "negative", "dollars", "dollar", "cents", "cent", "pounds", "euros", "per", "percent",
             "3", "42", "007", "3.5", "1,000", "2.0", "10.50", "1990s", "21st", "$5", "£3", "€0.05", "$0.5",
             "¢7", "100%", "5", "١٢", "１２", "½", "3/4", "192.168.0.1", "x2", "a1b2", "hmm", "uh", "um",
             "mm", "mhm", "[noise]", "(laughs)", "<unk>", "The answer is", "Answer:", "\\boxed{12}", "Q:"]
    punct = [".", ",", "!", "?", ";", ":", "...", "--", "-", "'", '"', "(", ")", "[", "]", "\u201c", "\u201d",
             "\u2019", "\u00ab", "\u00bb", "*", "&", "#", "@", "/", "_"]
    spaces = [" ", " ", " ", " ", "  ", "\n", "\n\n", "\t", "\u00a0", "\u2028", "\x1c", ""]
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(0, 25)):
            r = rng.random()
            if r < 0.6:
                parts.append(rng.choice(words))
            elif r < 0.85:
                parts.append(rng.choice(punct))
            else:
                parts.append(str(rng.randint(0, 2000)))
            parts.append(rng.choice(spaces))
        out.append("".join(parts))
    return out


def random_checks():
    texts = random_texts()
    empty = PunktSentenceTokenizer()
    stemmer = PorterStemmer()
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=True)
    normalizer = EnglishTextNormalizer()
    pairs = list(zip(texts[::2], texts[1::2]))
    return {
        "texts": texts,
        "sent_tokenize": [nltk.sent_tokenize(t) for t in texts],
        "sent_tokenize_empty_model": [empty.tokenize(t) for t in texts],
        "rouge_tokens": [scorer._tokenizer.tokenize(t) for t in texts],
        "stems": [[stemmer.stem(w) for w in t.split()] for t in texts],
        "normalizer": [normalizer(t) for t in texts],
        "squad_normalized": [normalize_answer(t) for t in texts],
        "squad_f1": [f1_score(a, b) for a, b in pairs],
        "gsm8k": [maybe_remove_comma(find_number(t.split("\nQ:")[0])) for t in texts],
        "aime": [parse_aime_answer(t) for t in texts],
        "rouge": [[s.fmeasure for s in scorer.score("\n".join(nltk.sent_tokenize(a.strip())),
                                                     "\n".join(nltk.sent_tokenize(b.strip()))).values()]
                  for a, b in pairs],
    }


def main():
    sentences = [json.loads(l) for l in open(fixture("sentences.jsonl"), encoding="utf-8") if l.strip()]
    empty = PunktSentenceTokenizer()
    stemmer = PorterStemmer()
    scorer = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True)
    normalizer = EnglishTextNormalizer()
    out = {
        "versions": {p: __import__("importlib.metadata").metadata.version(p)
                     for p in ("nltk", "rouge-score", "jiwer", "openai-whisper", "numpy")},
        "stems": [stemmer.stem(w) for w in text_lines("stems.txt")],
        "rouge_tokens": [scorer._tokenizer.tokenize(s) for s in sentences],
        "sent_tokenize": [nltk.sent_tokenize(s) for s in sentences],
        "sent_tokenize_empty_model": [empty.tokenize(s) for s in sentences],
        "normalizer": [normalizer(s) for s in jsonl("normalizer.jsonl")],
        "top1_int32": top1("top1/int32.json", np.int32),
        "top1_float32": top1("top1/float32.json", np.float32),
        "squad": squad(),
        "rouge": rouge(nltk.sent_tokenize),
        "rouge_empty_model": rouge(empty.tokenize),
        "wer": wer(),
        "gsm8k": gsm8k(),
        "aime": aime(),
        "random": random_checks(),
    }
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""yardstick beside AIPerf and guidellm against a real serving engine on this
machine's CPU (docs/benchmarks.md, "Against a real engine").

Engines (installed by bench/real_engine/setup.sh, never copied into the project):
  llama-cpp-python  `python -m llama_cpp.server` (llama-cpp-python 0.3.36): one
                    request at a time; its default interrupt_requests=True makes a
                    new request abort the stream in progress
  llama-server      llama.cpp's own server from the same sdist's sources, with
                    --parallel slots (continuous batching) and --metrics
The model is made here (make_model.py): a tiny random-weight Llama GGUF whose
answers are always exactly max_tokens long and re-tokenize one to one.

Workload, the same for every client: synthetic prompts of --isl tokens (each
client's own generator, with the same tokenizer), --osl output tokens, a
closed loop at each concurrency level, --requests measured requests after
--warmup unmeasured ones, every (engine, level) repeated --repeats times with
the clients' order rotated between repeats, so a drift of the machine's speed
falls on every client alike.

Then, on llama-cpp-python with its default interrupt_requests, each client
once at --abort-concurrency: how many requests each counts as failed.

While a client runs against llama-server, its /metrics is read every
--scrape-interval seconds by this script (and by yardstick itself when it has
--server-metrics), so the engine's own numbers sit beside each client's.

Writes OUT/runs.json (every run), OUT/summary.json (median and spread per
engine, level and client) and prints a table.

Usage (from the repository root, after setup.sh and a release build):
  python3 bench/real_engine/run.py --out bench/real_engine/results
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
MODEL_NAME = "tiny"


# ---------------------------------------------------------------- engines


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 2.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, ""
    except (urllib.error.URLError, ConnectionError, socket.timeout, OSError):
        return 0, ""


class Engine:
    def __init__(self, name: str, cmd: list[str], url: str, log: Path):
        self.name, self.cmd, self.url, self.log = name, cmd, url, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.cmd, stdout=open(self.log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log}")
            code, _ = http_get(self.url + "/v1/models")
            if code == 200:
                # One short request so the first measured one pays no load cost.
                body = json.dumps({"model": MODEL_NAME, "messages": [{"role": "user", "content": "hello"}], "max_tokens": 4}).encode()
                req = urllib.request.Request(self.url + "/v1/chat/completions", body, {"Content-Type": "application/json"})
                urllib.request.urlopen(req, timeout=60).read()
                return
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not answer /v1/models in 120 s; see {self.log}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def engine_cmd(name: str, gguf: Path, port: int, threads: int, parallel: int, ctx: int) -> list[str]:
    if name == "llama-cpp-python":
        return [
            str(ROOT / ".venv-engine/bin/python"), "-m", "llama_cpp.server",
            "--model", str(gguf), "--model_alias", MODEL_NAME,
            "--host", "127.0.0.1", "--port", str(port),
            "--n_ctx", str(ctx), "--n_threads", str(threads), "--n_threads_batch", str(threads),
            # interrupt_requests left at its default (True): that is the point of the abort runs.
        ]
    if name == "llama-server":
        return [
            str(ROOT / ".venv-engine/llama.cpp-build/bin/llama-server"),
            "-m", str(gguf), "--alias", MODEL_NAME,
            "--host", "127.0.0.1", "--port", str(port),
            # -c is shared by the slots: ctx per slot = ctx / parallel.
            "-c", str(ctx * parallel), "--parallel", str(parallel),
            "-t", str(threads), "-tb", str(threads), "--metrics", "--no-webui",
            # No prompt cache: every client sends the same seeded prompts in every
            # repeat, and llama-server's RAM cache (8 GiB by default) would answer
            # a repeat's prompts from the previous one's KV (TTFT 127 -> 22 ms).
            # Every request pays its whole prefill, with any client.
            "--cache-ram", "0", "--no-cache-prompt",
        ]
    raise ValueError(name)


# ---------------------------------------------------------------- /metrics


PROM_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")


def parse_prometheus(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        m = PROM_LINE.match(line)
        if m and not line.startswith("#"):
            try:
                out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
            except ValueError:
                pass
    return out


class Scraper(threading.Thread):
    """Reads the engine's /metrics every `interval` seconds while a client runs."""

    def __init__(self, url: str, interval: float):
        super().__init__(daemon=True)
        self.url, self.interval = url, interval
        self.samples: list[tuple[float, dict[str, float]]] = []
        self.stop_flag = threading.Event()

    def run(self) -> None:
        t0 = time.monotonic()
        while not self.stop_flag.is_set():
            code, text = http_get(self.url + "/metrics")
            if code == 200:
                self.samples.append((time.monotonic() - t0, parse_prometheus(text)))
            self.stop_flag.wait(self.interval)

    def summary(self) -> dict | None:
        if not self.samples:
            return None
        first, last = self.samples[0][1], self.samples[-1][1]
        span = self.samples[-1][0] - self.samples[0][0]

        def series(name: str) -> list[float]:
            return [s[name] for _, s in self.samples if name in s]

        out: dict = {"samples": len(self.samples), "span_s": round(span, 2)}
        for gauge in ("llamacpp:requests_processing", "llamacpp:requests_deferred", "llamacpp:kv_cache_usage_ratio", "llamacpp:n_busy_slots_per_decode"):
            v = series(gauge)
            if v:
                out[gauge] = {"mean": statistics.fmean(v), "max": max(v)}
        for counter in ("llamacpp:prompt_tokens_total", "llamacpp:prompt_seconds_total", "llamacpp:tokens_predicted_total", "llamacpp:tokens_predicted_seconds_total", "llamacpp:n_decode_total"):
            if counter in first and counter in last:
                out[counter + ":delta"] = last[counter] - first[counter]
        # The engine's own generation rate while it generated: llama-server adds a
        # request's tokens to tokens_predicted_total as the request ends, so the
        # rate is the tokens of the requests that ended after the first increase
        # seen, up to the last, over that time (a client's start-up and report
        # writing are left out; each end is known to one scrape interval).
        # The engine's own time per output token and prompt time per request
        # over the whole run: the server-side twins of the clients' TPOT and
        # TTFT, so a client's difference from the engine separates what the
        # client measures from how fast the engine ran during its run (the
        # client's own CPU use on a 2-core machine slows the engine).
        def delta(n: str) -> float | None:
            return last[n] - first[n] if n in first and n in last else None

        tokens, tok_s = delta("llamacpp:tokens_predicted_total"), delta("llamacpp:tokens_predicted_seconds_total")
        prompt_tokens, prompt_s = delta("llamacpp:prompt_tokens_total"), delta("llamacpp:prompt_seconds_total")
        if tokens and tok_s is not None:
            out["engine_ms_per_output_token"] = tok_s / tokens * 1e3
        if prompt_tokens and prompt_s is not None:
            out["engine_prompt_ms_per_token"] = prompt_s / prompt_tokens * 1e3
        name = "llamacpp:tokens_predicted_total"
        pts = [(t, s[name]) for t, s in self.samples if name in s]
        changes = [i for i in range(1, len(pts)) if pts[i][1] != pts[i - 1][1]]
        if len(changes) >= 2:
            i0, i1 = changes[0], changes[-1]
            if pts[i1][0] > pts[i0][0]:
                out["engine_output_tokens_per_s"] = (pts[i1][1] - pts[i0][1]) / (pts[i1][0] - pts[i0][0])
        for gauge in ("llamacpp:predicted_tokens_seconds", "llamacpp:prompt_tokens_seconds"):
            if gauge in last:
                out[gauge + ":last"] = last[gauge]
        return out


# ---------------------------------------------------------------- clients


def client_cmd(name: str, a, url: str, c: int, n: int, out: Path, tok: Path, server_metrics: bool) -> list[str]:
    if name == "yardstick":
        cmd = [
            str(Path(a.yardstick).resolve()), "endpoint", "--url", url, "--served-model", MODEL_NAME,
            "--concurrency", str(c), "--requests", str(n), "--warmup", str(a.warmup),
            "--synthetic", str(max(4 * n, 256)), "--input-tokens", str(a.isl), "--output-tokens", str(a.osl),
            "--tokenizer", str(tok), "-o", str(out), "--no-store",
        ]
        if server_metrics:
            # Also the default (auto); said so that the command stands alone.
            cmd += ["--server-metrics", "auto", "--scrape-interval", f"{a.scrape_interval}s"]
        return cmd
    if name == "aiperf":
        return [
            str(ROOT / ".venv-aiperf/bin/aiperf"), "profile", "--url", url, "-m", MODEL_NAME,
            "--endpoint-type", "chat", "--streaming", "--concurrency", str(c),
            "--request-count", str(n), "--warmup-request-count", str(a.warmup),
            "--isl", str(a.isl), "--isl-stddev", "0", "--osl", str(a.osl), "--osl-stddev", "0",
            # AIPerf asks for max_completion_tokens; llama-cpp-python reads max_tokens.
            "--extra-inputs", f"max_tokens:{a.osl}",
            "--tokenizer", str(tok), "--artifact-dir", str(out), "--ui-type", "none",
            "--random-seed", "42",
        ]
    if name == "guidellm":
        return [
            str(ROOT / ".venv-guidellm/bin/guidellm"), "run",
            # validate_backend false: its check is GET /health, which llama-cpp-python does not serve.
            # extras.body.max_tokens: guidellm asks for max_completion_tokens, which
            # llama-cpp-python 0.3.36 ignores (it then generates to the end of the context).
            "--backend", json.dumps({
                "kind": "openai_http", "target": url, "model": MODEL_NAME, "stream": True,
                "validate_backend": False, "extras": {"body": {"max_tokens": a.osl}},
            }),
            # guidellm's warmup requests are part of its max_requests count.
            "--profile", f"kind=concurrent,streams={c},warmup={a.warmup}",
            "--data", f"kind=synthetic_text,prompt_tokens={a.isl},output_tokens={a.osl}",
            "--tokenizer", f"kind=hf_auto,model={tok}",
            "--constraint", f"kind=max_requests,count={n + a.warmup}",
            "--output", f"kind=json,path={out}/out.json",
            "--disable-console-interactive",
        ]
    raise ValueError(name)


def pct(values: dict, key) -> float | None:
    v = values.get(str(key)) if isinstance(values, dict) else None
    return float(v) if v is not None else None


def parse_yardstick(out: Path) -> dict:
    s = json.loads(next(out.glob("*/result_summary.json")).read_text())
    ns = 1e-6
    rows = [json.loads(l) for l in next(out.glob("*/requests.jsonl")).read_text().splitlines() if l.strip()]
    reasons: dict[str, int] = {}
    for r in rows:
        if not r.get("ok"):
            err = r.get("error") or {}
            key = err.get("kind", "unknown") if isinstance(err, dict) else str(err)[:60]
            reasons[key] = reasons.get(key, 0) + 1
    d = {
        "requests": s["n_samples_issued"],
        "ok": s["n_samples_completed"],  # the requests that succeeded
        "failed": s["n_samples_failed"],
        "failure_reasons": reasons,
        "ttft_ms_mean": s["ttft"]["avg"] * ns if s["ttft"]["count"] else None,
        "ttft_ms_p50": s["ttft"]["percentiles"]["50"] * ns if s["ttft"]["count"] else None,
        "ttft_ms_p90": s["ttft"]["percentiles"]["90"] * ns if s["ttft"]["count"] else None,
        "tpot_ms_mean": s["tpot"]["avg"] * ns if s["tpot"]["count"] else None,
        "tpot_ms_p50": s["tpot"]["percentiles"]["50"] * ns if s["tpot"]["count"] else None,
        "latency_ms_mean": s["latency"]["avg"] * ns if s["latency"]["count"] else None,
        "output_tokens_per_request": s["output_sequence_lengths"]["avg"] if s["output_sequence_lengths"]["count"] else None,
        "input_tokens_per_request": s["input_sequence_lengths"]["avg"] if s["input_sequence_lengths"]["count"] else None,
        "requests_per_s": s["qps"],
        "output_tokens_per_s": s["system_tps"],
        "most_requests_failed": s.get("most_requests_failed"),
        "warnings": s.get("warnings"),
    }
    # yardstick's own scrape of the server's /metrics (--server-metrics, default auto):
    # the run record's server_metrics, less its per-scrape series.
    try:
        rec = json.loads(next(out.glob("*/run.json")).read_text())
    except (StopIteration, ValueError):
        rec = {}
    sm = rec.get("server_metrics")
    if sm:
        d["yardstick_server_metrics"] = {k: v for k, v in sm.items() if k not in ("series", "raw_file")}
    log = (out / "client.log").read_text(errors="replace") if (out / "client.log").exists() else ""
    d["yardstick_server_metrics_line"] = next((l.strip() for l in log.splitlines() if l.strip().startswith("server: ")), None)
    return d


def parse_aiperf(out: Path) -> dict:
    j = json.loads(next(out.rglob("profile_export_aiperf.json")).read_text())

    def metric(name: str) -> dict:
        m = j.get(name)
        if m is None and isinstance(j.get("records"), dict):
            m = j["records"].get(name)
        return m if isinstance(m, dict) else {}

    def stat(name: str, key: str) -> float | None:
        v = metric(name).get(key)
        return float(v) if v is not None else None

    err = metric("error_request_count").get("avg")
    d = {
        "requests": (stat("request_count", "avg") or 0) + (float(err) if err else 0),
        "ok": stat("request_count", "avg"),
        "failed": float(err) if err else 0.0,
        "ttft_ms_mean": stat("time_to_first_token", "avg"),
        "ttft_ms_p50": stat("time_to_first_token", "p50"),
        "ttft_ms_p90": stat("time_to_first_token", "p90"),
        # AIPerf's inter_token_latency = (latency - TTFT) / (output tokens - 1): yardstick's TPOT.
        "tpot_ms_mean": stat("inter_token_latency", "avg"),
        "tpot_ms_p50": stat("inter_token_latency", "p50"),
        "latency_ms_mean": stat("request_latency", "avg"),
        "output_tokens_per_request": stat("output_sequence_length", "avg"),
        "input_tokens_per_request": stat("input_sequence_length", "avg"),
        "requests_per_s": stat("request_throughput", "avg"),
        "output_tokens_per_s": stat("output_token_throughput", "avg"),
    }
    # Every count AIPerf keeps about requests it did not count as valid.
    d["aiperf_counts"] = {k: v.get("avg") for k, v in j.items() if isinstance(v, dict) and "count" in k and "avg" in v}
    errs = j.get("error_summary")
    if errs:
        d["failure_reasons"] = errs
    return d


def parse_guidellm(out: Path) -> dict:
    j = json.loads((out / "out.json").read_text())
    b = j["benchmarks"][0]
    m = b["metrics"]

    def stat(name: str, key: str, part: str = "successful") -> float | None:
        x = m.get(name, {})
        x = x.get(part, x) if isinstance(x, dict) else {}
        if key.startswith("p"):
            v = (x.get("percentiles") or {}).get(key)
        else:
            v = x.get(key)
        return float(v) if v is not None else None

    totals = b.get("request_totals") or m.get("request_totals") or {}
    if not totals and "request_totals" in b.get("scheduler_state", {}):
        totals = b["scheduler_state"]["request_totals"]
    reasons: dict[str, int] = {}
    for r in (b.get("requests") or {}).get("errored") or []:
        key = str(r.get("error") or (r.get("info") or {}).get("error"))[:100]
        reasons[key] = reasons.get(key, 0) + 1
    d = {
        "failure_reasons": reasons,
        "requests": totals.get("total"),
        "ok": totals.get("successful"),
        "failed": (totals.get("errored") or 0) + (totals.get("incomplete") or 0),
        "guidellm_totals": totals,
        "ttft_ms_mean": stat("time_to_first_token_ms", "mean"),
        "ttft_ms_p50": stat("time_to_first_token_ms", "p50"),
        "ttft_ms_p90": stat("time_to_first_token_ms", "p90"),
        # guidellm's inter_token_latency_ms = (last - first token) / (tokens - 1): yardstick's TPOT
        # (its time_per_output_token_ms includes the TTFT).
        "tpot_ms_mean": stat("inter_token_latency_ms", "mean"),
        "tpot_ms_p50": stat("inter_token_latency_ms", "p50"),
        "latency_ms_mean": (stat("request_latency", "mean") or 0) * 1e3 or None,
        "output_tokens_per_request": stat("output_token_count", "mean"),
        "input_tokens_per_request": stat("prompt_token_count", "mean"),
        "requests_per_s": stat("requests_per_second", "mean"),
        "output_tokens_per_s": stat("output_tokens_per_second", "mean"),
    }
    return d


EVAL_LINE = re.compile(r"^llama_perf_context_print:\s+eval time =\s+([\d.]+) ms /\s+(\d+) runs")
PROMPT_LINE = re.compile(r"^llama_perf_context_print: prompt eval time =\s+([\d.]+) ms /\s+(\d+) tokens")


def engine_log_timings(log: Path, start: int) -> dict | None:
    """llama-cpp-python has no /metrics, but its log has llama.cpp's own
    timings of every request (`eval time = X ms / N runs`): the engine's
    time per output token during this run, as llama-server's /metrics gives."""
    with open(log, "rb") as f:
        f.seek(start)
        text = f.read().decode(errors="replace")
    ms, runs, n = 0.0, 0, 0
    prompt_ms, prompt_tokens = [], []
    for line in text.splitlines():
        m = EVAL_LINE.match(line)
        if m and int(m.group(2)) > 8:  # the answers, not the few-token warm-up at start-up
            ms, runs, n = ms + float(m.group(1)), runs + int(m.group(2)), n + 1
        m = PROMPT_LINE.match(line)
        if m and int(m.group(2)) > 20:
            prompt_ms.append(float(m.group(1)))
            prompt_tokens.append(int(m.group(2)))
    if not runs:
        return None
    out = {"requests_timed": n, "engine_ms_per_output_token": ms / runs}
    if prompt_ms:
        # llama-cpp-python reuses the longest prefix shared with the previous
        # prompt, so a request's prompt eval covers only its new tokens.
        out["engine_prompt_eval_ms_mean"] = statistics.fmean(prompt_ms)
        out["engine_prompt_tokens_evaluated_mean"] = statistics.fmean(prompt_tokens)
    return out


PARSERS = {"yardstick": parse_yardstick, "aiperf": parse_aiperf, "guidellm": parse_guidellm}


def run_client(name: str, a, engine: Engine, c: int, n: int, out: Path, tok: Path, scrape: bool, ys_metrics: bool) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cmd = client_cmd(name, a, engine.url, c, n, out, tok, ys_metrics and name == "yardstick")
    scraper = Scraper(engine.url, a.scrape_interval) if scrape else None
    if scraper:
        scraper.start()
    log_start = engine.log.stat().st_size if engine.log.exists() else 0
    t0 = time.monotonic()
    # No HF_HUB_OFFLINE: with it AIPerf 0.13 takes a local tokenizer folder for a hub repo id and fails.
    env = dict(os.environ)
    with open(out / "client.log", "w") as log:
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=out, env=env)
        try:
            _, status, ru = os.wait4(p.pid, 0)
            rc = os.waitstatus_to_exitcode(status)
        except KeyboardInterrupt:
            p.kill()
            raise
    wall = time.monotonic() - t0
    if scraper:
        scraper.stop_flag.set()
        scraper.join()
    row: dict = {
        "engine": engine.name, "client": name, "concurrency": c, "rc": rc, "wall_s": round(wall, 2),
        "client_cpu_s": round(ru.ru_utime + ru.ru_stime, 2),
        "command": " ".join(cmd),
        "out": str(out),
    }
    try:
        row.update(PARSERS[name](out))
    except Exception as e:  # a client that wrote no report: keep the run, say why
        row["parse_error"] = f"{type(e).__name__}: {e}"
        row["client_log_tail"] = (out / "client.log").read_text(errors="replace")[-1500:]
    if engine.name == "llama-cpp-python" and engine.log.exists():
        row["engine_log"] = engine_log_timings(engine.log, log_start)
        el = row["engine_log"] or {}
        if row.get("tpot_ms_mean") is not None and el.get("engine_ms_per_output_token") is not None:
            row["tpot_minus_engine_ms"] = row["tpot_ms_mean"] - el["engine_ms_per_output_token"]
            row["tpot_over_engine"] = row["tpot_ms_mean"] / el["engine_ms_per_output_token"]
    if scraper:
        row["engine_metrics"] = scraper.summary()
        em = row["engine_metrics"] or {}
        if row.get("tpot_ms_mean") is not None and em.get("engine_ms_per_output_token") is not None:
            row["tpot_minus_engine_ms"] = row["tpot_ms_mean"] - em["engine_ms_per_output_token"]
            row["tpot_over_engine"] = row["tpot_ms_mean"] / em["engine_ms_per_output_token"]
        (out / "engine_metrics.jsonl").write_text("".join(json.dumps({"t": t, **s}) + "\n" for t, s in scraper.samples))
    return row


# ---------------------------------------------------------------- summary

KEYS = ("ttft_ms_mean", "ttft_ms_p50", "ttft_ms_p90", "tpot_ms_mean", "tpot_ms_p50", "output_tokens_per_s", "requests_per_s", "output_tokens_per_request", "input_tokens_per_request", "failed", "client_cpu_s", "tpot_minus_engine_ms", "tpot_over_engine")


def summarise(rows: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        if r.get("phase") == "agreement":
            groups.setdefault((r["engine"], r["concurrency"], r["client"]), []).append(r)
    out = []
    for (eng, c, client), rs in sorted(groups.items()):
        s: dict = {"engine": eng, "concurrency": c, "client": client, "runs": len(rs)}
        for k in KEYS:
            v = [float(r[k]) for r in rs if r.get(k) is not None]
            if v:
                s[k] = {"median": statistics.median(v), "min": min(v), "max": max(v)}
        em = [r.get("engine_metrics") or r.get("engine_log") for r in rs if r.get("engine_metrics") or r.get("engine_log")]
        if em:
            for k in ("engine_output_tokens_per_s", "engine_ms_per_output_token", "engine_prompt_ms_per_token"):
                v = [e[k] for e in em if e.get(k) is not None]
                if v:
                    s["engine_" + k.removeprefix("engine_")] = {"median": statistics.median(v), "min": min(v), "max": max(v)}
            v = [e["llamacpp:requests_processing"]["mean"] for e in em if "llamacpp:requests_processing" in e]
            if v:
                s["engine_requests_processing_mean"] = {"median": statistics.median(v), "min": min(v), "max": max(v)}
            v = [e["llamacpp:kv_cache_usage_ratio"]["max"] for e in em if "llamacpp:kv_cache_usage_ratio" in e]
            if v:
                s["engine_kv_cache_usage_max"] = {"median": statistics.median(v), "min": min(v), "max": max(v)}
        out.append(s)
    return out


def fmt(s: dict, k: str, nd: int = 1) -> str:
    v = s.get(k)
    if not v:
        return "-"
    return f"{v['median']:.{nd}f} [{v['min']:.{nd}f}-{v['max']:.{nd}f}]"


def print_table(summary: list[dict]) -> None:
    print("\nengine            c  client     TTFT ms mean [min-max]   TPOT ms mean            out tok/s               req/s            out tok/req  failed  client CPU s")
    for s in summary:
        print(
            f"{s['engine']:17} {s['concurrency']:<2} {s['client']:10} {fmt(s, 'ttft_ms_mean'):24} {fmt(s, 'tpot_ms_mean', 2):23} "
            f"{fmt(s, 'output_tokens_per_s'):23} {fmt(s, 'requests_per_s', 2):16} {fmt(s, 'output_tokens_per_request'):12} {fmt(s, 'failed', 0):7} {fmt(s, 'client_cpu_s'):8}"
        )


def markdown_table(summary: list[dict], abort: list[dict]) -> str:
    """The docs' table: median [min-max] over the repeats."""
    lines = [
        "| engine | c | client | TTFT mean ms | TTFT p90 ms | TPOT mean ms | engine ms/token (its own timings) | TPOT - engine ms | TPOT / engine | output tok/s | engine tok/s (/metrics) | req/s | out tok/req | failed | client CPU s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summary:
        lines.append(
            f"| {s['engine']} | {s['concurrency']} | {s['client']} | {fmt(s, 'ttft_ms_mean')} | {fmt(s, 'ttft_ms_p90')} | {fmt(s, 'tpot_ms_mean', 2)} "
            f"| {fmt(s, 'engine_ms_per_output_token', 2)} | {fmt(s, 'tpot_minus_engine_ms', 2)} | {fmt(s, 'tpot_over_engine', 2)} "
            f"| {fmt(s, 'output_tokens_per_s')} | {fmt(s, 'engine_output_tokens_per_s')} | {fmt(s, 'requests_per_s', 2)} | {fmt(s, 'output_tokens_per_request', 0)} | {fmt(s, 'failed', 0)} "
            f"| {fmt(s, 'client_cpu_s')} |"
        )
    if abort:
        lines += ["", "| client (llama-cpp-python, interrupt_requests default) | c | requests | succeeded | failed | how it says so |", "|---|---|---|---|---|---|"]
        for r in abort:
            how = r.get("failure_reasons") or r.get("guidellm_totals") or r.get("parse_error")
            lines.append(f"| {r['client']} | {r['concurrency']} | {r.get('requests')} | {r.get('ok')} | {r.get('failed')} | `{json.dumps(how)[:160]}` |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--yardstick", default=str(ROOT / "target/release/yardstick"))
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--work", type=Path, default=Path("/tmp/yardstick-real-engine"), help="model, logs and each client's own files")
    ap.add_argument("--engines", default="llama-cpp-python,llama-server")
    ap.add_argument("--clients", default="yardstick,aiperf,guidellm")
    ap.add_argument("--concurrency", default="llama-cpp-python=1;llama-server=1,2,4", help="levels per engine")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--requests", type=int, default=24, help="measured requests per run at c=1 (x c above)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--isl", type=int, default=128)
    ap.add_argument("--osl", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1, help="engine threads (the client gets the other core)")
    ap.add_argument("--parallel", type=int, default=4, help="llama-server slots")
    ap.add_argument("--ctx", type=int, default=1024, help="context per request slot")
    ap.add_argument("--abort-concurrency", type=int, default=4, help="0: skip the abort runs")
    ap.add_argument("--abort-requests", type=int, default=40)
    ap.add_argument("--scrape-interval", type=float, default=0.5)
    ap.add_argument("--tag", default=time.strftime("%Y-%m-%d"))
    ap.add_argument("--reparse", type=Path, help="re-read the clients' reports of a runs_TAG.json and rewrite it with its summary and table")
    a = ap.parse_args()
    if a.reparse:
        return reparse(a.reparse, a.work)

    a.work.mkdir(parents=True, exist_ok=True)
    a.out.mkdir(parents=True, exist_ok=True)
    model_dir = a.work / "model"
    subprocess.run([str(ROOT / ".venv-engine/bin/python"), str(HERE / "make_model.py"), str(model_dir)], check=True, stdout=subprocess.DEVNULL)
    gguf, tok = model_dir / "tiny-llama.gguf", model_dir / "tokenizer"
    ys_help = subprocess.run([a.yardstick, "endpoint", "--help"], capture_output=True, text=True).stdout
    ys_metrics = "--server-metrics" in ys_help

    levels = {}
    for part in a.concurrency.split(";"):
        eng, _, cs = part.partition("=")
        levels[eng] = [int(x) for x in cs.split(",")]
    clients = a.clients.split(",")
    rows: list[dict] = []
    runs_file = a.out / f"runs_{a.tag}.json"

    def save() -> None:
        runs_file.write_text(json.dumps({"meta": meta, "runs": rows}, indent=1))

    meta = {
        "isl": a.isl, "osl": a.osl, "requests_at_c1": a.requests, "warmup": a.warmup, "repeats": a.repeats,
        "engine_threads": a.threads, "llama_server_parallel": a.parallel, "ctx_per_slot": a.ctx,
        "model": json.loads((model_dir / "model.json").read_text()),
        "yardstick_server_metrics_flag": ys_metrics,
        "versions": versions(a.yardstick),
        "machine": machine(),
    }
    for eng_name in a.engines.split(","):
        port = free_port()
        engine = Engine(eng_name, engine_cmd(eng_name, gguf, port, a.threads, a.parallel, a.ctx), f"http://127.0.0.1:{port}", a.work / f"{eng_name}.log")
        engine.start()
        scrape = eng_name == "llama-server"
        try:
            for rep in range(a.repeats):
                for c in levels.get(eng_name, [1]):
                    order = clients[rep % len(clients):] + clients[: rep % len(clients)]
                    for client in order:
                        out = a.work / f"{eng_name}-c{c}-{client}-r{rep}"
                        row = run_client(client, a, engine, c, a.requests * c, out, tok, scrape, ys_metrics)
                        row.update(phase="agreement", repeat=rep)
                        rows.append(row)
                        save()
                        print(json.dumps({k: row.get(k) for k in ("engine", "client", "concurrency", "repeat", "rc", "ok", "failed", "ttft_ms_mean", "tpot_ms_mean", "output_tokens_per_s", "client_cpu_s", "parse_error")}), flush=True)
            if eng_name == "llama-cpp-python" and a.abort_concurrency > 1:
                for client in clients:
                    out = a.work / f"{eng_name}-abort-c{a.abort_concurrency}-{client}"
                    row = run_client(client, a, engine, a.abort_concurrency, a.abort_requests, out, tok, False, False)
                    row.update(phase="abort")
                    rows.append(row)
                    save()
                    print(json.dumps({k: row.get(k) for k in ("engine", "client", "phase", "rc", "requests", "ok", "failed", "failure_reasons", "output_tokens_per_request", "parse_error")}), flush=True)
        finally:
            engine.stop()

    summary = summarise(rows)
    (a.out / f"summary_{a.tag}.json").write_text(json.dumps({"meta": meta, "summary": summary, "abort": [r for r in rows if r.get("phase") == "abort"]}, indent=1))
    abort = [r for r in rows if r.get("phase") == "abort"]
    (a.out / f"table_{a.tag}.md").write_text(markdown_table(summary, abort))
    print_table(summary)
    return 0


def reparse(runs_file: Path, work: Path) -> int:
    doc = json.loads(runs_file.read_text())
    for row in doc["runs"]:
        if row.get("phase") == "abort":
            name = f"{row['engine']}-abort-c{row['concurrency']}-{row['client']}"
        else:
            name = f"{row['engine']}-c{row['concurrency']}-{row['client']}-r{row['repeat']}"
        out = Path(row.get("out") or work / name)
        row["out"] = str(out)
        row.pop("parse_error", None)
        try:
            row.update(PARSERS[row["client"]](out))
        except Exception as e:
            row["parse_error"] = f"{type(e).__name__}: {e}"
        engine_own = (row.get("engine_metrics") or row.get("engine_log") or {}).get("engine_ms_per_output_token")
        if row.get("tpot_ms_mean") is not None and engine_own:
            row["tpot_minus_engine_ms"] = row["tpot_ms_mean"] - engine_own
            row["tpot_over_engine"] = row["tpot_ms_mean"] / engine_own
    runs_file.write_text(json.dumps(doc, indent=1))
    tag = runs_file.stem.removeprefix("runs_")
    summary = summarise(doc["runs"])
    abort = [r for r in doc["runs"] if r.get("phase") == "abort"]
    (runs_file.parent / f"summary_{tag}.json").write_text(json.dumps({"meta": doc["meta"], "summary": summary, "abort": abort}, indent=1))
    (runs_file.parent / f"table_{tag}.md").write_text(markdown_table(summary, abort))
    print_table(summary)
    return 0


def versions(ys: str) -> dict:
    def out(cmd: list[str]) -> str:
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
            # llama-server prints its version on stderr.
            lines = (r.stdout.strip() or r.stderr.strip()).splitlines()
            return next((l for l in lines if l.startswith("version")), lines[-1] if lines else "?")
        except Exception as e:
            return f"? ({e})"

    def pip_version(venv: str, pkg: str) -> str:
        return out([str(ROOT / venv / "bin/python"), "-c", f"import importlib.metadata as m; print(m.version('{pkg}'))"])

    return {
        "yardstick": out([ys, "--version"]),
        "yardstick_commit": out(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        "llama-cpp-python": pip_version(".venv-engine", "llama-cpp-python"),
        "llama-server": out([str(ROOT / ".venv-engine/llama.cpp-build/bin/llama-server"), "--version"]) if (ROOT / ".venv-engine/llama.cpp-build/bin/llama-server").exists() else None,
        "gguf": pip_version(".venv-engine", "gguf"),
        "tokenizers": pip_version(".venv-engine", "tokenizers"),
        "aiperf": pip_version(".venv-aiperf", "aiperf"),
        "guidellm": pip_version(".venv-guidellm", "guidellm"),
        "python": sys.version.split()[0],
    }


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = ""
    try:
        mem = next(l.split(":", 1)[1].strip() for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "kernel": os.uname().release, "loadavg_at_start": os.getloadavg()}


if __name__ == "__main__":
    sys.exit(main())

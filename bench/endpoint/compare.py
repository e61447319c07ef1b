#!/usr/bin/env python3
"""Side-by-side comparison of HTTP benchmark clients against yardstick's mock
server on loopback (see docs/benchmarks.md, "Endpoint client").

For each client (yardstick, MLCommons' inference-endpoint, aiperf, guidellm), API mode (streaming or not)
and concurrency level, the client runs a closed loop against
`yardstick mock-server --mode max-throughput` (pre-built answers, no work)
for --duration seconds. The request rate is measured on the server
(GET /mock/stats, polled every 0.25 s): the best rate over any 2-second
window, so the number is the same instrument for every client and excludes
each client's start-up. Failed requests are read from each client's own
report. Then yardstick alone runs 1,000 concurrent streams against the
simulated mode and reports how far its first-token arrival stamps are from
the server's own send stamps.

Usage:
  .venv-bench/bin/python bench/endpoint/compare.py \
      --yardstick target/release/yardstick --out bench/endpoint/results
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent


def start_mock(ys: str, *extra: str) -> tuple[subprocess.Popen, str]:
    p = subprocess.Popen(
        [ys, "mock-server", "--listen", "127.0.0.1:0", *extra],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = p.stdout.readline() if p.stdout else ""
    url = line.split()[-1]
    assert url.startswith("http://127.0.0.1:"), line
    return p, url


def stats(url: str) -> int:
    with urllib.request.urlopen(url + "/mock/stats", timeout=5) as r:
        return int(json.load(r)["requests"])


def measure(cmd: list[str], url: str, timeout: float, cwd: Path) -> dict:
    """Runs `cmd`, polling the server's request counter; returns the best
    2-second request rate and the client's exit status."""
    samples: list[tuple[float, int]] = []
    log = open(cwd / "client.log", "w")
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
    rusage = None
    while True:
        # wait4 also gives the CPU time of the client and of the processes
        # it waited for (aiperf and guidellm run worker processes).
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            rusage = ru
            p.returncode = os.waitstatus_to_exitcode(status)
            break
        samples.append((time.monotonic(), stats(url)))
        if time.monotonic() - t0 > timeout:
            p.kill()
        time.sleep(0.25)
    samples.append((time.monotonic(), stats(url)))
    best = 0.0
    for i, (ta, na) in enumerate(samples):
        for tb, nb in samples[i + 1 :]:
            if tb - ta >= 2.0:
                best = max(best, (nb - na) / (tb - ta))
                break
    total = samples[-1][1] - samples[0][1] if samples else 0
    cpu = (rusage.ru_utime + rusage.ru_stime) if rusage else None
    return {
        "rate": best,
        "requests": total,
        "rc": p.returncode,
        "wall_s": time.monotonic() - t0,
        # Client CPU seconds (whole run, start-up and reports included) and
        # requests served per client CPU-second: the client's cost, free of
        # the server it shares the machine with.
        "client_cpu_s": cpu,
        "requests_per_client_cpu_s": total / cpu if cpu else None,
    }


def failures_yardstick(out: Path) -> int | None:
    try:
        # One folder per point (yardstick endpoint's layout): c<N>/.
        return json.loads(next(out.glob("*/result_summary.json")).read_text())["n_samples_failed"]
    except Exception:
        return None


def failures_aiperf(out: Path) -> int | None:
    try:
        j = json.loads(next(out.rglob("profile_export_aiperf.json")).read_text())
        err = j.get("error_request_count") or {}
        return int(err.get("avg", 0) or 0) if isinstance(err, dict) else int(err)
    except StopIteration:
        return None
    except Exception:
        return None


def failures_guidellm(out: Path) -> int | None:
    try:
        j = json.loads((out / "out.json").read_text())
        b = j["benchmarks"][0]
        totals = b.get("request_totals") or b.get("metrics", {}).get("request_totals") or {}
        if totals:
            return int(totals.get("errored", 0)) + int(totals.get("incomplete", 0))
        return None
    except Exception:
        return None


def client_cmd(name: str, ys: str, url: str, stream: bool, c: int, secs: int, tok: Path, prompts: Path, out: Path, par: int) -> list[str]:
    """`par`: yardstick client threads / inference-endpoint workers (the
    Python clients pick their own process counts)."""
    if name == "yardstick":
        return [
            ys, "endpoint", "--url", url, "--served-model", "mock",
            "--concurrency", str(c), "--duration", f"{secs}s", "--client-threads", str(par),
            "--dataset", str(prompts), "--tokenizer", str(tok), "-o", str(out),
            # Every output re-counted with the tokenizer, as the other
            # clients do (and as yardstick did before --usage prefer).
            "--usage", "both",
        ] + ([] if stream else ["--no-stream"])
    if name == "aiperf":
        return [
            str(VENV_BIN / "aiperf"), "profile", "--url", url, "-m", "mock",
            "--endpoint-type", "chat", "--concurrency", str(c),
            "--benchmark-duration", str(secs), "--tokenizer", str(tok),
            "--input-file", str(prompts), "--custom-dataset-type", "single_turn",
            "--artifact-dir", str(out), "--ui-type", "none",
        ] + (["--streaming"] if stream else [])
    if name == "guidellm":
        return [
            str(VENV_BIN / "guidellm"), "run",
            "--backend", f"kind=openai_http,target={url},model=mock,stream={'true' if stream else 'false'}",
            "--profile", f"kind=concurrent,streams={c}",
            "--data", f"kind=json_file,path={prompts}",
            "--tokenizer", f"kind=hf_auto,model={tok}",
            "--constraint", f"kind=max_duration,seconds={secs}",
            "--output", f"kind=json,path={out}/out.json",
            "--disable-console-interactive",
        ]
    if name == "inference-endpoint":
        ie = Path(os.environ.get("IE_BIN", Path(sys.executable).parents[2] / ".venv-ie/bin/inference-endpoint"))
        return [
            str(ie), "benchmark", "online", "--endpoints", url, "--model", "mock",
            "--dataset", f"{prompts},parser.prompt=text",
            "--load-pattern", "concurrency", "--concurrency", str(c),
            "--duration", f"{secs}s", "--streaming", "on" if stream else "off",
            "--max-output-tokens", "16", "--report-dir", str(out), "--tokenizer", str(tok),
            # Its automatic worker count fails to start on 2 cores.
            "--workers", str(par), "--max-connections", str(c),
            "--no-cpu-affinity",
        ]
    raise ValueError(name)


def failures_ie(out: Path) -> int | None:
    try:
        j = json.loads(next(out.rglob("result_summary.json")).read_text())
        return int(j.get("n_samples_failed", 0))
    except Exception:
        return None


FAILS = {
    "yardstick": failures_yardstick,
    "aiperf": failures_aiperf,
    "guidellm": failures_guidellm,
    "inference-endpoint": failures_ie,
}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--yardstick", default="target/release/yardstick")
    ap.add_argument("--out", type=Path, default=Path("/tmp/yardstick-client-compare"))
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--concurrency", default="16,64,256")
    ap.add_argument("--clients", default="yardstick,inference-endpoint,aiperf,guidellm")
    ap.add_argument("--ttft-streams", type=int, default=1000)
    ap.add_argument("--ttft-duration", type=int, default=20)
    ap.add_argument("--skip-ttft", action="store_true")
    ap.add_argument("--parallel", default="1",
                    help="yardstick client threads / inference-endpoint workers to try, e.g. 1,2")
    a = ap.parse_args()
    ys = str(Path(a.yardstick).resolve())
    a.out.mkdir(parents=True, exist_ok=True)
    tok = a.out / "tokenizer"
    subprocess.run([sys.executable, str(HERE / "make_tokenizer.py"), str(tok)], check=True, stdout=subprocess.DEVNULL)
    prompts = a.out / "prompts.jsonl"
    with open(prompts, "w") as f:
        for i in range(60000):
            f.write(json.dumps({"text": " ".join(f"tok{(i + k) % 100}" for k in range(32)), "max_tokens": 16}) + "\n")

    results = []
    mock, url = start_mock(ys, "--mode", "max-throughput", "--output-tokens", "16", "--threads", "1")
    try:
        for stream in (False, True):
            for name in a.clients.split(","):
                pars = [int(x) for x in a.parallel.split(",")] if name in ("yardstick", "inference-endpoint") else [1]
                for par in pars:
                    for c in [int(x) for x in a.concurrency.split(",")]:
                        out = a.out / f"{name}-{'stream' if stream else 'nostream'}-c{c}-p{par}"
                        shutil.rmtree(out, ignore_errors=True)
                        out.mkdir(parents=True)
                        cmd = client_cmd(name, ys, url, stream, c, a.duration, tok, prompts, out, par)
                        m = measure(cmd, url, a.duration * 6 + 120, out)
                        m.update(client=name, stream=stream, concurrency=c, parallel=par, failed=FAILS[name](out))
                        print(json.dumps(m), flush=True)
                        results.append(m)
    finally:
        mock.kill()
        mock.wait()

    ttft = None
    if not a.skip_ttft:
        mock, url = start_mock(
            ys, "--mode", "simulated", "--ttft", "100ms", "--tpot", "20ms",
            "--jitter", "0.5", "--output-tokens", "32", "--threads", "1",
        )
        try:
            out = a.out / f"yardstick-ttft-c{a.ttft_streams}"
            shutil.rmtree(out, ignore_errors=True)
            r = subprocess.run(
                [ys, "endpoint", "--url", url, "--served-model", "mock",
                 "--concurrency", str(a.ttft_streams), "--duration", f"{a.ttft_duration}s",
                 "--client-threads", "1", "--dataset", str(prompts), "--tokenizer", str(tok),
                 "--max-tokens", "32", "--force-max-tokens", "-o", str(out)],
                capture_output=True, text=True,
            )
            s = json.loads((out / f"c{a.ttft_streams}" / "result_summary.json").read_text())
            d = s.get("first_token_delay_vs_server") or {}
            ttft = {
                "streams": a.ttft_streams,
                "rc": r.returncode,
                "issued": s["n_samples_issued"],
                "failed": s["n_samples_failed"],
                "qps": s["qps"],
                "system_tps": s["system_tps"],
                "delay_us": {k: v / 1e3 for k, v in (d.get("percentiles") or {}).items()},
                "delay_max_us": (d.get("max") or 0) / 1e3,
                "ttft_p50_ms": s["ttft"]["percentiles"]["50"] / 1e6,
                "ttft_p99_ms": s["ttft"]["percentiles"]["99"] / 1e6,
            }
            print(json.dumps(ttft), flush=True)
        finally:
            mock.kill()
            mock.wait()

    best = {}
    for r in results:
        k = (r["client"], r["stream"])
        # A run counts when the client reports no failed request (aiperf can
        # exit non-zero on its own shutdown after a clean run; the exit
        # status is kept in compare.json).
        if r["failed"] == 0 or (r["failed"] is None and r["rc"] == 0):
            best[k] = max(best.get(k, 0.0), r["rate"])
    summary = {"runs": results, "best": {f"{k[0]}/{'stream' if k[1] else 'nostream'}": v for k, v in best.items()}, "ttft": ttft}
    (a.out / "compare.json").write_text(json.dumps(summary, indent=1))
    print("\nbest request rate (server-side, best 2 s window):")
    for stream in (False, True):
        mode = "stream" if stream else "nostream"
        ys_best = best.get(("yardstick", stream), 0.0)
        others = {n: v for (n, s), v in best.items() if s == stream and n != "yardstick"}
        top = max(others.values(), default=0.0)
        ratio = ys_best / top if top else float("inf")
        print(f"  {mode:9}: yardstick {ys_best:9.0f}/s  " + "  ".join(f"{n} {v:7.0f}/s" for n, v in others.items()) + f"  ratio {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Does the client slow the engine? yardstick and a minimal Python streaming
client (http.client, reading each SSE line) take turns against one
llama-cpp-python server, and the engine's own time per output token during
each turn is read from its log (llama.cpp's `eval time` lines). A client that
slowed the engine would show a higher engine ms/token in its turns.

Usage (after run.py has made the model): python3 bench/real_engine/engine_speed_ab.py [ROUNDS]
"""

import http.client
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import run  # noqa: E402

WORK = Path("/tmp/yardstick-real-engine")


def python_client(port: int, n: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    words = " ".join(["the client measures latency"] * 32)
    for i in range(n):
        body = json.dumps({"model": run.MODEL_NAME, "messages": [{"role": "user", "content": f"{i} {words}"}], "max_tokens": 64, "stream": True})
        conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
        r = conn.getresponse()
        while True:
            line = r.readline()
            if not line or line.strip() == b"data: [DONE]":
                break
        r.read()


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    port = run.free_port()
    log = WORK / "ab-engine.log"
    engine = run.Engine("llama-cpp-python", run.engine_cmd("llama-cpp-python", WORK / "model/tiny-llama.gguf", port, 1, 1, 1024), f"http://127.0.0.1:{port}", log)
    engine.start()
    rows = []
    try:
        for rnd in range(rounds):
            for who in ("yardstick", "python"):
                start = log.stat().st_size
                t0 = time.monotonic()
                if who == "yardstick":
                    subprocess.run(
                        [str(run.ROOT / "target/release/yardstick"), "endpoint", "--url", engine.url, "--served-model", run.MODEL_NAME,
                         "--concurrency", "1", "--requests", "12", "--input-tokens", "128", "--output-tokens", "64",
                         "--tokenizer", str(WORK / "model/tokenizer"), "-o", str(WORK / "ab-yardstick"), "--no-store", "--server-metrics", "off"],
                        capture_output=True, check=True,
                    )
                else:
                    python_client(port, 12)
                row = {"round": rnd, "client": who, "wall_s": round(time.monotonic() - t0, 2), **(run.engine_log_timings(log, start) or {})}
                rows.append(row)
                print(json.dumps(row), flush=True)
    finally:
        engine.stop()
    out = HERE / "results" / f"engine_speed_ab_{time.strftime('%Y-%m-%d')}.json"
    out.write_text(json.dumps({"machine": run.machine(), "rounds": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

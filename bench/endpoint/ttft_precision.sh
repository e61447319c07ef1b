#!/usr/bin/env bash
# TTFT stamp precision at N concurrent streams: yardstick's first-token
# arrival stamps against the mock server's own send stamps (CLOCK_MONOTONIC,
# same host, loopback). The mock server and the client each get one core
# (taskset) when at least two are free.
#
#   bench/endpoint/ttft_precision.sh YARDSTICK_BIN OUT_DIR [STREAMS] [SECONDS]
#
# Environment: THREADS (client threads, default 1), BUSY=1 (--busy-poll),
# TPOT (mock time per token, default 20ms).
set -euo pipefail
THREADS=${THREADS:-1}
TPOT=${TPOT:-20ms}
busy=()
[ "${BUSY:-0}" = 1 ] && busy=(--busy-poll)
YS=${1:-target/release/yardstick}
OUT=${2:-bench/endpoint/results/ttft}
N=${3:-1000}
SECS=${4:-20}
mkdir -p "$OUT"
pin_server=() pin_client=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  last=$(( $(nproc) - 1 ))
  [ "$THREADS" -lt "$last" ] && last=$THREADS
  pin_server=(taskset -c 0) pin_client=(taskset -c "1-$last")
fi
"${pin_server[@]}" "$YS" mock-server --listen 127.0.0.1:0 --mode simulated \
  --ttft 100ms --tpot "$TPOT" --jitter 0.5 --output-tokens 32 --threads 1 \
  --serve-for $((SECS + 60))s > "$OUT/mock.out" &
MOCK=$!
trap 'kill $MOCK 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$OUT/mock.out" ] && break; sleep 0.1; done
URL=$(head -1 "$OUT/mock.out" | awk '{print $NF}')
"${pin_client[@]}" "$YS" endpoint --url "$URL" --served-model mock \
  --concurrency "$N" --duration "${SECS}s" --client-threads "$THREADS" "${busy[@]}" \
  --max-tokens 32 --force-max-tokens -o "$OUT" | tee "$OUT/client.out"
python3 - "$OUT/c$N/result_summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
d = s["first_token_delay_vs_server"]
print(json.dumps({
    "streams": s["concurrency"], "issued": s["n_samples_issued"], "failed": s["n_samples_failed"],
    "qps": round(s["qps"], 1), "system_tps": round(s["system_tps"], 1),
    "first_token_delay_us": {k: round(v / 1e3, 1) for k, v in d["percentiles"].items()},
    "max_us": round(d["max"] / 1e3, 1),
}))
PY

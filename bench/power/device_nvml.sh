#!/bin/bash
# The NVML measurement of docs/benchmarks.md, on a machine with an NVIDIA GPU:
# a ResNet-50 load on the GPU (bench/power/gpu_load.py) runs while a
# `yardstick run ... Offline --power nvml` measures it; twice, steady and in
# a duty cycle (4 s busy, 2 s idle). Compares the NVML total-energy counter's
# joules over the run's window with the integrated power samples.
#   bench/power/device_nvml.sh path/to/yardstick OUTDIR
set -u
B=$1; OUT=$2
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,power.draw,power.limit --format=csv > "$OUT/smi.csv" 2>&1
for case in steady duty; do
  rm -f "$OUT/ready"
  extra=""; [ $case = duty ] && extra="--on 4 --off 2"
  python3 bench/power/gpu_load.py --seconds 95 $extra --ready "$OUT/ready" --json "$OUT/load_$case.json" > "$OUT/load_$case.log" 2>&1 &
  load=$!
  for _ in $(seq 1 120); do [ -f "$OUT/ready" ] && break; sleep 0.5; done
  # The stand-in SUT: 4 workers x 1 ms = 4000 samples/s, 264k samples = 66 s.
  "$B" run --sut sleep --service-time 1ms --workers 4 --scenario Offline --target-qps 4000 \
    --duration 60s --power nvml --no-store -o "$OUT/run_$case" > "$OUT/run_$case.log" 2>&1
  wait $load
  python3 - "$OUT" $case <<'PY'
import json, sys
out, case = sys.argv[1], sys.argv[2]
p = json.load(open(f"{out}/run_{case}/run.json"))["power"]
load = json.load(open(f"{out}/load_{case}.json"))
diff = (p["joules"] - p["counter_joules"]) / p["counter_joules"] * 100
ipj = load["images"] / load["busy_seconds"] * (load["busy_seconds"] / 95.0) / p["mean_watts"]
print(f"{case}: {p['source']}: window {p['window_seconds']:.2f} s, {p['samples_in_window']} samples, "
      f"mean {p['mean_watts']:.1f} W, samples x window {p['joules']:.1f} J, counter {p['counter_joules']:.1f} J, "
      f"difference {diff:+.3f} %, yardstick samples/J {p['samples_per_joule']:.3f}, "
      f"ResNet-50 {load['images_per_busy_second']:.0f} img/s busy, ~{ipj:.2f} images/J")
PY
done

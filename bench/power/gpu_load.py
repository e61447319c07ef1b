#!/usr/bin/env python3
"""A steady GPU load for the NVML power measurement (docs/benchmarks.md): the
ResNet-50 of bench/python/resnet50_gpu.py (torchvision, random weights, bf16,
channels_last, inference mode) run back to back on batches kept on the GPU,
for --seconds, optionally in a duty cycle (--on/--off seconds) so the power
steps up and down. Writes --ready once warmed up and steady, and at the end a
JSON with the images per second while running.

    python3 bench/power/gpu_load.py --seconds 100 --ready /tmp/ready --json load.json
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=100.0)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--on", type=float, default=0.0, help="duty cycle: seconds busy (0: always busy)")
    ap.add_argument("--off", type=float, default=0.0, help="duty cycle: seconds idle")
    ap.add_argument("--ready", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    import torch
    import torchvision

    torch.manual_seed(0)
    model = torchvision.models.resnet50().eval().to("cuda", dtype=torch.bfloat16)
    model = model.to(memory_format=torch.channels_last)
    x = torch.randn(args.batch, 3, 224, 224, device="cuda", dtype=torch.bfloat16)
    x = x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        for _ in range(20):
            model(x).argmax(1)
        torch.cuda.synchronize()
        if args.ready:
            args.ready.write_text("ready\n")
        start = time.monotonic()
        images = 0
        busy = 0.0
        while time.monotonic() - start < args.seconds:
            phase_start = time.monotonic()
            while time.monotonic() - start < args.seconds and (
                args.on <= 0 or time.monotonic() - phase_start < args.on
            ):
                model(x).argmax(1)
                images += args.batch
                if images % (args.batch * 8) == 0:
                    torch.cuda.synchronize()
            torch.cuda.synchronize()
            busy += time.monotonic() - phase_start
            if args.on > 0 and args.off > 0:
                time.sleep(args.off)
    result = {"images": images, "busy_seconds": busy, "images_per_busy_second": images / busy,
              "gpu": torch.cuda.get_device_name(0), "torch": torch.__version__, "batch": args.batch}
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

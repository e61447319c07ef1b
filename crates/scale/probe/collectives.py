#!/usr/bin/env python3
"""NCCL collective timings for `yardstick scale --collectives`.

One process per visible GPU (torch.multiprocessing), torch.distributed with
the NCCL backend: for each message size, `--warmup` untimed operations, then
`--iters` timed ones between CUDA events; an operation's time is the mean
over the iterations, the slowest rank's (as nccl-tests reports). Sizes run
from --max-bytes down to --min-bytes, divided by --step-factor. Each size's result is
checked once before timing (all-reduce: every element is the sum of the
ranks' values; all-gather: each rank's slice holds that rank's value).

Writes JSON (--out): world size, backend, device, versions, and per
operation and size the bytes (all-reduce: the buffer; all-gather: the
gathered output, as nccl-tests counts it), iterations, mean seconds and
whether the check passed. yardstick computes algorithm and bus bandwidth
from it (crates/scale/src/collectives.rs), once.

NVLink multicast stays off: NCCL_NVLS_ENABLE=0 (and PyTorch's and
NVSHMEM's switches) are set here too, before NCCL loads, whatever the
caller's environment says.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import sys

MULTICAST_OFF = {"NCCL_NVLS_ENABLE": "0", "TORCH_SYMM_MEM_DISABLE_MULTICAST": "1", "NVSHMEM_DISABLE_NVLS": "1"}
os.environ.update(MULTICAST_OFF)


def sizes(lo: int, hi: int, factor: int) -> list[int]:
    """From the largest down, so the largest (1 GiB by default) is always
    measured: hi, hi/factor, ... while at least lo (and 4 bytes)."""
    out, s = [], hi
    while s >= max(lo, 4):
        out.append(s)
        s //= factor
    return out[::-1]


def worker(rank: int, world: int, port: int, a, queue) -> None:
    import torch
    import torch.distributed as dist

    os.environ.update(MULTICAST_OFF)
    torch.cuda.set_device(rank)
    dev = torch.device("cuda", rank)
    dist.init_process_group("nccl", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            device_id=dev)
    timings = []
    for op in ("all_reduce", "all_gather"):
        for size in sizes(a.min_bytes, a.max_bytes, a.step_factor):
            if op == "all_reduce":
                count = max(1, size // 4)
                buf = torch.full((count,), float(rank + 1), dtype=torch.float32, device=dev)
                nbytes = count * 4
                dist.all_reduce(buf)
                torch.cuda.synchronize()
                correct = bool(torch.all(buf == world * (world + 1) / 2).item())
                run = lambda: dist.all_reduce(buf)  # noqa: E731
            else:
                per_rank = max(1, size // (4 * world))
                part = torch.full((per_rank,), float(rank + 1), dtype=torch.float32, device=dev)
                out = torch.empty((per_rank * world,), dtype=torch.float32, device=dev)
                nbytes = per_rank * world * 4
                dist.all_gather_into_tensor(out, part)
                torch.cuda.synchronize()
                want = torch.arange(1, world + 1, dtype=torch.float32, device=dev).repeat_interleave(per_rank)
                correct = bool(torch.equal(out, want))
                run = lambda: dist.all_gather_into_tensor(out, part)  # noqa: E731
            for _ in range(a.warmup):
                run()
            torch.cuda.synchronize()
            dist.barrier()
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(a.iters):
                run()
            end.record()
            end.synchronize()
            seconds = torch.tensor([start.elapsed_time(end) / 1e3 / a.iters], dtype=torch.float64, device=dev)
            ok = torch.tensor([1 if correct else 0], dtype=torch.int32, device=dev)
            dist.all_reduce(seconds, op=dist.ReduceOp.MAX)
            dist.all_reduce(ok, op=dist.ReduceOp.MIN)
            timings.append({"op": op, "bytes": nbytes, "iterations": a.iters, "seconds": seconds.item(),
                            "correct": bool(ok.item())})
            del run
    if rank == 0:
        v = torch.cuda.nccl.version()
        nccl = ".".join(str(x) for x in v) if isinstance(v, tuple) else str(v)
        queue.put({"world_size": world, "backend": "nccl", "device": torch.cuda.get_device_name(0),
                   "torch": torch.__version__, "nccl": nccl, "warmup": a.warmup, "timings": timings})
    dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--min-bytes", type=int, default=8)
    ap.add_argument("--max-bytes", type=int, default=1 << 30)
    ap.add_argument("--step-factor", type=int, default=4)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--iters", type=int, default=20)
    a = ap.parse_args(argv)
    if a.step_factor < 2:
        ap.error("--step-factor must be at least 2")
    import torch
    import torch.multiprocessing as mp

    world = torch.cuda.device_count()
    if world < 1:
        print("collectives probe: no CUDA device visible", file=sys.stderr)
        return 2
    ctx = mp.get_context("spawn")
    queue = ctx.SimpleQueue()
    mp.start_processes(worker, args=(world, free_port(), a, queue), nprocs=world, join=True,
                       start_method="spawn")
    result = queue.get()
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

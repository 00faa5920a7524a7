"""SAE training under DDP (gloo, CPU): 2 processes of `cores / 2` threads against 1 process of `cores` threads.

    python bench/sae_ddp.py [--d-in 640] [--d-sae 5120] [--k 32] [--batch 4096] [--steps 30] [--repeats 3]

Same seed, same global batch, same stream (seeded Gaussian batches made in each process); the measured
time is `train_sae` alone (after process start-up and the group's rendezvous), steps after the first.
Reports tokens/s of each and their ratio, and the largest weight difference between the two runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file

from incision.sae import SAEConfig, train_sae
from incision.sae.trainer import SAETrainConfig


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--d-in", type=int, default=640)
    p.add_argument("--d-sae", type=int, default=5120)
    p.add_argument("--k", type=int, default=32)
    p.add_argument("--batch", type=int, default=4096)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--repeats", type=int, default=3)
    return p.parse_args(argv)


def batches(args):
    g = torch.Generator().manual_seed(0)
    mix = torch.randn(args.d_in, args.d_in, generator=g) / args.d_in**0.5
    for _ in range(args.steps):
        yield torch.randn(args.batch, args.d_in, generator=g) @ mix


def train(args, out: Path | None) -> float:
    """Seconds per step after the first, in this process's world; rank 0 saves the weights to `out`."""
    cfg = SAETrainConfig(
        batch_size=args.batch, total_tokens=args.batch * args.steps, log_every=10**9, progress=False
    )
    times: list[float] = []

    class Clock:
        def __iter__(self):
            for x in batches(args):
                times.append(time.perf_counter())
                yield x

    result = train_sae(SAEConfig(args.d_in, args.d_sae, k=args.k), Clock(), cfg)
    if out is not None and (not dist.is_initialized() or dist.get_rank() == 0):
        save_file({k: v.contiguous() for k, v in result.sae.state_dict().items()}, out)
    return (times[-1] - times[1]) / (len(times) - 2)  # batch i+1 is read when step i is done


def worker(rank: int, port: int, threads: int, args, out: str, seconds: str) -> None:
    torch.set_num_threads(threads)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    dist.barrier()
    step_s = train(args, Path(out))
    if rank == 0:
        Path(seconds).write_text(str(step_s))
    dist.destroy_process_group()


def main(argv=None) -> None:
    args = parse_args(argv)
    cores = os.cpu_count() or 1
    tmp = Path(tempfile.mkdtemp(prefix="bench-ddp-"))
    single, double = [], []
    for _ in range(args.repeats):
        torch.set_num_threads(cores)
        single.append(train(args, tmp / "one.safetensors"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        mp.spawn(
            worker,
            args=(port, max(1, cores // 2), args, str(tmp / "two.safetensors"), str(tmp / "s")),
            nprocs=2,
        )
        double.append(float((tmp / "s").read_text()))
        print(f"single {single[-1]:.3f} s/step, 2 processes {double[-1]:.3f} s/step", file=sys.stderr)
    one, two = load_file(tmp / "one.safetensors"), load_file(tmp / "two.safetensors")
    result = {
        "command": shlex.join(["python", *sys.argv]),
        "cores": cores,
        "shape": {"d_in": args.d_in, "d_sae": args.d_sae, "k": args.k, "batch": args.batch},
        "tokens_per_s_1_process": args.batch / statistics.median(single),
        "tokens_per_s_2_processes": args.batch / statistics.median(double),
        "ratio_2_over_1": statistics.median(single) / statistics.median(double),
        "max_abs_weight_difference": max(float((one[k] - two[k]).abs().max()) for k in one),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

"""What every contender of bench/sae_train.py shares: its options, the activations file, the timed loop and the
JSON it reports. Imports only torch and safetensors, so each peer's virtualenv can run it.

A worker calls `parse_args()`, `load_batches(args)`, then `run_steps(args, step)` where `step(x_BD)` does one
training step and returns (input, reconstruction) of that batch, and prints `report(...)` as the last line
of its stdout (anything the peer library prints goes before it).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable

import torch
from safetensors.torch import load_file

DATA_KEY = "activations"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="one contender of bench/sae_train.py")
    parser.add_argument("--data", required=True, help=f"safetensors file with {DATA_KEY!r} [N, d_in] float32")
    parser.add_argument("--d-sae", type=int, default=5120)
    parser.add_argument("--k", type=int, default=32)
    parser.add_argument("--batch", type=int, default=4096, help="tokens per step")
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--warmup-steps", type=int, default=3, help="untimed steps first")
    parser.add_argument("--timed-steps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def load_batches(args: argparse.Namespace) -> list[torch.Tensor]:
    """The first (warm-up + timed) steps' batches of the file, each [batch, d_in] float32, contiguous."""
    x = load_file(args.data)[DATA_KEY]
    n_steps = args.warmup_steps + args.timed_steps
    if x.shape[0] < n_steps * args.batch:
        raise SystemExit(f"{args.data} holds {x.shape[0]} rows, {n_steps * args.batch} are needed")
    return [x[i * args.batch : (i + 1) * args.batch].float().contiguous() for i in range(n_steps)]


def fvu(x_BD: torch.Tensor, recon_BD: torch.Tensor) -> float:
    """||x - x_hat||^2 / ||x - mean(x)||^2 over the batch: the same formula for every contender."""
    with torch.no_grad():
        x, r = x_BD.double(), recon_BD.detach().double()
        return float((x - r).pow(2).sum() / (x - x.mean(0)).pow(2).sum())


def machine_busy_s() -> float | None:
    """CPU seconds the whole machine has been busy (steal included), from /proc/stat; None elsewhere."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:9]]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = ticks
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class Clock:
    """Wall time, this process's CPU time and the machine's busy time between `start()` and `stop()`."""

    def start(self) -> None:
        self.busy0, self.cpu0, self.t0 = machine_busy_s(), time.process_time(), time.perf_counter()

    def stop(self) -> dict:
        wall, cpu = time.perf_counter() - self.t0, time.process_time() - self.cpu0
        busy1 = machine_busy_s()
        other = None if self.busy0 is None or busy1 is None else max(0.0, (busy1 - self.busy0 - cpu) / wall)
        return {"seconds": wall, "cpu_s": cpu, "other_cores": other}


def run_steps(
    args: argparse.Namespace,
    batches: list[torch.Tensor],
    step: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
) -> dict:
    """Warm-up steps, then the timed steps; the FVU of the last step's batch is computed after the clock stops."""
    clock = Clock()
    last = None
    for i, x_BD in enumerate(batches):
        if i == args.warmup_steps:
            clock.start()
        last = step(x_BD)
    timing = clock.stop()
    return {**timing, "steps": args.timed_steps, "fvu_last": fvu(*last)}


def report(name: str, version: str, args: argparse.Namespace, result: dict, **extra) -> str:
    tokens = args.timed_steps * args.batch
    return json.dumps(
        {
            "name": name,
            "version": version,
            "tokens_per_s": tokens / result["seconds"],
            "batch": args.batch,
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
            **result,
            **extra,
        }
    )

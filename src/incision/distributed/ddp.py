"""torch.distributed helpers for data-parallel training (SAEs, probes).

Without an initialised process group every helper is the identity (rank 0 of 1), so single-process code
paths run exactly as they did. Under `torchrun`, `init_from_env` starts the group: gloo on CPU, nccl on CUDA.
Reductions here are for statistics outside autograd (normalisers, counters, L-BFGS gradients): their
inputs are detached and their results carry no gradient. The math objects never import this module: the
trainers hand them a `ProcessGroupReducer` (see `incision.reduce`).
"""

from __future__ import annotations

import logging
import os

import torch
import torch.distributed as dist

from ..errors import ConfigError, InputError
from ..reduce import shard_bounds

log = logging.getLogger(__name__)


def world() -> tuple[int, int]:
    """(rank, world size) of this process: (0, 1) when no process group is initialised."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main() -> bool:
    """Whether this process writes outputs (rank 0, or the only process)."""
    return world()[0] == 0


def init_from_env() -> tuple[int, int]:
    """Join the process group torchrun describes (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT) when
    WORLD_SIZE > 1 and none is initialised yet; returns (rank, world size)."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1 or (dist.is_available() and dist.is_initialized()):
        return world()
    if not dist.is_available():
        raise ConfigError(f"WORLD_SIZE={size} asks for {size} processes, but this torch has no distributed")
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend, init_method="env://")
    log.info("joined process group: rank %d of %d (%s)", dist.get_rank(), size, backend)
    return world()


def finish() -> None:
    """Leave the process group, if one was joined (torch warns at exit otherwise)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def shard_batch(x: torch.Tensor, rank: int, size: int, *, even: bool = False) -> torch.Tensor:
    """This rank's contiguous share of the rows of `x`; with `even`, the rows must split evenly."""
    if even and x.shape[0] % size:
        raise InputError(
            f"a batch of {x.shape[0]} rows does not split evenly over {size} processes; "
            f"use a batch size divisible by {size}"
        )
    start, end = shard_bounds(x.shape[0], rank, size)
    return x[start:end]


def device_for_backend() -> torch.device:
    """Where collectives' tensors must live: CUDA for nccl, else CPU."""
    if dist.is_initialized() and dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def all_sum(t: torch.Tensor) -> torch.Tensor:
    """Sum of `t` over all processes (a detached copy; `t` itself when alone)."""
    return _all_reduce(t, dist.ReduceOp.SUM if dist.is_available() else None)


def all_max(t: torch.Tensor) -> torch.Tensor:
    """Elementwise maximum of `t` over all processes."""
    return _all_reduce(t, dist.ReduceOp.MAX if dist.is_available() else None)


def all_min(t: torch.Tensor) -> torch.Tensor:
    """Elementwise minimum of `t` over all processes."""
    return _all_reduce(t, dist.ReduceOp.MIN if dist.is_available() else None)


def all_gather_cat(t: torch.Tensor) -> torch.Tensor:
    """Rows of `t` from every process in rank order; row counts may differ between processes."""
    if world()[1] == 1:
        return t
    size, device = world()[1], device_for_backend()
    local = t.detach().to(device)
    counts = [torch.zeros(1, dtype=torch.int64, device=device) for _ in range(size)]
    dist.all_gather(counts, torch.tensor([local.shape[0]], device=device))
    longest = int(max(c.item() for c in counts))
    padded = local.new_zeros((longest, *local.shape[1:]))
    padded[: local.shape[0]] = local
    parts = [torch.empty_like(padded) for _ in range(size)]
    dist.all_gather(parts, padded)
    return torch.cat([p[: int(c.item())] for p, c in zip(parts, counts, strict=True)]).to(t.device)


def _all_reduce(t: torch.Tensor, op) -> torch.Tensor:
    if world()[1] == 1:
        return t
    out = t.detach().to(device_for_backend(), copy=True)
    dist.all_reduce(out, op=op)
    return out.to(t.device)


class ProcessGroupReducer:
    """`incision.reduce.Reducer` over the processes of the initialised torch distributed group."""

    def __init__(self) -> None:
        self.rank, self.size = world()

    def sum(self, t: torch.Tensor) -> torch.Tensor:
        return all_sum(t)

    def max(self, t: torch.Tensor) -> torch.Tensor:
        return all_max(t)

    def min(self, t: torch.Tensor) -> torch.Tensor:
        return all_min(t)

    def cat(self, t: torch.Tensor) -> torch.Tensor:
        return all_gather_cat(t)

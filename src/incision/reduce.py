"""Reductions over the processes that share a batch: the one seam between the math objects and distribution.

A loss or statistic that depends on a whole batch (an SAE's normaliser, its fired mask, batchtopk's cut, a
probe's standardisation, class counts and L-BFGS gradient) takes a `Reducer` and calls it where a sum, maximum
or concatenation over every process's rows is needed. `LOCAL`, the identity, is one process holding the whole
batch: code written for a reducer then does what single-process code does. The torch distributed reducer
lives in `incision.distributed.ddp`; this module imports it only when a process group is running.
"""

from __future__ import annotations

from typing import Protocol

import torch


class Reducer(Protocol):
    """Elementwise reductions over the processes of a group. Results are detached when there are several."""

    rank: int  # this process's index, 0..size-1
    size: int  # how many processes share each batch

    def sum(self, t: torch.Tensor) -> torch.Tensor: ...

    def max(self, t: torch.Tensor) -> torch.Tensor: ...

    def min(self, t: torch.Tensor) -> torch.Tensor: ...

    def cat(self, t: torch.Tensor) -> torch.Tensor:
        """The rows of `t` from every process, in rank order (row counts may differ)."""
        ...


class LocalReducer:
    """One process: every reduction is the identity (it returns its argument itself)."""

    rank = 0
    size = 1

    def sum(self, t: torch.Tensor) -> torch.Tensor:
        return t

    def max(self, t: torch.Tensor) -> torch.Tensor:
        return t

    def min(self, t: torch.Tensor) -> torch.Tensor:
        return t

    def cat(self, t: torch.Tensor) -> torch.Tensor:
        return t


LOCAL = LocalReducer()


def process_reducer() -> Reducer:
    """The reducer of this process's torch distributed group: `LOCAL` unless one of several processes runs."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return LOCAL
    from .distributed.ddp import ProcessGroupReducer  # imported only under torch distributed

    return ProcessGroupReducer()


def shard_bounds(n: int, rank: int, size: int) -> tuple[int, int]:
    """Rows [start, end) of `n` that rank `rank` of `size` holds: contiguous, sizes differ by at most 1."""
    return n * rank // size, n * (rank + 1) // size


def local_rows(n: int, reducer: Reducer) -> slice:
    """This process's contiguous share of `n` rows (all of them for `LOCAL`)."""
    return slice(*shard_bounds(n, reducer.rank, reducer.size))


def sum_into_(tensors: list[torch.Tensor], reducer: Reducer) -> None:
    """Sum each tensor over the processes in place (gradients), with one reduction for the lot."""
    if reducer.size == 1 or not tensors:
        return
    flat = reducer.sum(torch.cat([t.reshape(-1) for t in tensors]))
    offset = 0
    for t in tensors:
        t.copy_(flat[offset : offset + t.numel()].view_as(t))
        offset += t.numel()

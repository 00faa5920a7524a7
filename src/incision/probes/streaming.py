"""Token-level probes on stores larger than memory: statistics and minibatches read from the store.

One pass computes the standardisation statistics in float64; then each epoch reads the training rows
in a seeded shuffle and trains a probe per candidate penalty at once (reading is the cost). Under torch
distributed each process reads and trains on its share of every minibatch.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from tqdm.auto import tqdm

from ..distributed.ddp import shard_bounds, world
from . import fit as solvers
from .data import ProbeData, check_finite
from .linear import LinearProbe, sample_weights

READ_ROWS = 65536  # rows read per step of the statistics and prediction passes


def fit_streaming(
    store,
    site: str,
    data: ProbeData,
    l2s: list[float],
    class_weight: str | None,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
) -> tuple[LinearProbe, dict]:
    """(probe with the lowest validation loss, validation loss per penalty)."""
    train_rows = data.rows_R[data.indices("train")]
    y_train = torch.from_numpy(data.y_N[data.indices("train")])
    n_classes = len(data.label_names)
    mean, std = _statistics(store, site, train_rows)
    weights = sample_weights(y_train, n_classes, class_weight)
    steps = -(-len(train_rows) // batch_size)

    rank, size = world()

    def batches(epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        order = np.random.default_rng([seed, epoch]).permutation(len(train_rows))
        starts = range(0, len(order), batch_size)
        for start in tqdm(starts, desc=f"{site} epoch {epoch + 1}", leave=False, disable=rank != 0):
            pick = np.sort(order[start : start + batch_size])  # sorted rows read faster
            pick = pick[slice(*shard_bounds(len(pick), rank, size))]  # distributed: this process's share
            x = store.gather(site, train_rows[pick], torch.float32)
            yield (x - mean) / std, y_train[pick], weights[pick].float()

    solutions = solvers.adamw_stream(
        batches, len(mean), n_classes, l2s, len(train_rows), epochs, lr, steps_per_epoch=steps
    )
    probes = [LinearProbe.from_solution(s, mean, std, data.label_names) for s in solutions]
    val = data.indices("val")
    y_val = torch.from_numpy(data.y_N[val])
    val_weights = sample_weights(y_val, n_classes, class_weight, counted=y_train)
    nll_sums = torch.zeros(len(probes), dtype=torch.float64)
    for start in range(0, len(val), READ_ROWS):  # one pass over the validation rows for every penalty
        x = store.gather(site, data.rows_R[val[start : start + READ_ROWS]], torch.float32)
        check_finite(x, site)
        y, w = y_val[start : start + READ_ROWS], val_weights[start : start + READ_ROWS]
        for k, probe in enumerate(probes):
            proba = probe.predict_proba(x).double()
            nll_sums[k] += (-torch.log(proba.gather(1, y[:, None]).clamp_min(1e-12))[:, 0] * w).sum()
    losses = {l2: float(total / val_weights.sum()) for l2, total in zip(l2s, nll_sums, strict=True)}
    return probes[int(torch.argmin(nll_sums))], losses


def predict_rows(store, site: str, rows: np.ndarray, probe: LinearProbe) -> np.ndarray:
    """[len(rows), C] probabilities, read in chunks."""
    parts, n_bad = [], 0
    for start in range(0, len(rows), READ_ROWS):
        x = store.gather(site, rows[start : start + READ_ROWS], torch.float32)
        n_bad += int((~torch.isfinite(x)).any(dim=1).sum())
        parts.append(probe.predict_proba(x))
    check_finite(None, site, n_bad)
    return torch.cat(parts).double().numpy() if parts else np.zeros((0, probe.n_classes))


def _statistics(store, site: str, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard deviation over rows, accumulated in float64 around a first-chunk shift."""
    width = store.width(site)
    shift, total, squares = (
        None,
        torch.zeros(width, dtype=torch.float64),
        torch.zeros(width, dtype=torch.float64),
    )
    for start in range(0, len(rows), READ_ROWS):
        x = store.gather(site, rows[start : start + READ_ROWS], torch.float64)
        check_finite(x, site)
        shift = x.mean(0) if shift is None else shift
        total += (x - shift).sum(0)
        squares += (x - shift).pow(2).sum(0)
    n = len(rows)
    mean = total / n
    std = (squares / n - mean.pow(2)).clamp_min(0).sqrt().clamp_min(1e-8)
    return (mean + shift).float(), std.float()

"""Token-level probes on stores larger than memory: `fit_probe_stream` fed from a store, and predictions
read in chunks.

One ordered pass computes the standardisation statistics (each process reads its share and the statistics
are reduced); then each epoch reads the training rows in a seeded shuffle and trains a probe per candidate
penalty at once (reading is the cost). Under torch distributed each process reads and trains on its share
of every minibatch, and scores its share of the validation rows.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from tqdm.auto import tqdm

from ..reduce import Reducer, local_rows
from .data import ProbeData, check_finite
from .fitting import ProbeFit, StreamStatistics, fit_probe_stream
from .linear import LinearProbe
from .standardizer import Standardizer

READ_ROWS = 65536  # rows read per step of the statistics, validation and prediction passes


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
    reducer: Reducer,
) -> ProbeFit:
    """The probe of the penalty with the lowest validation loss, trained on the store's training rows."""
    train_rows = data.rows_R[data.indices("train")]
    y_train = torch.from_numpy(data.y_N[data.indices("train")])
    counts_C = torch.bincount(y_train, minlength=len(data.label_names)).double()
    steps = -(-len(train_rows) // batch_size)
    statistics = StreamStatistics(_statistics(store, site, train_rows, reducer), counts_C, steps)

    def batches(epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = np.random.default_rng([seed, epoch]).permutation(len(train_rows))
        starts = range(0, len(order), batch_size)
        for start in tqdm(starts, desc=f"{site} epoch {epoch + 1}", leave=False, disable=reducer.rank != 0):
            pick = np.sort(order[start : start + batch_size])  # sorted rows read faster
            pick = pick[local_rows(len(pick), reducer)]  # distributed: this process's share
            yield store.gather(site, train_rows[pick], torch.float32), y_train[pick]

    val = data.indices("val")
    val = val[local_rows(len(val), reducer)]
    val_batches = _read(store, site, data.rows_R[val], torch.from_numpy(data.y_N[val]))
    options = {"class_weight": class_weight, "label_names": data.label_names, "epochs": epochs, "lr": lr}
    return fit_probe_stream(batches, val_batches, l2s, statistics=statistics, reducer=reducer, **options)


def predict_rows(store, site: str, rows: np.ndarray, probe: LinearProbe) -> np.ndarray:
    """[len(rows), C] probabilities, read in chunks."""
    parts, n_bad = [], 0
    for start in range(0, len(rows), READ_ROWS):
        x = store.gather(site, rows[start : start + READ_ROWS], torch.float32)
        n_bad += int((~torch.isfinite(x)).any(dim=1).sum())
        parts.append(probe.predict_proba(x))
    check_finite(None, site, n_bad)
    return torch.cat(parts).double().numpy() if parts else np.zeros((0, probe.n_classes))


def _statistics(store, site: str, rows: np.ndarray, reducer: Reducer) -> Standardizer:
    """Feature statistics of the rows, read in order (this process's share; reduced over processes)."""
    features = Standardizer.empty(store.width(site))
    for x, _ in _read(store, site, rows[local_rows(len(rows), reducer)]):
        features.update(x)
    return features.reduce(reducer)


def _read(store, site: str, rows: np.ndarray, y_N: torch.Tensor | None = None) -> Iterator:
    """(float32 activations, labels or None) of the rows, READ_ROWS at a time, NaN and inf refused."""
    for start in range(0, len(rows), READ_ROWS):
        x = store.gather(site, rows[start : start + READ_ROWS], torch.float32)
        check_finite(x, site)
        yield x, None if y_N is None else y_N[start : start + READ_ROWS]

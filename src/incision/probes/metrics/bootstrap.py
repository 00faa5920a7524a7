"""Bootstrap confidence intervals: resampling counts, per-replicate metrics, percentile intervals.

Each replicate is a vector of multinomial counts (how often each example was drawn) over the fixed
sorted order, so no replicate re-sorts.
"""

from __future__ import annotations

import numpy as np

from .ranking import _ap_rows, _auroc_rows, _curves, _Ranked, _ratio, _Scratch
from .records import Interval

# Bootstrap replicates are processed this many (replicate, example) cells at a time: 2 MiB per int64
# array, so a chunk's working set stays in cache (larger chunks measured slower, not faster).
_CHUNK_CELLS = 1 << 18


def _bootstrap_counts(rng: np.random.Generator, n: int, out_RN: np.ndarray) -> np.ndarray:
    """Fill int64 [R, n] with how often each example is drawn in n draws with replacement (multinomial
    counts), a replicate at a time: small temporaries, and replicate i is the same whatever the chunks."""
    for row in out_RN:
        row[:] = np.bincount(rng.integers(0, n, size=n), minlength=n)
    return out_RN


def _bootstrap(replicates_fn, n: int, n_bootstrap: int, seed: int) -> dict[str, np.ndarray]:
    """`replicates_fn(counts_RN, scratch)` over chunks of replicates; one array per statistic."""
    rng, scratch = np.random.default_rng(seed), _Scratch()
    per_chunk = max(1, _CHUNK_CELLS // n)
    parts = []
    for start in range(0, n_bootstrap, per_chunk):
        counts = scratch("counts", (min(per_chunk, n_bootstrap - start), n), np.int64)
        parts.append(replicates_fn(_bootstrap_counts(rng, n, counts), scratch))
    return {k: np.concatenate([part[k] for part in parts]) for k in parts[0]} if parts else {}


def _intervals(replicates: dict[str, np.ndarray], confidence: float) -> dict[str, Interval]:
    """Percentile intervals; replicates where a statistic is undefined (nan) are left out."""
    tail = 50 * (1 - confidence)
    out = {}
    for name, values in replicates.items():
        values = values[~np.isnan(values)]
        low, high = np.percentile(values, [tail, 100 - tail]) if values.size else (np.nan, np.nan)
        out[name] = Interval(float(low), float(high))
    return out


def _binary_replicates(
    r: _Ranked, n_above: int, counts_RN: np.ndarray, scratch=None
) -> dict[str, np.ndarray]:
    """AUROC, AUPRC, F1 and accuracy of each replicate; counts are indexed by sorted position (the
    draws are exchangeable, so drawing them in sorted order is the same bootstrap, minus a gather)."""
    c = _curves(r, counts_RN, scratch)
    pos, total = c.tp_RG[:, -1], c.called_RG[:, -1]
    tp, called = (c.tp_RG[:, n_above - 1], c.called_RG[:, n_above - 1]) if n_above else (0 * pos, 0 * pos)
    return {
        "auroc": _auroc_rows(c),
        "auprc": _ap_rows(c, r.positive_P, scratch),
        "f1": _ratio(2 * tp, called + pos),
        "accuracy": (total - pos - called + 2 * tp) / total,  # (tn + tp) / n
    }


def _multiclass_replicates(
    cell_N: np.ndarray, ranks: list[_Ranked | None], counts_RN: np.ndarray, scratch=None
) -> dict[str, np.ndarray]:
    """Accuracy, macro F1 and macro AUROC of each replicate; counts are indexed by original example.
    `cell_N` is each example's confusion cell, true * C + predicted; `ranks[c]` is None for a class
    whose AUROC is undefined on the full data, which the macro average leaves out."""
    s, n_classes = scratch or _Scratch(), len(ranks)
    confusion = np.stack([np.bincount(cell_N, weights=row, minlength=n_classes**2) for row in counts_RN])
    confusion = confusion.reshape(-1, n_classes, n_classes)
    hits, support, called = np.einsum("rcc->rc", confusion), confusion.sum(2), confusion.sum(1)
    aurocs = [
        _auroc_rows(
            _curves(r, np.take(counts_RN, r.order_N, axis=1, out=s("by_rank", counts_RN.shape, np.int64)), s)
        )
        for r in ranks
        if r is not None
    ]
    return {
        "accuracy": hits.sum(1) / support.sum(1),
        "macro_f1": _ratio(2 * hits, support + called).mean(1),
        "macro_auroc": np.mean(aurocs, axis=0) if aurocs else np.full(len(counts_RN), np.nan),
    }

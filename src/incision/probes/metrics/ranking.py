"""Point metrics from one sort by score: AUROC, average precision, ECE and `choose_threshold`.

Examples are sorted by score once (`_rank`); `_curves` turns per-example weights (ones, or bootstrap
counts) into cumulative counts per tie group, from which `_auroc_rows` / `_ap_rows` compute a metric per
row of weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ...errors import ConfigError, InputError
from .checks import _binary_inputs, _same_length, _scores

ECE_BINS = 15


@dataclass(frozen=True)
class _Ranked:
    """Examples sorted by score, descending, with tie groups marked."""

    order_N: np.ndarray  # original index at each sorted position
    y_N: np.ndarray  # int64 0/1 labels in sorted order
    ends_G: np.ndarray | None  # last sorted position of each tie group; None when all scores differ
    score_G: np.ndarray  # the distinct scores, descending
    positive_P: np.ndarray  # the groups holding a positive: the only ones where recall can rise

    def n_above(self, threshold: float) -> int:
        """How many tie groups have score >= threshold: predictions are a prefix of the sorted order."""
        return int(np.count_nonzero(self.score_G >= threshold))


def _rank(y_N: np.ndarray, score_N: np.ndarray) -> _Ranked:
    order = np.argsort(-score_N, kind="stable")
    s, y = score_N[order], y_N[order].astype(np.int64)
    ends = np.append(np.flatnonzero(s[1:] != s[:-1]), len(s) - 1)
    if len(ends) == len(s):
        return _Ranked(order, y, None, s, np.flatnonzero(y))
    positive_G = np.add.reduceat(y, np.append(0, ends[:-1] + 1)) > 0
    return _Ranked(order, y, ends, s[ends], np.flatnonzero(positive_G))


class _Scratch:
    """Buffers reused from one bootstrap chunk to the next: fresh multi-MB temporaries are page-faulted
    in on every use, which costs more than the arithmetic done on them."""

    def __init__(self) -> None:
        self._flat: dict[str, np.ndarray] = {}

    def __call__(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        size, buf = math.prod(shape), self._flat.get(name)
        if buf is None or buf.size < size or buf.dtype != dtype:
            buf = self._flat[name] = np.empty(size, dtype)
        return buf[:size].reshape(shape)


class _Curves(NamedTuple):
    """Per tie group, one row per weight vector: weighted positives and examples at or above the
    group's score (tp, called), and the group's own positives and negatives (dtp, dfp)."""

    tp_RG: np.ndarray
    called_RG: np.ndarray
    dtp_RG: np.ndarray
    dfp_RG: np.ndarray


def _curves(r: _Ranked, w_RN: np.ndarray, scratch: _Scratch | None = None) -> _Curves:
    """Cumulative counts for weights indexed by sorted position. Integer weights (bootstrap counts) stay
    integer: exact, and an int64 cumsum runs ~10x faster than a float64 one."""
    s, dtype = scratch or _Scratch(), np.result_type(w_RN, r.y_N)
    dtp = np.multiply(w_RN, r.y_N, out=s("dtp", w_RN.shape, dtype))
    dfp = np.subtract(w_RN, dtp, out=s("dfp", w_RN.shape, dtype))
    tp = np.cumsum(dtp, axis=1, out=s("tp", w_RN.shape, dtype))
    called = np.cumsum(w_RN, axis=1, out=s("called", w_RN.shape, dtype))
    if r.ends_G is None:  # every example is its own group: its gains are the group's
        return _Curves(tp, called, dtp, dfp)
    shape = (len(w_RN), len(r.ends_G))  # a threshold cannot split a tie: only group ends count
    tp = np.take(tp, r.ends_G, axis=1, out=s("tp_G", shape, dtype))
    called = np.take(called, r.ends_G, axis=1, out=s("called_G", shape, dtype))
    dtp, dfp = _steps(tp, s("dtp_G", shape, dtype)), _steps(called, s("dfp_G", shape, dtype))
    return _Curves(tp, called, dtp, np.subtract(dfp, dtp, out=dfp))


def _steps(cum_RG: np.ndarray, out_RG: np.ndarray) -> np.ndarray:
    """Row-wise increments of a cumulative sum (the inverse of cumsum)."""
    out_RG[:, 0] = cum_RG[:, 0]
    np.subtract(cum_RG[:, 1:], cum_RG[:, :-1], out=out_RG[:, 1:])
    return out_RG


def _auroc_rows(c: _Curves) -> np.ndarray:
    """Mann-Whitney: each negative scores 1 per positive above it and 1/2 per positive tied with it.
    Twice that count is an integer for integer weights, so it is summed exactly."""
    pos = c.tp_RG[:, -1]
    neg = c.called_RG[:, -1] - pos
    twice = 2 * np.einsum("rg,rg->r", c.dfp_RG, c.tp_RG) - np.einsum("rg,rg->r", c.dfp_RG, c.dtp_RG)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((pos > 0) & (neg > 0), twice / (2.0 * pos * neg), np.nan)


def _ap_rows(c: _Curves, positive_P: np.ndarray, scratch: _Scratch | None = None) -> np.ndarray:
    """Sum over tie groups of (recall gained) x (precision at that group's threshold); only groups
    holding a positive can gain recall, so only those are visited."""
    s, pos = scratch or _Scratch(), c.tp_RG[:, -1]
    shape, dtype = (len(pos), len(positive_P)), c.tp_RG.dtype
    gain = np.take(c.dtp_RG, positive_P, axis=1, out=s("ap_gain", shape, dtype))
    tp = np.take(c.tp_RG, positive_P, axis=1, out=s("ap_tp", shape, dtype))
    called = np.take(c.called_RG, positive_P, axis=1, out=s("ap_called", shape, dtype))
    # a group nothing is called at (zero weights so far) has tp = gain = 0: any positive divisor will do
    np.maximum(called, 1 if dtype.kind == "i" else np.finfo(np.float64).tiny, out=called)
    precision = np.divide(tp, called, out=s("ap_precision", shape, np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pos > 0, np.einsum("rg,rg->r", gain, precision) / pos, np.nan)


def auroc(y_true_N, score_N, weight_N=None) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count 1/2); nan when only one class is present."""
    r, w = _weighted_ranking(y_true_N, score_N, weight_N)
    return float(_auroc_rows(_curves(r, w))[0])


def average_precision(y_true_N, score_N, weight_N=None) -> float:
    """Area under the precision-recall curve as scikit-learn's `average_precision_score` defines it:
    sum of (recall gained) x precision over distinct thresholds; nan when there are no positives."""
    r, w = _weighted_ranking(y_true_N, score_N, weight_N)
    return float(_ap_rows(_curves(r, w), r.positive_P)[0])


def _weighted_ranking(y_true_N, score_N, weight_N) -> tuple[_Ranked, np.ndarray]:
    """The ranking and its weights [1, N] in sorted order (integer ones when unweighted: exact)."""
    y, s = _binary_inputs(y_true_N, score_N, "score_N", probabilities=False)
    r = _rank(y, s)
    if weight_N is None:
        return r, np.ones((1, len(y)), np.int64)
    w = _scores(weight_N, "weight_N")
    _same_length(y_true_N=y, weight_N=w)
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.size:
        raise InputError(f"weight_N must hold finite weights >= 0, got {w[bad[0]]!r}")
    return r, w[r.order_N][None]


def expected_calibration_error(y_true_N, p_N, n_bins: int = ECE_BINS) -> float:
    """Binary ECE over `n_bins` equal-width bins of the positive class's predicted probability."""
    y, p = _binary_inputs(y_true_N, p_N)
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ConfigError(f"n_bins must be a positive integer, got {n_bins!r}")
    return _ece(y.astype(np.float64), p, int(n_bins))


def _ece(correct_N: np.ndarray, confidence_N: np.ndarray, n_bins: int) -> float:
    """Sum over equal-width bins of (bin share) x |accuracy - mean confidence|; bins are [lo, hi) and
    the last includes 1. Summing (correct - confidence) per bin gives share x gap in one bincount."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.searchsorted(edges, confidence_N, side="right") - 1, 0, n_bins - 1)
    gap = np.bincount(bins, weights=correct_N - confidence_N, minlength=n_bins)
    return float(np.abs(gap).sum() / len(correct_N))


def _ratio(num, den):
    """num / den, 0 where den is 0 (scikit-learn's zero_division=0)."""
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)


def choose_threshold(y_true_N, p_N, criterion="f1") -> float:
    """A threshold t (predictions are p >= t) chosen on this data: "f1" or "accuracy" maximised, or
    ("recall", target) for the highest t whose recall reaches target. Ties go to the highest t; t is
    always one of the given probabilities, except when predicting no positive is most accurate."""
    y, p = _binary_inputs(y_true_N, p_N)
    r = _rank(y, p)
    c = _curves(r, np.ones((1, len(y)), np.int64))
    tp, fp = c.tp_RG[0], c.called_RG[0] - c.tp_RG[0]
    pos, neg = tp[-1], len(y) - tp[-1]
    if criterion == "accuracy":
        correct = tp + (neg - fp)
        best = int(np.argmax(correct))  # argmax takes the first, i.e. highest, threshold among ties
        return float(r.score_G[best]) if correct[best] > neg else float(np.nextafter(r.score_G[0], np.inf))
    if pos == 0:
        raise InputError(f"y_true_N has no positive example, so criterion {criterion!r} is undefined")
    if criterion == "f1":
        return float(r.score_G[int(np.argmax(2 * tp / (tp + fp + pos)))])
    if isinstance(criterion, tuple) and len(criterion) == 2 and criterion[0] == "recall":
        target = criterion[1]
        if not 0 < target <= 1:
            raise ConfigError(f"the recall target must lie in (0, 1], got {target!r}")
        # relative slack so that e.g. 19/20 reaches 0.95 despite rounding
        return float(r.score_G[int(np.argmax(tp >= target * pos * (1 - 1e-12)))])
    raise ConfigError(f'criterion must be "f1", "accuracy" or ("recall", target), got {criterion!r}')

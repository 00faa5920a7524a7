"""Evaluation metrics for probes, with bootstrap confidence intervals; numpy only.

Definitions follow scikit-learn: `auroc` is `roc_auc_score`, `average_precision` is
`average_precision_score` (a step function over distinct scores, ties grouped), F1, precision and
recall are 0 where their denominator is 0. Labels are class indices; binary labels are 0/1 and the
positive class is 1. Predictions are `p >= threshold`.

The bootstrap never re-sorts: examples are sorted by score once, and each replicate is a vector of
multinomial counts (how often each example was drawn), so a replicate's metrics come from cumulative
weighted counts over the fixed order: 1000 replicates on 100k examples take under a second.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import partial
from typing import ClassVar, NamedTuple

import numpy as np

from ..errors import ConfigError, InputError

# Bootstrap replicates are processed this many (replicate, example) cells at a time: 2 MiB per int64
# array, so a chunk's working set stays in cache (larger chunks measured slower, not faster).
_CHUNK_CELLS = 1 << 18
ECE_BINS = 15


# ---------------------------------------------------------------------------------------------------
# Result types


@dataclass
class Interval:
    """A confidence interval; nan ends where no bootstrap replicate defined the metric."""

    low: float
    high: float


class _Serialisable:
    def to_dict(self) -> dict:
        """Plain floats, ints, lists and dicts; nan becomes None so the result is strict JSON."""
        return _plain(asdict(self))


@dataclass
class BinaryMetrics(_Serialisable):
    """Metrics of a binary probe; `confusion` is [[tn, fp], [fn, tp]] at `threshold`."""

    n: int
    n_positive: int
    threshold: float
    auroc: float
    auprc: float
    f1: float
    accuracy: float
    precision: float
    recall: float
    ece: float
    confusion: list[list[int]]
    ci: dict[str, Interval]  # auroc, auprc, f1, accuracy; empty when n_bootstrap == 0

    headline_name: ClassVar[str] = "auroc"

    @property
    def headline(self) -> float:
        """The number to rank probes by (e.g. sites in a layer sweep): AUROC."""
        return self.auroc


@dataclass
class ClassMetrics(_Serialisable):
    """One class against the rest."""

    precision: float
    recall: float
    f1: float
    auroc: float
    auprc: float
    support: int


@dataclass
class MulticlassMetrics(_Serialisable):
    """Metrics of a multiclass probe; `confusion[i][j]` counts true class i predicted as j (argmax)."""

    n: int
    accuracy: float
    macro_f1: float
    macro_auroc: float
    ece: float  # on the top-label confidence
    confusion: list[list[int]]
    per_class: dict[str, ClassMetrics]
    ci: dict[str, Interval]  # accuracy, macro_f1, macro_auroc; empty when n_bootstrap == 0

    headline_name: ClassVar[str] = "macro_auroc"

    @property
    def headline(self) -> float:
        """The number to rank probes by (e.g. sites in a layer sweep): macro one-vs-rest AUROC."""
        return self.macro_auroc


def _plain(x):
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if isinstance(x, float | np.floating):
        return None if math.isnan(x) else float(x)
    if isinstance(x, np.integer):
        return int(x)
    return x


# ---------------------------------------------------------------------------------------------------
# Input checks


def _array(x, name: str, ndim: int) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor; bfloat16 has no numpy dtype, so widen floats first
        x = x.detach().cpu()
        x = x.double() if x.is_floating_point() else x
    try:
        a = np.asarray(x)
    except ValueError:  # ragged nested lists
        raise InputError(
            f"{name} must be a rectangular array of numbers, got a ragged {type(x).__name__}"
        ) from None
    if a.ndim != ndim or a.size == 0:
        want = "a non-empty vector" if ndim == 1 else f"a non-empty {ndim}-D array"
        raise InputError(f"{name} must be {want}, got shape {list(a.shape)}")
    if a.dtype.kind not in "biuf":  # bool, integers, floats
        raise InputError(f"{name} must hold real numbers, got dtype {a.dtype}")
    return a


def _no_nan(a: np.ndarray, name: str) -> np.ndarray:
    nan = np.flatnonzero(np.isnan(a).reshape(len(a), -1).any(1))
    if nan.size:
        raise InputError(
            f"{name} holds NaN at row {nan[0]} ({nan.size} rows in all); drop or fix those examples"
        )
    return a


def _scores(x, name: str) -> np.ndarray:
    return _no_nan(_array(x, name, 1).astype(np.float64), name)


def _in_unit_interval(a: np.ndarray, name: str) -> np.ndarray:
    bad = np.flatnonzero(((a < 0) | (a > 1)).ravel())
    if bad.size:
        raise InputError(f"{name} must hold probabilities in [0, 1], got {a.ravel()[bad[0]]!r}")
    return a


def _labels(x, name: str, n_classes: int) -> np.ndarray:
    a = _array(x, name, 1)
    whole = np.isfinite(a) & (a == np.round(a)) if a.dtype.kind == "f" else np.ones(len(a), bool)
    bad = np.flatnonzero(~whole | (a < 0) | (a >= n_classes))
    if bad.size:
        raise InputError(f"{name} must hold class indices 0..{n_classes - 1}, got {a[bad[0]].item()!r}")
    return a.astype(np.int64)


def _same_length(**arrays: np.ndarray) -> None:
    (name0, a0), *rest = arrays.items()
    for name, a in rest:
        if len(a) != len(a0):
            raise InputError(f"{name0} has {len(a0)} examples but {name} has {len(a)}")


def _binary_inputs(y_true_N, p_N, p_name: str = "p_N", probabilities: bool = True):
    y = _labels(y_true_N, "y_true_N", 2)
    p = _scores(p_N, p_name)
    _same_length(y_true_N=y, **{p_name: p})
    return y, (_in_unit_interval(p, p_name) if probabilities else p)


def _multiclass_inputs(y_true_N, proba_NC, label_names):
    proba = _array(proba_NC, "proba_NC", 2).astype(np.float64)
    if proba.shape[1] < 2:
        raise InputError(f"proba_NC must have a column per class (C >= 2), got shape {list(proba.shape)}")
    if len(label_names) != proba.shape[1]:
        raise InputError(f"{len(label_names)} label names for {proba.shape[1]} probability columns")
    if len({str(name) for name in label_names}) != len(label_names):
        raise InputError(f"label names must be distinct, got {list(label_names)!r}")
    _in_unit_interval(_no_nan(proba, "proba_NC"), "proba_NC")
    sums = proba.sum(1)
    off = np.flatnonzero(np.abs(sums - 1) > 1e-2)  # loose enough for a float16 softmax over many classes
    if off.size:
        raise InputError(f"proba_NC rows must sum to 1, row {off[0]} sums to {sums[off[0]]:.6g}")
    y = _labels(y_true_N, "y_true_N", proba.shape[1])
    _same_length(y_true_N=y, proba_NC=proba)
    return y, proba


def _check_options(n_bootstrap: int, confidence: float) -> None:
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int | np.integer) or n_bootstrap < 0:
        raise ConfigError(f"n_bootstrap must be an integer >= 0, got {n_bootstrap!r}")
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")


# ---------------------------------------------------------------------------------------------------
# The sorted order that every ranking metric and every bootstrap replicate share


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


# ---------------------------------------------------------------------------------------------------
# Point metrics


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


# ---------------------------------------------------------------------------------------------------
# Bootstrap


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


# ---------------------------------------------------------------------------------------------------
# Reports


def binary_metrics(
    y_true_N, p_N, threshold: float = 0.5, n_bootstrap: int = 1000, confidence: float = 0.95, seed: int = 0
) -> BinaryMetrics:
    """All binary metrics of positive-class probabilities `p_N`, with percentile bootstrap intervals."""
    y, p = _binary_inputs(y_true_N, p_N)
    _check_options(n_bootstrap, confidence)
    if not math.isfinite(threshold):
        raise ConfigError(f"threshold must be a finite number, got {threshold!r}")
    r = _rank(y, p)
    n_above = r.n_above(threshold)
    point = _binary_replicates(r, n_above, np.ones((1, len(y)), np.int64))
    predicted = p >= threshold
    tp, fp = int(np.sum(predicted & (y == 1))), int(np.sum(predicted & (y == 0)))
    n_pos = int(y.sum())
    fn, tn = n_pos - tp, len(y) - n_pos - fp
    replicates = _bootstrap(partial(_binary_replicates, r, n_above), len(y), n_bootstrap, seed)
    return BinaryMetrics(
        n=len(y),
        n_positive=n_pos,
        threshold=float(threshold),
        auroc=float(point["auroc"][0]),
        auprc=float(point["auprc"][0]),
        f1=float(point["f1"][0]),
        accuracy=float(point["accuracy"][0]),
        precision=float(_ratio(tp, tp + fp)),
        recall=float(_ratio(tp, n_pos)),
        ece=_ece(y.astype(np.float64), p, ECE_BINS),
        confusion=[[tn, fp], [fn, tp]],
        ci=_intervals(replicates, confidence),
    )


def multiclass_metrics(
    y_true_N, proba_NC, label_names, n_bootstrap: int = 1000, confidence: float = 0.95, seed: int = 0
) -> MulticlassMetrics:
    """All multiclass metrics of class probabilities `proba_NC` (rows sum to 1), predicting the argmax;
    per-class AUROC/AUPRC are one-vs-rest. The macro AUROC averages the classes where it is defined."""
    y, proba = _multiclass_inputs(y_true_N, proba_NC, label_names)
    _check_options(n_bootstrap, confidence)
    n_classes = proba.shape[1]
    pred = proba.argmax(1)
    confusion = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(confusion, (y, pred), 1)
    per_class, ranks = {}, []
    for c, name in enumerate(label_names):
        r = _rank((y == c).astype(np.int64), proba[:, c])
        per_class[str(name)] = _class_metrics(confusion, c, r)
        ranks.append(None if math.isnan(per_class[str(name)].auroc) else r)
    replicates_fn = partial(_multiclass_replicates, y * n_classes + pred, ranks)
    point = replicates_fn(np.ones((1, len(y)), np.int64))
    replicates = _bootstrap(replicates_fn, len(y), n_bootstrap, seed)
    return MulticlassMetrics(
        n=len(y),
        accuracy=float(point["accuracy"][0]),
        macro_f1=float(point["macro_f1"][0]),
        macro_auroc=float(point["macro_auroc"][0]),
        ece=_ece((pred == y).astype(np.float64), proba.max(1), ECE_BINS),
        confusion=confusion.tolist(),
        per_class=per_class,
        ci=_intervals(replicates, confidence),
    )


def _class_metrics(confusion: np.ndarray, c: int, r: _Ranked) -> ClassMetrics:
    hits, support, called = confusion[c, c], confusion[c].sum(), confusion[:, c].sum()
    curves = _curves(r, np.ones((1, len(r.y_N)), np.int64))
    return ClassMetrics(
        precision=float(_ratio(hits, called)),
        recall=float(_ratio(hits, support)),
        f1=float(_ratio(2 * hits, support + called)),
        auroc=float(_auroc_rows(curves)[0]),
        auprc=float(_ap_rows(curves, r.positive_P)[0]),
        support=int(support),
    )


def evaluate(
    y_true_N, proba_NC, label_names, threshold: float = 0.5, **kw
) -> BinaryMetrics | MulticlassMetrics:
    """Binary metrics on column 1 when there are two classes (at `threshold`), else multiclass metrics
    (argmax); `kw` goes to `binary_metrics` / `multiclass_metrics` (n_bootstrap, confidence, seed)."""
    y, proba = _multiclass_inputs(y_true_N, proba_NC, label_names)
    if proba.shape[1] == 2:
        return binary_metrics(y, proba[:, 1], threshold=threshold, **kw)
    return multiclass_metrics(y, proba, label_names, **kw)


def summary(metrics: BinaryMetrics | MulticlassMetrics) -> str:
    """One line for humans, e.g. 'AUROC 0.912 [0.901, 0.923] | AUPRC 0.850 | ... | n=1000 (312 positive)'."""

    def with_ci(label: str, key: str) -> str:
        ci = metrics.ci.get(key)
        return f"{label} {getattr(metrics, key):.3f}" + (f" [{ci.low:.3f}, {ci.high:.3f}]" if ci else "")

    if isinstance(metrics, BinaryMetrics):
        parts = [with_ci("AUROC", "auroc"), with_ci("AUPRC", "auprc"), with_ci("F1", "f1")]
        parts += [
            with_ci("accuracy", "accuracy"),
            f"ECE {metrics.ece:.3f}",
            f"threshold {metrics.threshold:g}",
        ]
        size = f"n={metrics.n} ({metrics.n_positive} positive)"
    else:
        parts = [with_ci("macro AUROC", "macro_auroc"), with_ci("macro F1", "macro_f1")]
        parts += [with_ci("accuracy", "accuracy"), f"ECE {metrics.ece:.3f}"]
        size = f"n={metrics.n}, {len(metrics.per_class)} classes"
    return " | ".join([*parts, size])

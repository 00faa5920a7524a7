"""The reports: `binary_metrics`, `multiclass_metrics` and `evaluate`, which picks between them."""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from ...errors import ConfigError
from .bootstrap import _binary_replicates, _bootstrap, _intervals, _multiclass_replicates
from .checks import _binary_inputs, _check_options, _multiclass_inputs
from .ranking import ECE_BINS, _ap_rows, _auroc_rows, _curves, _ece, _rank, _Ranked, _ratio
from .records import BinaryMetrics, ClassMetrics, MulticlassMetrics


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

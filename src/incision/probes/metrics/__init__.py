"""Evaluation metrics for probes, with bootstrap confidence intervals; numpy only.

Definitions follow scikit-learn: `auroc` is `roc_auc_score`, `average_precision` is
`average_precision_score` (a step function over distinct scores, ties grouped), F1, precision and
recall are 0 where their denominator is 0. Labels are class indices; binary labels are 0/1 and the
positive class is 1. Predictions are `p >= threshold`.

The bootstrap never re-sorts: examples are sorted by score once, and each replicate is a vector of
multinomial counts (how often each example was drawn), so a replicate's metrics come from cumulative
weighted counts over the fixed order: 1000 replicates on 100k examples take under a second.

Modules: `records` (result dataclasses, `summary`), `inputs` (input checks), `ranking` (the shared sort
and the point metrics), `bootstrap` (replicates and intervals), `compute` (the reports).
"""

from .compute import binary_metrics, evaluate, multiclass_metrics
from .ranking import ECE_BINS, auroc, average_precision, choose_threshold, expected_calibration_error
from .records import BinaryMetrics, ClassMetrics, Interval, MulticlassMetrics, summary

__all__ = [
    "ECE_BINS",
    "BinaryMetrics",
    "ClassMetrics",
    "Interval",
    "MulticlassMetrics",
    "auroc",
    "average_precision",
    "binary_metrics",
    "choose_threshold",
    "evaluate",
    "expected_calibration_error",
    "multiclass_metrics",
    "summary",
]

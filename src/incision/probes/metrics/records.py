"""Result records of probe metrics: the dataclasses, their JSON-safe `to_dict`, and `summary`."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import ClassVar

import numpy as np


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

"""Interpretability while a model trains: look at what it is learning every N steps, without disturbing it,
and shape what it learns (keep a direction out of its activations)."""

from .design import DirectionPenalty, ablate_while_training
from .untouched import untouched
from .watch import Alert, TrainingMonitor

__all__ = ["Alert", "DirectionPenalty", "TrainingMonitor", "ablate_while_training", "untouched"]

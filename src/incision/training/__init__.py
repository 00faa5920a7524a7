"""Interpretability while a model trains: look at what it is learning every N steps, without disturbing it."""

from .monitor import Alert, TrainingMonitor
from .untouched import untouched

__all__ = ["Alert", "TrainingMonitor", "untouched"]

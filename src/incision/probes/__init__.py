"""Probes: small models over activations that know nothing of the model they read."""

from .evaluate import evaluate_probe
from .fitting import ProbeFit, fit_probe, fit_probe_stream
from .linear import LinearProbe
from .live import SequenceScore, TokenScores
from .metrics import BinaryMetrics, MulticlassMetrics
from .sweep import SweepReport, sweep
from .train import ProbeConfig, ProbeReport, train_probe

__all__ = [
    "BinaryMetrics",
    "LinearProbe",
    "MulticlassMetrics",
    "ProbeConfig",
    "ProbeFit",
    "ProbeReport",
    "SequenceScore",
    "SweepReport",
    "TokenScores",
    "evaluate_probe",
    "fit_probe",
    "fit_probe_stream",
    "sweep",
    "train_probe",
]

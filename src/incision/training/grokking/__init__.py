"""Grokking modular addition (Nanda et al. 2023): the task, its one-layer transformer, the Fourier progress
measures, and a detector that signals circuit formation before test accuracy jumps."""

from .detect import CircuitDetector, Phases, phases
from .job import GrokResult, grok
from .progress import GrokRun, Look, final_key_measures, train
from .task import GrokConfig, ModularAddition, OneLayerTransformer

__all__ = [
    "CircuitDetector",
    "GrokConfig",
    "GrokResult",
    "GrokRun",
    "Look",
    "ModularAddition",
    "OneLayerTransformer",
    "Phases",
    "final_key_measures",
    "grok",
    "phases",
    "train",
]

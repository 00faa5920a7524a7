"""Directions, steering, directional ablation, weight orthogonalisation and concept erasure (docs/steering.md).

The edit report (`incision.steer.report`) and the demonstrations (`incision.steer.demos`) are imported on
their own.
"""

from .ablation import ablate
from .conditional import ProbeGate, StopWhenProbeFires
from .contrast import diff_means, diff_means_from_store, from_probe, pca_of_differences
from .direction import Direction
from .erase import erase, fit_eraser, fit_eraser_live
from .features import clamp_feature, feature_direction
from .keep_means import keep_means
from .leace import LeaceEraser, LeaceFitter
from .orthogonalize import orthogonalize, save_edited
from .steering import Steering, generate, steer

__all__ = [
    "Direction",
    "LeaceEraser",
    "LeaceFitter",
    "ProbeGate",
    "Steering",
    "StopWhenProbeFires",
    "ablate",
    "clamp_feature",
    "diff_means",
    "diff_means_from_store",
    "erase",
    "feature_direction",
    "fit_eraser",
    "fit_eraser_live",
    "from_probe",
    "generate",
    "keep_means",
    "orthogonalize",
    "pca_of_differences",
    "save_edited",
    "steer",
]

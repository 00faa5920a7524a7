"""The capture layer: a model and its sites (`subject`, `sites`, `sites_moe`, `models`), hooks, tokens and
windows, checked inputs, the one forward path, the edit shape it applies, capture and the activation store.
Everything above it (probes, SAEs, steering, monitors, PII, serving, training) reads activations through it.
`incision.load`, `incision.capture` and `incision.Subject` re-export its entry points."""

from .capture import CaptureConfig, capture
from .models import EMBEDDED, load
from .store import ActivationStore
from .subject import Subject

__all__ = ["EMBEDDED", "ActivationStore", "CaptureConfig", "Subject", "capture", "load"]

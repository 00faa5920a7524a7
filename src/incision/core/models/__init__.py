"""Loading models: embedded ones from PyPI packages, anything else through transformers."""

from .embedded import EMBEDDED, EmbeddedModel, model_status
from .loading import load, skeleton

__all__ = ["EMBEDDED", "EmbeddedModel", "load", "model_status", "skeleton"]

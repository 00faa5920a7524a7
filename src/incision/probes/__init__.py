"""Probes: small models over activations that know nothing of the model they read."""

from .linear import LinearProbe

__all__ = ["LinearProbe"]

"""Synthetic English and Japanese customer messages with exact PII spans (see docs/pii-data.md)."""

from .generate import SPLITS, SynthConfig, iter_records, synth_main, synthesize, templates

__all__ = ["SPLITS", "SynthConfig", "iter_records", "synth_main", "synthesize", "templates"]

"""Synthetic English and Japanese customer messages with exact PII spans (see docs/pii-data.md)."""

from .generate import SPLITS, SynthConfig, iter_records, synthesize, templates, write_synth

__all__ = ["SPLITS", "SynthConfig", "iter_records", "synthesize", "templates", "write_synth"]

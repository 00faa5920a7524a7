"""Monitors: probes read inside the serving model's own forward pass (docs/architecture.md)."""

from .heads import ProbeHead
from .monitor import Monitor, MonitorPass, ProbeReading, TextReading

__all__ = ["Monitor", "MonitorPass", "ProbeHead", "ProbeReading", "TextReading"]

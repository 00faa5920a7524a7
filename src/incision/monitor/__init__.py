"""Monitors: probes read inside the serving model's own forward pass (docs/architecture.md)."""

from .heads import ProbeHead
from .monitor import Monitor, MonitorPass, ProbeReading, TextReading
from .policies import Policy
from .stream import StreamEvent, stream

__all__ = [
    "Monitor", "MonitorPass", "Policy", "ProbeHead", "ProbeReading", "StreamEvent", "TextReading", "stream",
]  # fmt: skip

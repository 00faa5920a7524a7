"""`grok`: train, watch, name the phases and write everything out (what `incision grok` runs)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from .detect import CircuitDetector, Phases, phases
from .progress import GrokRun, final_key_measures, train
from .report import write_outputs
from .task import GrokConfig


@dataclass
class GrokResult:
    run: GrokRun
    phases: Phases
    final_key: dict
    report: Path


def grok(
    cfg: GrokConfig, out: str | Path, detector: CircuitDetector | None = None, progress: bool = True
) -> GrokResult:
    detector = detector or CircuitDetector()
    start = time.perf_counter()
    run = train(cfg, on_look=detector.update, progress=progress)
    final = final_key_measures(run)
    named = phases(run.looks, detector)
    report = write_outputs(run, final, named, Path(out), time.perf_counter() - start)
    return GrokResult(run, named, final, report)

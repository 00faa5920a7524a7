"""Training metrics: averaged over each log interval, appended to metrics.jsonl, mirrored to tensorboard when
it is installed, and extended by callbacks (e.g. the next-token loss with the SAE spliced into a model)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from .model import SAEOutput, SparseAutoencoder

log = logging.getLogger(__name__)

AVERAGED = ("loss", "reconstruction", "sparsity", "aux", "mse", "fvu", "l0")


@dataclass
class LogContext:
    """What a metrics callback sees at a log step. It returns extra metrics ({name: number}) or None."""

    step: int  # steps done
    tokens: int  # tokens trained on
    sae: SparseAutoencoder
    batch_BD: torch.Tensor  # the last training batch
    record: dict  # the metrics so far for this step
    total_steps: int | None = None  # steps the run will take: a callback can tell its last log step


MetricsCallback = Callable[[LogContext], "dict | None"]


class MetricsLog:
    """Accumulates per-step metrics without synchronising, and writes one record per log step."""

    def __init__(self, out_dir: Path | None, start_step: int = 0, tensorboard: bool = True):
        self.path = Path(out_dir) / "metrics.jsonl" if out_dir is not None else None
        self._sums: dict[str, torch.Tensor] = {}
        self._count = 0
        self.last: dict = {}
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _drop_records_after(self.path, start_step)
        self._writer = _tensorboard(out_dir, start_step) if tensorboard and out_dir is not None else None

    def add(self, output: SAEOutput) -> None:
        losses = output.losses
        values = {
            "loss": losses.total, "reconstruction": losses.reconstruction, "sparsity": losses.sparsity,
            "aux": losses.aux, "mse": losses.mse, "fvu": losses.fvu, "l0": losses.l0,
        }  # fmt: skip
        for name, value in values.items():
            value = value.detach().double()
            self._sums[name] = self._sums[name] + value if name in self._sums else value
        self._count += 1

    def write(self, context: LogContext, extra: dict, callbacks: list[MetricsCallback]) -> dict:
        record = {"step": context.step, "tokens": context.tokens, **extra}
        record.update({name: float(total) / max(self._count, 1) for name, total in self._sums.items()})
        record["dead_fraction"] = float(context.sae.dead_mask_F().float().mean())
        threshold = getattr(context.sae, "threshold", None)
        if isinstance(threshold, torch.Tensor) and threshold.ndim == 0:
            record["threshold"] = float(threshold)
        context.record = record
        for callback in callbacks:
            record.update(callback(context) or {})
        self._sums, self._count = {}, 0
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
        if self._writer is not None:
            for name, value in record.items():
                if name != "step" and isinstance(value, int | float):
                    self._writer.add_scalar(f"sae/{name}", value, context.step)
        self.last = record
        return record

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def _tensorboard(out_dir: Path, start_step: int):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional
        log.debug("tensorboard is not installed; metrics go to metrics.jsonl only")
        return None
    return SummaryWriter(log_dir=str(Path(out_dir) / "tensorboard"), purge_step=start_step or None)


def _drop_records_after(path: Path, step: int) -> None:
    """On resume, forget records written after the checkpoint (they will be written again)."""
    if not path.exists():
        return
    kept = [line for line in path.read_text(encoding="utf-8").splitlines() if _step(line) <= step]
    path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")


def _step(line: str) -> float:
    try:
        return json.loads(line)["step"]
    except (ValueError, KeyError, TypeError):
        return float("inf")  # a torn last line from a crash

"""TrainingMonitor inside a `transformers.Trainer`."""

from __future__ import annotations

from transformers import TrainerCallback

from .watch import TrainingMonitor


class IncisionCallback(TrainerCallback):
    """`Trainer(..., callbacks=[IncisionCallback(monitor)])`: a look before the first step and after every
    `monitor.every`-th optimiser step (Trainer's `global_step`, gradient accumulation included)."""

    def __init__(self, monitor: TrainingMonitor):
        self.monitor = monitor

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self.monitor.step(model, state.global_step)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        self.monitor.step(model, state.global_step)

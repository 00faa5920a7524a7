"""Steering: add alpha * v to a site's output during forward passes and `generate()`, at every position, the
prompt's only, or the generated tokens' only; optionally only where a gate (a probe that fires) allows.

`steer(...)` returns a handle that is also a context manager; leaving it removes every hook. The hook
returns a new tensor, so the model's own outputs are never written into.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from ..core import forward
from ..core.hooks import HookHandles, add_replace_hook
from ..errors import ConfigError, InputError
from .conditional import check_order
from .direction import Direction, check_vector
from .positions import PositionTracker

POSITIONS = ("all", "prompt", "generated")
Gate = Callable[[torch.Tensor], "torch.Tensor | None"]  # site output [B, T, D] -> [B, T] bool, or None


@dataclass
class Steering:
    """Installed steering hooks. `tracker.reset()` between unrelated `generate()` calls (incision's
    `generate` does it for you) so that the next prompt sets the prompt length."""

    handles: HookHandles
    tracker: PositionTracker
    vectors: dict[str, torch.Tensor] = field(default_factory=dict)  # site -> alpha * v, as added

    def remove(self) -> None:
        self.handles.remove()

    def __enter__(self) -> Steering:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def steer(
    subject,
    direction: Direction | dict[str, torch.Tensor],
    alpha: float = 1.0,
    positions: str = "all",
    prompt_length: int | None = None,
    gate: Gate | None = None,
) -> Steering:
    """Add `alpha` x the direction's vector at each of its sites. `gate(output)` may return a [B, T] mask
    of where to steer; a `ProbeGate` (conditional.py) is installed with the steering and removed with it."""
    if positions not in POSITIONS:
        raise ConfigError(f"positions must be one of {list(POSITIONS)}, got {positions!r}")
    if not isinstance(alpha, int | float) or alpha != alpha:
        raise ConfigError(f"alpha must be a number, got {alpha!r}")
    vectors = direction.vectors if isinstance(direction, Direction) else dict(direction)
    if not vectors:
        raise InputError("nothing to steer with: the direction has no sites")
    tracker = PositionTracker(prompt_length)
    added = {}
    handles = tracker.track(subject.model)
    try:
        if hasattr(gate, "install"):  # a ProbeGate: its read hook goes first, so it runs before any adder
            handles.handles += gate.install(subject).handles
        for site, vector in vectors.items():
            name = subject.resolve(site).name  # SiteError lists the model's sites
            if hasattr(gate, "install"):
                check_order(subject, gate.site, name)
            delta = float(alpha) * check_vector(vector, subject.d_model, f"direction at site {site!r}")
            added[name] = delta
            adder = _adder(delta, tracker, positions, gate)
            handles.handles += add_replace_hook(subject.resolve(name).module, adder).handles
    except BaseException:
        handles.remove()
        raise
    return Steering(handles, tracker, added)


def _adder(delta_D: torch.Tensor, tracker: PositionTracker, positions: str, gate: Gate | None):
    def add(x_BTD: torch.Tensor) -> torch.Tensor:
        delta = delta_D.to(device=x_BTD.device, dtype=x_BTD.dtype)
        where_BT = _where(x_BTD, tracker.mask(positions, x_BTD.device), gate(x_BTD) if gate else None)
        if where_BT is None:
            return x_BTD + delta
        return x_BTD + delta * where_BT.unsqueeze(-1).to(x_BTD.dtype)

    return add


def _where(x_BTD, position_T, gate_BT) -> torch.Tensor | None:
    if position_T is None:
        return gate_BT
    position_BT = position_T.unsqueeze(0).expand(x_BTD.shape[0], -1)
    return position_BT if gate_BT is None else position_BT & gate_BT


def generate(
    subject, prompts: list[str], steering: Steering | None = None, max_new_tokens: int = 32, **options
):
    """Greedy (unless `options` say otherwise) continuations of `prompts`, left-padded into one batch
    (`forward.generate`). Returns (texts, token ids [B, max_new_tokens]) of the new tokens; the steering's
    prompt length is set to this batch's padded prompt length."""
    if isinstance(prompts, str) or not prompts:
        raise InputError("prompts must be a non-empty list of strings")
    before = (lambda batch: steering.tracker.reset(batch.ids_BT.shape[1])) if steering is not None else None
    encodings = [subject.encode(prompt) for prompt in prompts]
    new = forward.generate(subject, encodings, max_new_tokens=max_new_tokens, before=before, **options)
    return subject.tokenizer.batch_decode(new, skip_special_tokens=True), new

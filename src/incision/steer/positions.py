"""Absolute token positions of the forward pass in flight, for hooks that act on some positions only.

A forward pre-hook on the whole model reads how many tokens the KV cache already holds, so the tokens of
this call sit at [past, past + T) whether `generate()` runs with a cache (one new token per call) or
recomputes everything (the whole sequence per call). Positions are indices in the padded batch: with
left padding, the prompt is every index below the padded prompt length, for every row.

The prompt length is what `prompt` / `generated` steering needs: set it explicitly, or the tracker takes it
from the first forward pass that starts at position 0 after installation or `reset()` (the prompt's).
"""

from __future__ import annotations

import torch

from ..core.hooks import HookHandles


class PositionTracker:
    """Install with `track(model)`; `positions(device)` then gives the [T] positions of the current call."""

    def __init__(self, prompt_length: int | None = None):
        self.prompt_length = prompt_length
        self.start = 0
        self.length = 0

    def track(self, model: torch.nn.Module) -> HookHandles:
        return HookHandles([model.register_forward_pre_hook(self._before_forward, with_kwargs=True)])

    def reset(self, prompt_length: int | None = None) -> None:
        """Forget the prompt length (the next pass from position 0 sets it), or set it."""
        self.prompt_length = prompt_length

    def positions(self, device=None) -> torch.Tensor:
        return torch.arange(self.start, self.start + self.length, device=device)

    def mask(self, which: str, device=None) -> torch.Tensor | None:
        """[T] bool of the current call's positions in `which` ("prompt", "generated"), None for "all"."""
        if which == "all":
            return None
        positions = self.positions(device)
        prompt = self.prompt_length if self.prompt_length is not None else self.start + self.length
        return positions < prompt if which == "prompt" else positions >= prompt

    def _before_forward(self, _module, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        embeds = kwargs.get("inputs_embeds")
        tokens = ids if ids is not None else embeds
        if tokens is None:
            return
        cache = kwargs.get("past_key_values")
        self.start = (
            int(cache.get_seq_length()) if cache is not None and hasattr(cache, "get_seq_length") else 0
        )
        self.length = int(tokens.shape[1])
        if self.start == 0 and self.prompt_length is None:
            self.prompt_length = self.length

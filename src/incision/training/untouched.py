"""Look inside a model mid-training without changing what training sees next."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn


@contextlib.contextmanager
def untouched(model: nn.Module) -> Iterator[None]:
    """Run the body in eval mode without gradients, then restore every module's own train/eval flag
    (frozen parts may be in eval on purpose) and the CPU and CUDA random states, so dropout masks and
    data order after a look are the ones training would have had without it. Parameters and their
    `.grad` are never written: no backward pass runs under `no_grad`."""
    modes = [(module, module.training) for module in model.modules()]
    cpu_rng = torch.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        for module, training in modes:
            module.training = training
        torch.set_rng_state(cpu_rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state_all(cuda_rng)

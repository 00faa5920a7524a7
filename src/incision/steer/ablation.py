"""Directional ablation (Arditi et al. 2024): remove a direction r from every write into the residual
stream, x -> x - (x . r^) r^, so no layer ever carries a component along it. As hooks, undone on exit."""

from __future__ import annotations

import torch

from ..hooks import HookHandles, add_replace_hook
from .direction import check_vector, unit
from .writers import residual_writes


def project_out(x: torch.Tensor, r_unit: torch.Tensor) -> torch.Tensor:
    """x minus its component along the unit vector r (a new tensor, in x's dtype)."""
    r = r_unit.to(device=x.device, dtype=torch.float32)
    return (x.float() - (x.float() @ r).unsqueeze(-1) * r).to(x.dtype)


def ablate(subject, direction: torch.Tensor) -> HookHandles:
    """Project `direction` [D] out of the embeddings' output and every attention and MLP write (after the
    post-norm in Gemma 2/3). Returns handles; `with ablate(...):` removes the hooks on exit."""
    r = unit(check_vector(direction, subject.d_model))
    handles = HookHandles()
    try:
        for write in residual_writes(subject):
            handles.handles += add_replace_hook(write.module, lambda x: project_out(x, r)).handles
    except BaseException:
        handles.remove()
        raise
    return handles

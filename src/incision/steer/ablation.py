"""Directional ablation (Arditi et al. 2024): remove a direction r from every write into the residual
stream, x -> x - (x . r^) r^, so no layer ever carries a component along it. As hooks, undone on exit.

`ablate_at_sites` removes directions from chosen sites' outputs instead (the span of every vector given
for a site): it works for encoders too, where there is no clean "write" to edit (BERT normalises its
whole stream after each block)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..core.hooks import HookHandles, add_replace_hook
from ..errors import InputError
from .direction import Direction, check_vector, unit
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


def ablate_at_sites(subject, directions: Direction | Sequence[Direction]) -> HookHandles:
    """Project every vector of `directions` out of the output of the site it names (a basis per site)."""
    handles = HookHandles()
    try:
        for site, basis_KD in site_bases(subject, directions).items():
            module = subject.resolve(site).module
            handles.handles += add_replace_hook(module, lambda x, b=basis_KD: _project_out_all(x, b)).handles
    except BaseException:
        handles.remove()
        raise
    return handles


def site_bases(subject, directions: Direction | Sequence[Direction]) -> dict[str, torch.Tensor]:
    """Canonical site -> an orthonormal basis [K, D] of the span of every vector given for it (vectors
    already in the span of earlier ones add nothing)."""
    directions = [directions] if isinstance(directions, Direction) else list(directions)
    if not directions or not all(isinstance(d, Direction) for d in directions):
        raise InputError("give a direction tensor [D], a Direction, or a non-empty list of Directions")
    vectors: dict[str, list[torch.Tensor]] = {}
    for d in directions:
        d.check_subject(subject)
        for site, vector in d.vectors.items():
            vectors.setdefault(subject.resolve(site).name, []).append(vector)
    bases = {}
    for site, vs in vectors.items():
        q, r = torch.linalg.qr(torch.stack(vs).double().T)  # columns of q span the vectors, in order
        keep = r.diagonal().abs() > 1e-6 * r.diagonal().abs().max()
        bases[site] = q.T[keep].float()
    return bases


def _project_out_all(x: torch.Tensor, basis_KD: torch.Tensor) -> torch.Tensor:
    for r in basis_KD:  # orthonormal rows: removing them one by one removes their span
        x = project_out(x, r)
    return x

"""Edits on vLLM's flat batch, token by token: the same `incision.core.edits` kinds, applied only to the rows
of the requests that asked for them (continuous batching puts many requests in one pass).

Each `TokenEdit` is a list of (module, op): `op(output, w_N)` returns the module's output edited, where
w_N [N] weighs each row (0 leaves it alone; None: every row at weight 1). Steering adds w x v (w is the
request's alpha); ablation and projection remove w x the component (w is 0 or 1). At `resid.L` the output
is vLLM's (hidden_states, residual) pair: a steering vector is added to the residual, and a projection
removes the component of their sum from the residual, so the sum is what the Hugging Face edit gives.

Weight edits (`orthogonalize`) are served by saving the edited model and pointing vLLM at its folder;
`erase`, `clamp_feature` and `keep_means_ablate` are not offered here yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import ConfigError
from ..steer.ablation import site_bases
from ..steer.direction import check_vector, unit
from ..steer.edit_kinds import Ablate, KeepMeansAblate, ProjectOut, Steer
from ..steer.writers import residual_writes
from .model_view import ModelView, is_pair

SUPPORTED = ("steer", "ablate", "project_out")
Op = Callable[[object, "torch.Tensor | None"], object]


@dataclass
class TokenEdit:
    """One edit, ready for vLLM's flat batch. `alpha`: a steer edit's default weight; `positions`: which
    tokens of a request it touches ("all", "prompt" or "generated")."""

    ops: list[tuple[nn.Module, Op]]
    alpha: float = 1.0
    positions: str = "all"


def token_edit(edit, view: ModelView) -> TokenEdit:
    """The vLLM form of an `incision.core.edits` edit; a ConfigError for kinds not offered here."""
    if isinstance(edit, Steer):
        ops = []
        for site, vector in edit.direction.vectors.items():
            module = view.readable(site).module
            v = check_vector(vector, view.d_model, f"direction at site {site!r}").float()
            ops.append((module, lambda out, w, v=v: _add(out, v, w)))
        return TokenEdit(ops, float(edit.alpha), edit.positions)
    if isinstance(edit, Ablate) and not isinstance(edit, KeepMeansAblate):
        r = unit(check_vector(edit.vector(view), view.d_model)).float()
        basis = r[None]
        return TokenEdit(
            [(w.module, lambda out, w_N: _remove(out, basis, w_N)) for w in residual_writes(view)]
        )
    if isinstance(edit, ProjectOut):
        bases = site_bases(view, edit.directions)
        return TokenEdit(
            [(view.readable(s).module, lambda out, w, b=b: _remove(out, b, w)) for s, b in bases.items()]
        )
    raise ConfigError(
        f"edit kind {getattr(edit, 'kind', type(edit).__name__)!r} is not available on the vLLM backend; "
        f"it offers {list(SUPPORTED)} (serve a weight edit by saving the orthogonalised model)"
    )


def _weighted(x: torch.Tensor, w_N: torch.Tensor | None) -> torch.Tensor:
    return x if w_N is None else x * w_N.to(x.device, x.dtype)[:, None]


def _add(output, v_D: torch.Tensor, w_N):
    if is_pair(output):
        hidden, residual = output
        return hidden, residual + _weighted(v_D.to(residual.device, residual.dtype).expand_as(residual), w_N)
    x = output[0] if isinstance(output, tuple) else output
    new = x + _weighted(v_D.to(x.device, x.dtype).expand_as(x), w_N)
    return (new, *output[1:]) if isinstance(output, tuple) else new


def _remove(output, basis_KD: torch.Tensor, w_N):
    """The output without its component in the span of the orthonormal rows of `basis_KD`."""
    if is_pair(output):
        hidden, residual = output
        stream = hidden + residual
        return hidden, residual - _weighted(_component(stream, basis_KD), w_N)
    x = output[0] if isinstance(output, tuple) else output
    new = x - _weighted(_component(x, basis_KD), w_N)
    return (new, *output[1:]) if isinstance(output, tuple) else new


def _component(x_ND: torch.Tensor, basis_KD: torch.Tensor) -> torch.Tensor:
    basis = basis_KD.to(x_ND.device, x_ND.dtype)
    return (x_ND @ basis.T) @ basis

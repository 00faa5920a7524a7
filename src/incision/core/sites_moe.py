"""Mixture-of-experts sites: `router.L`, `experts.L`, `shared.L` and `expert.L.E` of each MoE block.

`router.L` is the router's logits [.., n_experts]; `experts.L` the routed experts' weighted sum [.., D];
`shared.L` the shared expert's output (for Qwen2-MoE before its sigmoid gate); `expert.L.E` expert E's
weighted contribution (zero on tokens not routed to E). Dense blocks have none of them.

Hugging Face MoE blocks flatten tokens before routing, so routers and experts return [B*T, X]. Each
MoE site is therefore a `MoEView`: a stand-in module whose `register_forward_hook` hooks the real
module, shows the hook a [B, T, X] tensor (the MoE block's input shape, read by a pre-hook on the
block) and maps a replacement back to the real module's shape. Everything that hooks `Site.module`
(capture, monitors, steering, SAE splicing) works unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import SiteError
from .hooks import HookHandles

MOE_KINDS = ("router", "experts", "shared", "expert")  # in the order describe() lists them
_ROUTER_NAMES = ("gate", "router")
_SHARED_NAMES = ("shared_expert", "shared_experts")


@dataclass(frozen=True)
class MoEBlock:
    """The parts of one MoE block (the `mlp.L` module, called with [B, T, D])."""

    block: nn.Module
    router: nn.Module
    experts: nn.Module
    shared: nn.Module | None
    n_experts: int


def find_moe(mlp: nn.Module | None) -> MoEBlock | None:
    """The MoE parts of an MLP sublayer, or None for a dense one (fused `experts` + a router child)."""
    if mlp is None:
        return None
    children = dict(mlp.named_children())
    experts = children.get("experts")
    router = next((children[n] for n in _ROUTER_NAMES if n in children), None)
    if experts is None or router is None:
        return None
    n_experts = getattr(experts, "num_experts", None) or getattr(router, "num_experts", None)
    if not n_experts:
        return None
    shared = next((children[n] for n in _SHARED_NAMES if n in children), None)
    return MoEBlock(mlp, router, experts, shared, int(n_experts))


def moe_site_names(layer: int, moe: MoEBlock) -> list[str]:
    names = [f"router.{layer}", f"experts.{layer}", *(f"expert.{layer}.{e}" for e in range(moe.n_experts))]
    return [*names, f"shared.{layer}"] if moe.shared is not None else names


def moe_view(name: str, moe: MoEBlock) -> MoEView:
    """The view behind a canonical MoE site name ('router.1', 'expert.1.3', ...) of block `moe`."""
    kind, *rest = name.split(".")
    if kind == "router":
        return MoEView(name, moe.router, moe.block, writable=False)
    if kind == "experts":
        return MoEView(name, moe.experts, moe.block)
    if kind == "shared" and moe.shared is not None:
        return MoEView(name, moe.shared, moe.block)
    if kind == "expert":
        return ExpertView(name, moe.experts, moe.block, expert=int(rest[1]))
    raise SiteError(f"unknown MoE site {name!r}; MoE sites are router.L, experts.L, shared.L and expert.L.E")


def _first(output):
    return output[0] if isinstance(output, tuple) else output


def _with_first(output, new: torch.Tensor):
    return (new, *output[1:]) if isinstance(output, tuple) else new


class MoEView(nn.Module):
    """A module's output seen as [B, T, X]. Not part of the model: it only installs hooks on it.

    The real modules are kept in a tuple so they are not registered as this view's children.
    """

    def __init__(self, name: str, target: nn.Module, block: nn.Module, writable: bool = True):
        super().__init__()
        self.site, self.writable = name, writable
        self._parts = (target, block)

    @property
    def target(self) -> nn.Module:
        return self._parts[0]

    def forward(self, *args, **kwargs):
        raise SiteError(f"site {self.site!r} is a view of {type(self.target).__name__}, not a module to call")

    def register_forward_pre_hook(self, *args, **kwargs):
        raise SiteError(f"site {self.site!r} takes output hooks only; hook its MoE block for its input")

    def register_forward_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False, always_call: bool = False
    ) -> HookHandles:
        """Call `hook(view, args, output_BTX)`; a returned tensor replaces the output (in the real shape)."""
        if with_kwargs:
            raise SiteError(f"site {self.site!r} takes hooks of the form hook(module, args, output) only")
        target, block = self._parts
        batch_shape: list[torch.Size] = [torch.Size()]

        def record(_block, args, kwargs):
            hidden = args[0] if args else kwargs["hidden_states"]
            batch_shape[0] = hidden.shape[:-1]  # [B, T]: the shape every flattened part is restored to

        def on_output(_module, args, kwargs, output):
            part = self._part(args, kwargs, output)
            new = hook(self, args, part.reshape(*batch_shape[0], -1) if part.ndim == 2 else part)
            if new is None:
                return None
            if not self.writable:
                raise SiteError(
                    f"site {self.site!r} cannot be replaced: the router picks its experts before its "
                    "logits come out; edit experts.L or mlp.L instead"
                )
            return self._merge(args, kwargs, output, part, _first(new).reshape(part.shape))

        pre = block.register_forward_pre_hook(record, with_kwargs=True, prepend=True)
        try:
            post = target.register_forward_hook(
                on_output, with_kwargs=True, prepend=prepend, always_call=always_call
            )
        except BaseException:
            pre.remove()
            raise
        return HookHandles([pre, post])

    def _part(self, args, kwargs, output) -> torch.Tensor:
        """The part of the module's output this site shows (before reshaping)."""
        return _first(output)

    def _merge(self, args, kwargs, output, part: torch.Tensor, new: torch.Tensor):
        """The module's output with `part` replaced by `new` (a new object; the original is not written)."""
        return _with_first(output, new)


class ExpertView(MoEView):
    """Expert E's weighted contribution, computed by the experts module's own forward on E's tokens."""

    def __init__(self, name: str, target: nn.Module, block: nn.Module, expert: int):
        super().__init__(name, target, block)
        self.expert = expert

    def _part(self, args, kwargs, output) -> torch.Tensor:
        hidden_ND, index_NK, weights_NK = _experts_inputs(args, kwargs)
        routed_NK = index_NK == self.expert
        rows_R = routed_NK.any(dim=-1).nonzero().squeeze(-1)
        out_ND = _first(output)
        contribution_ND = torch.zeros_like(out_ND)
        if len(rows_R):
            # E appears at most once in a token's top k: route E's tokens to E alone, with E's weight
            weight_R1 = (weights_NK * routed_NK).sum(dim=-1, keepdim=True)[rows_R].to(weights_NK.dtype)
            index_R1 = torch.full_like(rows_R, self.expert).unsqueeze(-1).to(index_NK.dtype)
            part_RD = self.target.forward(hidden_ND[rows_R], index_R1, weight_R1)
            contribution_ND = contribution_ND.index_copy(0, rows_R, part_RD.to(out_ND.dtype))
        return contribution_ND

    def _merge(self, args, kwargs, output, part: torch.Tensor, new: torch.Tensor):
        return _with_first(output, _first(output) - part + new)


def _experts_inputs(args, kwargs) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(hidden [N, D], top-k expert indices [N, K], top-k weights [N, K]) of an experts module call."""
    names = ("hidden_states", "top_k_index", "top_k_weights")
    values = [*args, *(kwargs[n] for n in names[len(args) :])]
    return values[0], values[1], values[2]

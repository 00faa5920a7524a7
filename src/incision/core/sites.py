"""Named hook sites: the same strings for every architecture, resolved to modules per family.

`embed` is the embedding output (what `output_hidden_states[0]` holds), `resid.L` the output of
block L (the residual stream after it), `attn.L` and `mlp.L` the attention and MLP sublayer
outputs of block L before they are added to the residual stream. Negative L counts from the end.
Mixture-of-experts blocks add `router.L`, `experts.L`, `shared.L` and `expert.L.E` (sites_moe.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from torch import nn

from ..errors import SiteError
from .sites_moe import MOE_KINDS, MoEBlock, find_moe, moe_site_names, moe_view

SITE_KINDS = ("resid", "attn", "mlp", *MOE_KINDS)
# forward order within a block: attention, then the MoE parts, then the MLP's output, then the block's
_ORDER = {"embed": 0, "attn": 1, "router": 2, "expert": 3, "experts": 4, "shared": 5, "mlp": 6, "resid": 7}
_SITE_RE = re.compile(r"^(resid|attn|mlp|router|experts|shared)\.(-?\d+)$")
_EXPERT_RE = re.compile(r"^expert\.(-?\d+)\.(\d+)$")


@dataclass(frozen=True)
class Family:
    """Where one model family keeps its parts, as attribute paths relative to `model.base_model`."""

    blocks: str
    embed: str
    attn: str  # relative to one block
    mlp: str  # relative to one block


# One small table; anything else goes through `guess_family`.
_LLAMA_LIKE = Family(blocks="layers", embed="embed_tokens", attn="self_attn", mlp="mlp")
FAMILIES: dict[str, Family] = {
    "gpt2": Family(blocks="h", embed="drop", attn="attn", mlp="mlp"),
    "gpt_neox": Family(blocks="layers", embed="emb_dropout", attn="attention", mlp="mlp"),
    "bert": Family(
        blocks="encoder.layer", embed="embeddings", attn="attention.output.dense", mlp="output.dense"
    ),
    **{
        name: _LLAMA_LIKE
        for name in ("llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3", "gemma3_text")
    },
    **{name: _LLAMA_LIKE for name in ("mixtral", "qwen2_moe", "qwen3_moe", "deepseek_v3")},
}

_ATTN_NAMES = ("self_attn", "attention", "attn", "self_attention")
_MLP_NAMES = ("mlp", "feed_forward", "ffn", "ff")


@dataclass(frozen=True)
class Site:
    """A resolved site: its canonical name (non-negative layer), layer (-1 for embed) and module.

    MoE sites' modules are views (sites_moe.MoEView) that show hooks [B, T, X] tensors."""

    name: str
    layer: int
    module: nn.Module
    width: int | None = None  # None: the model's hidden size; a router's is its number of experts


def _get(root: nn.Module, path: str) -> nn.Module | None:
    try:
        return root.get_submodule(path)
    except AttributeError:
        return None


def _is_block_list(module: nn.Module | None, n_layers: int) -> bool:
    return isinstance(module, nn.ModuleList) and len(module) == n_layers


def guess_family(base: nn.Module, n_layers: int) -> Family | None:
    """Find blocks, embedding and sublayers by name patterns for a family not in the table."""
    lists = [
        (name, mod)
        for name, mod in base.named_modules()
        if isinstance(mod, nn.ModuleList) and len(mod) == n_layers and name
    ]
    if not lists:
        return None
    blocks_path, blocks = min(lists, key=lambda item: item[0].count("."))
    children = dict(blocks[0].named_children())
    attn = next((n for n in _ATTN_NAMES if n in children), "")
    mlp = next((n for n in _MLP_NAMES if n in children), "")
    embed = next((name for name, mod in base.named_modules() if mod is base.get_input_embeddings()), "")
    return Family(blocks=blocks_path, embed=embed, attn=attn, mlp=mlp)


class SiteMap:
    """Resolves site names on one model; lists the sites that exist."""

    def __init__(self, model: nn.Module, model_type: str, n_layers: int):
        self.base: nn.Module = getattr(model, "base_model", model)
        self.n_layers = n_layers
        family = FAMILIES.get(model_type)
        if family is None or not _is_block_list(_get(self.base, family.blocks), n_layers):
            family = guess_family(self.base, n_layers)  # unknown family, or a known one wrapped (multimodal)
        if family is None:
            raise SiteError(
                f"cannot find the transformer blocks of model type {model_type!r}: "
                f"no ModuleList of {n_layers} layers; add it to incision.core.sites.FAMILIES"
            )
        self.family = family
        self.blocks = _get(self.base, family.blocks)
        self._modules: dict[str, nn.Module] = {}
        self.moe: dict[int, MoEBlock] = {}  # layer -> its MoE parts; dense layers are absent
        self._moe_names: set[str] = set()
        self._views: dict[str, nn.Module] = {}  # MoE views, made on first use (a big model has thousands)
        embed = _get(self.base, family.embed) if family.embed else None
        if embed is not None:
            self._modules["embed"] = embed
        for i, block in enumerate(self.blocks):
            self._modules[f"resid.{i}"] = block
            for kind, path in (("attn", family.attn), ("mlp", family.mlp)):
                module = _get(block, path) if path else None
                if module is not None:
                    self._modules[f"{kind}.{i}"] = module
            moe = find_moe(self._modules.get(f"mlp.{i}"))
            if moe is not None:
                self.moe[i] = moe
                self._moe_names.update(moe_site_names(i, moe))

    @property
    def names(self) -> list[str]:
        """Every site this model has, in forward order."""
        return sorted([*self._modules, *self._moe_names], key=_forward_order)

    def resolve(self, site: str) -> Site:
        """Turn a site name (negative layers allowed) into a Site, or raise a SiteError listing valid ones."""
        if not isinstance(site, str):
            raise SiteError(f"site must be a string like 'resid.6', got {site!r}")
        name = canonical_site(site, self.n_layers)
        if name in self._modules:
            return Site(name=name, layer=_layer_of(name), module=self._modules[name])
        if name in self._moe_names:
            layer, moe = _layer_of(name), self.moe[_layer_of(name)]
            if name not in self._views:
                self._views[name] = moe_view(name, moe)
            width = moe.n_experts if name.startswith("router.") else None
            return Site(name=name, layer=layer, module=self._views[name], width=width)
        if _is_layered(name) and name.split(".")[0] in MOE_KINDS and _layer_of(name) not in self.moe:
            raise SiteError(
                f"unknown site {site!r}: block {_layer_of(name)} is dense, without experts; "
                f"this model has: {self.describe()}"
            )
        raise SiteError(f"unknown site {site!r}; this model has: {self.describe()}")

    def describe(self) -> str:
        """A short list of valid sites, e.g. 'embed, resid.0..17, attn.0..17, mlp.0..17, router.1..17'."""
        names = [*self._modules, *self._moe_names]
        parts = ["embed"] if "embed" in self._modules else []
        for kind in SITE_KINDS:
            layers = sorted({_layer_of(s) for s in names if s.split(".")[0] == kind})
            if layers:
                parts.append(f"{kind}.{_span(layers)}")
        if self.moe:  # expert.L.E: blocks first, then experts
            parts[-1] += f".0..{max(m.n_experts for m in self.moe.values()) - 1}"
        return ", ".join(parts)


def canonical_site(site: str, n_layers: int) -> str:
    """The name with its layer made non-negative ('mlp.-1' -> 'mlp.2' with 3 blocks); out-of-range layers raise.

    Names that are not layered sites ('embed', typos) come back stripped but otherwise unchanged."""
    name = site.strip()
    if not _is_layered(name):
        return name
    parts = name.split(".")
    layer = int(parts[1])
    if not -n_layers <= layer < n_layers:
        raise SiteError(
            f"site {site!r} is out of range: this model has {n_layers} blocks, "
            f"so layers go from 0 to {n_layers - 1} (or -{n_layers} to -1)"
        )
    parts[1] = str(layer % n_layers)
    return ".".join(parts)


def _span(values: list[int]) -> str:
    """'1..3' for consecutive values, else '{1,3,5}'."""
    if values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}..{values[-1]}" if len(values) > 1 else str(values[0])
    return "{" + ",".join(map(str, values)) + "}"


def _is_layered(name: str) -> bool:
    return bool(_SITE_RE.match(name) or _EXPERT_RE.match(name))


def _layer_of(site: str) -> int:
    return -1 if site == "embed" else int(site.split(".")[1])


def _forward_order(site: str) -> tuple[int, int, int]:
    parts = site.split(".")
    return _layer_of(site), _ORDER[parts[0]], int(parts[2]) if len(parts) > 2 else 0


def expand_sites(patterns: str | list[str], site_map: SiteMap) -> list[str]:
    """Expand 'resid.6,router.-1', 'resid.*', 'router.*', 'expert.3.*' or a list into canonical names, in forward order."""
    if isinstance(patterns, str):
        patterns = [p for p in patterns.split(",") if p.strip()]
    if not patterns:
        raise SiteError(f"no sites given; this model has: {site_map.describe()}")
    chosen: set[str] = set()
    for pattern in patterns:
        pattern = pattern.strip()
        kind = pattern[:-2]
        if pattern.endswith(".*") and kind in SITE_KINDS:
            chosen.update(s for s in site_map.names if s.startswith(pattern[:-1]))
        elif pattern.endswith(".*") and kind.startswith("expert."):  # every expert of one block
            layer = site_map.resolve(f"experts.{kind[7:]}").layer  # SiteError if it has none
            chosen.update(s for s in site_map.names if s.startswith(f"expert.{layer}."))
        else:
            chosen.add(site_map.resolve(pattern).name)
    return [s for s in site_map.names if s in chosen]

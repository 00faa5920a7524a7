"""Where a model writes into its residual stream: the embeddings, and in every block the attention and MLP
outputs. Directional ablation hooks these writes; weight orthogonalisation rewrites their weights.

Most families add a sublayer's output projection straight to the residual stream. Gemma 2 and 3 normalise
it first (`post_attention_layernorm`, `post_feedforward_layernorm`: RMSNorm with a gain g), so the write is
the norm's output and what the weights can control is the projection before it: the norm output has no
component along r exactly when the projection's output has none along g * r (see orthogonalize.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..core.subject import execution_device
from ..errors import ConfigError

ATTN_OUT = ("o_proj", "c_proj", "dense", "out_proj")  # Llama/Qwen/Gemma/Phi, GPT-2, GPT-NeoX, others
MLP_OUT = ("down_proj", "c_proj", "dense_4h_to_h", "fc2", "w2")
POSITION_EMBEDDINGS = ("wpe", "embed_positions")
ENCODERS = ("bert", "roberta", "xlm-roberta", "distilbert", "electra", "deberta", "deberta-v2")


@dataclass(frozen=True)
class ResidualWrite:
    """One addition to the residual stream: `module`'s output is what is added; `weights` are the modules
    (Linear, GPT-2's Conv1D, Embedding) whose outputs make it, `norm` the post-norm in between (or None)."""

    name: str  # "embed", "attn.L" or "mlp.L"
    module: nn.Module
    weights: tuple[nn.Module, ...]
    norm: nn.Module | None = None


def residual_writes(subject) -> list[ResidualWrite]:
    """Every residual write of a decoder model, in forward order; a ConfigError for families whose writes
    cannot be found (encoders like BERT normalise the whole stream after each block)."""
    if subject.model.config.model_type in ENCODERS:
        raise ConfigError(
            f"{subject.name!r} normalises its whole residual stream after each block; edits need a decoder"
        )
    base = subject.site_map.base
    embeddings = [subject.model.get_input_embeddings()]
    embeddings += [m for n in POSITION_EMBEDDINGS if isinstance(m := getattr(base, n, None), nn.Embedding)]
    writes = [ResidualWrite("embed", subject.resolve("embed").module, tuple(embeddings))]
    family = subject.site_map.family
    for i, block in enumerate(subject.site_map.blocks):
        post_norms = _post_norms(block)
        for kind, path, names in (("attn", family.attn, ATTN_OUT), ("mlp", family.mlp, MLP_OUT)):
            sublayer = block.get_submodule(path) if path else None
            projection = _child(sublayer, names) if sublayer is not None else None
            if projection is None:
                raise ConfigError(
                    f"cannot find the {kind} output projection of block {i} of {subject.name!r} "
                    f"(looked for {', '.join(names)}); add its name to incision.steer.writers"
                )
            norm = post_norms[kind] if post_norms else None
            writes.append(ResidualWrite(f"{kind}.{i}", norm or sublayer, (projection,), norm))
    return writes


def _post_norms(block: nn.Module) -> dict[str, nn.Module] | None:
    # Gemma 2/3 name their four norms so; in Llama `post_attention_layernorm` is the MLP's *input* norm
    if hasattr(block, "post_feedforward_layernorm") and hasattr(block, "pre_feedforward_layernorm"):
        return {"attn": block.post_attention_layernorm, "mlp": block.post_feedforward_layernorm}
    return None


def _child(module: nn.Module, names: tuple[str, ...]) -> nn.Module | None:
    for name in names:
        child = getattr(module, name, None)
        if isinstance(child, nn.Module) and hasattr(child, "weight"):
            return child
    return None


def norm_gain(norm: nn.Module, width: int) -> torch.Tensor:
    """The elementwise gain g of an RMSNorm-like post-norm (norm(x) = x / rms(x) * g), read off its output
    on constant inputs; a ConfigError when the norm is not of that kind (e.g. a LayerNorm, which centres)."""
    weight = next(norm.parameters())
    with torch.no_grad():
        ones = torch.ones(1, width, dtype=weight.dtype, device=execution_device(norm))
        g1, g3 = norm(ones).float()[0], norm(3 * ones).float()[0]
    if not torch.allclose(g1, g3, rtol=1e-3, atol=1e-6) or float(g1.abs().max()) == 0.0:
        raise ConfigError(
            f"the post-norm {type(norm).__name__} is not an RMSNorm with a gain; cannot edit through it"
        )
    return g1

"""Weight orthogonalisation: bake a directional ablation into the weights, so the edited model needs no
hooks and saves as a normal Hugging Face folder.

Every weight that writes into the residual stream loses its output component along the unit direction r:
embeddings (and GPT-2's position embeddings) E <- E - (E r) r^T, attention and MLP output projections
W <- W - r (r^T W) and their biases b <- b - (b . r) r. Where the block adds the projection straight to
the residual stream (GPT-2, GPT-NeoX, Llama, Mistral, Qwen, Phi-3, Gemma 1, SmolLM2), the edited model
equals the hooked ablation (ablation.py) exactly, up to float rounding. Gemma 2 and 3 pass each projection
through an RMSNorm with gain g before the residual add: there the projection is orthogonalised against
g * r instead, which makes the norm's output orthogonal to r for every input, so the residual stream
still carries no component along r; but the norm rescales what is left, so those models are close to,
not equal to, the hooked ablation. An input embedding tied to the output head is untied first (the head
keeps reading the unedited matrix, as it does under the hooks).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..errors import ConfigError
from .direction import check_vector, unit
from .writers import norm_gain, residual_writes

log = logging.getLogger(__name__)


@torch.no_grad()
def orthogonalize(subject, direction: torch.Tensor) -> dict:
    """Edit `subject`'s weights in place so that no residual write has a component along `direction` [D].
    Returns a record of the edit (saved beside the weights by `save_edited`)."""
    r = unit(check_vector(direction, subject.d_model)).double()
    writes = residual_writes(subject)
    _check_in_memory(writes)
    untied = _untie_output_head(subject.model)
    edited = []
    for write in writes:
        against = r
        if write.norm is not None:  # norm(x) . r = (x . (g * r)) / rms(x): remove x's component along g * r
            against = unit(norm_gain(write.norm, subject.d_model).double().cpu() * r)
        for module in write.weights:
            _remove_output_component(module, against)
            edited.append(f"{write.name}:{type(module).__name__}")
    post_norm = any(w.norm is not None for w in writes)
    return {
        "edit": "orthogonalize",
        "direction_norm": float(direction.float().norm()),
        "weights_edited": len(edited),
        "untied_output_head": untied,
        "exact_equivalent_of_hooked_ablation": not post_norm,
    }


@dataclass
class Snapshot:
    """What `orthogonalize` would change: copies of every write weight and bias, and the head's tying."""

    tensors: list[tuple[torch.Tensor, torch.Tensor]]  # (the parameter, a copy of its values)
    head_tied: bool
    tie_flags: list[tuple[object, object]]  # (config, its tie_word_embeddings)


@torch.no_grad()
def snapshot(subject) -> Snapshot:
    """Copies of what `orthogonalize(subject, ...)` rewrites, for `restore`."""
    tensors = []
    for write in residual_writes(subject):
        for module in write.weights:
            for tensor in (module.weight, getattr(module, "bias", None)):
                if isinstance(tensor, torch.Tensor):
                    tensors.append((tensor, tensor.detach().clone()))
    model = subject.model
    head, embed = model.get_output_embeddings(), model.get_input_embeddings()
    configs = {id(c): c for c in (model.config, model.config.get_text_config())}.values()
    tie_flags = [(c, c.tie_word_embeddings) for c in configs if hasattr(c, "tie_word_embeddings")]
    return Snapshot(tensors, head is not None and head.weight is embed.weight, tie_flags)


@torch.no_grad()
def restore(subject, saved: Snapshot) -> None:
    """Put back the weights `snapshot` copied, and tie the head again if it was tied."""
    for tensor, values in saved.tensors:
        tensor.copy_(values)
    model = subject.model
    if saved.head_tied:
        model.get_output_embeddings().weight = model.get_input_embeddings().weight
    for config, flag in saved.tie_flags:
        config.tie_word_embeddings = flag


def _check_in_memory(writes) -> None:
    """Weights offloaded by a device map live on "meta" (the real ones are reloaded per forward pass)."""
    for write in writes:
        for module in write.weights:
            if module.weight.device.type == "meta":
                raise ConfigError(
                    f"cannot orthogonalise {write.name}: its weights are offloaded by the device map (on 'meta'); "
                    "load the model with every weight in GPU or CPU memory (no 'disk' in the map, or more max_memory)"
                )


def _remove_output_component(module: nn.Module, r: torch.Tensor) -> None:
    """Remove the component along r (unit, [D]) from what `module` writes, in float64 then back."""
    weight = module.weight
    r = r.to(weight.device)  # a device map may put each block on its own GPU
    w = weight.double()
    if isinstance(module, nn.Embedding) or type(module).__name__ == "Conv1D":  # [*, D]: rows are outputs
        w = w - torch.outer(w @ r, r)
    elif isinstance(module, nn.Linear):  # [D, in]
        w = w - torch.outer(r, r @ w)
    else:
        raise TypeError(
            f"cannot orthogonalise a {type(module).__name__}; expected Linear, Conv1D or Embedding"
        )
    weight.copy_(w.to(weight.dtype))
    bias = getattr(module, "bias", None)
    if isinstance(bias, torch.Tensor):
        b = bias.double()
        bias.copy_((b - (b @ r) * r).to(bias.dtype))


def _untie_output_head(model: nn.Module) -> bool:
    head, embed = model.get_output_embeddings(), model.get_input_embeddings()
    if head is None or head.weight is not embed.weight:
        return False
    head.weight = nn.Parameter(embed.weight.detach().clone())
    for config in {id(c): c for c in (model.config, model.config.get_text_config())}.values():
        config.tie_word_embeddings = False
    return True


def save_edited(subject, out: str | Path, record: dict | None = None) -> Path:
    """Save the (edited) model and tokenizer as a Hugging Face folder that plain transformers loads, with
    `incision_edit.json` describing the edit."""
    out = Path(out)
    subject.model.save_pretrained(out)
    subject.tokenizer.save_pretrained(out)
    if record is not None:
        (out / "incision_edit.json").write_text(json.dumps(record, indent=1))
    log.info("edited model saved to %s", out)
    return out

"""The model vLLM loaded, seen the way incision sees a Hugging Face model: named sites and residual writes.

vLLM keeps Hugging Face's module names (it loads the same checkpoints), so the site table of
`incision.core.sites` finds the blocks, attention and MLP of its decoder. What differs is the block's output:
vLLM's decoder layer returns a pair (hidden_states, residual) that it adds inside the next layer's fused
norm, and their sum is the residual stream that `resid.L` means. Reads and edits at `resid.L` work on that
sum (engine_monitor.py, token_edits.py). `embed` is not read here: Gemma scales its embeddings outside vLLM's
embedding module, so the module's output is not the stream there. Experts' sites are not offered yet.
"""

from __future__ import annotations

import torch

from ..core.sites import Site, SiteMap
from ..errors import SiteError

READABLE = ("resid", "attn", "mlp")


class _ModelFace:
    """What `steer.writers.residual_writes` asks of a model: its config and input embedding."""

    def __init__(self, config, embed):
        self.config, self._embed = config, embed

    def get_input_embeddings(self):
        return self._embed


class ModelView:
    """Sites of vLLM's model, and the identity (name, config hash) the caller checked artifacts against."""

    def __init__(self, model: torch.nn.Module, hf_config, name: str, config_sha256: str):
        text = hf_config.get_text_config()
        self.name, self.config_sha256 = name, config_sha256
        self.n_layers, self.d_model = int(text.num_hidden_layers), int(text.hidden_size)
        decoder = getattr(model, "model", model)
        self.site_map = SiteMap(decoder, text.model_type, self.n_layers)
        embed = self.site_map.resolve("embed").module if "embed" in self.site_map.names else None
        self.model = _ModelFace(text, embed)

    @property
    def sites(self) -> list[str]:
        """The sites probes can read and edits can use here, in forward order."""
        return [s for s in self.site_map.names if s.split(".")[0] in READABLE]

    def resolve(self, site: str) -> Site:
        return self.site_map.resolve(site)

    def readable(self, site: str) -> Site:
        """A site a probe or a steering vector may use; a SiteError listing those there are otherwise."""
        resolved = self.site_map.resolve(site)
        if resolved.name.split(".")[0] not in READABLE:
            raise SiteError(
                f"site {site!r} is not available on the vLLM backend; it has resid, attn and mlp sites: "
                f"{_describe(self.sites)}"
            )
        return resolved


def _describe(sites: list[str]) -> str:
    kinds = [k for k in READABLE if any(s.startswith(k + ".") for s in sites)]
    layers = sorted({int(s.split(".")[1]) for s in sites})
    return ", ".join(f"{k}.{layers[0]}..{layers[-1]}" for k in kinds)


def is_pair(output) -> bool:
    """vLLM's decoder layer output: (hidden_states, residual), two tensors of one shape."""
    return (
        isinstance(output, tuple)
        and len(output) == 2
        and isinstance(output[1], torch.Tensor)
        and output[1].shape == output[0].shape
    )


def stream_of(output) -> torch.Tensor:
    """The activations a site's output holds: a block's pair summed (the residual stream), or the output
    itself (a tensor, or a tuple whose first item is it)."""
    if is_pair(output):
        return output[0] + output[1]
    return output[0] if isinstance(output, tuple) else output

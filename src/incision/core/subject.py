"""Subject: a Hugging Face model, its tokenizer and the map of its named hook sites."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

import torch
from torch import nn

from .sites import Site, SiteMap, expand_sites
from .tokens import Encoding, encode

# Windows longer than this cost quadratic memory on CPU for little interpretability value.
DEFAULT_MAX_WINDOW = 2048


@dataclass
class Subject:
    """A model under study. Build one with `incision.load`; wrap an already-loaded model directly."""

    model: nn.Module
    tokenizer: object
    name: str = field(default="")

    def __post_init__(self) -> None:
        self.model.eval()
        if not self.name:
            self.name = getattr(self.model.config, "name_or_path", "") or type(self.model).__name__

    @cached_property
    def text_config(self):
        return self.model.config.get_text_config()

    @cached_property
    def site_map(self) -> SiteMap:
        return SiteMap(self.model, self.model.config.model_type, self.n_layers)

    @property
    def n_layers(self) -> int:
        return int(self.text_config.num_hidden_layers)

    @property
    def d_model(self) -> int:
        return int(self.text_config.hidden_size)

    @property
    def sites(self) -> list[str]:
        """Every site name this model has, in forward order."""
        return self.site_map.names

    def resolve(self, site: str) -> Site:
        return self.site_map.resolve(site)

    def width(self, site: str) -> int:
        """The width of a site's activations: the hidden size, or the number of experts for `router.L`."""
        return self.site_map.resolve(site).width or self.d_model

    def expand_sites(self, patterns: str | list[str]) -> list[str]:
        """'resid.6,mlp.-1', 'resid.*' or a list -> canonical names in forward order."""
        return expand_sites(patterns, self.site_map)

    @property
    def context_length(self) -> int:
        """The longest sequence the model takes, from its config (and tokenizer, when smaller)."""
        limits = (
            getattr(self.text_config, "max_position_embeddings", None),
            getattr(self.tokenizer, "model_max_length", None),
        )
        known = [int(x) for x in limits if x and x < 10**8]  # tokenizers say 1e30 for "no limit"
        return min(known) if known else DEFAULT_MAX_WINDOW

    @property
    def default_window(self) -> int:
        return min(self.context_length, DEFAULT_MAX_WINDOW)

    @property
    def input_device(self) -> torch.device:
        return input_device(self.model)

    @cached_property
    def config_sha256(self) -> str:
        """Identifies the architecture whatever folder or name it was loaded from."""
        return hashlib.sha256(self.model.config.to_json_string().encode()).hexdigest()

    def encode(self, text: str) -> Encoding:
        """Token ids with the character span each covers."""
        return encode(self.tokenizer, text)

    def __repr__(self) -> str:
        return f"Subject({self.name!r}, {self.n_layers} layers x {self.d_model})"


def execution_device(module: nn.Module) -> torch.device:
    """Where `module` computes: accelerate's execution device when a device map placed it (its weights
    may sit on "meta", offloaded to CPU or disk), else the device of its first parameter or buffer."""
    hook = getattr(module, "_hf_hook", None)
    device = getattr(hook, "execution_device", None)
    if device is not None:
        return torch.device("cuda", device) if isinstance(device, int) else torch.device(device)
    tensor = next(module.parameters(), None)
    tensor = tensor if tensor is not None else next(module.buffers(), None)
    return tensor.device if tensor is not None else torch.device("cpu")


def input_device(model: nn.Module) -> torch.device:
    """Where input ids go: the device the embedding runs on."""
    return execution_device(model.get_input_embeddings())

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
        return self.model.get_input_embeddings().weight.device

    @cached_property
    def config_sha256(self) -> str:
        """Identifies the architecture whatever folder or name it was loaded from."""
        return hashlib.sha256(self.model.config.to_json_string().encode()).hexdigest()

    def encode(self, text: str) -> Encoding:
        """Token ids with the character span each covers."""
        return encode(self.tokenizer, text)

    def __repr__(self) -> str:
        return f"Subject({self.name!r}, {self.n_layers} layers x {self.d_model})"

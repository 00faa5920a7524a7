"""The on-disk activation store: safetensors shards per site, a token table and a manifest."""

from .reader import ActivationStore
from .writer import StoreWriter

__all__ = ["ActivationStore", "StoreWriter"]

"""incision: read a language model's internals while it runs, and edit them surgically."""

from .core.capture import CaptureConfig, capture
from .core.models import EMBEDDED, load
from .core.store import ActivationStore
from .core.subject import Subject
from .errors import (
    CaptureError,
    ConfigError,
    IncisionError,
    InputError,
    ModelNotFoundError,
    SiteError,
    StoreError,
)

__version__ = "0.1.0"

__all__ = [
    "EMBEDDED",
    "ActivationStore",
    "CaptureConfig",
    "CaptureError",
    "Client",
    "ConfigError",
    "IncisionError",
    "InputError",
    "ModelNotFoundError",
    "ServiceError",
    "SiteError",
    "StoreError",
    "Subject",
    "capture",
    "load",
]


def __getattr__(name: str):
    """`incision.Client` and `ServiceError` import httpx only when first used."""
    if name in ("Client", "ServiceError"):
        from .serve import client

        return getattr(client, name)
    raise AttributeError(f"module 'incision' has no attribute {name!r}")

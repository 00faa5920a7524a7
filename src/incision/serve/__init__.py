"""`incision serve`: a Monitor behind HTTP (FastAPI + uvicorn), OpenAI-compatible chat included
(docs/serving.md). Needs the `serve` extra.

The server's parts load when first used, so `incision.serve.client` (the HTTP client, httpx only) never
loads FastAPI, uvicorn or a model.
"""

from importlib import import_module

_LAZY = {
    "create_app": ".app",
    "Engine": ".engine",
    "ServeConfig": ".config",
    "read_config_file": ".config",
    "Client": ".client",
    "ServiceError": ".client",
}

__all__ = ["Client", "Engine", "ServeConfig", "ServiceError", "create_app", "read_config_file"]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'incision.serve' has no attribute {name!r}")

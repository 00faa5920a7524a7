"""`incision serve`: a Monitor behind HTTP (FastAPI + uvicorn), OpenAI-compatible chat included
(docs/serving.md). Needs the `serve` extra."""

from .app import create_app
from .config import ServeConfig, read_config_file
from .engine import Engine

__all__ = ["Engine", "ServeConfig", "create_app", "read_config_file"]

"""Logging that can never leak request text: exceptions are logged by type and stack, not message."""

from __future__ import annotations

import traceback
from pathlib import Path


def where(e: BaseException) -> str:
    """An exception's type and stack, without its message (which may quote a request's text)."""
    frames = traceback.extract_tb(e.__traceback__)[-4:]  # the innermost, where it went wrong
    return f"{type(e).__name__} at " + " <- ".join(
        f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames)
    )

"""Logging that can never leak request text: exceptions are logged by type and stack, not message."""

from __future__ import annotations

import traceback


def where(e: BaseException) -> str:
    """An exception's type and stack, without its message (which may quote a request's text)."""
    frames = traceback.extract_tb(e.__traceback__)
    return f"{type(e).__name__} at " + " <- ".join(f"{f.filename}:{f.lineno} {f.name}" for f in reversed(frames))

"""Where incision keeps converted models and other caches."""

import os
from pathlib import Path


def incision_home() -> Path:
    """`$INCISION_HOME`, or `~/.cache/incision` when unset."""
    return Path(os.environ.get("INCISION_HOME") or Path.home() / ".cache" / "incision")

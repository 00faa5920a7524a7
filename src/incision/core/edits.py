"""One shape for every intervention: an `Edit` is applied to a subject and undone, and reads and writes a config.

    with edit.apply(subject) as edited:     # hooks installed (or weights rewritten) now, undone on exit
        ...                                 # `edited` is the subject to run: the same object
    edit.to_config()                        # {"kind": "steer", "direction": "dirs/pos", "alpha": 4.0}
    edit_from_config(config, subject)       # the same edit again, its artifacts loaded and checked

Steering, directional ablation, keep-means ablation, LEACE erasure, SAE feature clamping, per-site
projection (training-time design) and weight orthogonalisation are the kinds (`steer/edit_kinds.py`). The Monitor,
the forward path, the edit report, the server and training-time design take edits in this one shape. A
zero-argument callable that returns a context manager (`lambda: ablate(subject, v)`) is accepted too, as a
custom edit (`as_edit`), but it has no config.

Configs name artifacts by folder (a direction, an eraser, an SAE), so an edit made from an in-memory
artifact must be given the folder it was saved to before it can be written as a config.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar, Protocol, runtime_checkable

from ..errors import ConfigError


class Applied:
    """An edit in effect on a subject: `remove()` undoes it, and `with` undoes it on exit (on error too).
    Entering yields the subject to run edited."""

    def __init__(self, subject, undo: Callable[[], None], handle: Any = None):
        self.subject, self.handle, self._undo = subject, handle, undo

    def remove(self) -> None:
        undo, self._undo = self._undo, None
        if undo is not None:
            undo()

    def __enter__(self):
        return self.subject

    def __exit__(self, *exc) -> None:
        self.remove()


@runtime_checkable
class Edit(Protocol):
    """An intervention: `apply(subject)` puts it in effect and returns its `Applied` handle."""

    kind: ClassVar[str]

    def apply(self, subject) -> Applied: ...

    def to_config(self) -> dict: ...


KINDS: dict[str, type] = {}


def register(cls: type) -> type:
    """Make an edit class readable from configs under its `kind`."""
    KINDS[cls.kind] = cls
    return cls


def edit_from_config(config: dict, subject=None) -> Edit:
    """The edit a config describes, its artifacts loaded (and checked against `subject` when given).
    A config without `kind` is read the way server configs wrote edits before kinds existed:
    `ablate: true` ablates the direction, an `alpha` steers with it."""
    from ..steer import edit_kinds  # noqa: F401  (registers the kinds)

    if not isinstance(config, dict):
        raise ConfigError(f"an edit config must be a table like {{kind: steer, ...}}, got {config!r}")
    config = dict(config)
    kind = config.pop("kind", None)
    if kind is None:
        kind = "ablate" if config.pop("ablate", False) else "steer" if "alpha" in config else None
    if kind not in KINDS:
        raise ConfigError(f"edit kind {kind!r} is not one of {sorted(KINDS)}")
    return KINDS[kind].from_config(config, subject)


def as_edit(edit) -> Edit:
    """An `Edit` as it is; a zero-argument callable returning a context manager, as a custom edit."""
    if isinstance(edit, Edit):
        return edit
    if callable(edit):
        return CustomEdit(edit)
    raise ConfigError(f"an edit must be an Edit or a callable returning a context manager, got {edit!r}")


class CustomEdit:
    """A context-manager factory as an edit (it has no config)."""

    kind: ClassVar[str] = "custom"

    def __init__(self, factory: Callable[[], contextlib.AbstractContextManager]):
        self.factory = factory

    def apply(self, subject) -> Applied:
        manager = self.factory()
        manager.__enter__()
        return Applied(subject, lambda: manager.__exit__(None, None, None), manager)

    def to_config(self) -> dict:
        raise ConfigError(
            "a custom edit (a callable) has no config; use one of the edit kinds to serialise it"
        )


@contextlib.contextmanager
def applied(subject, edits: Iterable) -> Iterator[None]:
    """Every edit in effect on `subject` inside the block, undone in reverse order on exit."""
    with contextlib.ExitStack() as stack:
        for edit in edits:
            stack.enter_context(as_edit(edit).apply(subject))
        yield

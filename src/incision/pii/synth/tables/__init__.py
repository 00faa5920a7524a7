"""The generator's literal tables (templates, forms, word lists, places), read from the JSON files in this
folder once, on first use.

Each file is a JSON object with an "about" line saying what it holds; leaves are strings (and a form's
`keep`). Lists come back as tuples and objects as read-only mappings, so a table every caller shares cannot
be changed by one of them. A file that is missing, not JSON or not of the shape asked for raises an
InputError that names it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ....errors import InputError

DIR = Path(__file__).parent


def path(name: str) -> Path:
    return DIR / f"{name}.json"


@cache
def table(name: str) -> Mapping[str, Any]:
    """The whole of table `name` (the file `name`.json), parsed and frozen."""
    file = path(name)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError(f"synth table {file} cannot be read ({e.strerror}); reinstall incision") from None
    except ValueError as e:  # not JSON, or not UTF-8
        raise InputError(f"synth table {file} is not valid UTF-8 JSON ({e}); fix the file") from None
    if not isinstance(data, dict) or not isinstance(data.get("about"), str):
        raise InputError(f"synth table {file} must be a JSON object with an 'about' string; fix the file")
    return _freeze(data, file, ())


def _freeze(value: Any, file: Path, at: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v, file, (*at, k)) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v, file, (*at, str(k))) for k, v in enumerate(value))
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise InputError(f"synth table {file} holds {value!r} at {'/'.join(at)}: use strings (or a whole number)")


def get(name: str, *keys: str) -> Any:
    """The value at `keys` in table `name`, e.g. get("forms_en", "train", "contact", "keep")."""
    value = table(name)
    for k, key in enumerate(keys):
        if not isinstance(value, Mapping) or key not in value:
            raise InputError(f"synth table {path(name)} has no {'/'.join(keys[: k + 1])!r}; fix the file")
        value = value[key]
    return value


def _is_strings(value: Any) -> bool:
    return isinstance(value, tuple) and all(isinstance(x, str) for x in value)


@cache
def strings(name: str, *keys: str) -> tuple[str, ...]:
    """The list of strings at `keys` in table `name`, e.g. strings("values_en", "streets")."""
    value = get(name, *keys)
    if not _is_strings(value) or not value:
        raise InputError(f"synth table {path(name)}: {'/'.join(keys)!r} must be a non-empty list of strings")
    return value


@cache
def rows(name: str, *keys: str, width: int) -> tuple[tuple[str, ...], ...]:
    """The rows at `keys` in table `name`, each a list of `width` strings (a city and its state, ...)."""
    value = get(name, *keys)
    if not value or not isinstance(value, tuple) or any(not _is_strings(r) or len(r) != width for r in value):
        raise InputError(
            f"synth table {path(name)}: {'/'.join(keys)!r} must be a list of rows of {width} strings"
        )
    return value


@cache
def lists(name: str, *keys: str) -> Mapping[str, tuple[str, ...]]:
    """The object at `keys` in table `name` whose values are lists of strings (templates by style, ...)."""
    value = get(name, *keys)
    if not isinstance(value, Mapping) or not value:
        raise InputError(
            f"synth table {path(name)}: {'/'.join(keys)!r} must be an object of lists of strings"
        )
    for key in value:
        strings(name, *keys, key)
    return value

"""Build argparse options from a config dataclass, so the CLI and the Python API share one definition."""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing


def add_dataclass_options(parser: argparse.ArgumentParser, cls, skip: tuple[str, ...] = ()) -> None:
    """One option per field of `cls` (but those in `skip`, which the command sets itself)."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        kind, help_text = hints[f.name], f.metadata.get("help", "")
        if kind is bool:
            parser.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=f.default, help=help_text
            )
        elif typing.get_origin(kind) is typing.Literal:
            parser.add_argument(flag, choices=typing.get_args(kind), default=f.default, help=help_text)
        else:
            parser.add_argument(flag, type=_scalar_type(kind), default=f.default, help=help_text)


def dataclass_kwargs(args: argparse.Namespace, cls, skip: tuple[str, ...] = ()) -> dict:
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if f.name not in skip}


def _scalar_type(kind):
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    return kind

"""Checks shared by the config dataclasses (CaptureConfig, ProbeConfig, ...)."""

from __future__ import annotations

import dataclasses
import typing

from .errors import ConfigError


def check_choices(config) -> None:
    """Every `Literal` field of a config dataclass holds one of its choices (a typo fails at once,
    not after an hour of training)."""
    hints = typing.get_type_hints(type(config))
    for f in dataclasses.fields(config):
        choices = typing.get_args(hints[f.name]) if typing.get_origin(hints[f.name]) is typing.Literal else ()
        value = getattr(config, f.name)
        if choices and value not in choices:
            raise ConfigError(f"{f.name} must be one of {list(choices)}, got {value!r}")

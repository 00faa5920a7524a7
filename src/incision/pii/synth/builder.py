"""Templates to texts with exact spans: a text is built piece by piece and each value's offsets are
recorded as it is appended, never found by searching the text afterwards.

Template syntax: `{slot}` is a value (its label comes from the slot), `[a|b|c]` picks one option
(options may hold slots and nested choices; `[a|]` is optional text). Outside a choice `|` and `]`
are plain characters.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

Piece = tuple[str, str | None]  # (text, label); label None is text that is not PII


@dataclass(frozen=True)
class Slot:
    name: str


@dataclass(frozen=True)
class Choice:
    options: tuple[tuple, ...]


Node = str | Slot | Choice


@cache
def parse(template: str) -> tuple[Node, ...]:
    """The nodes of a template; malformed templates fail here, at import of the pool, not mid-run."""
    nodes, at = _parse(template, 0, inside=False)
    if at != len(template):
        raise ValueError(f"template has a stray ']' or '|' at {at}: {template[:60]!r}")
    return nodes


def _parse(t: str, at: int, inside: bool) -> tuple[tuple[Node, ...], int]:
    nodes: list[Node] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            nodes.append("".join(buf))
            buf.clear()

    while at < len(t):
        ch = t[at]
        if ch == "{":
            end = t.index("}", at)
            flush()
            nodes.append(Slot(t[at + 1 : end]))
            at = end + 1
        elif ch == "[":
            flush()
            options = []
            while True:
                option, at = _parse(t, at + 1, inside=True)
                options.append(option)
                if at >= len(t):
                    raise ValueError(f"unclosed '[' in template {t[:60]!r}")
                if t[at] == "]":
                    break
            nodes.append(Choice(tuple(options)))
            at += 1
        elif inside and ch in "|]":
            break
        else:
            buf.append(ch)
            at += 1
    flush()
    return tuple(nodes), at


def slots_of(nodes: tuple[Node, ...]) -> list[str]:
    """Every slot name a template can use, in order, repeats kept."""
    names = []
    for node in nodes:
        if isinstance(node, Slot):
            names.append(node.name)
        elif isinstance(node, Choice):
            for option in node.options:
                names += slots_of(option)
    return names


def expand(
    nodes: tuple[Node, ...], rng: random.Random, resolve: Callable[[str], list[Piece]], out: list[Piece]
) -> list[Piece]:
    for node in nodes:
        if isinstance(node, str):
            out.append((node, None))
        elif isinstance(node, Slot):
            out.extend(resolve(node.name))
        else:
            expand(node.options[rng.randrange(len(node.options))], rng, resolve, out)
    return out


def render(pieces: list[Piece]) -> tuple[str, list[dict]]:
    """The text and its spans; a labelled piece must be non-empty with no surrounding whitespace."""
    parts, spans, at = [], [], 0
    for text, label in pieces:
        if label is not None:
            if not text or text != text.strip():
                raise ValueError(f"a {label} value is empty or has surrounding whitespace: {text!r}")
            spans.append({"start": at, "end": at + len(text), "label": label})
        parts.append(text)
        at += len(text)
    return "".join(parts), spans

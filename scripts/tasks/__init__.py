"""Template and slot tables for scripts/build_tasks.py, one module per task and language
(sentiment_ja keeps its per-domain fillers in sentiment_ja_domains).

Each module defines LABELS, DOMAINS, TRAIN and HELDOUT (lists of Template), SLOTS and TRANSFORMS.
A template's text holds slots: `{name}`, `{name#2}` (a second, different filler from the same list) and
`{name:fn}` (the filler passed through TRANSFORMS[fn]). Fillers may hold slots themselves. A slot `name`
draws from the union of SLOTS["name.<domain>.<label>"], SLOTS["name.<domain>"], SLOTS["name.<label>"] and
SLOTS["name"] (those that exist); the held-out split may also draw from the same keys suffixed ".heldout",
fillers never seen in training. Japanese fillers write register variants as `[casual|polite]`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Template:
    id: str
    text: str
    labels: tuple[str, ...] | None = None  # None: every label of the task
    domains: tuple[str, ...] | None = None  # None: every domain of the table
    register: str | None = None  # Japanese only: "casual" or "polite"


# The first-person words that keep their capital when a sentence is moved mid-sentence.
_KEEP_CAPITAL = {"I", "I'm", "I've", "I'd", "I'll"}


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def lc(text: str) -> str:
    first = text.split(" ", 1)[0]
    if first in _KEEP_CAPITAL or first[1:2].isupper():  # "I", acronyms
        return text
    return text[:1].lower() + text[1:]

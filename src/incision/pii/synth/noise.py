"""Formatting noise, so the probe learns PII and not our punctuation: casing, typos, dropped full stops,
doubled spaces, emoji (tables/noise.json), collapsed line breaks, half- and full-width punctuation.

Noise runs on pieces before offsets are computed, so spans stay exact. Typos and punctuation changes
touch only the text between values; casing touches everything, as a real all-lowercase writer does.
"""

from __future__ import annotations

import random

from .builder import Piece
from .tables import strings


def add_noise(pieces: list[Piece], lang: str, rng: random.Random) -> list[Piece]:
    """A noisy copy of the pieces; each kind of noise is drawn independently."""
    pieces = list(pieces)
    if lang == "en" and rng.random() < 0.12:
        pieces = [(t.lower(), lab) for t, lab in pieces]
    if rng.random() < 0.12:
        pieces = _literals(pieces, lambda t: t.replace("\n\n", "\n"))
    elif rng.random() < 0.06:
        pieces = _literals(pieces, lambda t: t.replace("\n\n", " ").replace("\n", " "))
    if rng.random() < 0.22:
        pieces = _last_literal(pieces, lambda t: t.rstrip(".。!！ ") if t.strip() else t)
    if lang == "en" and rng.random() < 0.12:
        for _ in range(rng.choice([1, 1, 1, 2])):
            pieces = _one_literal(pieces, rng, lambda t: _typo(t, rng))
    if lang == "ja":
        pieces = _ja_punctuation(pieces, rng)
    if rng.random() < 0.08:
        pieces = _one_literal(pieces, rng, lambda t: _double_space(t, rng))
    if rng.random() < (0.1 if lang == "en" else 0.15):
        emoji = rng.choice(strings("noise", "emoji", lang))
        pieces = pieces + [(emoji, None)]
    if rng.random() < 0.04:
        pieces = pieces + [(rng.choice(["\n", " ", "\n\n"]), None)]
    return pieces


def _literals(pieces: list[Piece], fn) -> list[Piece]:
    return [(fn(t), None) if lab is None else (t, lab) for t, lab in pieces]


def _last_literal(pieces: list[Piece], fn) -> list[Piece]:
    """`fn` applied to the text's ending, when the text ends with literal text (not with a value)."""
    if pieces and pieces[-1][1] is None:
        return pieces[:-1] + [(fn(pieces[-1][0]), None)]
    return pieces


def _one_literal(pieces: list[Piece], rng: random.Random, fn) -> list[Piece]:
    """`fn` applied to one literal piece drawn at random (by length, so long prose gets the typos)."""
    options = [k for k, (t, lab) in enumerate(pieces) if lab is None and len(t) > 3]
    if not options:
        return pieces
    k = rng.choices(options, weights=[len(pieces[k][0]) for k in options])[0]
    return pieces[:k] + [(fn(pieces[k][0]), None)] + pieces[k + 1 :]


def _typo(text: str, rng: random.Random) -> str:
    """Swap, drop or double one letter of a word of four or more letters."""
    words = [k for k, w in enumerate(text.split(" ")) if len(w) >= 4 and w.isalpha()]
    if not words:
        return text
    parts = text.split(" ")
    k = rng.choice(words)
    w = parts[k]
    i = rng.randrange(1, len(w) - 1)
    kind = rng.random()
    if kind < 0.4:
        w = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
    elif kind < 0.7:
        w = w[:i] + w[i + 1 :]
    else:
        w = w[:i] + w[i] + w[i:]
    parts[k] = w
    return " ".join(parts)


def _double_space(text: str, rng: random.Random) -> str:
    at = [k for k, ch in enumerate(text) if ch == " "]
    if not at:
        return text
    k = rng.choice(at)
    return text[:k] + " " + text[k:]


def _ja_punctuation(pieces: list[Piece], rng: random.Random) -> list[Piece]:
    """Casual writers drop 。, switch ！？ to half width, or use ． and ，."""
    x = rng.random()
    if x < 0.15:
        pieces = _literals(pieces, lambda t: t.replace("。\n", "\n").replace("。", " ").replace(" \n", "\n"))
    elif x < 0.2:
        pieces = _literals(pieces, lambda t: t.replace("。", "．").replace("、", "，"))
    if rng.random() < 0.15:
        pieces = _literals(pieces, lambda t: t.replace("！", "!").replace("？", "?"))
    if rng.random() < 0.05:
        pieces = _literals(pieces, lambda t: t.replace("、", ""))
    return pieces

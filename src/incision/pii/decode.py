"""Token scores → character spans.

A token is PII when P(not "none") reaches the threshold. Touching PII tokens form one run; so do tokens
of the same likeliest type split only by spaces on one line or by one joiner (a phone number's hyphen,
a name's middle dot), never by a sentence or list separator (". ", " / "). A run's type is the class
with the most probability over its tokens. Byte-level pieces already map to whole characters (see
`incision.core.tokens`), so spans never cut a character. Edges are trimmed of whitespace and punctuation that
no PII value starts or ends with, and a span without a letter or digit is dropped.
"""

from __future__ import annotations

import unicodedata

import numpy as np

from .records import Span

# One of these between two tokens of one type does not end a value ("090-1234", "J.Smith", "山田・花子").
JOINERS = frozenset("-‐‑–—_./・·'’")
LEADING_TRIM = frozenset("\"'“”‘’「『【《〈［[{<,.;:!?、。，．：；！？…-‐‑–—_/・·")
TRAILING_TRIM = frozenset("\"'“”‘’」』】》〉］]}>,.;:!?、。，．：；！？…-‐‑–—_/・·")


def decode_spans(
    text: str,
    starts: list[int],
    ends: list[int],
    proba_TC: np.ndarray,
    label_names: list[str],
    threshold: float,
    seed_threshold: float | None = None,
) -> list[Span]:
    """Spans of one text from its tokens' class probabilities (column 0 is "none").

    Hysteresis: tokens at `threshold` extend a span, but a span is kept only if one of its tokens
    reaches `seed_threshold` (default: the same). A lone, doubtful token ("hello" in a chat log) is
    dropped, while the weak tail of a confident value is kept."""
    proba = np.asarray(proba_TC, dtype=np.float64)
    if proba.shape != (len(starts), len(label_names)) or label_names[0] != "none":
        raise ValueError(
            f"token probabilities {proba.shape} do not match {len(starts)} tokens x {label_names}"
        )
    if len(starts) == 0 or proba.shape[1] < 2:
        return []
    is_pii = 1.0 - proba[:, 0] >= threshold
    kind = proba[:, 1:].argmax(1) + 1
    runs: list[list] = []  # [start, end, token indices]
    for t in np.flatnonzero(is_pii):
        start, end = int(starts[t]), int(ends[t])
        if end <= start:
            continue  # specials cover no text
        same_kind = bool(runs) and kind[t] == kind[runs[-1][2][-1]]
        if runs and _joinable(text, runs[-1][1], start, end, same_kind):
            runs[-1][1] = max(runs[-1][1], end)
            runs[-1][2].append(t)
        else:
            runs.append([start, end, [t]])
    seed = threshold if seed_threshold is None else max(seed_threshold, threshold)
    runs = [run for run in runs if (1.0 - proba[run[2], 0]).max() >= seed]
    spans = [
        _trimmed(text, start, end, label_names[_run_label(proba, tokens)]) for start, end, tokens in runs
    ]
    return [s for s in spans if s is not None]  # runs are disjoint: a token that overlaps joins


def _run_label(proba_TC: np.ndarray, tokens: list[int]) -> int:
    """A run's type is the PII class with the most probability over its tokens: one value whose pieces
    the probe types differently (digits: phone or card?) stays one span."""
    return int(proba_TC[tokens, 1:].sum(0).argmax()) + 1


def _joinable(text: str, end: int, start: int, token_end: int, same_kind: bool) -> bool:
    """Whether the token [start, token_end) continues a run ending at `end`. Always when they share a
    character. Of the same type: across spaces on one line, or across one joiner. Of another type: only
    when touching inside one word-like stretch (digit to digit, letter to letter, or through a joiner);
    a leading space (Gemma's " Smith") is a boundary."""
    if start < end:
        return True
    while end < start < token_end - 1 and text[start].isspace():
        start += 1  # the token's own leading space belongs to the gap
    gap = text[end:start]
    if same_kind:
        return (not gap.strip() and "\n" not in gap) or (len(gap) == 1 and gap in JOINERS)
    if gap:
        return False
    left, right = text[end - 1], text[start]
    return left in JOINERS or right in JOINERS or _script(left) == _script(right) != "other"


def _script(char: str) -> str:
    if char.isdigit():
        return "digit"
    if char.isalpha():
        return "kana" if "\u3040" <= char <= "\u30ff" else "letter"
    return "other"


def _trimmed(text: str, start: int, end: int, label: str) -> Span | None:
    bounds = trim_bounds(text, start, end)
    if bounds is None:
        return None
    start, end = _without_particles(text, *bounds)
    return Span(start, end, label) if any(c.isalnum() for c in text[start:end]) else None


def trim_bounds(text: str, start: int, end: int) -> tuple[int, int] | None:
    """[start, end) without the whitespace, control characters and punctuation no PII value starts or ends
    with, and without a bracket whose partner is outside ("(555) 123-4567" keeps both, "Anna)" loses
    one); None when nothing is left. Every system that is compared (probe, regex, Presidio) is trimmed by this."""
    while True:
        before = start, end
        while start < end and _edge_junk(text[start], LEADING_TRIM):
            start += 1
        while end > start and _edge_junk(text[end - 1], TRAILING_TRIM):
            end -= 1
        if end > start and text[end - 1] in ")）" and not any(c in "(（" for c in text[start:end]):
            end -= 1
        if end > start and text[start] in "(（" and not any(c in ")）" for c in text[start:end]):
            start += 1
        if (start, end) == before:
            return (start, end) if end > start else None


def _edge_junk(char: str, punctuation: frozenset[str]) -> bool:
    """Whitespace, control and format characters (NUL, BEL, zero-width space) or edge punctuation."""
    return char.isspace() or char in punctuation or unicodedata.category(char) in ("Cc", "Cf")


def _without_particles(text: str, start: int, end: int) -> tuple[int, int]:
    """WordPiece vocabularies keep kana runs whole, so one token can cover a number and the particle
    next to it ("１１１１です"). No number ends or starts with hiragana: cut it off where it meets a digit."""
    cut = end
    while cut > start and _hiragana(text[cut - 1]):
        cut -= 1
    if start < cut < end and text[cut - 1].isdigit():
        end = cut
    cut = start
    while cut < end and _hiragana(text[cut]):
        cut += 1
    if start < cut < end and text[cut].isdigit():
        start = cut
    return start, end


def _hiragana(char: str) -> bool:
    return "\u3041" <= char <= "\u309f"

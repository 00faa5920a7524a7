"""Token scores → character spans.

A token is PII when P(not "none") reaches the threshold. Touching PII tokens form one run, and so do
tokens of the same likeliest type split only by whitespace or joiners (a phone number's spaces, a name's
middle dot); a run's type is the class with the most probability over its tokens. Byte-level pieces already map to whole characters (see
`incision.tokens`), so spans never cut a character. Edges are trimmed of whitespace and punctuation that
no PII value starts or ends with.
"""

from __future__ import annotations

import numpy as np

from .records import Span

# Characters that may separate two tokens of one value without ending it.
JOINERS = frozenset(" \u3000-‐‑–—_./・·'’")
LEADING_TRIM = frozenset("\"'“”‘’「『【《〈［[{<,.;:!?、。，．：；！？…")
TRAILING_TRIM = frozenset("\"'“”‘’」』】》〉］]}>,.;:!?、。，．：；！？…")


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
        if runs and _joinable(text, runs[-1][1], start, same_kind=kind[t] == kind[runs[-1][2][-1]]):
            runs[-1][1] = max(runs[-1][1], end)
            runs[-1][2].append(t)
        else:
            runs.append([start, end, [t]])
    seed = threshold if seed_threshold is None else max(seed_threshold, threshold)
    runs = [run for run in runs if (1.0 - proba[run[2], 0]).max() >= seed]
    spans = [
        _trimmed(text, start, end, label_names[_run_label(proba, tokens)]) for start, end, tokens in runs
    ]
    return _without_overlaps([s for s in spans if s is not None])


def _run_label(proba_TC: np.ndarray, tokens: list[int]) -> int:
    """A run's type is the PII class with the most probability over its tokens: one value whose pieces
    the probe types differently (digits: phone or card?) stays one span."""
    return int(proba_TC[tokens, 1:].sum(0).argmax()) + 1


def _joinable(text: str, end: int, start: int, same_kind: bool) -> bool:
    """Whether a token continues a run. Of the same type: when only joiners lie between them. Of another
    type: when it shares a character with the run, or touches it inside one word-like stretch (digits
    to digits, letters to letters, or through a joiner such as a phone number's hyphen)."""
    if start < end:
        return True
    if same_kind:
        return all(c in JOINERS for c in text[end:start])
    if start > end:
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
    while start < end and (text[start].isspace() or text[start] in LEADING_TRIM):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in TRAILING_TRIM):
        end -= 1
    # a bracket is kept only with its partner: "(555) 123-4567" keeps both, "Anna)" loses one
    if end > start and text[end - 1] in ")）" and not any(c in "(（" for c in text[start:end]):
        end -= 1
    if end > start and text[start] in "(（" and not any(c in ")）" for c in text[start:end]):
        start += 1
    start, end = _without_particles(text, start, end)
    return Span(start, end, label) if end > start else None


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


def _without_overlaps(spans: list[Span]) -> list[Span]:
    """Pieces of one character can put two runs on the same characters: the longer run keeps them."""
    result: list[Span] = []
    for span in sorted(spans):
        if result and span.start < result[-1].end:
            last = result[-1]
            if span.end - span.start > last.end - last.start:
                result[-1] = Span(last.start, span.start, last.label) if span.start > last.start else span
                if span.start > last.start:
                    result.append(span)
            elif span.end > last.end:
                result.append(Span(last.end, span.end, span.label))
            continue
        result.append(span)
    return [s for s in result if s.end > s.start]

"""Tokens with character offsets, and windows for texts longer than the model's context.

Every token maps to the span of the original text it covers. Fast tokenizers give that span
directly; a byte-level token that covers part of a multi-byte character maps to that whole
character (so several tokens may share one span). Special tokens the tokenizer adds (BOS, CLS,
SEP) have an empty span at the text boundary they sit on.

The one rule for which tokens carry text: a non-empty character span (`text_mask`). Every consumer
(probes, SAE sources, contrasts, erasers, the Monitor, splicing, the training monitor) uses it, so the
specials a tokenizer adds are left out everywhere unless a caller asks for them (`include_special`).
Empty and whitespace-only texts are refused where texts enter (`inputs.check_text`); a text whose
tokenizer drops every character has no text tokens and is refused by whatever would pool or score it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError


def text_mask(starts, ends) -> np.ndarray:
    """[T] bool: the tokens that carry text, i.e. whose character span is not empty (specials' are)."""
    return np.asarray(ends) > np.asarray(starts)


def store_text_mask(tokens) -> np.ndarray:
    """`text_mask` of a store's token table (its `char_start` and `char_end` columns)."""
    return text_mask(tokens["char_start"].to_numpy(), tokens["char_end"].to_numpy())


@dataclass(frozen=True)
class Encoding:
    """One text, tokenised: ids with their character spans, and how many ids are added specials."""

    ids: list[int]
    starts: list[int]
    ends: list[int]
    n_prefix: int  # leading special tokens (BOS/CLS)
    n_suffix: int  # trailing special tokens (EOS/SEP)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def text_mask(self) -> np.ndarray:
        """[T] bool: `text_mask` of this text's tokens."""
        return text_mask(self.starts, self.ends)


@dataclass(frozen=True)
class Window:
    """A slice of one encoding that fits the model: all of `ids` go in, `ids[keep_from:keep_to]` are stored.

    `first_position` is the absolute token index (in the document) of `ids[keep_from]`; `text[i]` says
    whether `ids[i]` carries text (`text_mask`).
    """

    doc: int
    ids: list[int]
    keep_from: int
    keep_to: int
    first_position: int
    text: tuple[bool, ...]

    @property
    def n_kept(self) -> int:
        return self.keep_to - self.keep_from


def clean_text(text: str) -> str:
    """`text` with each lone surrogate (from broken JSON escapes) replaced by U+FFFD, one for one, so
    every offset still points at the same character and the text can be encoded."""
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text


def encode(tokenizer, text: str) -> Encoding:
    """Tokenise `text` with the tokenizer's own special tokens and exact character offsets."""
    if not getattr(tokenizer, "is_fast", False):
        raise InputError(
            f"tokenizer {type(tokenizer).__name__} gives no character offsets; load the model with a fast tokenizer"
        )
    enc = tokenizer(
        text, add_special_tokens=True, return_offsets_mapping=True, truncation=False, verbose=False
    )
    ids = list(enc["input_ids"])
    specials = set(tokenizer.all_special_ids)
    special_mask = [i in specials and s == e for i, (s, e) in zip(ids, enc["offset_mapping"], strict=True)]
    n_prefix = next((k for k, m in enumerate(special_mask) if not m), len(ids))
    n_suffix = (
        next((k for k, m in enumerate(reversed(special_mask)) if not m), 0) if n_prefix < len(ids) else 0
    )
    starts, ends = [], []
    for k, (s, e) in enumerate(enc["offset_mapping"]):
        if special_mask[k]:
            s = e = 0 if k < n_prefix else len(text)
        starts.append(s)
        ends.append(e)
    return Encoding(ids=ids, starts=starts, ends=ends, n_prefix=n_prefix, n_suffix=n_suffix)


def plan_windows(doc: int, enc: Encoding, max_tokens: int, overlap: int | None = None) -> list[Window]:
    """Split an encoding into windows of at most `max_tokens` so each token is stored exactly once.

    Each window repeats the encoding's special prefix and suffix. Its body ends where the tokens it
    stores end and reaches as far left as fits, so every stored token sees at least `overlap`
    tokens of left context (default: half a window) unless it is near the start of the text.
    """
    prefix, suffix = enc.ids[: enc.n_prefix], enc.ids[len(enc) - enc.n_suffix :]
    body = enc.ids[enc.n_prefix : len(enc) - enc.n_suffix]
    mask = tuple(enc.text_mask.tolist())
    if len(enc) <= max_tokens:
        return [Window(doc, list(enc.ids), 0, len(enc), 0, mask)]
    capacity = max_tokens - len(prefix) - len(suffix)
    overlap = capacity // 2 if overlap is None else overlap
    if capacity < 2 or not 0 <= overlap < capacity:
        raise InputError(
            f"window overlap {overlap} does not fit a window of {max_tokens} tokens "
            f"({len(prefix) + len(suffix)} of them special); use an overlap below {max(capacity, 1)}"
        )
    windows = []
    own_start, own_end = 0, capacity
    while own_start < len(body):
        own_end = min(own_end, len(body))
        left = max(0, own_end - capacity)
        first, last = own_start == 0, own_end == len(body)
        ids = prefix + body[left:own_end] + suffix
        body_mask = mask[enc.n_prefix + left : enc.n_prefix + own_end]
        window_mask = (False,) * len(prefix) + body_mask + (False,) * len(suffix)
        keep_from = 0 if first else len(prefix) + own_start - left
        keep_to = len(ids) if last else len(ids) - len(suffix)
        first_position = 0 if first else enc.n_prefix + own_start
        windows.append(Window(doc, ids, keep_from, keep_to, first_position, window_mask))
        own_start, own_end = own_end, own_end + capacity - overlap
    return windows


def truncated_window(doc: int, enc: Encoding, max_tokens: int) -> Window:
    """The first `max_tokens` tokens of an encoding as one window, all of them kept (a fixed budget per
    text, as loss evaluations use)."""
    ids = list(enc.ids[:max_tokens])
    return Window(doc, ids, 0, len(ids), 0, tuple(enc.text_mask[:max_tokens].tolist()))

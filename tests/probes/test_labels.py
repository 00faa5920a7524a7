"""Token labels from character spans, checked character by character on real tokenizers."""

from __future__ import annotations

import numpy as np
import pytest

from incision import InputError
from incision.core.tokens import encode
from incision.probes.labels import BACKGROUND, encode_labels, token_labels_from_spans

TEXT = "Dear 田中 さん, call Anna Müller at +81 90-1234-5678 😀 or anna.m@example.jp; 〒150-0002 東京都渋谷区渋谷2-21-1."
SPANS = [
    ("田中", "PERSON"),
    ("Anna Müller", "PERSON"),
    ("+81 90-1234-5678", "PHONE"),
    ("anna.m@example.jp", "EMAIL"),
    ("〒150-0002 東京都渋谷区渋谷2-21-1", "ADDRESS"),
]
NAMES = [BACKGROUND, "ADDRESS", "EMAIL", "PERSON", "PHONE"]


def spans_of(text: str) -> list[dict]:
    return [{"start": text.index(s), "end": text.index(s) + len(s), "label": lab} for s, lab in SPANS]


def char_labels(text: str, spans: list[dict]) -> list[str]:
    """The oracle: the label of every character."""
    labels = [BACKGROUND] * len(text)
    for span in spans:
        labels[span["start"] : span["end"]] = [span["label"]] * (span["end"] - span["start"])
    return labels


def check_tokens(tokenizer) -> None:
    spans = spans_of(TEXT)
    enc = encode(tokenizer, TEXT)
    index = {n: k for k, n in enumerate(NAMES)}
    got = token_labels_from_spans(np.array(enc.starts), np.array(enc.ends), spans, index, len(TEXT), "doc 0")
    per_char = char_labels(TEXT, spans)
    for k, (start, end) in enumerate(zip(enc.starts, enc.ends, strict=True)):
        covered = {per_char[c] for c in range(start, end) if not TEXT[c].isspace()}
        if start == end:  # the specials a tokenizer adds cover nothing
            assert NAMES[got[k]] == BACKGROUND
            continue
        if not covered:  # pure whitespace: either side's label will do
            continue
        # a token inside one span gets its label; one straddling a boundary gets one of the labels it covers
        assert NAMES[got[k]] in covered, (TEXT[start:end], NAMES[got[k]], covered)
    for span in spans:  # every span is found by the tokens inside it
        inside = [k for k in range(len(enc)) if enc.starts[k] >= span["start"] and enc.ends[k] <= span["end"]]
        assert inside and all(NAMES[got[k]] == span["label"] for k in inside)
    # byte-level pieces of one character share its span, so they share its label
    by_span: dict[tuple[int, int], set[int]] = {}
    for k in range(len(enc)):
        by_span.setdefault((enc.starts[k], enc.ends[k]), set()).add(int(got[k]))
    assert all(len(labels) == 1 for labels in by_span.values())


@pytest.mark.embedded
def test_span_labels_on_byte_level_tokens(smollm2_tokenizer):
    enc = encode(smollm2_tokenizer, TEXT)
    # the emoji and CJK characters really are split into several byte-level pieces here
    assert len(set(zip(enc.starts, enc.ends, strict=True))) < len(enc)
    check_tokens(smollm2_tokenizer)


@pytest.mark.embedded
def test_span_labels_on_sentencepiece_tokens(gemma_tokenizer):
    check_tokens(gemma_tokenizer)


def test_span_labels_on_the_test_tokenizer():
    from ..conftest import make_tokenizer

    check_tokens(make_tokenizer("bos"))


def test_overlap_decides_between_spans():
    starts, ends = np.array([0, 3, 6]), np.array([3, 6, 9])
    spans = [{"start": 0, "end": 4, "label": "A"}, {"start": 4, "end": 9, "label": "B"}]
    got = token_labels_from_spans(starts, ends, spans, {BACKGROUND: 0, "A": 1, "B": 2}, 9, "doc 0")
    assert got.tolist() == [1, 2, 2]  # token 1 covers 1 character of A and 2 of B


@pytest.mark.parametrize(
    "span,message",
    [
        ({"start": 3, "end": 2, "label": "A"}, "runs from 3 to 2"),
        ({"start": 0, "end": 99, "label": "A"}, "outside the text's 9 characters"),
        ({"start": "0", "end": 2, "label": "A"}, "non-integer offsets"),
        ({"start": 0, "end": 2}, "start, end and label"),
        ({"start": 0, "end": 2, "label": ""}, "non-empty strings"),
    ],
)
def test_bad_spans(span, message):
    with pytest.raises(InputError, match=f"doc 4, span 0.*{message}"):
        token_labels_from_spans(np.array([0]), np.array([9]), [span], {BACKGROUND: 0, "A": 1}, 9, "doc 4")


def test_encode_labels():
    y, names = encode_labels(["harmful", "benign", "harmful"], "label")
    assert names == ["benign", "harmful"] and y.tolist() == [1, 0, 1]
    y, names = encode_labels([True, False], "label")
    assert names == ["false", "true"] and y.tolist() == [1, 0]
    with pytest.raises(InputError, match="missing for 1 of 3 examples \\(first: example 1\\)"):
        encode_labels(["a", None, "b"], "label")
    with pytest.raises(InputError, match="of one kind, got \\['int', 'str'\\]"):
        encode_labels(["a", 1], "label")
    with pytest.raises(InputError, match="got \\['list'\\]"):
        encode_labels([["a"], ["b"]], "label")
    with pytest.raises(InputError, match="'maybe', which is not one of"):
        encode_labels(["maybe"], "label", ["benign", "harmful"])

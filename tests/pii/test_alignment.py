"""Spans → token labels → spans is exact on the real tokenizers, for the texts that break alignment."""

from __future__ import annotations

import numpy as np
import pytest

from incision.core.tokens import encode
from incision.pii.decode import decode_spans
from incision.pii.records import PII_LABELS, Span
from incision.probes.labels import BACKGROUND, token_labels_from_spans

NAMES = [BACKGROUND, *PII_LABELS]
CASES = [
    ("お電話は０９０－１２３４－５６７８まで", [("０９０－１２３４－５６７８", "PHONE")]),
    ("Call Anna 😀 at 555-0142 ext. 12 🙏", [("Anna", "PERSON"), ("555-0142 ext. 12", "PHONE")]),
    (
        "山田太郎様（ヤマダタロウ）yamada.taro@example.co.jp",
        [("山田太郎", "PERSON"), ("yamada.taro@example.co.jp", "EMAIL")],
    ),
    (
        "〒150-0002 東京都渋谷区渋谷２丁目21−1 ヒカリエ8F",
        [("〒150-0002 東京都渋谷区渋谷２丁目21−1 ヒカリエ8F", "ADDRESS")],
    ),
    (
        "カード番号：４１１１ １１１１ １１１１ １１１１です",
        [("４１１１ １１１１ １１１１ １１１１", "CREDIT_CARD")],
    ),
    (
        "DOB 1990/04/01, IBAN DE89 3704 0044 0532 0130 00.",
        [("1990/04/01", "DATE_OF_BIRTH"), ("DE89 3704 0044 0532 0130 00", "BANK_ACCOUNT")],
    ),
]


def spans_in(text: str, values) -> list[Span]:
    return [Span(text.index(v), text.index(v) + len(v), label) for v, label in values]


def round_trip(tokenizer, text: str, gold: list[Span]) -> list[Span]:
    """Label tokens from the gold spans, make them certain, and decode them back."""
    enc = encode(tokenizer, text)
    index = {name: k for k, name in enumerate(NAMES)}
    labels = token_labels_from_spans(
        np.array(enc.starts), np.array(enc.ends), [s.to_dict() for s in gold], index, len(text), "text"
    )
    proba = np.eye(len(NAMES))[labels]
    return decode_spans(text, enc.starts, enc.ends, proba, NAMES, 0.5, seed_threshold=0.95)


@pytest.mark.embedded
@pytest.mark.parametrize("which", ["gemma_tokenizer", "smollm2_tokenizer", "minilm_tokenizer"])
@pytest.mark.parametrize("text,values", CASES)
def test_alignment_round_trip_is_exact(which, text, values, request):
    tokenizer = request.getfixturevalue(which)
    gold = spans_in(text, values)
    assert round_trip(tokenizer, text, gold) == gold

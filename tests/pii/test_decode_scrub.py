"""Token scores to spans, and scrubbing that changes only PII characters."""

from __future__ import annotations

import importlib
import random
import re

import numpy as np
import pytest

from incision import ConfigError, InputError
from incision.pii.decode import decode_spans
from incision.pii.records import Span
from incision.pii.scrub import scrub

NAMES = ["none", "PERSON", "PHONE"]


def tokens_of(text: str, pieces: list[tuple[str, str | None]]):
    """(starts, ends, proba) for consecutive pieces of `text`, each labelled (None: not PII)."""
    starts, ends, proba, cursor = [], [], [], 0
    for piece, label in pieces:
        start = text.index(piece, cursor)
        starts.append(start)
        ends.append(start + len(piece))
        cursor = start + len(piece)
        row = np.full(3, 0.01)
        row[NAMES.index(label) if label else 0] = 0.98
        proba.append(row)
    return starts, ends, np.array(proba)


def test_adjacent_tokens_of_one_type_merge_across_joiners_only():
    text = "Call Anna Müller on 090-1234 5678, thanks."
    pieces = [
        ("Call", None),
        ("Anna", "PERSON"),
        ("Müller", "PERSON"),
        ("on", None),
        ("090", "PHONE"),
        ("-", "PHONE"),
        ("1234", "PHONE"),
        ("5678", "PHONE"),
        (",", None),
        ("thanks.", None),
    ]
    spans = decode_spans(text, *tokens_of(text, pieces), NAMES, 0.5)
    assert [(text[s.start : s.end], s.label) for s in spans] == [
        ("Anna Müller", "PERSON"),
        ("090-1234 5678", "PHONE"),
    ]


def test_types_and_non_joiners_split_runs():
    text = "Anna:090"
    spans = decode_spans(
        text, *tokens_of(text, [("Anna", "PERSON"), (":", "PERSON"), ("090", "PHONE")]), NAMES, 0.5
    )
    assert [(text[s.start : s.end], s.label) for s in spans] == [("Anna", "PERSON"), ("090", "PHONE")]
    text = "Anna, Ben"  # a comma ends a name
    spans = decode_spans(text, *tokens_of(text, [("Anna", "PERSON"), ("Ben", "PERSON")]), NAMES, 0.5)
    assert [text[s.start : s.end] for s in spans] == ["Anna", "Ben"]


def test_leading_space_tokens_split_types_and_separators_split_values():
    """Gemma's word tokens carry their leading space (" Smith"): a space is a boundary between types,
    and ". " or " / " between two values of one type ends the first."""
    text = "Contact Anna Smith anna@x.com or 090-1234-5678 / 03-1234-5678. Anna. Bob"
    names = ["none", "PERSON", "PHONE", "EMAIL"]
    pieces = [("Contact", None), (" Anna", 1), (" Smith", 1), (" anna", 3), ("@", 3), ("x.com", 3)]
    pieces += [(" or", None), (" 090-1234-5678", 2), (" /", None), (" 03-1234-5678", 2), (".", None)]
    pieces += [(" Anna", 1), (".", None), (" Bob", 1)]
    starts, ends, proba, cursor = [], [], [], 0
    for piece, label in pieces:
        starts.append(text.index(piece, cursor))
        ends.append(starts[-1] + len(piece))
        cursor = ends[-1]
        proba.append(np.eye(4)[label or 0] * 0.97 + 0.0075)
    spans = decode_spans(text, starts, ends, np.array(proba), names, 0.5)
    assert [(text[s.start : s.end], s.label) for s in spans] == [
        ("Anna Smith", "PERSON"),
        ("anna@x.com", "EMAIL"),
        ("090-1234-5678", "PHONE"),
        ("03-1234-5678", "PHONE"),
        ("Anna", "PERSON"),
        ("Bob", "PERSON"),
    ]


def test_control_and_format_characters_are_trimmed_from_edges():
    text = "山田太郎\n\x00\x07\u200b\n次"  # the probe may carry a value's type onto such tokens
    pieces = [("山田太郎", "PERSON"), ("\n", "PERSON"), ("\x00", "PERSON"), ("\x07\u200b", "PERSON")]
    spans = decode_spans(text, *tokens_of(text, pieces), NAMES, 0.5)
    assert [text[s.start : s.end] for s in spans] == ["山田太郎"]


def test_a_line_break_ends_a_value_and_punctuation_alone_is_no_span():
    text = "Anna\nBob ・ -"
    pieces = [("Anna", "PERSON"), ("Bob", "PERSON"), ("・", "PERSON"), ("-", "PHONE")]
    spans = decode_spans(text, *tokens_of(text, pieces), NAMES, 0.5)
    assert [text[s.start : s.end] for s in spans] == ["Anna", "Bob"]


def test_edges_are_trimmed_but_paired_brackets_kept():
    text = "「田中」 (555) 123-4567."
    starts, ends, proba = tokens_of(
        text, [("「田中」", "PERSON"), ("(555)", "PHONE"), ("123-4567.", "PHONE")]
    )
    spans = decode_spans(text, starts, ends, proba, NAMES, 0.5)
    assert [text[s.start : s.end] for s in spans] == ["田中", "(555) 123-4567"]


def test_byte_pieces_of_one_character_share_it():
    text = "山田😀"
    # two byte-level pieces of 😀 map to the same character span; 山田 is two tokens
    starts, ends = [0, 1, 2, 2], [1, 2, 3, 3]
    proba = np.array([[0.01, 0.98, 0.01]] * 2 + [[0.98, 0.01, 0.01]] * 2)
    assert decode_spans(text, starts, ends, proba, NAMES, 0.5) == [Span(0, 2, "PERSON")]


def test_threshold_is_on_the_probability_of_any_pii():
    text = "Anna"
    proba = np.array([[0.55, 0.25, 0.20]])  # no PII class beats "none", yet P(PII) = 0.45
    assert decode_spans(text, [0], [4], proba, NAMES, 0.5) == []
    assert decode_spans(text, [0], [4], proba, NAMES, 0.44) == [Span(0, 4, "PERSON")]


@pytest.mark.parametrize("style", ["label", "mask", "hash", "fake"])
def test_scrubbing_changes_only_pii_characters(style):
    """The oracle: the text between spans must come out exactly, in order, around the replacements."""
    rng = random.Random(0)
    alphabet = "abc 山田タロウ０９０-@.😀\n\t"
    for _ in range(100):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60)))
        cuts = sorted(rng.sample(range(len(text) + 1), k=min(len(text) + 1, 2 * rng.randint(0, 3))))
        spans = [
            Span(a, b, rng.choice(["PERSON", "PHONE", "EMAIL"]))
            for a, b in zip(cuts[::2], cuts[1::2], strict=False)
        ]
        kept = [
            text[a:b]
            for a, b in zip([0] + [s.end for s in spans], [s.start for s in spans] + [len(text)], strict=True)
        ]
        pattern = "(.*?)".join(re.escape(k) for k in kept)
        match = re.fullmatch(pattern, scrub(text, spans, style, salt="s"), flags=re.DOTALL)
        assert match is not None, (text, spans)
        for span, replacement in zip(spans, match.groups(), strict=True):
            value = text[span.start : span.end]
            assert replacement != value
            if style == "mask":
                assert replacement == "*" * len(value)


def test_styles():
    text = "Mail anna@example.com or ANNA@example.com now"
    spans = [Span(5, 21, "EMAIL"), Span(25, 41, "EMAIL")]
    assert scrub(text, spans, "label") == "Mail [EMAIL] or [EMAIL] now"
    assert scrub(text, spans, "mask") == "Mail " + "*" * 16 + " or " + "*" * 16 + " now"
    hashed = scrub(text, spans, "hash", salt="k1")
    assert hashed == scrub(text, spans, "hash", salt="k1") != scrub(text, spans, "hash", salt="k2")
    assert hashed.split()[1] == hashed.split()[3]  # one tag per value, whatever its case
    phones = "090-1234-5678 ０９０１２３４５６７８"  # and whatever its width and separators
    tags = scrub(phones, [Span(0, 13, "PHONE"), Span(14, 25, "PHONE")], "hash", salt="k1").split()
    assert tags[0] == tags[1]
    faked = scrub(text, spans, "fake", salt="k1")
    assert faked == scrub(text, spans, "fake", salt="k1") and "anna@example.com" not in faked and "@" in faked
    assert faked.startswith("Mail ") and faked.endswith(" now")
    with pytest.raises(ConfigError, match="style must be one of"):
        scrub(text, spans, "blur")
    with pytest.raises(ConfigError, match="'hash' needs a secret salt"):
        scrub(text, spans, "hash")
    with pytest.raises(InputError, match="overlaps"):
        scrub(text, [Span(0, 10, "EMAIL"), Span(5, 12, "EMAIL")])
    with pytest.raises(InputError, match=r"\[5, 3\) is empty"):
        scrub(text, [Span(5, 3, "EMAIL")])


def test_fakes_follow_the_message_language_and_never_return_the_value(monkeypatch):
    text = "お電話は090-1234-5678まで"
    faked = scrub(text, [Span(4, 17, "PHONE")], "fake", salt="k")
    assert faked.startswith("お電話は") and faked.endswith("まで") and faked[4] == "0"  # a Japanese number
    calls = []

    def echo_first(label, japanese, seed):  # faker's pools hold real names: the first draw is the value
        calls.append(seed)
        return "山田 太郎" if len(calls) == 1 else "佐藤 花子"

    monkeypatch.setattr(importlib.import_module("incision.pii.scrub"), "fake_value", echo_first)
    assert scrub("山田 太郎様", [Span(0, 5, "PERSON")], "fake", salt="k") == "佐藤 花子様"


def test_a_value_typed_differently_piece_by_piece_stays_one_span():
    text = "4111-1111"
    starts, ends = [0, 4, 5], [4, 5, 9]
    proba = np.array([[0.05, 0.15, 0.80], [0.05, 0.60, 0.35], [0.05, 0.15, 0.80]])  # middle piece: PERSON?
    assert decode_spans(text, starts, ends, proba, NAMES, 0.5) == [Span(0, 9, "PHONE")]


def test_hysteresis_keeps_confident_spans_and_their_weak_tails():
    text = "hello, Anna Lee"
    starts, ends = [0, 7, 12], [5, 11, 15]
    proba = np.array([[0.6, 0.4, 0.0], [0.02, 0.98, 0.0], [0.7, 0.3, 0.0]])  # P(PII): 0.4, 0.98, 0.3
    assert len(decode_spans(text, starts, ends, proba, NAMES, 0.25)) == 2
    found = decode_spans(text, starts, ends, proba, NAMES, 0.25, seed_threshold=0.95)
    assert found == [Span(7, 15, "PERSON")]  # "hello" alone never reaches the seed; "Lee" rides on "Anna"
    alone = decode_spans("hello", [0], [5], proba[:1], NAMES, 0.25, seed_threshold=0.95)
    assert alone == [] and decode_spans("hello", [0], [5], proba[:1], NAMES, 0.25) == [Span(0, 5, "PERSON")]

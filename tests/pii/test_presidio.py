"""incision.pii.presidio: the adapter's own logic always; Presidio itself when the extra is installed."""

from __future__ import annotations

import importlib.util

import pytest

from incision import ConfigError, InputError
from incision.pii import presidio as P
from incision.pii.records import PII_LABELS, Span

skip_without_presidio = pytest.mark.skipif(
    not P.available(), reason="the presidio extra is not installed: pip install 'incision[presidio]'"
)


def test_entity_map_targets_our_labels():
    assert set(P.ENTITY_MAP.values()) <= set(PII_LABELS)
    assert P.ENTITY_MAP["LOCATION"] == "ADDRESS" and "DATE_TIME" not in P.ENTITY_MAP


def test_overlaps_merge_within_a_label_then_the_best_score_wins():
    text = "call 090-1234-5678 now, Tokyo"
    scored = [
        (0.4, 5, 18, "PHONE"),  # the whole number, low score
        (0.85, 9, 18, "PHONE"),  # a piece of it, higher score: merged into one span
        (0.5, 5, 10, "GOV_ID"),  # overlaps the phone with a lower score: dropped
        (0.85, 23, 29, "ADDRESS"),  # " Tokyo": trimmed
    ]
    assert P._non_overlapping(text, scored) == [Span(5, 18, "PHONE"), Span(24, 29, "ADDRESS")]
    assert P._non_overlapping("   ", [(0.9, 0, 3, "PERSON")]) == []


def test_spans_are_trimmed_like_the_detectors():
    text = "Anna), call (555) 123-4567."
    scored = [(0.9, 0, 6, "PERSON"), (0.7, 11, 27, "PHONE")]  # "Anna)," and " (555) 123-4567."
    assert P._non_overlapping(text, scored) == [Span(0, 4, "PERSON"), Span(12, 26, "PHONE")]
    assert P._non_overlapping("a .,; b", [(0.9, 1, 5, "PERSON")]) == []


def test_chunks_cover_the_text_and_cut_at_line_ends(monkeypatch):
    monkeypatch.setattr(P, "_CHUNK", 10)
    text = "aaaa\nbbbbbbbbbbbbbbbbbbbbbb\ncc。dd"
    chunks = P._chunks(text)
    assert "".join(piece for _, piece in chunks) == text
    assert [offset for offset, _ in chunks] == [0, 5, 15, 25]
    assert all(len(piece) <= 10 for _, piece in chunks)
    assert P._chunks("") == []


def test_chunks_prefer_a_line_break_to_a_later_space():
    text = "Intro line.\n" + "x" * 4970 + " call me: 555 123 4567 thanks"
    chunks = P._chunks(text)
    assert "".join(piece for _, piece in chunks) == text
    assert chunks[0] == (0, "Intro line.\n")  # not cut at the space inside the phone number
    assert any("555 123 4567" in piece for _, piece in chunks)
    text = "One. " + "y" * 4990 + " 555 123 4567"  # no line break: after the sentence end
    assert P._chunks(text)[0] == (0, "One. ")
    text = "z" * 4990 + " 5551234567 more"  # only spaces: the last one in the window
    assert P._chunks(text) == [(0, "z" * 4990 + " "), (4991, "5551234567 more")]


def test_unavailable_presidio_is_reported_not_imported(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "ja_ginza" else real(name))
    assert P.available(["ja"]) is False
    with pytest.raises(ConfigError, match="incision\\[presidio\\]"):
        P.PresidioBaseline(langs=["ja"])
    with pytest.raises(ConfigError, match="'fr'"):
        P.PresidioBaseline(langs=["fr"])


@pytest.fixture(scope="module")
def presidio():
    return P.PresidioBaseline()


def found(pb, text: str, lang: str) -> set[tuple[str, str]]:
    return {(text[s.start : s.end], s.label) for s in pb.find(text, lang)}


@pytest.mark.presidio
@skip_without_presidio
def test_english_email_phone_person(presidio):
    text = "Please contact John Smith at john.smith@example.com or (555) 123-4567."
    got = found(presidio, text, "en")
    assert {("John Smith", "PERSON"), ("john.smith@example.com", "EMAIL"), ("(555) 123-4567", "PHONE")} <= got


@pytest.mark.presidio
@skip_without_presidio
def test_japanese_person_and_phone(presidio):
    text = "山田太郎様の電話番号は090-1234-5678です。"
    got = found(presidio, text, "ja")
    assert ("山田太郎", "PERSON") in got
    assert any(label == "PHONE" and "1234-5678" in value for value, label in got)


@pytest.mark.presidio
@skip_without_presidio
def test_spans_are_valid_and_dates_dropped_by_default(presidio):
    text = "Order shipped 2024-05-01.\n  Contact:  Mary Jones  "
    spans = presidio.find(text, "en")
    assert spans == sorted(spans)
    for a, b in zip(spans, spans[1:], strict=False):
        assert a.end <= b.start
    for s in spans:
        assert text[s.start : s.end] == text[s.start : s.end].strip() and s.label in PII_LABELS
    assert all(s.label != "DATE_OF_BIRTH" for s in spans)
    assert presidio.find("", "en") == []
    with pytest.raises(InputError, match="'fr'"):
        presidio.find("bonjour", "fr")


@pytest.mark.presidio
@skip_without_presidio
def test_no_network_attempt_and_no_traceback(presidio, capfd):
    import tldextract.tldextract as tx

    assert tx.TLD_EXTRACTOR.suffix_list_urls == ()
    presidio.find("write to someone@example.org or visit https://example.org", "en")
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err

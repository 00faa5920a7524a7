"""The detector end to end on a tiny model (mechanics) and on the real embedded Gemma (quality)."""

from __future__ import annotations

import json

import pytest

from incision import ConfigError, InputError, StoreError
from incision.pii import PII_LABELS, Detector, RegexBaseline, evaluate_spans, synthesize
from incision.pii.train import DetectorConfig, train_detector

from ..conftest import tiny_subject


@pytest.fixture(scope="module")
def tiny_detector(tmp_path_factory):
    subject = tiny_subject("llama")
    records = synthesize(("en", "ja"), 120, seed=0)
    work = tmp_path_factory.mktemp("work")
    detector, report = train_detector(subject, records, work, DetectorConfig(sweep_docs=40))
    return detector


def test_training_records_its_choices(tiny_detector):
    assert tiny_detector.probe.meta["site"] in {"resid.0", "resid.1", "resid.2"}
    assert tiny_detector.labels[0] != "none" and set(tiny_detector.labels) <= set(PII_LABELS)
    point = tiny_detector.meta["operating_point"]
    assert point["threshold"] == tiny_detector.threshold and 0 <= point["char"]["recall"] <= 1


def test_save_and_load_give_the_same_spans(tiny_detector, tmp_path):
    texts = [r["text"] for r in synthesize(("en", "ja"), 10, seed=5, split="shifted")]
    loaded = Detector.load(tiny_detector.save(tmp_path / "d"), subject=tiny_detector.subject)
    assert loaded.find_batch(texts) == tiny_detector.find_batch(texts)
    assert loaded.threshold == tiny_detector.threshold
    with pytest.raises(ConfigError, match="trained on model 'tiny-llama', not 'tiny-gpt2'"):
        Detector.load(tmp_path / "d", subject=tiny_subject("gpt2"))


def test_broken_detector_folders_are_named(tiny_detector, tmp_path):
    tiny_detector.meta["format_version"] = 7  # a user's key in meta cannot shadow the artifact's own
    folder = tiny_detector.save(tmp_path / "d")
    del tiny_detector.meta["format_version"]
    assert Detector.load(folder, subject=tiny_detector.subject).meta["format_version"] == 7
    cfg = json.loads((folder / "detector.json").read_text(encoding="utf-8"))
    del cfg["threshold"]
    (folder / "detector.json").write_text(json.dumps(cfg), encoding="utf-8")
    with pytest.raises(StoreError, match=r"lacks \['threshold'\]"):
        Detector.load(folder, subject=tiny_detector.subject)


def test_spans_lie_inside_their_texts_and_scrubbing_keeps_the_rest(tiny_detector):
    for text in ["", "   ", "山田太郎\x00\x07 call 090-1234-5678\r\n", "😀" * 50]:
        spans = tiny_detector.find(text)
        assert all(0 <= s.start < s.end <= len(text) for s in spans)
        scrubbed = tiny_detector.scrub(text)
        assert (scrubbed == text) == (not spans)


def test_lone_surrogates_keep_offsets(tiny_detector):
    text = "Call Anna \ud800 at 555-0142 \udfff ok"
    spans = tiny_detector.find(text)
    clean = tiny_detector.find(text.replace("\ud800", "\ufffd").replace("\udfff", "\ufffd"))
    assert spans == clean  # replaced one for one, so the offsets point into the original text
    for style in ("label", "hash", "fake"):  # the scrubbed text can be encoded, the rest is untouched
        scrubbed = tiny_detector.scrub(text, style, salt="k")
        scrubbed.encode("utf-8")
        assert "\ufffd" in scrubbed and scrubbed.endswith(" ok")


def test_bad_input(tiny_detector):
    with pytest.raises(InputError, match="text 1 must be a string, got int"):
        tiny_detector.find_batch(["fine", 3])


def test_a_long_text_is_windowed(tiny_detector):
    text = "Order 12345 shipped to Anna at 1-2-3 Shibuya. " * 400  # ~18k characters, many windows
    spans = tiny_detector.find_batch([text], window=64)[0]
    assert all(0 <= s.start < s.end <= len(text) for s in spans)


def test_config_checks():
    with pytest.raises(ConfigError, match="target_recall 1.5"):
        DetectorConfig(target_recall=1.5)
    with pytest.raises(InputError, match="too few to train"):
        train_detector(tiny_subject("llama"), synthesize(("en",), 10, seed=0), "/tmp/unused")


@pytest.fixture(scope="module")
def gemma_detector(gemma_subject, tmp_path_factory):
    """Small, so that it runs in the suite: 600 records, one site."""
    train = synthesize(("en", "ja"), 600, seed=0)
    detector, _ = train_detector(
        gemma_subject, train, tmp_path_factory.mktemp("gemma"), DetectorConfig(sites="resid.6")
    )
    return detector


@pytest.mark.embedded
def test_gemma_detector_beats_the_regex_baseline(gemma_detector):
    test = synthesize(("en", "ja"), 160, seed=1, split="shifted")  # styles never seen in training
    ours = evaluate_spans(test, gemma_detector.find_batch([r["text"] for r in test])).overall
    regex = RegexBaseline()
    baseline = evaluate_spans(test, [regex.find(r["text"]) for r in test]).overall
    assert ours.chars.f1 > baseline.chars.f1, (ours.chars.to_dict(), baseline.chars.to_dict())
    assert ours.chars.recall > 0.85


@pytest.mark.embedded
def test_pii_across_a_window_boundary_is_found_whole(gemma_detector):
    """Windows of 48 tokens: the phone number's tokens fall on both sides of a boundary."""
    from incision.core.tokens import plan_windows

    phone = "090-1234-5678"
    subject = gemma_detector.subject
    for n in range(30, 60):  # filler until a boundary falls inside the number
        text = "Thanks for the quick reply about my order. " * (n // 8) + "ok " * (n % 8)
        text += f"Please call me back on {phone} after six, my name is on the order."
        enc = subject.encode(text)
        first = next(k for k, e in enumerate(enc.ends) if e > text.index(phone))
        last = max(k for k, s in enumerate(enc.starts) if s < text.index(phone) + len(phone))
        kept = {w.first_position for w in plan_windows(0, enc, 48)}
        if any(first < position <= last for position in kept):
            break
    else:
        pytest.fail("no filler length put a window boundary inside the number")
    start, end = text.index(phone), text.index(phone) + len(phone)
    for window in (None, 48):  # whole, and cut by a boundary: one span over the whole number either way
        found = gemma_detector.find_batch([text], window=window)[0]
        touching = [s for s in found if s.start < end and s.end > start]
        assert len(touching) == 1, (window, touching)
        assert touching[0].label == "PHONE" and touching[0].start <= start and touching[0].end >= end

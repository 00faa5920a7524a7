"""The detector end to end on a tiny model (mechanics) and on the real embedded Gemma (quality)."""

from __future__ import annotations

import pytest

from incision import ConfigError, InputError
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


@pytest.mark.embedded
def test_gemma_detector_beats_the_regex_baseline(gemma_subject, tmp_path):
    """Small, so that it runs in the suite: 600 records, one site; judged on the style-shifted split."""
    train = synthesize(("en", "ja"), 600, seed=0)
    test = synthesize(("en", "ja"), 160, seed=1, split="shifted")
    config = DetectorConfig(sites="resid.6")
    detector, _ = train_detector(gemma_subject, train, tmp_path, config)
    ours = evaluate_spans(test, detector.find_batch([r["text"] for r in test])).overall
    regex = RegexBaseline()
    baseline = evaluate_spans(test, [regex.find(r["text"], r["lang"]) for r in test]).overall
    assert ours.chars.f1 > baseline.chars.f1, (ours.chars.to_dict(), baseline.chars.to_dict())
    assert ours.chars.recall > 0.85

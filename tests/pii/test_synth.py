"""The synthetic PII generator: deterministic, spans exact, labels by the issue's conventions, splits
apart."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter

import pytest
from faker import Faker

from incision.errors import ConfigError
from incision.pii.records import PII_LABELS, read_records
from incision.pii.synth import SynthConfig, synthesize, templates, write_synth
from incision.pii.synth.builder import parse, slots_of
from incision.pii.synth.generate import draw
from incision.pii.synth.near_en import NearEn
from incision.pii.synth.near_ja import NearJa
from incision.pii.synth.slots import known_slot

N = 2000
FULL_WIDTH_DIGIT = re.compile("[０-９]")
KANA_KANJI = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
JA_HONORIFICS = ("様", "さま", "さん", "先生", "殿", "氏", "くん", "ちゃん")
EN_TITLES = ("mr", "mrs", "ms", "miss", "dr", "prof")


@pytest.fixture(scope="module")
def data() -> dict[str, list[dict]]:
    return {split: synthesize(n=N, seed=0, split=split) for split in ("train", "shifted")}


def _digest(records: list[dict]) -> str:
    return hashlib.sha256(json.dumps(records, ensure_ascii=False).encode()).hexdigest()


def _span_texts(record: dict, label: str | None = None) -> list[str]:
    return [record["text"][s["start"] : s["end"]] for s in record["spans"] if label in (None, s["label"])]


def test_deterministic_per_seed_and_different_across_seeds(data):
    assert _digest(synthesize(n=N, seed=0, split="train")) == _digest(data["train"])
    other = synthesize(n=N, seed=1, split="train")
    assert sum(a["text"] == b["text"] for a, b in zip(other, data["train"], strict=True)) < N // 20


def test_same_bytes_in_another_process_with_another_hash_seed(data, tmp_path):
    """No set iteration, no shared `random`, no process state: a fresh interpreter writes the same file."""
    out = tmp_path / "a.jsonl"
    code = "from incision.pii.synth import SynthConfig as C, write_synth as w; w(C('en,ja', 300, 0, 'shifted'), %r)"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code % str(out)], check=True, env=env)
    here = tmp_path / "b.jsonl"
    write_synth(SynthConfig("en,ja", 300, 0, "shifted"), here)
    assert out.read_bytes() == here.read_bytes()


def test_records_do_not_depend_on_other_languages_or_count(data):
    english = synthesize(langs=("en",), n=50, seed=0, split="train")
    assert english == [r for r in data["train"] if r["lang"] == "en"][:50]


def test_spans_are_exactly_the_inserted_values():
    """Spans re-derived from the text equal the labelled pieces the text was joined from, in order."""
    config = SynthConfig(n=N, seed=0)
    fakers = {"en": Faker("en_US"), "ja": Faker("ja_JP")}
    records = synthesize(n=N, seed=0)
    for i, record in enumerate(records):
        _, pieces = draw(record["lang"], i // 2, config, fakers)
        inserted = [(text, label) for text, label in pieces if label is not None]
        assert [
            (t, s["label"]) for t, s in zip(_span_texts(record), record["spans"], strict=True)
        ] == inserted
        assert "".join(text for text, _ in pieces) == record["text"]


def test_spans_are_valid(data):
    for records in data.values():
        for record in records:
            assert set(record) == {"id", "lang", "text", "spans", "style", "template"}
            assert record["text"].strip()
            previous_end = 0
            for span, value in zip(record["spans"], _span_texts(record), strict=True):
                assert span["label"] in PII_LABELS
                assert value and value == value.strip(), (record["id"], value)
                assert span["start"] >= previous_end  # sorted, never overlapping
                previous_end = span["end"]
    ids = [r["id"] for records in data.values() for r in records]
    assert len(set(ids)) == len(ids)


def test_languages_split_evenly_and_every_label_in_both(data):
    for split, records in data.items():
        assert Counter(r["lang"] for r in records) == {"en": N // 2, "ja": N // 2}
        seen = {(r["lang"], s["label"]) for r in records for s in r["spans"]}
        missing = [
            (lang, label) for lang in ("en", "ja") for label in PII_LABELS if (lang, label) not in seen
        ]
        assert not missing, (split, missing)


def test_pii_free_share(data):
    for records in data.values():
        for lang in ("en", "ja"):
            texts = [r for r in records if r["lang"] == lang]
            share = sum(not r["spans"] for r in texts) / len(texts)
            assert 0.28 <= share <= 0.45, (lang, share)


def test_train_and_shifted_share_no_style_and_no_template(data):
    by_split = {split: [t for t in templates() if t.split == split] for split in ("train", "shifted")}
    styles = {split: {(t.lang, t.style) for t in ts} for split, ts in by_split.items()}
    assert not styles["train"] & styles["shifted"]
    bodies = {split: {repr(t.body) for t in ts} for split, ts in by_split.items()}
    assert not bodies["train"] & bodies["shifted"]
    for split, records in data.items():
        allowed = {t.id for t in by_split[split]}
        assert {r["template"] for r in records} <= allowed
        assert {(r["lang"], r["style"]) for r in records} <= styles[split]


def test_enough_templates_and_every_slot_known():
    for lang in ("en", "ja"):
        assert sum(t.lang == lang for t in templates()) >= 150
    for t in templates():
        bodies = [t.body] if isinstance(t.body, str) else [f.split("=", 1)[1] for f in t.body.fields]
        for name in (s for body in bodies for s in slots_of(parse(body))):
            assert known_slot(t.lang, name), (t.id, name)


def test_japanese_has_full_width_digits_and_mixed_scripts(data):
    ja = [r for records in data.values() for r in records if r["lang"] == "ja"]
    assert sum(bool(FULL_WIDTH_DIGIT.search(r["text"])) for r in ja) > len(ja) * 0.03
    romaji_names = [v for r in ja for v in _span_texts(r, "PERSON") if v.isascii()]
    kana_names = [v for r in ja for v in _span_texts(r, "PERSON") if re.fullmatch(r"[\u30a0-\u30ff\s・]+", v)]
    assert len(romaji_names) > 20 and len(kana_names) > 20
    assert any(
        KANA_KANJI.search(v) for r in data["train"] if r["lang"] == "en" for v in _span_texts(r, "ADDRESS")
    )


def test_no_honorific_or_title_inside_person(data):
    after, before = Counter(), Counter()
    for records in data.values():
        for record in records:
            for s in record["spans"]:
                after[record["text"][s["end"] : s["end"] + 1]] += s["label"] == "PERSON"
                before[record["text"][max(0, s["start"] - 4) : s["start"]]] += s["label"] == "PERSON"
            for value in _span_texts(record, "PERSON"):
                assert not value.endswith(JA_HONORIFICS), value  # 氏家 is a surname, 山田氏 is not a name
                assert value.split()[0].lower().rstrip(".") not in EN_TITLES, value
    assert after["様"] > 10 and after["さ"] > 10 and after["先"] > 0  # honorifics do occur, outside the span
    assert sum(before[t] for t in ("Mr. ", "Ms. ", "Dr. ", "rs. ")) > 5


def test_kinship_words_and_public_figures_are_never_spans(data):
    EN, JA = NearEn.word_lists(), NearJa.word_lists()
    never = set(EN["celeb"] + JA["celeb"] + EN["brand"] + JA["brand"] + EN["kin"])
    for records in data.values():
        for record in records:
            for value in _span_texts(record):
                assert value not in never, value
                assert value not in JA["kin"], value


def _inside(record: dict, at: int, label: str) -> bool:
    return any(s["start"] <= at < s["end"] and s["label"] == label for s in record["spans"])


def test_postal_mark_extension_and_birth_date_conventions(data):
    for records in data.values():
        for record in records:
            for m in re.finditer("〒", record["text"]):  # a 〒 code is always inside its ADDRESS span
                assert _inside(record, m.start(), "ADDRESS"), record["text"]
            for m in re.finditer(
                r"内線|\bext\.? ?\d|\bextension \d", record["text"], re.I
            ):  # extension in PHONE
                assert _inside(record, m.start(), "PHONE"), record["text"]
    dates = [v for r in data["train"] for v in _span_texts(r, "DATE_OF_BIRTH")]
    assert all(re.search(r"\d|[０-９]", v) for v in dates)
    delivery_dates = [r for r in data["train"] if r["template"] in ("en.nearmiss.02", "ja.nearmiss.02")]
    assert delivery_dates and all(s["label"] != "DATE_OF_BIRTH" for r in delivery_dates for s in r["spans"])


def test_near_misses_present_in_pii_free_texts(data):
    free = [r["text"] for r in data["train"] if not r["spans"]]
    assert sum(bool(re.search(r"\d{3,}", t)) for t in free) > len(free) * 0.3  # numbers that are not PII


def test_write_synth_writes_readable_jsonl(tmp_path):
    path = write_synth(SynthConfig(lang="ja", n=40, seed=3, split="train"), tmp_path / "out" / "data.jsonl")
    records = read_records(path)
    assert len(records) == 40 and {r["lang"] for r in records} == {"ja"}
    assert records == synthesize(langs="ja", n=40, seed=3)


@pytest.mark.parametrize(
    "kwargs",
    [{"lang": "en,fr"}, {"lang": ""}, {"lang": "en,en"}, {"split": "test"}, {"n": -1}, {"pii_free": 1.5}],
)
def test_bad_config_is_refused(kwargs):
    with pytest.raises(ConfigError):
        SynthConfig(**kwargs)

"""The bundled tasks: the shipped files are what scripts/build_tasks.py makes, and they hold what the docs promise."""

from __future__ import annotations

import ast
import importlib.util
import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from incision import ConfigError
from incision.datasets import LANGS, SPLITS, TASKS, load_task, task_path

ROOT = Path(__file__).resolve().parents[1]
LABELS = {"harmful": ("harmful", "benign"), "sentiment": ("positive", "negative")}
FIELDS = ("id", "task", "lang", "text", "label", "split", "template")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")  # hiragana, katakana, CJK ideographs


def _build_tasks():
    spec = importlib.util.spec_from_file_location("build_tasks", ROOT / "scripts" / "build_tasks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def build_tasks():
    return _build_tasks()


@pytest.fixture(scope="module", params=TASKS)
def task(request):
    return request.param, load_task(request.param)


def _groups(records, *keys):
    groups = defaultdict(list)
    for r in records:
        groups[tuple(r[k] for k in keys)].append(r)
    return groups


# -- the shipped files are reproducible -------------------------------------------------------


def test_rebuild_gives_the_shipped_files(build_tasks, tmp_path):
    paths = build_tasks.build(tmp_path)
    assert sorted(p.name for p in paths) == sorted(f"{name}.jsonl" for name in TASKS)
    for path in paths:
        assert path.read_bytes() == task_path(path.stem).read_bytes(), (
            f"rerun scripts/build_tasks.py ({path.name})"
        )


def test_docs_table_is_computed_from_the_data(build_tasks):
    records = [r for name in TASKS for r in load_task(name)]
    docs = (ROOT / "docs" / "datasets.md").read_text(encoding="utf-8")
    assert build_tasks.counts_table(records) in docs, (
        "paste `python scripts/build_tasks.py --table` into the docs"
    )


def test_heldout_template_texts_never_appear_in_train(build_tasks):
    for name in TASKS:
        for lang, table in build_tasks.TABLES[name].items():
            train = {t.text for t in table.TRAIN}
            assert train.isdisjoint(t.text for t in table.HELDOUT), (name, lang)


# -- contents ---------------------------------------------------------------------------------


def test_every_record_is_well_formed(task):
    name, records = task
    for r in records:
        assert tuple(r) == FIELDS
        assert r["task"] == name
        assert r["lang"] in LANGS and r["split"] in SPLITS and r["label"] in LABELS[name]
        assert r["template"].startswith(f"{name}-{r['lang']}-")
        assert isinstance(r["text"], str) and r["text"] == r["text"].strip() and len(r["text"]) >= 10
        assert not re.search(r"[{}\[\]|]", r["text"]), r["id"]  # no template markup left over
    for lang, group in _groups(records, "lang").items():
        assert [r["id"] for r in group] == [f"{name}-{lang[0]}-{i:04d}" for i in range(1, len(group) + 1)]


def test_sizes(task):
    _, records = task
    counts = Counter((r["lang"], r["split"]) for r in records)
    for lang in LANGS:
        assert counts[lang, "train"] >= 500  # the issue asks for >= 400 per language
        assert counts[lang, "heldout"] >= 150


def test_labels_are_balanced_within_each_split_and_language(task):
    name, records = task
    for key, group in _groups(records, "lang", "split").items():
        labels = Counter(r["label"] for r in group)
        for label in LABELS[name]:
            assert 0.45 <= labels[label] / len(group) <= 0.55, (key, labels)


def test_no_duplicate_texts(task):
    _, records = task
    texts = [r["text"] for r in records]
    assert len(set(texts)) == len(texts)
    loose = [re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", t).casefold()) for t in texts]
    assert len(set(loose)) == len(loose)  # nor texts that differ only in case or punctuation


def test_train_and_heldout_templates_are_disjoint(task):
    _, records = task
    for lang in LANGS:
        templates = {
            s: {r["template"] for r in records if r["lang"] == lang and r["split"] == s} for s in SPLITS
        }
        assert templates["train"].isdisjoint(templates["heldout"])
        assert len(templates["train"]) >= 25 and len(templates["heldout"]) >= 8


def test_every_template_serves_every_label(task):
    """Phrasing alone must not give the label away."""
    name, records = task
    for template, group in _groups(records, "template").items():
        assert {r["label"] for r in group} == set(LABELS[name]), template


def test_scripts_match_languages(task):
    _, records = task
    for r in records:
        if r["lang"] == "ja":
            assert len(JAPANESE.findall(r["text"])) >= 5, r["id"]
        else:
            assert not JAPANESE.search(r["text"]), r["id"]


# -- loader -----------------------------------------------------------------------------------


def test_load_task_filters():
    everything = load_task("sentiment")
    assert len(everything) == len(task_path("sentiment").read_text(encoding="utf-8").splitlines())
    parts = [load_task("sentiment", split=s, lang=lang) for s in SPLITS for lang in LANGS]
    assert sum(len(p) for p in parts) == len(everything)
    heldout_ja = load_task("sentiment", split="heldout", lang="ja")
    assert heldout_ja and all(r["split"] == "heldout" and r["lang"] == "ja" for r in heldout_ja)
    assert load_task("sentiment", lang="en") == [r for r in everything if r["lang"] == "en"]
    assert load_task("harmful", split="train") == [r for r in load_task("harmful") if r["split"] == "train"]


@pytest.mark.parametrize(
    ("kwargs", "bad", "valid"),
    [
        ({"name": "toxicity"}, "'toxicity'", "harmful, sentiment"),
        ({"name": "harmful", "split": "test"}, "'test'", "train, heldout"),
        ({"name": "harmful", "lang": "fr"}, "'fr'", "en, ja"),
    ],
)
def test_bad_names_raise_config_error(kwargs, bad, valid):
    with pytest.raises(ConfigError) as info:
        load_task(**kwargs)
    assert isinstance(info.value, ValueError)
    assert bad in str(info.value) and valid in str(info.value)


def test_task_path_refuses_unknown_tasks():
    with pytest.raises(ConfigError, match="'nope'"):
        task_path("nope")


def test_loader_imports_only_the_standard_library():
    tree = ast.parse((ROOT / "src" / "incision" / "datasets.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
    assert imported <= {"__future__", "json", "pathlib", ".errors"}, imported

"""The synthetic generator writes the same bytes as the code the fixtures were made with
(scripts/make_synth_fixtures.py, tests/pii/fixtures/synth_v0/), and reads its tables from the package's
JSON files, naming a file that is malformed."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path

import pytest

from incision.errors import InputError
from incision.pii import synth
from incision.pii.synth import tables, templates

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "pii" / "fixtures" / "synth_v0"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text(encoding="utf-8"))


def _script():
    spec = importlib.util.spec_from_file_location(
        "make_synth_fixtures", ROOT / "scripts" / "make_synth_fixtures.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fixtures = _script()


def _versions_note() -> str:
    now = {name: importlib.metadata.version(name) for name in MANIFEST["versions"]}
    if now == MANIFEST["versions"]:
        return "the generator's output changed"
    return (
        f"installed {now} differ from the fixtures' {MANIFEST['versions']}: values may come from their data"
    )


def _first_difference(got: bytes, want: bytes) -> str:
    for k, (a, b) in enumerate(zip(got.splitlines(), want.splitlines(), strict=False)):
        if a != b:
            return f"line {k + 1}:\n got  {a.decode()[:300]}\n want {b.decode()[:300]}"
    return f"{len(got.splitlines())} lines, want {len(want.splitlines())}"


@pytest.mark.parametrize("entry", MANIFEST["small"], ids=[e["file"] for e in MANIFEST["small"]])
def test_small_runs_equal_the_fixtures_byte_for_byte(entry):
    want = (FIXTURES / entry["file"]).read_bytes()
    assert fixtures.sha256(want) == entry["sha256"], f"{entry['file']} was edited; rerun the script"
    got = fixtures.jsonl(fixtures.generate(entry))
    assert got == want, f"{_versions_note()}: {entry['file']} {_first_difference(got, want)}"


@pytest.mark.parametrize("entry", MANIFEST["large"], ids=[e["split"] for e in MANIFEST["large"]])
def test_large_runs_have_the_fixture_sha256(entry):
    got = fixtures.sha256(fixtures.jsonl(fixtures.generate(entry)))
    assert got == entry["sha256"], f"{_versions_note()}: {entry['split']}, {entry['n']} records"


def test_fixture_configs_are_the_scripts():
    """The manifest covers what the script makes today: every pool alone and a few mixed seeds."""
    assert [{k: e[k] for k in ("langs", "n", "seed", "split", "pii_free")} for e in MANIFEST["small"]] == (
        fixtures.small_configs()
    )
    assert {(e["langs"], e["split"], e["pii_free"]) for e in MANIFEST["small"]} >= {
        (lang, split, free) for lang in ("en", "ja") for split in ("train", "shifted") for free in (0.0, 1.0)
    }


# -- the tables are package data ------------------------------------------------------------------------
TABLE_NAMES = {
    "forms_en", "forms_ja", "near_en", "near_ja", "noise", "places", "signatures",
    "templates_en", "templates_ja", "values_en", "values_ja",
}  # fmt: skip
MOST_STRINGS_IN_CODE = 12  # a longer literal list of strings in the synth modules belongs in a table file


def _thaw(value):
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


@pytest.fixture
def fresh_tables(monkeypatch, tmp_path):
    """The loader reading from `tmp_path`, its caches empty before and after."""
    loaders = (tables.table, tables.strings, tables.rows, tables.lists)
    for loader in loaders:
        loader.cache_clear()
    monkeypatch.setattr(tables, "DIR", tmp_path)
    yield tmp_path
    for loader in loaders:
        loader.cache_clear()


def test_tables_are_the_json_files_in_the_package():
    files = {p.stem: p for p in tables.DIR.glob("*.json")}
    assert set(files) == TABLE_NAMES
    for name, file in files.items():
        assert _thaw(tables.table(name)) == json.loads(file.read_text(encoding="utf-8")), name
    bodies = {t.body for t in templates() if isinstance(t.body, str)}
    in_files = {b for lang in ("en", "ja") for split in ("train", "shifted") for style in
                tables.lists(f"templates_{lang}", split).values() for b in style}  # fmt: skip
    assert bodies == in_files
    assert {f for t in templates() if not isinstance(t.body, str) for f in t.body.fields} == {
        f
        for lang in ("en", "ja")
        for split in ("train", "shifted")
        for form in tables.get(f"forms_{lang}", split).values()
        for f in form["fields"]
    }


def test_tables_cannot_be_changed_by_a_caller():
    words = tables.lists("near_en", "words")
    with pytest.raises(TypeError):
        words["kin"] = ("my cat",)  # type: ignore[index]
    assert isinstance(words["kin"], tuple)


def test_no_long_literal_tables_left_in_the_code():
    for file in sorted(Path(synth.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            items = node.values if isinstance(node, ast.Dict) else getattr(node, "elts", [])
            n = sum(isinstance(x, ast.Constant) and isinstance(x.value, str) for x in items)
            assert n <= MOST_STRINGS_IN_CODE, (
                f"{file.name}:{node.lineno} has {n} strings: move them to a table"
            )


def test_pyproject_ships_the_tables():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "pii/synth/tables/*.json" in config["tool"]["setuptools"]["package-data"]["incision"]


@pytest.mark.parametrize(
    "text, match",
    [
        ('{"about": "x", "words": ["a",]}', "is not valid UTF-8 JSON"),
        ('["about"]', "must be a JSON object with an 'about' string"),
        ('{"about": "x", "words": {"kin": ["a", 1.5]}}', "holds 1.5 at words/kin/1"),
    ],
)
def test_a_malformed_table_file_is_named(fresh_tables, text, match):
    (fresh_tables / "broken.json").write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=match) as error:
        tables.table("broken")
    assert str(fresh_tables / "broken.json") in str(error.value)


def test_a_table_of_the_wrong_shape_is_named(fresh_tables):
    file = fresh_tables / "shapes.json"
    file.write_text('{"about": "x", "words": {"kin": "my mom"}, "cities": [["Austin"]]}', encoding="utf-8")
    for read, match in [
        (lambda: tables.lists("shapes", "words"), "'words/kin' must be a non-empty list of strings"),
        (lambda: tables.rows("shapes", "cities", width=2), "'cities' must be a list of rows of 2 strings"),
        (lambda: tables.strings("shapes", "towns"), "has no 'towns'"),
        (lambda: tables.table("missing"), "cannot be read"),
    ]:
        with pytest.raises(InputError, match=match) as error:
            read()
        assert str(fresh_tables) in str(error.value)

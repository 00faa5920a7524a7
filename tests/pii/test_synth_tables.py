"""The synthetic generator writes the same bytes as the code the fixtures were made with
(scripts/make_synth_fixtures.py, tests/pii/fixtures/synth_v0/)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
from pathlib import Path

import pytest

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

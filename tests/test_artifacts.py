"""incision.artifacts: atomic folders, pickle refusal, format versions, provenance; every kind's folders
round-trip, and folders written before the module (tests/fixtures/artifacts_v0) load to the same tensors."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from incision import artifacts
from incision.artifacts import Provenance, atomic_folder, check_provenance, save_folder
from incision.errors import ConfigError, SiteError, StoreError
from incision.probes import LinearProbe
from incision.sae import load as load_sae
from incision.sae import save as save_sae
from incision.steer.direction import Direction
from incision.steer.leace import LeaceEraser

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "artifacts_v0"


def _fixture_script():
    spec = importlib.util.spec_from_file_location(
        "make_artifact_fixtures", ROOT / "scripts/make_artifact_fixtures.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FIX = _fixture_script()
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))


class Subject(SimpleNamespace):
    """The duck type: a name, a config hash, a width and sites (router.* sites have their own width)."""

    def __init__(self, name="tiny-llama", config_sha256=FIX.SHA, d_model=FIX.D, sites=("resid.0", "resid.1")):
        super().__init__(name=name, config_sha256=config_sha256, d_model=d_model, sites=sites)

    def resolve(self, site):
        if site not in self.sites and not site.startswith("router."):
            raise SiteError(f"unknown site {site!r}; this model has: {', '.join(self.sites)}")
        return SimpleNamespace(name=site, width=4 if site.startswith("router.") else None)


# -- folders written before this module --------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(FIX.LOADERS))
def test_folders_written_by_the_older_code_load_to_the_same_tensors(kind):
    rel, load = FIX.LOADERS[kind]
    assert FIX.describe(kind, load(FIXTURES / rel)) == EXPECTED[kind]


@pytest.mark.parametrize("kind", ["probe", "direction", "eraser", "detector", "sae_incision", "checkpoint"])
def test_every_kind_round_trips_through_the_new_writer(kind, tmp_path):
    rel, load = FIX.LOADERS[kind]
    loaded = load(FIXTURES / rel)
    if kind == "checkpoint":
        rel = FIX.CHECKPOINT
        FIX.save_checkpoint(tmp_path / "checkpoint", loaded[0], loaded[1], 3, 12, loaded[2].train)
    elif kind == "sae_incision":
        save_sae(loaded, tmp_path / rel)
    else:
        loaded.save(tmp_path / rel)
    cfg = next((tmp_path / rel).glob("*.json"))
    assert json.loads(cfg.read_text(encoding="utf-8"))["format_version"] >= 1
    assert FIX.describe(kind, load(tmp_path / rel)) == EXPECTED[kind]


def test_new_folders_carry_a_provenance_block(tmp_path):
    probe = FIX.LOADERS["probe"][1](FIXTURES / "probe")
    cfg = json.loads((probe.save(tmp_path / "p") / "cfg.json").read_text())
    assert cfg["format_version"] == 2
    assert cfg["provenance"] == {
        "model": "tiny-llama",
        "config_sha256": FIX.SHA,
        "site": "resid.1",
        "width": 8,
    }
    sae = load_sae(FIXTURES / "sae_saelens")  # a SAELens hook name is not an incision site
    cfg = json.loads((save_sae(sae, tmp_path / "s") / "cfg.json").read_text())
    assert cfg["provenance"] == {"model": "gpt2", "config_sha256": None, "site": None, "width": 8}


# -- atomic writes -----------------------------------------------------------------------------------
def test_an_interrupted_write_leaves_the_previous_folder_intact(tmp_path, monkeypatch):
    eraser = LeaceEraser.load(FIXTURES / "eraser")
    folder = eraser.save(tmp_path / "eraser")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def fail(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(artifacts, "write_json", fail)  # the tensors are written, then it fails
    with pytest.raises(OSError, match="No space left"):
        LeaceEraser(eraser.mean_D * 2, eraser.proj_left_DK, eraser.proj_right_DK).save(folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eraser"]  # no temporary folder left behind
    assert torch.equal(LeaceEraser.load(folder).mean_D, eraser.mean_D)


def test_an_exception_inside_the_block_discards_the_new_folder(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "cfg.json").write_text("{}")
    with pytest.raises(KeyboardInterrupt), atomic_folder(tmp_path / "a") as tmp:
        (tmp / "cfg.json").write_text('{"new": 1}')
        raise KeyboardInterrupt
    assert (tmp_path / "a" / "cfg.json").read_text() == "{}"
    assert [p.name for p in tmp_path.iterdir()] == ["a"]


def test_saving_over_a_folder_replaces_the_artifact_and_keeps_other_entries(tmp_path):
    run = tmp_path / "run"  # a training run: the SAE is saved next to its metrics and checkpoints
    (run / "checkpoints" / "step_00000001").mkdir(parents=True)
    (run / "metrics.jsonl").write_text("{}\n")
    save_folder(run, {"format_version": 1, "n": 1}, {"w": torch.ones(3)}, "w.safetensors")
    save_folder(run, {"format_version": 1, "n": 2}, {"w": torch.zeros(3)}, "w.safetensors")
    assert sorted(p.name for p in run.iterdir()) == [
        "cfg.json",
        "checkpoints",
        "metrics.jsonl",
        "w.safetensors",
    ]
    assert json.loads((run / "cfg.json").read_text())["n"] == 2
    assert torch.equal(artifacts.read_tensors(run, "test", "w.safetensors")["w"], torch.zeros(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="'.*file' is a file"):
        save_folder(tmp_path / "file", {}, {}, "w.safetensors")


# -- refusals ----------------------------------------------------------------------------------------
def test_a_pickle_is_refused_with_an_error_naming_it(tmp_path):
    folder = shutil.copytree(FIXTURES / "direction", tmp_path / "direction")
    for suffix in artifacts.PICKLE_SUFFIXES:
        (folder / f"extra{suffix}").write_bytes(b"\x80\x04K\x01.")
        message = (
            rf"direction' is not a readable direction folder: it holds pickled files \['extra\{suffix}'\]"
        )
        with pytest.raises(StoreError, match=message + ", which incision never unpickles"):
            Direction.load(folder)
        (folder / f"extra{suffix}").unlink()
    assert Direction.load(folder).sites == ["resid.0", "resid.1"]


def test_an_unknown_or_newer_format_version_is_refused(tmp_path):
    folder = shutil.copytree(FIXTURES / "probe", tmp_path / "probe")
    cfg = json.loads((folder / "cfg.json").read_text())
    (folder / "cfg.json").write_text(json.dumps({**cfg, "format_version": 99}))
    with pytest.raises(StoreError, match="format_version 99, newer than this incision reads .2.; upgrade"):
        LinearProbe.load(folder)
    for bad in (0, "2", None, True):
        (folder / "cfg.json").write_text(json.dumps({**cfg, "format_version": bad}))
        with pytest.raises(StoreError, match=f"format_version {bad!r}; this incision reads 1 to 2"):
            LinearProbe.load(folder)
    (folder / "cfg.json").write_text(json.dumps({**cfg, "kind": "direction"}))
    with pytest.raises(StoreError, match="not a probe folder: its kind is 'direction', not 'linear'"):
        LinearProbe.load(folder)


def test_missing_and_broken_files_are_named(tmp_path):
    folder = shutil.copytree(FIXTURES / "sae_incision", tmp_path / "sae")
    (folder / "sae_weights.safetensors").unlink()
    with pytest.raises(
        StoreError, match=r"sae' is not a readable SAE folder: sae_weights.safetensors is missing"
    ):
        load_sae(folder)
    (folder / "cfg.json").write_text("[1, 2]")
    with pytest.raises(StoreError, match="cfg.json' holds a list, not a JSON object"):
        load_sae(folder)
    with pytest.raises(StoreError, match="nowhere' is not a readable SAE folder: it does not exist"):
        load_sae(tmp_path / "nowhere")


# -- provenance --------------------------------------------------------------------------------------
def test_provenance_round_trips_and_rejects_bad_fields():
    p = Provenance("m", "ab" * 32, "resid.1", 8)
    assert Provenance.from_dict(p.to_dict()) == p and Provenance.from_dict({}) == Provenance()
    with pytest.raises(
        ConfigError, match=r"keys among \['model', 'config_sha256', 'site', 'width'\], got \['pooling'\]"
    ):
        Provenance.from_dict({"pooling": "mean"})
    with pytest.raises(ConfigError, match="width='8'; it must be an integer or null"):
        Provenance.from_dict({"width": "8"})
    assert Provenance.from_meta(
        {"model": "m", "model_config_sha256": "x", "site": "s", "n": 1}, 8
    ) == Provenance("m", "x", "s", 8)


def test_a_provenance_mismatch_names_both_values():
    found = Provenance("tiny-llama", FIX.SHA, "resid.1", 8)
    check_provenance(found, "probe 'p'", expect={"site": "resid.1", "width": 8}, subject=Subject())
    check_provenance(found, "probe 'p'", expect=Provenance(model="tiny-llama"))
    cases = [
        ({"expect": {"site": "resid.0"}}, "probe 'p' was trained for site='resid.1', not 'resid.0'"),
        ({"expect": Provenance(width=16)}, "probe 'p' was trained for width=8, not 16"),
        (
            {"subject": Subject(name="tiny-gpt2", config_sha256="f" * 64)},
            "trained on model 'tiny-llama', not 'tiny-gpt2'",
        ),
        (
            {"subject": Subject(config_sha256="f" * 64)},
            "config sha256 000000000000, but 'tiny-llama' has ffffffffffff",
        ),
        ({"subject": Subject(d_model=16)}, "probe 'p' takes width 8, but 'tiny-llama' has width 16"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ConfigError) as info:
            check_provenance(found, "probe 'p'", **kwargs)
        assert message in str(info.value)
    with pytest.raises(SiteError, match="unknown site 'resid.1'; this model has: resid.0"):
        check_provenance(found, "probe 'p'", subject=Subject(sites=("resid.0",)))


def test_the_same_model_under_another_name_matches_by_config_hash():
    check_provenance(Provenance("tiny-llama", FIX.SHA), "x", subject=Subject(name="./models/tiny"))
    check_provenance(
        Provenance("tiny-llama"), "x", subject=Subject(config_sha256="f" * 64)
    )  # no hash: by name
    with pytest.raises(ConfigError, match="trained on model 'tiny-llama', not './models/tiny'"):
        check_provenance(Provenance("tiny-llama"), "x", subject=Subject(name="./models/tiny"))
    check_provenance(
        Provenance(site="router.1", width=4), "x", subject=Subject()
    )  # a router's width: experts


def test_every_loader_checks_provenance_against_a_subject():
    other = Subject(name="tiny-gpt2", config_sha256="f" * 64)
    for kind in ("probe", "direction", "detector"):
        rel, load = FIX.LOADERS[kind]
        with pytest.raises(ConfigError, match="not 'tiny-gpt2'"):
            type(load(FIXTURES / rel)).load(FIXTURES / rel, subject=other)
    with pytest.raises(
        ConfigError, match="LEACE eraser .* was trained on model 'tiny-llama', not 'tiny-gpt2'"
    ):
        LeaceEraser.load(FIXTURES / "eraser", subject=other)
    with pytest.raises(ConfigError, match="SAE .* was trained for width=8, not 16"):
        load_sae(FIXTURES / "sae_incision", expect={"width": 16})
    with pytest.raises(ConfigError, match="was trained for site='resid.1', not 'resid.2'"):
        LinearProbe.load(FIXTURES / "probe", expect={"site": "resid.2"})

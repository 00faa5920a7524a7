"""Contrast directions against plain computations on `output_hidden_states`, and the Direction folder."""

from __future__ import annotations

import json

import pytest
import torch

from incision import ConfigError, InputError, capture
from incision.errors import StoreError
from incision.steer.contrast import diff_means, diff_means_from_store, pca_of_differences, pooled_activations
from incision.steer.direction import Direction

from ..conftest import tiny_subject

POSITIVE = ["what a lovely sunny day", "I love this warm bright morning", "great food and kind people"]
NEGATIVE = ["what a gloomy rainy day", "I hate this cold dark morning", "awful food and rude people"]


@pytest.fixture(scope="module")
def subject():
    return tiny_subject("llama")


def reference_pooled(subject, texts, layer: int, pooling: str) -> torch.Tensor:
    """Pooled hidden_states[layer + 1] over the tokens after BOS (the tiny tokenizer adds one)."""
    rows = []
    for text in texts:
        ids = subject.tokenizer(text, return_tensors="pt")["input_ids"]
        with torch.no_grad():
            hidden = subject.model(input_ids=ids, output_hidden_states=True).hidden_states[layer + 1][0, 1:]
        rows.append(hidden.mean(0) if pooling == "mean" else hidden[-1])
    return torch.stack(rows)


@pytest.mark.parametrize("pooling", ["mean", "last"])
def test_diff_means_equals_pooled_hidden_states(subject, pooling):
    direction = diff_means(
        subject, POSITIVE, NEGATIVE, "resid.0,resid.1", pooling
    )  # the last is normed in HF
    assert direction.sites == ["resid.0", "resid.1"] and direction.meta["n_positive"] == 3
    for layer in (0, 1):
        expected = reference_pooled(subject, POSITIVE, layer, pooling).mean(0) - reference_pooled(
            subject, NEGATIVE, layer, pooling
        ).mean(0)
        torch.testing.assert_close(direction.vector(f"resid.{layer}"), expected, rtol=1e-4, atol=1e-5)


def test_pca_of_differences_finds_a_shared_shift(subject, monkeypatch):
    v = torch.randn(32, generator=torch.Generator().manual_seed(0))
    base = torch.randn(20, 32, generator=torch.Generator().manual_seed(1))
    noise = 0.1 * torch.randn(20, 32, generator=torch.Generator().manual_seed(2))
    fake = {"pos": {"resid.0": base + 2.0 * v + noise}, "neg": {"resid.0": base}}
    monkeypatch.setattr(
        "incision.steer.contrast.pooled_activations",
        lambda subject, texts, *a, **k: fake["pos" if texts[0] == "p" else "neg"],
    )
    direction = pca_of_differences(subject, ["p"] * 20, ["n"] * 20, "resid.0")
    found = direction.vector()
    assert torch.nn.functional.cosine_similarity(found, v, dim=0) > 0.99  # points at the positive side
    assert float(found.norm()) == pytest.approx(2.0 * float(v.norm()), rel=0.05)
    with pytest.raises(InputError, match="as many positive as negative"):
        pca_of_differences(subject, ["p"] * 2, ["n"] * 3, "resid.0")


def test_diff_means_from_a_store_uses_its_training_split(subject, tmp_path):
    records = [{"text": t, "label": "pos", "split": "train"} for t in POSITIVE]
    records += [{"text": t, "label": "neg", "split": "train"} for t in NEGATIVE]
    records += [{"text": "an unseen sunny text", "label": "pos", "split": "heldout"}]
    records += [
        {"text": t, "label": lab, "split": split}
        for split in ("val", "test")
        for t, lab in (("nice", "pos"), ("bad", "neg"))
    ]
    store = capture(subject, records, "resid.1", tmp_path / "s", dtype="float32", progress=False)
    direction = diff_means_from_store(store, "resid.1", "label", "pos", "neg", split_field="split")
    expected = diff_means(subject, POSITIVE, NEGATIVE, "resid.1")
    torch.testing.assert_close(direction.vector(), expected.vector(), rtol=1e-4, atol=1e-5)
    with pytest.raises(InputError, match="'happy'"):
        diff_means_from_store(store, "resid.1", "label", "happy", "neg", split_field="split")


def test_direction_folder_round_trip_and_refusals(subject, tmp_path):
    direction = Direction({"resid.1": torch.randn(32), "resid.2": torch.randn(32)}, {"method": "x"})
    loaded = Direction.load(direction.save(tmp_path / "d"), subject=subject)
    assert loaded.sites == direction.sites and loaded.meta == {"method": "x"}
    for site in direction.sites:
        assert torch.equal(loaded.vector(site), direction.vector(site))
    with pytest.raises(ConfigError, match="name the one to use"):
        loaded.vector()
    with pytest.raises(ConfigError, match="width 16"):
        Direction({"resid.1": torch.randn(16)}).check_subject(subject)
    cfg = json.loads((tmp_path / "d" / "cfg.json").read_text())
    (tmp_path / "d" / "cfg.json").write_text(json.dumps({**cfg, "sites": ["resid.1"]}))
    with pytest.raises(StoreError, match="the weights hold"):
        Direction.load(tmp_path / "d")
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "direction.pt").write_bytes(b"pickle")
    with pytest.raises(StoreError, match="not a readable direction folder"):
        Direction.load(tmp_path / "e")
    with pytest.raises(InputError, match="at least one text"):
        pooled_activations(subject, [], "resid.0")

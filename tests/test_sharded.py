"""Models placed by a device map: layers split between CPU memory and disk offload (weights on "meta",
reloaded by accelerate's hooks for each forward pass) give exactly what the unsplit model gives, through
sites, capture, probes, steering, ablation and the Monitor; orthogonalisation refuses offloaded weights."""

from __future__ import annotations

import pytest
import torch

import incision
from incision import ConfigError
from incision.monitor import Monitor
from incision.probes.linear import LinearProbe
from incision.steer.ablation import ablate
from incision.steer.orthogonalize import orthogonalize
from incision.steer.steering import generate, steer

from .conftest import save_tiny_model

TEXTS = ["the quick brown fox jumps", "call me at 555-0142 or write to anna@example.com", "山田太郎です"]
SPLIT = {
    "model.embed_tokens": "cpu",
    "model.rotary_emb": "cpu",
    "model.layers.0": "cpu",
    "model.layers.1": "disk",
    "model.layers.2": "disk",
    "model.norm": "disk",
    "lm_head": "disk",
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("sharded") / "model")


@pytest.fixture(scope="module")
def plain(folder):
    return incision.load(folder)


@pytest.fixture(scope="module")
def sharded(folder):
    return incision.load(folder, device_map=SPLIT, offload_folder=folder.parent / "offload")


def offloaded(subject) -> set[str]:
    return {name for name, p in subject.model.named_parameters() if p.device.type == "meta"}


def probe(subject, site: str, pooling: str | None, seed: int) -> LinearProbe:
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(200, subject.d_model, generator=g), torch.randint(0, 2, (200,), generator=g)
    fitted = LinearProbe.fit(x, y, label_names=["no", "yes"])
    fitted.pooling, fitted.meta = pooling, {"site": site, "model": subject.name}
    return fitted


def logits(subject, texts=TEXTS) -> torch.Tensor:
    batch = subject.tokenizer(texts, return_tensors="pt", padding=True)
    with torch.no_grad():
        return subject.model(**batch.to(subject.input_device)).logits


def test_the_map_offloads_later_blocks_to_disk(sharded):
    assert set(sharded.model.hf_device_map.values()) == {"cpu", "disk"}
    assert any(n.startswith("model.layers.1.") for n in offloaded(sharded))
    assert not any(n.startswith("model.layers.0.") for n in offloaded(sharded))
    assert sharded.input_device == torch.device("cpu")
    assert sharded.resolve("resid.2").module is sharded.model.model.layers[2]


def test_capture_equals_the_unsplit_model_and_leaves_weights_offloaded(plain, sharded, tmp_path):
    before = offloaded(sharded)
    stores = [
        incision.capture(s, TEXTS, "embed,resid.*,attn.*,mlp.*", tmp_path / name, dtype="float32")
        for name, s in (("plain", plain), ("sharded", sharded))
    ]
    assert stores[0].sites == stores[1].sites and len(stores[0].sites) == 10
    for site in stores[0].sites:
        torch.testing.assert_close(stores[1].to_tensor(site), stores[0].to_tensor(site), rtol=0, atol=0)
    assert offloaded(sharded) == before  # accelerate put every reloaded weight back, early stops included
    torch.testing.assert_close(logits(sharded), logits(plain))


def test_auto_map_with_max_memory_spills_to_disk_and_captures_the_same(folder, plain, tmp_path):
    total = sum(p.numel() * p.element_size() for p in plain.model.parameters())
    auto = incision.load(
        folder, device_map="auto", max_memory={"cpu": int(0.7 * total)}, offload_folder=tmp_path
    )
    assert set(auto.model.hf_device_map.values()) == {"cpu", "disk"}
    a = incision.capture(auto, TEXTS, "resid.2", tmp_path / "auto", dtype="float32")
    b = incision.capture(plain, TEXTS, "resid.2", tmp_path / "plain", dtype="float32")
    torch.testing.assert_close(a.to_tensor("resid.2"), b.to_tensor("resid.2"), rtol=0, atol=0)


def test_live_probe_scores_equal(plain, sharded):
    for p in (probe(plain, "resid.2", "mean", 0), probe(plain, "resid.1", None, 1)):
        for got, expected in zip(p.score(sharded, TEXTS), p.score(plain, TEXTS), strict=True):
            if p.pooling is None:
                torch.testing.assert_close(got.proba_TC, expected.proba_TC)
            else:
                assert got.proba == pytest.approx(expected.proba, abs=1e-6)


def test_monitor_reads_offloaded_sites(plain, sharded):
    probes = {"mean": probe(plain, "resid.2", "mean", 2), "tokens": probe(plain, "resid.1", None, 3)}
    got, expected = Monitor(sharded, probes).score(TEXTS), Monitor(plain, probes).score(TEXTS)
    for a, b in zip(got, expected, strict=True):
        assert a.token_ids == b.token_ids
        for name in probes:
            torch.testing.assert_close(a.probes[name].token_proba_TC, b.probes[name].token_proba_TC)
            torch.testing.assert_close(a.probes[name].proba_C, b.probes[name].proba_C)


def test_steering_ablation_and_generation_equal(plain, sharded):
    g = torch.Generator().manual_seed(4)
    vectors = {
        "resid.0": torch.randn(plain.d_model, generator=g),
        "resid.2": torch.randn(plain.d_model, generator=g),
    }
    with steer(plain, vectors, alpha=3.0):
        expected = logits(plain)
    with steer(sharded, vectors, alpha=3.0):
        got = logits(sharded)
    assert not torch.allclose(expected, logits(plain), atol=1e-3)  # the steering did something
    torch.testing.assert_close(got, expected)
    torch.testing.assert_close(logits(sharded), logits(plain))  # and was removed
    r = vectors["resid.0"]
    with ablate(plain, r):
        expected = logits(plain)
    with ablate(sharded, r):
        torch.testing.assert_close(logits(sharded), expected)
    with steer(plain, vectors, alpha=3.0) as s:
        expected_ids = generate(plain, TEXTS[:2], s, max_new_tokens=6)[1]
    with steer(sharded, vectors, alpha=3.0) as s:
        assert torch.equal(generate(sharded, TEXTS[:2], s, max_new_tokens=6)[1], expected_ids)


def test_orthogonalize_refuses_offloaded_weights(sharded):
    with pytest.raises(ConfigError, match="resid.1|attn.1|mlp.1|offloaded"):
        orthogonalize(sharded, torch.ones(sharded.d_model))
    assert sharded.model.get_output_embeddings().weight.device.type == "meta"  # nothing was changed first

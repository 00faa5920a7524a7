"""LEACE as a hook, probe-gated steering and stopping, and SAE feature steering, against references."""

from __future__ import annotations

import random

import pytest
import torch
from transformers import StoppingCriteriaList

from incision import ConfigError, capture
from incision.core.hooks import add_output_hooks
from incision.probes.linear import LinearProbe
from incision.sae import SAEConfig, SparseAutoencoder
from incision.steer.conditional import ProbeGate, StopWhenProbeFires
from incision.steer.erase import erase, fit_eraser
from incision.steer.features import clamp_feature, feature_direction
from incision.steer.leace import LeaceEraser
from incision.steer.steering import generate, steer

from ..conftest import tiny_subject

WORDS = {"fruit": ["apple", "banana", "cherry"], "place": ["river", "hill", "lake"]}
FILLER = ["the", "a", "is", "on", "with", "and", "dog", "fox"]


@pytest.fixture(scope="module")
def subject():
    return tiny_subject("llama")


def records(n: int = 40) -> list[dict]:
    rng = random.Random(0)
    out = []
    for i in range(n):
        label = ("fruit", "place")[i % 2]
        words = [rng.choice(FILLER) for _ in range(4)] + [rng.choice(WORDS[label]) for _ in range(2)]
        rng.shuffle(words)
        out.append({"text": " ".join(words), "label": label, "split": "train" if i < 30 else "test"})
    return out


def site_output(subject, site: str, ids: torch.Tensor) -> torch.Tensor:
    seen = []
    with (
        add_output_hooks({site: subject.resolve(site).module}, lambda _n, x: seen.append(x)),
        torch.no_grad(),
    ):
        subject.model(input_ids=ids)
    return seen[-1]


def test_a_fitted_eraser_hook_equalises_the_class_means_of_its_tokens(subject, tmp_path):
    recs = records()
    recs += [{**r, "split": "val"} for r in recs[:4]]
    store = capture(subject, recs, "resid.1", tmp_path / "s", dtype="float32", progress=False)
    eraser = fit_eraser(store, "resid.1", split_field="split")
    assert eraser.meta["site"] == "resid.1" and eraser.rank == 1
    means = {}
    with erase(subject, eraser):
        for label in WORDS:
            rows = [
                site_output(subject, "resid.1", subject.tokenizer(r["text"], return_tensors="pt")["input_ids"])[0, 1:]
                for r in recs[:30] if r["label"] == label
            ]  # fmt: skip
            means[label] = torch.cat(rows).mean(0)
    assert (means["fruit"] - means["place"]).abs().max() < 1e-4
    narrow = LeaceEraser.fit(torch.randn(50, 16), torch.arange(50) % 2, meta={"site": "resid.1"})
    with pytest.raises(ConfigError, match="width 16"):
        erase(subject, narrow)
    assert not any(m._forward_hooks for m in subject.model.modules())


def probe_on(site: str, width: int, seed: int = 0, bias: float = 0.0) -> LinearProbe:
    w = torch.randn(1, width, generator=torch.Generator().manual_seed(seed))
    return LinearProbe(
        mean_D=torch.zeros(width), std_D=torch.ones(width), weight_CD=w, bias_C=torch.tensor([bias]),
        label_names=["no", "yes"], meta={"site": site, "model": "tiny-llama"},
    )  # fmt: skip


def test_gated_steering_equals_steering_where_the_probe_fires_on_clean_activations(subject):
    ids = subject.tokenizer("the quick brown fox jumps over the lazy dog", return_tensors="pt")["input_ids"]
    probe, v = probe_on("resid.0", 32), 3.0 * torch.randn(32, generator=torch.Generator().manual_seed(1))
    fired = probe.predict_proba(site_output(subject, "resid.0", ids)[0])[:, 1] >= 0.5
    assert 0 < int(fired.sum()) < ids.shape[1]  # some tokens fire, some do not
    with torch.no_grad(), steer(subject, {"resid.1": v}, gate=lambda x: fired[None]):
        expected = subject.model(input_ids=ids).logits
    with torch.no_grad(), steer(subject, {"resid.1": v}, gate=ProbeGate(probe)):
        gated = subject.model(input_ids=ids).logits
    torch.testing.assert_close(gated, expected)
    with pytest.raises(ConfigError, match="runs after the steering site"):
        steer(subject, {"resid.0": v}, gate=ProbeGate(probe_on("resid.2", 32)))
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in subject.model.modules())


@pytest.mark.parametrize("bias,expected_tokens", [(50.0, 1), (-50.0, 8)])
def test_generation_stops_once_the_probe_fires(subject, bias, expected_tokens):
    gate = ProbeGate(probe_on("resid.1", 32, bias=bias))
    with gate.install(subject):
        _, ids = generate(subject, ["the quick brown"], max_new_tokens=8,
                          stopping_criteria=StoppingCriteriaList([StopWhenProbeFires(gate)]))  # fmt: skip
    assert ids.shape[1] == expected_tokens


def test_clamping_a_feature_adds_the_change_of_its_reconstruction(subject):
    sae = SparseAutoencoder(SAEConfig(d_in=32, d_sae=64, k=8), seed=0)
    ids = subject.tokenizer("a lazy dog on the hill", return_tensors="pt")["input_ids"]
    clean = site_output(subject, "resid.1", ids)
    with clamp_feature(subject, sae, "resid.1", feature=5, value=4.0):
        clamped = site_output(subject, "resid.1", ids)
    with torch.no_grad():
        latents = sae.encode(clean)
        held = latents.clone()
        held[..., 5] = 4.0
        expected = clean + sae.decode(held) - sae.decode(latents)
    torch.testing.assert_close(clamped, expected, rtol=1e-4, atol=1e-5)
    with torch.no_grad(), steer(subject, feature_direction(sae, 5, "resid.1"), alpha=2.0):
        along = site_output(subject, "resid.1", ids)
    torch.testing.assert_close(along, clean + 2.0 * sae.W_dec_FD[5].detach())
    with pytest.raises(ConfigError, match="feature must be an integer in \\[0, 64\\)"):
        clamp_feature(subject, sae, "resid.1", feature=64, value=1.0)

"""Shaping training: under `ablate_while_training` nothing along the direction reaches any residual write
(decoders) or ablated site (encoders, several directions), gradients still reach the parameters, and the
hooks are gone afterwards; `DirectionPenalty` equals a hand computation; bad inputs fail clearly."""

from __future__ import annotations

import pytest
import torch

from incision import ConfigError, InputError
from incision.core.hooks import add_output_hooks
from incision.steer.direction import Direction
from incision.steer.writers import residual_writes
from incision.training.design import DirectionPenalty, ablate_while_training, site_bases

from ..conftest import tiny_subject

TEXTS = ["the quick brown fox jumps over the lazy dog", "call me at 555-0142 or write to anna"]


def batch(subject):
    return subject.tokenizer(TEXTS, return_tensors="pt", padding=True)


def outputs(subject, modules: dict) -> dict[str, torch.Tensor]:
    seen = {}
    with add_output_hooks(modules, lambda name, x: seen.__setitem__(name, x)):
        subject.model(**batch(subject))
    return seen


def hook_count(model) -> int:
    """Forward hooks on the model (transformers installs some of its own, e.g. to record hidden states)."""
    return sum(len(m._forward_hooks) for m in model.modules())


def assert_restored(subject, modules: dict, before: dict) -> None:
    """The hooks are gone and the modules give their outputs from before the ablation again."""
    assert hook_count(subject.model) == 0
    subject.model.eval()
    again = outputs(subject, modules)
    assert all(torch.equal(before[k], again[k]) for k in before)


def test_decoder_vector_leaves_no_component_in_any_write_and_trains():
    subject = tiny_subject("llama")
    r = torch.randn(subject.d_model, generator=torch.Generator().manual_seed(0))
    writes = {w.name: w.module for w in residual_writes(subject)}
    before = outputs(subject, writes)
    assert max(float((x @ r).abs().max()) for x in before.values()) > 1e-2
    subject.model.train()
    with ablate_while_training(subject, r):
        after = outputs(subject, writes)
        ids = batch(subject)["input_ids"]
        subject.model(input_ids=ids, labels=ids).loss.backward()
    assert set(after) == set(writes)
    assert all(float((x @ (r / r.norm())).abs().max()) < 1e-4 for x in after.values())
    grads = [p.grad for p in subject.model.parameters() if p.requires_grad]
    assert all(g is not None for g in grads) and any(float(g.abs().sum()) > 0 for g in grads)
    assert_restored(subject, writes, before)


def test_encoder_directions_removed_site_by_site_with_their_span():
    subject = tiny_subject("bert")
    sites = ["embed", "resid.0", "resid.1", "resid.2"]
    g = torch.Generator().manual_seed(1)
    first = Direction({s: torch.randn(subject.d_model, generator=g) for s in sites})
    second = Direction({"resid.-1": torch.randn(subject.d_model, generator=g)})
    modules = {s: subject.resolve(s).module for s in sites}
    before = outputs(subject, modules)
    subject.model.train()
    with ablate_while_training(subject, [first, second]):
        after = outputs(subject, modules)
        h = subject.model(**batch(subject)).last_hidden_state
        h.pow(2).mean().backward()
        h = h.detach()
    for site in sites:
        assert float((after[site] @ first.unit(site)).abs().max()) < 1e-4
    assert float((after["resid.2"] @ second.unit()).abs().max()) < 1e-4  # both directions at the last site
    assert float((h @ second.unit()).abs().max()) < 1e-4  # the model's own output is the edited one
    assert any(float(p.grad.abs().sum()) > 0 for p in subject.model.embeddings.parameters())
    assert_restored(subject, modules, before)


def test_site_bases_orthonormal_and_drop_repeated_vectors():
    subject = tiny_subject("bert")
    v = torch.randn(subject.d_model, generator=torch.Generator().manual_seed(2))
    w = torch.randn(subject.d_model, generator=torch.Generator().manual_seed(3))
    bases = site_bases(
        subject, [Direction({"resid.-1": v}), Direction({"resid.2": 3 * v}), Direction({"resid.2": w})]
    )
    basis = bases["resid.2"]
    assert list(bases) == ["resid.2"] and basis.shape == (2, subject.d_model)
    assert torch.allclose(basis @ basis.T, torch.eye(2), atol=1e-5)


def test_penalty_equals_hand_computation():
    subject = tiny_subject("llama")
    r = torch.randn(subject.d_model, generator=torch.Generator().manual_seed(4))
    penalty = DirectionPenalty(subject, r, site="resid.1", weight=0.5)
    enc = batch(subject)
    h = subject.model(**enc, output_hidden_states=True).hidden_states[2]  # the output of block 1
    hooks = hook_count(subject.model)
    with penalty.attach():
        subject.model(**enc)
    value = penalty(enc["attention_mask"])
    m = enc["attention_mask"].float()
    pooled = torch.stack([h[i][m[i] > 0].mean(0) for i in range(len(TEXTS))])
    expected = 0.5 * ((pooled @ (r / r.norm())) ** 2).mean()
    assert torch.allclose(value, expected, rtol=1e-5, atol=1e-6)
    value.backward()
    assert any(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in subject.model.parameters())
    assert hook_count(subject.model) == hooks
    with pytest.raises(ConfigError, match="no forward pass"):
        penalty(enc["attention_mask"])


def test_penalty_from_a_direction_uses_its_site():
    subject = tiny_subject("bert")
    d = Direction({"resid.2": torch.randn(subject.d_model, generator=torch.Generator().manual_seed(5))})
    penalty = DirectionPenalty(subject, d, site="resid.-1")
    assert penalty.site.name == "resid.2"
    assert DirectionPenalty(subject, d).site.name == "resid.2"


def test_bad_inputs_fail_clearly():
    subject = tiny_subject("llama")
    bert = tiny_subject("bert")
    with pytest.raises(InputError, match=r"shape \[32\]"):
        ablate_while_training(subject, torch.ones(7))
    with pytest.raises(InputError, match="zero vector"):
        ablate_while_training(subject, torch.zeros(subject.d_model))
    with pytest.raises(ConfigError, match="width 7"):
        ablate_while_training(bert, Direction({"resid.0": torch.ones(7)}))
    with pytest.raises(InputError, match="zero vector"):
        ablate_while_training(bert, Direction({"resid.0": torch.zeros(bert.d_model)}))
    with pytest.raises(InputError, match="non-empty list"):
        ablate_while_training(bert, [])
    with pytest.raises(ConfigError, match="decoder"):  # one vector for every write: not for encoders
        ablate_while_training(bert, torch.ones(bert.d_model))
    with pytest.raises(InputError, match="zero vector"):
        DirectionPenalty(subject, torch.zeros(subject.d_model), site="resid.0")
    with pytest.raises(InputError, match=r"shape \[32\]"):
        DirectionPenalty(subject, torch.ones(5), site="resid.0")
    with pytest.raises(ConfigError, match="site="):
        DirectionPenalty(subject, torch.ones(subject.d_model))
    with pytest.raises(ConfigError, match="weight"):
        DirectionPenalty(subject, torch.ones(subject.d_model), site="resid.0", weight=-1.0)
    assert hook_count(subject.model) == 0 and hook_count(bert.model) == 0

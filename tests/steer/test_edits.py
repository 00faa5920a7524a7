"""Directional ablation and weight orthogonalisation on tiny random models of every decoder family:
the edited weights equal the hooked ablation where the family allows it, the residual stream carries no
component along the direction in every family, hooks leave the model as it was, and the saved folder
loads with plain transformers."""

from __future__ import annotations

import pytest
import torch
import transformers as T

from incision import ConfigError, InputError
from incision.core.hooks import add_output_hooks
from incision.steer.ablation import ablate
from incision.steer.orthogonalize import orthogonalize, save_edited

from ..conftest import tiny_subject

EXACT = ["gpt2", "gpt_neox", "llama", "mistral", "qwen2", "qwen3", "gemma", "phi3"]  # no output norms
POST_NORM = ["gemma2", "gemma3_text"]


def tied_llama():
    """SmolLM2's shape: a Llama whose output head is its input embedding."""
    subject = tiny_subject("llama")
    config = T.LlamaConfig(**{**subject.model.config.to_dict(), "tie_word_embeddings": True})
    torch.manual_seed(0)
    subject.model = T.LlamaForCausalLM(config).eval()
    assert subject.model.lm_head.weight is subject.model.model.embed_tokens.weight
    return subject


def subject_of(family: str):
    return tied_llama() if family == "llama_tied" else tiny_subject(family)


def direction(width: int, seed: int = 7) -> torch.Tensor:
    return torch.randn(width, generator=torch.Generator().manual_seed(seed)) * 3.0


def inputs(subject, seed: int = 1) -> torch.Tensor:
    vocab = subject.model.get_input_embeddings().weight.shape[0]
    return torch.randint(4, vocab, (2, 12), generator=torch.Generator().manual_seed(seed))


def logits(subject, ids) -> torch.Tensor:
    with torch.no_grad():
        return subject.model(input_ids=ids).logits


def residual_components(subject, ids, r) -> float:
    """Largest |x . r^| / |x| over the embedding output and every block output, all tokens."""
    r = r / r.norm()
    sites = ["embed"] + [f"resid.{i}" for i in range(subject.n_layers)]
    worst = []
    read = lambda _name, x: worst.append(float(((x.float() @ r).abs() / x.float().norm(dim=-1)).max()))  # noqa: E731
    with add_output_hooks({s: subject.resolve(s).module for s in sites}, read), torch.no_grad():
        subject.model(input_ids=ids)
    assert len(worst) == len(sites)
    return max(worst)


@pytest.mark.parametrize("family", [*EXACT, "llama_tied"])
def test_orthogonalised_weights_equal_hooked_ablation(family):
    subject = subject_of(family)
    ids, r = inputs(subject), direction(subject.d_model)
    clean = logits(subject, ids)
    with ablate(subject, r):
        hooked = logits(subject, ids)
    torch.testing.assert_close(logits(subject, ids), clean, rtol=0, atol=0)  # the hooks are gone
    assert (hooked - clean).abs().max() > 1e-3  # the ablation changes something, so equality means something
    record = orthogonalize(subject, r)
    assert record["exact_equivalent_of_hooked_ablation"]
    assert (logits(subject, ids) - hooked).abs().max() <= 1e-4


@pytest.mark.parametrize("family", [*EXACT, *POST_NORM, "llama_tied"])
def test_no_residual_component_along_the_direction_after_either_edit(family):
    subject = subject_of(family)
    ids, r = inputs(subject), direction(subject.d_model)
    assert residual_components(subject, ids, r) > 0.05
    with ablate(subject, r):
        assert residual_components(subject, ids, r) < 1e-5
    record = orthogonalize(subject, r)
    assert residual_components(subject, ids, r) < 1e-5
    assert record["exact_equivalent_of_hooked_ablation"] == (family not in POST_NORM)


@pytest.mark.parametrize("family", ["gemma3_text", "llama_tied", "gpt2"])
def test_saved_edit_loads_with_plain_transformers(family, tmp_path):
    subject = subject_of(family)
    ids, r = inputs(subject), direction(subject.d_model)
    record = orthogonalize(subject, r)
    edited = logits(subject, ids)
    save_edited(subject, tmp_path / "edited", record)
    reloaded = T.AutoModelForCausalLM.from_pretrained(tmp_path / "edited").eval()
    with torch.no_grad():
        torch.testing.assert_close(reloaded(input_ids=ids).logits, edited)
    assert (tmp_path / "edited" / "incision_edit.json").is_file()


def test_bad_directions_and_models_are_refused():
    subject = tiny_subject("llama")
    with pytest.raises(InputError, match=r"shape \[32\], got \[5\]"):
        ablate(subject, torch.ones(5))
    with pytest.raises(InputError, match="zero vector"):
        orthogonalize(subject, torch.zeros(32))
    with pytest.raises(InputError, match="NaN"):
        ablate(subject, torch.full((32,), float("nan")))
    with pytest.raises(ConfigError, match="decoder"):
        ablate(tiny_subject("bert"), torch.ones(32))

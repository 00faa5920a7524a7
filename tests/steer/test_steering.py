"""Steering against independent oracles: adding at `embed` equals feeding shifted embeddings; the KV cache
equals full recompute under greedy decoding; a left-padded batch equals each prompt alone; prompt-only and
generated-only steering touch only their positions; hooks leave the model as it was."""

from __future__ import annotations

import pytest
import torch

from incision import ConfigError, InputError
from incision.errors import SiteError
from incision.steer.direction import Direction
from incision.steer.steering import generate, steer

from ..conftest import tiny_subject

PROMPTS = ["the quick brown fox", "a lazy dog sat on the warm mat by the door", "hello"]


@pytest.fixture(scope="module")
def subject():
    return tiny_subject("llama")


def vector(subject, seed: int = 3, scale: float = 4.0) -> torch.Tensor:
    return scale * torch.randn(subject.d_model, generator=torch.Generator().manual_seed(seed))


def ids_of(subject, text: str) -> torch.Tensor:
    return subject.tokenizer(text, return_tensors="pt")["input_ids"]


def test_steering_the_embedding_equals_feeding_shifted_embeddings(subject):
    ids, v = ids_of(subject, PROMPTS[1]), vector(subject)
    with torch.no_grad():
        expected = subject.model(inputs_embeds=subject.model.get_input_embeddings()(ids) + 0.5 * v).logits
        with steer(subject, {"embed": v}, alpha=0.5):
            steered = subject.model(input_ids=ids).logits
    torch.testing.assert_close(steered, expected)


@pytest.mark.parametrize("positions", ["all", "prompt", "generated"])
def test_kv_cache_equals_full_recompute_token_for_token(subject, positions):
    direction = Direction({"resid.1": vector(subject)})
    with steer(subject, direction, alpha=1.0, positions=positions) as steering:
        _, cached = generate(subject, PROMPTS, steering, max_new_tokens=12)
        _, recomputed = generate(subject, PROMPTS, steering, max_new_tokens=12, use_cache=False)
    assert cached.tolist() == recomputed.tolist()
    _, plain = generate(subject, PROMPTS, max_new_tokens=12)
    assert cached.tolist() != plain.tolist()  # the steering changes the text, so the equality means something


@pytest.mark.parametrize("positions", ["all", "generated"])
def test_a_left_padded_batch_equals_each_prompt_alone(subject, positions):
    direction = Direction({"resid.0": vector(subject, seed=5)})
    with steer(subject, direction, positions=positions) as steering:
        _, batched = generate(subject, PROMPTS, steering, max_new_tokens=10)
        alone = [generate(subject, [p], steering, max_new_tokens=10)[1][0].tolist() for p in PROMPTS]
    assert batched.tolist() == alone


def test_prompt_and_generated_steering_touch_only_their_positions(subject):
    ids, v = ids_of(subject, PROMPTS[1]), vector(subject)
    with torch.no_grad():
        clean = subject.model(input_ids=ids).logits
        with steer(subject, {"resid.1": v}, positions="generated", prompt_length=5):
            late = subject.model(input_ids=ids).logits
        with steer(subject, {"resid.1": v}, positions="prompt", prompt_length=5):
            early = subject.model(input_ids=ids).logits
        with steer(subject, {"resid.1": v}):
            everywhere = subject.model(input_ids=ids).logits
    torch.testing.assert_close(late[:, :5], clean[:, :5], rtol=0, atol=0)  # causal: later tokens cannot reach
    assert (late[:, 5:] - clean[:, 5:]).abs().amax() > 1e-2
    torch.testing.assert_close(early[:, :5], everywhere[:, :5], rtol=0, atol=0)
    assert (early[:, 5:] - everywhere[:, 5:]).abs().amax() > 1e-2


def test_handles_restore_the_model(subject):
    ids = ids_of(subject, PROMPTS[0])
    before = {k: p.clone() for k, p in subject.model.state_dict().items()}
    with torch.no_grad():
        clean = subject.model(input_ids=ids).logits
        handle = steer(subject, {"resid.0": vector(subject), "mlp.2": vector(subject, 4)}, alpha=2.0)
        assert (subject.model(input_ids=ids).logits - clean).abs().amax() > 1e-2
        handle.remove()
        torch.testing.assert_close(subject.model(input_ids=ids).logits, clean, rtol=0, atol=0)
    assert all(torch.equal(before[k], p) for k, p in subject.model.state_dict().items())
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in subject.model.modules())


def test_bad_steering_is_refused(subject):
    with pytest.raises(InputError, match=r"shape \[32\], got \[7\]"):
        steer(subject, {"resid.0": torch.ones(7)})
    with pytest.raises(InputError, match="NaN"):
        steer(subject, {"resid.0": torch.full((32,), float("nan"))})
    with pytest.raises(InputError, match="zero vector"):
        steer(subject, {"resid.0": torch.zeros(32)})
    with pytest.raises(SiteError, match="resid.9"):
        steer(subject, {"resid.9": torch.ones(32)})
    with pytest.raises(ConfigError, match="positions"):
        steer(subject, {"resid.0": torch.ones(32)}, positions="middle")
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in subject.model.modules())


def test_refusal_phrases_count_refusals_not_sympathy():
    from incision.steer.refusal import is_refusal, refusal_rate

    assert is_refusal("I'm sorry, but I can't help with that.") and is_refusal("I cannot assist with this.")
    assert is_refusal("As an AI, I won’t do that") and is_refusal("申し訳ありませんが、お答えできません。")
    assert is_refusal("I'm sorry for any misunderstanding, but as a chatbot, I'm designed to inform.")
    assert not is_refusal("I'm sorry to hear that you're struggling. Here is a plan:")
    assert not is_refusal("I'm sorry for your loss. Grief takes time.")
    assert refusal_rate(["I can't do that", "Sure, here it is"]) == 0.5 and refusal_rate([]) == 0.0

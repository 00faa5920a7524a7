"""Streaming through a Monitor: the tokens are the model's own greedy ones, each event's scores equal a
full recompute, and the policies flag, redact, block and steer as configured, leaving no hooks behind."""

from __future__ import annotations

import pytest
import torch

from incision import ConfigError
from incision.monitor import Monitor, Policy

from ..conftest import tiny_subject
from .test_monitor import probe

PROMPT = "the quick brown fox"


@pytest.fixture(scope="module")
def subject():
    return tiny_subject("llama")


@pytest.fixture(scope="module")
def probes(subject):
    return {"tokens": probe(subject, "resid.1", 3, None, 0), "mean": probe(subject, "resid.0", 2, "mean", 1)}


def no_hooks_left(subject) -> bool:
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in subject.model.modules())


def test_tokens_are_greedy_and_scores_equal_a_full_recompute(subject, probes):
    monitor = Monitor(subject, probes)
    events = list(monitor.stream(PROMPT, max_new_tokens=8))
    ids = torch.tensor([subject.encode(PROMPT).ids])
    with torch.no_grad():
        greedy = subject.model.generate(
            ids, attention_mask=torch.ones_like(ids), max_new_tokens=8, do_sample=False,
            pad_token_id=subject.tokenizer.pad_token_id or 0,
        )[0, ids.shape[1]:].tolist()  # fmt: skip
    tokens = [e.token_id for e in events]
    assert tokens == greedy[: len(tokens)] and events[-1].finish_reason in ("stop", "length")
    full = torch.tensor([ids[0].tolist() + tokens])
    keep = torch.ones_like(full, dtype=torch.bool)
    keep[0, : subject.encode(PROMPT).n_prefix] = False  # BOS carries no text
    recomputed = monitor.forward(full, torch.ones_like(full), keep)
    for k, event in enumerate(events):
        position = ids.shape[1] + k
        token_proba = torch.softmax(recomputed.token_logits["tokens"][0, position], -1)
        assert event.scores["tokens"] == pytest.approx(float(1 - token_proba[0]), abs=1e-5)
        mean_logit = recomputed.token_logits["mean"][0, : position + 1][keep[0, : position + 1]].mean()
        assert event.scores["mean"] == pytest.approx(float(torch.sigmoid(mean_logit)), abs=1e-5)
    assert no_hooks_left(subject)


def test_block_on_the_prompt_returns_the_message_and_nothing_else(subject, probes):
    monitor = Monitor(subject, probes, policies={"mean": Policy("block", threshold=1e-9, message="No.")})
    events = list(monitor.stream(PROMPT, max_new_tokens=8))
    assert len(events) == 1 and events[0].text == "No." and events[0].token_id is None
    assert events[0].finish_reason == "blocked" and events[0].actions == [("mean", "block")]
    assert no_hooks_left(subject)


def test_redact_replaces_firing_tokens_with_their_label(subject, probes):
    monitor = Monitor(subject, probes, policies={"tokens": Policy("redact", threshold=1e-9)})
    events = list(monitor.stream(PROMPT, max_new_tokens=5))
    assert events and all(("tokens", "redact") in e.actions for e in events)
    assert all(e.text.strip() in ("[c1]", "[c2]") for e in events if e.text.strip())
    quiet = Monitor(subject, probes, policies={"tokens": Policy("flag", threshold=1 - 1e-9)})
    assert all(not e.actions for e in quiet.stream(PROMPT, max_new_tokens=5))


def test_steer_applies_its_edit_to_each_pass_after_the_probe_fires_and_leaves_none_between(subject, probes):
    entered, exited = [], []

    class Counting:
        def __enter__(self):
            entered.append(1)
            assert len(entered) == len(exited) + 1  # never two at once, never left open across an event

        def __exit__(self, *exc):
            exited.append(1)

    policies = {"mean": Policy("steer", threshold=1e-9, edit=Counting), "tokens": Policy("flag", 1e-9)}
    for event in Monitor(subject, probes, policies=policies).stream(PROMPT, max_new_tokens=4):
        assert ("mean", "steer") in event.actions and ("tokens", "flag") in event.actions
        assert len(entered) == len(exited) and no_hooks_left(subject)
    assert len(entered) == 4  # the prompt fires it: every generated token's pass is steered


def test_bad_policies_are_clear_errors(subject, probes):
    with pytest.raises(ConfigError, match="needs a token-level probe"):
        Monitor(subject, probes, policies={"mean": Policy("redact")})
    with pytest.raises(ConfigError, match=r"name probes \['nope'\]"):
        Monitor(subject, probes, policies={"nope": Policy("flag")})
    with pytest.raises(ConfigError, match="strictly between 0 and 1"):
        Policy("flag", threshold=1.0)
    with pytest.raises(ConfigError, match="needs an edit"):
        Policy("steer")
    maxed = Monitor(subject, {"max": probe(subject, "resid.1", 2, "max", 3)})
    with pytest.raises(ConfigError, match="pools by 'max'"):
        list(maxed.stream(PROMPT))

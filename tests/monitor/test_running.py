"""Running scores: the numpy arithmetic the stream and the vLLM engine share gives what the torch heads give,
and a generation scored token by token equals its scores recomputed at once."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from incision.monitor.heads import positive_score, probabilities
from incision.monitor.running import RunningScores, positive_probability
from incision.probes.linear import LinearProbe


@pytest.mark.parametrize("classes", [1, 2, 5])
def test_positive_probability_equals_the_heads(classes):
    logits = torch.randn(200, classes, generator=torch.Generator().manual_seed(classes)) * 30
    expected = positive_score(probabilities(logits.double()))
    got = torch.tensor([positive_probability(row) for row in logits.double().numpy()], dtype=torch.float64)
    torch.testing.assert_close(got, expected, atol=1e-12, rtol=0)


def fake_probe(pooling, classes):
    d = 4
    return LinearProbe(
        torch.zeros(d), torch.ones(d), torch.zeros(classes, d), torch.zeros(classes),
        [f"c{i}" for i in range(max(classes, 2))], pooling=pooling,
    )  # fmt: skip


def test_step_by_step_equals_scores_recomputed_at_once():
    probes = {"tokens": fake_probe(None, 3), "mean": fake_probe("mean", 1), "last": fake_probe("last", 1)}
    rng = np.random.default_rng(0)
    prompt = {
        "tokens": rng.normal(size=(5, 3)),
        "mean": rng.normal(size=(5, 1)),
        "last": rng.normal(size=(5, 1)),
    }
    steps = [{n: rng.normal(size=p.shape[1]).astype(np.float32) for n, p in prompt.items()} for _ in range(6)]
    running = RunningScores(probes)
    running.add(prompt)
    for k, newest in enumerate(steps):
        got = running.step(newest)
        seen = {n: np.concatenate([prompt[n], *[s[n][None] for s in steps[: k + 1]]]) for n in prompt}
        want = {
            "tokens": positive_probability(newest["tokens"]),
            "mean": positive_probability(seen["mean"].mean(0)),
            "last": positive_probability(newest["last"]),
        }
        assert got == pytest.approx(want, abs=1e-6)
        fresh = RunningScores(probes)
        fresh.add({n: seen[n] for n in seen})
        assert fresh.scores(newest) == pytest.approx(got, abs=1e-6)

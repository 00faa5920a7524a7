"""Pooled scores of a generation as it grows, from each step's token logits: a running sum for mean pooling
(the probe is affine, so the mean of token logits is the logits of the mean) and the newest token's for last
pooling. The Hugging Face stream and the vLLM engine keep one per generation.

The arithmetic is numpy on the CPU: a few probes' logits per token, where a framework call per operation
would cost more than the math (the vLLM engine runs it for every request of every step)."""

from __future__ import annotations

import math

import numpy as np

STREAMABLE = (None, "mean", "last")  # poolings a running score can follow token by token


def positive_probability(logits_C: np.ndarray) -> float:
    """The score `heads.positive_score(heads.probabilities(logits))` gives: the positive class's probability
    (a binary probe's single logit through a sigmoid) or 1 - P(first class)."""
    if len(logits_C) == 1:  # a sigmoid that overflows for no value of the logit
        z = float(logits_C[0])
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
    e = np.exp(logits_C - logits_C.max())
    p = e / e.sum()
    return float(p[1] if len(p) == 2 else 1.0 - p[0])


class RunningScores:
    """Every probe's score over the tokens seen so far."""

    def __init__(self, probes: dict):
        self.probes, self.sums, self.count, self.last = probes, {}, 0, {}
        self.poolings = {name: probe.pooling for name, probe in probes.items()}

    def add(self, kept_logits: dict[str, np.ndarray]) -> None:
        """Take one step's logits [n, C] per probe (numpy, or CPU tensors), of the n tokens that count."""
        for name, logits in kept_logits.items():
            logits = np.asarray(logits, dtype=np.float64)
            if len(logits):
                self.sums[name] = self.sums.get(name, 0.0) + logits.sum(0)
                self.last[name] = logits[-1]
        self.count += len(next(iter(kept_logits.values()))) if kept_logits else 0

    def scores(self, newest: dict[str, np.ndarray]) -> dict[str, float]:
        """Each probe's score now: a token-level probe's is its score of the newest token (`newest[name]`,
        logits [C]); a pooled probe's pools every token added so far."""
        out = {}
        for name, probe in self.probes.items():
            if probe.pooling is None:
                logits = np.asarray(newest[name], dtype=np.float64)
            elif probe.pooling == "mean":
                logits = self.sums[name] / max(self.count, 1)
            else:
                logits = self.last[name]
            out[name] = positive_probability(logits)
        return out

    def step(self, newest: dict[str, np.ndarray]) -> dict[str, float]:
        """`add` one token's logits [C] per probe, then its `scores` (the per-token path of a generation)."""
        self.count += 1
        out = {}
        for name, pooling in self.poolings.items():
            logits = newest[name]
            if pooling == "mean":
                total = self.sums.get(name)
                self.sums[name] = total = logits.astype(np.float64) if total is None else total + logits
                logits = total / self.count
            elif pooling == "last":
                self.last[name] = logits
            out[name] = positive_probability(logits)
        return out

"""Pooled scores of a generation as it grows, from each step's token logits: a running sum for mean pooling
(the probe is affine, so the mean of token logits is the logits of the mean) and the newest token's for last
pooling. The Hugging Face stream and the vLLM engine keep one per generation."""

from __future__ import annotations

import torch

from .heads import positive_score, probabilities

STREAMABLE = (None, "mean", "last")  # poolings a running score can follow token by token


class RunningScores:
    """Every probe's score over the tokens seen so far."""

    def __init__(self, probes: dict):
        self.probes, self.sums, self.count, self.last = probes, {}, 0, {}

    def add(self, kept_logits: dict[str, torch.Tensor]) -> None:
        """Take one step's logits [n, C] per probe, of the n tokens that count (they may be none)."""
        self.count += len(next(iter(kept_logits.values()))) if kept_logits else 0
        for name, logits in kept_logits.items():
            if len(logits):
                self.sums[name] = self.sums.get(name, 0) + logits.float().sum(0)
                self.last[name] = logits[-1].float()

    def scores(self, newest: dict[str, torch.Tensor]) -> dict[str, float]:
        """Each probe's score now: a token-level probe's is its score of the newest token (`newest[name]`,
        logits [C]); a pooled probe's pools every token added so far."""
        out = {}
        for name, probe in self.probes.items():
            if probe.pooling is None:
                logits = newest[name]
            elif probe.pooling == "mean":
                logits = self.sums[name] / max(self.count, 1)
            else:
                logits = self.last[name]
            out[name] = float(positive_score(probabilities(logits[None].float().cpu()))[0])
        return out

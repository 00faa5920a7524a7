"""A probe folded for the serving path: standardisation merged into its weights, so reading it inline is
one [tokens, D] x [D, C] product on the activations the model already computed, and nothing is copied.

logits = ((x - mean) / std) @ W.T + b = x @ (W / std).T + (b - (mean / std) @ W.T)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..probes.linear import LinearProbe


@dataclass
class ProbeHead:
    """One probe, ready to read a site's output [B, T, D] in place."""

    name: str
    probe: LinearProbe
    weight_DC: torch.Tensor
    bias_C: torch.Tensor

    @classmethod
    def of(cls, name: str, probe: LinearProbe, device=None) -> ProbeHead:
        weight_CD = probe.weight_CD.double() / probe.std_D.double()
        bias_C = probe.bias_C.double() - weight_CD @ probe.mean_D.double()
        return cls(name, probe, weight_CD.T.float().to(device), bias_C.float().to(device))

    def token_logits(self, acts_BTD: torch.Tensor) -> torch.Tensor:
        """[B, T, C] logits of every token (C = 1 for a binary probe), in float32."""
        weight = self.weight_DC.to(acts_BTD.device)
        return torch.addmm(
            self.bias_C.to(acts_BTD.device), acts_BTD.reshape(-1, acts_BTD.shape[-1]).float(), weight
        ).reshape(*acts_BTD.shape[:2], -1)

    def pooled_logits(self, acts_BTD: torch.Tensor, token_logits_BTC: torch.Tensor, keep_BT) -> torch.Tensor:
        """[B, C] logits of each sequence pooled over its kept tokens, the way the probe pools. A mean of
        activations has the mean of the token logits as its logits (the probe is affine), so mean pooling
        reads no activations again."""
        if self.probe.pooling == "mean":
            keep = keep_BT.to(token_logits_BTC.device, token_logits_BTC.dtype)[..., None]
            return (token_logits_BTC * keep).sum(1) / keep.sum(1).clamp_min(1)
        pooled_BD = self.probe.pool(acts_BTD.float(), keep_BT.to(acts_BTD.device))
        return torch.addmm(self.bias_C.to(pooled_BD.device), pooled_BD, self.weight_DC.to(pooled_BD.device))


def probabilities(logits_NC: torch.Tensor) -> torch.Tensor:
    """[N, C'] class probabilities from logits; a binary probe's single logit gives two columns."""
    if logits_NC.shape[-1] == 1:
        p = torch.sigmoid(logits_NC[..., 0])
        return torch.stack([1 - p, p], dim=-1)
    return torch.softmax(logits_NC, dim=-1)


def positive_score(proba_NC: torch.Tensor) -> torch.Tensor:
    """[N] scores: the positive class's probability (binary) or 1 - P(first class)."""
    return proba_NC[:, 1] if proba_NC.shape[1] == 2 else 1 - proba_NC[:, 0]

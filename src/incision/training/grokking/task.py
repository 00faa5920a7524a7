"""The modular-addition task and the one-layer transformer that groks it (after Nanda et al. 2023).

Inputs are the three tokens `a b =` for every pair (a, b) in Z_p x Z_p; the answer is (a + b) mod p, read at
the last position. The model has no layer norm, as in the paper, so its weights stay easy to read.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from ...errors import ConfigError


def _option(default, text: str):
    return field(default=default, metadata={"help": text})


@dataclass
class GrokConfig:
    """One grokking run: the paper's model and optimiser. The default p is 59, not the paper's 113, so a run
    fits in minutes on 2 CPU cores (steps cost ~p^2); it still groks, later in steps."""

    p: int = _option(
        59, "the modulus (odd: every frequency but 0 has a cosine and a sine); the paper's is 113"
    )
    d_model: int = _option(128, "residual width")
    n_heads: int = _option(4, "attention heads")
    d_mlp: int = _option(512, "MLP hidden width (ReLU)")
    train_frac: float = _option(0.3, "share of the p^2 pairs used for training; the rest is the test set")
    lr: float = _option(1e-3, "AdamW learning rate (betas 0.9, 0.98; 10 warm-up steps)")
    weight_decay: float = _option(1.0, "AdamW weight decay: what makes the generalising circuit win")
    steps: int = _option(20000, "full-batch optimiser steps")
    every: int = _option(100, "measure the progress measures every this many steps")
    seed: int = _option(0, "seed for the split and the initialisation")

    def __post_init__(self) -> None:
        if self.p < 5 or self.p % 2 == 0:
            raise ConfigError(f"p must be an odd number of at least 5, got {self.p}")
        if self.d_model % self.n_heads:
            raise ConfigError(f"d_model {self.d_model} is not divisible by n_heads {self.n_heads}")
        if not 0 < self.train_frac < 1:
            raise ConfigError(f"train_frac must be between 0 and 1, got {self.train_frac}")
        for name in ("d_model", "n_heads", "d_mlp", "steps", "every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ModularAddition:
    """All p^2 inputs [p*p, 3] (row a*p + b is `a b =`), their answers, and a seeded train/test split."""

    p: int
    inputs_N3: torch.Tensor
    answers_N: torch.Tensor
    train_rows: torch.Tensor
    test_rows: torch.Tensor

    @classmethod
    def build(cls, p: int, train_frac: float, seed: int) -> ModularAddition:
        a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
        a, b = a.reshape(-1), b.reshape(-1)
        inputs = torch.stack([a, b, torch.full_like(a, p)], dim=1)
        order = torch.randperm(p * p, generator=torch.Generator().manual_seed(seed))
        cut = int(train_frac * p * p)
        return cls(p, inputs, (a + b) % p, order[:cut].sort().values, order[cut:].sort().values)


class OneLayerTransformer(nn.Module):
    """Embedding (p numbers + `=`), learned positions, one attention layer, one ReLU MLP, unembedding into the
    p answers. Only the last position is computed past attention: it is the only one with a loss, and in a
    causal one-layer model nothing else reaches it."""

    def __init__(self, cfg: GrokConfig):
        super().__init__()
        p, d, h = cfg.p, cfg.d_model, cfg.n_heads
        self.n_heads, self.d_head = h, d // h
        self.W_E = nn.Parameter(torch.randn(p + 1, d) / d**0.5)
        self.W_pos = nn.Parameter(torch.randn(3, d) / d**0.5)
        self.W_QKV = nn.Parameter(torch.randn(3, d, d) / d**0.5)
        self.W_O = nn.Parameter(torch.randn(d, d) / d**0.5)
        self.W_in = nn.Parameter(torch.randn(d, cfg.d_mlp) / d**0.5)
        self.b_in = nn.Parameter(torch.zeros(cfg.d_mlp))
        self.W_out = nn.Parameter(torch.randn(cfg.d_mlp, d) / cfg.d_mlp**0.5)
        self.b_out = nn.Parameter(torch.zeros(d))
        self.W_U = nn.Parameter(torch.randn(d, p) / d**0.5)

    def forward(self, inputs_N3: torch.Tensor) -> torch.Tensor:
        """Logits [N, p] at the last position.

        Attention is computed from per-token tables: a key, value and query depend only on (position, token),
        and there are 3 x (p + 1) of those, not 3N. Same function, same gradients, far fewer FLOPs."""
        h, e = self.n_heads, self.d_head
        x_3VD = self.W_E.unsqueeze(0) + self.W_pos.unsqueeze(1)
        key_3VHE = (x_3VD @ self.W_QKV[1]).unflatten(-1, (h, e))
        value_3VHE = (x_3VD @ self.W_QKV[2]).unflatten(-1, (h, e))
        positions = torch.arange(3)
        last_ND = x_3VD[2][inputs_N3[:, 2]]
        query_NHE = (last_ND @ self.W_QKV[0]).unflatten(-1, (h, e))
        keys_N3HE = key_3VHE[positions, inputs_N3]
        pattern_N3H = torch.einsum("nhe,nthe->nth", query_NHE, keys_N3HE).div(e**0.5).softmax(1)
        mixed_NHE = torch.einsum("nth,nthe->nhe", pattern_N3H, value_3VHE[positions, inputs_N3])
        mixed_ND = mixed_NHE.flatten(1) @ self.W_O
        resid_ND = last_ND + mixed_ND
        resid_ND = resid_ND + torch.relu(resid_ND @ self.W_in + self.b_in) @ self.W_out + self.b_out
        return resid_ND @ self.W_U

    def reference_readout(self, inputs_N3: torch.Tensor) -> torch.Tensor:
        """Logits from the textbook computation (every position's key and value): the tables' oracle."""
        x_N3D = self.W_E[inputs_N3] + self.W_pos
        n, _, d = x_N3D.shape
        heads = (n, 3, self.n_heads, self.d_head)
        q_N3HE, k_N3HE, v_N3HE = ((x_N3D @ self.W_QKV[i]).view(heads) for i in range(3))
        pattern_NH3 = torch.einsum("nhe,nthe->nht", q_N3HE[:, -1], k_N3HE).div(self.d_head**0.5).softmax(-1)
        mixed_ND = torch.einsum("nht,nthe->nhe", pattern_NH3, v_N3HE).reshape(n, d)
        resid_ND = x_N3D[:, -1] + mixed_ND @ self.W_O
        resid_ND = resid_ND + torch.relu(resid_ND @ self.W_in + self.b_in) @ self.W_out + self.b_out
        return resid_ND @ self.W_U

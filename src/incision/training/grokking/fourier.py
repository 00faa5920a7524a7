"""Fourier progress measures for modular addition (after Nanda et al. 2023), as pure functions of tensors.

Functions on Z_p are expanded in the real Fourier basis: a constant, then cos(w_k x) and sin(w_k x) for
w_k = 2 pi k / p, k = 1 .. (p - 1) / 2 (orthonormal rows). A model that has found the generalising algorithm
embeds a and b with a few "key" frequencies and writes logits cos(w_k (a + b - c)): functions of a + b.

Logits over every input pair are a [p*p, p] tensor (row a*p + b). Their part that depends on a + b alone is
the class mean over each sum s, `sum_means` [p (s), p (c)]; its Fourier coefficients over s tell how much of
the logits each frequency carries (`frequency_energy`). The restricted logits keep only the key frequencies
(plus the constant); the excluded logits are the logits with the key frequencies taken out.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def n_frequencies(p: int) -> int:
    return (p - 1) // 2


def fourier_basis(p: int) -> torch.Tensor:
    """[p, p] orthonormal rows: constant, cos 1, sin 1, cos 2, sin 2, ... (float64)."""
    x = torch.arange(p, dtype=torch.float64)
    rows = [torch.full((p,), 1 / math.sqrt(p), dtype=torch.float64)]
    for k in range(1, n_frequencies(p) + 1):
        w = 2 * math.pi * k / p
        rows += [torch.cos(w * x) * math.sqrt(2 / p), torch.sin(w * x) * math.sqrt(2 / p)]
    return torch.stack(rows)


def frequency_norms(w_PD: torch.Tensor) -> torch.Tensor:
    """Norm of each frequency's (cos, sin) component of a [p, d] matrix indexed by residue (an embedding):
    [(p - 1) / 2], frequency k at index k - 1. The constant component is left out."""
    p = w_PD.shape[0]
    coefficients_PD = fourier_basis(p) @ w_PD.double()
    return coefficients_PD[1:].view(n_frequencies(p), 2, -1).pow(2).sum((1, 2)).sqrt()


def gini(values: torch.Tensor) -> float:
    """Gini coefficient of non-negative values: 0 when all are equal, (n - m) / n when m of n are equal and
    the rest zero, near 1 when one value holds everything."""
    v = values.double().flatten().sort().values
    n, total = v.numel(), v.sum()
    if total <= 0:
        return 0.0
    ranks = torch.arange(1, n + 1, dtype=torch.float64)
    return float(((2 * ranks - n - 1) * v).sum() / (n * total))


def sum_means(logits_NC: torch.Tensor, p: int) -> torch.Tensor:
    """[p (s), C]: the mean of the logits over the p pairs with a + b = s (mod p)."""
    a = torch.arange(p).unsqueeze(1)
    b_for_sum = (torch.arange(p).unsqueeze(0) - a) % p  # [a, s] -> b
    rows = (a * p + b_for_sum).reshape(-1)
    return logits_NC.double()[rows].view(p, p, -1).mean(0)


def frequency_energy(logits_NC: torch.Tensor, p: int) -> torch.Tensor:
    """[(p - 1) / 2]: the sum of squares, over all inputs and outputs, of the logits' component along
    cos(w_k (a + b)) and sin(w_k (a + b))."""
    coefficients = fourier_basis(p) @ sum_means(logits_NC, p)
    return p * coefficients[1:].view(n_frequencies(p), 2, -1).pow(2).sum((1, 2))


def centred_energy(logits_NC: torch.Tensor) -> float:
    """Sum of squares of the logits around each output's mean over inputs: what `frequency_energy` shares."""
    x = logits_NC.double()
    return float((x - x.mean(0)).pow(2).sum())


def key_frequencies(energy: torch.Tensor, ratio: float = 2.0) -> list[int]:
    """Frequencies (1-based) whose energy is at least `ratio` times the mean over frequencies, strongest
    first: none when energy is spread evenly (memorised or untrained), the few a trained model uses."""
    order = energy.argsort(descending=True)
    return [int(k) + 1 for k in order if energy[k] >= ratio * energy.mean() and energy[k] > 0]


def _components(frequencies: list[int], p: int, constant: bool) -> torch.Tensor:
    rows = [0] if constant else []
    for k in frequencies:
        if not 1 <= k <= n_frequencies(p):
            raise ValueError(f"frequency {k} is out of range 1..{n_frequencies(p)} for p={p}")
        rows += [2 * k - 1, 2 * k]
    return torch.tensor(rows, dtype=torch.long)


def _sum_projection(logits_NC: torch.Tensor, p: int, frequencies: list[int], constant: bool) -> torch.Tensor:
    """[p*p, C]: the logits' component along the given frequencies of a + b (and the constant)."""
    basis = fourier_basis(p)[_components(frequencies, p, constant)]
    projected_SC = basis.T @ (basis @ sum_means(logits_NC, p))
    sums = (torch.arange(p).unsqueeze(1) + torch.arange(p).unsqueeze(0)).reshape(-1) % p
    return projected_SC[sums]


def restricted_logits(logits_NC: torch.Tensor, p: int, frequencies: list[int]) -> torch.Tensor:
    """Only the constant and the given frequencies of a + b: what the Fourier circuit alone predicts."""
    return _sum_projection(logits_NC, p, frequencies, constant=True).to(logits_NC.dtype)


def excluded_logits(logits_NC: torch.Tensor, p: int, frequencies: list[int]) -> torch.Tensor:
    """The logits with the given frequencies of a + b taken out: what is left for memorisation."""
    return (logits_NC.double() - _sum_projection(logits_NC, p, frequencies, constant=False)).to(
        logits_NC.dtype
    )


def loss(logits_NC: torch.Tensor, answers_N: torch.Tensor, rows: torch.Tensor | None = None) -> float:
    if rows is not None:
        logits_NC, answers_N = logits_NC[rows], answers_N[rows]
    return float(F.cross_entropy(logits_NC.double(), answers_N))

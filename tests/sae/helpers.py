"""Synthetic activations for SAE tests."""

from __future__ import annotations

import torch


def sparse_dictionary(d_in: int = 32, n_atoms: int = 64, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    atoms = torch.randn(n_atoms, d_in, generator=g)
    return atoms / atoms.norm(dim=-1, keepdim=True)


def sparse_batches(
    atoms_AD, n_batches: int, batch: int = 256, active=(3, 4), noise: float = 0.01, seed: int = 1
):
    """Batches of x = sum of 3-4 random atoms with positive coefficients + Gaussian noise."""
    g = torch.Generator().manual_seed(seed)
    n_atoms, d_in = atoms_AD.shape
    for _ in range(n_batches):
        scores = torch.rand(batch, n_atoms, generator=g)
        n_active = torch.randint(active[0], active[1] + 1, (batch, 1), generator=g)
        rank = scores.argsort(dim=-1).argsort(dim=-1)
        coef = torch.where(rank < n_active, 0.5 + torch.rand(batch, n_atoms, generator=g), 0.0)
        yield coef @ atoms_AD + noise * torch.randn(batch, d_in, generator=g)


def random_batch(n: int = 64, d: int = 16, seed: int = 0, shift: float = 3.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g) * 2 + shift

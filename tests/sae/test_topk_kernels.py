"""The sparse TopK path (topk_kernels.py) against dense autograd on the same arithmetic."""

from __future__ import annotations

import torch

from incision.sae.topk_kernels import feature_sums, sparse_decode, topk_encode

from .helpers import random_batch
from .test_model import D, F, make, normalised_mse, reference_pre


def dense_reference_loss(sae, x, dead_F, k: int, aux_k: int):
    """The TopK training loss written densely: every gradient comes from plain autograd."""
    pre = reference_pre(sae, x)
    values, indices = pre.topk(k, dim=-1)
    latents = torch.zeros_like(pre).scatter(-1, indices, values.relu())
    recon = latents @ sae.W_dec_FD + sae.b_dec_D
    dead_pre = pre.masked_fill(~dead_F, -torch.inf)
    aux_values, aux_indices = dead_pre.topk(aux_k, dim=-1)
    aux_latents = torch.zeros_like(pre).scatter(-1, aux_indices, aux_values.relu())
    aux = normalised_mse(aux_latents @ sae.W_dec_FD, (x - recon).detach())
    return normalised_mse(recon, x) + sae.cfg.aux_coefficient * aux


def test_sparse_training_gradients_equal_dense_autograd():
    sae = make("topk", k=5, aux_k=7, dead_after_tokens=100).double()
    dead_F = torch.zeros(F, dtype=torch.bool)
    dead_F[1::4] = True
    sae.tokens_since_fired_F[dead_F] = 100
    x = random_batch(40, D, seed=5).double()
    sae.train()

    sae(x).losses.total.backward()
    sparse_grads = {name: p.grad.clone() for name, p in sae.named_parameters()}
    sae.zero_grad()
    dense_reference_loss(sae, x, dead_F, k=5, aux_k=7).backward()
    for name, p in sae.named_parameters():
        torch.testing.assert_close(sparse_grads[name], p.grad, msg=name)
        assert p.grad.abs().sum() > 0, name  # every parameter is reached, so the comparison means something


def test_topk_encode_passes_gradcheck_in_every_input():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 5, generator=g, dtype=torch.float64, requires_grad=True)
    b_dec = torch.randn(5, generator=g, dtype=torch.float64, requires_grad=True)
    w_enc = torch.randn(5, 9, generator=g, dtype=torch.float64, requires_grad=True)
    b_enc = torch.randn(9, generator=g, dtype=torch.float64, requires_grad=True)

    def values(*args):
        return topk_encode(*args, 3).values_BK

    assert torch.autograd.gradcheck(values, (x, b_dec, w_enc, b_enc))


def test_feature_sums_and_sparse_decode_equal_dense_products():
    g = torch.Generator().manual_seed(1)
    rows = torch.randn(30, 8, generator=g)
    indices = torch.stack([torch.randperm(20, generator=g)[:4] for _ in range(30)])
    weights = torch.randn(30, 4, generator=g)
    dense = torch.zeros(30, 20).scatter(-1, indices, weights)
    torch.testing.assert_close(feature_sums(indices, weights, rows, 20), dense.T @ rows)
    table = torch.randn(20, 8, generator=g)
    torch.testing.assert_close(sparse_decode(indices, weights, table), dense @ table)


def test_topk_latents_report_firing_and_l0():
    sae = make("topk", k=4)
    x = random_batch(12, D, seed=6)
    out = sae(x)
    dense = out.latents_BF
    torch.testing.assert_close(out.latents.fired_F(), (dense != 0).any(0))
    torch.testing.assert_close(out.losses.l0, (dense != 0).sum(-1).float().mean())

"""Sparse TopK encode and decode: the training step touches only the k selected latents of each token.

A dense TopK step spends most of its time on matrices of shape [B, d_sae] that are almost all zeros: the
scattered latents, the decoder matmul, and the gradients of both. Here the encoder's forward matmul is the
only dense one. Its backward reaches W_enc and b_enc through the B x k selected entries alone, and decoding
is a weighted gather of k decoder rows per token (`embedding_bag`, whose backward is sparse too). Same
arithmetic as the dense path up to the order of floating-point sums.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F


class TopKLatents(NamedTuple):
    """The k largest latents of each token (ReLU applied: some values may be 0), and their feature ids."""

    indices_BK: torch.Tensor
    values_BK: torch.Tensor
    d_sae: int

    def dense(self) -> torch.Tensor:
        """The latents as a dense [B, d_sae] tensor (gradients flow to `values_BK`)."""
        zeros = self.values_BK.new_zeros(self.values_BK.shape[0], self.d_sae)
        return zeros.scatter(-1, self.indices_BK, self.values_BK)

    def fired_F(self) -> torch.Tensor:
        """Which latents are non-zero for at least one token."""
        fired = torch.zeros(self.d_sae, dtype=torch.bool, device=self.indices_BK.device)
        return fired.index_fill_(0, self.indices_BK[self.values_BK > 0], True)

    def l0(self) -> torch.Tensor:
        """Non-zero latents per token, averaged over the batch."""
        return (self.values_BK > 0).sum(-1).float().mean()


def topk_encode(x_BD, b_dec_D, W_enc_DF, b_enc_F, k: int) -> TopKLatents:
    """relu(topk((x - b_dec) @ W_enc + b_enc)), differentiable in every tensor argument."""
    values_BK, indices_BK = _TopKEncode.apply(x_BD, b_dec_D, W_enc_DF, b_enc_F, k)
    return TopKLatents(indices_BK, values_BK, W_enc_DF.shape[1])


def sparse_decode(indices_BK: torch.Tensor, values_BK: torch.Tensor, W_dec_FD: torch.Tensor) -> torch.Tensor:
    """sum_j values[b, j] * W_dec[indices[b, j]] for each token b (no bias)."""
    return F.embedding_bag(indices_BK, W_dec_FD, per_sample_weights=values_BK, mode="sum")


def feature_sums(indices_BK: torch.Tensor, weights_BK: torch.Tensor, rows_BD: torch.Tensor, d_sae: int):
    """[d_sae, D]: for each feature f, the sum of weights[b, j] * rows[b] over the (b, j) with indices[b, j]
    == f. This is rows^T @ S for the sparse [B, d_sae] matrix S of the weights, done as one embedding_bag
    whose bags are the features (the entries sorted by feature)."""
    flat_F = indices_BK.reshape(-1)
    order = flat_F.argsort()
    token_of_entry = torch.arange(indices_BK.shape[0], device=flat_F.device).repeat_interleave(
        indices_BK.shape[1]
    )
    counts = torch.bincount(flat_F, minlength=d_sae)
    offsets = torch.zeros(d_sae + 1, dtype=torch.int64, device=flat_F.device)
    offsets[1:] = counts.cumsum(0)
    return F.embedding_bag(
        token_of_entry[order], rows_BD, offsets, mode="sum",
        per_sample_weights=weights_BK.reshape(-1)[order], include_last_offset=True,
    )  # fmt: skip


class _TopKEncode(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x_BD, b_dec_D, W_enc_DF, b_enc_F, k):
        centred_BD = x_BD - b_dec_D
        values_BK, indices_BK = torch.addmm(b_enc_F, centred_BD, W_enc_DF).topk(k, dim=-1, sorted=False)
        values_BK = values_BK.relu()
        ctx.save_for_backward(centred_BD, W_enc_DF, indices_BK, values_BK)
        ctx.mark_non_differentiable(indices_BK)
        return values_BK, indices_BK

    @staticmethod
    def backward(ctx, grad_values_BK, _grad_indices):
        centred_BD, W_enc_DF, indices_BK, values_BK = ctx.saved_tensors
        d_sae = W_enc_DF.shape[1]
        grad_pre_BK = grad_values_BK * (values_BK > 0)  # the ReLU's gradient
        grad_b_enc_F = grad_pre_BK.new_zeros(d_sae).index_add_(
            0, indices_BK.reshape(-1), grad_pre_BK.reshape(-1)
        )
        grad_x = grad_b_dec = grad_W_enc = None
        if ctx.needs_input_grad[0]:
            grad_x = F.embedding_bag(
                indices_BK, W_enc_DF.T.contiguous(), per_sample_weights=grad_pre_BK, mode="sum"
            )
        if ctx.needs_input_grad[1]:
            grad_b_dec = -(W_enc_DF @ grad_b_enc_F)  # minus the row sum of grad_x, without forming it
        if ctx.needs_input_grad[2]:
            grad_W_enc = feature_sums(indices_BK, grad_pre_BK, centred_BD, d_sae).T.contiguous()
        grad_b_enc = grad_b_enc_F if ctx.needs_input_grad[3] else None
        return grad_x, grad_b_dec, grad_W_enc, grad_b_enc, None

"""SAE variants, registered by the name an SAEConfig saves in `architecture`.

A variant owns what differs between SAEs: its activation (pre-activations -> latents), its extra parameters
or buffers, its loss terms and what it learns from each batch outside the gradient. Its state lives on the
SparseAutoencoder module, so checkpoints and state dicts hold everything.

Loss conventions (all computed on the SAE's own input scale, see `normalise_activations`):
- topk, batchtopk (Gao et al. 2024): normalised MSE ||x - x_hat||^2 / ||x - mean(x)||^2 over the batch, plus
  `aux_coefficient` x the auxiliary-k loss: the top `aux_k` dead latents (pre-activations, ReLU) reconstruct
  the residual x - x_hat (detached), scored by the same normalised MSE against the residual's own variance.
- relu (Anthropic, April 2024): per-token squared error summed over features, mean over the batch, plus
  `l1_coefficient` x sum_i f_i ||W_dec_i||.
- jumprelu (Rajamanoharan et al. 2024): the same squared error plus `l0_coefficient` x the number of active
  latents, whose gradient reaches the thresholds through a rectangle-kernel pseudo-derivative of width
  `jumprelu_bandwidth`. Thresholds are learned in log space (always positive).

Whatever depends on the whole batch (the normalisers, batchtopk's cut and threshold) goes through the
`reducer` the trainer passes: `LOCAL` (the default) when this process holds the batch, a torch distributed
one when each process holds an equal share of it. Loss terms are then this share's part of the batch's
loss, so that the parts sum to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, NamedTuple

import torch
from torch import nn

from ..reduce import LOCAL, Reducer
from .topk_kernels import TopKLatents, sparse_decode, topk_encode

if TYPE_CHECKING:
    from .model import SparseAutoencoder

VARIANTS: dict[str, Variant] = {}


def register(cls: type[Variant]) -> type[Variant]:
    """Class decorator: make a variant available under `cls.name`."""
    VARIANTS[cls.name] = cls()
    return cls


class LossTerms(NamedTuple):
    reconstruction: torch.Tensor
    sparsity: torch.Tensor
    aux: torch.Tensor


class Variant:
    """The interface; subclasses override what they need. Methods that see a training batch take the
    `reducer` over the processes that share it."""

    name: ClassVar[str]
    saelens_architecture: ClassVar[str]  # what SAELens calls the inference form of this SAE
    uses_k: ClassVar[bool] = False  # whether SAEConfig.k means anything to it
    sparse: ClassVar[bool] = False  # forward goes through `encode_sparse` and `sparse_loss_terms`

    def add_state(self, sae: SparseAutoencoder) -> None:
        """Register extra parameters or buffers on a new SAE."""

    def activate(
        self, sae: SparseAutoencoder, pre_BF: torch.Tensor, reducer: Reducer = LOCAL
    ) -> torch.Tensor:
        raise NotImplementedError

    def loss_terms(self, sae, x_BD, pre_BF, latents_BF, recon_BD, reducer: Reducer = LOCAL) -> LossTerms:
        raise NotImplementedError

    def encode_sparse(self, sae: SparseAutoencoder, x_BD: torch.Tensor) -> TopKLatents:
        raise NotImplementedError

    def sparse_loss_terms(self, sae, x_BD, recon_BD, reducer: Reducer = LOCAL) -> LossTerms:
        raise NotImplementedError

    @torch.no_grad()
    def observe(self, sae: SparseAutoencoder, latents_BF: torch.Tensor, reducer: Reducer = LOCAL) -> None:
        """Learn from a training batch outside the gradient (after the optimiser step)."""

    def threshold_F(self, sae: SparseAutoencoder) -> torch.Tensor | None:
        """Per-latent inference threshold when the variant has one (saved as SAELens' `threshold`)."""
        return None


def normalised_mse(
    prediction_BD: torch.Tensor, target_BD: torch.Tensor, reducer: Reducer = LOCAL
) -> torch.Tensor:
    """||prediction - target||^2 / ||target - mean(target)||^2 over the batch (the FVU of the batch): the local
    rows' part of it, over the variance of the whole batch, so the processes' parts sum to it."""
    variance = batch_variance(target_BD, reducer)
    return (prediction_BD - target_BD).pow(2).sum() / variance.clamp_min(torch.finfo(variance.dtype).tiny)


def batch_variance(x_BD: torch.Tensor, reducer: Reducer = LOCAL) -> torch.Tensor:
    """||x - mean(x)||^2 summed over the whole batch, whose shares all have this process's row count (the
    trainer splits batches evenly); with several processes, detached."""
    mean_D = reducer.sum(x_BD.mean(0)) / reducer.size  # the mean of equal shares' means
    return reducer.sum((x_BD - mean_D).pow(2).sum())


def batch_mean(values_B: torch.Tensor, reducer: Reducer = LOCAL) -> torch.Tensor:
    """The local rows' part of the mean over the whole batch (equal shares): the mean itself for `LOCAL`."""
    return values_B.mean() / reducer.size


def squared_error(recon_BD: torch.Tensor, x_BD: torch.Tensor, reducer: Reducer = LOCAL) -> torch.Tensor:
    """Squared error summed over features, averaged over the batch."""
    return batch_mean((recon_BD - x_BD).pow(2).sum(-1), reducer)


def aux_k_loss(sae: SparseAutoencoder, x_BD, pre_BF, recon_BD, reducer: Reducer = LOCAL) -> torch.Tensor:
    """The auxiliary-k loss of Gao et al. (2024): 0 when no latent is dead or the SAE is not training."""
    dead_F = sae.dead_mask_F()
    n_dead = int(dead_F.sum())
    if not sae.training or n_dead == 0 or sae.cfg.aux_coefficient == 0:
        return pre_BF.new_zeros(())
    k_aux = min(sae.cfg.aux_k, n_dead)
    values_BK, indices_BK = pre_BF.masked_fill(~dead_F, -torch.inf).topk(k_aux, dim=-1)
    dead_latents_BF = torch.zeros_like(pre_BF).scatter(-1, indices_BK, values_BK.relu())
    residual_BD = (x_BD - recon_BD).detach()
    return normalised_mse(dead_latents_BF @ sae.W_dec_FD, residual_BD, reducer)


def sparse_aux_k_loss(sae: SparseAutoencoder, x_BD, recon_BD, reducer: Reducer = LOCAL) -> torch.Tensor:
    """`aux_k_loss` computing pre-activations of the dead latents only."""
    dead_N = sae.dead_mask_F().nonzero().squeeze(1)
    if not sae.training or dead_N.numel() == 0 or sae.cfg.aux_coefficient == 0:
        return x_BD.new_zeros(())
    pre_BN = (x_BD - sae.b_dec_D) @ sae.W_enc_DF[:, dead_N] + sae.b_enc_F[dead_N]
    values_BK, which_BK = pre_BN.topk(min(sae.cfg.aux_k, dead_N.numel()), dim=-1, sorted=False)
    dead_recon_BD = sparse_decode(dead_N[which_BK], values_BK.relu(), sae.W_dec_FD)
    return normalised_mse(dead_recon_BD, (x_BD - recon_BD).detach(), reducer)


@register
class TopK(Variant):
    """The k largest pre-activations of each example, through a ReLU; the rest are 0."""

    name = "topk"
    saelens_architecture = "topk"
    uses_k = True
    sparse = True  # forward never forms dense latents (topk_kernels.py); `activate` serves `encode`

    def activate(self, sae, pre_BF, reducer=LOCAL):
        values_BK, indices_BK = pre_BF.topk(sae.cfg.k, dim=-1)
        return torch.zeros_like(pre_BF).scatter(-1, indices_BK, values_BK.relu())

    def loss_terms(self, sae, x_BD, pre_BF, latents_BF, recon_BD, reducer=LOCAL):
        zero = pre_BF.new_zeros(())
        recon = normalised_mse(recon_BD, x_BD, reducer)
        return LossTerms(recon, zero, aux_k_loss(sae, x_BD, pre_BF, recon_BD, reducer))

    def encode_sparse(self, sae, x_BD):
        return topk_encode(x_BD, sae.b_dec_D, sae.W_enc_DF, sae.b_enc_F, sae.cfg.k)

    def sparse_loss_terms(self, sae, x_BD, recon_BD, reducer=LOCAL):
        zero = x_BD.new_zeros(())
        recon = normalised_mse(recon_BD, x_BD, reducer)
        return LossTerms(recon, zero, sparse_aux_k_loss(sae, x_BD, recon_BD, reducer))


@register
class BatchTopK(TopK):
    """Training: the k x B largest ReLU pre-activations of the whole batch. Inference (eval mode): a latent is
    active where its pre-activation exceeds one global threshold, the running mean of the smallest active
    value per training batch (Bussmann et al. 2024), so each example is encoded on its own."""

    name = "batchtopk"
    saelens_architecture = "jumprelu"
    sparse = False  # a token may have any number of latents

    def add_state(self, sae):
        sae.register_buffer("threshold", torch.zeros((), dtype=torch.float64))
        sae.register_buffer("threshold_updates", torch.zeros((), dtype=torch.int64))

    def activate(self, sae, pre_BF, reducer=LOCAL):
        acts_BF = pre_BF.relu()
        if not sae.training:
            return acts_BF * (pre_BF > sae.threshold.to(pre_BF.dtype))
        if reducer.size > 1:  # the batch is spread over processes: keep what reaches the whole batch's cut
            return acts_BF * (acts_BF >= _batch_kth_largest(acts_BF, sae.cfg.k, reducer))
        n_keep = min(sae.cfg.k * pre_BF.shape[0], pre_BF.numel())  # exactly k x B entries, ties or not
        values, indices = acts_BF.flatten().topk(n_keep)
        return torch.zeros_like(acts_BF).flatten().scatter(0, indices, values).view_as(acts_BF)

    @torch.no_grad()
    def observe(self, sae, latents_BF, reducer=LOCAL):
        active = latents_BF[latents_BF > 0]
        # the smallest active value of the whole batch (inf: none is active)
        smallest = reducer.min(active.min() if active.numel() else latents_BF.new_tensor(torch.inf))
        if not torch.isfinite(smallest):
            return
        sae.threshold_updates += 1
        # a plain mean over the first 1/rate batches, then an exponential moving average
        weight = max(1.0 / float(sae.threshold_updates), sae.cfg.batchtopk_threshold_rate)
        sae.threshold += weight * (smallest.double() - sae.threshold)

    def threshold_F(self, sae):
        return sae.threshold.to(sae.b_enc_F.dtype).expand(sae.cfg.d_sae)


def _batch_kth_largest(acts_BF: torch.Tensor, k: int, reducer: Reducer) -> torch.Tensor:
    """The (k x rows)-th largest entry of the whole batch of `acts_BF` (equal shares), or the smallest
    positive float when fewer entries are positive: keeping entries >= it keeps what a single-process
    batch top-k keeps (up to exact ties at the cut; kept zeros are zeros either way)."""
    with torch.no_grad():
        n_keep = min(k * acts_BF.shape[0], acts_BF.numel()) * reducer.size
        local = acts_BF.flatten().topk(min(n_keep, acts_BF.numel())).values
        cut = reducer.cat(local).topk(n_keep).values[-1]
        return cut.clamp_min(torch.finfo(acts_BF.dtype).tiny)


@register
class ReLU(Variant):
    """ReLU latents with an L1 penalty weighted by the decoder row norms."""

    name = "relu"
    saelens_architecture = "standard"

    def activate(self, sae, pre_BF, reducer=LOCAL):
        return pre_BF.relu()

    def loss_terms(self, sae, x_BD, pre_BF, latents_BF, recon_BD, reducer=LOCAL):
        l1 = batch_mean((latents_BF * sae.W_dec_FD.norm(dim=-1)).sum(-1), reducer)
        error = squared_error(recon_BD, x_BD, reducer)
        return LossTerms(error, sae.cfg.l1_coefficient * l1, pre_BF.new_zeros(()))


def _rectangle(u: torch.Tensor) -> torch.Tensor:
    return ((u > -0.5) & (u < 0.5)).to(u.dtype)


class _JumpReLU(torch.autograd.Function):
    """pre * H(pre - theta); d/dpre = H(pre - theta), d/dtheta = -(theta / eps) K((pre - theta) / eps)."""

    @staticmethod
    def forward(ctx, pre_BF, threshold_F, bandwidth):
        ctx.save_for_backward(pre_BF, threshold_F)
        ctx.bandwidth = bandwidth
        return pre_BF * (pre_BF > threshold_F)

    @staticmethod
    def backward(ctx, grad_BF):
        pre_BF, threshold_F = ctx.saved_tensors
        eps = ctx.bandwidth
        grad_pre = grad_BF * (pre_BF > threshold_F)
        grad_threshold = -(threshold_F / eps) * _rectangle((pre_BF - threshold_F) / eps) * grad_BF
        return grad_pre, grad_threshold.sum(0), None


class _Step(torch.autograd.Function):
    """H(pre - theta); d/dpre = 0, d/dtheta = -(1 / eps) K((pre - theta) / eps)."""

    @staticmethod
    def forward(ctx, pre_BF, threshold_F, bandwidth):
        ctx.save_for_backward(pre_BF, threshold_F)
        ctx.bandwidth = bandwidth
        return (pre_BF > threshold_F).to(pre_BF.dtype)

    @staticmethod
    def backward(ctx, grad_BF):
        pre_BF, threshold_F = ctx.saved_tensors
        eps = ctx.bandwidth
        grad_threshold = -(1.0 / eps) * _rectangle((pre_BF - threshold_F) / eps) * grad_BF
        return torch.zeros_like(pre_BF), grad_threshold.sum(0), None


@register
class JumpReLU(Variant):
    """A latent passes its pre-activation where it exceeds the latent's learned threshold, else 0."""

    name = "jumprelu"
    saelens_architecture = "jumprelu"

    def add_state(self, sae):
        start = torch.log(torch.tensor(sae.cfg.jumprelu_init_threshold, dtype=sae.W_enc_DF.dtype))
        sae.log_threshold_F = nn.Parameter(start.expand(sae.cfg.d_sae).clone())

    def activate(self, sae, pre_BF, reducer=LOCAL):
        return _JumpReLU.apply(pre_BF, self.threshold_F(sae), sae.cfg.jumprelu_bandwidth)

    def loss_terms(self, sae, x_BD, pre_BF, latents_BF, recon_BD, reducer=LOCAL):
        steps_BF = _Step.apply(pre_BF, self.threshold_F(sae), sae.cfg.jumprelu_bandwidth)
        l0 = batch_mean(steps_BF.sum(-1), reducer)
        error = squared_error(recon_BD, x_BD, reducer)
        return LossTerms(error, sae.cfg.l0_coefficient * l0, pre_BF.new_zeros(()))

    def threshold_F(self, sae):
        return sae.log_threshold_F.exp()

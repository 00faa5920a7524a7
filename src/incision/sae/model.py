"""SparseAutoencoder: x -> latents = act((x * s - b_dec) @ W_enc + b_enc) -> x_hat = (latents @ W_dec + b_dec) / s.

`s` is 1 unless the config normalises activations (one factor, set from data before training). `act` is
the variant's (topk, batchtopk, relu, jumprelu; see variants.py). Decoder rows are kept at unit norm
during training. Knows nothing of models: it reads activation tensors [N, d_in]. A `topk` forward keeps the
latents sparse (topk_kernels.py); other variants form dense [B, d_sae] latents. A trainer that spreads each
batch over processes passes a `reducer` (incision.reduce) to `forward` and `record_batch`; nothing here
knows how the processes talk.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import ConfigError, InputError
from ..reduce import LOCAL, Reducer
from .config import SAEConfig
from .topk_kernels import TopKLatents, sparse_decode
from .variants import VARIANTS, Variant, batch_mean, batch_variance

log = logging.getLogger(__name__)


@dataclass
class SAELosses:
    """Loss terms (with gradients) and batch metrics (detached). Metrics are in the input's units."""

    total: torch.Tensor  # reconstruction + sparsity + aux_coefficient * aux: what training minimises
    reconstruction: torch.Tensor  # the variant's reconstruction term (see variants.py)
    sparsity: torch.Tensor  # coefficient x L1 (relu) or L0 (jumprelu); 0 for topk variants
    aux: torch.Tensor  # auxiliary-k loss before its coefficient (topk variants while training)
    mse: torch.Tensor  # mean squared error per element
    fvu: torch.Tensor  # fraction of variance unexplained: ||x - x_hat||^2 / ||x - mean(x)||^2
    l0: torch.Tensor  # active latents per example


@dataclass
class SAEOutput:
    reconstruction_BD: torch.Tensor
    latents: torch.Tensor | TopKLatents  # dense [B, d_sae], or the top k per token for sparse variants
    losses: SAELosses

    @property
    def latents_BF(self) -> torch.Tensor:
        return self.latents.dense() if isinstance(self.latents, TopKLatents) else self.latents


class SparseAutoencoder(nn.Module):
    """A sparse autoencoder of one registered variant. Parameters are named by shape (W_enc_DF, W_dec_FD...);
    `formats.save` writes them under SAELens' names."""

    def __init__(
        self,
        cfg: SAEConfig,
        *,
        seed: int | None = 0,
        dtype: torch.dtype = torch.float32,
        device: str | torch.device | None = None,
        meta: dict | None = None,
    ):
        super().__init__()
        if not isinstance(cfg, SAEConfig):
            raise ConfigError(f"SparseAutoencoder takes an SAEConfig, got {type(cfg).__name__}")
        self.cfg = cfg
        self.meta = dict(meta or {})  # model, site...: what the SAE was trained on
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        w_dec = torch.randn(cfg.d_sae, cfg.d_in, generator=generator)
        w_dec = (w_dec / w_dec.norm(dim=-1, keepdim=True)).to(dtype)
        self.W_enc_DF = nn.Parameter(w_dec.T.clone())  # encoder starts as the decoder's transpose
        self.b_enc_F = nn.Parameter(torch.zeros(cfg.d_sae, dtype=dtype))
        self.W_dec_FD = nn.Parameter(w_dec)
        self.b_dec_D = nn.Parameter(torch.zeros(cfg.d_in, dtype=dtype))
        self.register_buffer("input_scale", torch.ones((), dtype=dtype))
        self.register_buffer("tokens_since_fired_F", torch.zeros(cfg.d_sae, dtype=torch.int64))
        self.variant.add_state(self)
        if device is not None:
            self.to(device)

    @property
    def variant(self) -> Variant:
        return VARIANTS[self.cfg.architecture]

    @property
    def dtype(self) -> torch.dtype:
        return self.W_enc_DF.dtype

    @property
    def device(self) -> torch.device:
        return self.W_enc_DF.device

    # -- the map --------------------------------------------------------------------------------------
    def pre_activations(self, x_ND: torch.Tensor) -> torch.Tensor:
        x = self._check_input(x_ND)
        return (x * self.input_scale - self.b_dec_D) @ self.W_enc_DF + self.b_enc_F

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latents [..., d_sae] of activations [..., d_in]. BatchTopK in eval mode uses its threshold."""
        flat = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        latents = self.variant.activate(self, self.pre_activations(flat))
        return latents.reshape(*x.shape[:-1], self.cfg.d_sae)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Activations [..., d_in] rebuilt from latents [..., d_sae]."""
        if latents.shape[-1] != self.cfg.d_sae:
            raise InputError(f"latents must have {self.cfg.d_sae} columns, got shape {list(latents.shape)}")
        return (latents.to(self.dtype) @ self.W_dec_FD + self.b_dec_D) / self.input_scale

    def forward(self, x_BD: torch.Tensor, reducer: Reducer = LOCAL) -> SAEOutput:
        """Reconstruction, latents and losses of a batch [B, d_in]. With a `reducer` over processes that
        each hold an equal share of the batch, `x_BD` is this share: batch statistics are the whole batch's,
        and losses and metrics this share's part of the whole batch's (the parts sum to it)."""
        x = self._check_input(x_BD)
        if x.ndim != 2:
            raise InputError(f"forward takes a batch of shape [B, {self.cfg.d_in}], got {list(x.shape)}")
        scaled_BD = x * self.input_scale
        variant = self.variant
        if variant.sparse:
            latents = variant.encode_sparse(self, scaled_BD)
            scaled_recon_BD = (
                sparse_decode(latents.indices_BK, latents.values_BK, self.W_dec_FD) + self.b_dec_D
            )
            terms = variant.sparse_loss_terms(self, scaled_BD, scaled_recon_BD, reducer)
        else:
            pre_BF = (scaled_BD - self.b_dec_D) @ self.W_enc_DF + self.b_enc_F
            latents = variant.activate(self, pre_BF, reducer)
            scaled_recon_BD = latents @ self.W_dec_FD + self.b_dec_D
            terms = variant.loss_terms(self, scaled_BD, pre_BF, latents, scaled_recon_BD, reducer)
        recon_BD = scaled_recon_BD / self.input_scale
        with torch.no_grad():
            error = (recon_BD - x).pow(2)
            variance = batch_variance(x, reducer).clamp_min(torch.finfo(x.dtype).tiny)
            mse = error.mean() / reducer.size  # equal shares: this share's part of the batch's mean
            metrics = {"mse": mse, "fvu": error.sum() / variance, "l0": _l0(latents, reducer)}
        total = terms.reconstruction + terms.sparsity + self.cfg.aux_coefficient * terms.aux
        losses = SAELosses(total, terms.reconstruction, terms.sparsity, terms.aux, **metrics)
        return SAEOutput(recon_BD, latents, losses)

    def threshold_F(self) -> torch.Tensor | None:
        """Per-latent inference threshold (jumprelu, batchtopk), else None."""
        return self.variant.threshold_F(self)

    def _check_input(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.ndim < 1 or x.shape[-1] != self.cfg.d_in:
            shape = list(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise InputError(f"this SAE reads activations of width {self.cfg.d_in}, got shape {shape}")
        return x.to(device=self.device, dtype=self.dtype)

    # -- training support -------------------------------------------------------------------------------
    def dead_mask_F(self) -> torch.Tensor:
        """Latents that have not fired for `dead_after_tokens` tokens."""
        return self.tokens_since_fired_F >= self.cfg.dead_after_tokens

    @torch.no_grad()
    def record_batch(self, latents: torch.Tensor | TopKLatents, reducer: Reducer = LOCAL) -> None:
        """After a training step: count tokens since each latent last fired; let the variant learn.
        `latents` is a forward's `SAEOutput.latents` (with a `reducer`, this process's equal share)."""
        sparse = isinstance(latents, TopKLatents)
        fired_F = latents.fired_F() if sparse else (latents != 0).any(0)
        n_tokens = (latents.values_BK if sparse else latents).shape[0] * reducer.size
        fired_F = reducer.max(fired_F.to(torch.int32)).bool()  # fired anywhere in the whole batch
        self.tokens_since_fired_F += n_tokens
        self.tokens_since_fired_F[fired_F] = 0
        self.variant.observe(self, latents, reducer)

    @torch.no_grad()
    def normalise_decoder_(self) -> None:
        """Decoder rows back to unit norm (after an optimiser step)."""
        if self.cfg.unit_decoder:
            self.W_dec_FD /= self.W_dec_FD.norm(dim=-1, keepdim=True).clamp_min(torch.finfo(self.dtype).eps)

    @torch.no_grad()
    def project_decoder_grad_(self) -> None:
        """Remove each decoder row's gradient component along the row (before an optimiser step), so the
        step moves rows along the unit sphere and renormalising undoes little."""
        grad = self.W_dec_FD.grad
        if self.cfg.unit_decoder and grad is not None:
            grad -= (grad * self.W_dec_FD).sum(-1, keepdim=True) * self.W_dec_FD

    @torch.no_grad()
    def init_from_data_(self, x_ND: torch.Tensor, b_dec: str = "geometric_median") -> None:
        """Set the input scale (when normalising) and b_dec from a sample of activations.
        b_dec: "geometric_median" (Weiszfeld), "mean" or "zeros"."""
        x = self._check_input(x_ND).reshape(-1, self.cfg.d_in).double()
        if self.cfg.normalise_activations == "expected_average":
            mean_square = x.pow(2).sum(-1).mean()
            if not mean_square > 0:
                raise InputError("cannot normalise activations whose norms are all 0; check the sample")
            self.input_scale.fill_(float((self.cfg.d_in / mean_square).sqrt()))
        x = x * float(self.input_scale)
        if b_dec == "geometric_median":
            self.b_dec_D.copy_(geometric_median(x))
        elif b_dec == "mean":
            self.b_dec_D.copy_(x.mean(0))
        elif b_dec != "zeros":
            raise ConfigError(f"b_dec must be 'geometric_median', 'mean' or 'zeros', got {b_dec!r}")


def _l0(latents: torch.Tensor | TopKLatents, reducer: Reducer = LOCAL) -> torch.Tensor:
    """Active latents per token: this share's part of the whole batch's mean."""
    values = latents.values_BK if isinstance(latents, TopKLatents) else latents
    return batch_mean((values != 0).sum(-1).float(), reducer)


def geometric_median(x_ND: torch.Tensor, max_iter: int = 200, tol: float = 1e-9) -> torch.Tensor:
    """The point minimising the sum of Euclidean distances to the rows of x (Weiszfeld's iteration, in
    float64, started at the mean; a row it lands on is weighted as if 1e-12 away)."""
    x = x_ND.double()
    median = x.mean(0)
    for _ in range(max_iter):
        weights = 1.0 / (x - median).norm(dim=-1).clamp_min(1e-12)
        new = (weights[:, None] * x).sum(0) / weights.sum()
        moved = (new - median).norm()
        median = new
        if moved <= tol * (1.0 + median.norm()):
            break
    return median

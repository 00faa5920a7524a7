"""Solvers for linear probes on standardised activations.

Every solver minimises the same objective, the one scikit-learn's `LogisticRegression(C=1 / l2)` uses:
`sum_i w_i * cross_entropy_i + l2 / 2 * ||W||^2` (bias not penalised), scaled by 1 / N so that its size
does not depend on N (the minimiser is unchanged). Binary problems have one output, softmax problems one
per class. Nothing here knows about models, stores or sites.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import ConfigError


@dataclass
class Solution:
    weight_CD: torch.Tensor
    bias_C: torch.Tensor


def n_outputs(n_classes: int) -> int:
    return 1 if n_classes == 2 else n_classes


def weighted_loss(logits_NC: torch.Tensor, y_N: torch.Tensor, sample_weight_N: torch.Tensor) -> torch.Tensor:
    """Summed (weighted) cross-entropy: sigmoid for one output, softmax for several."""
    if logits_NC.shape[1] == 1:
        losses = F.binary_cross_entropy_with_logits(
            logits_NC[:, 0], y_N.to(logits_NC.dtype), reduction="none"
        )
    else:
        losses = F.cross_entropy(logits_NC, y_N, reduction="none")
    return (losses * sample_weight_N).sum()


def lbfgs(
    z_ND: torch.Tensor,
    y_N: torch.Tensor,
    n_classes: int,
    l2: float,
    sample_weight_N: torch.Tensor,
    init: Solution | None = None,
    max_iter: int = 500,
    tolerance: float = 1e-9,
) -> Solution:
    """Full batch L-BFGS with a strong-Wolfe line search, in `z_ND`'s precision."""
    n, dtype = z_ND.shape[0], z_ND.dtype
    shape = (n_outputs(n_classes), z_ND.shape[1])
    weight = (init.weight_CD.to(dtype) if init else torch.zeros(shape, dtype=dtype)).clone().requires_grad_()
    bias = (init.bias_C.to(dtype) if init else torch.zeros(shape[0], dtype=dtype)).clone().requires_grad_()
    sample_weight = sample_weight_N.to(dtype)
    optimizer = torch.optim.LBFGS(
        [weight, bias],
        max_iter=max_iter,
        tolerance_grad=tolerance,
        tolerance_change=tolerance * 1e-3,
        history_size=20,
        line_search_fn="strong_wolfe",
    )

    def closure():
        optimizer.zero_grad()
        loss = weighted_loss(z_ND @ weight.T + bias, y_N, sample_weight) + 0.5 * l2 * weight.pow(2).sum()
        loss = loss / n
        loss.backward()
        return loss

    optimizer.step(closure)
    return Solution(weight.detach(), bias.detach())


def adamw_stream(
    batches: Callable[[int], Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]],
    width: int,
    n_classes: int,
    l2s: list[float],
    n_train: int,
    epochs: int = 4,
    lr: float = 1e-2,
    steps_per_epoch: int | None = None,
) -> list[Solution]:
    """Minibatch AdamW over standardised batches, one probe per entry of `l2s` trained side by side.

    `batches(epoch)` yields (z_BD, y_B, sample_weight_B); reading is the cost, so a grid of penalties
    costs about as much as one. The penalty stays in the loss (l2 / n_train per example) and AdamW's
    decoupled decay is off: decay would optimise another objective than the full-batch solver's.
    """
    if epochs < 1:
        raise ConfigError(f"epochs must be at least 1, got {epochs!r}")
    n_out = n_outputs(n_classes)
    weight_LCD = torch.zeros(len(l2s), n_out, width, requires_grad=True)
    bias_LC = torch.zeros(len(l2s), n_out, requires_grad=True)
    penalty_L = torch.tensor([l2 / n_train for l2 in l2s])
    optimizer = torch.optim.AdamW([weight_LCD, bias_LC], lr=lr, weight_decay=0.0)
    total, step = epochs * (steps_per_epoch or 1), 0
    for epoch in range(epochs):
        for z_BD, y_B, sw_B in batches(epoch):
            for group in optimizer.param_groups:
                group["lr"] = lr * _cosine_with_warmup(step, total)
            optimizer.zero_grad()
            logits_LBC = torch.einsum("bd,lcd->lbc", z_BD.float(), weight_LCD) + bias_LC[:, None, :]
            data_loss = sum(weighted_loss(logits, y_B, sw_B) for logits in logits_LBC) / len(y_B)
            (data_loss + 0.5 * (penalty_L * weight_LCD.pow(2).sum((1, 2))).sum()).backward()
            optimizer.step()
            step += 1
    return [Solution(weight_LCD[k].detach().clone(), bias_LC[k].detach().clone()) for k in range(len(l2s))]


def attention_adamw(
    z_BTD: torch.Tensor,
    mask_BT: torch.Tensor,
    y_B: torch.Tensor,
    sample_weight_B: torch.Tensor,
    n_classes: int,
    l2s: list[float],
    steps: int = 300,
    batch_size: int = 64,
    lr: float = 1e-2,
    seed: int = 0,
) -> list[tuple[Solution, torch.Tensor]]:
    """Attention pooling learned with the classifier: a query scores each (standardised) token, the
    softmax over a sequence's real tokens weights them, and the linear head reads the weighted mean.
    One (solution, query) per penalty, trained side by side; the penalty covers the head and the query."""
    n, width = len(y_B), z_BTD.shape[2]
    n_out = n_outputs(n_classes)
    generator = torch.Generator().manual_seed(seed)
    query_LD = (torch.randn(len(l2s), width, generator=generator) * 0.01).requires_grad_()
    weight_LCD = torch.zeros(len(l2s), n_out, width, requires_grad=True)
    bias_LC = torch.zeros(len(l2s), n_out, requires_grad=True)
    penalty_L = torch.tensor([l2 / n for l2 in l2s])
    optimizer = torch.optim.AdamW([query_LD, weight_LCD, bias_LC], lr=lr, weight_decay=0.0)
    mask = mask_BT.bool()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = lr * _cosine_with_warmup(step, steps)
        batch = torch.randperm(n, generator=generator)[:batch_size]
        z, m = z_BTD[batch], mask[batch]
        scores_LBT = torch.einsum("btd,ld->lbt", z, query_LD).masked_fill(~m, float("-inf"))
        pooled_LBD = torch.einsum("lbt,btd->lbd", torch.softmax(scores_LBT, dim=2), z)
        logits_LBC = torch.einsum("lbd,lcd->lbc", pooled_LBD, weight_LCD) + bias_LC[:, None, :]
        data_loss = sum(weighted_loss(lg, y_B[batch], sample_weight_B[batch]) for lg in logits_LBC)
        penalty = (penalty_L * (weight_LCD.pow(2).sum((1, 2)) + query_LD.pow(2).sum(1))).sum()
        optimizer.zero_grad()
        (data_loss / len(batch) + 0.5 * penalty).backward()
        optimizer.step()
    return [
        (Solution(weight_LCD[k].detach().clone(), bias_LC[k].detach().clone()), query_LD[k].detach().clone())
        for k in range(len(l2s))
    ]


def _cosine_with_warmup(step: int, total: int, warmup: float = 0.05) -> float:
    warm = max(1, int(total * warmup))
    if step < warm:
        return (step + 1) / warm
    progress = min(1.0, (step - warm) / max(1, total - warm))
    return 0.5 * (1 + torch.cos(torch.tensor(progress * torch.pi)).item())


def diff_means_direction(x_ND: torch.Tensor, y_N: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit direction from the negative class mean to the positive one, and their midpoint."""
    positive, negative = x_ND[y_N == 1].mean(0), x_ND[y_N == 0].mean(0)
    direction = positive - negative
    norm = direction.norm()
    if not norm > 0:
        raise ConfigError("the two classes have the same mean activation; there is no direction to take")
    return direction / norm, (positive + negative) / 2

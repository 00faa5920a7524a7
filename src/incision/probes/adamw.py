"""Minibatch AdamW solvers for linear probes, for what full-batch L-BFGS (solvers.py) cannot take: rows
streamed from a store, several penalties trained side by side, and attention pooling learned with the head.
Same objective as solvers.py: weighted cross-entropy plus l2 / 2 * ||W||^2, scaled by 1 / N.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch

from ..errors import ConfigError
from ..reduce import LOCAL, Reducer
from .solvers import Solution, n_outputs, reduced_backward, weighted_loss


def adamw_stream(
    batches: Callable[[int], Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]],
    width: int,
    n_classes: int,
    l2s: list[float],
    n_train: int,
    epochs: int = 4,
    lr: float = 1e-2,
    steps_per_epoch: int | None = None,
    reducer: Reducer = LOCAL,
) -> list[Solution]:
    """Minibatch AdamW over standardised batches, one probe per entry of `l2s` trained side by side.

    `batches(epoch)` yields (z_BD, y_B, sample_weight_B); reading is the cost, so a grid of penalties
    costs about as much as one. The penalty stays in the loss (l2 / n_train per example) and AdamW's
    decoupled decay is off: decay would optimise another objective than the full-batch solver's.
    With a `reducer` over several processes, `batches` yields this process's share of each batch (every
    process the same number of batches); gradients are summed over processes, so all end with the same probes.
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
            data_loss = sum(weighted_loss(logits, y_B, sw_B) for logits in logits_LBC)
            penalty = 0.5 * (penalty_L * weight_LCD.pow(2).sum((1, 2))).sum()
            n_rows = float(reducer.sum(torch.tensor(float(len(y_B)))))  # the whole batch's mean
            reduced_backward(data_loss, penalty, [weight_LCD, bias_LC], n_rows, reducer)
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

"""Training the modular-addition model while recording the progress measures at every look.

A look reads the logits of all p^2 pairs once (no gradients) and derives everything from them: losses and
accuracies, the Fourier energy of the logits per frequency, the key frequencies as the model uses them now,
and the restricted and excluded losses for those. The weights at every look are kept (in memory; the model
is ~230k parameters), so the paper's measures, which use the final key frequencies, follow after training.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch
from tqdm.auto import tqdm

from . import fourier
from .task import GrokConfig, ModularAddition, OneLayerTransformer


@dataclass
class Look:
    """The progress measures at one step (key frequencies are 1-based)."""

    step: int
    seconds: float
    train_loss: float
    test_loss: float
    train_acc: float
    test_acc: float
    weight_norm: float
    embed_gini: float
    """Gini coefficient of the embedding's per-frequency norms: 0 spread evenly, near 1 sparse"""
    key_now: list[int]
    """the frequencies the logits use at this step (`fourier.key_frequencies`)"""
    key_share_now: float
    """share of the logits' centred energy carried by `key_now`"""
    restricted_loss_now: float
    """loss over all pairs with the logits restricted to `key_now` (log p when there are none)"""
    excluded_loss_now: float
    """training loss with `key_now` taken out of the logits"""
    embed_norms: list[float] = field(repr=False)
    logit_energy: list[float] = field(repr=False)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class GrokRun:
    config: GrokConfig
    data: ModularAddition
    model: OneLayerTransformer
    looks: list[Look]
    weights: list[dict[str, torch.Tensor]]
    """the model's parameters at each look"""


def logits_all(model: OneLayerTransformer, data: ModularAddition) -> torch.Tensor:
    with torch.no_grad():
        return model(data.inputs_N3)


def measure(model: OneLayerTransformer, data: ModularAddition, step: int, seconds: float) -> Look:
    logits = logits_all(model, data)
    p, answers = data.p, data.answers_N
    energy, total = fourier.frequency_energy(logits, p), fourier.centred_energy(logits)
    embed_norms = fourier.frequency_norms(model.W_E.detach()[:p])
    key = fourier.key_frequencies(energy)
    correct = (logits.argmax(-1) == answers).float()
    return Look(
        step=step,
        seconds=seconds,
        train_loss=fourier.loss(logits, answers, data.train_rows),
        test_loss=fourier.loss(logits, answers, data.test_rows),
        train_acc=float(correct[data.train_rows].mean()),
        test_acc=float(correct[data.test_rows].mean()),
        weight_norm=float(torch.cat([w.detach().flatten() for w in model.parameters()]).norm()),
        embed_gini=fourier.gini(embed_norms),
        key_now=key,
        key_share_now=float(energy[[k - 1 for k in key]].sum() / total),
        restricted_loss_now=_restricted_loss(logits, data, key),
        excluded_loss_now=fourier.loss(fourier.excluded_logits(logits, p, key), answers, data.train_rows),
        embed_norms=embed_norms.tolist(),
        logit_energy=(energy / total).tolist(),
    )


def _restricted_loss(logits: torch.Tensor, data: ModularAddition, key: list[int]) -> float:
    if not key:
        return math.log(data.p)
    return fourier.loss(fourier.restricted_logits(logits, data.p, key), data.answers_N)


def train(cfg: GrokConfig, on_look: Callable[[Look], None] | None = None, progress: bool = True) -> GrokRun:
    """Full-batch AdamW on the training pairs, a look every `cfg.every` steps (and at the last step)."""
    torch.manual_seed(cfg.seed)
    data = ModularAddition.build(cfg.p, cfg.train_frac, cfg.seed)
    model = OneLayerTransformer(cfg)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.98)
    )
    warmup = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: min((s + 1) / 10, 1.0))
    inputs, answers = data.inputs_N3[data.train_rows], data.answers_N[data.train_rows]
    looks, weights, start = [], [], time.perf_counter()
    bar = tqdm(range(cfg.steps + 1), desc=f"grokking p={cfg.p}", disable=not progress)
    for step in bar:
        if step % cfg.every == 0 or step == cfg.steps:
            look = measure(model, data, step, time.perf_counter() - start)
            looks.append(look)
            weights.append({k: v.detach().clone() for k, v in model.state_dict().items()})
            bar.set_postfix(train=f"{look.train_acc:.2f}", test=f"{look.test_acc:.2f}", key=len(look.key_now))
            if on_look is not None:
                on_look(look)
        if step == cfg.steps:
            break
        loss = torch.nn.functional.cross_entropy(model(inputs), answers)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        warmup.step()
    return GrokRun(cfg, data, model, looks, weights)


def final_key_measures(run: GrokRun) -> dict[str, list[float]]:
    """The paper's restricted and excluded losses at every look, for the final model's key frequencies."""
    key = run.looks[-1].key_now
    restricted, excluded = [], []
    replay = OneLayerTransformer(run.config)
    for state in run.weights:
        replay.load_state_dict(state)
        logits = logits_all(replay, run.data)
        restricted.append(_restricted_loss(logits, run.data, key))
        excluded.append(
            fourier.loss(
                fourier.excluded_logits(logits, run.data.p, key), run.data.answers_N, run.data.train_rows
            )
        )
    return {"key": key, "restricted_loss": restricted, "excluded_loss": excluded}

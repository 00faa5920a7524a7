"""Ablation that keeps the residual writes' means: the direction is made orthogonal to the mean output of
every residual write (measured on neutral text) before it is ablated or baked into the weights.

Why: a difference of means often leans on the stream's constant part. Every token carries a large shared
component (the writes' means; in Gemma 3 also a few outlier dimensions reaching 1e4), and a concept
direction with even a small cosine to it takes a big, concept-free bite out of every token when it is
projected out at every layer. Measured on the bundled sentiment direction: every-layer ablation costs
15.7 nats/token of KL on Gemma 3 270M and 3.0 on SmolLM2-135M. A random direction costs 3.9-16.9 on
Gemma, so the model's own constant part is what breaks. With the direction orthogonal to the writes'
means, the same edits cost 0.49 and 0.07 (docs/benchmarks.md). The edit stays linear, so weight
orthogonalisation still equals the hooks exactly where the family allows it.
"""

from __future__ import annotations

import functools
import logging
import random

import torch

from ..core.forward import run, text_batches
from ..datasets import load_task
from ..errors import InputError
from .direction import check_vector
from .writers import residual_writes

log = logging.getLogger(__name__)

MIN_KEPT = 1e-3  # of the direction's norm; below this it lies (numerically) in the means' span


@torch.no_grad()
def write_means(subject, texts: list[str], batch_size: int = 8) -> torch.Tensor:
    """The mean output of each residual write (embeddings, then every attention and MLP write, as in
    `residual_writes`) over the real tokens of `texts`: [n_writes, D] float32."""
    if not texts or any(not isinstance(t, str) or not t for t in texts):
        raise InputError("write means need a non-empty list of non-empty texts")
    writes = residual_writes(subject)
    sums = torch.zeros(len(writes), subject.d_model, dtype=torch.float64)
    count = 0
    for batch in text_batches(subject, texts, batch_size):
        # every real token the window keeps, specials included: the BOS write is part of the constant
        keep_BT = batch.kept_BT

        def add(i: int, out_BTD: torch.Tensor, keep_BT=keep_BT) -> None:
            sums[i] += out_BTD[keep_BT.to(out_BTD.device)].double().sum(0).cpu()

        reads = {w.module: functools.partial(add, i) for i, w in enumerate(writes)}
        run(subject, batch.ids_BT, batch.mask_BT, reads, until="base")
        count += int(keep_BT.sum())
    return (sums / count).float()


def orthogonal_to_means(direction: torch.Tensor, means: torch.Tensor) -> tuple[torch.Tensor, dict]:
    """`direction` [D] minus its projection onto the span of `means` [n, D]; returns the new vector (same
    norm as the part kept) and a record: the cosine between old and new, and the span's rank."""
    r = check_vector(direction).double()
    if means.ndim != 2 or means.shape[1] != r.shape[0]:
        raise InputError(f"means must have shape [n, {r.shape[0]}], got {list(means.shape)}")
    basis_DK, diag = torch.linalg.qr(means.double().T)
    rank_kept = diag.diagonal().abs() > 1e-6 * diag.diagonal().abs().max()
    basis_DK = basis_DK[:, rank_kept]
    kept = r - basis_DK @ (basis_DK.T @ r)
    if float(kept.norm()) < MIN_KEPT * float(r.norm()):
        raise InputError(
            "the direction lies in the span of the residual writes' means; nothing is left to ablate"
        )
    cosine = float(kept @ r / (kept.norm() * r.norm()))
    log.info("direction made orthogonal to %d write means; cosine to the original %.3f", len(means), cosine)
    return kept.float(), {"kept_write_means": int(rank_kept.sum()), "cosine_to_original": cosine}


def neutral_texts(split: str = "train", langs=("en", "ja"), per_lang: int = 32) -> list[str]:
    """Bundled neutral text: the benign instructions of the `harmful` task (the demos measure side
    effects on the held-out split, so the training split calibrates)."""
    texts = []
    for lang in langs:
        benign = [r["text"] for r in load_task("harmful", split, lang) if r["label"] == "benign"]
        texts += random.Random(0).sample(benign, min(per_lang, len(benign)))
    return texts


def keep_means(subject, direction: torch.Tensor, texts: list[str] | None = None) -> tuple[torch.Tensor, dict]:
    """`direction` made orthogonal to the means of `subject`'s residual writes on `texts` (default: the
    bundled neutral text, English and Japanese)."""
    texts = texts if texts is not None else neutral_texts()
    check_vector(direction, subject.d_model)
    vector, record = orthogonal_to_means(direction, write_means(subject, texts))
    return vector, {**record, "calibration_texts": len(texts)}

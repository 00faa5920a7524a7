"""Score texts with a probe on a live model: a hook at the probe's site, no store written.

Texts longer than the window are split the way capture splits them, so a token's score does not depend
on whether it was scored live or from a store.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..artifacts import check_provenance
from ..core.capture import iter_activations
from ..errors import ConfigError, InputError
from .linear import LinearProbe


@dataclass
class SequenceScore:
    """One text's class probabilities (in the probe's label order) and predicted label."""

    proba: list[float]
    label: str

    @property
    def score(self) -> float:
        """The positive class's probability for a binary probe; the predicted class's otherwise."""
        return self.proba[1] if len(self.proba) == 2 else max(self.proba)


@dataclass
class TokenScores:
    """Per-token class probabilities of one text, with each token's character span in it."""

    token_ids: list[int]
    starts: list[int]
    ends: list[int]
    proba_TC: torch.Tensor
    labels: list[str]

    @property
    def scores(self) -> list[float]:
        """The positive class's probability per token for a binary probe; 1 - P(first class) otherwise."""
        column = self.proba_TC[:, 1] if self.proba_TC.shape[1] == 2 else 1 - self.proba_TC[:, 0]
        return column.tolist()


def check_compatible(probe: LinearProbe, subject) -> str:
    """The probe's site, after checking it was trained on this model and width."""
    site = probe.meta.get("site")
    if site is None:
        raise ConfigError("probe has no site in its cfg; train it from a store or set probe.meta['site']")
    check_provenance(probe.provenance, "probe", subject=subject)
    return site


def score_texts(
    probe: LinearProbe, subject, texts, include_special: bool | None = None, **capture_options
) -> list[SequenceScore] | list[TokenScores]:
    """Sequence scores (pooled probe) or token scores (token-level probe) for each text, in order."""
    site = check_compatible(probe, subject)
    if include_special is None:
        include_special = bool(probe.meta.get("include_special", False))
    results: list = []
    with torch.inference_mode():
        for chunk in iter_activations(subject, texts, [site], **capture_options):
            offsets = np.cumsum([0, *(len(e) for e in chunk.encodings)])
            rows = chunk.acts[site]
            for k, enc in enumerate(chunk.encodings):
                keep = _kept_tokens(enc, include_special, chunk.start + k)
                acts = rows[offsets[k] : offsets[k + 1]][torch.from_numpy(keep)]
                results.append(_score_one(probe, enc, keep, acts))
    return results


def _kept_tokens(enc, include_special: bool, k: int) -> np.ndarray:
    """Token indices to score: those that carry text, as in training (every token with `include_special`)."""
    if include_special:
        return np.arange(len(enc))
    keep = np.flatnonzero(enc.text_mask)
    if len(keep) == 0:
        raise InputError(f"text {k} holds no token that carries text; there is nothing to score")
    return keep


def _score_one(probe: LinearProbe, enc, keep: np.ndarray, acts_TD: torch.Tensor):
    if probe.pooling is not None:
        proba = probe.sequence_proba(acts_TD[None], torch.ones(1, len(acts_TD), dtype=torch.bool))[0]
        predicted = int(probe.predict_from_proba(proba[None])[0])
        return SequenceScore(proba.tolist(), probe.label_names[predicted])
    proba = probe.predict_proba(acts_TD)
    predicted = probe.predict_from_proba(proba).tolist()
    return TokenScores(
        token_ids=[enc.ids[i] for i in keep],
        starts=[enc.starts[i] for i in keep],
        ends=[enc.ends[i] for i in keep],
        proba_TC=proba,
        labels=[probe.label_names[c] for c in predicted],
    )

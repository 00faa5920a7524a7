"""Directions from contrasts: the difference of means of two sets of texts (live, or a labelled store's
training split), the first principal component of paired differences, or a trained probe's weights.

Every method returns a Direction pointing from the negative set to the positive one, in the activations'
units: `steer(..., alpha=1)` adds one mean difference. Sequences are pooled over the tokens that cover
text (the tokenizer's BOS is left out, as probes do): `mean` for a concept spread over a text, `last` for
what the model holds at the end of a prompt (refusal, after the chat template's generation prompt).
"""

from __future__ import annotations

import numpy as np
import torch

from ..core.capture import iter_activations
from ..errors import InputError
from ..probes.data import features, prepare
from ..probes.linear import LinearProbe
from ..probes.pooling import pool_segments
from .direction import Direction

POOLINGS = ("mean", "last")


def pooled_activations(
    subject, texts: list[str], sites, pooling: str = "mean", **capture_options
) -> dict[str, torch.Tensor]:
    """site -> [len(texts), D] float32: each text's activations pooled over its text tokens."""
    if pooling not in POOLINGS:
        raise InputError(f"pooling must be one of {list(POOLINGS)}, got {pooling!r}")
    if not texts:
        raise InputError("no texts given; a contrast needs at least one text on each side")
    sites = subject.expand_sites(sites)
    out: dict[str, list[torch.Tensor]] = {s: [] for s in sites}
    with torch.inference_mode():
        for chunk in iter_activations(subject, texts, sites, **capture_options):
            starts = np.cumsum([0, *(len(e) for e in chunk.encodings)])
            keep, lengths = [], []
            for k, enc in enumerate(chunk.encodings):
                covers = np.flatnonzero(enc.text_mask)
                if len(covers) == 0:
                    raise InputError(
                        f"text {chunk.start + k} holds no token that carries text; drop it or give it text"
                    )
                keep.append(starts[k] + covers)
                lengths.append(len(covers))
            rows = torch.from_numpy(np.concatenate(keep))
            for site in sites:
                out[site].append(pool_segments(chunk.acts[site][rows].float(), lengths, pooling))
    return {site: torch.cat(parts) for site, parts in out.items()}


def diff_means(
    subject, positive: list[str], negative: list[str], sites, pooling: str = "mean", **options
) -> Direction:
    """mean(positive) - mean(negative) at each site."""
    pos = pooled_activations(subject, positive, sites, pooling, **options)
    neg = pooled_activations(subject, negative, sites, pooling, **options)
    vectors = {s: pos[s].mean(0) - neg[s].mean(0) for s in pos}
    return Direction(vectors, _meta(subject, "diff_means", pooling, len(positive), len(negative)))


def pca_of_differences(
    subject, positive: list[str], negative: list[str], sites, pooling: str = "mean", **options
) -> Direction:
    """The first principal component of the paired differences positive[i] - negative[i] (uncentred, so
    a consistent shift dominates), signed and scaled to the mean difference's projection on it."""
    if len(positive) != len(negative):
        raise InputError(
            f"pairs need as many positive as negative texts, got {len(positive)} and {len(negative)}"
        )
    pos = pooled_activations(subject, positive, sites, pooling, **options)
    neg = pooled_activations(subject, negative, sites, pooling, **options)
    vectors = {}
    for site in pos:
        diffs_ND = (pos[site] - neg[site]).double()
        component = torch.linalg.svd(diffs_ND, full_matrices=False).Vh[0]
        scale = float(diffs_ND.mean(0) @ component)
        vectors[site] = (component * scale).float()  # the sign of the scale points it at the positive side
    return Direction(vectors, _meta(subject, "pca_of_differences", pooling, len(positive), len(negative)))


def diff_means_from_store(
    store,
    sites,
    label_field: str,
    positive: str,
    negative: str,
    pooling: str = "mean",
    split_field: str | None = None,
) -> Direction:
    """The difference of means between documents labelled `positive` and `negative` in a store, on its
    training split (`split_field`, or a random split as probes draw one): held-out documents stay unseen."""
    data = prepare(store, "sequence", label_field, split_field=split_field).subset("train")
    names = list(data.label_names)
    for label in (positive, negative):
        if label not in names:
            raise InputError(f"label {label!r} is not in field {label_field!r}; its labels are {names}")
    y = torch.from_numpy(np.asarray(data.y_N))
    vectors = {}
    for site in [sites] if isinstance(sites, str) else list(sites):
        x = features(store, site, data, pooling)
        vectors[site] = x[y == names.index(positive)].mean(0) - x[y == names.index(negative)].mean(0)
    n_pos, n_neg = int((y == names.index(positive)).sum()), int((y == names.index(negative)).sum())
    meta = {"method": "diff_means", "pooling": pooling, "store": str(store.root), "label_field": label_field,
            "positive": positive, "negative": negative, "n_positive": n_pos, "n_negative": n_neg,
            "model": store.model.get("name")}  # fmt: skip
    return Direction(vectors, meta)


def from_probe(probe: LinearProbe) -> Direction:
    """A binary probe's weight in raw-activation units (it reads standardised activations: w / std),
    scaled to unit norm, at the probe's site."""
    if probe.weight_CD.shape[0] != 1:
        raise InputError(
            f"a direction comes from a binary probe; this one has {len(probe.label_names)} classes"
        )
    site = probe.meta.get("site")
    if site is None:
        raise InputError("the probe has no site in its cfg; set probe.meta['site']")
    w = probe.weight_CD[0] / probe.std_D
    meta = {"method": "probe", "positive": probe.label_names[1], "negative": probe.label_names[0],
            "model": probe.meta.get("model"),
            "model_config_sha256": probe.meta.get("model_config_sha256")}  # fmt: skip
    return Direction({site: w / w.norm()}, meta)


def _meta(subject, method: str, pooling: str, n_pos: int, n_neg: int) -> dict:
    return {"method": method, "pooling": pooling, "n_positive": n_pos, "n_negative": n_neg,
            "model": subject.name, "model_config_sha256": subject.config_sha256}  # fmt: skip

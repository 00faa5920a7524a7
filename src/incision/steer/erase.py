"""LEACE (leace.py) fitted from a labelled store and applied to a live model as a hook.

The eraser is fitted on the token activations of the store's training documents, each token labelled
with its document's label, so that no linear probe reads the concept from any token (nor, to first order,
from their mean); held-out documents stay unseen for judging the erasure.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from ..artifacts import check_provenance
from ..core.capture import iter_activations
from ..core.hooks import HookHandles, add_replace_hook
from ..errors import ConfigError
from ..probes.data import check_finite, prepare
from .leace import LeaceEraser, LeaceFitter

CHUNK_ROWS = 65536


def fit_eraser(store, site: str, label_field: str = "label", split_field: str | None = None) -> LeaceEraser:
    """A LEACE eraser for the document labels `label_field` at `site`, from the training split's tokens."""
    data = prepare(store, "sequence", label_field, split_field=split_field).subset("train")
    y_R = np.repeat(np.asarray(data.y_N), data.lengths)
    fitter = LeaceFitter(num_classes=len(data.label_names))
    for start in range(0, len(data.rows_R), CHUNK_ROWS):
        x = store.gather(site, data.rows_R[start : start + CHUNK_ROWS], torch.float32)
        check_finite(x, site)
        fitter.update(x, torch.from_numpy(y_R[start : start + CHUNK_ROWS]))
    meta = {"site": site, "label_field": label_field, "label_names": list(data.label_names),
            "model": store.model.get("name"), "store": str(store.root),
            "model_config_sha256": store.manifest["settings"]["model"]["config_sha256"]}  # fmt: skip
    return fitter.eraser(meta=meta)


def fit_eraser_live(subject, texts: list[str], labels: list[int], site: str, label_names=None) -> LeaceEraser:
    """A LEACE eraser fitted on the text tokens of `texts` at `site` of a live model (each token labelled
    with its text's class), without writing a store."""
    name = subject.resolve(site).name
    fitter = LeaceFitter(num_classes=len(label_names) if label_names else None)
    with torch.inference_mode():
        for chunk in iter_activations(subject, texts, [name]):
            starts = np.cumsum([0, *(len(e) for e in chunk.encodings)])
            for k, enc in enumerate(chunk.encodings):
                covers = starts[k] + np.flatnonzero(enc.text_mask)
                x = chunk.acts[name][torch.from_numpy(covers)].float()
                fitter.update(x, torch.full((len(covers),), int(labels[chunk.start + k])))
    meta = {"site": name, "label_names": list(label_names or []), "model": subject.name,
            "model_config_sha256": subject.config_sha256}  # fmt: skip
    return fitter.eraser(meta=meta)


def erase(subject, eraser: LeaceEraser, site: str | None = None) -> HookHandles:
    """Apply `eraser` to the output of `site` (default: the site it was fitted at) on every forward pass."""
    site = site or eraser.meta.get("site")
    if site is None:
        raise ConfigError("the eraser does not name its site; pass site=")
    name = subject.resolve(site).name
    check_provenance(replace(eraser.provenance, site=name), "the eraser", subject=subject)
    return add_replace_hook(subject.resolve(name).module, eraser)

"""Train an SAE on one site, from a store or from texts run through a live model, holding documents out to
measure the loss recovered on (the spliced next-token loss): what `incision sae train` does, as functions.
Also the small recipe `incision demo` trains on its detector's store.

Every process of a torch distributed run calls the same function; rank 0 alone writes the SAE's folder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from ..core.inputs import read_documents
from ..core.store import ActivationStore
from ..distributed.ddp import is_main
from ..errors import ConfigError, InputError
from .config import SAEConfig
from .formats import save
from .model import SparseAutoencoder
from .sources import SourceConfig, holdout_docs, live_batches, store_batches, training_rows
from .splice import SpliceEval, SpliceEvalConfig, loss_recovered_callback
from .trainer import SAETrainConfig, TrainResult, train_sae

if TYPE_CHECKING:
    from ..core.subject import Subject

EXPANSION = 8  # latents per input dimension when d_sae is not given


@dataclass
class SiteSource:
    """What an SAE trains on at one site: the site's width, its batches, the SAE's provenance and the texts
    held out to measure the loss recovered on (with the model that measures it)."""

    width: int
    batches: Callable[[SparseAutoencoder], Iterator[torch.Tensor]]  # the SAE -> its training batches
    meta: dict  # model, model_config_sha256, site
    subject: Subject | None = None  # the model the loss recovered is measured with; None: not measured
    eval_texts: list[str] = field(default_factory=list)


def store_source(
    store: ActivationStore,
    site: str,
    source_cfg: SourceConfig | None = None,
    eval_cfg: SpliceEvalConfig | None = None,
    model: str | None = None,
) -> SiteSource:
    """Batches of `site` from `store`, `eval_cfg.eval_docs` documents held out (their texts measure the loss
    recovered with `model`, by default the store's own; it must be the model the store was captured from)."""
    from ..core.models import load

    source_cfg, eval_cfg = source_cfg or SourceConfig(), eval_cfg or SpliceEvalConfig()
    width = store.width(site)  # an unknown site fails here, listing the store's sites
    site = store.resolve(site)
    root = str(store.root)
    if store.n_docs == 0:
        raise InputError(f"store {root!r} holds no documents; capture some text into it")
    held = holdout_docs(store.n_docs, eval_cfg.eval_docs, source_cfg.shuffle_seed)
    sha = store.manifest["settings"]["model"]["config_sha256"]
    meta = {"model": store.model["name"], "model_config_sha256": sha, "site": site}
    subject, eval_texts = None, []
    if len(held):
        if "text" not in store.documents.column_names:
            raise ConfigError(
                f"store {root!r} keeps no texts to measure the loss recovered on; pass --eval-docs 0 "
                "(eval_docs=0 in SpliceEvalConfig)"
            )
        texts = store.documents["text"].to_pylist()
        eval_texts = [texts[int(d)] for d in held]
        subject = load(model or store.model["name"])
        if subject.config_sha256 != sha:
            raise ConfigError(
                f"model {subject.name!r} is not the one store {root!r} was captured from "
                f"({store.model['name']!r}); pass that model with --model (model=)"
            )

    def batches(sae: SparseAutoencoder) -> Iterator[torch.Tensor]:
        return store_batches(store, site, sae, source_cfg, exclude_docs=held)

    return SiteSource(width, batches, meta, subject, eval_texts)


def live_source(
    subject: Subject,
    texts,
    site: str,
    source_cfg: SourceConfig | None = None,
    eval_cfg: SpliceEvalConfig | None = None,
    text_field: str = "text",
) -> SiteSource:
    """Batches of `site` captured from `subject` over `texts` (a list or a file), `eval_cfg.eval_docs` of
    them held out to measure the loss recovered on."""
    source_cfg, eval_cfg = source_cfg or SourceConfig(), eval_cfg or SpliceEvalConfig()
    site = subject.resolve(site).name
    texts = [doc.text for doc in read_documents(texts, text_field)]
    held = set(holdout_docs(len(texts), eval_cfg.eval_docs, source_cfg.shuffle_seed).tolist())
    train_texts = [t for k, t in enumerate(texts) if k not in held]
    meta = {"model": subject.name, "model_config_sha256": subject.config_sha256, "site": site}

    def batches(sae: SparseAutoencoder) -> Iterator[torch.Tensor]:
        return live_batches(subject, train_texts, site, sae, source_cfg)

    return SiteSource(subject.d_model, batches, meta, subject, [texts[k] for k in sorted(held)])


def check_schedule(train_cfg: SAETrainConfig, eval_cfg: SpliceEvalConfig) -> None:
    """The loss recovered is measured at log steps, so its interval must be a multiple of theirs."""
    if eval_cfg.eval_every % train_cfg.log_every:
        raise ConfigError(
            f"eval_every ({eval_cfg.eval_every}) must be a multiple of log_every ({train_cfg.log_every}): "
            "the loss recovered is measured at log steps"
        )


def train_on_source(
    source: SiteSource,
    sae_cfg: SAEConfig,
    out: str | Path,
    train_cfg: SAETrainConfig | None = None,
    source_cfg: SourceConfig | None = None,
    eval_cfg: SpliceEvalConfig | None = None,
    resume: bool = False,
) -> TrainResult:
    """Train a new SAE of `sae_cfg` on `source`, measuring the loss recovered on its held-out texts every
    `eval_cfg.eval_every` steps (metrics.jsonl, checkpoints/ under `out`), and save it to `out` (rank 0)."""
    train_cfg, source_cfg = train_cfg or SAETrainConfig(), source_cfg or SourceConfig()
    eval_cfg = eval_cfg or SpliceEvalConfig()
    check_schedule(train_cfg, eval_cfg)
    sae = SparseAutoencoder(sae_cfg, seed=train_cfg.seed, meta=source.meta)
    callbacks = []
    if source.eval_texts:
        evaluation = SpliceEval(
            source.subject,
            source.meta["site"],
            source.eval_texts,
            eval_cfg.eval_max_tokens,
            eval_cfg.eval_batch_tokens,
            source_cfg.include_special,
        )
        callbacks.append(loss_recovered_callback(evaluation, eval_cfg.eval_every))
    result = train_sae(sae, source.batches(sae), train_cfg, out, callbacks=callbacks, resume=resume)
    if is_main():  # the other processes hold the same SAE
        result.sae.meta.update(tokens=result.tokens, include_special=source_cfg.include_special)
        save(result.sae, out)
    return result


def train_from_store(
    store: ActivationStore | str | Path,
    site: str,
    out: str | Path,
    *,
    d_sae: int | None = None,
    sae_options: dict | None = None,
    train_cfg: SAETrainConfig | None = None,
    source_cfg: SourceConfig | None = None,
    eval_cfg: SpliceEvalConfig | None = None,
    model: str | None = None,
    resume: bool = False,
) -> TrainResult:
    """Train an SAE of `d_sae` latents (default EXPANSION x the width; `sae_options`: the other SAEConfig
    fields) on `site` of `store`, with the loss recovered measured on held-out documents; saved to `out`."""
    train_cfg, eval_cfg = train_cfg or SAETrainConfig(), eval_cfg or SpliceEvalConfig()
    check_schedule(train_cfg, eval_cfg)
    store = store if isinstance(store, ActivationStore) else ActivationStore.open(store)
    source = store_source(store, site, source_cfg, eval_cfg, model)
    sae_cfg = SAEConfig(d_in=source.width, d_sae=d_sae or EXPANSION * source.width, **(sae_options or {}))
    return train_on_source(source, sae_cfg, out, train_cfg, source_cfg, eval_cfg, resume)


def train_from_texts(
    subject: Subject | str,
    texts,
    site: str,
    out: str | Path,
    *,
    text_field: str = "text",
    d_sae: int | None = None,
    sae_options: dict | None = None,
    train_cfg: SAETrainConfig | None = None,
    source_cfg: SourceConfig | None = None,
    eval_cfg: SpliceEvalConfig | None = None,
    resume: bool = False,
) -> TrainResult:
    """As `train_from_store`, the activations captured live from `subject` (or the model of that name) over
    `texts` (a list or a file)."""
    from ..core.models import load

    train_cfg, eval_cfg = train_cfg or SAETrainConfig(), eval_cfg or SpliceEvalConfig()
    check_schedule(train_cfg, eval_cfg)
    subject = load(subject) if isinstance(subject, str) else subject
    source = live_source(subject, texts, site, source_cfg, eval_cfg, text_field)
    sae_cfg = SAEConfig(d_in=source.width, d_sae=d_sae or EXPANSION * source.width, **(sae_options or {}))
    return train_on_source(source, sae_cfg, out, train_cfg, source_cfg, eval_cfg, resume)


def train_small_sae(store: ActivationStore, site: str, out: str | Path, epochs: int = 3) -> SparseAutoencoder:
    """The demo's recipe: a TopK SAE 4x the width (k = 32, expected-average normalisation) trained for
    `epochs` passes over the store's text tokens, metrics under `out`/train, the SAE saved to `out`. Small
    and quick: a measurement's demonstration, not a dictionary to interpret."""
    out = Path(out)
    width = store.width(site)
    cfg = SAEConfig(d_in=width, d_sae=4 * width, k=32, normalise_activations="expected_average",
                    dead_after_tokens=100_000)  # fmt: skip
    n_tokens = epochs * len(training_rows(store, include_special=False))
    train_cfg = SAETrainConfig(lr=5e-4, warmup_steps=10, total_tokens=max(n_tokens // 4096, 1) * 4096,
                               log_every=10, checkpoint_every=0)  # fmt: skip
    result = train_sae(
        cfg, store_batches(store, site, cfg, SourceConfig(epochs=epochs)), train_cfg, out / "train"
    )
    save(result.sae, out)
    return result.sae

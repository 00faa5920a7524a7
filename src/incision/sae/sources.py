"""Training batches for an SAE: one site's activations, shuffled, from a store or from a live model.

Both sources leave out the special tokens the tokenizer adds (empty character spans, as probes do):
Gemma's BOS activation is ~1e5 and would dominate every reconstruction loss. Both check the SAE's width
against the site before any work, and both are deterministic for a given `shuffle_seed`, so a resumed
`train_sae` replays the same stream. This module reads stores and runs models; the SAE itself does not.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ..core.capture import iter_activations
from ..core.inputs import read_documents
from ..core.store import ActivationStore
from ..core.tokens import store_text_mask
from ..errors import ConfigError, InputError
from .config import SAEConfig, check_width
from .model import SparseAutoencoder

log = logging.getLogger(__name__)


@dataclass
class SourceConfig:
    """Where an SAE's training activations come from and in what order. Every field is also an option of
    `incision sae train`."""

    include_special: bool = field(
        default=False,
        metadata={"help": "also train on the special tokens the tokenizer adds (Gemma's BOS is ~1e5)"},
    )
    shuffle_seed: int = field(default=0, metadata={"help": "seed of the token order"})
    epochs: int = field(default=1, metadata={"help": "passes over the tokens, each in a new order"})
    read_tokens: int = field(
        default=16384, metadata={"help": "tokens per batch handed to the trainer (read at once from a store)"}
    )
    shuffle_tokens: int = field(
        default=65536, metadata={"help": "live capture: tokens held in memory and shuffled together"}
    )
    window: int | None = field(
        default=None,
        metadata={
            "help": "live capture: longest token sequence per forward pass (default: min(context, 2048))"
        },
    )
    capture_batch_tokens: int = field(
        default=4096, metadata={"help": "live capture: padded tokens per forward pass"}
    )

    def __post_init__(self) -> None:
        for name in ("epochs", "read_tokens", "shuffle_tokens", "capture_batch_tokens"):
            value = getattr(self, name)
            if not _int(value) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if not _int(self.shuffle_seed) or self.shuffle_seed < 0:
            raise ConfigError(f"shuffle_seed must be an integer >= 0, got {self.shuffle_seed!r}")
        if self.window is not None and (not _int(self.window) or self.window < 2):
            raise ConfigError(f"window must be an integer of at least 2, got {self.window!r}")


def store_batches(
    store: ActivationStore,
    site: str,
    sae: SparseAutoencoder | SAEConfig,
    cfg: SourceConfig | None = None,
    exclude_docs: Sequence[int] = (),
) -> Iterator[torch.Tensor]:
    """Shuffled [<=read_tokens, width] batches of `site` from a complete store, its special tokens and the
    documents `exclude_docs` (e.g. held out for evaluation) left out; each epoch in a new global order."""
    cfg = cfg or SourceConfig()
    check_width(sae, store.width(site), f"site {site!r} of store {str(store.root)!r}")
    if not store.complete:
        raise InputError(
            f"store {str(store.root)!r} is incomplete; finish its capture before training an SAE"
        )
    rows = training_rows(store, cfg.include_special, exclude_docs)
    if len(rows) == 0:
        raise InputError(
            f"store {str(store.root)!r} has no token rows to train on ({store.n_tokens} tokens, "
            f"{len(exclude_docs)} documents held out, specials left out); capture some text into it"
        )

    def batches() -> Iterator[torch.Tensor]:
        for epoch in range(cfg.epochs):
            seed = cfg.shuffle_seed + epoch
            yield from store.iter_batches(site, cfg.read_tokens, shuffle=True, seed=seed, rows=rows)

    return batches()


def training_rows(store: ActivationStore, include_special: bool = False, exclude_docs=()) -> np.ndarray:
    """Store rows an SAE trains on: tokens that cover text (all, with `include_special`), outside the
    documents `exclude_docs`."""
    tokens = store.tokens
    if store.n_tokens == 0:
        return np.zeros(0, dtype=np.int64)
    keep = np.ones(store.n_tokens, dtype=bool)
    if not include_special:
        keep &= store_text_mask(tokens)
    if len(exclude_docs):
        keep &= ~np.isin(tokens["doc"].to_numpy(), np.asarray(exclude_docs, dtype=np.int64))
    return np.flatnonzero(keep)


def live_batches(
    subject,
    texts,
    site: str,
    sae: SparseAutoencoder | SAEConfig,
    cfg: SourceConfig | None = None,
    text_field: str = "text",
) -> Iterator[torch.Tensor]:
    """Shuffled float32 [<=read_tokens, width] batches of `site`, captured from `subject` over `texts` (a
    list or a file) without a store. Each epoch visits the texts in a new order; tokens are mixed in a
    buffer of `shuffle_tokens` (half of it handed on each time it fills); special tokens are left out."""
    cfg = cfg or SourceConfig()
    resolved = subject.resolve(site)  # an unknown site fails here, before any forward pass
    # every site (embedding, block, or a sublayer added to the residual stream) is d_model wide
    check_width(sae, subject.d_model, f"site {resolved.name!r} of {subject.name!r}")
    docs = [doc.text for doc in read_documents(texts, text_field)]
    options = {"batch_tokens": cfg.capture_batch_tokens, "window": cfg.window}

    def batches() -> Iterator[torch.Tensor]:
        generator = torch.Generator().manual_seed(cfg.shuffle_seed)
        order_rng = np.random.default_rng(cfg.shuffle_seed)
        for epoch in range(cfg.epochs):
            ordered = [docs[i] for i in order_rng.permutation(len(docs))]
            rows = _live_rows(subject, ordered, resolved.name, cfg.include_special, options)
            n_rows = 0
            for batch in _mix(rows, cfg.shuffle_tokens, cfg.read_tokens, generator):
                n_rows += batch.shape[0]
                yield batch
            if epoch == 0 and n_rows == 0:
                raise InputError(
                    f"the {len(docs)} texts hold no tokens to train on (specials left out); give texts"
                )

    return batches()


def holdout_docs(n_docs: int, n_holdout: int, seed: int = 0) -> np.ndarray:
    """`n_holdout` documents drawn at random (sorted), kept out of training to evaluate on; at least one
    document must be left to train on."""
    if not _int(n_holdout) or not 0 <= n_holdout < n_docs:
        raise ConfigError(
            f"cannot hold out {n_holdout!r} of {n_docs} documents for evaluation and train on the rest; "
            f"hold out between 0 and {max(n_docs - 1, 0)}"
        )
    return np.sort(np.random.default_rng(seed).choice(n_docs, n_holdout, replace=False))


def _live_rows(
    subject, texts: list[str], site: str, include_special: bool, options
) -> Iterator[torch.Tensor]:
    """One chunk of documents at a time: the site's rows, specials dropped. (No inference mode is held
    here: it would stay on in the consumer's code while this generator is suspended.)"""
    for chunk in iter_activations(subject, texts, [site], **options):
        acts = chunk.acts[site]  # an inference tensor (captured under inference mode)
        if include_special:
            yield acts.clone()  # a plain copy, which autograd can save
        else:
            covers = np.concatenate([e.text_mask for e in chunk.encodings])
            yield acts[torch.from_numpy(covers)]


def _mix(
    chunks: Iterator[torch.Tensor], capacity: int, batch_rows: int, generator: torch.Generator
) -> Iterator[torch.Tensor]:
    """A shuffle buffer: chunks are pooled; each time the pool holds `capacity` rows it is shuffled and
    half of it is handed on in batches of `batch_rows`; what is left at the end is shuffled and handed on."""
    pool: list[torch.Tensor] = []
    n_pool = 0
    for chunk in chunks:
        pool.append(chunk)
        n_pool += chunk.shape[0]
        if n_pool >= capacity:
            joined = torch.cat(pool)
            joined = joined[torch.randperm(n_pool, generator=generator)]
            keep = capacity // 2
            yield from joined[keep:].split(batch_rows)
            pool, n_pool = [joined[:keep]], keep
    if n_pool:
        joined = torch.cat(pool)
        yield from joined[torch.randperm(n_pool, generator=generator)].split(batch_rows)


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)

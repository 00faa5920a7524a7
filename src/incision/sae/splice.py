"""The next-token loss with an SAE spliced into a model: how much of the model's behaviour it keeps.

`splice_sae` replaces a site's output by the SAE's reconstruction, `zero_ablate` by zeros; both are hooks
that return new tensors and come off when their handle is removed (or its `with` block ends).
`loss_recovered` compares the mean next-token cross-entropy of fixed texts clean, spliced and zero-ablated:
fraction recovered = (zero - spliced) / (zero - clean), 1 for a perfect reconstruction.

The special tokens the tokenizer adds (BOS...) are left as they are by both interventions and, like padding,
count in no loss: an SAE is trained without them (Gemma's BOS activation is ~1e5), and a prediction made at
or of such a token says nothing about the SAE. `include_special=True` splices and counts them too.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from ..core.forward import batches, pad_id_of, run, without_cache
from ..core.hooks import HookHandles, add_replace_hook
from ..core.inputs import read_documents
from ..core.tokens import Window, truncated_window
from ..errors import ConfigError, InputError
from .config import check_width
from .model import SparseAutoencoder
from .train_log import LogContext

log = logging.getLogger(__name__)


@dataclass
class SpliceEvalConfig:
    """How the spliced next-token loss is measured during training. Every field is also an option of
    `incision sae train`."""

    eval_every: int = field(
        default=1000,
        metadata={"help": "steps between loss-recovered measurements, at log steps (0: at the end only)"},
    )
    eval_docs: int = field(
        default=16, metadata={"help": "documents held out of training to measure it on (0: not measured)"}
    )
    eval_max_tokens: int = field(
        default=128, metadata={"help": "tokens read of each held-out document (longer ones are cut)"}
    )
    eval_batch_tokens: int = field(
        default=1024,
        metadata={"help": "padded tokens per forward pass (its logits are that many x the vocabulary)"},
    )

    def __post_init__(self) -> None:
        for name in ("eval_every", "eval_docs"):
            value = getattr(self, name)
            if not _int(value) or value < 0:
                raise ConfigError(f"{name} must be an integer >= 0, got {value!r}")
        for name in ("eval_max_tokens", "eval_batch_tokens"):
            value = getattr(self, name)
            if not _int(value) or value < 2:
                raise ConfigError(f"{name} must be an integer of at least 2, got {value!r}")


@dataclass(frozen=True)
class LossRecovered:
    """Mean next-token cross-entropy (nats) over the same predictions, three ways."""

    clean: float  # the model as it is
    spliced: float  # the site's output replaced by the SAE's reconstruction
    zero: float  # the site's output replaced by zeros
    fraction_recovered: float  # (zero - spliced) / (zero - clean); NaN when zero == clean
    n_tokens: int  # predictions averaged

    def to_dict(self) -> dict:
        return asdict(self)


def splice_sae(
    subject, sae: SparseAutoencoder, site: str, where_BT: torch.Tensor | None = None
) -> HookHandles:
    """Replace `site`'s output by `sae`'s reconstruction of it, at the positions `where_BT` marks (every
    position without it; with it, each forward pass must be [B, T] like the mask), until removed."""
    module = _site_module(subject, site, sae)

    def reconstruct(x_BTD: torch.Tensor) -> torch.Tensor:
        x_hat = sae.decode(sae.encode(x_BTD)).to(device=x_BTD.device, dtype=x_BTD.dtype)
        return _at(where_BT, x_hat, x_BTD)

    return add_replace_hook(module, reconstruct)


def zero_ablate(subject, site: str, where_BT: torch.Tensor | None = None) -> HookHandles:
    """Replace `site`'s output by zeros at the positions `where_BT` marks (every position without it)."""
    module = _site_module(subject, site)
    return add_replace_hook(module, lambda x_BTD: _at(where_BT, torch.zeros_like(x_BTD), x_BTD))


def loss_recovered(
    subject,
    sae: SparseAutoencoder,
    site: str,
    texts,
    *,
    max_tokens: int = 128,
    batch_tokens: int = 1024,
    include_special: bool = False,
) -> LossRecovered:
    """Clean, spliced and zero-ablated next-token losses of `texts` (a list or a file; each cut to
    `max_tokens` tokens), and the fraction of the loss the SAE recovers."""
    evaluation = SpliceEval(subject, site, texts, max_tokens, batch_tokens, include_special)
    return evaluation.measure(sae)


class SpliceEval:
    """Next-token losses of fixed texts at one site. The clean and zero-ablated losses do not depend on the
    SAE: they are computed once, so each later `measure` costs one forward pass over the texts."""

    def __init__(
        self,
        subject,
        site: str,
        texts,
        max_tokens: int = 128,
        batch_tokens: int = 1024,
        include_special: bool = False,
    ):
        for name, value in (("max_tokens", max_tokens), ("batch_tokens", batch_tokens)):
            if not _int(value) or value < 2:
                raise ConfigError(f"{name} must be an integer of at least 2, got {value!r}")
        if subject.model.get_output_embeddings() is None:
            raise ConfigError(
                f"model {subject.name!r} has no language-model head, so it has no next-token loss; "
                "load a causal language model"
            )
        self.subject, self.site, self.batch_tokens = subject, subject.resolve(site).name, batch_tokens
        self.include_special = include_special
        self.windows = _prepare(subject, texts, max_tokens)
        self.n_tokens = sum(_n_predictions(_counts(w, include_special)) for w in self.windows)
        if self.n_tokens == 0:
            raise InputError(
                f"the {len(self.windows)} evaluation texts make no next-token prediction (each needs two "
                "tokens of text); give longer texts"
            )
        self.pad_id = pad_id_of(subject.tokenizer)
        self.options = without_cache(subject)
        self._clean: float | None = None
        self._zero: float | None = None

    def clean(self) -> float:
        if self._clean is None:
            self._clean = self._mean_loss(None)
        return self._clean

    def zero(self) -> float:
        if self._zero is None:
            self._zero = self._mean_loss(lambda where_BT: zero_ablate(self.subject, self.site, where_BT))
        return self._zero

    def spliced(self, sae: SparseAutoencoder) -> float:
        was_training = sae.training
        sae.eval()  # batchtopk splices with its inference threshold
        try:
            return self._mean_loss(lambda where_BT: splice_sae(self.subject, sae, self.site, where_BT))
        finally:
            sae.train(was_training)

    def measure(self, sae: SparseAutoencoder) -> LossRecovered:
        if sae.meta.get("site") not in (None, self.site):
            log.warning("the SAE was trained on site %s, and is spliced into %s", sae.meta["site"], self.site)
        clean, zero, spliced = self.clean(), self.zero(), self.spliced(sae)
        gap = zero - clean
        fraction = (zero - spliced) / gap if gap != 0 else math.nan
        if gap == 0:
            log.warning(
                "zero-ablating %s leaves the loss unchanged; the fraction recovered is undefined", self.site
            )
        return LossRecovered(clean, spliced, zero, fraction, self.n_tokens)

    def _mean_loss(self, install: Callable[[torch.Tensor], HookHandles] | None) -> float:
        """Mean cross-entropy of the counted predictions, with `install(where_BT)`'s hooks on each batch."""
        total = 0.0
        for batch in batches(self.windows, self.pad_id, self.batch_tokens):
            counted_BT = batch.mask_BT.bool() if self.include_special else batch.text_BT
            counted_BT = counted_BT.to(self.subject.input_device)
            # the interventions act where the loss is read: on text tokens (every real one with specials)
            edits = [functools.partial(install, counted_BT)] if install is not None else []
            logits_BTV = run(self.subject, batch.ids_BT, batch.mask_BT, edits=edits, **self.options).logits
            total += _summed_loss(
                logits_BTV, batch.ids_BT.to(logits_BTV.device), counted_BT.to(logits_BTV.device)
            )
        return total / self.n_tokens


def loss_recovered_callback(evaluation: SpliceEval, every: int) -> Callable[[LogContext], dict | None]:
    """A `train_sae` metrics callback: at log steps that are multiples of `every` (0: none) and at the last
    step, it adds ce_loss_clean, ce_loss_spliced, ce_loss_zero and loss_recovered to the record."""

    def callback(context: LogContext) -> dict | None:
        due = every and context.step % every == 0
        if not due and context.step != context.total_steps:
            return None
        result = evaluation.measure(context.sae)
        return {
            "ce_loss_clean": result.clean,
            "ce_loss_spliced": result.spliced,
            "ce_loss_zero": result.zero,
            "loss_recovered": result.fraction_recovered,
        }

    return callback


def _prepare(subject, texts, max_tokens: int) -> list[Window]:
    """A window per text: its first `max_tokens` tokens."""
    return [
        truncated_window(k, subject.encode(doc.text), max_tokens)
        for k, doc in enumerate(read_documents(texts))
    ]


def _counts(window: Window, include_special: bool) -> np.ndarray:
    """Which of a window's tokens count in the loss: its text tokens (all of them with specials)."""
    return np.ones(len(window.ids), dtype=bool) if include_special else np.array(window.text, dtype=bool)


def _n_predictions(counts: np.ndarray) -> int:
    """Predictions whose input and target tokens both count."""
    return int((counts[:-1] & counts[1:]).sum())


def _summed_loss(logits_BTV: torch.Tensor, ids_BT: torch.Tensor, counted_BT: torch.Tensor) -> float:
    """Summed cross-entropy of the predictions whose input and target tokens both count, row by row (a
    float32 copy of a whole batch's logits would be batch x vocabulary x 4 bytes)."""
    pairs_BT = counted_BT[:, :-1] & counted_BT[:, 1:]
    total = 0.0
    for b in range(logits_BTV.shape[0]):
        rows = pairs_BT[b].nonzero().squeeze(-1)
        if len(rows):
            logits = logits_BTV[b, rows].float()
            total += float(F.cross_entropy(logits, ids_BT[b, rows + 1].to(logits.device), reduction="sum"))
    return total


def _site_module(subject, site: str, sae: SparseAutoencoder | None = None):
    resolved = subject.resolve(site)
    if sae is not None:
        check_width(sae, resolved.width or subject.d_model, f"site {resolved.name!r} of {subject.name!r}")
    return resolved.module


def _at(where_BT: torch.Tensor | None, new_BTD: torch.Tensor, old_BTD: torch.Tensor) -> torch.Tensor:
    if where_BT is None:
        return new_BTD
    if tuple(where_BT.shape) != tuple(old_BTD.shape[:-1]):
        raise InputError(
            f"the splice mask has shape {list(where_BT.shape)}, but the site's output is "
            f"{list(old_BTD.shape)}; give a mask per token of this forward pass"
        )
    return torch.where(where_BT.to(old_BTD.device)[..., None], new_BTD, old_BTD)


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
